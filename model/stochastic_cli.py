"""``run.py stochastic``: parse the command line, plan across futures, write the set, print the answer.

The planning itself lives below this module: :mod:`model.stochastic` (futures, the extensive
form with CVaR, VSS and EVPI), :mod:`model.ph` (progressive hedging), :mod:`model.decompose`
(the L-shaped decomposition on processes) and :mod:`model.futures_sampling` (sampled futures
and the SAA interval). Only this module imports all of them, so none of them imports another
back.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Sequence

from model import futures_sampling as sampling
from model import stochastic as core
from model import stochastic_set as result_set
from model.cli_common import ArgumentParser, add_input_options, fail
from model.errors import InputError, InputErrors, ResultSetError
from model.exitcodes import EXIT_INPUT, EXIT_OK, EXIT_SOLVER
from model.ph import progressive_hedging
from model.scenario import DEFAULT_INPUTS, TargetSpec


def parser() -> argparse.ArgumentParser:
    """The options of ``run.py stochastic``."""
    p = ArgumentParser(prog="run.py stochastic", description="A two-stage plan that holds up across futures.")
    p.add_argument("--target")
    p.add_argument("--year", type=int)
    p.add_argument("--target-basis", choices=("it", "facility"), default="it")
    p.add_argument("--futures", type=Path, required=True, help="YAML file of futures or events")
    p.add_argument("--risk", choices=("expected", "cvar"), default="expected")
    p.add_argument("--alpha", type=float, default=0.9, help="CVaR level (default 0.9: the worst 10%%)")
    p.add_argument("--weight", type=float, default=0.5, help="weight of CVaR against the expected cost (0..1)")
    p.add_argument("--method", choices=("extensive", "ph", "decompose"), default="extensive",
                   help="one extensive-form LP (default), progressive hedging with mpi-sppy, or the L-shaped "
                        "decomposition on --processes worker processes for many futures (both risk-neutral)")
    p.add_argument("--processes", type=int, default=1, help="--method decompose: worker processes (default 1)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="--method decompose: a Dask scheduler (tcp://host:8786); the futures' LPs stay warm on its "
                        "workers (model/decompose_dask.py) instead of --processes local processes")
    p.add_argument("--resume", action="store_true",
                   help="--method decompose: finish the interrupted run --name NAME from results/.NAME.partial")
    p.add_argument("--iterations", type=int, default=100, metavar="N",
                   help="--method decompose: most cut rounds before it stops and says so (default 100)")
    p.add_argument("--sample", type=int, metavar="N",
                   help="draw N equiprobable futures from the file's distributions (model/futures_sampling.py)")
    p.add_argument("--seed", type=int, default=0, help="seed of --sample (default 0)")
    p.add_argument("--batches", type=int, help="--sample: batches for the SAA confidence interval (default min(10, N/2))")
    p.add_argument("--name")
    p.add_argument("--results", type=Path, default=Path("results"))
    p.add_argument("--no-plots", action="store_true")
    p.add_argument("--time-limit", type=float)
    add_input_options(p)
    return p


def usage_problem(a: argparse.Namespace) -> str:
    """What is wrong with the options together (empty when nothing is)."""
    if not 0.0 <= a.alpha < 1.0:
        return f"command line, --alpha: expected a level in [0, 1), found {a.alpha}"
    if not 0.0 <= a.weight <= 1.0:
        return f"command line, --weight: expected a weight in [0, 1], found {a.weight}"
    if a.method in ("ph", "decompose") and a.risk == "cvar":
        return (f"command line, --method {a.method}: it is risk-neutral here; use --method extensive "
                "with --risk cvar")
    from model.bounds import whole_number_problem

    for option, value in (("--processes", a.processes), ("--iterations", a.iterations), ("--sample", a.sample),
                          ("--seed", a.seed), ("--batches", a.batches)):
        problem = whole_number_problem(option, value)
        if problem:
            return problem
    if a.resume and (a.method != "decompose" or not a.name):
        return "command line, --resume: only with --method decompose and the interrupted run's --name"
    if a.scheduler and a.method != "decompose":
        return f"command line, --scheduler: only with --method decompose, found --method {a.method}"
    return ""


def load_spec(a: argparse.Namespace) -> Any:
    """The futures: sampled from the file's distributions, or listed / combined from its events."""
    target = TargetSpec(a.target, a.year, a.target_basis)
    inputs = a.inputs or DEFAULT_INPUTS
    if a.sample is not None or sampling.has_distributions(a.futures):
        return sampling.sample_futures(a.futures, a.sample, a.seed, inputs, a.scenario, a.sets, target)
    return core.load_futures(a.futures, inputs, a.scenario, a.sets, target)


