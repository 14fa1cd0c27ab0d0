"""Many futures on several processes: an L-shaped (Benders) decomposition on HiGHS, one LP per future.

Why not the extensive form or PH for 1,000 futures: the extensive form of
1,000 base futures (1.1 million rows) did not finish in 900 s, and PH
re-solves every future's LP through Pyomo hundreds of times. Here each
future's LP is built once (Pyomo -> HiGHS arrays) inside a worker process
and then only re-solved warm, with its first stage moved by row bounds.

The problem (risk-neutral)::

    min_x  sum_f p_f Q_f(x)        Q_f(x) = min { future_cost_f(x, y_f) : future f's rows }

x: the first-stage builds and power builds (the union over the futures, as
in model/ph.py; a future that lacks one is not affected by it).

Subproblem (elastic, so it is feasible for any x)::

    Q'_f(x) = min future_cost_f + M * sum_k (d+_k + d-_k)
              s.t. first_k - d+_k + d-_k = x_k   (k the first-stage keys future f has; dual pi_fk)

with M = ``ELASTIC_BNUSD_PER_GW`` (far above any marginal value of a GW, so
Q'_f = Q_f wherever Q_f is finite: an exact penalty). Q'_f is convex in x
and pi_f is a subgradient, so every solve gives a cut

    theta_f >= Q'_f(x^) + pi_f . (x - x^)

Master: min sum_f p_f theta_f over x in [0, upper] and theta_f >= WS_f (each
future alone, a valid bound), with every cut so far (multi-cut). Lower bound
= the master's optimum; upper bound = sum_f p_f Q'_f(x^) at the best x^
without elastic slack. Stop when (upper - lower) / |upper| <= ``gap``
("converged, gap X") or at ``iterations`` / ``time_limit`` ("stopped at the
iteration limit, gap X"). The futures are split over ``processes`` worker
processes (multiprocessing, fork); each solve is independent.
"""
from __future__ import annotations

import math
import multiprocessing as mp
import time
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

#: Penalty per GW of elastic slack between a future's first stage and the master's (billion USD per GW).
ELASTIC_BNUSD_PER_GW = 1e5


@dataclass
class DecompositionResult:
    status: str                      # "converged" or "iteration_limit"
    message: str
    expected_cost_bnusd: float | None
    lower_bound_bnusd: float
    gap: float | None
    iterations: int
    first_stage: dict[tuple, float]
    cost_by_future: dict[str, float]
    timings: dict[str, float] = field(default_factory=dict)
    processes: int = 1


# ----------------------------------------------------------------------------
# Worker side: one HiGHS LP per future, built once
# ----------------------------------------------------------------------------
_STATE: dict[str, Any] = {}


def _build(spec: Any, index: int, keys: list[tuple]) -> dict[str, Any]:
    """Future ``index``'s LP in HiGHS with its elastic linking rows; returns its solver state."""
    import highspy
    from pyomo.contrib.appsi.solvers.highs import Highs
    from pyomo.environ import ConcreteModel, Objective

    from model.stochastic import add_future, first_stage_keys

    f = spec.futures[index]
    m = ConcreteModel()
    add_future(m, f.scenario, spec.penalty_bnusd)
    m.objective = Objective(expr=m.future_cost)
    opt = Highs()
    opt.highs_options = {"output_flag": False, "log_to_console": False}
    opt.set_instance(m)
    from model.fastsolve.appsi import columns_of, highs_of

    lp = highs_of(opt).getLp()
    colmap = columns_of(opt)
    own_b, own_p = (set(k) for k in first_stage_keys(f.scenario, spec.first_stage_last_year))
    cols, where = [], []
    for j, k in enumerate(keys):
        if k[0] == "build" and (k[1], k[2]) in own_b:
            cols.append(colmap[id(m.build_gw[k[1], k[2]])])
            where.append(j)
        elif k[0] == "power" and (k[1], k[2]) in own_p:
            cols.append(colmap[id(m.power_build_gw[k[1], k[2]])])
            where.append(j)
    offset = float(lp.offset_)
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.passModel(lp)
    n = h.getNumCol()
    inf = highspy.kHighsInf
    r = len(cols)
    # elastic columns d+ (n .. n+r-1) and d- (n+r .. n+2r-1)
    h.addCols(2 * r, np.full(2 * r, ELASTIC_BNUSD_PER_GW), np.zeros(2 * r), np.full(2 * r, inf), 0,
              np.array([], dtype=np.int32), np.array([], dtype=np.int32), np.array([], dtype=np.float64))
    first_row = h.getNumRow()
    for i, c in enumerate(cols):
        h.addRow(-inf, inf, 3, np.array([c, n + i, n + r + i], dtype=np.int32), np.array([1.0, -1.0, 1.0]))
    return {"h": h, "where": np.array(where, dtype=np.int64), "rows": np.arange(first_row, first_row + r,
                                                                                  dtype=np.int32),
            "elastic": np.arange(n, n + 2 * r), "offset": offset, "name": f.name, "cols": np.array(cols)}


