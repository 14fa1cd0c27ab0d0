"""Command line: ``python run.py --target 250GW`` and its sub-commands.

Exit codes: 0 solved; 1 the result set could not be written (disk full,
permissions; nothing partial is left); 2 bad input or usage (nothing
written); 3 the target cannot be met or the inputs contradict each other (a
result set explains why); 4 the solver failed or hit its time limit, or its
plan failed the post-solve check; 130 interrupted.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Sequence

EXIT_OK, EXIT_INPUT, EXIT_TARGET, EXIT_SOLVER, EXIT_INTERRUPT = 0, 2, 3, 4, 130
EXIT_WRITE = 1   # the result set could not be written (OSError); the temporary folder is removed
COMMANDS = ("run", "check", "scenarios")
#: Sub-commands that live in their own modules: name -> "module:function(argv) -> exit code".
MODULE_COMMANDS = {
    "compare": "model.compare:main",
    "sweep": "model.sweep:main",
    "verify": "model.verify:main",
    "stochastic": "model.stochastic:main",
    "alternatives": "model.alternatives:main",
}


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--scenario", help="apply inputs/scenarios/NAME.yaml on top of the base data")
    p.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                   help="override one parameter with units, e.g. pue=1.2, discount_rate=8%%, "
                        "electricity_price=90USD/MWh, pue.US-Texas=1.3 (repeatable)")
    p.add_argument("--inputs", type=Path, default=None, help="inputs folder (default: the project's inputs/)")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="run.py",
        description="Plan AI compute capacity and its energy: which chips, from whom, where, when, at what cost.",
        epilog="Other commands: 'run.py check [--scenario NAME]' validates inputs without solving; "
               "'run.py scenarios' lists the shipped scenarios.")
    p.add_argument("--target", help="what must be in service: a power (250GW, 250000 MW) or a compute rate "
                                    "(5e29 FLOP/s, 500 EFLOP/s). Default: inputs/scalars.csv default_target")
    p.add_argument("--year", type=int, help="year the target must be met by (default 2033); it then holds to the "
                                            "end of the horizon")
    p.add_argument("--target-basis", choices=("it", "facility"), default="it",
                   help="a power target counts accelerator IT capacity (default) or facility power (IT x PUE)")
    p.add_argument("--objective", choices=("min-cost", "max-capacity"), default="min-cost",
                   help="least cost meeting the target (default) or the most capacity by the target year")
    p.add_argument("--name", help="result set name under results/ (default: scenario_target_timestamp)")
    p.add_argument("--results", type=Path, default=Path("results"), help="folder for result sets (default results/)")
    p.add_argument("--time-limit", type=float, default=None, metavar="SECONDS", help="HiGHS time limit per solve")
    p.add_argument("--no-plots", action="store_true", help="skip plots and report.html (faster)")
    p.add_argument("--no-ranking", action="store_true",
                   help="skip ranking the assumption-marked inputs by their effect on the answer (faster)")
    _common(p)
    return p


def _fail(msg: str, code: int) -> int:
    print(f"error: {msg}", file=sys.stderr)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in MODULE_COMMANDS:
        import importlib

        module, func = MODULE_COMMANDS[argv[0]].split(":")
        try:
            entry = getattr(importlib.import_module(module), func)
        except ModuleNotFoundError as exc:
            if exc.name == module:
                return _fail(f"'{argv[0]}' is not available in this version", EXIT_INPUT)
            raise
        try:
            return int(entry(argv[1:]) or 0)
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            return EXIT_INTERRUPT
    if argv and argv[0] in COMMANDS:
        command, rest = argv[0], argv[1:]
    else:
        command, rest = "run", argv
    try:
        if command == "scenarios":
            return cmd_scenarios(rest)
        if command == "check":
            return cmd_check(rest)
        return cmd_run(rest, argv)
    except KeyboardInterrupt:
        print("interrupted: no partial result set was left", file=sys.stderr)
        return EXIT_INTERRUPT


def cmd_scenarios(rest: list[str]) -> int:
    import shutil
    import textwrap

    import yaml

    from model.scenario import DEFAULT_INPUTS, available_scenarios

    p = argparse.ArgumentParser(prog="run.py scenarios", description="List the shipped scenarios.")
    p.add_argument("--inputs", type=Path, default=DEFAULT_INPUTS)
    p.add_argument("--long", action="store_true", help="print each scenario's whole description and notes")
    a = p.parse_args(rest)
    found = available_scenarios(a.inputs)
    width = max(60, min(shutil.get_terminal_size((120, 24)).columns, 160))
    pad = max((len(n) for n in found), default=0) + 2
    print(f"{len(found)} scenarios in {a.inputs / 'scenarios'} (run one with --scenario NAME):")
    for name, desc in found.items():
        if not a.long:
            line = textwrap.shorten(desc or "(no description)", width=width - pad - 2, placeholder=" …")
            print(f"  {name:{pad}s}{line}")
            continue
        try:
            doc = yaml.safe_load((a.inputs / "scenarios" / f"{name}.yaml").read_text(encoding="utf-8")) or {}
            if not isinstance(doc, dict):
                raise ValueError(f"a {type(doc).__name__} instead of a mapping")
        except (OSError, UnicodeDecodeError, ValueError, yaml.YAMLError) as exc:
            print(f"\n{name}\n  (unreadable: {str(exc).splitlines()[0]}; 'run.py check --scenario {name}' says more)")
            continue
        print(f"\n{name}")
        for label in ("description", "notes"):
            if doc.get(label):
                print(textwrap.fill(f"{label}: {' '.join(str(doc[label]).split())}", width=width,
                                    initial_indent="  ", subsequent_indent="    "))
    return EXIT_OK


def cmd_check(rest: list[str]) -> int:
    from model.errors import InputErrors
    from model.scenario import DEFAULT_INPUTS, load_scenario

    p = argparse.ArgumentParser(prog="run.py check", description="Validate the inputs without solving; "
                                                                  "list every problem at once.")
    _common(p)
    a = p.parse_args(rest)
    try:
        s = load_scenario(a.inputs or DEFAULT_INPUTS, a.scenario, a.sets)
    except InputErrors as exc:
        return _fail(str(exc), EXIT_INPUT)
    print(f"inputs OK: scenario {s.name}, {len(s.offers)} offers, {len(s.deals)} deals, "
          f"{len(s.regions)} regions, years {s.first_year}-{s.last_year}")
    return EXIT_OK


def cmd_run(rest: list[str], full_argv: list[str]) -> int:
    from model.errors import InputError, InputErrors, ResultSetError
    from model.scenario import DEFAULT_INPUTS, TargetSpec, load_scenario

    a = parser().parse_args(rest)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    try:
        s = load_scenario(a.inputs or DEFAULT_INPUTS, a.scenario, a.sets, TargetSpec(a.target, a.year, a.target_basis))
    except InputErrors as exc:
        return _fail(str(exc), EXIT_INPUT)
    except InputError as exc:
        return _fail(str(exc), EXIT_INPUT)
    timings["load_s"] = time.perf_counter() - t0

    from model.results import default_name, ensure_free, write_result_set

    name = a.name or default_name(s)
    try:
        ensure_free(a.results, name)
    except ResultSetError as exc:
        return _fail(str(exc), EXIT_INPUT)
    if a.time_limit is not None and not 0 < a.time_limit < float("inf"):  # also refuses nan
        return _fail(f"--time-limit: expected a positive number of seconds, found {a.time_limit!r}", EXIT_INPUT)

    from model.solution import to_dataset
    from model.solve import solve_plan

    print(f"Solving scenario '{s.name}': {len(s.offers)} offers, {len(s.regions)} regions, "
          f"{s.first_year}-{s.last_year} ...", flush=True)
    outcome = solve_plan(s, a.objective, a.time_limit)
    ds = to_dataset(s, outcome)
    from model.answer import extras as answer_extras

    t0 = time.perf_counter()
    extras = answer_extras(s, outcome, a.inputs or DEFAULT_INPUTS, a.scenario, ranking=not a.no_ranking,
                           time_limit=a.time_limit)
    timings["answer_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    try:
        path = write_result_set(a.results, name, s, outcome, ds, ["run.py", *full_argv], timings,
                                plots=not a.no_plots, extras=extras)
    except ResultSetError as exc:
        return _fail(str(exc), EXIT_INPUT)
    except OSError as exc:  # disk full, permissions: write_result_set removed its temporary folder
        return _fail(f"could not write the result set {a.results / name}: {exc}; "
                     "nothing was written (no partial set is left)", EXIT_WRITE)
    timings["write_s"] = time.perf_counter() - t0
    from model.results import read_summary

    print_summary(read_summary(path), s, path)
    print(f"\nResult set: {path}  (open {path / 'report.html'})")
    if outcome.status == "optimal":
        return EXIT_OK
    if outcome.status in ("target_missed", "infeasible"):
        return EXIT_TARGET
    return EXIT_SOLVER


def print_summary(summary: dict, s, result_set: Path) -> None:
    """A short, readable summary: capacity by vendor and host per year, cost, binding limits."""
    import pandas as pd

    from model.report import _fmt, shadow_text

    ty = summary["target_year"]
    print(f"\nStatus: {summary['status']}  ({summary.get('message', '')})")
    print(f"Target: {_fmt(summary['target'])} from {ty}")
    if "max_reachable" in summary:
        print(f"Largest reachable: {_fmt(summary['max_reachable'])}")
    if summary.get("conflicts"):
        print("Limits that contradict each other (each would have to give):")
        for c in summary["conflicts"][:10]:
            print(f"  - {c['meaning']}")
    if "capacity_in_service" not in summary:
        return
    # per-year capacity by vendor and host, from the tables written with the set
    print()
    for title, names, coord in (("chip vendor", s.vendors, "vendor"), ("host", s.hosts, "host")):
        frame = _by_year(result_set, coord)
        frame = frame.reindex([k for k in names if k in frame.index] + [k for k in frame.index if k not in names])
        frame.index = [names.get(i, i) for i in frame.index]
        frame.loc["Total"] = frame.sum()
        with pd.option_context("display.width", 200, "display.max_columns", 30):
            print(f"IT capacity in service by {title} (GW)")
            print(frame.round(1).to_string())
            print()
    print(f"Facility power {ty}: {_fmt(summary['facility_power'])}; energy {ty}: {_fmt(summary['energy'])}")
    print_answer(summary)
    binding = [b for b in summary.get("binding", [])]
    if binding:
        print(f"\nBinding limits ({len(binding)}; the largest shadow prices first):")
        for b in binding[:12]:
            print(f"  - {b['name']}: {shadow_text(b['shadow_price'])}")
        if len(binding) > 12:
            print(f"  ... and {len(binding) - 12} more in summary.json and tables/binding.csv")
    if summary.get("limits_on_reach"):
        print("\nLimits on the largest reachable figure:")
        for b in summary["limits_on_reach"][:10]:
            print(f"  - {b['meaning']}")


def print_answer(summary: dict) -> None:
    """The answer in a few lines: cost and its basis, all-in capex per GW, borrowing, reach, build years."""
    from model.answer import build_years
    from model.report import _fmt as _report_fmt

    def _fmt(fig: dict) -> str:
        if fig.get("unit") == "USD/GW":
            return f"{fig['value'] / 1e9:,.1f} billion USD/GW"
        return _report_fmt(fig)

    ty = summary["target_year"]
    print("\nThe answer")
    print(f"  Status: {summary['status']}")
    print(f"  Total cost: {_fmt(summary['total_cost'])} ({summary.get('total_cost_basis', '')})")
    if summary.get("all_in_capex_per_gw"):
        print(f"  All-in capex: {_fmt(summary['all_in_capex_per_gw'])} of IT capacity (chips, facility and power; "
              "public headline ~50 billion USD/GW)")
    if summary.get("cost_per_gw"):
        print(f"  Cash spent to {ty} per GW in service: {_fmt(summary['cost_per_gw'])}")
    peak = summary.get("debt_peak")
    if peak is not None:
        limit = f" (limit {_fmt(peak['limit'])})" if peak.get("limit") else " (no debt limit)"
        print(f"  Borrowing needed: peak debt {_fmt(peak)} in {peak['year']}{limit}" if peak["value"] > 0
              else "  Borrowing needed: none")
    target, reach = summary["target"], summary.get("max_reachable")
    if reach is not None:
        print(f"  Reachable in {ty}: {_fmt(target)} asked, at most {_fmt(reach)} can be held")
    else:
        print(f"  Reachable in {ty}: the largest reachable figure could not be computed")
    binds = summary.get("target_binds")
    if binds is not None and not binds["value"]:
        print(f"  Note: {binds['note']}")
    years = build_years(summary)
    if years:
        print("  Most capacity added in: " + ", ".join(f"{y} ({gw:,.1f} GW)" for y, gw in years))
    ranked = (summary.get("assumptions_ranked") or {}).get("value") or []
    if ranked:
        unit = ranked[0].get("swing_unit", "")
        print(f"  Read before quoting: the assumptions that move the {summary['assumptions_ranked'].get('headline')}"
              " most (one at a time, low to high):")
        for r in ranked[:5]:
            swing = (_fmt({"value": r["swing"], "unit": unit}) if r["swing"] is not None
                     else "no plan at one end (the inputs contradict each other there)")
            if r["swing"] is not None and r.get("note"):
                swing += " (no plan at one end: the inputs contradict each other there)"
            print(f"    - {r['label']} ({r['key']}, {r['low']:g}..{r['high']:g}): {swing}")


def _by_year(result_set: Path, coord: str):
    """Capacity in service per year grouped by ``coord`` (vendor or host), from the set's tables."""
    import pandas as pd

    df = pd.read_csv(result_set / "tables" / f"capacity_by_{coord}.csv")
    return df.pivot_table(index=coord, columns="year", values="value", aggfunc="sum")
