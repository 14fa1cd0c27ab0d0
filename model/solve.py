"""Solve with HiGHS; diagnose missed targets; say binding limits in plain words.

The flow for a run:

1. minimise cost subject to every constraint (``optimal`` if it solves);
2. if that is infeasible, relax the main target and maximise the capacity
   (or compute) that can be held in service from the target year on: the
   largest reachable figure. Its duals say which limits cap it;
3. minimise cost while holding that figure: the least-cost plan for it
   (status ``target_missed``);
4. if even step 2 is infeasible, the inputs contradict each other without
   the target: every limit gets an elastic slack, the total slack is
   minimised, and the limits that had to give are named (status
   ``infeasible``).

``--objective max-capacity`` runs steps 2 and 3 directly.
"""
from __future__ import annotations

import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pyomo.contrib.appsi.base import TerminationCondition
from pyomo.contrib.appsi.solvers.highs import Highs
from pyomo.environ import ConcreteModel, NonNegativeReals, Objective, Var, value

from model.fmt import sig
from model.build import build_model, describe_limit, limits
from model.concerns.targets import add_largest_reachable, main_targets
from model.scenario import Scenario

#: Duals smaller than this (model units: billion USD or GW per unit) are not "binding".
DUAL_TOLERANCE = 1e-7

_MODEL_ROOT = Path(__file__).resolve().parent


class ModelCodeError(RuntimeError):
    """An exception inside the project's own build/solve/check code: a bug, never reported as a solver failure.

    ``where`` names the innermost frame of the project's code (``model/solve.py:123 in explain_duals``)
    and, when the exception was raised deeper (in Pyomo), that frame too. Picklable.
    """

    def __init__(self, detail: str, where: str) -> None:
        self.detail, self.where = detail, where
        super().__init__(f"internal error in the model code, not a solver failure ({where}): {detail}")

    def __reduce__(self):
        return (ModelCodeError, (self.detail, self.where))

    @classmethod
    def from_exception(cls, exc: BaseException) -> "ModelCodeError":
        frames = traceback.extract_tb(exc.__traceback__)
        ours = [f for f in frames if Path(f.filename).resolve().is_relative_to(_MODEL_ROOT)]
        where = []
        if ours:
            f = ours[-1]
            where.append(f"model/{Path(f.filename).resolve().relative_to(_MODEL_ROOT).as_posix()}:{f.lineno} "
                         f"in {f.name}")
        if frames and (not ours or frames[-1] is not ours[-1]):
            f = frames[-1]
            where.append(f"raised in {Path(f.filename).name}:{f.lineno} in {f.name}")
        return cls(f"{type(exc).__name__}: {exc}", "; ".join(where) or "no traceback")


def _raised_by_solver(exc: BaseException) -> bool:
    """False when the exception came from handing our model to HiGHS, True when HiGHS (or its stand-in) failed.

    Building HiGHS's problem from our model (appsi's ``set_instance``/``update``:
    evaluating our expressions and Params in ``pyomo.core``/``pyomo.repn``) is
    our code's work, and an exception there is a bug. An exception raised while
    HiGHS runs (appsi's ``_solve``, highspy) or by the solver object itself is a
    solver failure.
    """
    frames = traceback.extract_tb(exc.__traceback__)
    for f in frames:
        path = Path(f.filename).as_posix()
        if "/highspy/" in path or (f.name in ("_solve", "_postsolve") and path.endswith("appsi/solvers/highs.py")):
            return True
    for f in frames:
        path = Path(f.filename).as_posix()
        if "/pyomo/core/" in path or "/pyomo/repn/" in path or (
                "/pyomo/contrib/appsi/" in path and f.name in _TRANSLATION_STEPS):
            return False
    return True


#: appsi's steps that translate our model into HiGHS's problem (an exception in them is our model's)
_TRANSLATION_STEPS = frozenset({"set_instance", "update", "add_variables", "add_params", "add_constraints",
                                "add_block", "set_objective", "_add_variables", "_add_params", "_add_constraints",
                                "_set_objective", "update_variables", "update_params", "remove_constraints",
                                "remove_variables", "remove_block", "_update_variables", "_update_params"})


