"""``python -m bench sweep``: what one sweep case costs on each path, side by side on the base scenario.

    python -m bench sweep [--cases 50] [--dask-cases 200] [--json FILE] [--no-dask]

Cases: a seeded Monte Carlo design over five inputs (electricity price, PUE,
NVIDIA supply growth, the target and the AMD deal's minimum) in ranges where
every case meets its target, so each path does the same work, all in this
one process.

Per-case figures of the floor and the persistent path are the best of five
passes each, taken in turn (floor, path, floor, path, ...) so that a shared
machine's drifting speed slows both alike. Timed:

* ``highs_floor_s_per_case``: HiGHS alone, through highspy, on the sweep path's own
  instance (``*_fresh_instance_*``: on a new one), re-solving the
  same LP warm after the same coefficient, bound and cost changes the sweep
  pushed (replayed from a recording), reading the solution as an array: no
  modelling layer at all;
* ``persistent_s_per_case``: the sweep's path (:class:`model.sweep.CaseRunner`):
  the case's Scenario from the loader (validated as run.py validates), its
  Params and the check that none the plan holds fixed moved, the pushed
  changes, the warm re-solve, the check against the case's own model
  (:class:`model.fastsolve.ModelCheck`) and the headline figures;
  ``*_cpu_s_per_case`` give the floor and this path in CPU time, which a
  shared machine disturbs less than wall time;
* ``loader_s_per_case``: of the sweep's path, the loader alone (every rule
  runs; a rule whose inputs are the objects of an earlier case gives its
  kept answer, :mod:`model.inputs.memo`); ``loader_full_s_per_case``: the
  same with nothing kept (each table parsed and each rule worked out again);
* ``sweep_path_stages_cpu_s_per_case``: the sweep path's CPU time by stage (loader, Params, push,
  solve, model check, readout; :func:`stages`), so the part above the floor is named;
* ``appsi_persistent_s_per_case``: Pyomo's persistent HiGHS interface with
  only the swept Params mutable (``set_param_values`` + ``opt.solve``);
* ``rebuild_s_per_case``: the case's Scenario from the loader (files read
  once) and :func:`model.solve.solve_plan` (build and solve a fresh model);
  ``rebuild_from_files_s_per_case`` also re-reads the CSVs, as separate
  ``run.py`` runs would (without writing result sets);
* ``dask_2_workers_speedup``: the same sweep of ``--dask-cases`` cases on a
  local Dask cluster (processes, one thread each) with two workers against
  one, best of three runs (workers started and their imports warmed before
  timing); ``dask_2_workers_speedup_cold`` compares the first runs, whose
  workers build their HiGHS instances inside the timing.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

#: A sweep holds the buyer's shares of the world at the base's (the default), so these keys measure the
#: sweep machinery; ``world_case_s_per_case`` measures what ``--resolve-world`` adds to a case that changes
#: the world (the world re-solved for it, as run.py does).
BENCH_VARY = ("electricity_price=60:120USD/MWh", "pue=1.1:1.2", "supply_growth.nvidia=25:40%",
              "target=50:70GW", "deal_minimum.amd_instinct=3:6GW")
WORLD_VARY = ("pue=1.1:1.2",)


def _setup(n: int, seed: int = 1):
    from model.scenario import TargetSpec, read_base_inputs
    from model.sweep import design, parse_vary, prepare

    base = read_base_inputs()
    varies = [parse_vary(t, base.catalogue) for t in BENCH_VARY]
    cases = design("montecarlo", varies, None, n, seed, 4)
    t0 = time.perf_counter()
    prep = prepare(base, [], TargetSpec("60GW"), "montecarlo", varies, cases)
    return base, varies, cases, prep, time.perf_counter() - t0


def persistent(prep, cases, repeats: int = 5) -> dict[str, Any]:
    """The sweep's own path and the HiGHS floor, pass by pass in turn (best of ``repeats`` each).

    The sweep's path runs serially, in fixed chunks; a first pass records what it pushes into HiGHS,
    which the floor then replays (:func:`_replay`). The two alternate (floor, path, floor, path, ...)
    so that a machine whose speed drifts (a shared one) slows both alike and the ratio stays honest.
    The floor replays on the sweep path's own HiGHS instance (see :func:`_replay`); the best CPU time of a
    replay on a new instance is reported beside it (``floor_fresh_instance``).
    Returns the seconds per case (wall and CPU) of each, the first pass's results and the setup time.
    """
    from model.sweep import CaseRunner, chunk_size_for, chunks_of

    t0 = time.perf_counter()
    runner = CaseRunner(prep.job)
    setup_s = time.perf_counter() - t0
    chunks = chunks_of(cases, chunk_size_for(len(cases)))
    runner.plan.recorded = []
    results = [r for chunk in chunks for r in runner.run_chunk(chunk)]
    recorded, runner.plan.recorded = runner.plan.recorded, None
    best = {"path": float("inf"), "path_cpu": float("inf"), "floor": float("inf"), "floor_cpu": float("inf")}
    floor_objectives: list[float] = []
    for _ in range(repeats):
        wall, floor_objectives, cpu = _replay(prep, recorded, chunks, runner.plan.h)     # the path's own instance
        best["floor"], best["floor_cpu"] = min(best["floor"], wall), min(best["floor_cpu"], cpu)
        best["floor_fresh_instance"] = min(best.get("floor_fresh_instance", float("inf")),
                                           _replay(prep, recorded, chunks)[2])
        t0, c0 = time.perf_counter(), time.process_time()
        for chunk in chunks:
            runner.run_chunk(chunk)
        best["path"] = min(best["path"], (time.perf_counter() - t0) / len(cases))
        best["path_cpu"] = min(best["path_cpu"], (time.process_time() - c0) / len(cases))
    return {**best, "results": results, "floor_objectives": floor_objectives, "setup_s": setup_s}


def loader(prep, cases, full: bool = False, repeats: int = 3) -> float:
    """The loader alone, per case (best of ``repeats``): the case's Scenario as the sweep path gets it.

    ``full``: nothing kept (:func:`model.inputs.memo.nothing_kept`), so every table is parsed and
    every rule worked out again for each case.
    """
    from contextlib import nullcontext

    from model.errors import InputErrors
    from model.inputs.memo import nothing_kept

    deriver = prep.job.deriver
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        with nothing_kept() if full else nullcontext():
            for c in cases:
                try:
                    deriver.derive(c)
                except InputErrors:
                    pass
        best = min(best, (time.perf_counter() - t0) / len(cases))
    return best


def stages(prep, cases, repeats: int = 3) -> dict[str, float]:
    """Where a sweep-path case's time goes, stage by stage (CPU seconds per case, best of ``repeats``).

    The stages of :meth:`model.sweep.CaseRunner._solve` on a case the fast path answers: the loader
    (the case's validated Scenario), the Params (worked out for the concerns the case moved, the check
    that no frozen Param moved, the Param vector), the push of changed numbers into HiGHS, the warm
    solve with its row-by-row check, the check against the case's own model, and the figures read out.
    Push and solve together are what the HiGHS floor measures.
    """
    from model.sweep import CaseRunner, chunk_size_for, chunks_of
    from model.sweep.runner import long_lived_frozen

    runner = CaseRunner(prep.job)
    plan, names = runner.plan, ("loader", "params", "push", "solve", "model_check", "readout")
    best = dict.fromkeys(names, float("inf"))
    for _ in range(repeats):
        spent = dict.fromkeys(names, 0.0)
        n = 0
        for chunk in chunks_of(cases, chunk_size_for(len(cases))):
            plan.reset()
            with long_lived_frozen():       # as CaseRunner.run_chunk
                spent, n = _timed_chunk(prep, runner, chunk, names, spent, n)
        best = {k: min(best[k], spent[k] / max(n, 1)) for k in names}
    return best


def _timed_chunk(prep, runner, chunk, names, spent, n):
    """The stages of one chunk's cases added to ``spent`` (CPU seconds by stage); ``(spent, n + cases timed)``."""
    plan = runner.plan
    for i, values in chunk:
        t = [time.process_time()]
        s, _ = prep.job.deriver.derive(values)
        t.append(time.process_time())
        params = runner.params(s)
        runner.frozen_param(params)
        p = plan.param_vector(params)
        t.append(time.process_time())
        plan.set_params(p)
        t.append(time.process_time())
        r = plan.solve_min_cost()
        t.append(time.process_time())
        if r.status != "optimal":
            continue
        runner.check("min-cost", params, r)
        t.append(time.process_time())
        runner._result(i, s, r.status, "", "fast", r, prep.job.plan)
        t.append(time.process_time())
        for k, name in enumerate(names):
            spent[name] += t[k + 1] - t[k]
        n += 1
    return spent, n