def main(argv: Sequence[str]) -> int:
    """``run.py stochastic``: exit 0 planned, 2 bad input, 4 solver trouble or a stop short of convergence."""
    a = parser().parse_args(list(argv))
    problem = usage_problem(a)
    if problem:
        return fail(problem, EXIT_INPUT)
    try:
        spec = load_spec(a)
    except (InputErrors, InputError) as exc:
        return fail(str(exc), EXIT_INPUT)
    from model.results import default_name, ensure_free

    name = a.name or "stochastic_" + default_name(spec.futures[0].scenario)
    try:
        ensure_free(a.results, name)
    except ResultSetError as exc:
        return fail(str(exc), EXIT_INPUT)
    print(f"Planning across {len(spec.futures)} futures (first stage to {spec.first_stage_last_year}) ...",
          file=sys.stderr, flush=True)
    if a.method == "decompose":       # many futures: no extensive form, no VSS/EVPI (model/decompose.py)
        return run_decomposition(a, spec, name, argv)
    return run_extensive(a, spec, name, argv)


def run_decomposition(a: argparse.Namespace, spec: Any, name: str, argv: Sequence[str]) -> int:
    """``--method decompose``: the L-shaped decomposition on ``--processes`` workers."""
    from model import decompose as dec
    from model import decompose_checkpoint as ckpt

    folder = ckpt.partial_dir(a.results, name)
    if ckpt.resumable(folder) != a.resume:
        return fail(f"{folder}: " + ("an interrupted run of this name is there: add --resume to finish it, or remove "
                                     "the folder" if not a.resume else "no interrupted run to resume"), EXIT_INPUT)
    try:
        checkpoint = ckpt.Checkpoint(folder, [f.name for f in spec.futures], dec.union_key_list(spec))
    except ckpt.CheckpointMismatch as exc:
        return fail(str(exc), EXIT_INPUT)
    pool = None
    if a.scheduler:
        try:
            from model.decompose_dask import DaskPool

            pool = DaskPool(spec, dec.union_key_list(spec), a.scheduler)
        except ImportError:
            return fail("--scheduler needs Dask: python -m pip install -e '.[sweep]'", EXIT_INPUT)
        except ConnectionError as exc:
            return fail(str(exc), EXIT_INPUT)
    try:
        r = dec.decompose(spec, a.processes, iterations=a.iterations, time_limit=a.time_limit, pool=pool,
                          checkpoint=checkpoint)
    except RuntimeError as exc:         # a resume would meet the same failure
        checkpoint.remove()
        return fail(str(exc), EXIT_SOLVER)
    summ = dec.summary(spec, r, {"futures": a.sample, "seed": a.seed} if a.sample is not None else None)
    try:
        hashes = {k: v for f in spec.futures for k, v in f.scenario.input_files.items()}
        path = dec.write_set(a.results, name, summ, ["run.py", "stochastic", *argv], hashes)
    except ResultSetError as exc:
        return fail(str(exc), EXIT_INPUT)
    checkpoint.remove()
    print(("" if r.status == "converged" else "warning: ") + r.message)
    if r.expected_cost_bnusd is not None:
        where = f"{r.processes} Dask workers" if a.scheduler else f"{r.processes} processes"
        print(f"Expected cost: {r.expected_cost_bnusd / 1e3:.3f} trillion USD (lower bound "
              f"{r.lower_bound_bnusd / 1e3:.3f}) over {len(spec.futures)} futures on {where}")
    print(f"\nResult set: {path}")
    return EXIT_OK if r.status == "converged" else EXIT_SOLVER


