"""``python run.py replan results/NAME --from 2028 [--scenario S] [--set ...] [--target ...]``.

Re-planning from where a plan stands: the source plan's decisions before
``--from`` are fixed as history on the built model (capacity built per offer and
year, power ordered -- by the year it was ordered, service year minus lead
time --, borrowing and repayment), the new inputs are applied, and the rest of
the horizon is planned (:func:`model.foresight.solve_foresight`; the source's
foresight mode unless ``--foresight`` says otherwise). Energy dispatch of past
years is re-optimised for the capacity fixed, so past money follows the inputs
given (with unchanged inputs it is the source's).

Inputs default to the source's: its scenario, ``--set`` overrides, target,
target year and basis, and inputs folder (read from its manifest); ``--set``
given here is applied on top of them, ``--scenario``, ``--target``, ``--year``
replace them.

The new set has a plan's layout plus ``tables/steps.csv`` (myopic), records in
its manifest the set it started from (``replan``), and ``run.py compare
SOURCE NEW`` shows the two side by side.

Exit codes: 0 planned; 2 bad usage, a source that is not a plan, ``--from``
outside the horizon or past the source's last year, new inputs that
contradict a fixed decision (each named); 3 target missed; 4 solver failure;
1 the set could not be written.

The run options (``--scenario``, ``--set``, ``--inputs``, ``--target`` ...)
are declared here, not imported from :mod:`model.cli`, so the two modules stay
independent.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import sys
import time
from pathlib import Path
from typing import Any, Sequence

from model.exitcodes import EXIT_INPUT, EXIT_WRITE
from model.fmt import sig

#: Decisions carried as history: variable name -> how it is read from the source's solution.nc.
HISTORY_VARS = ("build_gw", "power_build_gw", "borrow_bnusd", "repay_bnusd")


class ReplanError(ValueError):
    """A replan that cannot start (exit 2); the message names the problem."""


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="run.py replan",
        description="Fix a plan's decisions before --from as history, apply new inputs, plan the rest.")
    p.add_argument("source", type=Path, help="the plan's result set, e.g. results/base")
    p.add_argument("--from", dest="from_year", type=int, required=True, metavar="YEAR",
                   help="first year planned again; decisions before it are the source's")
    _run_options(p)
    return p


def _run_options(p: argparse.ArgumentParser, defaults: bool = True) -> None:
    """The run options a replan takes (and reads from the source's command line)."""
    p.add_argument("--scenario", default=None, help="scenario (default: the source's)")
    p.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                   help="override on top of the source's inputs (repeatable)")
    p.add_argument("--inputs", type=Path, default=None, help="inputs folder (default: the source's)")
    p.add_argument("--target", default=None, help="target (default: the source's)")
    p.add_argument("--year", type=int, default=None, help="target year (default: the source's)")
    p.add_argument("--target-basis", choices=("it", "facility"), default=None)
    p.add_argument("--foresight", choices=("perfect", "myopic"), default=None,
                   help="foresight of the rest (default: the source's)")
    p.add_argument("--look-ahead", type=int, default=None, metavar="N", help="years each myopic step sees")
    if defaults:
        p.add_argument("--name", help="result set name (default: SOURCE_replan-YEAR_timestamp)")
        p.add_argument("--results", type=Path, default=Path("results"), help="folder for result sets")
        p.add_argument("--time-limit", type=float, default=None, metavar="SECONDS")
        p.add_argument("--no-plots", action="store_true", help="skip plots and report.html")


