"""``python run.py world``: every buyer planned at once on the world's shared supply; writes a result set.

    python run.py world [--year Y] [--set K=V ...] [--scenario S] [--name N] [--rule value|pro-rata]
                        [--write-allocation]

Exit codes (model/exitcodes.py): 0 solved; 2 bad input (nothing written); 3 signed deals and history
exceed a shared cap (a result set names the caps); 4 solver failure; 1 the set could not be written.
"""
from __future__ import annotations

import datetime as _dt
import sys
import time
from pathlib import Path

from model.cli_common import ArgumentParser, add_input_options, fail
from model.exitcodes import EXIT_INPUT, EXIT_INTERRUPT, EXIT_OK, EXIT_SOLVER, EXIT_TARGET, EXIT_WRITE

ALLOCATION_FILE = "world_allocation.csv"


def parser() -> ArgumentParser:
    p = ArgumentParser(prog="run.py world", description="Plan every buyer at once on the world's chips, firm "
                       "power and kind-wide caps; report who gets what and the scarcity prices.")
    add_input_options(p)
    p.add_argument("--year", type=int, default=None, help="the year the headline speaks of (default: the "
                   "default target year, 2033 in the base)")
    p.add_argument("--rule", choices=("value", "pro-rata"), default="value",
                   help="value: maximise the value of announced capacity served less costs (default); "
                        "pro-rata: each buyer's share of each cap in proportion to its contracted GW")
    p.add_argument("--name", help="result set name under results/ (default world_<rule>_<timestamp>)")
    p.add_argument("--no-plots", action="store_true", help="a page without pictures")
    p.add_argument("--results", type=Path, default=Path("results"), help="folder for result sets (default results/)")
    p.add_argument("--write-allocation", action="store_true",
                   help=f"also write the default buyer's shares to inputs/{ALLOCATION_FILE} (the single-buyer "
                        "run reads them)")
    p.add_argument("--time-limit", type=float, default=None, help="seconds HiGHS may spend")
    return p


def main(argv: list[str]) -> int:
    try:
        return _main(list(argv))
    except KeyboardInterrupt:
        print("interrupted: no partial result set was left", file=sys.stderr)
        return EXIT_INTERRUPT


def _main(argv: list[str]) -> int:
    from model.errors import InputError, InputErrors, ResultSetError
    from model.resultdir import ensure_free
    from model.scenario import DEFAULT_INPUTS
    from model.world.data import load_world
    from model.world.output import allocation_rows, write_allocation, write_world_set
    from model.world.solve import solve_world

    a = parser().parse_args(argv)
    inputs = Path(a.inputs or DEFAULT_INPUTS)
    if a.write_allocation and (a.sets or a.scenario):
        return fail(f"command line, --write-allocation: expected no --set or --scenario (the allocation file holds "
                    f"the shares of the inputs as they are; a single-buyer run with changes re-solves the world "
                    f"itself), found {' '.join(['--scenario ' + a.scenario] if a.scenario else [])}"
                    f"{' '.join('--set ' + x for x in a.sets)}", EXIT_INPUT)
    t0 = time.perf_counter()
    try:
        w = load_world(inputs, a.scenario, a.sets)
    except (InputErrors, InputError) as exc:
        return fail(str(exc), EXIT_INPUT)
    load_s = time.perf_counter() - t0
    year = a.year if a.year is not None else w.scenarios[w.default].main_target.year
    if year not in w.years:
        return fail(f"command line, --year: expected a year of the horizon ({w.years[0]}..{w.years[-1]}), "
                    f"found {year}", EXIT_INPUT)
    name = a.name or f"world_{a.rule}_{_dt.datetime.now().strftime('%Y%m%d-%H%M%S')}"
    try:
        ensure_free(a.results, name)
    except ResultSetError as exc:
        return fail(str(exc), EXIT_INPUT)
    print(f"Solving the world: {len(w.buyers)} buyers, {sum(len(s.offers) for s in w.scenarios.values())} offers, "
          f"rule {a.rule} ...", flush=True)
    o = solve_world(w, a.rule, time_limit=a.time_limit)
    o.timings = {"load_s": load_s, **o.timings}
    if o.model is None:
        return fail(o.message, EXIT_SOLVER if o.status not in ("infeasible",) else EXIT_TARGET)
    try:
        path = write_world_set(a.results, name, w, o, argv, year, str(inputs), plots=not a.no_plots)
    except ResultSetError as exc:
        return fail(str(exc), EXIT_INPUT)
    except OSError as exc:
        return fail(f"the result set could not be written ({exc}); nothing was left", EXIT_WRITE)
    print_summary(w, o, year)
    print(f"result set: {path}")
    if o.status != "optimal":
        print(o.message, file=sys.stderr)
        return EXIT_TARGET
    if a.write_allocation:
        from model.provenance import inputs_date

        # the inputs' date (latest source date of the rows read), not today's: "inputs of DATE" states it
        date = inputs_date(w.input_files) or _dt.date.today().isoformat()
        from model.inputs.allocation import world_fingerprint
        from model.scenario import read_base_inputs

        fingerprint = world_fingerprint(read_base_inputs(inputs).tables, inputs, own=True)
        out = write_allocation(inputs / ALLOCATION_FILE, allocation_rows(w, o, date), a.rule, fingerprint)
        print(f"allocation: {out}")
    return EXIT_OK


def print_summary(w, o, year: int) -> None:
    """The headline and the buyers in the terminal."""
    from model import fmt
    from model.world.output import headline

    h = headline(w, o, year)
    print(f"Announced plans by {year}: {fmt.figure(h['announced'])}; the world builds {fmt.figure(h['built'])} of "
          f"them and {fmt.figure(h['rest_of_world'])} for the rest of the world.")
    for b in w.buyers:
        short = h["shortfall"].get(b)
        print(f"  {w.name_of(b):<22} announced {fmt.quantity(w.announced_gw.get((b, year), 0.0), 'GW'):>9}  "
              f"in service {fmt.quantity(o.plan['in_service_gw'][b, year], 'GW'):>9}"
              + (f"  short by {fmt.figure(short)}" if short else ""))
    if h["scarcest_chips"]:
        c = h["scarcest_chips"]
        print(f"Scarcest chips: {w.scenarios[w.default].vendors.get(c['vendor'], c['vendor'])} in {c['year']} "
              f"({fmt.figure(c['price'])}).")
    print(f"LP: {o.size.get('rows')} rows x {o.size.get('columns')} columns; build {o.timings.get('build_s', 0):.2f} s, "
          f"solve {o.timings.get('solve_s', 0):.2f} s")
