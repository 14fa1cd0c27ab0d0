"""``python run.py sweep --world --vary KEY=LOW:HIGH [--steps N]``: re-run the world per case.

Each ``--vary`` key is moved one at a time over ``--steps`` evenly spaced values (the others at their
base), e.g. ``--vary buyer_demand_scale.meta=0.5:2``; any ``--set`` key of the world run may be varied
(plain numbers; a unit may follow the high end, as ``--vary pue=1.1:1.4``). Every case is loaded and
validated as ``run.py world`` would. The result set holds ``cases.csv`` (one row per case: the default
buyer's capacity in service, shortfall and shares of each vendor's output in the year, the scarcest
chips' price, the world's total), ``summary.json`` and a page.
"""
from __future__ import annotations

import datetime as _dt
import json
import re
import sys
from pathlib import Path
from typing import Any, Mapping

import pandas as pd

from model.bounds import whole_number_problem
from model.fmt import sig
from model.cli_common import ArgumentParser, add_input_options, fail
from model.exitcodes import EXIT_INPUT, EXIT_OK, EXIT_SOLVER, EXIT_WRITE

_RANGE = re.compile(r"^\s*([^=\s]+)\s*=\s*([-+0-9.eE]+)\s*:\s*([-+0-9.eE]+)\s*([A-Za-z%/]*)\s*$")


def parser() -> ArgumentParser:
    p = ArgumentParser(prog="run.py sweep --world", description="Re-run the world market per case, moving one "
                       "assumption at a time (e.g. another buyer's demand), and report the default buyer's "
                       "allocation and reach per case.")
    add_input_options(p)
    p.add_argument("--vary", action="append", default=[], metavar="KEY=LOW:HIGH[UNIT]")
    p.add_argument("--steps", type=int, default=5, help="values per key (default 5)")
    p.add_argument("--year", type=int, default=None, help="the year reported (default: the default target year)")
    p.add_argument("--rule", choices=("value", "pro-rata"), default="value")
    p.add_argument("--name", help="result set name (default world-sweep_TIMESTAMP)")
    p.add_argument("--no-plots", action="store_true", help="a page without pictures")
    p.add_argument("--results", type=Path, default=Path("results"))
    return p


def cases(varies: list[str], steps: int) -> list[tuple[str, float, str]]:
    """(key, value, unit) of every case, one key at a time; raises ValueError naming a bad ``--vary``."""
    out = []
    for text in varies:
        m = _RANGE.match(text)
        if not m:
            raise ValueError(f"command line, --vary {text}: expected KEY=LOW:HIGH[UNIT] "
                             "(e.g. buyer_demand_scale.meta=0.5:2)")
        key, lo, hi, unit = m.group(1), float(m.group(2)), float(m.group(3)), m.group(4)
        n = max(2, steps)
        out += [(key, lo + (hi - lo) * i / (n - 1), unit) for i in range(n)]
    return out


def case_row(w, o, year: int, key: str, val: float, unit: str) -> dict[str, Any]:
    """One case's figures: the default buyer's reach and shares, the world's total, the scarcest chips."""
    from model.world.output import headline, share_of_supply

    b = w.default
    h = headline(w, o, year)
    row: dict[str, Any] = {"key": key, "value": val, "unit": unit, "status": o.status,
                           "default_in_service_gw": o.plan["in_service_gw"][b, year],
                           "default_shortfall_gw": max(0.0, w.announced_gw.get((b, year), 0.0)
                                                       - o.plan["served_gw"][b, year]),
                           "world_in_service_gw": h["built_world"]["value"], "announced_gw": h["announced"]["value"]}
    for v, by_year in share_of_supply(w, o).items():
        if str(year) in by_year:
            row[f"share_{v}"] = by_year[str(year)].get(b, 0.0)
    chips = h.get("scarcest_chips")
    row["scarcest_vendor"] = chips["vendor"] if chips else ""
    row["scarcest_price_usd_per_gw"] = chips["price"]["value"] if chips else 0.0
    return row


def main(argv: list[str]) -> int:
    from model.errors import InputError, InputErrors, ResultSetError
    from model.resultdir import ensure_free, new_result_dir
    from model.scenario import DEFAULT_INPUTS
    from model.world.data import load_world
    from model.world.solve import solve_world

    a = parser().parse_args(argv)
    problem = next((m for m in (whole_number_problem("--steps", a.steps), whole_number_problem("--year", a.year))
                    if m), "")
    if problem:
        return fail(problem, EXIT_INPUT)
    try:
        todo = cases(a.vary, a.steps)
    except ValueError as exc:
        return fail(str(exc), EXIT_INPUT)
    if not todo:
        return fail("nothing to sweep: give --vary KEY=LOW:HIGH (e.g. buyer_demand_scale.meta=0.5:2)", EXIT_INPUT)
    name = a.name or f"world-sweep_{_dt.datetime.now().strftime('%Y%m%d-%H%M%S')}"
    try:
        ensure_free(a.results, name)
    except ResultSetError as exc:
        return fail(str(exc), EXIT_INPUT)
    inputs = Path(a.inputs or DEFAULT_INPUTS)
    worlds = []
    for key, val, unit in todo:        # every case validated before any is solved
        try:
            worlds.append(load_world(inputs, a.scenario, [*a.sets, f"{key}={val!r}{unit}"]))
        except (InputErrors, InputError) as exc:
            return fail(f"case {key}={sig(val, 6)}{unit}: {exc}", EXIT_INPUT)
    year = a.year if a.year is not None else worlds[0].scenarios[worlds[0].default].main_target.year
    rows = []
    for (key, val, unit), w in zip(todo, worlds):
        o = solve_world(w, a.rule)
        print(f"  {key}={sig(val, 6)}{unit}: {o.status}", file=sys.stderr, flush=True)
        rows.append(case_row(w, o, year, key, val, unit) if o.model is not None
                    else {"key": key, "value": val, "unit": unit, "status": o.status})
    frame = pd.DataFrame(rows)
    try:
        with new_result_dir(a.results, name) as tmp:
            frame.to_csv(tmp / "cases.csv", index=False)
            summ = {"kind": "world-sweep", "year": year, "rule": a.rule, "default_buyer": worlds[0].default,
                    "cases": rows}
            (tmp / "summary.json").write_text(json.dumps(summ, indent=2, default=float), encoding="utf-8")
            (tmp / "manifest.json").write_text(json.dumps(manifest(argv, inputs, worlds), indent=2),
                                               encoding="utf-8")
            (tmp / "report.html").write_text(render(frame, summ, worlds[0]), encoding="utf-8")
    except OSError as exc:
        return fail(f"the result set could not be written ({exc}); nothing was left", EXIT_WRITE)
    print_cases(frame, vendor_names(worlds[0]))
    print(f"result set: {Path(a.results) / name}")
    return EXIT_OK if any(r["status"] == "optimal" for r in rows) else EXIT_SOLVER


