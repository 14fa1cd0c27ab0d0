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

Master: min sum_f p_f theta_f over x in the first stage's box and theta_f >= WS_f
(each future alone, a valid bound), with every cut so far (multi-cut). Lower bound
= the master's optimum; upper bound = sum_f p_f Q'_f(x^) at the best x^
without elastic slack (at most max(:data:`SLACK_GW`, :data:`SLACK_GW_PER_FUTURE` x futures)
over all futures, its penalty included in the cost). The next point comes from a level method
(model/decompose_master.py), not from the master's own optimum, which jumped
between corners of the cut model and stalled. Stop when (upper - lower) / |upper| <= ``gap``
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

from model.decompose_master import UNBOUNDED_GW, Master

#: Penalty per GW of elastic slack between a future's first stage and the master's (billion USD per GW).
ELASTIC_BNUSD_PER_GW = 1e5
#: Largest elastic slack (GW, over all futures) of a first stage counted as a plan ...
SLACK_GW = 1e-5
#: ... or, with many futures, this much per future (HiGHS's primal feasibility tolerance, 1e-7): 1,000 sampled
#: futures met the cut model's minimum at a point with 2.4e-5 GW of slack in all (2.4e-8 GW each), which the
#: fixed 1e-5 GW refused as a plan, and the gap stayed at 0.36 % instead of 0.02 %.
SLACK_GW_PER_FUTURE = 1e-7
#: Where the level sits between the lower bound (0) and the best point's cost (1).
LEVEL = 0.5


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
    build_paths: dict[str, int] = field(default_factory=dict)     # futures per build path (template, pyomo)
    build_notes: list[str] = field(default_factory=list)           # why a group of futures was built by Pyomo
    cuts: dict[str, int] = field(default_factory=dict)             # cuts added and dropped, master projections


# ----------------------------------------------------------------------------
# Worker side: one HiGHS LP per future, built once
# ----------------------------------------------------------------------------
_STATE: dict[str, Any] = {}


def _build(spec: Any, index: int, keys: list[tuple], flp: Any) -> dict[str, Any]:
    """Future ``index``'s LP (``flp``, a :class:`model.decompose_template.FutureLP`) in HiGHS with its elastic
    linking rows; returns its solver state."""
    import highspy

    from model.stochastic import first_stage_keys

    f = spec.futures[index]
    lp = flp.lp
    own_b, own_p = (set(k) for k in first_stage_keys(f.scenario, spec.first_stage_last_year))
    own = {("build",) + k for k in own_b} | {("power",) + k for k in own_p}
    cols, where = [], []
    for j, k in enumerate(keys):
        if k in own and k in flp.first_cols:
            cols.append(flp.first_cols[k])
            where.append(j)
    offset = float(lp.offset_)
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.passModel(lp)
    if flp.basis is not None:                   # the template's optimal basis: a warm first solve
        h.setBasis(flp.basis)
    n = h.getNumCol()
    inf = highspy.kHighsInf
    r = len(cols)
    # elastic columns d+ (n .. n+r-1) and d- (n+r .. n+2r-1)
    h.addCols(2 * r, np.full(2 * r, ELASTIC_BNUSD_PER_GW), np.zeros(2 * r), np.full(2 * r, inf), 0,
              np.array([], dtype=np.int32), np.array([], dtype=np.int32), np.array([], dtype=np.float64))
    first_row = h.getNumRow()
    if r:                                       # x_k - d+_k + d-_k (bounds set by solve_subs), one call
        index = np.stack([np.array(cols), n + np.arange(r), n + r + np.arange(r)], axis=1).ravel()
        h.addRows(r, np.full(r, -inf), np.full(r, inf), 3 * r, np.arange(0, 3 * r, 3, dtype=np.int32),
                  index.astype(np.int32), np.tile([1.0, -1.0, 1.0], r))
    ci = np.array(cols, dtype=np.int64)
    return {"h": h, "where": np.array(where, dtype=np.int64), "rows": np.arange(first_row, first_row + r,
                                                                                  dtype=np.int32),
            "elastic": np.arange(n, n + 2 * r), "offset": offset, "name": f.name, "cols": ci, "path": flp.path,
            "lower": np.asarray(lp.col_lower_, dtype=float)[ci] if r else np.zeros(0),
            "upper": np.asarray(lp.col_upper_, dtype=float)[ci] if r else np.zeros(0)}