def _replay(prep, recorded: list[dict[str, Any]], chunks: list, h: Any = None) -> tuple[float, list[float], float]:
    """Replay the recorded pushes with highspy alone: per chunk the reference LP and basis, then per case the
    coefficient, bound and cost changes, a warm run and the solution read out. ``(wall s/case, objectives,
    CPU s/case)``.

    ``h``: the HiGHS instance to replay on (default: a new one). The sweep path's own instance is the fair
    floor for it: the speed of the same LP and changes differs by up to a third from one HiGHS instance to
    another (measured here: 5.5 to 8.3 ms a case), which would otherwise move the ratio by as much.
    """
    import highspy
    import numpy as np

    from model.fastsolve import HighsPlan, highs_lp

    ref = HighsPlan(prep.job.plan)              # only for its reference LP and basis objects
    lp, basis = highs_lp(prep.job.plan.lp), ref._basis
    if h is None:
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
    objectives = []
    i = 0
    t0, c0 = time.perf_counter(), time.process_time()
    for chunk in chunks:
        h.passModel(lp)
        h.setBasis(basis)
        for _ in chunk:
            rec = recorded[i]
            i += 1
            if "coef_rows" in rec:
                for r, c, v in zip(rec["coef_rows"].tolist(), rec["coef_cols"].tolist(), rec["coef_vals"].tolist()):
                    h.changeCoeff(r, c, v)
            if "bound_rows" in rec:
                h.changeRowsBounds(len(rec["bound_rows"]), rec["bound_rows"], rec["bound_lo"], rec["bound_hi"])
            if "cost_cols" in rec:
                h.changeColsCost(len(rec["cost_cols"]), rec["cost_cols"], rec["cost_vals"])
            if "offset" in rec:
                h.changeObjectiveOffset(float(rec["offset"][0]))
            h.run()
            np.asarray(h.getSolution().col_value)
            objectives.append(h.getInfo().objective_function_value)
    return (time.perf_counter() - t0) / i, objectives, (time.process_time() - c0) / i


