"""The master problem of the L-shaped decomposition (model/decompose.py): cuts, a level method, a diagnosis.

Why not plain cutting planes: the plain multi-cut master (min sum_f p_f theta_f over the cuts and
x in a box) jumps from one corner of the cut model to another. Far from the futures' own first
stages the elastic linking rows (1e5 billion USD per GW) give cuts with coefficients up to 1e5 and
right-hand sides up to 1e8; HiGHS returned status "Unknown" on such a master (deals.yaml at 80 GW,
iteration 157), and every point it proposed had elastic slack, so no upper bound was found for 156
rounds. A box trust region around the incumbent (Linderoth and Wright 2003) shrank to nothing
and still took 105-124 rounds. Here, a level method (Lemarechal, Nemirovskii and Nesterov 1995,
"New variants of bundle methods", Math. Programming 69) holds the cut model twice:

- an LP, min sum_f p_f theta_f over the cuts and the first stage (each x bounded by what the
  futures' LPs allow, model.decompose.first_stage_box): its optimum is the lower bound;
- an LP for the next point: the one nearest (L1) the best point so far where the model is at most
  the level lower + LEVEL (best - lower). No point reaching the level proves the level a lower bound.

deals.yaml at 80 GW: 20 rounds (was a failure at 157); 24 sampled futures at 80 GW: 16 (was 164).
Each cut row is divided by its largest coefficient (same half-space) and coefficients below
:data:`TINY` after that are dropped with the right-hand side lowered by what they could add over the
box (still a valid cut); a master HiGHS cannot solve is re-solved from scratch once, and only then
reported, with HiGHS's status, the master's size and the coefficient range of its cuts.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

#: Largest first-stage value (GW) where no future's LP bounds a column.
UNBOUNDED_GW = 1e3
#: Cut coefficients below this (after scaling to the largest) are dropped, keeping the cut valid.
TINY = 1e-9
#: A cut with a zero dual in every master solve of this many iterations in a row is dropped (:meth:`Master.prune`).
CUT_AGE = 25


@dataclass
class MasterAnswer:
    ok: bool
    status: str
    value: float
    x: np.ndarray


class Master:
    """The cut model of sum_f p_f Q_f(x), held twice: one LP for the lower bound, one for the next point.

    bound:       min sum_f p_f theta_f    s.t. theta_f >= ws_f, every cut, lo <= x <= hi
    projection:  min |x - centre|_1       s.t. the same rows, and sum_f p_f theta_f <= level
    """

    def __init__(self, prob: np.ndarray, ws: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> None:
        import highspy

        self.K, self.F = len(lo), len(prob)
        self.lo, self.hi = lo.astype(float), hi.astype(float)
        self.inf = highspy.kHighsInf
        self.lp, self.near = (self._columns(highspy, prob if i == 0 else np.zeros(self.F), ws) for i in range(2))
        K, n = self.K, self.K + self.F          # projection: min sum_k u_k, u_k >= |x_k - centre_k|, a level row
        none_i, none_v = np.array([], dtype=np.int32), np.array([], dtype=np.float64)
        self.near.addCols(K, np.ones(K), np.zeros(K), np.full(K, self.inf), 0, none_i, none_i, none_v)
        self.near.addRow(-self.inf, self.inf, self.F, np.arange(K, n, dtype=np.int32), prob.astype(float))
        for k in range(K):       # rows 1..K: x_k - u_k <= c_k; rows K+1..2K: x_k + u_k >= c_k
            self.near.addRow(-self.inf, self.inf, 2, np.array([k, n + k], dtype=np.int32), np.array([1.0, -1.0]))
        for k in range(K):
            self.near.addRow(-self.inf, self.inf, 2, np.array([k, n + k], dtype=np.int32), np.array([1.0, 1.0]))
        self.cols = np.arange(self.K, dtype=np.int32)
        self.prob = prob.astype(float)
        self.coef_min, self.coef_max = math.inf, 0.0
        self.idle = np.zeros(0, dtype=np.int64)      # per cut: iterations in a row with a zero dual in every solve
        self.used = np.zeros(0, dtype=bool)          # per cut: a nonzero dual in a solve since the last prune
        self.dropped = 0
        self.clock = {"bound_s": 0.0, "project_s": 0.0, "projections": 0}

    def _columns(self, highspy: Any, cost: np.ndarray, ws: np.ndarray) -> Any:
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        # Devex pricing in the dual simplex: each iteration adds one violated cut per future, and HiGHS's
        # default (dual steepest edge) works out a weight for every new row. 1,000 sampled futures on 2
        # processes (bench stochastic): master 22 s in 40 iterations with Devex, 66 s in 39 with the default.
        h.setOptionValue("simplex_dual_edge_weight_strategy", 1)
        none_i, none_v = np.array([], dtype=np.int32), np.array([], dtype=np.float64)
        h.addCols(self.K, np.zeros(self.K), self.lo, self.hi, 0, none_i, none_i, none_v)
        h.addCols(self.F, cost.astype(float), ws.astype(float), np.full(self.F, self.inf), 0, none_i, none_i, none_v)
        return h

    def add_cut(self, future: int, obj: float, duals: np.ndarray, where: np.ndarray, x_at: np.ndarray) -> None:
        """theta_f >= obj + pi . (x - x^), scaled by its largest coefficient."""
        self.add_cuts([future], [obj], [duals], [where], x_at)

    def add_cuts(self, futures: list[int], objs: list[float], duals: list[np.ndarray], wheres: list[np.ndarray],
                 x_at: np.ndarray) -> None:
        """One cut per future at the point ``x_at``, added to both LPs in one call each (one HiGHS call per
        row cost 150 us with a few thousand rows: 1,000 futures add 1,000 rows an iteration)."""
        lower, starts, index, value = [], [0], [], []
        for future, obj, d, w in zip(futures, objs, duals, wheres):
            rhs, ind, val = self._cut_row(future, obj, d, w, x_at)
            lower.append(rhs)
            index.append(ind)
            value.append(val)
            starts.append(starts[-1] + len(ind))
        if not lower:
            return
        n = len(lower)
        lo, hi = np.array(lower, dtype=float), np.full(n, self.inf)
        st = np.array(starts[:-1], dtype=np.int32)
        ind_all, val_all = np.concatenate(index).astype(np.int32), np.concatenate(value).astype(float)
        for h in (self.lp, self.near):
            h.addRows(n, lo, hi, len(ind_all), st, ind_all, val_all)
        self.idle = np.concatenate([self.idle, np.zeros(n, dtype=np.int64)])
        self.used = np.concatenate([self.used, np.zeros(n, dtype=bool)])

    @property
    def first_cut_row(self) -> dict[int, int]:
        """The row of the first cut in each LP (bound: 0; projection: after the level row and 2K |x - c| rows)."""
        return {id(self.lp): 0, id(self.near): 1 + 2 * self.K}

    def prune(self, age: int = CUT_AGE) -> int:
        """Drop the cuts whose dual was zero in every solve of the last ``age`` iterations; returns how many.

        A master with fewer cuts is a relaxation: its optimum is still a lower bound, and a level none of
        its points reaches is still below every Q. 1,000 futures add 1,000 cuts an iteration; most come
        from points far from the optimum (the level method's early steps) and never bind again; the master's
        LPs grew to tens of thousands of rows and took 2 s an iteration (73 of 264 s).
        """
        self.idle = np.where(self.used, 0, self.idle + 1)
        self.used[:] = False
        drop = np.flatnonzero(self.idle > age).astype(np.int32)
        if len(drop):
            for h in (self.lp, self.near):
                h.deleteRows(len(drop), drop + self.first_cut_row[id(h)])
            keep = self.idle <= age
            self.idle, self.used = self.idle[keep], self.used[keep]
            self.dropped += len(drop)
        return len(drop)

    def _cut_row(self, future: int, obj: float, duals: np.ndarray, where: np.ndarray,
                 x_at: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        """The cut theta_f >= obj + pi . (x - x^) as a row ``rhs <= val . vars[ind]``, divided by its largest
        coefficient; coefficients below :data:`TINY` dropped with the rhs lowered by what they could add over
        the box (still valid)."""
        scale = max(1.0, float(np.abs(duals).max()) if len(duals) else 1.0)
        ind = np.concatenate([where, [self.K + future]]).astype(np.int32)
        val = np.concatenate([-duals, [1.0]]) / scale
        rhs = (obj - float(duals @ x_at[where])) / scale
        tiny = np.abs(val) < TINY
        tiny[-1] = False
        if tiny.any():
            cols = ind[tiny]
            rhs -= float(np.maximum(val[tiny] * self.lo[cols], val[tiny] * self.hi[cols]).sum())
            ind, val = ind[~tiny], val[~tiny]
        nz = np.abs(val[np.abs(val) > 0])
        self.coef_min, self.coef_max = min(self.coef_min, float(nz.min())), max(self.coef_max, float(nz.max()))
        return rhs, ind, val

    def bound(self) -> MasterAnswer:
        """The LP: its optimum is a lower bound on the expected cost of every first stage."""
        return self._solve(self.lp)

    def project(self, centre: np.ndarray, level: float) -> MasterAnswer:
        """The point nearest ``centre`` where the cut model is at most ``level`` (not ok: none is, so the
        level is a lower bound; status 'Infeasible')."""
        K = self.K
        self.near.changeRowBounds(0, -self.inf, level)
        self.near.changeRowsBounds(K, np.arange(1, K + 1, dtype=np.int32), np.full(K, -self.inf), centre)
        self.near.changeRowsBounds(K, np.arange(K + 1, 2 * K + 1, dtype=np.int32), centre, np.full(K, self.inf))
        return self._solve(self.near)

    def _solve(self, h: Any) -> MasterAnswer:
        import time

        t = time.perf_counter()
        try:
            return self._solve_once(h)
        finally:
            self.clock["bound_s" if h is self.lp else "project_s"] += time.perf_counter() - t
            self.clock["projections"] += h is self.near

    def _solve_once(self, h: Any) -> MasterAnswer:
        status = self._run(h)
        if status not in ("Optimal", "Infeasible"):      # numerical trouble: once more from scratch
            h.clearSolver()
            status = self._run(h)
        if status != "Optimal":
            return MasterAnswer(False, status, math.nan, np.zeros(self.K))
        sol = h.getSolution()
        first = self.first_cut_row[id(h)]
        self.used |= np.abs(np.asarray(sol.row_dual)[first:first + len(self.used)]) > 0
        col = np.asarray(sol.col_value)
        value = float(np.dot(col[self.K:self.K + self.F], self.prob)) if h is self.near else float(
            h.getInfo().objective_function_value)
        return MasterAnswer(True, status, value, np.clip(col[:self.K], self.lo, self.hi))

    @staticmethod
    def _run(h: Any) -> str:
        h.run()
        return h.modelStatusToString(h.getModelStatus())

    def diagnosis(self, status: str) -> str:
        """What a failed master looked like: HiGHS's status, its size and its coefficient range."""
        lo = "none" if not math.isfinite(self.coef_min) else f"{self.coef_min:.1e}"
        return (f"HiGHS status {status!r} on a master of {self.lp.getNumRow()} cuts and {self.K} first-stage "
                f"columns, cut coefficients {lo}..{self.coef_max:.1e}")
