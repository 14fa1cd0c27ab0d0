"""Benchmark many futures: the extensive form against the decomposition on 1 and 2 processes.

    python -m bench stochastic [--futures 10 100 1000] [--ranks 1 2] [--ef-max 100] [--timeout 900] [--json FILE]

Futures are the base scenario with every vendor's supply cap scaled by an
independent random factor (1.0..1.4, seed 0: deal minimums stay within
supply, so every future is feasible), first stage to 2027, 250 GW by 2033.

Each row: ``futures``; ``ef_s`` the extensive form's wall time (build, solve,
check; None when not run: above ``--ef-max`` futures, because 1,000 futures
did not finish in 900 s on this machine, or over ``--timeout``);
``ph_s`` the decomposition's wall time (model/decompose.py: multi-cut
L-shaped on HiGHS, futures split over ``ph_ranks`` worker processes; mpi4py
is not installed here, so processes rather than MPI ranks);
``rel_gap`` |decomposition - extensive form| / extensive form when both ran,
else the decomposition's own (upper - lower) / upper; ``speedup`` (on the
rows with 2 ranks) the 1-rank time over the 2-rank time. Each run is its own
process, stopped after ``--timeout`` seconds.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path


def futures(n: int):
    import numpy as np

    from model.scenario import TargetSpec, load_scenario
    from model.stochastic import Future, FuturesSpec

    base = load_scenario(target=TargetSpec("250GW"))
    rng = np.random.default_rng(0)
    out = []
    for i in range(n):
        factor = {v: rng.uniform(1.0, 1.4) for v in base.vendors}
        s = replace(base, supply_cap_gw={k: c * factor[k[0]] for k, c in base.supply_cap_gw.items()})
        out.append(Future(f"f{i}", 1.0 / n, s))
    return FuturesSpec(tuple(out), 2027, 100.0, "f0", "synthetic")


def run_ef(n: int) -> dict:
    from model.stochastic import extensive_form

    t0 = time.perf_counter()
    spec = futures(n)
    r = extensive_form(spec)
    return {"status": r.status, "expected_cost_bnusd": r.expected_cost_bnusd, "rows": r.size.get("rows"),
            "wall_s": time.perf_counter() - t0}


def run_decomposition(n: int, ranks: int) -> dict:
    from model.decompose import decompose

    t0 = time.perf_counter()
    spec = futures(n)
    r = decompose(spec, processes=ranks)
    return {"status": r.status, "expected_cost_bnusd": r.expected_cost_bnusd, "bound_gap": r.gap,
            "iterations": r.iterations, "build_s": r.timings["build_s"], "wall_s": time.perf_counter() - t0}


def _subprocess(kind: str, n: int, ranks: int, timeout: float) -> dict:
    try:
        proc = subprocess.run([sys.executable, "-m", "bench.stochastic", "--one", kind, str(n), str(ranks)],
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
    p.add_argument("--one", nargs=3, help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.one:
        kind, n, ranks = a.one[0], int(a.one[1]), int(a.one[2])
        print(json.dumps(run_ef(n) if kind == "ef" else run_decomposition(n, ranks)))
        return 0
    rows = []
    for n in a.futures:
        ef = _subprocess("ef", n, 1, a.timeout) if n <= a.ef_max else {
            "status": f"not run (above --ef-max {a.ef_max}; 1,000 futures did not finish in 900 s)"}
        print(f"  {n} futures, extensive form: {ef['status']} {ef.get('wall_s', '')}", file=sys.stderr, flush=True)
        times = {}
        for ranks in sorted(a.ranks, reverse=True):
            d = _subprocess("decompose", n, ranks, a.timeout)
            print(f"  {n} futures, decomposition on {ranks}: {d['status']} {d.get('wall_s', '')}", file=sys.stderr,
                  flush=True)
            if d.get("expected_cost_bnusd") is not None and ef.get("expected_cost_bnusd"):
                gap = abs(d["expected_cost_bnusd"] - ef["expected_cost_bnusd"]) / abs(ef["expected_cost_bnusd"])
            else:
                gap = d.get("bound_gap")
            times[ranks] = d.get("wall_s")
            rows.append({"futures": n, "ef_s": ef.get("wall_s"), "ph_s": d.get("wall_s"), "ph_ranks": ranks,
                         "rel_gap": gap, "method": "L-shaped decomposition on worker processes (model/decompose.py)",
                         "ef_status": ef["status"], "ph_status": d["status"], "bound_gap": d.get("bound_gap"),
                         "iterations": d.get("iterations"), "ef_rows": ef.get("rows"),
                         "expected_cost_usd": (d["expected_cost_bnusd"] * 1e9
                                               if d.get("expected_cost_bnusd") is not None else None)})
        for r in rows:
            if r["futures"] == n and r["ph_ranks"] == 2 and times.get(1) and times.get(2):
                r["speedup"] = times[1] / times[2]
    cols = ["futures", "ef_s", "ph_s", "ph_ranks", "rel_gap", "speedup", "ph_status"]
    print(" ".join(f"{c:>12s}" for c in cols))
    for r in rows:
        print(" ".join(f"{r.get(c):>12.4g}" if isinstance(r.get(c), float) else f"{str(r.get(c, '-')):>12s}"
                       for c in cols))
    if a.json:
        Path(a.json).write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