def appsi_persistent(prep, cases) -> tuple[float, list[float]]:
    """Pyomo's persistent HiGHS with only the swept Params mutable: set the Params, opt.solve, read the cost."""
    from pyomo.environ import value

    from model.build import build_model, set_param_values
    from model.solve import make_solver

    names = prep.job.plan.param_names
    deriver = prep.job.deriver
    m = build_model(deriver.reference, names)
    opt = make_solver()
    opt.solve(m)
    objectives = []
    t0 = time.perf_counter()
    for c in cases:
        s, _ = deriver.derive(c)
        set_param_values(m, s, names)
        res = opt.solve(m)
        res.solution_loader.load_vars()
        objectives.append(value(m.total_cost))
    return (time.perf_counter() - t0) / len(cases), objectives


def rebuild(prep, cases, from_files: bool = False) -> tuple[float, list[float]]:
    """A fresh Scenario (loader) and a fresh model per case, as separate runs would."""
    from model.scenario import load_scenario
    from model.solve import solve_plan

    deriver = prep.job.deriver
    objectives = []
    t0 = time.perf_counter()
    for c in cases:
        if from_files:
            sets, target = deriver.loader_inputs(c)
            s = load_scenario(sets=sets, target=target)
        else:
            s = deriver.exact(c)
        objectives.append(solve_plan(s).objective_bnusd)
    return (time.perf_counter() - t0) / len(cases), objectives


def _warm_imports() -> None:
    """Import what a worker needs (process start-up, not sweep work)."""
    import highspy  # noqa: F401

    import model.build  # noqa: F401
    import model.sweep  # noqa: F401


