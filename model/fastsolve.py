"""Fast re-solves for sweeps: build once, change only the swept numbers inside HiGHS, read arrays back.

A sweep solves one linear program many times with a few input figures
changed. Rebuilding the Pyomo model per case costs ~100x the solve itself,
and even Pyomo's persistent interface spends most of a re-solve
re-evaluating mutable Params one Python object at a time. This module does
the modelling work once and leaves HiGHS alone with arrays:

* :func:`compile_plan` builds the Pyomo model once with the swept Params
  mutable, loads it into HiGHS through Pyomo's appsi interface, solves it,
  and records

  - the LP as plain arrays (a worker rebuilds its HiGHS instance from them
    in a millisecond, without Pyomo);
  - every matrix coefficient, row bound, cost and objective offset that
    depends on a mutable Param, as a polynomial in the Params
    (``sum_k c_k * prod_j p[j_k]``), found with
    ``generate_standard_repn(..., compute_values=False)``;
  - where the results are: the columns of ``in_service_gw`` and
    ``build_gw``, the rows of the main target, and the optimal basis every
    chunk of cases starts from.

* :class:`HighsPlan` owns one ``highspy.Highs``. For a case it evaluates the
  polynomials for the case's Param values with numpy, pushes only what
  changed (``changeCoeff``, ``changeRowsBounds``, ``changeColsCost``,
  ``changeObjectiveOffset``), runs warm and reads ``col_value`` and
  ``row_dual`` as arrays.

* :class:`CaseDeriver` gives a case's :class:`~model.scenario.Scenario`
  from the loader (validated as run.py validates). :func:`check_plan_matches`
  proves, at the LP level, that pushing a probe's Params into the built plan
  gives the same LP as building that probe from scratch; a sweep whose keys
  fail is solved by a fresh build per case.

* :class:`ModelCheck` checks each fast answer against the case's own model
  (the rows that depend on swept Params and the total cost, recomputed from
  a Pyomo model the worker builds itself), not against the LP HiGHS holds.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, is_dataclass, replace
from typing import Any, Iterable, Mapping

import numpy as np

from model.scenario import BaseInputs, Scenario, TargetSpec, load_variant

#: Relative tolerance when two LPs or two Scenarios are compared.
MATCH_RTOL = 1e-9

#: Scenario fields that are records, not inputs of the model.
METADATA_FIELDS = ("name", "description", "overrides", "input_files")

_HIGHS_STATUS = {
    "kOptimal": "optimal",
    "kInfeasible": "infeasible",
    "kUnboundedOrInfeasible": "infeasible_or_unbounded",
    "kUnbounded": "unbounded",
    "kTimeLimit": "time_limit",
    "kIterationLimit": "time_limit",
}


#: Relative tolerance of the post-solve check on the fast path (as in :mod:`model.checks`).
CHECK_TOLERANCE = 1e-6


class IndexChanged(ValueError):
    """A case gives a mutable Param a different index: the model's structure changes, rebuild it."""


class NotPolynomial(ValueError):
    """A coefficient is not a polynomial in the mutable Params (the fast path cannot evaluate it)."""


# ----------------------------------------------------------------------------
# Param values for a case (only the concerns that own the swept Params)
# ----------------------------------------------------------------------------
class ParamSource:
    """The values of a few Params for scenario after scenario, computing only the concerns that own them.

    Same values as :func:`model.build.param_values`, which computes every
    concern's Params (several times slower when a sweep changes one of them).
    The first call runs every concern once to learn which owns what.

    Parameters
    ----------
    names : iterable of str
        The Params wanted.
    """

    def __init__(self, names: Iterable[str]) -> None:
        self.names = frozenset(names)
        self._concerns: list[Any] | None = None

    def __call__(self, s: Scenario) -> dict[str, dict]:
        from model.build import CONCERNS

        if self._concerns is None:
            out: dict[str, dict] = {}
            self._concerns = []
            for concern in CONCERNS:
                fn = getattr(concern, "param_values", None)
                if fn is None:
                    continue
                values = fn(s)
                if self.names & set(values):
                    self._concerns.append(fn)
                    out.update({k: v for k, v in values.items() if k in self.names})
            return out
        out = {}
        for fn in self._concerns:
            out.update({k: v for k, v in fn(s).items() if k in self.names})
        return out


# ----------------------------------------------------------------------------
# Polynomials in the mutable Params
# ----------------------------------------------------------------------------
Poly = dict[tuple[int, ...], float]


def _const(x: float) -> Poly:
    return {(): float(x)} if x != 0 else {}


def _add(a: Poly, b: Poly, sign: float = 1.0) -> Poly:
    out = dict(a)
    for k, v in b.items():
        out[k] = out.get(k, 0.0) + sign * v
    return out


