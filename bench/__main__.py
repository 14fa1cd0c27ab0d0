"""Benchmarks, one command each, printing a table.

    python -m bench                 # = python -m bench model
    python -m bench model [--scales 1 10 100] [--json FILE]
    python -m bench sweep [--cases 50] [--json FILE]
    python -m bench stochastic [--futures 10 100 1000] [--ranks 1 2] [--json FILE]
    python -m bench foresight [--scales 1 10] [--look-ahead 1 2 4] [--json FILE]   # see bench/foresight.py
    python -m bench serve [--changes 42] [--json FILE]  # the what-if page; see bench/serve.py
    python -m bench sweep [--cases 50] [--json FILE]   # see bench/sweep.py
    python -m bench world [--json FILE]                # the world LP against the single-buyer LP

``model`` times load, build, solve, write and total wall time for the base
scenario and for synthetic scenarios k times larger (offers and regions
replicated k times), plus HiGHS's own solve time on the same LP (the floor:
no modelling layer) and the peak memory of each case. Each case runs in a
fresh process so its peak memory is its own.
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path


def scaled(s, k: int):
    """A scenario with every offer and region replicated ``k`` times (copies share vendors and deals).

    Each copy of an offer gets 1/k of its build and cumulative caps, its
    region 1/k of the grid power and 1/k of the opening stock, so the plan is
    the same in total while the LP grows k-fold.
    """
    if k == 1:
        return s
    from model.scenario import Offer

    def ro(o, i):
        return o if i == 0 else f"{o}#{i}"

    def rr(r, i):
        return r if i == 0 else f"{r}#{i}"

    offers = {ro(o, i): replace(info, name=ro(o, i), region=rr(info.region, i))
              for i in range(k) for o, info in s.offers.items()}
    regions = {rr(r, i): n for i in range(k) for r, n in s.regions.items()}
    per_offer = lambda d: {(ro(o, i), y): v for i in range(k) for (o, y), v in d.items()}  # noqa: E731
    per_region = lambda d: {(rr(r, i), y): v for i in range(k) for (r, y), v in d.items()}  # noqa: E731
    return replace(
        s, name=f"{s.name}x{k}", offers=offers, regions=regions,
        lifetime_yr={ro(o, i): v for i in range(k) for o, v in s.lifetime_yr.items()},
        build_cap_gw={(ro(o, i), y): v / k for i in range(k) for (o, y), v in s.build_cap_gw.items()},
        cumulative_cap_gw={ro(o, i): v / k for i in range(k) for o, v in s.cumulative_cap_gw.items()},
        ramp_gw={ro(o, i): v / k for i in range(k) for o, v in s.ramp_gw.items()},
        capex_bnusd_per_gw=per_offer(s.capex_bnusd_per_gw), lease_bnusd_per_gw_yr=per_offer(s.lease_bnusd_per_gw_yr),
        fixed_bnusd_per_gw_yr=per_offer(s.fixed_bnusd_per_gw_yr),
        grid_power_gw={(rr(r, i), y): v / k for i in range(k) for (r, y), v in s.grid_power_gw.items()},
        opening_gw={(ro(o, i), v): g / k for i in range(k) for (o, v), g in s.opening_gw.items()},
        pue=per_region(s.pue), electricity_price_bnusd_per_twh=per_region(s.electricity_price_bnusd_per_twh),
        deals=tuple(replace(d, offers=tuple(ro(o, i) for i in range(k) for o in d.offers)) for d in s.deals),
        commitments=tuple(replace(c, offers=tuple(ro(o, i) for i in range(k) for o in c.offers))
                          for c in s.commitments),
        grid_emissions_t_per_mwh=per_region(s.grid_emissions_t_per_mwh),
        **_scaled_power(s, k, ro, rr),
        portfolio=tuple(replace(r, offers=tuple(ro(o, i) for i in range(k) for o in r.offers)) for r in s.portfolio),
    )


def _scaled_power(s, k: int, ro, rr) -> dict:
    """Power sources replicated with their regions; each copy gets 1/k of the build and cumulative caps."""
    def rp(p, i):
        return p if i == 0 else f"{p}#{i}"

    copies = range(k)
    return {
        "power_sources": {rp(p, i): replace(src, name=rp(p, i), region=rr(src.region, i))
                          for i in copies for p, src in s.power_sources.items()},
        "power_lead_time_yr": {rp(p, i): v for i in copies for p, v in s.power_lead_time_yr.items()},
        "power_lifetime_yr": {rp(p, i): v for i in copies for p, v in s.power_lifetime_yr.items()},
        "power_build_cap_gw": {(rp(p, i), y): v / k for i in copies for (p, y), v in s.power_build_cap_gw.items()},
        "power_cumulative_cap_gw": {rp(p, i): v / k for i in copies for p, v in s.power_cumulative_cap_gw.items()},
        "capacity_credit": {rp(p, i): v for i in copies for p, v in s.capacity_credit.items()},
        "capacity_factor": {rp(p, i): v for i in copies for p, v in s.capacity_factor.items()},
        **{name: {(rp(p, i), y): v for i in copies for (p, y), v in getattr(s, name).items()}
           for name in ("power_capex_bnusd_per_gw", "power_fixed_bnusd_per_gw_yr",
                        "source_energy_price_bnusd_per_twh", "source_emissions_t_per_mwh")},
    }


#: A target the sourced base can meet (250 GW is out of its reach: a plan that misses solves twice more).
BENCH_TARGET = "80GW"


def one_case(k: int) -> dict:
    """Time every stage of one run at scale ``k`` (in this process)."""
    from model.build import build_model
    from model.fastsolve.appsi import highs_of
    from model.results import write_result_set
    from model.scenario import TargetSpec, load_scenario
    from model.solution import to_dataset
    from model.solve import Outcome, explain_duals, make_solver
    from pyomo.environ import value

    t_all = time.perf_counter()
    t0 = time.perf_counter()
    s = scaled(load_scenario(target=TargetSpec(BENCH_TARGET)), k)
    load_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    m = build_model(s)
    build_s = time.perf_counter() - t0
    opt = make_solver()
    t0 = time.perf_counter()
    res = opt.solve(m)
    res.solution_loader.load_vars()
    solve_s = time.perf_counter() - t0
    duals = opt.get_duals()
    h = highs_of(opt)                                       # the highspy instance the model was passed to
    rows, cols = h.getNumRow(), h.getNumCol()
    h.clearSolver()
    t0 = time.perf_counter()
    h.run()
    highs_s = time.perf_counter() - t0
    outcome = Outcome(str(res.termination_condition).split(".")[-1], "", m, value(m.total_cost),
                      binding=explain_duals(s, duals, "bnUSD"))
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        write_result_set(Path(tmp), "bench", s, outcome, to_dataset(s, outcome), ["bench"], {}, plots=True)
    write_s = time.perf_counter() - t0
    return {"scale": k, "offers": len(s.offers), "rows": rows, "cols": cols, "status": outcome.status,
            "load_s": load_s, "build_s": build_s, "solve_s": solve_s, "highs_floor_s": highs_s,
            "write_s": write_s, "total_s": time.perf_counter() - t_all,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def cmd_model(args) -> int:
    results = []
    for k in args.scales:
        proc = subprocess.run([sys.executable, "-m", "bench", "_one", str(k)], capture_output=True, text=True)
        if proc.returncode != 0:
            print(proc.stderr, file=sys.stderr)
            return 1
        results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        print(f"  scale {k}: done in {results[-1]['total_s']:.1f} s", file=sys.stderr, flush=True)
    cols = ["scale", "offers", "rows", "cols", "status", "load_s", "build_s", "solve_s", "highs_floor_s",
            "write_s", "total_s", "peak_rss_mb"]
    print(" ".join(f"{c:>13s}" for c in cols))
    for r in results:
        print(" ".join(f"{r[c]:>13.3f}" if isinstance(r[c], float) else f"{str(r[c]):>13s}" for c in cols))
    if args.json:
        Path(args.json).write_text(json.dumps({"model": results}, indent=2))
    return 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench")
    sub = p.add_subparsers(dest="command")
    pm = sub.add_parser("model", help="load/build/solve/write at 1x, 10x, 100x")
    pm.add_argument("--scales", type=int, nargs="+", default=[1, 10, 100])
    pm.add_argument("--json", help="also write the figures to this file")
    one = sub.add_parser("_one")
    one.add_argument("k", type=int)
    ps = sub.add_parser("sweep", help="one sweep case on each path: rebuild, persistent, HiGHS floor; Dask speedup")
    ps.add_argument("--cases", type=int, default=50, help="cases timed on each path (default 50)")
    ps.add_argument("--dask-cases", type=int, default=200, help="cases for the Dask speedup (default 200)")
    ps.add_argument("--no-dask", action="store_true", help="skip the Dask speedup")
    ps.add_argument("--json", help="also write the figures to this file")
    sub.add_parser("stochastic", help="extensive form against the decomposition at 10, 100, 1000 futures (bench/stochastic.py)",
                   add_help=False)
    sub.add_parser("foresight", help="myopic against perfect foresight at 1x and 10x (see bench/foresight.py)",
                   add_help=False)
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "serve":
        from bench.serve import main as serve_main

        return serve_main(argv[1:])
    if argv and argv[0] == "stochastic":
        from bench.stochastic import main as stochastic_main

        return stochastic_main(argv[1:])
    if argv and argv[0] == "world":
        from bench.world import main as world_main

        return world_main(argv[1:])
    if argv and argv[0] == "foresight":
        from bench.foresight import main as foresight_main

        return foresight_main(argv[1:])
    if not argv or argv[0] not in ("model", "_one", "sweep", "-h", "--help"):
        argv = ["model", *argv]
    args = p.parse_args(argv)
    if args.command == "_one":
        print(json.dumps(one_case(args.k)))
        return 0
    if args.command == "sweep":
        from bench.sweep import main as sweep_main

        return sweep_main(args)
    return cmd_model(args)


if __name__ == "__main__":
    sys.exit(main())
