"""The check of each fast answer against the case's own model (swept rows and total cost recomputed)."""
from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np

from model.fmt import sig
from model.fastsolve.compile import add_reach
from model.fastsolve.lp import PlanArrays, values_in_order
from model.fastsolve.polynomial import IndexChanged, Slots, add_poly, evaluate_slots, polynomial
from model.scenario import Scenario

#: Relative tolerance of the post-solve check on the fast path (as in :mod:`model.checks`).
CHECK_TOLERANCE = 1e-6


class ModelCheck:
    """Checks a fast-path solution against the case's own model, not against the LP HiGHS holds.

    The fast path solves the reference LP with the coefficients, bounds and
    costs that depend on the swept Params pushed into HiGHS. Checking the
    solution against the LP the plan pushed (as :meth:`HighsPlan.worst_violation`
    does) cannot catch a wrongly compiled polynomial. This check builds its own Pyomo
    model of the plan once per worker and reads, from that model's
    expressions, every row that depends on a swept Param and the total cost
    as polynomials in the Params (not from the arrays the plan was compiled
    to, nor from HiGHS). For a case it evaluates them at the case's Param
    values (computed by the concerns from the case's validated Scenario, as a
    fresh build would) and recomputes, as :mod:`model.checks` does:

    * every such row: ``lower <= a(p) x <= upper(p)`` within
      ``1e-6 x max(1, |bound|, sum |a_i x_i|)`` (the other rows are the
      reference's, the same in HiGHS and in a fresh build of the case, since
      the sweep rebuilds any case that moves a Param that is not mutable);
    * the total cost ``c(p) x + c0(p)`` against HiGHS's objective (relative 1e-6).

    Parameters
    ----------
    reference : Scenario
        The scenario the plan was compiled for.
    arrays : PlanArrays
        The compiled plan (its mutable Params, kind and column -> Var map).
    """

    def __init__(self, reference: Scenario, arrays: PlanArrays) -> None:
        from pyomo.core.expr.visitor import identify_mutable_parameters
        from pyomo.environ import Constraint
        from pyomo.repn import generate_standard_repn

        from model.build import build_model

        m = build_model(reference, arrays.param_names)
        if arrays.kind == "reach":
            add_reach(m, reference)
        self.param_index: list[tuple[str, Any]] = []
        position: dict[int, int] = {}
        for name in arrays.param_names:
            comp = getattr(m, name, None)
            for k in (comp.keys() if comp is not None else ()):
                position[id(comp[k])] = len(self.param_index)
                self.param_index.append((name, k))
        #: the same, by Param: (name, its keys in order), as slot_values reads them
        self._param_groups = [(name, tuple(k for n, k in self.param_index if n == name))
                              for name in dict.fromkeys(n for n, _ in self.param_index)]
        col_of = {}
        for col, (name, index) in enumerate(arrays.col_vars):
            if name:
                comp = getattr(m, name)
                col_of[id(comp if index is None else comp[index])] = col
        self.num_col = len(arrays.col_vars)

        def mutable(e: Any) -> bool:
            return e is not None and not isinstance(e, (int, float)) and \
                any(True for _ in identify_mutable_parameters(e))

        slots = Slots()
        e_row, e_col, e_slot, lo, hi, self.row_names = [], [], [], [], [], []
        for con in m.component_data_objects(Constraint, active=True, descend_into=True):
            if not (mutable(con.body) or mutable(con.lower) or mutable(con.upper)):
                continue
            i = len(self.row_names)
            self.row_names.append(con.name)
            repn = generate_standard_repn(con.body, quadratic=False, compute_values=False)
            for coef, var in zip(repn.linear_coefs, repn.linear_vars):
                e_row.append(i)
                e_col.append(col_of[id(var)])
                e_slot.append(slots.add(polynomial(coef, position)))
            constant = polynomial(repn.constant, position)
            lo.append(slots.add(add_poly(polynomial(con.lower, position), constant, -1.0)) if con.has_lb() else -1)
            hi.append(slots.add(add_poly(polynomial(con.upper, position), constant, -1.0)) if con.has_ub() else -1)
        repn = generate_standard_repn(m.total_cost.expr, quadratic=False, compute_values=False)
        o_col = [col_of[id(var)] for var in repn.linear_vars]
        o_slot = [slots.add(polynomial(coef, position)) for coef in repn.linear_coefs]
        self.offset_slot = slots.add(polynomial(repn.constant, position))
        self.e_row, self.e_col, self.e_slot = (np.array(x, dtype=np.int64) for x in (e_row, e_col, e_slot))
        self.lo_slot, self.hi_slot = np.array(lo, dtype=np.int64), np.array(hi, dtype=np.int64)
        self.o_col, self.o_slot = np.array(o_col, dtype=np.int64), np.array(o_slot, dtype=np.int64)
        self.mono_slot, self.mono_coef, self.mono_fac = slots.arrays(len(self.param_index))
        self.n_slots = len(slots.polys)

    def slot_values(self, values: Mapping[str, Mapping]) -> np.ndarray:
        """Every coefficient, bound and cost of the checked rows at the case's Param values."""
        p = np.empty(len(self.param_index) + 1)
        p[-1] = 1.0
        at = 0                            # p[:-1] = [values[name][k] for name, k in self.param_index]
        for name, keys in self._param_groups:
            vals = values[name]
            if len(vals) == len(keys):
                p[at:at + len(keys)] = values_in_order(name, vals, keys)
            else:
                p[at:at + len(keys)] = list(map(vals.__getitem__, keys))
            at += len(keys)
        return evaluate_slots(self.mono_slot, self.mono_coef, self.mono_fac, self.n_slots, p)

    def __call__(self, values: Mapping[str, Mapping], x: np.ndarray, objective_bnusd: float) -> str:
        """``""`` when the solution ``x`` holds the case's rows and its cost is ``objective_bnusd``; else what fails.

        ``values``: the case's Param values by name (:func:`model.build.param_values`).
        """
        from model.checks import RELATIVE_TOLERANCE

        try:
            v = self.slot_values(values)
        except KeyError as exc:
            return f"the case has no value for Param index {exc.args[0]!r}"
        except IndexChanged as exc:
            return f"the case has no value for a Param index ({exc})"
        x = np.asarray(x, dtype=float)
        n = len(self.row_names)
        terms = v[self.e_slot] * x[self.e_col]
        activity = np.bincount(self.e_row, weights=terms, minlength=n)
        scale = np.bincount(self.e_row, weights=np.abs(terms), minlength=n)
        lo = np.where(self.lo_slot >= 0, v[np.maximum(self.lo_slot, 0)], -np.inf)
        hi = np.where(self.hi_slot >= 0, v[np.maximum(self.hi_slot, 0)], np.inf)
        with np.errstate(invalid="ignore"):
            miss = np.maximum(np.where(np.isfinite(lo), lo - activity, 0.0), np.where(np.isfinite(hi), activity - hi, 0.0))
            bound = np.maximum(np.where(np.isfinite(lo), np.abs(lo), 0.0), np.where(np.isfinite(hi), np.abs(hi), 0.0))
        tol = RELATIVE_TOLERANCE * np.maximum(np.maximum(1.0, bound), scale)
        bad = np.flatnonzero(miss > tol)
        if len(bad):
            i = int(bad[np.argmax(miss[bad] / tol[bad])])
            return (f"row {self.row_names[i]} is off by {sig(miss[i])} (recomputed {sig(activity[i], 6)}, bounds "
                    f"{sig(lo[i], 6)} .. {sig(hi[i], 6)}) in the case's own model")
        cost = float(np.dot(v[self.o_slot], x[self.o_col]) + v[self.offset_slot])
        if not math.isfinite(objective_bnusd) or \
                abs(cost - objective_bnusd) > RELATIVE_TOLERANCE * max(1.0, abs(cost)):
            return (f"the total cost in the case's own model is {sig(cost, 9)} billion USD, the fast path's "
                    f"{sig(objective_bnusd, 9)}")
        return ""
