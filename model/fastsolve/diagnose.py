"""Why a sweep case has no plan at all, from the warm reach model: the elastic diagnosis without a rebuild.

When a case's reach LP (model/fastsolve/highs.py, the largest reachable figure with the
target dropped) is infeasible, the inputs contradict each other even without the target.
run.py then builds the model twice more and solves :func:`model.solve.diagnose_conflicts`:
every one-sided limit row gets a slack ``e >= 0`` (``body - e <= upper``, ``body + e >= lower``)
and ``sum e`` is minimised. :class:`ElasticPlan` is that LP kept warm: the reach LP of the
compiled plan with one elastic column per limit row (rows recorded by
:func:`model.fastsolve.compile.limit_rows`), every other cost zero; per case only the swept
numbers are pushed, as for the plan itself. The limits that had to give are named by
:func:`model.solve.name_conflicts` with the case's own Scenario, so the message is run.py's.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from model.fastsolve.highs import HighsPlan
from model.fastsolve.lp import PlanArrays


class ElasticPlan:
    """The compiled reach LP with an elastic slack on every limit row, minimising the total slack."""

    def __init__(self, arrays: PlanArrays, time_limit: float | None = None) -> None:
        import highspy

        if arrays.limit_rows is None:
            raise ValueError("the compiled plan records no limit rows (not a reach plan)")
        self.plan = HighsPlan(arrays, time_limit)
        h, n, r = self.plan.h, int(arrays.lp["num_col"]), len(arrays.limit_rows)
        self.n, self.keys = n, arrays.limit_keys
        none_i, none_v = np.array([], dtype=np.int32), np.array([], dtype=np.float64)
        h.addCols(r, np.ones(r), np.zeros(r), np.full(r, highspy.kHighsInf), 0, none_i, none_i, none_v)
        for i, (row, sign) in enumerate(zip(arrays.limit_rows.tolist(), arrays.limit_sign.tolist())):
            h.changeCoeff(row, n + i, sign)
        h.changeColsCost(n, np.arange(n, dtype=np.int32), np.zeros(n))
        h.changeObjectiveOffset(0.0)
        h.changeObjectiveSense(highspy.ObjSense.kMinimize)
        self.plan.keep_objective()

    def slacks(self, p: np.ndarray) -> list[tuple[str, Any, float]] | None:
        """(constraint name, index, slack) of every limit row for the Param vector ``p``; None if HiGHS has no
        optimum (then the case is diagnosed by a rebuild).

        Solved cold each time: the total slack is unique but which limits give may not be, and a sweep's
        answers must not depend on which worker solved what before."""
        self.plan.set_params(p)
        self.plan.h.clearSolver()       # from scratch: the answer must not depend on the cases solved before
        if self.plan.run() != "optimal":
            return None
        e = self.plan.col_values()[self.n:]
        return [(name, idx, float(v)) for (name, idx), v in zip(self.keys, e)]