@dataclass
class Binding:
    """A limit that binds, with its shadow price and what it means."""

    name: str
    constraint: str
    shadow_price: float
    unit: str
    meaning: str

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "constraint": self.constraint,
                "shadow_price": {"value": self.shadow_price, "unit": self.unit}, "meaning": self.meaning}


@dataclass
class Outcome:
    """What a solve produced: status, the model holding the plan, and the explanation."""

    status: str                 # optimal | target_missed | infeasible | time_limit | solver_error | unbounded
    message: str
    model: ConcreteModel | None
    objective_bnusd: float | None = None
    max_reachable: float | None = None      # GW or EFLOP/s (by the main target's kind)
    binding: list[Binding] = field(default_factory=list)
    reach_binding: list[Binding] = field(default_factory=list)
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    solver: dict[str, Any] = field(default_factory=dict)

    @property
    def has_plan(self) -> bool:
        return self.status in PLAN_STATUSES


#: Statuses that come with a plan: the target met; the target missed (the most that can be held);
#: the target held but a deal minimum or a scheduled tranche missed (a re-plan from a fixed history).
PLAN_STATUSES = ("optimal", "target_missed", "commitment_missed")


def make_solver(time_limit: float | None = None) -> Highs:
    """A persistent HiGHS instance that leaves loading the solution to us."""
    opt = Highs()
    opt.config.load_solution = False
    opt.config.stream_solver = False
    opt.highs_options = {"output_flag": False, "log_to_console": False}
    if time_limit is not None:
        opt.config.time_limit = float(time_limit)
    return opt


def highs_version() -> str:
    """HiGHS's version (highspy ships the solver, so its version is HiGHS's)."""
    from importlib import metadata

    try:
        return metadata.version("highspy")
    except metadata.PackageNotFoundError:  # pragma: no cover
        return "unknown"


def _money(bnusd: float) -> str:
    from model.fmt import quantity

    return quantity(abs(bnusd) * 1e9, "USD")


def _shadow_unit(row_unit: str, objective: str) -> tuple[float, str]:
    """Scale and unit of a dual, for a row in ``row_unit`` and an objective (bnUSD, GW, EFLOP/s)."""
    if objective == "bnUSD":
        if row_unit == "bnUSD":
            return 1.0, "USD/USD"
        return 1e9, f"USD/{row_unit}"
    if row_unit == "bnUSD":
        return 1e-9, f"{objective}/USD"
    return 1.0, f"{objective}/{row_unit}"


def explain_duals(s: Scenario, duals: dict, objective: str) -> list[Binding]:
    """Every binding limit with its shadow price in units and a sentence.

    ``objective`` is the unit of the objective whose duals these are:
    ``"bnUSD"`` (least cost) or ``"GW"`` / ``"EFLOP/s"`` (largest reachable).
    Pyomo's duals are d(objective)/d(right-hand side).
    """
    out = []
    for con, d in duals.items():
        if d is None or abs(d) < DUAL_TOLERANCE:
            continue
        comp = con.parent_component()
        lim = describe_limit(s, comp.local_name, con.index())
        if lim is None:
            continue
        scale, unit = _shadow_unit(lim.unit, objective)
        row_unit = "USD" if lim.unit == "bnUSD" else lim.unit
        step = "1 billion USD" if lim.unit == "bnUSD" else f"one {row_unit}"
        if objective == "bnUSD":
            if lim.sense == "cap":
                meaning = f"{step} more of '{lim.label}' would lower the total cost by {_money(-d)}"
            else:
                meaning = f"{step} less of '{lim.label}' would lower the total cost by {_money(d)}"
            if lim.unit == "bnUSD":
                meaning += " (per billion USD)"
        else:
            gain = abs(d) * (1.0 if lim.unit != "bnUSD" else 1.0)
            direction = "more" if lim.sense == "cap" else "less"
            meaning = (f"{step} {direction} of '{lim.label}' would raise the largest reachable "
                       f"{'capacity' if objective == 'GW' else 'compute'} by {sig(gain)} {objective}")
        out.append(Binding(lim.label, f"{comp.local_name}[{_index_text(con.index())}]", d * scale, unit, meaning))
    # targets first; then by unit (shadow prices compare only within one unit), each by size
    unit_order = {u: i for i, u in enumerate(dict.fromkeys(
        b.unit for b in sorted(out, key=lambda b: -abs(b.shadow_price)) if not b.unit.endswith("USD")))}
    out.sort(key=lambda b: (not b.name.startswith("target"), b.unit.endswith("/USD") or b.unit == "USD/USD",
                            unit_order.get(b.unit, len(unit_order)), -abs(b.shadow_price)))
    return out