# ----------------------------------------------------------------------------
# The source set
# ----------------------------------------------------------------------------
def read_source(path: Path) -> tuple[dict[str, Any], dict[str, Any], Any]:
    """The source's manifest, summary and solution; refuse anything that is not a plan with a plan in it.

    Raises
    ------
    ReplanError
        Naming the path and what it is instead.
    """
    import xarray as xr

    path = Path(path)
    if not path.is_dir():
        raise ReplanError(f"{path} is not a result set: no such folder")
    for f in ("manifest.json", "summary.json"):
        if not (path / f).exists():
            raise ReplanError(f"{path} is not a plan's result set: {path / f} is missing")
    from model.verify_checks import read_json    # bounded in size and depth: a crafted file is refused, not parsed

    try:
        man = read_json(path / "manifest.json")
        summ = read_json(path / "summary.json")
    except ValueError as exc:
        raise ReplanError(f"{path} cannot be read: {exc}") from None
    kind = man.get("kind") or man.get("command") or ("sweep" if "method" in man else "plan")
    if kind != "plan":
        raise ReplanError(f"{path} is a {kind} result set, not a plan: replan starts from a plan "
                          "(a set written by 'run.py --target ...' or 'run.py replan')")
    status = summ.get("status")
    if status not in ("optimal", "target_missed", "commitment_missed"):
        raise ReplanError(f"{path} has no plan to start from (status {status!r})")
    if not (path / "solution.nc").exists():
        raise ReplanError(f"{path} is not a plan's result set: {path / 'solution.nc'} is missing")
    with xr.open_dataset(path / "solution.nc") as ds:
        ds = ds.load()
    if "build_gw" not in ds:
        raise ReplanError(f"{path / 'solution.nc'} holds no plan (no build_gw)")
    return man, summ, ds


def source_options(man: dict[str, Any]) -> dict[str, Any]:
    """The inputs the source was planned with: scenario, --set, target, year, basis, inputs, foresight."""
    if "plan_inputs" in man:
        return dict(man["plan_inputs"])
    argv = list(man.get("command_line") or [])
    if argv and argv[0].endswith("run.py"):
        argv = argv[1:]
    p = argparse.ArgumentParser(add_help=False)
    _run_options(p, defaults=False)
    known, _ = p.parse_known_args(argv)
    fs = man.get("foresight") or {}
    look = (fs.get("look_ahead") or {}).get("value") if isinstance(fs.get("look_ahead"), dict) else None
    return {"scenario": known.scenario, "sets": list(known.sets), "target": known.target, "year": known.year,
            "target_basis": known.target_basis or "it", "inputs": man.get("inputs_dir") or known.inputs,
            "foresight": fs.get("mode", "perfect"), "look_ahead": look}


def history_values(s, ds, from_year: int) -> tuple[dict[str, dict], list[str]]:
    """The source's decisions before ``from_year`` as variable values, and every contradiction with ``s``.

    Capacity built in a year before ``from_year``; power whose order year
    (service year minus the lead time in ``s``) is before it; borrowing and
    repayment (repay = debt[y-1] + borrow[y] - debt[y]). Billion USD and GW.
    """
    problems: list[str] = []
    years = [int(y) for y in ds.year.values]
    build: dict = {}
    b = ds["build_gw"]
    for o in [str(x) for x in ds.offer.values]:
        for y in years:
            if y >= from_year:
                continue
            v = float(b.sel(offer=o, year=y))
            if abs(v) <= 1e-9:
                continue
            if o not in s.offers:
                problems.append(f"offer '{o}' built {sig(v, 4)} GW in {y}, but the new inputs have no such offer")
            elif y < s.offers[o].first_year:
                problems.append(f"offer '{o}' built {sig(v, 4)} GW in {y}, but the new inputs open it only in "
                                f"{s.offers[o].first_year}")
            elif y not in s.years:
                problems.append(f"offer '{o}' built {sig(v, 4)} GW in {y}, outside the new horizon "
                                f"{s.first_year}-{s.last_year}")
            else:
                build[o, y] = v
    power: dict = {}
    if "power_build_gw" in ds:
        pb = ds["power_build_gw"]
        for p in [str(x) for x in ds.power_source.values]:
            for y in years:
                v = float(pb.sel(power_source=p, year=y))
                if abs(v) <= 1e-9:
                    continue
                if p not in s.power_sources:
                    problems.append(f"power source '{p}' was ordered for {y} ({sig(v, 4)} GW), but the new inputs "
                                    "have no such source")
                    continue
                lead = s.power_lead_time_yr[p]
                if y - lead >= from_year:
                    continue
                if y not in s.power_build_years(p):
                    first = s.power_build_years(p)[0] if s.power_build_years(p) else "never"
                    problems.append(f"power source '{p}' was ordered for {y} ({sig(v, 4)} GW), but with the new inputs "
                                    f"(lead time {lead} a) it can serve only from {first}")
                    continue
                power[p, y] = v
    borrow, repay = {}, {}
    if "borrowing_usd" in ds and "debt_usd" in ds:
        debt_prev = 0.0
        for y in years:
            bor = float(ds["borrowing_usd"].sel(year=y)) / 1e9
            debt = float(ds["debt_usd"].sel(year=y)) / 1e9
            if y < from_year:
                borrow[y] = max(0.0, bor)
                repay[y] = max(0.0, debt_prev + bor - debt)
            debt_prev = debt
    return {"build_gw": build, "power_build_gw": power, "borrow_bnusd": borrow, "repay_bnusd": repay}, problems


