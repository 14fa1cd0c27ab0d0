"""Re-solving a compiled plan in one ``highspy.Highs``: push the changed numbers, solve warm, read arrays."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

import numpy as np

from model.fmt import sig
from model.fastsolve.check import CHECK_TOLERANCE
from model.fastsolve.compile import fresh_lp
from model.fastsolve.lp import PlanArrays, highs_lp, lp_arrays_of, lp_difference, param_vector, status_word
from model.fastsolve.mirror import LpMirror, excess
from model.fastsolve.polynomial import IndexChanged, ParamSource, evaluate_slots
from model.scenario import Scenario


@dataclass
class CaseSolve:
    """What one re-solve gave: status, objective and the plan's column values."""

    status: str
    objective_bnusd: float = math.nan
    max_reachable: float = math.nan
    col_value: np.ndarray | None = None
    target_dual: float = math.nan                 # sum of the main target rows' duals (d cost / d target)


class HighsPlan:
    """One HiGHS instance holding a compiled plan; re-solved for new Param values.

    Parameters
    ----------
    arrays : PlanArrays
        From :func:`compile_plan` (possibly in another process).
    time_limit : float, optional
        Seconds HiGHS may spend on each solve.

    Notes
    -----
    :meth:`reset` puts back the reference LP and basis. A sweep calls it at
    the start of every chunk of cases, so each case's answer depends only on
    its chunk, not on which worker ran what before: results are the same
    with one worker, many, or a Dask cluster.
    """

    def __init__(self, arrays: PlanArrays, time_limit: float | None = None) -> None:
        self.check_message = ""
        import io

        import highspy
        from pyomo.common.tee import capture_output

        self.a = arrays
        with capture_output(io.StringIO(), capture_fd=True):   # HiGHS prints a banner when first made in a process
            self.h = highspy.Highs()
        self.h.setOptionValue("output_flag", False)
        self.h.setOptionValue("log_to_console", False)
        if time_limit is not None:
            self.h.setOptionValue("time_limit", float(time_limit))
        self._lp = highs_lp(arrays.lp)
        self._basis = highspy.HighsBasis()
        self._basis.col_status = [highspy.HighsBasisStatus(int(x)) for x in arrays.basis_col]
        self._basis.row_status = [highspy.HighsBasisStatus(int(x)) for x in arrays.basis_row]
        self._basis.valid = True
        self._p = np.empty(len(arrays.ref_params) + 1)
        self._p[-1] = 1.0
        self._ref_slots = self._evaluate(arrays.ref_params)
        self.mirror = LpMirror(arrays.lp, arrays.coef_rows, arrays.coef_cols)   # the LP each answer is checked on
        self.recorded: list[dict[str, np.ndarray]] | None = None     # set to a list to record what is pushed
        self._solution: tuple[np.ndarray, Any] | None = None          # the last run's, read once (solution())
        self.reset()

    # -- state ---------------------------------------------------------------
    def reset(self) -> None:
        """Back to the reference LP and its optimal basis."""
        self._solution = None
        self.h.passModel(self._lp)
        self.h.setBasis(self._basis)
        self.mirror.reset()
        self._slots = self._ref_slots.copy()
        self._main_costs = np.array(self.a.lp["col_cost"], dtype=float)
        self._main_offset = float(self.a.lp["offset"])
        self._alt_on = False

    def keep_objective(self) -> None:
        """From now on :meth:`set_params` leaves the objective HiGHS holds alone (another one was put in,
        as :class:`model.fastsolve.diagnose.ElasticPlan` does); :meth:`reset` undoes it."""
        self._alt_on = True

    def param_vector(self, values: Mapping[str, Mapping]) -> np.ndarray:
        """The Param vector for ``values`` (name -> {index: value}); see :func:`model.fastsolve.lp.param_vector`.

        Raises
        ------
        IndexChanged
            If a Param's index differs from the built model's.
        """
        return param_vector(self.a, values)

    def _evaluate(self, p: np.ndarray) -> np.ndarray:
        self._p[:-1] = p
        a = self.a
        return evaluate_slots(a.mono_slot, a.mono_coef, a.mono_fac, a.n_slots, self._p)

    def set_params(self, p: np.ndarray) -> None:
        """Push the coefficients, bounds and costs that ``p`` changes into HiGHS."""
        a, h = self.a, self.h
        self._solution = None
        new = self._evaluate(p)
        changed = new != self._slots
        record: dict[str, np.ndarray] = {}
        if self.recorded is not None:
            self.recorded.append(record)
        if not changed.any():
            return
        idx = np.flatnonzero(changed[a.coef_slot])
        if len(idx):
            rows, cols, vals = a.coef_rows[idx], a.coef_cols[idx], new[a.coef_slot[idx]]
            for r, c, v in zip(rows.tolist(), cols.tolist(), vals.tolist()):
                h.changeCoeff(r, c, v)
            self.mirror.set_coefficients(idx, vals)
            record.update(coef_rows=rows, coef_cols=cols, coef_vals=vals)
        if len(a.bound_rows):
            lo_on, hi_on = a.lo_slot >= 0, a.hi_slot >= 0
            moved = (lo_on & changed[np.where(lo_on, a.lo_slot, 0)]) | (hi_on & changed[np.where(hi_on, a.hi_slot, 0)])
            idx = np.flatnonzero(moved)
            if len(idx):
                lo = np.where(lo_on[idx], new[np.where(lo_on, a.lo_slot, 0)[idx]], a.lo_fixed[idx])
                hi = np.where(hi_on[idx], new[np.where(hi_on, a.hi_slot, 0)[idx]], a.hi_fixed[idx])
                rows = a.bound_rows[idx]
                h.changeRowsBounds(len(idx), rows, lo, hi)
                self.mirror.set_row_bounds(rows, lo, hi)
                record.update(bound_rows=rows, bound_lo=lo, bound_hi=hi)
        idx = np.flatnonzero(changed[a.cost_slot])
        if len(idx):
            cols, vals = a.cost_cols[idx], new[a.cost_slot[idx]]
            self._main_costs[cols] = vals
            if not self._alt_on:
                h.changeColsCost(len(idx), cols, vals)
                record.update(cost_cols=cols, cost_vals=vals)
        if a.offset_slot >= 0 and changed[a.offset_slot]:
            self._main_offset = float(new[a.offset_slot])
            if not self._alt_on:
                h.changeObjectiveOffset(self._main_offset)
                record.update(offset=np.array([self._main_offset]))
        self._slots = new

    def run(self) -> str:
        """Solve (warm from the current basis); the status word of :mod:`model.solve`.

        An optimal answer is checked as :mod:`model.checks` checks a plan: every
        row's activity A x is recomputed from the LP HiGHS holds and compared
        with its bounds (tolerance 1e-6 x max(1, |bound|)), and so are the
        column bounds; a plan that breaks one is refused as ``solver_error``.
        A ``solver_error`` from the warm start is retried once from scratch (``clearSolver``): in the
        README's Monte Carlo example 5 of 500 warm re-solves failed so, and were rebuilt at ~10x the cost.
        """
        self.check_message = ""
        status = self._run_once()
        if status == "solver_error":
            self.h.clearSolver()
            status = self._run_once()
        return status

    def _run_once(self) -> str:
        self.h.run()
        self._solution = None
        status = status_word(self.h)
        if status == "optimal":
            worst = self.worst_violation(self.col_values())
            if worst > CHECK_TOLERANCE:
                self.check_message = f"the solution breaks a constraint by {sig(worst)} (relative to its bound)"
                return "solver_error"
        return status

    def worst_violation(self, x: np.ndarray | None = None) -> float:
        """Largest violation of a row or column bound by ``x`` (default: the current solution), relative to
        max(1, |bound|), on the LP this plan pushed (:class:`~model.fastsolve.mirror.LpMirror`); on the LP
        HiGHS holds when columns or rows were added beside the plan (the elastic diagnosis)."""
        x = np.asarray(self.h.getSolution().col_value if x is None else x, dtype=float)
        if (self.h.getNumCol(), self.h.getNumRow()) == (self.mirror.num_col, self.mirror.num_row):
            return self.mirror.worst_violation(x)
        lp = self.h.getLp()
        a = lp.a_matrix_
        start, index, value = (np.asarray(a.start_), np.asarray(a.index_), np.asarray(a.value_, dtype=float))
        cols = np.repeat(np.arange(lp.num_col_), np.diff(start))
        activity = np.bincount(index, weights=value * x[cols], minlength=lp.num_row_)
        return max(excess(activity, lp.row_lower_, lp.row_upper_), excess(x, lp.col_lower_, lp.col_upper_))

    def solution(self) -> tuple[np.ndarray, Any]:
        """The last run's column values and its HiGHS solution, read from HiGHS once per run (each read of
        ``getSolution()`` copies every vector of it)."""
        if self._solution is None:
            sol = self.h.getSolution()
            self._solution = (np.asarray(sol.col_value, dtype=float), sol)
        return self._solution

    def col_values(self) -> np.ndarray:
        return self.solution()[0]

    def objective(self) -> float:
        return float(self.h.getInfo().objective_function_value)

    def solve_min_cost(self) -> CaseSolve:
        """Least cost meeting the target (a ``min-cost`` plan)."""
        status = self.run()
        if status != "optimal":
            return CaseSolve(status)
        x, sol = self.solution()
        duals = np.asarray(sol.row_dual, dtype=float)[self.a.target_rows] if len(self.a.target_rows) else []
        return CaseSolve("optimal", self.objective(), col_value=x, target_dual=float(np.sum(duals)))

    def solve_reach(self) -> CaseSolve:
        """Largest reachable figure, then the least-cost plan holding it (a ``reach`` plan).

        As :func:`model.solve.solve_plan`: the reachable figure r is
        maximised; then, with ``reachable >= max(0, r - 1e-6 max(1, r))``, the
        total cost is minimised.
        """
        import highspy

        a, h = self.a, self.h
        status = self.run()
        if status != "optimal":
            return CaseSolve(status)
        reach = float(self.col_values()[a.reach_col])
        alt = a.alt_costs.copy()
        if len(a.alt_cost_cols):
            alt[a.alt_cost_cols] = self._slots[a.alt_cost_slot]
        alt_offset = float(self._slots[a.alt_offset_slot]) if a.alt_offset_slot >= 0 else a.alt_offset
        cols = np.arange(a.num_col, dtype=np.int32)
        try:
            h.changeColBounds(a.reach_col, max(0.0, reach - 1e-6 * max(1.0, reach)), highspy.kHighsInf)
            self.mirror.set_col_bounds(a.reach_col, max(0.0, reach - 1e-6 * max(1.0, reach)), highspy.kHighsInf)
            h.changeColsCost(a.num_col, cols, alt)
            h.changeObjectiveOffset(alt_offset)
            h.changeObjectiveSense(highspy.ObjSense.kMinimize)
            self._alt_on = True
            status = self.run()
            out = CaseSolve(status, max_reachable=reach)
            if status == "optimal":
                out.objective_bnusd = self.objective()
                out.col_value = self.col_values()
            return out
        finally:
            h.changeColBounds(a.reach_col, 0.0, highspy.kHighsInf)
            self.mirror.set_col_bounds(a.reach_col, 0.0, highspy.kHighsInf)
            h.changeColsCost(a.num_col, cols, self._main_costs)
            h.changeObjectiveOffset(self._main_offset)
            h.changeObjectiveSense(highspy.ObjSense(a.lp["sense"]))
            self._alt_on = False

    def lp(self) -> dict[str, Any]:
        """The LP HiGHS holds now, as arrays (to compare with a fresh build)."""
        return lp_arrays_of(self.h)


def check_plan_matches(arrays: PlanArrays, cases: Iterable[Scenario], time_limit: float | None = None,
                       kind: str = "min-cost") -> str:
    """Push each case's Params into the compiled plan and compare the LP with a fresh build of the case.

    Returns ``""`` when every case's LP matches, otherwise what differs (a
    swept key that changes the model's structure, not only its numbers).
    """
    plan = HighsPlan(arrays, time_limit)
    names = arrays.param_names
    source = ParamSource(names)
    for s in cases:
        try:
            plan.set_params(plan.param_vector(source(s)))
        except IndexChanged as exc:
            return str(exc)
        diff = lp_difference(plan.lp(), fresh_lp(s, names, kind))
        if diff:
            return diff
        plan.reset()
    return ""