def _index_text(index: Any) -> str:
    if index is None:
        return ""
    if isinstance(index, tuple):
        return ",".join(str(i) for i in index)
    return str(index)


def solve_model(opt: Highs, m: ConcreteModel) -> tuple[str, Any]:
    """Solve and map HiGHS's termination to our status words."""
    try:
        res = opt.solve(m)
    except Exception as exc:  # noqa: BLE001 -- the boundary to HiGHS: whatever it raises is sorted below
        if _raised_by_solver(exc):   # HiGHS failed: a status with its reason, not a crash
            return "solver_error", exc
        raise ModelCodeError.from_exception(exc) from exc
    tc = res.termination_condition
    if tc == TerminationCondition.optimal:
        res.solution_loader.load_vars()
        return "optimal", res
    if tc == TerminationCondition.infeasible:
        return "infeasible", res
    if tc == TerminationCondition.infeasibleOrUnbounded:
        return "infeasible_or_unbounded", res
    if tc == TerminationCondition.unbounded:
        return "unbounded", res
    if tc == TerminationCondition.maxTimeLimit:
        return "time_limit", res
    return "solver_error", res


#: The name this module's solves go through (tests replace it to inject a solver crash or a corrupt plan).
_solve = solve_model


def shown_reach(kind: str, v: float) -> str:
    """A target or reachable figure as the terminal and pages say it: ``97.03 GW``, ``239.4 ZFLOP/s``.

    ``v`` is in model units: GW for a power target, EFLOP/s for a compute target.
    """
    from model.fmt import quantity

    return quantity(v, "GW", 4) if kind == "power" else quantity(v * 1e18, "FLOP/s", 4)


def missed_message(kind: str, target: float, year: int, reachable: float) -> str:
    """``the target of 250 GW from 2033 cannot be met; the most that can be held is 97.03 GW``."""
    return (f"the target of {shown_reach(kind, target)} from {year} cannot be met; "
            f"the most that can be held is {shown_reach(kind, reachable)}")


def solve_plan(s: Scenario, objective: str = "min-cost", time_limit: float | None = None) -> Outcome:
    """Build and solve the plan for ``s``; diagnose when the target cannot be met.

    Raises
    ------
    ModelCodeError
        For any exception in the project's own code on the way (building the
        model, handing it to HiGHS, reading duals, the post-solve check):
        that is a bug, never reported as a solver failure. A failure of
        HiGHS itself is an outcome with status ``solver_error``.
    """
    if objective not in ("min-cost", "max-capacity"):
        raise ValueError(f"unknown objective {objective!r}")
    try:
        return _solve_plan(s, objective, time_limit)
    except ModelCodeError:
        raise
    except Exception as exc:  # noqa: BLE001 -- nothing swallowed: any bug on the way is re-raised as a
        raise ModelCodeError.from_exception(exc) from exc      # ModelCodeError naming its type, message and line


