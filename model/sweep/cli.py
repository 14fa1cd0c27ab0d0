"""``run.py sweep``: options, the run from preparation to the written set, resume and the terminal summary."""
from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from model.fmt import sig
from model.errors import InputError, InputErrors, ResultSetError
from model.exitcodes import EXIT_INPUT, EXIT_INTERRUPT, EXIT_OK, EXIT_SOLVER, EXIT_WRITE
from model.fastsolve import target_kind
from model.scenario import TargetSpec, load_variant, read_base_inputs, world_rows_for
from model.sensitivity import morris_note, sobol_note
from model.sweep.cases import METHODS, chunk_size_for, chunks_of, design
from model.sweep.execute import execute, load_chunks, partial_dir, run_chunk, save_chunk, write_atomic
from model.sweep.keys import SweepUsageError, Vary, parse_distributions, parse_vary
from model.sweep.output import write_sweep_set
from model.sweep.prepare import Prepared, prepare
from model.sweep.runner import FAILED, CaseResult

# tests/test_sweep.py reaches these through this module: it patches CaseRunner's solve and replaces
# compile_plan to prove that a refused --vary compiles nothing
from model.fastsolve import compile_plan  # noqa: E402,F401
from model.sweep.runner import CaseRunner  # noqa: E402,F401


def parser() -> argparse.ArgumentParser:
    from model.cli_common import ArgumentParser  # says 'did you mean' for a mistyped option

    p = ArgumentParser(
        prog="run.py sweep",
        description="Re-solve one scenario for many values of a few inputs and gather the cases in one result set "
                    "(tornado, grid, Monte Carlo, Sobol and Morris sensitivity).",
        epilog="KEY is a settable key of inputs/parameters.yaml (KEY.NAME narrows it: pue.US-Texas, "
               "supply_growth.nvidia, deal_minimum.amd_instinct) or 'target'. Example: run.py sweep --target 80GW "
               "--vary electricity_price=60:120USD/MWh --vary pue=1.1:1.2 --method grid --steps 5")
    p.add_argument("--vary", action="append", default=[], metavar="KEY=LOW:HIGH[UNIT]",
                   help="an input to sweep and its range, e.g. pue=1.1:1.2, electricity_price=60:120USD/MWh, "
                        "supply_growth.nvidia=20:40%%, target=200:300GW (repeatable)")
    p.add_argument("--method", choices=METHODS, default="grid",
                   help="grid: every combination; oat: one at a time around the base (tornado); montecarlo: "
                        "draws from --distributions; sobol, morris: SALib designs and indices (default grid)")
    p.add_argument("--steps", type=int, help="values per key: grid (default 5), oat (default 2: low and high)")
    p.add_argument("--samples", type=int,
                   help="montecarlo: cases (default 100); sobol: base samples N, N (k+2) cases, a power of 2 "
                        "(default 64); morris: trajectories, N (k+1) cases (default 10)")
    p.add_argument("--levels", type=int, default=4, help="morris: grid levels (default 4)")
    p.add_argument("--distributions", type=Path, metavar="FILE",
                   help="montecarlo: YAML of per-key distributions (uniform, triangular, normal, lognormal, with units)")
    p.add_argument("--seed", type=int, default=1, help="random seed of montecarlo, sobol and morris designs (default 1)")
    p.add_argument("--target", help="the base target (as run.py --target)")
    p.add_argument("--year", type=int, help="the target year (as run.py --year)")
    p.add_argument("--target-basis", choices=("it", "facility"), default="it", help="as run.py --target-basis")
    p.add_argument("--scenario", help="apply inputs/scenarios/NAME.yaml on top of the base data")
    p.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                   help="an override every case shares (as run.py --set)")
    p.add_argument("--inputs", type=Path, default=None, help="inputs folder (default: the project's inputs/)")
    p.add_argument("--workers", type=int, default=None, help="local worker processes (default: every core)")
    p.add_argument("--scheduler", metavar="ADDRESS", help="send the cases to this Dask scheduler (tcp://host:8786)")
    p.add_argument("--chunk-size", type=int, default=None, help="cases per chunk (default: from the number of cases)")
    p.add_argument("--name", help="result set name under results/ (default: sweep-METHOD_SCENARIO_TIMESTAMP)")
    p.add_argument("--results", type=Path, default=Path("results"), help="folder for result sets (default results/)")
    p.add_argument("--resume", metavar="NAME", help="finish the interrupted sweep NAME (its options are reused)")
    p.add_argument("--time-limit", type=float, default=None, metavar="SECONDS", help="HiGHS time limit per solve")
    p.add_argument("--no-plots", action="store_true", help="skip plots and report.html")
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    p.add_argument("--rebuild", action="store_true",
                   help="load and build every case from scratch (the slow reference path; for checking)")
    p.add_argument("--resolve-world", action="store_true",
                   help="re-solve the world for each case (its shares of the world's chips and firm power as run.py "
                        "gives them; about a second a case) instead of holding the base's shares (what no buyer "
                        "took stays open to it)")
    return p


