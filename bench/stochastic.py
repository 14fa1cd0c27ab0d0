"""Benchmark many futures: the extensive form against the decomposition on 1 and 2 processes.

    python -m bench stochastic [--futures 10 100 1000] [--ranks 1 2] [--ef-max 100] [--timeout 900] [--json FILE]

Futures where the first stage matters: drawn (seed 0) from
inputs/futures/sampled.yaml, so they differ in supply (NVIDIA and Broadcom
scaled 0.85..1.15), revenue (lognormal), deals (the NVIDIA letter of intent 0..10 GW),
grid lead time and gas price; the first stage runs to 2028 (the file says 2027:
one more year of decisions shared by every future) and the target is 80 GW by
2033, reachable in these futures, so the first stage trades cost now against
misses later. (An earlier version planned 250 GW, out of reach in every future,
with a first stage fixed by history: it converged in one iteration and measured
nothing.)

Each row: ``futures``; ``ef_s`` the extensive form's wall time (sampling,
build, solve, check; None when not run: above ``--ef-max`` futures, or over
``--timeout``); ``sample_s`` the time to draw and load the futures (each a
validated Scenario, as run.py loads it: real time a user waits for);
``dec_s`` the decomposition's wall time (model/decompose.py: multi-cut
L-shaped with a level-method master on HiGHS, futures split over ``ranks``
worker processes) and ``total_s`` = ``sample_s`` + ``dec_s``; ``dec_cpu_s``
its CPU time (this process and its workers); ``build_s``, ``master_s``,
``sub_s`` where that time went (building the futures' LPs, the master LPs,
the futures' warm re-solves: the floor a master cannot go below);
``build_path`` how the futures' LPs were made (``template N``: from one
compiled template per model structure, proven on a probe future against a
fresh Pyomo build, model/decompose_template.py; ``pyomo N``: a Pyomo build
each; ``--pyomo-builds`` forces the latter); ``iterations``; ``gap`` the
decomposition's own (upper - lower) / upper with its bound; ``vs_ef``
|decomposition - extensive form| / extensive form when both ran;
``speedup`` (rows with 2 ranks) the 1-rank ``total_s`` over the 2-rank one;
``load_average`` the machine's 1-minute load when the run ended (the
machine may be shared: read times with it). Each run is its own process,
stopped after ``--timeout`` seconds.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path


#: The futures' file, target and first stage (see the module's docstring).
FUTURES_FILE = Path(__file__).resolve().parent.parent / "inputs" / "futures" / "sampled.yaml"
TARGET = "80GW"
FIRST_STAGE_LAST_YEAR = 2028


def futures(n: int):
    import tempfile

    import yaml

    from model.futures_sampling import sample_futures
    from model.scenario import DEFAULT_INPUTS, TargetSpec

    doc = yaml.safe_load(FUTURES_FILE.read_text())
    doc["first_stage_last_year"] = FIRST_STAGE_LAST_YEAR
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "sampled.yaml"
        path.write_text(yaml.safe_dump(doc, sort_keys=False))
        return sample_futures(path, n, 0, DEFAULT_INPUTS, None, (), TargetSpec(TARGET))


def run_ef(n: int) -> dict:
    from model.stochastic import extensive_form

    t0 = time.perf_counter()
    spec = futures(n)
    r = extensive_form(spec)
    return {"status": r.status, "expected_cost_bnusd": r.expected_cost_bnusd, "rows": r.size.get("rows"),
            "wall_s": time.perf_counter() - t0}


def run_decomposition(n: int, ranks: int, use_templates: bool = True) -> dict:
    import os

    from model.decompose import decompose

    t_sample = time.perf_counter()
    spec = futures(n)
    t0, c0 = time.perf_counter(), os.times()
    r = decompose(spec, processes=ranks, iterations=300, use_templates=use_templates)
    c1 = os.times()
    cpu = (c1.user + c1.system + c1.children_user + c1.children_system) - (
        c0.user + c0.system + c0.children_user + c0.children_system)
    done = time.perf_counter()
    return {"status": r.status, "expected_cost_bnusd": r.expected_cost_bnusd, "bound_gap": r.gap,
            "lower_bound_bnusd": r.lower_bound_bnusd, "iterations": r.iterations, "build_s": r.timings["build_s"],
            "master_s": r.timings["master_s"], "sub_s": r.timings["subproblems_s"],
            "master_bound_s": r.timings["master_bound_s"], "master_project_s": r.timings["master_project_s"],
            "cuts": r.cuts, "sample_s": t0 - t_sample, "wall_s": done - t0, "total_s": done - t_sample, "cpu_s": cpu,
            "build_path": "+".join(f"{k} {v}" for k, v in r.build_paths.items()), "build_notes": r.build_notes,
            "load_average": os.getloadavg()[0]}


def _subprocess(kind: str, n: int, ranks: int, timeout: float, pyomo_builds: bool = False) -> dict:
    try:
        proc = subprocess.run([sys.executable, "-m", "bench.stochastic", "--one", kind, str(n), str(ranks)]
                              + (["--pyomo-builds"] if pyomo_builds else []),
                              capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"status": f"not finished in {timeout:g} s"}
    if proc.returncode != 0:
        return {"status": "failed: " + (proc.stderr.strip().splitlines() or ["?"])[-1]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench stochastic")
    p.add_argument("--futures", type=int, nargs="+", default=[10, 100, 1000])
    p.add_argument("--ranks", type=int, nargs="+", default=[1, 2], help="worker processes for the decomposition")
    p.add_argument("--ef-max", type=int, default=100, help="largest number of futures the extensive form is run for")
    p.add_argument("--timeout", type=float, default=900)
    p.add_argument("--json")
    p.add_argument("--pyomo-builds", action="store_true",
                   help="build every future by Pyomo (no templates), to compare with the template path")
    p.add_argument("--one", nargs=3, help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.one:
        kind, n, ranks = a.one[0], int(a.one[1]), int(a.one[2])
        print(json.dumps(run_ef(n) if kind == "ef" else run_decomposition(n, ranks, not a.pyomo_builds)))
        return 0
    rows = []
    for n in a.futures:
        ef = _subprocess("ef", n, 1, a.timeout) if n <= a.ef_max else {
            "status": f"not run (above --ef-max {a.ef_max}; 1,000 futures did not finish in 900 s)"}
        print(f"  {n} futures, extensive form: {ef['status']} {ef.get('wall_s', '')}", file=sys.stderr, flush=True)
        times = {}
        for ranks in sorted(a.ranks, reverse=True):
            d = _subprocess("decompose", n, ranks, a.timeout, a.pyomo_builds)
            print(f"  {n} futures, decomposition on {ranks}: {d['status']} sampled in {d.get('sample_s', '')} s, "
                  f"decomposed in {d.get('wall_s', '')} s, {d.get('iterations')} iterations, gap "
                  f"{d.get('bound_gap')}, built by {d.get('build_path')}, load average {d.get('load_average')}"
                  + "".join(f"; {note}" for note in d.get("build_notes", [])), file=sys.stderr, flush=True)
            if d.get("expected_cost_bnusd") is not None and ef.get("expected_cost_bnusd"):
                gap = abs(d["expected_cost_bnusd"] - ef["expected_cost_bnusd"]) / abs(ef["expected_cost_bnusd"])
            else:
                gap = d.get("bound_gap")
            times[ranks] = d.get("total_s")
            rows.append({"futures": n, "ef_s": ef.get("wall_s"), "sample_s": d.get("sample_s"),
                         "dec_s": d.get("wall_s"), "total_s": d.get("total_s"), "ranks": ranks,
                         "build_path": d.get("build_path"), "load_average": d.get("load_average"),
                         "dec_cpu_s": d.get("cpu_s"), "build_s": d.get("build_s"), "master_s": d.get("master_s"),
                         "sub_s": d.get("sub_s"), "master_bound_s": d.get("master_bound_s"),
                         "master_project_s": d.get("master_project_s"), "cuts": d.get("cuts"),
                         "build_notes": d.get("build_notes"), "iterations": d.get("iterations"), "gap": d.get("bound_gap"),
                         "vs_ef": gap if ef.get("expected_cost_bnusd") else None,
                         "method": "L-shaped decomposition, level-method master, worker processes (model/decompose.py)",
                         "ef_status": ef["status"], "dec_status": d["status"], "ef_rows": ef.get("rows"),
                         "target": TARGET, "first_stage_last_year": FIRST_STAGE_LAST_YEAR,
                         "expected_cost_usd": (d["expected_cost_bnusd"] * 1e9
                                               if d.get("expected_cost_bnusd") is not None else None),
                         "lower_bound_usd": (d["lower_bound_bnusd"] * 1e9
                                             if d.get("lower_bound_bnusd") is not None else None)})
        for r in rows:
            if r["futures"] == n and r["ranks"] == 2 and times.get(1) and times.get(2):
                r["speedup"] = times[1] / times[2]
    cols = ["futures", "ranks", "ef_s", "sample_s", "dec_s", "total_s", "dec_cpu_s", "build_s", "master_s", "sub_s",
            "iterations", "gap", "vs_ef", "speedup", "load_average", "dec_status", "build_path"]
    print(" ".join(f"{c:>12s}" for c in cols))
    for r in rows:
        print(" ".join(f"{r.get(c):>12.4g}" if isinstance(r.get(c), float) else f"{str(r.get(c, '-')):>12s}"
                       for c in cols))
    if a.json:
        Path(a.json).write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