def build_subs(spec: Any, indices: Sequence[int], keys: list[tuple],
               use_templates: bool = True) -> list[dict[str, Any]]:
    """The LPs of futures ``indices`` (each built once; re-solved warm by :func:`solve_subs`).

    Same-structure futures share one compiled template, proven on a probe future against a fresh
    Pyomo build (model/decompose_template.py); ``use_templates=False`` builds each by Pyomo. The first
    sub-problem carries the notes on groups built by Pyomo (``"notes"``)."""
    from model.decompose_template import future_lps

    indices = list(indices)
    made, notes = future_lps([spec.futures[i].scenario for i in indices], spec.penalty_bnusd, use_templates)
    subs: list[dict[str, Any] | None] = [None] * len(indices)
    for pos, flp in made:
        subs[pos] = _build(spec, indices[pos], keys, flp)
    if subs:
        subs[0]["notes"] = notes
    return subs     # type: ignore[return-value]


def _init(spec: Any, indices: Sequence[int], keys: list[tuple], use_templates: bool = True) -> None:
    _STATE["subs"] = build_subs(spec, indices, keys, use_templates)


def _init_chunk(args: tuple) -> int:
    spec, indices, keys, use_templates = args
    _init(spec, indices, keys, use_templates)
    return len(_STATE["subs"])


def _solve_all(x: np.ndarray | None) -> list[tuple[str, str, float, np.ndarray, float, np.ndarray]]:
    return solve_subs(_STATE["subs"], x)


def solve_subs(subs: list[dict[str, Any]], x: np.ndarray | None) -> list[tuple[str, str, float, np.ndarray, float,
                                                                              np.ndarray]]:
    """Solve every future in ``subs`` with the first stage at ``x`` (None: free), warm from its last solve.

    Returns (name, status, objective incl. elastic penalty, duals of the linking rows, elastic slack in GW,
    first-stage values: only with ``x`` None, the rest is what goes back to the master each iteration)."""
    import highspy

    out = []
    inf = highspy.kHighsInf
    for sub in subs:
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
        own = col[sub["cols"]] if len(rows) and x is None else np.zeros(0)     # only the free solve needs them
        out.append((sub["name"], "optimal", obj, duals, slack, own))
    return out


def _where_all() -> list[tuple[str, np.ndarray, np.ndarray, np.ndarray]]:
    return where_of(_STATE["subs"])


def where_of(subs: list[dict[str, Any]]) -> list[tuple[str, np.ndarray, np.ndarray, np.ndarray, str, list[str]]]:
    """Per future: which first-stage keys it has, its LP's bounds on them (GW), its build path and the notes
    of its worker's build (model/decompose_template.py)."""
    return [(s["name"], s["where"], s["lower"], s["upper"], s["path"], s.get("notes", [])) for s in subs]


# ----------------------------------------------------------------------------
# Master side
# ----------------------------------------------------------------------------
def union_key_list(spec: Any) -> list[tuple]:
    from model.ph import union_keys

    b, p = union_keys(spec)
    return [("build",) + k for k in b] + [("power",) + k for k in p]