def _solve_plan(s: Scenario, objective: str, time_limit: float | None) -> Outcome:
    """:func:`solve_plan` without the translation of our own exceptions.

    Parameters
    ----------
    s : Scenario
        Validated inputs, including the main target.
    objective : {"min-cost", "max-capacity"}
        Least cost meeting the target, or the most capacity (compute) by the
        target year and the least-cost plan holding it.
    time_limit : float, optional
        Seconds HiGHS may spend on each solve.
    """
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    m = build_model(s)
    timings["build_s"] = time.perf_counter() - t0
    opt = make_solver(time_limit)
    solver_info = {"name": "HiGHS", "version": highs_version(), "interface": "pyomo.contrib.appsi",
                   "time_limit_s": time_limit, **solver_options(opt)}

    if objective == "min-cost":
        t0 = time.perf_counter()
        status, res = _solve(opt, m)
        timings["solve_s"] = time.perf_counter() - t0
        if status == "optimal":
            return _checked(s, Outcome("optimal", "the target is met at least cost", m, value(m.total_cost),
                                       binding=explain_duals(s, opt.get_duals(), "bnUSD"), timings=timings,
                                       solver=solver_info))
        if status in ("time_limit", "solver_error", "unbounded"):
            return Outcome(status, failure_message(status, time_limit, res), None, timings=timings,
                           solver=solver_info)
    elif objective != "max-capacity":
        raise ValueError(f"unknown objective {objective!r}")

    # largest reachable figure, holding from the target year on
    kind = s.main_target.kind
    unit = "GW" if kind == "power" else "EFLOP/s"
    years = sorted(main_targets(s, kind))
    add_largest_reachable(m, s)
    t0 = time.perf_counter()
    status, res = _solve(opt, m)
    timings["reach_solve_s"] = time.perf_counter() - t0
    if status in ("infeasible", "infeasible_or_unbounded"):
        t0 = time.perf_counter()
        conflicts = diagnose_conflicts(s, time_limit)
        timings["diagnosis_s"] = time.perf_counter() - t0
        return Outcome("infeasible", conflicts_message(conflicts), None,
                       conflicts=conflicts, timings=timings, solver=solver_info)
    if status == "unbounded":
        return Outcome("unbounded", "nothing limits the capacity: add build caps, supply caps or grid power",
                       None, timings=timings, solver=solver_info)
    if status != "optimal":
        return Outcome(status, failure_message(status, time_limit, res), None, timings=timings, solver=solver_info)
    refused = _checked(s, Outcome("optimal", "", m, timings=timings, solver=solver_info))  # the reach figure too
    if refused.status != "optimal":
        return refused
    reachable = value(m.reachable)
    reach_binding = explain_duals(s, opt.get_duals(), unit)

    # least-cost plan holding the reachable figure
    m.reachable.setlb(max(0.0, reachable - 1e-6 * max(1.0, reachable)))
    m.max_reachable.deactivate()
    m.total_cost.activate()
    t0 = time.perf_counter()
    status, res = _solve(opt, m)
    timings["cost_solve_s"] = time.perf_counter() - t0
    if status != "optimal":
        return Outcome(status, failure_message(status, time_limit, res), None, max_reachable=reachable,
                       reach_binding=reach_binding, timings=timings, solver=solver_info)
    binding = explain_duals(s, opt.get_duals(), "bnUSD")
    target = s.main_target

    if objective == "max-capacity":
        return _checked(s, Outcome("optimal", f"the most that can be held from {years[0]} is "
                                   f"{shown_reach(kind, reachable)}",
                                   m, value(m.total_cost), max_reachable=reachable, binding=binding,
                                   reach_binding=reach_binding, timings=timings, solver=solver_info))
    return _checked(s, Outcome("target_missed", missed_message(kind, target.value, years[0], reachable),
                               m, value(m.total_cost),
                               max_reachable=reachable, binding=binding, reach_binding=reach_binding,
                               timings=timings, solver=solver_info))


def conflicts_message(conflicts: list[dict[str, Any]]) -> str:
    """The message of an ``infeasible`` outcome: the first five limits that had to give."""
    names = "; ".join(c["meaning"] for c in conflicts[:5]) or "no single limit could be named"
    return "the inputs contradict each other even without the target: " + names


def failure_message(status: str, time_limit: float | None, detail: Any = None) -> str:
    if status == "time_limit":
        return f"HiGHS stopped at the time limit ({sig(time_limit, 6)} s) without a proven optimum"
    if status == "unbounded":
        return "the problem is unbounded"
    if isinstance(detail, BaseException):
        return f"HiGHS failed without a usable answer ({type(detail).__name__}: {detail})"
    if detail is not None and getattr(detail, "termination_condition", None) is not None:
        return f"HiGHS failed without a usable answer (termination: {detail.termination_condition.name})"
    return "HiGHS failed without a usable answer"