def _init(spec: Any, indices: Sequence[int], keys: list[tuple]) -> None:
    _STATE["subs"] = [_build(spec, i, keys) for i in indices]


def _init_chunk(args: tuple) -> int:
    spec, indices, keys = args
    _init(spec, indices, keys)
    return len(_STATE["subs"])


def _solve_all(x: np.ndarray | None) -> list[tuple[str, str, float, np.ndarray, float, np.ndarray]]:
    """Solve every future this worker holds with the first stage at ``x`` (None: free).

    Returns (name, status, objective incl. elastic penalty, duals of the linking rows, elastic slack in GW,
    first-stage values)."""
    import highspy

    out = []
    inf = highspy.kHighsInf
    for sub in _STATE["subs"]:
        h, rows, where = sub["h"], sub["rows"], sub["where"]
        if len(rows):
            if x is None:
                h.changeRowsBounds(len(rows), rows, np.full(len(rows), -inf), np.full(len(rows), inf))
            else:
                v = x[where]
                h.changeRowsBounds(len(rows), rows, v, v)
        h.run()
        status = h.modelStatusToString(h.getModelStatus())
        if status != "Optimal":
            out.append((sub["name"], status, math.nan, np.zeros(len(where)), math.nan, np.zeros(len(where))))
            continue
        sol = h.getSolution()
        duals = np.asarray(sol.row_dual)[rows] if len(rows) else np.zeros(0)
        col = np.asarray(sol.col_value)
        slack = float(col[sub["elastic"]].sum()) if len(rows) else 0.0
        obj = float(h.getInfo().objective_function_value)
        out.append((sub["name"], "optimal", obj, duals, slack, col[sub["cols"]] if len(rows) else np.zeros(0)))
    return out


def _where_all() -> list[tuple[str, np.ndarray]]:
    return [(s["name"], s["where"]) for s in _STATE["subs"]]


# ----------------------------------------------------------------------------
# Master side
# ----------------------------------------------------------------------------
def union_key_list(spec: Any) -> list[tuple]:
    from model.ph import union_keys

    b, p = union_keys(spec)
    return [("build",) + k for k in b] + [("power",) + k for k in p]


class _Pool:
    """The futures split over ``processes`` workers (or held in this process when 1)."""

    def __init__(self, spec: Any, keys: list[tuple], processes: int) -> None:
        n = len(spec.futures)
        self.processes = max(1, min(processes, n))
        chunks = [list(range(n))[i::self.processes] for i in range(self.processes)]
        if self.processes == 1:
            _init(spec, chunks[0], keys)
            self.pool = None
        else:
            ctx = mp.get_context("fork")
            self.pool = [ctx.Pool(1) for _ in range(self.processes)]
            handles = [p.apply_async(_init_chunk, ((spec, c, keys),)) for p, c in zip(self.pool, chunks)]
            [h.get() for h in handles]

    def call(self, fn: Any, *args: Any) -> list:
        if self.pool is None:
            return fn(*args)
        handles = [p.apply_async(fn, args) for p in self.pool]
        return [r for h in handles for r in h.get()]

    def close(self) -> None:
        for p in self.pool or []:
            p.terminate()