class _Pool:
    """The futures split over ``processes`` workers (or held in this process when 1)."""

    def __init__(self, spec: Any, keys: list[tuple], processes: int, use_templates: bool = True) -> None:
        n = len(spec.futures)
        self.processes = max(1, min(processes, n))
        chunks = [list(range(n))[i::self.processes] for i in range(self.processes)]
        if self.processes == 1:
            _init(spec, chunks[0], keys, use_templates)
            self.pool = None
        else:
            ctx = mp.get_context("fork")
            self.pool = [ctx.Pool(1) for _ in range(self.processes)]
            handles = [p.apply_async(_init_chunk, ((spec, c, keys, use_templates),))
                       for p, c in zip(self.pool, chunks)]
            [h.get() for h in handles]

    def call(self, fn: Any, *args: Any) -> list:
        if self.pool is None:
            return fn(*args)
        handles = [p.apply_async(fn, args) for p in self.pool]
        return [r for h in handles for r in h.get()]

    def solve(self, x: np.ndarray | None) -> list:
        """:func:`solve_subs` of every future at ``x``."""
        return self.call(_solve_all, x)

    def where(self) -> list:
        """:func:`where_of` every future."""
        return self.call(_where_all)

    def close(self) -> None:
        for p in self.pool or []:
            p.terminate()
            p.join()


def first_stage_box(keys: list[tuple], where: dict[str, tuple]) -> tuple[np.ndarray, np.ndarray]:
    """Each first-stage value's range (GW): within every bound the futures that have it give it.

    A value outside a future's own bound forces elastic slack in that future, which the exact
    penalty makes dearer than any plan, so the optimum lies in the intersection of the futures'
    ranges (a future lacking a key is not affected by it). Where the futures' ranges do not meet,
    their union is kept (slack is then unavoidable); a column no future bounds is capped at
    :data:`UNBOUNDED_GW`. Bounding the master so keeps its points where plans exist: before, 40
    sampled futures spent most iterations on points with up to 322 GW of slack.
    """
    K = len(keys)
    lo_all, hi_all = np.full(K, np.inf), np.full(K, -np.inf)
    lo_any, hi_any = np.full(K, -np.inf), np.full(K, np.inf)
    for _, w, low, up, *_ in where.values():
        up = np.minimum(up, UNBOUNDED_GW)
        lo_all[w], hi_all[w] = np.minimum(lo_all[w], low), np.maximum(hi_all[w], up)
        lo_any[w], hi_any[w] = np.maximum(lo_any[w], low), np.minimum(hi_any[w], up)
    seen = np.isfinite(lo_all)
    meet = seen & (lo_any <= hi_any)
    lo = np.where(meet, lo_any, np.where(seen, lo_all, 0.0))
    hi = np.where(meet, hi_any, np.where(seen, hi_all, 0.0))
    lo = np.maximum(lo, 0.0)
    return lo, np.maximum(hi, lo)


def _start(names: list[str], prob: dict[str, float], where: dict[str, tuple], free: dict[str, tuple],
           lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, float]:
    """The first point (the probability-weighted mean of the futures' own first stages) and the first
    box radius (the widest spread of those first stages, at least 1 GW)."""
    K = len(lo)
    x, weight = np.zeros(K), np.zeros(K)
    low, high = np.full(K, np.inf), np.full(K, -np.inf)
    for n in names:
        w, own = where[n][1], free[n][5]
        x[w] += prob[n] * own
        weight[w] += prob[n]
        low[w], high[w] = np.minimum(low[w], own), np.maximum(high[w], own)
    x = np.clip(np.where(weight > 0, x / np.maximum(weight, 1e-300), 0.0), lo, hi)
    spread = np.where(np.isfinite(low), high - low, 0.0)
    return x, max(1.0, float(spread.max(initial=0.0)))


def _evaluate(pool: Any, x: np.ndarray, master: Master, idx: dict[str, int], where: dict[str, tuple],
              prob: dict[str, float]) -> tuple[float, float, dict[str, float], list]:
    """Every future with the first stage at x: one cut each into the master.

    Returns (expected cost, total slack, cost by future, [(future, cost, duals, slack)])."""
    rows = []
    for name, st, obj, duals, slack, _ in sorted(pool.solve(x), key=lambda r: idx[r[0]]):   # the same cut order
        if st != "optimal":                                                               # on any pool
            raise RuntimeError(f"future {name!r} with the first stage fixed: {st}")
        rows.append((name, obj, duals, slack))
    return _add_cuts(x, rows, master, idx, where, prob) + (rows,)