def _fail(msg: str, code: int = EXIT_INPUT) -> int:
    print(f"error: {msg}", file=sys.stderr)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    """``run.py sweep ...``; the exit code: 0 done (some case has an answer; each case's status is in
    status.csv), 1 the set could not be written, 2 bad options (nothing ran), 4 a worker failed or no case was
    solved (every case failed: the set is written with their errors), 130 interrupted (finished cases kept for
    ``--resume``)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--world" in argv:       # the world run's sweep: another buyer's demand moves this buyer's reach
        from model.world.sweep import main as world_sweep

        return world_sweep([x for x in argv if x != "--world"])
    a = parser().parse_args(argv)
    if a.resume:
        from model.resultdir import check_name

        try:
            check_name(a.resume, "interrupted sweep", "--resume")      # before any file is read
        except ResultSetError as exc:
            return _fail(str(exc))
        folder = partial_dir(a.results, a.resume)
        state_file = folder / "sweep.json"
        if not state_file.exists():
            return _fail(f"--resume {a.resume}: no interrupted sweep at {folder}")
        try:
            state = json.loads(state_file.read_text())
            if not isinstance(state, dict) or not isinstance(state.get("argv"), list) or \
                    not isinstance(state.get("cases"), list):
                raise ValueError("not a sweep's state")
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            return _fail(f"--resume {a.resume}: {state_file} cannot be read ({exc}); start a new sweep")
        b = parser().parse_args(state["argv"])
        b.workers, b.scheduler, b.no_progress = a.workers, a.scheduler, a.no_progress or b.no_progress
        b.results, b.name = a.results, a.resume
        return _run(b, state["argv"], resume=state)
    return _run(a, argv)


def _run(a: argparse.Namespace, argv: list[str], resume: Mapping[str, Any] | None = None) -> int:
    from model.scenario import DEFAULT_INPUTS

    t_start = time.perf_counter()
    problem = _option_problem(a)
    if problem:
        return _fail(problem)
    inputs = a.inputs or DEFAULT_INPUTS
    target = TargetSpec(a.target, a.year, a.target_basis) if _has_basis() else TargetSpec(a.target, a.year)

    # read the files once; check the base case exactly as run.py would
    try:
        held = None if getattr(a, "resolve_world", False) else world_rows_for(inputs, a.scenario, a.sets)
        base = read_base_inputs(inputs, a.scenario, held)
        base_case = load_variant(base, a.sets, target)
    except (InputErrors, InputError) as exc:
        return _fail(str(exc))

    # every --vary checked before anything runs
    try:
        varies = checked_varies(a, base.catalogue, base_case)
    except (SweepUsageError, InputErrors) as exc:
        return _fail(str(exc))

    try:
        cases = _cases(a, varies, base_case, resume)
        name = a.name or f"sweep-{a.method}_{base_case.name}_{_dt.datetime.now().strftime('%Y%m%dT%H%M%S')}"
        folder = _claim(a.results, name, resume is not None)
    except (SweepUsageError, ResultSetError) as exc:
        return _fail(str(exc))

    try:
        prep = _prepare(a, base, target, varies, cases)
    except SweepUsageError as exc:
        return _fail(str(exc))

    chunk = a.chunk_size or (resume or {}).get("chunk_size") or chunk_size_for(len(cases))
    if resume is None:
        _start_partial(folder, argv, cases, chunk, base_case, varies)
    done = load_chunks(folder)
    todo = [c for c in chunks_of(cases, chunk) if c[0][0] not in done]
    if resume is not None:
        print(f"resuming {name}: {sum(len(c) for c in todo)} of {len(cases)} cases left", file=sys.stderr, flush=True)
    workers = a.workers or os.cpu_count() or 1
    progress = _progress(len(cases), len(done), a.no_progress)
    failures = sum(r.status in FAILED for r in done.values())

    def on_done(results: list[CaseResult]) -> None:
        nonlocal failures
        save_chunk(folder, results)
        for r in results:
            done[r.case] = r
        failures += sum(r.status in FAILED for r in results)
        progress(len(results), failures)

    t_solve = time.perf_counter()
    try:
        execute(prep.job, todo, workers, a.scheduler, on_done, run=run_chunk)
    except KeyboardInterrupt:
        progress(0, failures, close=True)
        print(f"interrupted: {len(done)} of {len(cases)} cases are kept in {folder}; "
              f"finish with: run.py sweep --resume {name}", file=sys.stderr)
        return EXIT_INTERRUPT
    except SweepUsageError as exc:
        progress(0, failures, close=True)
        return _fail(str(exc))
    except Exception as exc:  # noqa: BLE001 -- the worker boundary (a pool or cluster failing): said with its
        progress(0, failures, close=True)           # type and message, and the cases done so far are kept
        return _fail(f"{type(exc).__name__}: {exc}; {len(done)} of {len(cases)} cases are kept in {folder}; "
                     f"finish with: run.py sweep --resume {name}", EXIT_SOLVER)
    progress(0, failures, close=True)
    solve_s = time.perf_counter() - t_solve

    results = [done[i] for i in range(len(cases))]
    counts = _status_counts(results)
    manifest = _manifest(a, argv, varies, cases, results, counts, base_case, prep,
                         {"workers": 1 if a.scheduler else min(workers, max(1, len(todo))), "scheduler": a.scheduler,
                          "chunk_size": chunk, "resumed": resume is not None},
                         {"prepare_s": prep.seconds, "solve_s": solve_s,
                          "solve_per_case_s": solve_s / max(1, sum(len(c) for c in todo))})
    t0 = time.perf_counter()
    try:
        path = write_sweep_set(a.results, name, method=a.method, varies=varies, cases=cases, results=results,
                               reference=prep.job.deriver.reference, manifest=manifest, seed=a.seed,
                               levels=a.levels, plots=not a.no_plots)
    except ResultSetError as exc:
        return _fail(str(exc))
    except OSError as exc:
        return _fail(f"the result set could not be written ({exc}); the {len(cases)} finished cases are kept in "
                     f"{folder}: run.py sweep --resume {name} writes it again", EXIT_WRITE)
    except KeyboardInterrupt:
        print(f"interrupted while writing: the {len(cases)} finished cases are kept in {folder}; "
              f"run.py sweep --resume {name} writes the set", file=sys.stderr)
        return EXIT_INTERRUPT
    shutil.rmtree(folder, ignore_errors=True)
    print_summary(results, counts, path, time.perf_counter() - t_start, solve_s, prep, t0,
                  sum(len(c) for c in todo))
    if all(r.status in FAILED for r in results):
        return _fail(_none_solved(results, counts, path), EXIT_SOLVER)
    return EXIT_OK


def _cases(a: argparse.Namespace, varies: Sequence[Vary], base_case: Any,
           resume: Mapping[str, Any] | None) -> list[dict[str, float]]:
    """The sweep's cases: the design of ``--method``, or those of the sweep being resumed (if its inputs are the same).

    Raises
    ------
    SweepUsageError
        A design the options do not allow, or a resumed sweep whose input files or swept keys changed.
    """
    if resume is not None:
        if resume.get("inputs_sha256") != base_case.input_files:
            raise SweepUsageError(f"--resume {a.name}: the input files changed since the sweep started; "
                                  "start a new sweep")
        if resume.get("units") is not None and resume["units"] != {v.key: v.unit for v in varies}:
            raise SweepUsageError(f"--resume {a.name}: the swept keys or their units changed since the sweep "
                                  f"started (was {resume['units']}); start a new sweep")
        return [dict(c) for c in resume["cases"]]
    cases = design(a.method, varies, a.steps, a.samples, a.seed, a.levels)
    note = sobol_note(a.samples or 64) if a.method == "sobol" else morris_note(a.levels) \
        if a.method == "morris" else ""
    if note:
        print(f"  note: {note}", file=sys.stderr)
    return cases


def _claim(results: Path, name: str, resuming: bool) -> Path:
    """The folder that keeps the sweep's finished chunks, after checking that ``results/name`` is free.

    Raises
    ------
    ResultSetError
        A bad name or an existing result set (results are never overwritten).
    SweepUsageError
        A new sweep under the name of an interrupted one (finish it with ``--resume``).
    """
    from model.results import check_name

    check_name(name)
    if (results / name).exists():
        raise ResultSetError(f"result set {results / name} exists already; results are never overwritten. "
                             "Choose another --name or remove the folder yourself.")
    folder = partial_dir(results, name)
    if not resuming and folder.exists():
        raise SweepUsageError(f"an interrupted sweep '{name}' is kept in {folder}: finish it with --resume {name}, "
                              "or remove that folder to start again")
    return folder


def _start_partial(folder: Path, argv: list[str], cases: Sequence[Mapping[str, float]], chunk: int, base_case: Any,
                   varies: Sequence[Vary]) -> None:
    """Create the folder of a new sweep's finished chunks, with what ``--resume`` needs (``sweep.json``)."""
    (folder / "chunks").mkdir(parents=True)
    write_atomic(folder / "sweep.json", json.dumps({
        "argv": argv, "cases": cases, "chunk_size": chunk, "inputs_sha256": base_case.input_files,
        "units": {v.key: v.unit for v in varies},
        "created": _dt.datetime.now().astimezone().isoformat(timespec="seconds")}, indent=1))


