"""Command line: ``python run.py --target 250GW`` and its sub-commands.

``main`` hands the command line to :func:`model.cli_common.dispatch`, which
finds the command in :data:`model.cli_common.COMMANDS`; ``run`` (the
default), ``check`` and ``scenarios`` live here, the others in their own
modules, each parsing its own arguments. The shared options, errors and exit
codes are in ``model.cli_common`` and ``model.exitcodes`` so that no command
module imports this one.

Exit codes: 0 solved; 1 the result set could not be written (disk full,
permissions; nothing partial is left); 2 bad input or usage (nothing
written); 3 the target cannot be met, a deal minimum or tranche cannot be
kept (``commitment_missed``), or the inputs contradict each other (a result
set explains why); 4 the solver failed or hit its time limit, or its plan
failed the post-solve check; 130 interrupted.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any, Sequence

from model.cli_common import COMMANDS, MODULE_COMMANDS, ArgumentParser, add_input_options, dispatch, fail
from model.exitcodes import EXIT_INPUT, EXIT_INTERRUPT, EXIT_OK, EXIT_SOLVER, EXIT_TARGET, EXIT_WRITE

# Older names, kept for callers on other branches: the helpers live in model.cli_common.
_common, _fail = add_input_options, fail
__all__ = ["main", "parser", "HELP_EXAMPLES", "cmd_run", "cmd_check", "cmd_scenarios", "print_summary", "COMMANDS",
           "MODULE_COMMANDS", "EXIT_OK", "EXIT_WRITE", "EXIT_INPUT", "EXIT_TARGET", "EXIT_SOLVER", "EXIT_INTERRUPT"]


#: The examples ``run.py --help`` shows; tests/test_readme_examples.py runs each (exit 0).
HELP_EXAMPLES = ("run.py --target 60GW", 'run.py --target "200 ZFLOP/s" --year 2030', "run.py check --set pue=1.3",
                 "run.py sweep --target 60GW --vary pue=1.1:1.2 --method oat")


def parser(commands: bool = False) -> argparse.ArgumentParser:
    """The ``run`` options; ``--help`` shows them with every command, one line each.

    ``commands=True`` adds the commands as argparse sub-parsers, for the help
    text only: the command word is read by :func:`model.cli_common.dispatch`,
    so a stray word after the options is refused rather than taken for a command.
    """
    p = ArgumentParser(
        prog="run.py", add_help=False,
        usage="run.py [COMMAND] [options]   (without a COMMAND: run)",
        description="Plan AI compute capacity and its energy: which chips, from whom, where, when, at what cost.",
        epilog="Each command has its own help: run.py COMMAND --help. Examples: " + "; ".join(HELP_EXAMPLES) + ".")
    if commands:
        listing = p.add_subparsers(title="commands", dest="command", metavar="COMMAND")
        for name, command in COMMANDS.items():
            listing.add_parser(name, help=command.help, add_help=False)
    p.add_argument("-h", "--help", action=_HelpWithCommands, help="show this help (options and commands) and exit")
    p.add_argument("--target", help="what must be in service: a power (250GW, 250000 MW) or a compute rate "
                                    "(200 ZFLOP/s, 2e23 FLOP/s). Default: inputs/scalars.csv default_target")
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
    p.add_argument("--foresight", choices=("perfect", "myopic"), default="perfect",
                   help="plan every year at once (perfect, default) or year by year seeing --look-ahead years "
                        "(myopic; summary.json gives the regret against perfect foresight)")
    p.add_argument("--look-ahead", type=int, default=None, metavar="N",
                   help="years each myopic step sees, its own included (default 2; needs --foresight myopic)")
    p.add_argument("--no-ranking", action="store_true",
                   help="skip ranking the assumption-marked inputs by their effect on the answer (faster)")
    add_input_options(p)
    return p


class _HelpWithCommands(argparse.Action):
    """``-h`` / ``--help``: the run options and every command, then exit 0."""

    def __init__(self, option_strings: list[str], dest: str = argparse.SUPPRESS,
                 default: str = argparse.SUPPRESS, help: str | None = None) -> None:
        super().__init__(option_strings=option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, p, namespace, values, option_string=None) -> None:
        parser(commands=True).print_help()
        p.exit()


def main(argv: Sequence[str] | None = None) -> int:
    """``run.py``: run one command line and return its exit code (see the module docstring)."""
    return dispatch(list(sys.argv[1:] if argv is None else argv))


def cmd_scenarios(rest: list[str]) -> int:
    import shutil
    import textwrap

    import yaml

    from model.fmt import plain_numbers
    from model.scenario import DEFAULT_INPUTS, available_scenarios

    p = ArgumentParser(prog="run.py scenarios", description="List the shipped scenarios.")
    p.add_argument("--inputs", type=Path, default=DEFAULT_INPUTS)
    p.add_argument("--long", action="store_true", help="print each scenario's whole description and notes")
    a = p.parse_args(rest)
    found = available_scenarios(a.inputs)
    width = max(60, min(shutil.get_terminal_size((120, 24)).columns, 160))
    pad = max((len(n) for n in found), default=0) + 2
    print(f"{len(found)} scenarios in {a.inputs / 'scenarios'} (run one with --scenario NAME):")
    for name, desc in found.items():
        if not a.long:
            line = textwrap.shorten(plain_numbers(desc) or "(no description)", width=width - pad - 2, placeholder=" …")
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
                print(textwrap.fill(f"{label}: {plain_numbers(' '.join(str(doc[label]).split()))}", width=width,
                                    initial_indent="  ", subsequent_indent="    "))
    return EXIT_OK


def cmd_check(rest: list[str]) -> int:
    from model.errors import InputErrors
    from model.scenario import DEFAULT_INPUTS, load_scenario

    p = ArgumentParser(prog="run.py check", description="Validate the inputs without solving; "
                                                                  "list every problem at once.")
    add_input_options(p)
    a = p.parse_args(rest)
    try:
        s = load_scenario(a.inputs or DEFAULT_INPUTS, a.scenario, a.sets)
        from model.inputs.ranges import check_ranges

        check_ranges(a.inputs or DEFAULT_INPUTS)
    except InputErrors as exc:
        return fail(str(exc), EXIT_INPUT)
    print(f"inputs OK: scenario {s.name}, {len(s.offers)} offers, {len(s.deals)} deals, "
          f"{len(s.regions)} regions, years {s.first_year}-{s.last_year}")
    return EXIT_OK


def cmd_run(rest: list[str]) -> int:
    """``run.py [run] [options]``: load, solve, write one result set, print its summary."""
    try:
        return _run(list(rest))
    except KeyboardInterrupt:
        print("interrupted: no partial result set was left", file=sys.stderr)
        return EXIT_INTERRUPT


def _run(rest: list[str]) -> int:
    from model.errors import InputError, InputErrors, ResultSetError
    from model.scenario import DEFAULT_INPUTS, TargetSpec, load_scenario

    a = parser().parse_args(rest)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    try:
        # a myopic buyer plans on the deals' own shares (the buyer_share rows): the world's allocation is one
        # perfect-foresight answer, with no room in scarce years for decisions made without foresight
        myopic = {"allocation": [], "world_allocation": False} if a.foresight == "myopic" else {}
        s = load_scenario(a.inputs or DEFAULT_INPUTS, a.scenario, a.sets, TargetSpec(a.target, a.year, a.target_basis),
                          **myopic)
    except InputErrors as exc:
        return fail(str(exc), EXIT_INPUT)
    except InputError as exc:
        return fail(str(exc), EXIT_INPUT)
    if not a.no_ranking:
        from model.inputs.ranges import check_ranges

        try:
            check_ranges(a.inputs or DEFAULT_INPUTS)
        except InputErrors as exc:
            return fail(str(exc), EXIT_INPUT)
    timings["load_s"] = time.perf_counter() - t0

    from model.results import default_name, ensure_free, write_result_set

    name = a.name or default_name(s, objective=a.objective)
    try:
        ensure_free(a.results, name)
    except ResultSetError as exc:
        return fail(str(exc), EXIT_INPUT)
    if a.time_limit is not None and not 0 < a.time_limit < float("inf"):  # also refuses nan
        return fail(f"--time-limit: expected a positive number of seconds, found {a.time_limit!r}", EXIT_INPUT)

    if a.look_ahead is not None and a.foresight != "myopic":
        return fail("--look-ahead: applies only with --foresight myopic", EXIT_INPUT)
    if a.foresight == "myopic":
        from model.foresight import run_from_cli

        return run_from_cli(a, s, name, ["run.py", *rest], timings)

    from model.solution import to_dataset
    from model.solve import ModelCodeError, solve_plan

    print(f"Solving scenario '{s.name}': {len(s.offers)} offers, {len(s.regions)} regions, "
          f"{s.first_year}-{s.last_year} ...", flush=True)
    try:
        outcome = solve_plan(s, a.objective, a.time_limit)
    except ModelCodeError as exc:   # a bug in our code: nothing is written, never called a solver failure
        return fail(f"{exc}; nothing was written", EXIT_SOLVER)
    ds = to_dataset(s, outcome)
    from model.answer import extras as answer_extras

    t0 = time.perf_counter()
    extras = answer_extras(s, outcome, a.inputs or DEFAULT_INPUTS, a.scenario, ranking=not a.no_ranking,
                           time_limit=a.time_limit, sets=a.sets, target=TargetSpec(a.target, a.year, a.target_basis))
    timings["answer_s"] = time.perf_counter() - t0
    timings.update(extras.pop("range_timings", {}))
    t0 = time.perf_counter()
    try:
        path = write_result_set(a.results, name, s, outcome, ds, ["run.py", *rest], timings,
                                plots=not a.no_plots, extras=extras)
    except ResultSetError as exc:
        return fail(str(exc), EXIT_INPUT)
    except OSError as exc:  # disk full, permissions: write_result_set removed its temporary folder
        return fail(f"could not write the result set {a.results / name}: {exc}; "
                     "nothing was written (no partial set is left)", EXIT_WRITE)
    timings["write_s"] = time.perf_counter() - t0
    from model.results import read_summary

    print_summary(read_summary(path), s, path)
    print(f"\nResult set: {path}  (open {path / 'report.html'})")
    if outcome.status == "optimal":
        return EXIT_OK
    if outcome.status in ("target_missed", "commitment_missed", "infeasible"):
        return EXIT_TARGET
    return EXIT_SOLVER


def print_summary(summary: dict, s, result_set: Path) -> None:
    """A short, readable summary: capacity by vendor and host per year, cost, binding limits."""
    import pandas as pd

    from model.fmt import figure as _fmt, shadow_price as shadow_text
    from model.names import humaniser
    from model.report import display_names

    words = humaniser(display_names(s))       # names, not ids, wherever a person reads
    ty = summary["target_year"]
    print(f"\nStatus: {summary['status']}  ({words(summary.get('message', ''))})")
    print(target_line(summary, s))
    if "max_reachable" in summary:
        print(f"Largest reachable: {_fmt(summary['max_reachable'])}")
    if summary.get("conflicts"):
        print("Limits that contradict each other (each would have to give):")
        for c in summary["conflicts"][:10]:
            print(f"  - {words(c['meaning'])}")
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
    from model.supply_share import terminal_lines

    for line in terminal_lines(summary, ty, display_names(s)):
        print(line)
    print_answer(summary, words)
    binding = [b for b in summary.get("binding", [])]
    if binding:
        print(f"\nBinding limits ({len(binding)}; the largest shadow prices first):")
        for b in binding[:12]:
            print(f"  - {words(b['name'])}: {shadow_text(b['shadow_price'])}")
        if len(binding) > 12:
            print(f"  ... and {len(binding) - 12} more in summary.json and tables/binding.csv")
    if summary.get("binding_note"):
        print("\nCost duals of the plan held at its maximum are not shown: they hold only for vanishing moves "
              "(see what stops more below, from the reach duals).")
    from model.why import what_stops_lines

    for line in what_stops_lines(summary):
        print(words(line))


def target_line(summary: dict, s) -> str:
    """What the run asked for, in words: the target and its basis, or the most capacity by a year.

    ``Target: 250.00 GW of facility power (IT x PUE) from 2033``; under
    ``--objective max-capacity``, ``Objective: the most accelerator IT capacity in service by 2030``
    (the target is not used then, so it is not shown).
    """
    from model.fmt import figure as _fmt

    t, ty = s.main_target, summary["target_year"]
    basis = ("" if t.kind != "power" else
             " of facility power (IT x PUE)" if t.basis == "facility" else " of accelerator IT capacity")
    if summary.get("objective") == "max-capacity":
        what = "compute" if t.kind != "power" else basis.removeprefix(" of ")
        return f"Objective: the most {what} in service by {ty}"
    return f"Target: {_fmt(summary['target'])}{basis} from {ty}"


def print_answer(summary: dict, words: Any = str) -> None:
    """The answer in a few lines: cost and its basis, all-in capex per GW, borrowing, reach, build years."""
    from model.answer import build_years
    from model.fmt import figure as _report_fmt
    from model.calibration import calibration_lines
    from model.money_readout import money_lines

    def _fmt(fig: dict) -> str:
        if fig.get("unit") == "USD/GW":
            return f"{fig['value'] / 1e9:,.1f} billion USD/GW"
        return _report_fmt(fig)

    from model.headline_range import range_words, ranking_lines

    ty = summary["target_year"]
    print("\nThe answer")
    print(f"  Status: {summary['status']}")
    cost_spread = range_words(summary.get("headline_range")) if summary["status"] != "target_missed" else ""
    cost_spread = f" ({cost_spread})" if cost_spread else ""
    print(f"  Total cost: {_fmt(summary['total_cost'])}{cost_spread} ({summary.get('total_cost_basis', '')})")
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
    for line in money_lines(summary) + calibration_lines(summary):   # debt rule, interest share, calibration misses
        print(line)
    target, reach = summary["target"], summary.get("max_reachable")
    spread = range_words(summary.get("headline_range"))
    if reach is not None and summary.get("objective") == "max-capacity":   # no target was given: none is named
        print(f"  Reachable in {ty}: at most {_fmt(reach)} can be held (the run maximised it; no target was given)")
    elif reach is not None:
        held = f"at most {_fmt(reach)}" + (f" ({spread})" if spread and summary["status"] == "target_missed" else "")
        print(f"  Reachable in {ty}: {_fmt(target)} asked, {held} can be held")
    else:
        print(f"  Reachable in {ty}: the largest reachable figure could not be computed")
    binds = summary.get("target_binds")
    if binds is not None and not binds["value"] and summary.get("objective") != "max-capacity":
        print(f"  Note: {binds['note']}")
    years = build_years(summary)
    if years:
        print("  Most capacity added in: " + ", ".join(f"{y} ({gw:,.1f} GW)" for y, gw in years))
    for line in ranking_lines(summary):
        print(line)


def _by_year(result_set: Path, coord: str):
    """Capacity in service per year grouped by ``coord`` (vendor or host), from the set's tables."""
    import pandas as pd

    df = pd.read_csv(result_set / "tables" / f"capacity_by_{coord}.csv")
    return df.pivot_table(index=coord, columns="year", values="value", aggfunc="sum")