def dask_speedup(prep, cases, repeats: int = 3) -> dict[str, float]:
    """Wall time of the sweep on 1 and 2 local Dask workers: the first run (cold workers) and the best of ``repeats``.

    The best of several runs is the figure compared: on a shared machine the
    others are slowed by whatever else runs.
    """
    from distributed import Client, LocalCluster

    from model.sweep import chunk_size_for, chunks_of, execute

    chunks = chunks_of(cases, chunk_size_for(len(cases)))
    out: dict[str, float] = {}
    for n in (1, 2):
        with LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
                Client(cluster) as client:
            client.run(_warm_imports)
            times = []
            for _ in range(repeats):
                got: list = []
                t0 = time.perf_counter()
                execute(prep.job, chunks, n, client, got.extend)
                times.append(time.perf_counter() - t0)
                assert len(got) == len(cases)
            out[f"cold_{n}"], out[f"best_{n}"] = times[0], min(times)
    return out


def run(cases: int = 50, dask_cases: int = 200, dask: bool = True, files_cases: int = 5) -> dict[str, Any]:
    base, varies, design_cases, prep, prepare_s = _setup(cases)
    if not prep.fast:
        raise RuntimeError("the fast path is off for the benchmark keys: " + "; ".join(prep.notes))
    side = persistent(prep, design_cases)
    per, per_cpu, floor, floor_cpu = side["path"], side["path_cpu"], side["floor"], side["floor_cpu"]
    results, floor_obj, setup_s = side["results"], side["floor_objectives"], side["setup_s"]
    floor_fresh_cpu = side["floor_fresh_instance"]
    statuses = {r.status for r in results}
    loader_s, loader_full_s = loader(prep, design_cases), loader(prep, design_cases, full=True)
    stage_cpu = stages(prep, design_cases)
    appsi, appsi_obj = appsi_persistent(prep, design_cases)
    rebuild_s, rebuild_obj = rebuild(prep, design_cases)
    files_s, _ = rebuild(prep, design_cases[:files_cases], from_files=True)
    ok = [i for i, r in enumerate(results) if r.status == "optimal"]      # the floor re-solves only the min-cost LP
    fast_obj = [r.figures["total_cost"] / 1e9 for r in results]

    def worst_of(objs: list[float]) -> float:
        return max((abs(objs[i] - rebuild_obj[i]) / abs(rebuild_obj[i]) for i in ok), default=float("nan"))

    worst, worst_floor, worst_appsi = worst_of(fast_obj), worst_of(floor_obj), worst_of(appsi_obj)
    out: dict[str, Any] = {
        "cases": cases, "statuses": sorted(statuses), "keys": list(BENCH_VARY),
        "lp": prep.job.plan.structure, "mutable_params": prep.mutable,
        "prepare_s": prepare_s, "worker_setup_s": setup_s,
        "highs_floor_s_per_case": floor,
        "persistent_s_per_case": per,
        "loader_s_per_case": loader_s, "loader_full_s_per_case": loader_full_s,
        "appsi_persistent_s_per_case": appsi,
        "rebuild_s_per_case": rebuild_s,
        "rebuild_from_files_s_per_case": files_s,
        "persistent_over_floor": per / floor,
        "highs_floor_cpu_s_per_case": floor_cpu, "persistent_cpu_s_per_case": per_cpu,
        "highs_floor_fresh_instance_cpu_s_per_case": floor_fresh_cpu,
        "persistent_over_floor_cpu": per_cpu / floor_cpu,
        "sweep_path_stages_cpu_s_per_case": stage_cpu,
        "rebuilt_cases": sum(bool(r.note) for r in results),
        "rebuild_over_persistent": rebuild_s / per,
        "max_rel_objective_difference_vs_rebuild": {"persistent": worst, "highs_floor": worst_floor,
                                                    "appsi": worst_appsi},
    }
    out.update(world_cases(base))
    if dask:
        from model.sweep import design

        dcases = design("montecarlo", varies, None, dask_cases, 2, 4)
        times = dask_speedup(prep, dcases)
        out.update({"dask_cases": dask_cases, "dask_seconds": times,
                    "dask_2_workers_speedup": times["best_1"] / times["best_2"],
                    "dask_2_workers_speedup_cold": times["cold_1"] / times["cold_2"]})
    return out


def world_cases(base, n: int = 4) -> dict[str, Any]:
    """A case that changes what every buyer reads (PUE): the loader re-solves the world for it (nothing
    kept between cases here, each PUE differs), then the case is the run's; seconds per case."""
    from model.scenario import TargetSpec, load_variant

    t0 = time.perf_counter()
    for i in range(n):
        load_variant(base, [f"pue={1.1 + 0.1 * (i + 0.5) / n:.4f}"], TargetSpec("60GW"))
    return {"world_case_keys": list(WORLD_VARY), "world_case_s_per_case": (time.perf_counter() - t0) / n}