def _mul(a: Poly, b: Poly) -> Poly:
    out: Poly = {}
    for ka, va in a.items():
        for kb, vb in b.items():
            k = tuple(sorted(ka + kb))
            out[k] = out.get(k, 0.0) + va * vb
    return out


def polynomial(expr: Any, position: Mapping[int, int]) -> Poly:
    """``expr`` as ``{(j1, j2, ...): c}``: the sum of ``c * p[j1] * p[j2] * ...``.

    Parameters
    ----------
    expr : Pyomo expression, Param or number
        A coefficient, bound or constant with no Var in it.
    position : mapping
        ``id(ParamData)`` -> index j in the Param vector p, for every mutable
        Param the plan tracks.

    Raises
    ------
    NotPolynomial
        For a Var, a division by a Param, a non-integer power of a Param or a
        function of a Param.
    """
    from pyomo.core.expr.numeric_expr import (DivisionExpression, MonomialTermExpression, NegationExpression,
                                              PowExpression, ProductExpression, SumExpression)
    from pyomo.core.expr.numvalue import native_numeric_types, value
    from pyomo.core.expr.visitor import identify_mutable_parameters

    if type(expr) in native_numeric_types:
        return _const(expr)
    if expr.is_expression_type():
        if expr.is_named_expression_type():
            return polynomial(expr.expr, position)
        if isinstance(expr, SumExpression):
            out: Poly = {}
            for arg in expr.args:
                out = _add(out, polynomial(arg, position))
            return out
        if isinstance(expr, (ProductExpression, MonomialTermExpression)):
            a, b = expr.args
            return _mul(polynomial(a, position), polynomial(b, position))
        if isinstance(expr, NegationExpression):
            return {k: -v for k, v in polynomial(expr.args[0], position).items()}
        if isinstance(expr, DivisionExpression):
            num, den = (polynomial(a, position) for a in expr.args)
            if set(den) - {()} or not den:
                raise NotPolynomial(f"division by a mutable Param in {expr}")
            return {k: v / den[()] for k, v in num.items()}
        if isinstance(expr, PowExpression):
            base, exponent = (polynomial(a, position) for a in expr.args)
            if set(exponent) - {()}:
                raise NotPolynomial(f"a mutable Param in an exponent: {expr}")
            n = exponent.get((), 0.0)
            if not set(base) - {()}:
                return _const(base.get((), 0.0) ** n)
            if n != int(n) or n < 0:
                raise NotPolynomial(f"a non-integer power of a mutable Param: {expr}")
            out = {(): 1.0}
            for _ in range(int(n)):
                out = _mul(out, base)
            return out
        if any(True for _ in identify_mutable_parameters(expr)):
            raise NotPolynomial(f"unsupported expression of mutable Params: {type(expr).__name__}")
        return _const(value(expr))
    if expr.is_variable_type():
        raise NotPolynomial(f"a Var in a coefficient: {expr}")
    if expr.is_parameter_type() and id(expr) in position:
        return {(position[id(expr)],): 1.0}
    return _const(value(expr))