def _add_cuts(x: np.ndarray, rows: list, master: Master, idx: dict[str, int], where: dict[str, tuple],
              prob: dict[str, float]) -> tuple[float, float, dict[str, float]]:
    costs, slack_total = {}, 0.0
    for name, obj, duals, slack in rows:
        costs[name] = obj
        slack_total += slack
    master.add_cuts([idx[r[0]] for r in rows], [r[1] for r in rows], [r[2] for r in rows],
                    [where[r[0]][1] for r in rows], x)
    return sum(prob[n] * c for n, c in costs.items()), slack_total, costs


def _next_point(master: Master, centre: np.ndarray, centre_value: float, lower: float,
                gap: float) -> tuple[np.ndarray, float, str]:
    """The level method's next point: the one nearest the centre where the cut model is at most
    lower + LEVEL * (centre_value - lower); returns (point, lower bound, trouble with the LP or "").

    A level no point reaches is itself a lower bound (the cut model lies below every Q), so it is
    raised and the projection tried again."""
    bound = master.bound()
    trouble = "" if bound.ok else master.diagnosis(bound.status)
    lower = max(lower, bound.value) if bound.ok else lower
    for _ in range(20):
        if centre_value - lower <= 1e-9 * max(1.0, abs(centre_value)):
            return centre, lower, trouble
        level = lower + LEVEL * (centre_value - lower)
        step = master.project(centre, level)
        if step.ok:
            return step.x, lower, trouble
        if step.status != "Infeasible":
            raise RuntimeError("the decomposition's master problem has no solution: " + master.diagnosis(step.status))
        lower = level
    return centre, lower, trouble


