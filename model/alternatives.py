"""Near-optimal alternatives (modelling to generate alternatives, MGA).

``python run.py alternatives --target 250GW --slack 5%`` finds plans whose
discounted cost is within the slack of the least cost and whose vendor and
host mix differ as much as possible, so a planner sees the room to choose.

Method: solve for the least cost C*; add the budget row

    total_cost  <=  (1 + slack) * C*

then, for every chip vendor and every host, minimise and maximise its
capacity in service in the target year within that budget (one persistent
HiGHS instance, only the objective changes). From these candidate plans the
``count`` most different are kept, greedily, starting from the least-cost
plan: each next plan is the candidate farthest (L1 distance of the vendor
and host capacities in the target year) from those already kept.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd
from pyomo.environ import Constraint, Objective, maximize, minimize, value

from model import charts
from model.build import build_model
from model.checks import CheckResult, check_plan, merge
from model.scenario import DEFAULT_INPUTS, Scenario, TargetSpec, load_scenario
from model.solve import make_solver, solve_model as _solve


@dataclass
class Alternative:
    """One plan: its name, discounted cost and mix in the target year."""

    name: str
    cost_bnusd: float
    by_vendor_gw: dict[str, float]
    by_host_gw: dict[str, float]
    build_gw: dict[tuple[str, int], float] = field(repr=False, default_factory=dict)

    def vector(self, vendors: Sequence[str], hosts: Sequence[str]) -> np.ndarray:
        return np.array([self.by_vendor_gw.get(v, 0.0) for v in vendors] + [self.by_host_gw.get(h, 0.0) for h in hosts])


@dataclass
class AlternativesResult:
    status: str
    message: str
    slack: float
    least_cost_bnusd: float | None
    alternatives: list[Alternative]
    candidates: int
    timings: dict[str, float]
    check: CheckResult | None = None    # the post-solve check of every plan solved (model.checks)


def _mix(m, s: Scenario, year: int) -> tuple[dict[str, float], dict[str, float]]:
    ins = m.in_service_gw.extract_values()
    by_vendor = {v: max(0.0, sum(float(ins[o, year] or 0.0) for o in s.offers_where(vendor=v))) for v in s.vendors}
    by_host = {h: max(0.0, sum(float(ins[o, year] or 0.0) for o in s.offers_where(host=h))) for h in s.hosts}
    return by_vendor, by_host


def _builds(m) -> dict[tuple[str, int], float]:
    return {k: float(v) for k, v in m.build_gw.extract_values().items() if v and v > 1e-9}


def generate_alternatives(s: Scenario, slack: float = 0.05, count: int = 6,
                          time_limit: float | None = None) -> AlternativesResult:
    """Plans within ``slack`` of the least cost whose vendor and host mix differ most.

    Parameters
    ----------
    s : Scenario
        Validated inputs with a reachable target.
    slack : float
        Allowed cost increase over the least cost (0.05 = 5 %).
    count : int
        How many plans to return, the least-cost plan included.
    """
    t0 = time.perf_counter()
    year = min(t.year for t in s.targets if t.main)
    m = build_model(s)
    opt = make_solver(time_limit)
    status, _ = _solve(opt, m)
    if status != "optimal":
        return AlternativesResult(status, "the least-cost plan could not be found (is the target reachable? "
                                  "run 'run.py --target ...' for the diagnosis)", slack, None, [], 0,
                                  {"total_s": time.perf_counter() - t0})
    checks: list[tuple[str, CheckResult]] = [("plan 'least cost'", check_plan(m, s))]
    if not checks[-1][1].passed:
        return _refused(checks, slack, t0)
    least = value(m.total_cost)
    base = Alternative("least cost", least, *_mix(m, s, year), build_gw=_builds(m))
    cost_expr = m.total_cost.expr
    m.cost_budget = Constraint(expr=cost_expr <= (1.0 + slack) * least)
    m.total_cost.deactivate()
    candidates: list[Alternative] = []
    for dimension, members, attr in (("vendor", s.vendors, "vendor"), ("host", s.hosts, "host")):
        for key, label in members.items():
            offers = s.offers_where(**{attr: key})
            if not offers:
                continue
            expr = sum(m.in_service_gw[o, year] for o in offers)
            for sense, word in ((maximize, "most"), (minimize, "least")):
                if hasattr(m, "mga_objective"):
                    m.del_component(m.mga_objective)
                m.mga_objective = Objective(expr=expr, sense=sense)
                st, _ = _solve(opt, m)
                if st != "optimal":
                    continue
                name = f"{word} {label} ({dimension})"
                checks.append((f"plan '{name}'", check_plan(m, s)))   # the budget row is checked with the rest
                if not checks[-1][1].passed:
                    return _refused(checks, slack, t0)
                candidates.append(Alternative(name, value(cost_expr), *_mix(m, s, year), build_gw=_builds(m)))
    vendors, hosts = list(s.vendors), list(s.hosts)
    kept = [base]
    pool = list(candidates)
    while len(kept) < count and pool:
        dist = [min(np.abs(c.vector(vendors, hosts) - k.vector(vendors, hosts)).sum() for k in kept) for c in pool]
        best = int(np.argmax(dist))
        if dist[best] < 1e-3:           # everything left repeats a kept plan
            break
        kept.append(pool.pop(best))
    return AlternativesResult("optimal", f"{len(kept)} plans within {slack:.1%} of the least cost", slack, least,
                              kept, len(candidates), {"total_s": time.perf_counter() - t0}, merge(checks))


def _refused(checks: list[tuple[str, CheckResult]], slack: float, t0: float) -> AlternativesResult:
    """A plan HiGHS returned breaks a limit when recomputed: refuse the whole run as a solver error."""
    merged = merge(checks)
    return AlternativesResult("solver_error", merged.message(), slack, None, [], len(checks) - 1,
                              {"total_s": time.perf_counter() - t0}, merged)


def summary(s: Scenario, r: AlternativesResult) -> dict:
    year = min(t.year for t in s.targets if t.main)
    out = {"status": r.status, "message": r.message, "scenario": s.name,
           "slack": {"value": r.slack, "unit": "dimensionless"}, "target_year": year,
           "candidates_solved": r.candidates}
    if r.least_cost_bnusd is not None:
        out["least_cost"] = {"value": r.least_cost_bnusd * 1e9, "unit": "USD"}
    out["alternatives"] = [{
        "name": a.name,
        "total_cost": {"value": a.cost_bnusd * 1e9, "unit": "USD"},
        "cost_increase": {"value": a.cost_bnusd / r.least_cost_bnusd - 1.0, "unit": "dimensionless"},
        "capacity_by_vendor": {k: {"value": v, "unit": "GW"} for k, v in a.by_vendor_gw.items()},
        "capacity_by_host": {k: {"value": v, "unit": "GW"} for k, v in a.by_host_gw.items()},
    } for a in r.alternatives]
    return out


def tables(s: Scenario, r: AlternativesResult) -> dict[str, pd.DataFrame]:
    rows = []
    for a in r.alternatives:
        for dim, mix in (("vendor", a.by_vendor_gw), ("host", a.by_host_gw)):
            rows += [{"alternative": a.name, "dimension": dim, "key": k, "value": v, "unit": "GW"} for k, v in mix.items()]
    costs = pd.DataFrame([{"alternative": a.name, "total_cost": a.cost_bnusd * 1e9, "unit": "USD",
                           "cost_increase_pct": 100 * (a.cost_bnusd / r.least_cost_bnusd - 1.0)} for a in r.alternatives])
    builds = pd.DataFrame([{"alternative": a.name, "offer": o, "year": y, "value": v, "unit": "GW"}
                           for a in r.alternatives for (o, y), v in sorted(a.build_gw.items())])
    return {"mix": pd.DataFrame(rows), "costs": costs, "builds": builds}


def plot(s: Scenario, r: AlternativesResult, out: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from model.colours import colour as colour_of

    names = [a.name for a in r.alternatives]
    fig, axes = plt.subplots(1, 2, figsize=(13, 0.55 * len(names) + 2), sharey=True)
    for ax, (dim, members) in zip(axes, (("vendor", s.vendors), ("host", s.hosts))):
        left = np.zeros(len(names))
        cmap = plt.get_cmap("tab10")
        for i, (key, label) in enumerate(members.items()):
            vals = np.array([(a.by_vendor_gw if dim == "vendor" else a.by_host_gw).get(key, 0.0) for a in r.alternatives])
            if not vals.any():
                continue
            colour = colour_of("vendor", str(key)) if dim == "vendor" else cmap(i % 10)
            ax.barh(range(len(names)), vals, left=left, label=label, color=colour)
            left += vals
        ax.set_title(f"capacity in service by {dim}, {min(t.year for t in s.targets if t.main)} (GW)")
        ax.legend(fontsize=7, frameon=False, loc="lower right")
        ax.grid(alpha=0.3, axis="x")
    axes[0].set_yticks(range(len(names)),
                       [f"{a.name}  (+{100 * (a.cost_bnusd / r.least_cost_bnusd - 1):.1f}%)" for a in r.alternatives],
                       fontsize=8)
    axes[0].invert_yaxis()
    fig.suptitle(f"Plans within {r.slack:.0%} of the least cost")
    fig.tight_layout()
    path = out / "alternatives.png"
    charts.save(fig, path)
    return path


def write(root: Path, name: str, s: Scenario, r: AlternativesResult, argv: list[str], plots: bool = True) -> Path:
    """Write the alternatives as one result set (atomic, never overwriting)."""
    from model import pages
    from model.results import new_result_dir, package_versions

    with new_result_dir(root, name) as tmp:
        summ = summary(s, r)
        (tmp / "summary.json").write_text(json.dumps(summ, indent=2) + "\n")
        (tmp / "tables").mkdir()
        for tname, df in tables(s, r).items():
            df.to_csv(tmp / "tables" / f"{tname}.csv", index=False)
        manifest = {"tool": "compute-energy-plan", "command": "alternatives", "command_line": argv,
                    "scenario": s.name, "overrides": [o.__dict__ for o in s.overrides], "inputs_sha256": s.input_files,
                    "slack": r.slack, "status": r.status, "timings_s": r.timings, "versions": package_versions(),
                    "solver": {"check": r.check.as_json() if r.check is not None else None}}
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str) + "\n")
        if plots and r.alternatives:
            (tmp / "plots").mkdir()
            plot(s, r, tmp / "plots")
        pages.write("alternatives", tmp, "report.html")
    return root / name


def main(argv: Sequence[str]) -> int:
    from model.cli_common import ArgumentParser, add_input_options as _common, fail as _fail
    from model.exitcodes import EXIT_INPUT, EXIT_OK, EXIT_SOLVER, EXIT_TARGET
    from model.errors import InputError, InputErrors, ResultSetError
    from model.units import UnitParseError, parse_quantity

    p = ArgumentParser(prog="run.py alternatives",
                                description="Plans within a cost slack of the least cost whose vendor and host mix "
                                            "differ most (modelling to generate alternatives).")
    p.add_argument("--target", help="power (250GW) or compute (500 EFLOP/s) target")
    p.add_argument("--year", type=int)
    p.add_argument("--target-basis", choices=("it", "facility"), default="it")
    p.add_argument("--slack", default="5%", help="allowed cost increase over the least cost (default 5%%)")
    p.add_argument("--count", type=int, default=6, help="plans to return, the least-cost one included (default 6)")
    p.add_argument("--name")
    p.add_argument("--results", type=Path, default=Path("results"))
    p.add_argument("--no-plots", action="store_true")
    p.add_argument("--time-limit", type=float, default=None)
    _common(p)
    a = p.parse_args(list(argv))
    try:
        q = parse_quantity(a.slack)
        if not q.dimensionless or not 0 <= q.to("").magnitude <= 1:
            raise UnitParseError(a.slack, "", "")
        slack = float(q.to("").magnitude)
    except UnitParseError:
        return _fail(f"command line, --slack: expected a share between 0 and 100% (e.g. 5%), found {a.slack!r}",
                     EXIT_INPUT)
    if a.count < 1:
        return _fail(f"command line, --count: expected a positive whole number, found {a.count}", EXIT_INPUT)
    try:
        s = load_scenario(a.inputs or DEFAULT_INPUTS, a.scenario, a.sets, TargetSpec(a.target, a.year, a.target_basis))
    except (InputErrors, InputError) as exc:
        return _fail(str(exc), EXIT_INPUT)
    from model.results import default_name, ensure_free

    name = a.name or "alternatives_" + default_name(s)
    try:
        ensure_free(a.results, name)
    except ResultSetError as exc:
        return _fail(str(exc), EXIT_INPUT)
    print(f"Finding plans within {slack:.1%} of the least cost ...", file=sys.stderr, flush=True)
    r = generate_alternatives(s, slack, a.count, a.time_limit)
    if r.status != "optimal":
        return _fail(r.message, EXIT_TARGET if r.status in ("infeasible", "infeasible_or_unbounded") else EXIT_SOLVER)
    try:
        path = write(a.results, name, s, r, ["run.py", "alternatives", *argv], plots=not a.no_plots)
    except ResultSetError as exc:
        return _fail(str(exc), EXIT_INPUT)
    vendors, hosts = list(s.vendors), list(s.hosts)
    frame = pd.DataFrame({alt.name: {**{s.vendors[v]: alt.by_vendor_gw.get(v, 0.0) for v in vendors},
                                     **{s.hosts[h] + " (host)": alt.by_host_gw.get(h, 0.0) for h in hosts}}
                          for alt in r.alternatives})
    with pd.option_context("display.width", 220, "display.max_columns", 20):
        print(frame.round(1).to_string())
    for alt in r.alternatives:
        print(f"  {alt.name}: {alt.cost_bnusd / 1e3:.3f} trillion USD (+{100 * (alt.cost_bnusd / r.least_cost_bnusd - 1):.2f}%)")
    print(f"\nResult set: {path}")
    return EXIT_OK