@dataclass
class _Slots:
    """Polynomials collected while compiling; each gets a slot number."""

    polys: list[Poly] = field(default_factory=list)

    def add(self, p: Poly) -> int:
        self.polys.append(p)
        return len(self.polys) - 1

    def arrays(self, n_params: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(slot, coefficient, factors) of every monomial; factors padded with ``n_params`` (p[n_params] = 1)."""
        degree = max((len(k) for p in self.polys for k in p), default=0)
        slot, coef, fac = [], [], []
        for i, p in enumerate(self.polys):
            for k, c in p.items():
                slot.append(i)
                coef.append(c)
                fac.append(list(k) + [n_params] * (degree - len(k)))
        return (np.asarray(slot, dtype=np.int64), np.asarray(coef, dtype=float),
                np.asarray(fac, dtype=np.int64).reshape(len(slot), degree))


# ----------------------------------------------------------------------------
# Compiling a built model into arrays
# ----------------------------------------------------------------------------
@dataclass
class PlanArrays:
    """Everything a worker needs to re-solve the plan for new Param values, as plain arrays (picklable).

    The LP is in HiGHS's column-wise form. Slots are the numbers that depend on
    mutable Params: matrix coefficients (``coef_rows``/``coef_cols``), row
    bounds (``bound_rows`` with ``lo_slot``/``hi_slot``, -1 where the bound is
    fixed), costs (``cost_cols``) and the objective offset. ``alt_*`` hold a
    second objective (the least cost, in the plan that first maximises what is
    reachable).
    """

    kind: str                                   # "min-cost" or "reach"
    lp: dict[str, Any]
    basis_col: np.ndarray
    basis_row: np.ndarray
    param_names: tuple[str, ...]
    param_keys: tuple[tuple[Any, ...], ...]
    param_start: np.ndarray
    ref_params: np.ndarray
    mono_slot: np.ndarray
    mono_coef: np.ndarray
    mono_fac: np.ndarray
    n_slots: int
    coef_rows: np.ndarray
    coef_cols: np.ndarray
    coef_slot: np.ndarray
    bound_rows: np.ndarray
    lo_slot: np.ndarray
    hi_slot: np.ndarray
    lo_fixed: np.ndarray
    hi_fixed: np.ndarray
    cost_cols: np.ndarray
    cost_slot: np.ndarray
    offset_slot: int
    alt_costs: np.ndarray | None
    alt_cost_cols: np.ndarray
    alt_cost_slot: np.ndarray
    alt_offset: float
    alt_offset_slot: int
    offers: tuple[str, ...]
    years: tuple[int, ...]
    ins_cols: np.ndarray                         # (offer, year) -> column of in_service_gw
    build_cols: np.ndarray                       # (offer, year) -> column of build_gw, -1 if none
    target_rows: np.ndarray                      # rows of the main target (min-cost plan)
    reach_col: int                               # column of ``reachable`` (reach plan), -1 otherwise
    ref_objective: float
    structure: str                               # a fingerprint of the LP's shape (rows, columns, nonzeros)
    col_vars: tuple[tuple[str, Any], ...] = ()   # column -> (Var name, index): for :class:`ModelCheck`

    @property
    def num_col(self) -> int:
        return int(self.lp["num_col"])


def add_reach(m: Any, s: Scenario) -> None:
    """Turn a built plan into the largest-reachable problem of :func:`model.solve.solve_plan`.

    The main target's rows are dropped; a variable ``reachable`` is held by the
    target's measure in every target year and maximised. The least-cost
    objective stays on the model (inactive) for the second step.
    """
    from model.concerns.targets import add_largest_reachable

    add_largest_reachable(m, s)


def compile_plan(s: Scenario, mutable: Iterable[str], kind: str = "min-cost",
                 time_limit: float | None = None) -> PlanArrays:
    """Build, load and solve the plan for ``s`` once; return it as arrays with its Param-dependent slots.

    Parameters
    ----------
    s : Scenario
        The reference case (the swept values a sweep starts from).
    mutable : iterable of str
        Params the sweep changes (a subset of :data:`model.build.SWEEPABLE_PARAMS`).
    kind : {"min-cost", "reach"}
        The least-cost plan meeting the target, or the plan that maximises the
        reachable figure and then minimises cost holding it (for cases whose
        target cannot be met).
    time_limit : float, optional
        Seconds HiGHS may spend on the reference solve.

    Raises
    ------
    NotPolynomial
        If a coefficient depends on a mutable Param in a way the fast path cannot evaluate.
    """
    from pyomo.core.expr.numvalue import native_numeric_types, value
    from pyomo.core.expr.visitor import identify_mutable_parameters
    from pyomo.environ import Objective
    from pyomo.repn import generate_standard_repn

    from model.build import build_model
    from model.solve import make_solver

    mutable = sorted(set(mutable))
    m = build_model(s, mutable)
    if kind == "reach":
        add_reach(m, s)
    elif kind != "min-cost":
        raise ValueError(f"unknown plan kind {kind!r}")
    opt = make_solver(time_limit)
    opt.solve(m)
    h = opt._solver_model                               # the highspy instance appsi loaded the model into
    var_col: dict[int, int] = opt._pyomo_var_to_solver_var_map
    con_row = opt._pyomo_con_to_solver_con_map

    # the Param vector: every index of every mutable Param, in the Param's own order
    names, keys, starts, ref, position = [], [], [], [], {}
    for name in mutable:
        comp = getattr(m, name, None)
        if comp is None:
            continue
        names.append(name)
        starts.append(len(ref))
        ks = tuple(comp.keys())
        keys.append(ks)
        for k in ks:
            position[id(comp[k])] = len(ref)
            ref.append(float(value(comp[k])))
    n_params = len(ref)
    slots = _Slots()

    def has_mutable(*exprs: Any) -> bool:
        for e in exprs:
            if e is None or type(e) in native_numeric_types:
                continue
            if any(True for _ in identify_mutable_parameters(e)):
                return True
        return False

    coef_rows, coef_cols, coef_slot = [], [], []
    bound_rows, lo_slot, hi_slot, lo_fixed, hi_fixed = [], [], [], [], []
    for con, row in con_row.items():
        if not has_mutable(con.body, con.lower, con.upper):
            continue
        repn = generate_standard_repn(con.body, quadratic=False, compute_values=False)
        for coef, var in zip(repn.linear_coefs, repn.linear_vars):
            if type(coef) in native_numeric_types:
                continue
            p = polynomial(coef, position)
            if not set(p) - {()}:
                continue
            coef_rows.append(row)
            coef_cols.append(var_col[id(var)])
            coef_slot.append(slots.add(p))
        constant = polynomial(repn.constant, position)
        sides = []
        for present, bound in ((con.has_lb(), con.lower), (con.has_ub(), con.upper)):
            if not present:
                sides.append((-1, -math.inf if not sides else math.inf))
                continue
            p = _add(polynomial(bound, position), constant, -1.0)
            if set(p) - {()}:
                sides.append((slots.add(p), 0.0))
            else:
                sides.append((-1, p.get((), 0.0)))
        if sides[0][0] >= 0 or sides[1][0] >= 0:
            bound_rows.append(row)
            lo_slot.append(sides[0][0])
            hi_slot.append(sides[1][0])
            lo_fixed.append(sides[0][1])
            hi_fixed.append(sides[1][1])

    def objective_slots(expr: Any) -> tuple[np.ndarray, list[int], list[int], int, float]:
        costs = np.zeros(h.getNumCol())
        cols, slot_ids = [], []
        repn = generate_standard_repn(expr, quadratic=False, compute_values=False)
        for coef, var in zip(repn.linear_coefs, repn.linear_vars):
            col = var_col[id(var)]
            p = polynomial(coef, position)
            costs[col] += p.get((), 0.0) if not set(p) - {()} else 0.0
            if set(p) - {()}:
                cols.append(col)
                slot_ids.append(slots.add(p))
        off = polynomial(repn.constant, position)
        off_slot = slots.add(off) if set(off) - {()} else -1
        return costs, cols, slot_ids, off_slot, off.get((), 0.0) if off_slot < 0 else 0.0

    active = next(m.component_data_objects(Objective, active=True))
    _, cost_cols, cost_slot, offset_slot, _ = objective_slots(active.expr)
    alt_costs, alt_cols, alt_slot, alt_off_slot, alt_off = None, [], [], -1, 0.0
    if kind == "reach":
        alt_costs, alt_cols, alt_slot, alt_off_slot, alt_off = objective_slots(m.total_cost.expr)

    mono_slot, mono_coef, mono_fac = slots.arrays(n_params)
    lp = h.getLp()
    basis = h.getBasis()
    offers, years = tuple(s.offers), tuple(s.years)
    ins_cols = np.array([[var_col[id(m.in_service_gw[o, y])] for y in years] for o in offers], dtype=np.int64)
    build_cols = np.array([[var_col.get(id(m.build_gw[o, y]), -1) if (o, y) in m.OFFER_YEARS else -1
                            for y in years] for o in offers], dtype=np.int64).reshape(len(offers), len(years))
    target_rows = []
    if kind == "min-cost":
        for name in ("target_capacity", "target_compute"):
            comp = getattr(m, name, None)
            if comp is not None:
                target_rows += [con_row[c] for c in comp.values() if c in con_row]
    reach_col = var_col[id(m.reachable)] if kind == "reach" else -1
    from pyomo.environ import Var

    col_vars: list[tuple[str, Any]] = [("", None)] * h.getNumCol()
    for v in m.component_data_objects(Var, descend_into=True):
        col = var_col.get(id(v))
        if col is not None:
            col_vars[col] = (v.parent_component().local_name, v.index())
    a = lp.a_matrix_
    lp_arrays = {
        "num_col": int(lp.num_col_), "num_row": int(lp.num_row_),
        "col_cost": np.array(lp.col_cost_, dtype=float), "col_lower": np.array(lp.col_lower_, dtype=float),
        "col_upper": np.array(lp.col_upper_, dtype=float), "row_lower": np.array(lp.row_lower_, dtype=float),
        "row_upper": np.array(lp.row_upper_, dtype=float), "a_start": np.array(a.start_, dtype=np.int32),
        "a_index": np.array(a.index_, dtype=np.int32), "a_value": np.array(a.value_, dtype=float),
        "sense": int(lp.sense_), "offset": float(lp.offset_),
    }
    status = _status_word(h)
    objective = float(h.getInfo().objective_function_value) if status == "optimal" else math.nan
    return PlanArrays(
        kind=kind, lp=lp_arrays,
        basis_col=np.array([int(x) for x in basis.col_status], dtype=np.int8),
        basis_row=np.array([int(x) for x in basis.row_status], dtype=np.int8),
        param_names=tuple(names), param_keys=tuple(keys), param_start=np.array(starts, dtype=np.int64),
        ref_params=np.array(ref, dtype=float),
        mono_slot=mono_slot, mono_coef=mono_coef, mono_fac=mono_fac, n_slots=len(slots.polys),
        coef_rows=np.array(coef_rows, dtype=np.int32), coef_cols=np.array(coef_cols, dtype=np.int32),
        coef_slot=np.array(coef_slot, dtype=np.int64),
        bound_rows=np.array(bound_rows, dtype=np.int32), lo_slot=np.array(lo_slot, dtype=np.int64),
        hi_slot=np.array(hi_slot, dtype=np.int64), lo_fixed=np.array(lo_fixed, dtype=float),
        hi_fixed=np.array(hi_fixed, dtype=float),
        cost_cols=np.array(cost_cols, dtype=np.int32), cost_slot=np.array(cost_slot, dtype=np.int64),
        offset_slot=offset_slot,
        alt_costs=alt_costs, alt_cost_cols=np.array(alt_cols, dtype=np.int32),
        alt_cost_slot=np.array(alt_slot, dtype=np.int64), alt_offset=alt_off, alt_offset_slot=alt_off_slot,
        offers=offers, years=years, ins_cols=ins_cols, build_cols=build_cols,
        target_rows=np.array(target_rows, dtype=np.int64), reach_col=reach_col, ref_objective=objective,
        structure=f"{lp.num_row_}x{lp.num_col_}/{len(a.value_)}", col_vars=tuple(col_vars),
    )


def _status_word(h: Any) -> str:
    return _HIGHS_STATUS.get(h.getModelStatus().name, "solver_error")


def fresh_lp(s: Scenario, mutable: Iterable[str] = (), kind: str = "min-cost") -> dict[str, Any]:
    """Build ``s`` and load it into HiGHS (without solving); return HiGHS's LP as arrays."""
    from model.build import build_model
    from model.solve import make_solver

    m = build_model(s, sorted(set(mutable)))
    if kind == "reach":
        add_reach(m, s)
    opt = make_solver()
    opt.set_instance(m)
    return lp_arrays_of(opt._solver_model)


def lp_arrays_of(h: Any) -> dict[str, Any]:
    lp = h.getLp()
    a = lp.a_matrix_
    return {"num_col": int(lp.num_col_), "num_row": int(lp.num_row_),
            "col_cost": np.array(lp.col_cost_, dtype=float), "col_lower": np.array(lp.col_lower_, dtype=float),
            "col_upper": np.array(lp.col_upper_, dtype=float), "row_lower": np.array(lp.row_lower_, dtype=float),
            "row_upper": np.array(lp.row_upper_, dtype=float), "a_start": np.array(a.start_, dtype=np.int64),
            "a_index": np.array(a.index_, dtype=np.int64), "a_value": np.array(a.value_, dtype=float),
            "a_rowwise": a.format_.name == "kRowwise", "sense": int(lp.sense_), "offset": float(lp.offset_)}


def lp_difference(a: Mapping[str, Any], b: Mapping[str, Any]) -> str:
    """Where two LPs (as from :func:`fresh_lp`) differ, or ``""`` if they are the same within :data:`MATCH_RTOL`."""
    if (a["num_row"], a["num_col"]) != (b["num_row"], b["num_col"]):
        return f"shape {a['num_row']}x{a['num_col']} vs {b['num_row']}x{b['num_col']}"
    if a["sense"] != b["sense"]:
        return "objective sense"
    for name in ("col_cost", "col_lower", "col_upper", "row_lower", "row_upper"):
        x, y = np.asarray(a[name]), np.asarray(b[name])
        if not np.allclose(x, y, rtol=MATCH_RTOL, atol=1e-12, equal_nan=True):
            i = int(np.flatnonzero(~np.isclose(x, y, rtol=MATCH_RTOL, atol=1e-12, equal_nan=True))[0])
            return f"{name}[{i}]: {_num(x[i])} vs {_num(y[i])} (model units)"
    if not math.isclose(a["offset"], b["offset"], rel_tol=MATCH_RTOL, abs_tol=1e-12):
        return f"objective offset {_num(a['offset'])} vs {_num(b['offset'])} billion USD"
    ka, va = _entries(a)
    kb, vb = _entries(b)
    keys = np.union1d(ka, kb)
    xa, xb = np.zeros(len(keys)), np.zeros(len(keys))
    xa[np.searchsorted(keys, ka)] = va
    xb[np.searchsorted(keys, kb)] = vb
    scale = max(float(np.max(np.abs(xa))) if len(xa) else 0.0, 1.0)
    bad = np.flatnonzero(np.abs(xa - xb) > MATCH_RTOL * scale)
    if len(bad):
        r, c = divmod(int(keys[bad[0]]), int(a["num_col"]))
        return f"matrix[{r},{c}]: {_num(xa[bad[0]])} vs {_num(xb[bad[0]])} (model units)"
    return ""


def _num(x: Any) -> str:
    """A number as people write it (``3.5``, never ``np.float64(3.5)``); anything else as ``repr``."""
    if isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, bool):
        return f"{float(x):.10g}"
    return repr(x)


