"""Compile a built model once: its LP as arrays and every swept number as a polynomial in the Params."""
from __future__ import annotations

import math
from typing import Any, Callable, Iterable, Mapping

import numpy as np

from model.fastsolve.appsi import columns_of, highs_of, rows_of
from model.fastsolve.lp import PlanArrays, lp_arrays_of, status_word
from model.fastsolve.polynomial import Slots, add_poly, polynomial
from model.scenario import Scenario


def add_reach(m: Any, s: Scenario) -> None:
    """Turn a built plan into the largest-reachable problem of :func:`model.solve.solve_plan`.

    The main target's rows are dropped; a variable ``reachable`` is held by the
    target's measure in every target year and maximised. The least-cost
    objective stays on the model (inactive) for the second step.
    """
    from model.concerns.targets import add_largest_reachable

    add_largest_reachable(m, s)


def compile_plan(s: Scenario, mutable: Iterable[str], kind: str = "min-cost",
                 time_limit: float | None = None,
                 build: Callable[[Scenario, list[str]], Any] | None = None) -> PlanArrays:
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
    build : callable, optional
        ``build(s, mutable)`` -> a model with one active objective, built instead of
        :func:`model.build.build_model` (a stochastic future, model/decompose_template.py);
        only with ``kind="min-cost"``.

    Raises
    ------
    NotPolynomial
        If a coefficient depends on a mutable Param in a way the fast path cannot evaluate.
    """
    from pyomo.environ import Objective

    from model.build import build_model
    from model.solve import make_solver

    mutable = sorted(set(mutable))
    if build is not None and kind != "min-cost":
        raise ValueError("a model builder compiles only a min-cost plan")
    m = build_model(s, mutable) if build is None else build(s, mutable)
    if kind == "reach":
        add_reach(m, s)
    elif kind != "min-cost":
        raise ValueError(f"unknown plan kind {kind!r}")
    opt = make_solver(time_limit)
    opt.solve(m)
    h, var_col, con_row = highs_of(opt), columns_of(opt), rows_of(opt)

    names, keys, starts, ref, position = _param_vector(m, mutable)
    slots = Slots()
    rows = _row_slots(con_row, var_col, position, slots)
    active = next(m.component_data_objects(Objective, active=True))
    _, cost_cols, cost_slot, offset_slot, _ = _objective_slots(active.expr, h.getNumCol(), var_col, position, slots)
    alt_costs, alt_cols, alt_slot, alt_off_slot, alt_off = None, [], [], -1, 0.0
    if kind == "reach":
        alt_costs, alt_cols, alt_slot, alt_off_slot, alt_off = _objective_slots(m.total_cost.expr, h.getNumCol(),
                                                                                 var_col, position, slots)
    mono_slot, mono_coef, mono_fac = slots.arrays(len(ref))
    lp = h.getLp()
    basis = h.getBasis()
    offers, years = tuple(s.offers), tuple(s.years)
    ins_cols, build_cols, target_rows, reach_col, col_vars = _result_columns(m, s, kind, var_col, con_row,
                                                                             h.getNumCol())
    a = lp.a_matrix_
    lp_arrays = {
        "num_col": int(lp.num_col_), "num_row": int(lp.num_row_),
        "col_cost": np.array(lp.col_cost_, dtype=float), "col_lower": np.array(lp.col_lower_, dtype=float),
        "col_upper": np.array(lp.col_upper_, dtype=float), "row_lower": np.array(lp.row_lower_, dtype=float),
        "row_upper": np.array(lp.row_upper_, dtype=float), "a_start": np.array(a.start_, dtype=np.int32),
        "a_index": np.array(a.index_, dtype=np.int32), "a_value": np.array(a.value_, dtype=float),
        "sense": int(lp.sense_), "offset": float(lp.offset_),
    }
    status = status_word(h)
    objective = float(h.getInfo().objective_function_value) if status == "optimal" else math.nan
    return PlanArrays(
        kind=kind, lp=lp_arrays,
        basis_col=np.array([int(x) for x in basis.col_status], dtype=np.int8),
        basis_row=np.array([int(x) for x in basis.row_status], dtype=np.int8),
        param_names=tuple(names), param_keys=tuple(keys), param_start=np.array(starts, dtype=np.int64),
        ref_params=np.array(ref, dtype=float),
        mono_slot=mono_slot, mono_coef=mono_coef, mono_fac=mono_fac, n_slots=len(slots.polys),
        coef_rows=np.array(rows["coef_rows"], dtype=np.int32), coef_cols=np.array(rows["coef_cols"], dtype=np.int32),
        coef_slot=np.array(rows["coef_slot"], dtype=np.int64),
        bound_rows=np.array(rows["bound_rows"], dtype=np.int32), lo_slot=np.array(rows["lo_slot"], dtype=np.int64),
        hi_slot=np.array(rows["hi_slot"], dtype=np.int64), lo_fixed=np.array(rows["lo_fixed"], dtype=float),
        hi_fixed=np.array(rows["hi_fixed"], dtype=float),
        cost_cols=np.array(cost_cols, dtype=np.int32), cost_slot=np.array(cost_slot, dtype=np.int64),
        offset_slot=offset_slot,
        alt_costs=alt_costs, alt_cost_cols=np.array(alt_cols, dtype=np.int32),
        alt_cost_slot=np.array(alt_slot, dtype=np.int64), alt_offset=alt_off, alt_offset_slot=alt_off_slot,
        offers=offers, years=years, ins_cols=ins_cols, build_cols=build_cols,
        target_rows=np.array(target_rows, dtype=np.int64), reach_col=reach_col, ref_objective=objective,
        structure=f"{lp.num_row_}x{lp.num_col_}/{len(a.value_)}", col_vars=tuple(col_vars),
        **(limit_rows(m, s, con_row) if kind == "reach" else {}),
    )


def limit_rows(m: Any, s: Scenario, con_row: Mapping[Any, int]) -> dict[str, Any]:
    """The rows :func:`model.solve.diagnose_conflicts` gives an elastic slack, as HiGHS rows.

    Every active limit row that is a limit (not history) and one-sided: sign -1 for ``body - e <= upper``,
    +1 for ``body + e >= lower``. The main target's rows are already dropped in a reach plan.
    """
    from model.build import describe_limit, limits

    rows, keys, sign = [], [], []
    for name in limits():
        comp = getattr(m, name, None)
        if comp is None or not comp.active:
            continue
        for idx, con in comp.items():
            if not con.active or con not in con_row or describe_limit(s, name, idx) is None:
                continue
            if con.has_ub() != con.has_lb():
                rows.append(con_row[con])
                keys.append((name, idx))
                sign.append(-1.0 if con.has_ub() else 1.0)
    return {"limit_rows": np.array(rows, dtype=np.int32), "limit_keys": tuple(keys),
            "limit_sign": np.array(sign, dtype=float)}


def _param_vector(m: Any, mutable: Iterable[str]) -> tuple[list, list, list, list[float], dict[int, int]]:
    """The Param vector: every index of every mutable Param, in the Param's own order.

    Returns names, index keys per Param, start of each Param in the vector, reference values,
    and the vector position of each Param data object (by ``id``).
    """
    from pyomo.core.expr.numvalue import value

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
    return names, keys, starts, ref, position


def _has_mutable(*exprs: Any) -> bool:
    from pyomo.core.expr.numvalue import native_numeric_types
    from pyomo.core.expr.visitor import identify_mutable_parameters

    for e in exprs:
        if e is None or type(e) in native_numeric_types:
            continue
        if any(True for _ in identify_mutable_parameters(e)):
            return True
    return False


def _row_slots(con_row: Mapping[Any, int], var_col: Mapping[int, int], position: Mapping[int, int],
               slots: Slots) -> dict[str, list]:
    """Matrix coefficients and row bounds that depend on a mutable Param, each given a slot."""
    from pyomo.core.expr.numvalue import native_numeric_types
    from pyomo.repn import generate_standard_repn

    out: dict[str, list] = {k: [] for k in ("coef_rows", "coef_cols", "coef_slot", "bound_rows", "lo_slot",
                                            "hi_slot", "lo_fixed", "hi_fixed")}
    for con, row in con_row.items():
        if not _has_mutable(con.body, con.lower, con.upper):
            continue
        repn = generate_standard_repn(con.body, quadratic=False, compute_values=False)
        for coef, var in zip(repn.linear_coefs, repn.linear_vars):
            if type(coef) in native_numeric_types:
                continue
            p = polynomial(coef, position)
            if not set(p) - {()}:
                continue
            out["coef_rows"].append(row)
            out["coef_cols"].append(var_col[id(var)])
            out["coef_slot"].append(slots.add(p))
        constant = polynomial(repn.constant, position)
        sides = []
        for present, bound in ((con.has_lb(), con.lower), (con.has_ub(), con.upper)):
            if not present:
                sides.append((-1, -math.inf if not sides else math.inf))
                continue
            p = add_poly(polynomial(bound, position), constant, -1.0)
            if set(p) - {()}:
                sides.append((slots.add(p), 0.0))
            else:
                sides.append((-1, p.get((), 0.0)))
        if sides[0][0] >= 0 or sides[1][0] >= 0:
            out["bound_rows"].append(row)
            out["lo_slot"].append(sides[0][0])
            out["hi_slot"].append(sides[1][0])
            out["lo_fixed"].append(sides[0][1])
            out["hi_fixed"].append(sides[1][1])
    return out


def _objective_slots(expr: Any, n_col: int, var_col: Mapping[int, int], position: Mapping[int, int],
                     slots: Slots) -> tuple[np.ndarray, list[int], list[int], int, float]:
    """Costs of an objective: fixed costs per column, the columns and slots of Param-dependent costs, the offset."""
    from pyomo.repn import generate_standard_repn

    costs = np.zeros(n_col)
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


def _result_columns(m: Any, s: Scenario, kind: str, var_col: Mapping[int, int], con_row: Mapping[Any, int],
                    n_col: int) -> tuple[np.ndarray, np.ndarray, list[int], int, list[tuple[str, Any]]]:
    """Where the results are: columns of ``in_service_gw`` and ``build_gw``, the main target's rows, the reach
    column, and the (variable name, index) of every column."""
    from pyomo.environ import Var

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
    col_vars: list[tuple[str, Any]] = [("", None)] * n_col
    for v in m.component_data_objects(Var, descend_into=True):
        col = var_col.get(id(v))
        if col is not None:
            col_vars[col] = (v.parent_component().local_name, v.index())
    return ins_cols, build_cols, target_rows, reach_col, col_vars


def fresh_lp(s: Scenario, mutable: Iterable[str] = (), kind: str = "min-cost",
             build: Callable[[Scenario, list[str]], Any] | None = None) -> dict[str, Any]:
    """Build ``s`` (with ``build(s, mutable)`` when given) and load it into HiGHS (without solving); return
    HiGHS's LP as arrays."""
    from model.build import build_model
    from model.solve import make_solver

    m = build_model(s, sorted(set(mutable))) if build is None else build(s, sorted(set(mutable)))
    if kind == "reach":
        add_reach(m, s)
    opt = make_solver()
    opt.set_instance(m)
    return lp_arrays_of(highs_of(opt))


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
