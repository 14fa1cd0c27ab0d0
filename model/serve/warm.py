"""Warm plans: the model built and compiled once per target year, and read back for the page."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence


@dataclass
class Readout:
    """A Pyomo model built like the compiled plan, to read a solution out as ``run.py`` does."""

    model: Any
    col_vars: list[Any]          # column -> Pyomo VarData (None where no variable)
    row_cons: list[Any]          # row -> Pyomo ConstraintData
    pushed: dict[str, dict] = field(default_factory=dict)


@dataclass
class WarmPlan:
    """The plan for one (target kind, year, basis), built once: compiled arrays, HiGHS instances, read-out models."""

    key: tuple[str, int, str]
    reference: Any                   # Scenario
    flat: dict[tuple, Any]
    names: tuple[str, ...]
    cost: Any                        # HighsPlan (least cost meeting the target)
    reach: Any                       # HighsPlan (largest reachable, then least cost holding it)
    cost_out: Readout
    reach_out: Readout
    target_rows: Any = None          # rows of the main target in the least-cost LP
    held_rows: list = field(default_factory=list)    # rows of ``reachable_held`` in the reach LP, in Pyomo's order
    held_cons: list = field(default_factory=list)    # their Pyomo constraints
    reach_to_cost: Any = None        # reach LP column -> least-cost LP column (``reachable``: one past the last)
    proven: set = field(default_factory=set)        # figures proven to move only the pushed numbers
    structural: dict = field(default_factory=dict)  # figure -> why it needs a fresh build
    compile_s: float = 0.0


def read_out(s: Any, names: Sequence[str], kind: str, lp: Mapping[str, Any]) -> Readout:
    """Build the plan again and load it into HiGHS (unsolved) to map columns and rows to Pyomo components.

    Raises
    ------
    RuntimeError
        If this build's LP differs from the compiled one (the maps would not fit).
    """
    from pyomo.environ import Var

    from model.build import build_model
    from model.fastsolve import add_reach, lp_arrays_of, lp_difference
    from model.fastsolve.appsi import columns_of, highs_of, rows_of
    from model.solve import make_solver

    m = build_model(s, names)
    if kind == "reach":
        add_reach(m, s)
    opt = make_solver()
    opt.set_instance(m)
    diff = lp_difference(lp_arrays_of(highs_of(opt)), lp)
    if diff:
        raise RuntimeError(f"the read-out model differs from the compiled plan ({diff})")
    col_vars: list[Any] = [None] * int(lp["num_col"])
    cols = columns_of(opt)
    for v in m.component_data_objects(Var, descend_into=True):
        c = cols.get(id(v))
        if c is not None:
            col_vars[c] = v
    row_cons: list[Any] = [None] * int(lp["num_row"])
    for con, r in rows_of(opt).items():
        row_cons[r] = con
    return Readout(m, col_vars, row_cons)


def compile_warm(s: Any) -> WarmPlan:
    """Compile the warm plan for the target kind and year of ``s`` (the reference case)."""
    import numpy as np

    from model.build import SWEEPABLE_PARAMS
    from model.fastsolve import HighsPlan, compile_plan, flatten, target_kind

    t0 = time.perf_counter()
    names = tuple(sorted(SWEEPABLE_PARAMS))
    cost_arrays = compile_plan(s, names, "min-cost")
    reach_arrays = compile_plan(s, names, "reach")
    used = tuple(cost_arrays.param_names)
    plan = WarmPlan(target_kind(s), s, flatten(s), used, HighsPlan(cost_arrays), HighsPlan(reach_arrays),
                    read_out(s, names, "min-cost", cost_arrays.lp), read_out(s, names, "reach", reach_arrays.lp))
    plan.target_rows = cost_arrays.target_rows
    m_reach = plan.reach_out.model
    row_of = {id(c): r for r, c in enumerate(plan.reach_out.row_cons) if c is not None}
    plan.held_cons = list(m_reach.reachable_held.values())
    plan.held_rows = [row_of[id(c)] for c in plan.held_cons]
    col_of = {v.name: c for c, v in enumerate(plan.cost_out.col_vars) if v is not None}
    n = cost_arrays.num_col
    plan.reach_to_cost = np.array([n if v is None or v.name == "reachable" else col_of[v.name]
                                   for v in plan.reach_out.col_vars], dtype=np.int64)
    plan.compile_s = time.perf_counter() - t0
    return plan


def changed_figures(plan: WarmPlan, s: Any) -> dict[tuple, Any]:
    """The input figures of ``s`` that differ from the warm plan's reference, by path (number -> path,
    anything else -> (path, value): a switch or a whole-year figure is proven value by value)."""
    from dataclasses import fields

    from model.fastsolve import METADATA_FIELDS, MISSING, flatten_fields, same_value

    ref, now = {}, {}
    for f in fields(s):
        a, b = getattr(plan.reference, f.name), getattr(s, f.name)
        if f.name in METADATA_FIELDS or a == b:       # most fields are equal: compared whole, in C
            continue
        flatten_fields(a, (f.name,), ref)
        flatten_fields(b, (f.name,), now)
    out: dict[tuple, Any] = {}
    for path in set(ref) | set(now):
        a, b = ref.get(path, MISSING), now.get(path, MISSING)
        if same_value(a, b):
            continue
        if isinstance(a, float) and isinstance(b, float):
            out[path] = path
        else:
            out[path] = (path, repr(b))
    return out


def figure_label(path: tuple) -> str:
    return ".".join(str(p) for p in path)