# ----------------------------------------------------------------------------
# The command
# ----------------------------------------------------------------------------
def _fail(msg: str, code: int = EXIT_INPUT) -> int:
    print(f"error: {msg}", file=sys.stderr)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    from model.errors import InputError, InputErrors, ResultSetError
    from model.foresight import ForesightError, HistoryError, exit_code, print_result, solve_foresight, \
        write_foresight_set
    from model.resultdir import ensure_free
    from model.scenario import DEFAULT_INPUTS, TargetSpec, load_scenario

    argv = list(sys.argv[1:] if argv is None else argv)
    a = parser().parse_args(argv)
    timings: dict[str, float] = {}
    try:
        man, summ, ds = read_source(a.source)
    except ReplanError as exc:
        return _fail(str(exc))
    src = source_options(man)
    opts = {
        "scenario": a.scenario if a.scenario is not None else src.get("scenario"),
        "sets": list(src.get("sets") or []) + list(a.sets),
        "target": a.target if a.target is not None else src.get("target"),
        "year": a.year if a.year is not None else src.get("year"),
        "target_basis": a.target_basis or src.get("target_basis") or "it",
        "inputs": str(a.inputs) if a.inputs is not None else src.get("inputs"),
        "foresight": a.foresight or src.get("foresight") or "perfect",
        "look_ahead": a.look_ahead if a.look_ahead is not None else src.get("look_ahead"),
    }
    if opts["foresight"] == "perfect":
        if a.look_ahead is not None:
            return _fail("--look-ahead: applies only with --foresight myopic")
        opts["look_ahead"] = None
    t0 = time.perf_counter()
    try:
        s = load_scenario(Path(opts["inputs"]) if opts["inputs"] else DEFAULT_INPUTS, opts["scenario"], opts["sets"],
                          TargetSpec(opts["target"], opts["year"], opts["target_basis"]))
    except (InputErrors, InputError) as exc:
        return _fail(str(exc))
    timings["load_s"] = time.perf_counter() - t0
    src_years = [int(y) for y in ds.year.values]
    if not s.first_year <= a.from_year <= s.last_year:
        return _fail(f"--from: expected a year within the horizon {s.first_year}-{s.last_year}, found {a.from_year}")
    if not src_years[0] <= a.from_year <= src_years[-1]:
        return _fail(f"--from: expected a year within the source plan's years {src_years[0]}-{src_years[-1]} "
                     f"({a.source}), found {a.from_year}")
    if src_years[0] > s.first_year:
        return _fail(f"{a.source} starts in {src_years[0]}, after the new horizon's first year {s.first_year}: "
                     "its history cannot cover the years before --from")
    history, problems = history_values(s, ds, a.from_year)
    if problems:
        return _fail(f"the new inputs contradict decisions fixed as history from {a.source} (before "
                     f"{a.from_year}): " + "; ".join(problems))
    name = a.name or f"{Path(a.source).name}_replan-{a.from_year}_{_dt.datetime.now().strftime('%Y%m%dT%H%M%S')}"
    try:
        ensure_free(a.results, name)
    except ResultSetError as exc:
        return _fail(str(exc))
    if a.time_limit is not None and not 0 < a.time_limit < float("inf"):
        return _fail(f"--time-limit: expected a positive number of seconds, found {a.time_limit!r}")
    print(f"Re-planning {a.source} from {a.from_year} ({opts['foresight']} foresight"
          + (f", look-ahead {opts['look_ahead']} a" if opts["foresight"] == "myopic" else "") + ") ...", flush=True)
    try:
        r = solve_foresight(s, opts["foresight"], opts["look_ahead"], a.time_limit, history=history,
                            history_from=a.from_year)
    except HistoryError as exc:
        return _fail(f"the new inputs contradict decisions fixed as history from {a.source} (before "
                     f"{a.from_year}): {exc}")
    except ForesightError as exc:
        return _fail(str(exc))
    opts["look_ahead"] = r.look_ahead
    replan = {"source": str(a.source), "source_name": Path(a.source).name, "from": a.from_year,
              "source_status": summ.get("status"), "source_total_cost": summ.get("total_cost"),
              "source_created": man.get("created"), "source_inputs": src,
              "history": {"capacity_built": {"value": sum(history["build_gw"].values()), "unit": "GW"},
                          "power_ordered": {"value": sum(history["power_build_gw"].values()), "unit": "GW"},
                          "borrowed": {"value": sum(history["borrow_bnusd"].values()) * 1e9, "unit": "USD"}}}
    t0 = time.perf_counter()
    try:
        path = write_foresight_set(a.results, name, s, r, ["run.py", "replan", *argv], timings,
                                   plots=not a.no_plots, replan=replan, plan_inputs=opts)
    except ResultSetError as exc:
        return _fail(str(exc))
    except OSError as exc:
        return _fail(f"could not write the result set {a.results / name}: {exc}; nothing was written "
                     "(no partial set is left)", EXIT_WRITE)
    timings["write_s"] = time.perf_counter() - t0
    from model.report import display_names

    print_result(r, path, display_names(s))
    print_side_by_side(Path(a.source), path)
    return exit_code(r.outcome.status)