def manifest(argv: list[str], inputs: Path, worlds: list[Any]) -> dict[str, Any]:
    """The world sweep's manifest: the command line as typed, the folder it ran in, the inputs folder and the
    sha256 of every input file a case read (``run.py verify`` re-runs it and compares them)."""
    from model.results import code_sha256, package_versions

    files: dict[str, str] = {}
    for w in worlds:
        files.update(w.input_files)
    return {"kind": "world-sweep", "command_line": ["run.py", "sweep", "--world", *argv],
            "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"), "cwd": str(Path.cwd()),
            "inputs_dir": str(Path(inputs).resolve()), "input_files": files, "versions": package_versions(),
            "code_sha256": code_sha256()}


def render(frame: pd.DataFrame, summ: dict[str, Any], w) -> str:
    """The sweep's page: a sentence, then the table of cases (the terminal's columns, :func:`shown_cases`)."""
    from model import fmt
    from model.pages import p, page, section, table, table_block, verdict

    b, year = w.name_of(w.default), summ["year"]
    ok = frame[frame["status"] == "optimal"]
    if len(ok):
        lo, hi = ok["default_in_service_gw"].min(), ok["default_in_service_gw"].max()
        sentence = (f"Across {len(frame)} cases, {b} gets {fmt.quantity(lo, 'GW')} to {fmt.quantity(hi, 'GW')} "
                    f"in service by {year} in the world plan.")
    else:
        sentence = "No case could be solved."
    shown = shown_cases(frame.drop(columns=["unit"], errors="ignore"), vendor_names(w))
    rows = [list(r) for r in shown.itertuples(index=False)]
    return page("page.html", title="World sweep", heading="How the world's other buyers move this buyer's reach",
                subheading=f"rule {summ['rule']}; year {year}", verdict=verdict("World sweep", "#1a7f37", sentence),
                headline=[], sections=[section("cases", "Cases", [p("One row per case; shares are of each "
                                                                   "vendor's world output."),
                                                                 table_block(table(list(shown.columns), rows))])],
                footer="Written by compute-energy-plan sweep --world; cases.csv holds the table.")


def vendor_names(w) -> dict[str, str]:
    """The default buyer's vendor names by id (``nvidia`` -> ``NVIDIA``)."""
    return dict(w.scenarios[w.default].vendors)


#: Column headings of the cases table, in the terminal and on the page (``share_<vendor>`` columns are named
#: after their vendor; any other column in words).
HEADINGS = {"default_in_service_gw": "This buyer in service (GW)", "default_shortfall_gw": "This buyer short by (GW)",
            "world_in_service_gw": "World in service (GW)", "announced_gw": "Announced (GW)",
            "scarcest_vendor": "Scarcest vendor", "scarcest_price_usd_per_gw": "Scarcest price"}


def shown_cases(frame: pd.DataFrame, names: Mapping[str, str] | None = None) -> pd.DataFrame:
    """The cases as a person reads them: columns in words, vendors by name, shares in percent and numbers
    without e-notation (``cases.csv`` keeps the ids and plain numbers)."""
    from model import fmt

    names = names or {}
    shown = frame.copy().astype(object)
    for c in shown.columns:
        if c == "scarcest_price_usd_per_gw":
            shown[c] = [fmt.quantity(v / 1e9, "billion USD/GW") if fmt.is_number(v) else "" for v in frame[c]]
        elif c == "scarcest_vendor":
            shown[c] = [names.get(v, v) if isinstance(v, str) else "" for v in frame[c]]
        elif c.startswith("share_"):
            shown[c] = [fmt.percent(v) if fmt.is_number(v) else "" for v in frame[c]]
        elif pd.api.types.is_float_dtype(frame[c]):
            shown[c] = [fmt.sig(v) if fmt.is_number(v) and pd.notna(v) else "" for v in frame[c]]
    return shown.rename(columns=lambda c: HEADINGS.get(c) or (f"Its share of {names.get(c[6:], c[6:])}"
                                                              if c.startswith("share_") else fmt.words(c)))


def print_cases(frame: pd.DataFrame, names: Mapping[str, str] | None = None) -> None:
    """The cases in the terminal: columns in words, vendors by name, numbers as a person reads them."""
    with pd.option_context("display.width", 220, "display.max_columns", 30):
        print(shown_cases(frame, names).to_string(index=False))
