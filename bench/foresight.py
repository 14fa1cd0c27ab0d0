"""Benchmark myopic foresight against perfect foresight at 1x and 10x.

    python -m bench foresight [--scales 1 10] [--look-ahead 1 2 4] [--json FILE]

For each scale (the base scenario with offers and regions replicated, as in
``python -m bench model``) and look-ahead, times one perfect-foresight solve
(build + solve + check: :func:`model.solve.solve_plan`) and one myopic run
(:func:`model.foresight.solve_foresight`: one build, the perfect-foresight
reference, one re-solve per year, the post-solve check on each, and the
equal-delivery reference when a target is missed), and reports the regret.
Each case runs in this process, one after another.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path


def one(k: int, look_ahead: int) -> dict:
    from bench.__main__ import scaled
    from model.foresight import solve_foresight
    from model.scenario import TargetSpec, load_scenario
    from model.solve import solve_plan

    s = scaled(load_scenario(target=TargetSpec("250GW")), k)
    t0 = time.perf_counter()
    pf = solve_plan(s)
    perfect_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    r = solve_foresight(s, "myopic", look_ahead, progress=False)
    myopic_s = time.perf_counter() - t0
    regret = r.regret_bnusd
    short = max((f.amount for f in r.final_shortfalls if f.unit == "GW" and "target" in f.label), default=0.0)
    equal = r.regret_at_equal_delivery_bnusd
    return {"scale": k, "look_ahead": look_ahead, "perfect_status": pf.status, "myopic_status": r.outcome.status,
            "perfect_s": perfect_s, "myopic_s": myopic_s, "ratio": myopic_s / perfect_s, "steps": len(r.steps),
            "regret_bnusd": regret, "regret_equal_delivery_bnusd": equal, "target_shortfall_gw": short}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench foresight")
    p.add_argument("--scales", type=int, nargs="+", default=[1, 10])
    p.add_argument("--look-ahead", type=int, nargs="+", default=[1, 2, 4])
    p.add_argument("--json", help="also write the figures to this file")
    a = p.parse_args(argv)
    rows = [one(k, n) for k in a.scales for n in a.look_ahead]
    cols = ["scale", "look_ahead", "perfect_status", "myopic_status", "perfect_s", "myopic_s", "ratio", "steps",
            "regret_bnusd", "regret_equal_delivery_bnusd", "target_shortfall_gw"]
    print(" ".join(f"{c[:14]:>14s}" for c in cols))
    for r in rows:
        print(" ".join(f"{r[c]:>14.3f}" if isinstance(r[c], float) else f"{str(r[c]):>14s}" for c in cols))
    if a.json:
        Path(a.json).write_text(json.dumps({"foresight": rows}, indent=2))
    return 0