def _entries(lp: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """The matrix's nonzeros as sorted keys ``row * num_col + col`` and their values (duplicates summed)."""
    start, index = np.asarray(lp["a_start"], dtype=np.int64), np.asarray(lp["a_index"], dtype=np.int64)
    value = np.asarray(lp["a_value"], dtype=float)
    n_outer = len(start) - 1
    outer = np.repeat(np.arange(n_outer, dtype=np.int64), np.diff(start))[:len(index)]
    rows, cols = (outer, index) if lp.get("a_rowwise") else (index, outer)
    keys = rows * int(lp["num_col"]) + cols
    order = np.argsort(keys, kind="stable")
    keys, value = keys[order], value[order]
    uniq, first = np.unique(keys, return_index=True)
    summed = np.add.reduceat(value, first) if len(value) else value
    keep = summed != 0
    return uniq[keep], summed[keep]


# ----------------------------------------------------------------------------
# Re-solving in HiGHS
# ----------------------------------------------------------------------------
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
        self.recorded: list[dict[str, np.ndarray]] | None = None     # set to a list to record what is pushed
        self.reset()

    # -- state ---------------------------------------------------------------
    def reset(self) -> None:
        """Back to the reference LP and its optimal basis."""
        self.h.passModel(self._lp)
        self.h.setBasis(self._basis)
        self._slots = self._ref_slots.copy()
        self._main_costs = np.array(self.a.lp["col_cost"], dtype=float)
        self._main_offset = float(self.a.lp["offset"])
        self._alt_on = False

    def param_vector(self, values: Mapping[str, Mapping]) -> np.ndarray:
        """The Param vector for ``values`` (name -> {index: value}).

        Raises
        ------
        IndexChanged
            If a Param's index differs from the built model's.
        """
        p = np.empty(len(self.a.ref_params))
        for name, keys, start in zip(self.a.param_names, self.a.param_keys, self.a.param_start):
            vals = values.get(name, {})
            if len(vals) != len(keys):
                raise IndexChanged(f"Param {name}: {len(vals)} values for an index of {len(keys)}")
            try:
                p[start:start + len(keys)] = [vals[k] for k in keys]
            except KeyError as exc:
                raise IndexChanged(f"Param {name}: no value for index {exc.args[0]!r}") from None
        return p

    def _evaluate(self, p: np.ndarray) -> np.ndarray:
        self._p[:-1] = p
        a = self.a
        if not len(a.mono_slot):
            return np.zeros(a.n_slots)
        terms = a.mono_coef * np.prod(self._p[a.mono_fac], axis=1) if a.mono_fac.shape[1] else a.mono_coef.copy()
        return np.bincount(a.mono_slot, weights=terms, minlength=a.n_slots)

    def set_params(self, p: np.ndarray) -> None:
        """Push the coefficients, bounds and costs that ``p`` changes into HiGHS."""
        a, h = self.a, self.h
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
        """
        self.h.run()
        status = _status_word(self.h)
        if status == "optimal":
            worst = self.worst_violation()
            if worst > CHECK_TOLERANCE:
                self.check_message = f"the solution breaks a constraint by {worst:.3g} (relative to its bound)"
                return "solver_error"
        return status

    def worst_violation(self, x: np.ndarray | None = None) -> float:
        """Largest violation of a row or column bound by ``x`` (default: the current solution), relative to
        max(1, |bound|)."""
        lp = self.h.getLp()
        x = np.asarray(self.h.getSolution().col_value if x is None else x, dtype=float)
        a = lp.a_matrix_
        start, index, value = (np.asarray(a.start_), np.asarray(a.index_), np.asarray(a.value_, dtype=float))
        cols = np.repeat(np.arange(lp.num_col_), np.diff(start))
        activity = np.bincount(index, weights=value * x[cols], minlength=lp.num_row_)

        def excess(v: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> float:
            lo, hi = np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)
            with np.errstate(invalid="ignore"):
                over = np.maximum(np.where(np.isfinite(lo), lo - v, 0.0), np.where(np.isfinite(hi), v - hi, 0.0))
                scale = np.maximum(1.0, np.maximum(np.where(np.isfinite(lo), np.abs(lo), 0.0),
                                                   np.where(np.isfinite(hi), np.abs(hi), 0.0)))
            return float(np.max(over / scale, initial=0.0))

        return max(excess(activity, lp.row_lower_, lp.row_upper_), excess(x, lp.col_lower_, lp.col_upper_))

    def col_values(self) -> np.ndarray:
        return np.asarray(self.h.getSolution().col_value, dtype=float)

    def objective(self) -> float:
        return float(self.h.getInfo().objective_function_value)

    def solve_min_cost(self) -> CaseSolve:
        """Least cost meeting the target (a ``min-cost`` plan)."""
        status = self.run()
        if status != "optimal":
            return CaseSolve(status)
        sol = self.h.getSolution()
        duals = np.asarray(sol.row_dual, dtype=float)[self.a.target_rows] if len(self.a.target_rows) else []
        return CaseSolve("optimal", self.objective(), col_value=np.asarray(sol.col_value, dtype=float),
                         target_dual=float(np.sum(duals)))

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
            h.changeColsCost(a.num_col, cols, self._main_costs)
            h.changeObjectiveOffset(self._main_offset)
            h.changeObjectiveSense(highspy.ObjSense(a.lp["sense"]))
            self._alt_on = False

    def lp(self) -> dict[str, Any]:
        """The LP HiGHS holds now, as arrays (to compare with a fresh build)."""
        return lp_arrays_of(self.h)


class ModelCheck:
    """Checks a fast-path solution against the case's own model, not against the LP HiGHS holds.

    The fast path solves the reference LP with the coefficients, bounds and
    costs that depend on the swept Params pushed into HiGHS. Checking the
    solution against the LP HiGHS holds (as :meth:`HighsPlan.worst_violation`
    does) cannot catch a wrongly patched LP. This check builds its own Pyomo
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
        col_of = {}
        for col, (name, index) in enumerate(arrays.col_vars):
            if name:
                comp = getattr(m, name)
                col_of[id(comp if index is None else comp[index])] = col
        self.num_col = len(arrays.col_vars)

        def mutable(e: Any) -> bool:
            return e is not None and not isinstance(e, (int, float)) and \
                any(True for _ in identify_mutable_parameters(e))

        slots = _Slots()
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
            lo.append(slots.add(_add(polynomial(con.lower, position), constant, -1.0)) if con.has_lb() else -1)
            hi.append(slots.add(_add(polynomial(con.upper, position), constant, -1.0)) if con.has_ub() else -1)
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
        p[:-1] = [values[name][k] for name, k in self.param_index]
        if not len(self.mono_slot):
            return np.zeros(self.n_slots)
        terms = self.mono_coef * np.prod(p[self.mono_fac], axis=1) if self.mono_fac.shape[1] else self.mono_coef
        return np.bincount(self.mono_slot, weights=terms, minlength=self.n_slots)

    def __call__(self, values: Mapping[str, Mapping], x: np.ndarray, objective_bnusd: float) -> str:
        """``""`` when the solution ``x`` holds the case's rows and its cost is ``objective_bnusd``; else what fails.

        ``values``: the case's Param values by name (:func:`model.build.param_values`).
        """
        from model.checks import RELATIVE_TOLERANCE

        try:
            v = self.slot_values(values)
        except KeyError as exc:
            return f"the case has no value for Param index {exc.args[0]!r}"
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
            return (f"row {self.row_names[i]} is off by {miss[i]:.3g} (recomputed {activity[i]:.6g}, bounds "
                    f"{lo[i]:.6g} .. {hi[i]:.6g}) in the case's own model")
        cost = float(np.dot(v[self.o_slot], x[self.o_col]) + v[self.offset_slot])
        if not math.isfinite(objective_bnusd) or \
                abs(cost - objective_bnusd) > RELATIVE_TOLERANCE * max(1.0, abs(cost)):
            return (f"the total cost in the case's own model is {cost:.9g} billion USD, the fast path's "
                    f"{objective_bnusd:.9g}")
        return ""


def highs_lp(arrays: Mapping[str, Any]) -> Any:
    import highspy

    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = arrays["num_col"], arrays["num_row"]
    lp.col_cost_, lp.col_lower_, lp.col_upper_ = arrays["col_cost"], arrays["col_lower"], arrays["col_upper"]
    lp.row_lower_, lp.row_upper_ = arrays["row_lower"], arrays["row_upper"]
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = arrays["num_col"], arrays["num_row"]
    lp.a_matrix_.start_, lp.a_matrix_.index_ = arrays["a_start"], arrays["a_index"]
    lp.a_matrix_.value_ = arrays["a_value"]
    lp.sense_ = highspy.ObjSense(arrays["sense"])
    lp.offset_ = arrays["offset"]
    return lp


# ----------------------------------------------------------------------------
# Case scenarios without the loader
# ----------------------------------------------------------------------------
class _Missing:
    """A path absent from a Scenario (a dict entry a key removes or adds)."""

    def __repr__(self) -> str:
        return "<missing>"

    def __reduce__(self):
        return (_missing, ())


def _missing() -> "_Missing":
    return MISSING


MISSING = _Missing()


def flatten(s: Scenario) -> dict[tuple, Any]:
    """Every input figure of ``s`` by path: ``("pue", ("US-Texas", 2030))``, ``("deals", 3, "min_gw")``, ..."""
    out: dict[tuple, Any] = {}
    for f in fields(s):
        if f.name not in METADATA_FIELDS:
            flatten_fields(getattr(s, f.name), (f.name,), out)
    return out


def flatten_fields(v: Any, path: tuple, out: dict[tuple, Any]) -> None:
    if is_dataclass(v):
        for f in fields(v):
            flatten_fields(getattr(v, f.name), path + (f.name,), out)
    elif isinstance(v, dict):
        for k, x in v.items():
            flatten_fields(x, path + (k,), out)
    elif isinstance(v, tuple) and v and is_dataclass(v[0]):
        for i, x in enumerate(v):
            flatten_fields(x, path + (i,), out)
    else:
        out[path] = v


def same_value(a: Any, b: Any) -> bool:
    if a is MISSING or b is MISSING:
        return a is b
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    return type(a) is type(b) and a == b


def _close(a: Any, b: Any) -> bool:
    return math.isclose(a, b, rel_tol=MATCH_RTOL, abs_tol=1e-12)


def scenario_difference(a: Scenario, b: Scenario) -> str:
    """The first input figure where ``a`` and ``b`` differ (within :data:`MATCH_RTOL`), or ``""``."""
    fa, fb = flatten(a), flatten(b)
    for path in sorted(set(fa) | set(fb), key=repr):
        x, y = fa.get(path, MISSING), fb.get(path, MISSING)
        if isinstance(x, float) and isinstance(y, float):
            if not _close(x, y):
                return f"{'.'.join(map(str, path))}: {_num(x)} vs {_num(y)}"
        elif not same_value(x, y):
            return f"{'.'.join(map(str, path))}: {_num(x)} vs {_num(y)}"
    return ""


@dataclass(frozen=True)
class CaseDeriver:
    """The Scenario of a sweep case, from the loader: every case passes the validation run.py applies.

    Parameters
    ----------
    base : BaseInputs
        The files, read once.
    fixed_sets : tuple of str
        ``--set`` assignments every case shares.
    target : TargetSpec
        The base target (``--target``, ``--year``).
    units : dict
        key -> unit text of the key's values (as the loader reads them).
    to_canonical : dict
        key -> factor from that unit to the model's unit.
    reference : Scenario
        The loader's Scenario for ``reference_values`` (the plan is compiled for it).
    reference_values : dict
        The swept values the reference was loaded with (empty: the base).

    Notes
    -----
    An earlier version patched a case's Scenario from fits of each key made
    before the sweep, checking each key's range alone: a case breaking a rule
    between values (a deal's minimum above its maximum) was solved although
    run.py refuses it. The loader is cheap enough now (unit texts are parsed
    once per process, :func:`model.units.unit_cell`) to run for every case.
    """

    base: BaseInputs
    fixed_sets: tuple[str, ...]
    target: TargetSpec
    units: dict[str, str]
    to_canonical: dict[str, float]
    reference: Scenario | None
    reference_values: dict[str, float]

    def loader_inputs(self, values: Mapping[str, float]) -> tuple[list[str], TargetSpec]:
        """The ``--set`` assignments and target the loader gets for ``values``."""
        sets = list(self.fixed_sets)
        target = self.target
        for key, v in values.items():
            text = f"{float(v)!r} {self.units[key]}".strip()
            if key == "target":
                target = replace(target, text=text)
            else:
                sets.append(f"{key}={text}")
        return sets, target

    def exact(self, values: Mapping[str, float]) -> Scenario:
        """The loader's Scenario for ``values`` (key -> value in the key's unit).

        Raises
        ------
        InputErrors
            When the loader refuses the case's values, as run.py would.
        """
        sets, target = self.loader_inputs(values)
        return load_variant(self.base, sets, target)

    def derive(self, values: Mapping[str, float]) -> tuple[Scenario, str]:
        """The case's Scenario and how it was made (always ``"loader"``)."""
        return self.exact(values), "loader"


def target_kind(s: Scenario) -> tuple[str, int, str]:
    """(kind, year, basis) of ``s``'s main target."""
    t = s.main_target
    year = min(x.year for x in s.targets if x.main)
    return t.kind, year, getattr(t, "basis", "it")


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


def changed_params(reference: Scenario, others: Iterable[Scenario]) -> tuple[set[str], set[str]]:
    """Params whose values differ between the reference and any of ``others``, and those whose index differs."""
    from model.build import param_values

    ref = param_values(reference)
    changed, reindexed = set(), set()
    for s in others:
        vals = param_values(s)
        for name in set(ref) | set(vals):
            a, b = ref.get(name, {}), vals.get(name, {})
            if set(a) != set(b):
                reindexed.add(name)
                changed.add(name)
            elif any(not _same_number(a[k], b[k]) for k in a):
                changed.add(name)
    return changed, reindexed


def _same_number(x: Any, y: Any) -> bool:
    try:
        return math.isclose(float(x), float(y), rel_tol=0.0, abs_tol=0.0) or x == y
    except (TypeError, ValueError):
        return x == y


def plan_readout(arrays: PlanArrays, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """In-service and built capacity (offer x year, GW) from a solution's column values."""
    ins = values[arrays.ins_cols]
    build = np.where(arrays.build_cols >= 0, values[np.maximum(arrays.build_cols, 0)], 0.0)
    return ins, build