def solver_options(opt: Highs) -> dict[str, Any]:
    """HiGHS's own version and every option this run set (recorded in the manifest to redo the run)."""
    try:
        from highspy import _core

        native = f"{_core.HIGHS_VERSION_MAJOR}.{_core.HIGHS_VERSION_MINOR}.{_core.HIGHS_VERSION_PATCH}"
    except (ImportError, AttributeError):  # pragma: no cover
        native = "unknown"
    return {"highs_version": native, "highs_options": dict(opt.highs_options),
            "load_solution": bool(opt.config.load_solution)}


def _checked(s: Scenario, outcome: Outcome) -> Outcome:
    """Recompute the plan's constraints (:func:`model.checks.check_plan`); refuse the plan if one is broken.

    The check's result is recorded in ``outcome.solver["check"]`` (and so in
    the manifest); a failed check turns the outcome into ``solver_error``
    without a plan, its message naming the worst violations.
    """
    from model.checks import check_plan

    t0 = time.perf_counter()
    result = check_plan(outcome.model, s)
    outcome.timings["check_s"] = outcome.timings.get("check_s", 0.0) + time.perf_counter() - t0
    outcome.solver["check"] = result.as_json()
    if result.passed:
        return outcome
    return Outcome("solver_error", result.message(), None, max_reachable=None, timings=outcome.timings,
                   solver=outcome.solver)


def diagnose_conflicts(s: Scenario, time_limit: float | None = None) -> list[dict[str, Any]]:
    """Name the limits that must give for any plan to exist (elastic relaxation).

    Every limit row gets a non-negative slack e (``body - e <= upper``,
    ``body + e >= lower``) and ``sum e`` is minimised; rows whose slack is
    positive are the conflicting limits, with how much each had to give.
    """
    m = build_model(s)
    for name in ("target_capacity", "target_compute"):
        if hasattr(m, name):
            getattr(m, name).deactivate()
    m.total_cost.deactivate()
    rows = []
    for name in limits():
        comp = getattr(m, name, None)
        if comp is None or not comp.active:
            continue
        for idx, con in comp.items():
            if describe_limit(s, name, idx) is not None:       # None: history, data rather than a limit
                rows.append((name, idx, con))
    m.elastic = Var(range(len(rows)), within=NonNegativeReals)
    for i, (_, _, con) in enumerate(rows):
        lower, body, upper = con.lower, con.body, con.upper
        if upper is not None and lower is None:
            con.set_value((None, body - m.elastic[i], upper))
        elif lower is not None and upper is None:
            con.set_value((lower, body + m.elastic[i], None))
    m.total_slack = Objective(expr=sum(m.elastic[i] for i in range(len(rows))))
    opt = make_solver(time_limit)
    status, _ = _solve(opt, m)
    if status != "optimal":
        return []
    return name_conflicts(s, [(name, idx, value(m.elastic[i])) for i, (name, idx, _) in enumerate(rows)])


def name_conflicts(s: Scenario, slacks: list[tuple[str, Any, float]]) -> list[dict[str, Any]]:
    """The limits that had to give (slack above 1e-6 in the row's unit), largest first, in plain words.

    ``slacks``: (constraint name, index, elastic slack) of each relaxed row (:func:`diagnose_conflicts`,
    or a sweep's warm reach model, model/fastsolve/diagnose.py).
    """
    out = []
    for name, idx, e in slacks:
        if e > 1e-6:
            lim = describe_limit(s, name, idx)
            unit = "USD" if lim.unit == "bnUSD" else lim.unit
            amount = e * 1e9 if lim.unit == "bnUSD" else e
            verb = "be raised" if lim.sense == "cap" else "be lowered"
            out.append({"name": lim.label, "constraint": f"{name}[{_index_text(idx)}]",
                        "relaxation": {"value": amount, "unit": unit},
                        "meaning": f"'{lim.label}' would have to {verb} by {sig(amount, 4)} {unit}"})
    out.sort(key=lambda c: -c["relaxation"]["value"])
    return out