def decompose(spec: Any, processes: int = 1, iterations: int = 100, gap: float = 1e-4,
              time_limit: float | None = None, log: Any = None) -> DecompositionResult:
    """Solve the risk-neutral two-stage problem by multi-cut Benders over ``processes`` workers."""
    import highspy

    t0 = time.perf_counter()
    keys = union_key_list(spec)
    prob = {f.name: f.probability for f in spec.futures}
    pool = _Pool(spec, keys, processes)
    try:
        build_s = time.perf_counter() - t0
        where = dict(pool.call(_where_all))
        names = [f.name for f in spec.futures]
        # iteration 0: every future alone (wait-and-see): valid lower bounds theta_f >= WS_f
        free = {r[0]: r for r in pool.call(_solve_all, None)}
        bad = [n for n, r in free.items() if r[1] != "optimal"]
        if bad:
            raise RuntimeError(f"future {bad[0]!r} has no plan even with the target softened ({free[bad[0]][1]})")
        ws = {n: free[n][2] for n in names}
        # start from the probability-weighted mean of the futures' own first stages
        x = np.zeros(len(keys))
        weight = np.zeros(len(keys))
        for n in names:
            x[where[n]] += prob[n] * free[n][5]
            weight[where[n]] += prob[n]
        x = np.where(weight > 0, x / np.maximum(weight, 1e-300), 0.0)
        # master: columns x (len K), theta (one per future)
        K, F = len(keys), len(names)
        idx = {n: i for i, n in enumerate(names)}
        inf = highspy.kHighsInf
        mst = highspy.Highs()
        mst.setOptionValue("output_flag", False)
        mst.addCols(K, np.zeros(K), np.zeros(K), np.full(K, 1e3), 0, np.array([], dtype=np.int32),
                    np.array([], dtype=np.int32), np.array([], dtype=np.float64))
        mst.addCols(F, np.array([prob[n] for n in names]), np.array([ws[n] for n in names]), np.full(F, inf), 0,
                    np.array([], dtype=np.int32), np.array([], dtype=np.int32), np.array([], dtype=np.float64))
        best_upper, best_x, best_costs = math.inf, x.copy(), {}
        lower = sum(prob[n] * ws[n] for n in names)
        it = 0
        status = "iteration_limit"
        while it < iterations:
            it += 1
            res = pool.call(_solve_all, x)
            costs, slack_total, cuts = {}, 0.0, 0
            for name, st, obj, duals, slack, _ in res:
                if st != "optimal":
                    raise RuntimeError(f"future {name!r} with the first stage fixed: {st}")
                costs[name] = obj
                slack_total += slack
                # cut: theta_f - pi . x >= obj - pi . x^
                w = where[name]
                ind = np.concatenate([w, [K + idx[name]]]).astype(np.int32)
                val = np.concatenate([-duals, [1.0]])
                mst.addRow(obj - float(duals @ x[w]), inf, len(ind), ind, val)
                cuts += 1
            upper = sum(prob[n] * costs[n] for n in names)
            if slack_total <= 1e-7 and upper < best_upper:
                best_upper, best_x, best_costs = upper, x.copy(), costs
            mst.run()
            if mst.modelStatusToString(mst.getModelStatus()) != "Optimal":
                raise RuntimeError("the decomposition's master problem has no solution")
            lower = max(lower, float(mst.getInfo().objective_function_value))
            x = np.asarray(mst.getSolution().col_value)[:K].copy()
            rel = max(0.0, best_upper - lower) / max(1.0, abs(best_upper)) if math.isfinite(best_upper) else math.inf
            if log:
                log(f"  iteration {it}: lower {lower:.6g}, upper {best_upper:.6g} billion USD, gap {rel:.3g}")
            if rel <= gap:
                status = "converged"
                break
            if time_limit is not None and time.perf_counter() - t0 > time_limit:
                break
        rel = max(0.0, best_upper - lower) / max(1.0, abs(best_upper)) if math.isfinite(best_upper) else None
        gap_text = "unknown (no first stage without slack yet)" if rel is None else f"{rel:.3%}"
        message = (f"the decomposition converged in {it} iterations, gap {gap_text} between the plan's expected "
                   f"cost and the lower bound" if status == "converged" else
                   f"the decomposition stopped at the iteration limit ({it} iterations), gap {gap_text} between "
                   f"the plan's expected cost and the lower bound: not proven optimal")
        return DecompositionResult(status, message, best_upper if math.isfinite(best_upper) else None, lower, rel, it,
                                   {k: float(v) for k, v in zip(keys, best_x)}, best_costs,
                                   {"build_s": build_s, "total_s": time.perf_counter() - t0}, pool.processes)
    finally:
        pool.close()