def print_table(r: dict[str, Any]) -> None:
    from model.fmt import sig

    floor = r["highs_floor_s_per_case"]
    print(f"Sweep benchmark: base scenario, LP {r['lp']} (rows x cols / nonzeros), {r['cases']} cases "
          f"({', '.join(r['statuses'])}); mutable Params: {', '.join(r['mutable_params'])}")
    print(f"{'path':58s} {'ms/case':>9s} {'x floor':>8s}")
    for label, key in (("HiGHS floor: the same pushes and warm re-solves, same instance", "highs_floor_s_per_case"),
                       ("sweep path: loader (validated) + push + warm solve + check", "persistent_s_per_case"),
                       ("  of which the loader (unchanged inputs' answers kept)", "loader_s_per_case"),
                       ("  the loader re-working every table (nothing kept)", "loader_full_s_per_case"),
                       ("Pyomo appsi persistent, swept Params mutable", "appsi_persistent_s_per_case"),
                       ("rebuild: loader + build + solve", "rebuild_s_per_case"),
                       ("rebuild from files (separate runs)", "rebuild_from_files_s_per_case")):
        print(f"{label:58s} {r[key] * 1e3:9.2f} {r[key] / floor:8.1f}")
    if "world_case_s_per_case" in r:
        w = r["world_case_s_per_case"]
        print(f"{'loader with --resolve-world (a PUE case: the world re-solved)':58s} {w * 1e3:9.2f} {w / floor:8.1f}")
    st = r["sweep_path_stages_cpu_s_per_case"]
    print("sweep path by stage, CPU ms per case: " + ", ".join(
        f"{k.replace('_', ' ')} {v * 1e3:.2f}" for k, v in st.items())
        + f" (push + solve: {(st['push'] + st['solve']) * 1e3:.2f}, beside the floor's CPU "
        f"{r['highs_floor_cpu_s_per_case'] * 1e3:.2f}; on a new HiGHS instance the floor took "
        f"{r['highs_floor_fresh_instance_cpu_s_per_case'] * 1e3:.2f})")
    print(f"CPU time (less sensitive to a shared machine): floor {r['highs_floor_cpu_s_per_case'] * 1e3:.2f} ms, "
          f"persistent {r['persistent_cpu_s_per_case'] * 1e3:.2f} ms per case: "
          f"{r['persistent_over_floor_cpu']:.2f}x; cases sent to a rebuild: {r['rebuilt_cases']}")
    print(f"persistent is {r['rebuild_over_persistent']:.0f}x faster than rebuild and "
          f"{r['persistent_over_floor']:.2f}x the HiGHS floor; prepare {r['prepare_s']:.1f} s once per sweep, "
          f"worker setup {r['worker_setup_s'] * 1e3:.0f} ms")
    d = r["max_rel_objective_difference_vs_rebuild"]
    print(f"largest relative difference of the objective from rebuild: persistent {sig(d['persistent'], 2)}, "
          f"floor {sig(d['highs_floor'], 2)}, appsi {sig(d['appsi'], 2)}")
    if "dask_seconds" in r:
        t = r["dask_seconds"]
        print(f"Dask, {r['dask_cases']} cases (best of 3): 1 worker {t['best_1']:.2f} s, 2 workers {t['best_2']:.2f} s: "
              f"speedup {r['dask_2_workers_speedup']:.2f} (first runs, workers' HiGHS built inside: "
              f"{t['cold_1']:.2f} s / {t['cold_2']:.2f} s = {r['dask_2_workers_speedup_cold']:.2f})")


def main(args) -> int:
    r = run(args.cases, args.dask_cases, not args.no_dask)
    print_table(r)
    if args.json:
        Path(args.json).write_text(json.dumps(r, indent=2) + "\n")
    return 0


if __name__ == "__main__":  # pragma: no cover
    import argparse

    p = argparse.ArgumentParser()
    p.add_argument("--cases", type=int, default=50)
    p.add_argument("--dask-cases", type=int, default=200)
    p.add_argument("--json")
    p.add_argument("--no-dask", action="store_true")
    sys.exit(main(p.parse_args()))