def _status_counts(results: Sequence[CaseResult]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for r in results:
        counts[r.status] = counts.get(r.status, 0) + 1
    return counts


def _none_solved(results: Sequence[CaseResult], counts: Mapping[str, int], path: Path) -> str:
    """The message when no case was solved: the counts by status and the first case's error."""
    first = next((r for r in results if r.message), results[0])
    return ("no case was solved: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
            + f" (case {first.case}: {first.message or first.status}); the set {path} keeps every case's error")


def _prepare(a: argparse.Namespace, base: Any, target: TargetSpec, varies: Sequence[Vary],
             cases: Sequence[Mapping[str, float]]) -> Prepared:
    """:func:`model.sweep.prepare.prepare`, saying on stderr what it does and what it found."""
    print(f"Sweep ({a.method}): {len(cases)} cases over {', '.join(v.key for v in varies)}; preparing ...",
          file=sys.stderr, flush=True)
    prep = prepare(base, a.sets, target, a.method, varies, cases, a.time_limit, a.rebuild,
                   lambda msg: print(f"  {msg}", file=sys.stderr, flush=True),
                   getattr(a, "resolve_world", False))
    for note in prep.notes:
        print(f"  note: {note}", file=sys.stderr)
    return prep


def _option_problem(a: argparse.Namespace) -> str | None:
    """What is wrong with the sweep's numeric options, or None."""
    for opt, val in (("--steps", a.steps), ("--samples", a.samples), ("--chunk-size", a.chunk_size),
                     ("--workers", a.workers)):
        if val is not None and val < 1:
            return f"{opt}: expected a positive whole number, found {val}"
    if a.steps is not None and a.method == "grid" and a.steps < 2:
        return "--steps: a grid needs at least 2 values per key"
    if a.levels < 2:
        return "--levels: expected at least 2"
    if a.time_limit is not None and a.time_limit <= 0:
        return f"--time-limit: expected a positive number of seconds, found {a.time_limit!r}"
    if a.distributions and a.method != "montecarlo":
        return "--distributions is for --method montecarlo"
    return None


def checked_varies(a: argparse.Namespace, catalogue: Any, base_case: Any) -> list[Vary]:
    """Every ``--vary`` and ``--distributions`` entry, checked before anything runs.

    Raises
    ------
    SweepUsageError
        Nothing to sweep, a key swept twice, or a swept target of the other kind (power or compute).
    InputErrors
        A distributions file the loader refuses.
    """
    varies = [parse_vary(t, catalogue) for t in a.vary]
    if a.distributions:
        varies += parse_distributions(a.distributions, catalogue)
    if not varies:
        raise SweepUsageError("nothing to sweep: give --vary KEY=LOW:HIGH (or --distributions FILE with "
                              "--method montecarlo)")
    seen: set[str] = set()
    for v in varies:
        if v.key in seen:
            raise SweepUsageError(f"{v.option}: {v.key} is swept twice")
        seen.add(v.key)
    if any(v.key == "target" and target_kind(base_case)[0] != ("power" if v.canonical_unit == "GW" else "compute")
           for v in varies):
        raise SweepUsageError(next(v.option for v in varies if v.key == "target")
                              + ": the swept target must be of the same kind (power or compute) as the base target")
    return varies


def _manifest(a: argparse.Namespace, argv: list[str], varies: Sequence[Vary], cases: Sequence[Mapping[str, float]],
              results: Sequence[CaseResult], counts: Mapping[str, int], base_case: Any, prep: Prepared,
              execution: Mapping[str, Any], timings: Mapping[str, float]) -> dict[str, Any]:
    """The sweep's ``manifest.json``: command line, keys, seed, inputs' sha256, the fast path's proof, timings."""
    from model.results import package_versions
    from model.solve import highs_version

    paths: dict[str, int] = {}
    for r in results:
        paths[r.path] = paths.get(r.path, 0) + 1
    return {
        "tool": "compute-energy-plan sweep", "created": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "command_line": ["run.py", "sweep", *argv], "cwd": str(Path.cwd()), "method": a.method, "seed": a.seed,
        "steps": a.steps, "samples": a.samples, "levels": a.levels if a.method == "morris" else None,
        "keys": [v.as_json() for v in varies], "cases": len(cases), "status_counts": counts,
        "scenario": base_case.name, "fixed_overrides": list(a.sets),
        "target": {"text": a.target, "year": a.year, "kind": target_kind(base_case)[0],
                   "year_used": target_kind(base_case)[1]},
        "inputs_sha256": base_case.input_files,
        "fast_path": {"on": prep.fast, "mutable_params": prep.mutable, "notes": prep.notes, "paths": paths,
                      "inputs": "every case loaded and validated by the loader, as run.py",
                      "rebuilt": {"cases": sum(bool(r.note) for r in results),
                                  "why": [{"case": r.case, "note": r.note} for r in results if r.note][:100]}},
        "execution": dict(execution),
        "solver": {"name": "HiGHS", "version": highs_version(), "time_limit_s": a.time_limit},
        "timings_s": dict(timings),
        "versions": {**package_versions(), **_sweep_versions()},
    }


def _has_basis() -> bool:
    from dataclasses import fields as dc_fields

    return any(f.name == "basis" for f in dc_fields(TargetSpec))


def _sweep_versions() -> dict[str, str]:
    from importlib import metadata

    out = {}
    for p in ("SALib", "dask", "distributed", "tqdm", "scipy"):
        try:
            out[p] = metadata.version(p)
        except metadata.PackageNotFoundError:
            out[p] = "not installed"
    return out


def _progress(total: int, initial: int, off: bool) -> Callable[..., None]:
    """A tqdm bar on stderr: cases done, failures, time left. Returns ``update(n, failures, close=False)``."""
    if off:
        return lambda n, failures, close=False: None
    from tqdm import tqdm

    bar = tqdm(total=total, initial=initial, unit="case", file=sys.stderr, dynamic_ncols=True, disable=None,
               desc="sweep", smoothing=0.1)

    def update(n: int, failures: int, close: bool = False) -> None:
        if n:
            bar.set_postfix(failures=failures, refresh=False)
            bar.update(n)
        if close:
            bar.close()

    return update


def print_summary(results: Sequence[CaseResult], counts: Mapping[str, int], path: Path, total_s: float,
                  solve_s: float, prep: Prepared, t_write: float, solved: int) -> None:
    """Status counts, the spread of the headline figures, where the set is."""
    print(f"\n{len(results)} cases: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    for name, unit, scale, shown in (("total_cost", "USD", 1e-9, "billion USD"),
                                     ("capacity_in_service", "GW", 1.0, "GW")):
        v = np.array([r.figures.get(name, np.nan) for r in results]) * scale
        v = v[np.isfinite(v)]
        if len(v):
            print(f"  {name.replace('_', ' ')}: median {sig(np.median(v), 4)} {shown} "
                  f"(5-95 %: {sig(np.percentile(v, 5), 4)} .. {sig(np.percentile(v, 95), 4)})")
    per = solve_s / max(1, solved)
    print(f"Time: prepare {prep.seconds:.1f} s, solve {solved} cases in {solve_s:.1f} s ({per * 1e3:.1f} ms per case), "
          f"write {time.perf_counter() - t_write:.1f} s; total {total_s:.1f} s")
    print(f"\nResult set: {path}  (open {path / 'report.html'})")