def print_side_by_side(source: Path, new: Path) -> None:
    """The source and the re-plan's headline figures side by side (``run.py compare`` gives every figure)."""
    from model.compare import compare_figures, open_result_set
    from model.fmt import label

    views = [open_result_set(source), open_result_set(new, f"{Path(new).name} ")]
    head = compare_figures(views)
    ty = views[0].summary.get("target_year")
    keys = ["status", "total_cost", f"capacity_in_service.{ty}", "facility_power", "energy"]
    print(f"\n{'figure':28s} {'source':>26s} {'re-plan':>26s}")
    for k in keys:
        cells = []
        for v in views:
            row = head[(head["key"] == k) & (head["set"] == v.label)]
            cells.append(_cell(row))
        print(f"{label(k):28s} {cells[0]:>26s} {cells[1]:>26s}")
    print(f"\nEvery figure and input side by side: python run.py compare {source} {new}")


def _cell(rows) -> str:
    """A figure as people read it, to 5 significant digits so that small differences show (``2.7814 trillion USD``)."""
    from model.fmt import quantity

    if len(rows) == 0:
        return "-"
    r = rows.iloc[0]
    v, u = r["value"], r["unit"]
    if v is None or v != v:
        return str(r["text"]) if r["text"] is not None else "-"
    return quantity(v, u, 5)