# ----------------------------------------------------------------------------
# run.py stochastic --method decompose
# ----------------------------------------------------------------------------
def plan_interval(costs: dict[str, float], prob: dict[str, float], level: float = 0.95) -> dict[str, Any] | None:
    """A confidence interval for the plan's expected cost from its cost in each equiprobable sampled future.

    mean +- t_{(1+level)/2, N-1} * sd / sqrt(N); in-sample (the plan was fitted to these futures, so
    the interval sits low); None for fewer than 2 futures or unequal probabilities.
    """
    from scipy import stats

    n = len(costs)
    if n < 2 or max(prob.values()) - min(prob.values()) > 1e-12:
        return None
    v = np.array(list(costs.values()))
    half = float(stats.t.ppf(0.5 + level / 2, n - 1)) * float(v.std(ddof=1)) / math.sqrt(n)
    return {"mean": float(v.mean()), "low": float(v.mean()) - half, "high": float(v.mean()) + half,
            "half_width": half, "level": level, "futures": n}


def summary(spec: Any, r: DecompositionResult, sampled: dict | None = None) -> dict[str, Any]:
    """summary.json of a decomposed stochastic set (units on every figure)."""
    usd = lambda b: None if b is None or not math.isfinite(b) else {"value": b * 1e9, "unit": "USD"}   # noqa: E731
    prob = {f.name: f.probability for f in spec.futures}
    out: dict[str, Any] = {
        "status": r.status, "message": r.message, "method": "decomposition (multi-cut L-shaped on HiGHS)",
        "processes": r.processes, "futures_file": spec.source_file,
        "first_stage_last_year": spec.first_stage_last_year,
        "penalty": ({"value": spec.penalty_bnusd * 1e9, "unit": "USD/GW"} if spec.penalty_unit == "GW"
                    else {"value": spec.penalty_bnusd * 1e9 / 1e18, "unit": "USD/(FLOP/s)"}),
        "risk": {"measure": "expected cost", "alpha": None, "weight": 0.0},
        "expected_cost": usd(r.expected_cost_bnusd), "lower_bound": usd(r.lower_bound_bnusd),
        "gap": {"value": r.gap, "unit": "dimensionless"} if r.gap is not None else None,
        "iterations": r.iterations,
        "cost_by_future": {n: {**usd(c), "probability": prob[n]} for n, c in r.cost_by_future.items()},
        "first_stage": [{"decision": k[0], "key": k[1], "year": k[2], "value": v, "unit": "GW"}
                        for k, v in r.first_stage.items() if abs(v) > 1e-9],
        "timings_s": r.timings,
    }
    if sampled:
        out["sampled"] = sampled
        ci = plan_interval(r.cost_by_future, prob)
        if ci:
            out["confidence_interval"] = {
                "method": "the plan's cost over the sampled futures, mean +- t sd / sqrt(N) (in-sample: optimistic)",
                "level": ci["level"], "low": usd(ci["low"]), "high": usd(ci["high"]), "mean": usd(ci["mean"]),
                "half_width": usd(ci["half_width"]),
                "relative_half_width": {"value": ci["half_width"] / max(abs(ci["mean"]), 1e-12),
                                        "unit": "dimensionless"}}
    return out


def write_set(root: Any, name: str, summ: dict, argv: list[str], inputs_sha256: dict | None = None) -> Any:
    """The result set of a decomposed run: summary.json, tables/futures.csv, manifest.json, report.html.

    ``inputs_sha256``: every input file the futures read, by display path (so ``run.py verify`` compares them).
    """
    import json
    from pathlib import Path

    import pandas as pd

    from model import pages
    from model.results import new_result_dir, package_versions

    with new_result_dir(Path(root), name) as tmp:
        (tmp / "summary.json").write_text(json.dumps(summ, indent=2) + "\n")
        (tmp / "tables").mkdir()
        pd.DataFrame([{"future": n, "probability": c["probability"], "cost": c["value"], "unit": "USD"}
                      for n, c in summ["cost_by_future"].items()]).to_csv(tmp / "tables" / "futures.csv", index=False)
        (tmp / "manifest.json").write_text(json.dumps({"tool": "compute-energy-plan", "command": "stochastic",
                                                       "command_line": argv, "inputs_sha256": inputs_sha256 or {},
                                                       "cwd": str(Path.cwd()), "versions": package_versions()},
                                                      indent=2) + "\n")
        pages.write("stochastic", tmp, "report.html")
    return Path(root) / name