def decompose(spec: Any, processes: int = 1, iterations: int = 100, gap: float = 1e-4,
              time_limit: float | None = None, log: Any = None, pool: Any = None,
              checkpoint: Any = None, use_templates: bool = True) -> DecompositionResult:
    """Solve the risk-neutral two-stage problem by multi-cut Benders, level-method master (model/decompose_master).

    ``pool``: where the futures' LPs live (default: ``processes`` local worker processes; model/decompose_dask
    gives Dask workers); it needs ``solve(x)`` and ``where()`` over every future, ``processes`` and ``close()``.
    ``checkpoint``: a :class:`model.decompose_checkpoint.Checkpoint`; its saved iterations are replayed
    first (an interrupted run resumes) and each new one is saved.
    ``use_templates``: build same-structure futures from one compiled template (model/decompose_template.py,
    proven on a probe future per group); False: a Pyomo build per future."""
    t0 = time.perf_counter()
    keys = union_key_list(spec)
    names = [f.name for f in spec.futures]
    prob = {f.name: f.probability for f in spec.futures}
    pool = pool or _Pool(spec, keys, processes, use_templates)
    try:
        build_s = time.perf_counter() - t0
        where = {r[0]: r for r in pool.where()}
        paths = {p: sum(1 for r in where.values() if r[4] == p) for p in sorted({r[4] for r in where.values()})}
        build_notes = [note for r in where.values() for note in r[5]]
        if log:
            log(f"  {len(names)} futures' LPs built in {build_s:.1f} s: "
                + ", ".join(f"{k} {v}" for k, v in paths.items()) + "".join(f"; {n}" for n in build_notes))
        # iteration 0: every future alone (wait-and-see): valid lower bounds theta_f >= WS_f
        free = {r[0]: r for r in pool.solve(None)}
        bad = [n for n, r in free.items() if r[1] != "optimal"]
        if bad:
            raise RuntimeError(f"future {bad[0]!r} has no plan even with the target softened ({free[bad[0]][1]})")
        ws = {n: free[n][2] for n in names}
        lo, hi = first_stage_box(keys, where)
        x, _ = _start(names, prob, where, free, lo, hi)
        master = Master(np.array([prob[n] for n in names]), np.array([ws[n] for n in names]), lo, hi)
        idx = {n: i for i, n in enumerate(names)}
        best_upper, best_x, best_costs = math.inf, x.copy(), {}
        lower = sum(prob[n] * ws[n] for n in names)
        centre, centre_value = x.copy(), math.inf
        it, status, trouble = 0, "iteration_limit", ""
        clock = {"master_s": 0.0, "subproblems_s": 0.0}
        slack_gw = max(SLACK_GW, SLACK_GW_PER_FUTURE * len(names))
        replay = checkpoint.points() if checkpoint is not None else []
        while it < iterations:
            it += 1
            t = time.perf_counter()
            if it <= len(replay):                   # a resumed run: the saved point and its cuts
                x, rows, known = replay[it - 1]
                value, slack, costs = _add_cuts(x, rows, master, idx, where, prob)
                lower = max(lower, known)
            else:
                value, slack, costs, rows = _evaluate(pool, x, master, idx, where, prob)
                if checkpoint is not None:
                    checkpoint.save(it, x, rows, lower)
            clock["subproblems_s"] += time.perf_counter() - t
            if slack <= slack_gw and value < best_upper:
                best_upper, best_x, best_costs = value, x.copy(), costs
            if value < centre_value:             # a serious step: the level's centre moves to the best point
                centre, centre_value = x.copy(), value
            t = time.perf_counter()
            if it < len(replay):
                continue                             # the next point is the saved one
            x, lower, trouble = _next_point(master, centre, centre_value, lower, gap)
            master.prune()
            clock["master_s"] += time.perf_counter() - t
            rel = max(0.0, best_upper - lower) / max(1.0, abs(best_upper)) if math.isfinite(best_upper) else math.inf
            if log:
                log(f"  iteration {it}: lower {lower:.6g}, upper {best_upper:.6g} billion USD, gap {rel:.3g}"
                    f" [this point {value:.8g}, slack {slack:.3g} GW]"
                    + (f" (bound not updated: {trouble})" if trouble else ""))
            if rel <= gap:
                status = "converged"
                break
            if time_limit is not None and time.perf_counter() - t0 > time_limit:
                break
        out = _result(status, it, best_upper, lower, keys, best_x, best_costs, pool.processes, trouble,
                      {"build_s": build_s, **clock, "master_bound_s": master.clock["bound_s"],
                       "master_project_s": master.clock["project_s"], "total_s": time.perf_counter() - t0})
        out.cuts = {"added": int(master.dropped + len(master.idle)), "dropped": int(master.dropped),
                    "projections": int(master.clock["projections"])}
        out.build_paths, out.build_notes = paths, build_notes
        return out
    finally:
        pool.close()


def _result(status: str, it: int, best_upper: float, lower: float, keys: list[tuple], best_x: np.ndarray,
            best_costs: dict[str, float], processes: int, trouble: str,
            timings: dict[str, float]) -> DecompositionResult:
    rel = max(0.0, best_upper - lower) / max(1.0, abs(best_upper)) if math.isfinite(best_upper) else None
    gap_text = "unknown (no first stage without slack yet)" if rel is None else f"{rel:.3%}"
    message = (f"the decomposition converged in {it} iterations, gap {gap_text} between the plan's expected "
               f"cost and the lower bound" if status == "converged" else
               f"the decomposition stopped at the iteration limit ({it} iterations), gap {gap_text} between "
               f"the plan's expected cost and the lower bound: not proven optimal"
               + (f"; the last lower bound was not updated ({trouble})" if trouble else ""))
    return DecompositionResult(status, message, best_upper if math.isfinite(best_upper) else None, lower, rel, it,
                               {k: float(v) for k, v in zip(keys, best_x)}, best_costs, timings, processes)


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
        "build": {"futures_by_path": r.build_paths, "notes": r.build_notes,
                  "how": "futures of one model structure from one compiled template, proven on a probe future "
                         "against a fresh Pyomo build (template); otherwise a Pyomo build each (pyomo)"},
        "cuts": r.cuts,
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
