"""``python -m bench world``: the world LP against the single-buyer LP on the shipped inputs.

    python -m bench world [--json FILE]

Times load, build and solve (best of two, wall and CPU seconds) and gives the LP size (active rows,
columns) of the single-buyer base plan (least cost at the base target; with the target out of reach
that is the reach solve and the cost solve) and of the world run (every buyer, value rule).
"""
from __future__ import annotations

import argparse
import json
import time


def _timed(fn):
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - t0, time.process_time() - c0


def single_row() -> dict:
    from model.build import build_model
    from model.scenario import load_scenario
    from model.solve import solve_plan
    from model.world.solve import lp_size

    s, load_s, _ = _timed(load_scenario)
    best = None
    for _ in range(2):
        o, wall, cpu = _timed(lambda: solve_plan(s))
        best = min(best or (wall, cpu), (wall, cpu))
    return {"case": "single buyer (base)", "buyers": 1, "load_s": load_s, "build_s": o.timings.get("build_s"),
            "build_and_solve_s": best[0], "build_and_solve_cpu_s": best[1], **lp_size(build_model(s))}


def world_row() -> dict:
    from model.world.data import load_world
    from model.world.solve import solve_world

    w, load_s, _ = _timed(load_world)
    best, o = None, None
    for _ in range(2):
        o, wall, cpu = _timed(lambda: solve_world(w))
        best = min(best or (wall, cpu), (wall, cpu))
    return {"case": "world (value rule)", "buyers": len(w.buyers), "load_s": load_s, "build_s": o.timings["build_s"],
            "build_and_solve_s": best[0], "build_and_solve_cpu_s": best[1], **o.size}


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m bench world")
    p.add_argument("--json", help="also write the figures to this file")
    a = p.parse_args(argv)
    rows = [single_row(), world_row()]
    print(f"{'case':<22}{'buyers':>7}{'load s':>9}{'build s':>9}{'build+solve s':>15}{'cpu s':>8}{'rows':>8}{'columns':>9}")
    for r in rows:
        print(f"{r['case']:<22}{r['buyers']:>7}{r['load_s']:>9.2f}{r['build_s']:>9.2f}{r['build_and_solve_s']:>15.2f}"
              f"{r['build_and_solve_cpu_s']:>8.2f}{r['rows']:>8}{r['columns']:>9}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(rows, f, indent=2)
    return 0
