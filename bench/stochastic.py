"""Benchmark the stochastic extensive form: size, build and solve time by number of futures.

    python -m bench.stochastic [--futures 10 100 1000] [--timeout 900] [--json FILE]

Futures are the base scenario with every vendor's supply cap scaled by an
independent random factor (1.0..1.4, seed 0: deal minimums stay within
supply, so every future is feasible), so all futures share one structure;
first stage to 2027; 250 GW by 2033. Each size runs in its own process (its
peak memory is its own), limited to ``--memory-gb`` of address space and
stopped after ``--timeout`` seconds: a size that does not finish within
either is reported as not practical on this machine.
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path


def one(n: int) -> dict:
    import numpy as np

    from model.scenario import TargetSpec, load_scenario
    from model.stochastic import Future, FuturesSpec, extensive_form

    t0 = time.perf_counter()
    base = load_scenario(target=TargetSpec("250GW"))
    rng = np.random.default_rng(0)
    futures = []
    for i in range(n):
        factor = {v: rng.uniform(1.0, 1.4) for v in base.vendors}
        s = replace(base, supply_cap_gw={k: c * factor[k[0]] for k, c in base.supply_cap_gw.items()})
        futures.append(Future(f"f{i}", 1.0 / n, s))
    spec = FuturesSpec(tuple(futures), 2027, 100.0, "f0", "synthetic")
    make_s = time.perf_counter() - t0
    r = extensive_form(spec)
    return {"futures": n, "status": r.status, "rows": r.size.get("rows"), "cols": r.size.get("cols"),
            "make_futures_s": make_s, "build_s": r.timings["build_s"], "solve_s": r.timings["solve_s"],
            "expected_cost_usd": (r.expected_cost_bnusd or 0) * 1e9,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.stochastic")
    p.add_argument("--futures", type=int, nargs="+", default=[10, 100, 1000])
    p.add_argument("--timeout", type=float, default=900)
    p.add_argument("--memory-gb", type=float, default=12.0)
    p.add_argument("--json")
    p.add_argument("--one", type=int, help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.one:
        limit = int(a.memory_gb * 2**30)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        try:
            print(json.dumps(one(a.one)))
        except MemoryError:
            print(json.dumps({"futures": a.one, "status": f"not practical: over {a.memory_gb:g} GB"}))
        return 0
    rows = []
    for n in a.futures:
        t0 = time.perf_counter()
        try:
            proc = subprocess.run([sys.executable, "-m", "bench.stochastic", "--one", str(n), "--memory-gb",
                                   str(a.memory_gb)], capture_output=True, text=True, timeout=a.timeout)
            row = json.loads(proc.stdout.strip().splitlines()[-1]) if proc.returncode == 0 else \
                {"futures": n, "status": f"failed: {proc.stderr.strip().splitlines()[-1] if proc.stderr else proc.returncode}"}
        except subprocess.TimeoutExpired:
            row = {"futures": n, "status": f"not practical: over {a.timeout:g} s"}
        row["wall_s"] = time.perf_counter() - t0
        rows.append(row)
        print(f"  {n} futures: {row['status']} in {row['wall_s']:.1f} s", file=sys.stderr, flush=True)
    cols = ["futures", "status", "rows", "cols", "make_futures_s", "build_s", "solve_s", "wall_s", "peak_rss_mb"]
    print(" ".join(f"{c:>15s}" for c in cols))
    for r in rows:
        print(" ".join(f"{r.get(c):>15.3f}" if isinstance(r.get(c), float) else f"{str(r.get(c, '-')):>15s}"
                       for c in cols))
    if a.json:
        Path(a.json).write_text(json.dumps({"stochastic": rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
