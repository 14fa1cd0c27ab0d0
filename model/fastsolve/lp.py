"""The LP as plain arrays (HiGHS's column-wise form): read from HiGHS, compared, loaded into a new HiGHS."""
from __future__ import annotations

import math
import operator
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

#: Relative tolerance when two LPs or two Scenarios are compared.
MATCH_RTOL = 1e-9


HIGHS_STATUS = {
    "kOptimal": "optimal",
    "kInfeasible": "infeasible",
    "kUnboundedOrInfeasible": "infeasible_or_unbounded",
    "kUnbounded": "unbounded",
    "kTimeLimit": "time_limit",
    "kIterationLimit": "time_limit",
}


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
    # the rows model.solve.diagnose_conflicts relaxes (reach plans): row, (constraint name, index), slack's sign
    limit_rows: np.ndarray | None = None
    limit_keys: tuple[tuple[str, Any], ...] = ()
    limit_sign: np.ndarray | None = None

    @property
    def num_col(self) -> int:
        return int(self.lp["num_col"])


def param_vector(arrays: PlanArrays, values: Mapping[str, Mapping]) -> np.ndarray:
    """The Param vector p of the compiled plan ``arrays`` for ``values`` (name -> {index: value}).

    Slot ``param_start[i] + j`` holds Param ``param_names[i]`` at index ``param_keys[i][j]``. The one
    place this vector is made, for a sweep's plan (:meth:`model.fastsolve.HighsPlan.param_vector`) and a
    future's template (:meth:`model.decompose_template.Template.param_vector`) alike.

    Raises
    ------
    model.fastsolve.IndexChanged
        If a Param's index differs from the compiled model's (a value too many, too few, or missing).
    """
    from model.fastsolve.polynomial import IndexChanged

    p = np.empty(len(arrays.ref_params))
    for name, keys, start in zip(arrays.param_names, arrays.param_keys, arrays.param_start):
        vals = values.get(name, {})
        if len(vals) != len(keys):
            raise IndexChanged(f"Param {name}: {len(vals)} values for an index of {len(keys)}")
        p[start:start + len(keys)] = values_in_order(name, vals, keys)
    return p


#: Per index (by object): the index and the key objects of the last dict found to hold its keys in its order.
#: The concerns make a case's keys as the very same tuples each case (model.assemble.series.pairs), so the
#: next case's order is confirmed by identity, in C, instead of comparing every key.
_IN_ORDER: dict[int, tuple[Sequence, tuple]] = {}


def values_in_order(name: str, vals: Mapping, keys: Sequence) -> Any:
    """``[vals[k] for k in keys]`` (``vals`` holding as many entries as ``keys``): read in C, in one pass over
    ``vals``, when its keys come in the order of ``keys`` (as the concerns make them); else key by key.

    Raises
    ------
    model.fastsolve.IndexChanged
        If a key has no value.
    """
    from model.fastsolve.polynomial import IndexChanged

    seen = _IN_ORDER.get(id(keys))
    if seen is not None and seen[0] is keys and len(seen[1]) == len(vals) and all(map(operator.is_, seen[1], vals)):
        return np.fromiter(vals.values(), float, len(keys))          # the very key objects found in order before
    if tuple(vals) == tuple(keys):
        if len(_IN_ORDER) > 256:
            _IN_ORDER.clear()
        _IN_ORDER[id(keys)] = (keys, tuple(vals))
        return np.fromiter(vals.values(), float, len(keys))
    try:
        return list(map(vals.__getitem__, keys))
    except KeyError as exc:
        raise IndexChanged(f"Param {name}: no value for index {exc.args[0]!r}") from None


def status_word(h: Any) -> str:
    return HIGHS_STATUS.get(h.getModelStatus().name, "solver_error")


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
            return f"{name}[{i}]: {number_text(x[i])} vs {number_text(y[i])} (model units)"
    if not math.isclose(a["offset"], b["offset"], rel_tol=MATCH_RTOL, abs_tol=1e-12):
        return f"objective offset {number_text(a['offset'])} vs {number_text(b['offset'])} billion USD"
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
        return f"matrix[{r},{c}]: {number_text(xa[bad[0]])} vs {number_text(xb[bad[0]])} (model units)"
    return ""


def number_text(x: Any) -> str:
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


def plan_readout(arrays: PlanArrays, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """In-service and built capacity (offer x year, GW) from a solution's column values."""
    ins = values[arrays.ins_cols]
    build = np.where(arrays.build_cols >= 0, values[np.maximum(arrays.build_cols, 0)], 0.0)
    return ins, build