def run_extensive(a: argparse.Namespace, spec: Any, name: str, argv: Sequence[str]) -> int:
    """The extensive form (with CVaR when asked), the SAA interval of sampled futures, PH beside it."""
    risk = "cvar" if a.risk == "cvar" else None
    try:
        rep = core.plan_under_uncertainty(spec, risk, a.alpha, a.weight, a.time_limit)
    except RuntimeError as exc:
        return fail(str(exc), EXIT_SOLVER)
    summ = result_set.summary(spec, rep, risk, a.alpha, a.weight)
    if a.sample is not None:
        try:
            summ["sampled"] = {"futures": a.sample, "seed": a.seed}
            summ["confidence_interval"] = sampling.confidence_summary(
                sampling.saa_confidence(spec, a.batches, time_limit=a.time_limit), rep.rp.expected_cost_bnusd)
        except RuntimeError as exc:
            return fail(str(exc), EXIT_SOLVER)
    ph_stopped = False
    if a.method == "ph":
        try:
            ph_result = progressive_hedging(spec)
        except ValueError as exc:
            return fail(str(exc), EXIT_INPUT)
        except RuntimeError as exc:
            return fail(str(exc), EXIT_SOLVER)
        ph_result["first_stage"] = {str(k): v for k, v in ph_result["first_stage"].items()}
        summ["progressive_hedging"] = ph_result
        if ph_result["status"] != "converged":     # never "optimal" when PH did not converge
            ph_stopped = True
            summ["status"] = ph_result["status"]
            summ["message"] = ph_result["message"] + " (the other figures are the extensive form's)"
    try:
        path = result_set.write(a.results, name, spec, rep, summ, ["run.py", "stochastic", *argv], plots=not a.no_plots)
    except ResultSetError as exc:
        return fail(str(exc), EXIT_INPUT)
    print_answer(a, spec, rep, summ, ph_stopped)
    print(f"\nResult set: {path}")
    return EXIT_SOLVER if ph_stopped else EXIT_OK


def print_answer(a: argparse.Namespace, spec: Any, rep: Any, summ: dict[str, Any], ph_stopped: bool) -> None:
    """Expected cost and CVaR, cost and shortfall per future, VSS and EVPI, the hedge (vendors, hosts and regions
    by their display names), the SAA interval."""
    from model.fmt import quantity
    from model.names import humaniser
    from model.report import display_names

    scenario = getattr(spec.futures[0], "scenario", None) if spec.futures else None
    words = humaniser(display_names(scenario)) if scenario is not None else str

    print(f"Expected cost: {rep.rp.expected_cost_bnusd / 1e3:.3f} trillion USD; CVaR({a.alpha:.0%}): "
          f"{rep.rp.cvar_bnusd / 1e3:.3f} trillion USD")
    for f in spec.futures:
        short = rep.rp.shortfall_by_future[f.name]
        print(f"  {f.name:40s} p={f.probability:.3f}  {rep.rp.cost_by_future[f.name] / 1e3:8.3f} trillion USD"
              + (f"  target missed by {result_set.shortfall_text(short, spec.penalty_unit)}" if short > 1e-6 else ""))
    print(f"Probability of missing the target: {rep.miss_probability:.1%}; expected shortfall "
          f"{result_set.shortfall_text(rep.expected_shortfall, spec.penalty_unit)}")
    if rep.miss_probability > 0:
        print(f"  (the costs above include the miss penalty, {quantity(spec.penalty_bnusd * 1e9, 'USD')} per "
              f"{spec.penalty_unit} short a year: where the target is far out of reach, most of the cost is penalty)")

    def usd(bn: float) -> str:          # below a thousand USD is solver noise around zero
        return quantity(0.0 if abs(bn) < 1e-6 else bn * 1e9, "USD", 4)

    vss = "not finite (see the note below)" if rep.vss_bnusd is None else usd(rep.vss_bnusd)
    print(f"VSS: {vss}; EVPI: {usd(rep.evpi_bnusd)}")
    if rep.note:
        print(f"Note: {rep.note}")
    for d in rep.differences[:8]:
        print(f"  hedge: {words(d['meaning'])}")
    if summ.get("confidence_interval", {}).get("low"):
        ci = summ["confidence_interval"]
        print(f"SAA {ci['level']:.0%} interval for the expected optimal cost: {ci['low']['value'] / 1e12:.4f} to "
              f"{ci['high']['value'] / 1e12:.4f} trillion USD ({ci['note']})")
    if a.method == "ph":
        print(("warning: " if ph_stopped else "") + summ["progressive_hedging"]["message"])
