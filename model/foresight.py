"""Myopic foresight: the horizon planned year by year, each step seeing ``N`` years ahead; regret.

``python run.py --target 250GW --foresight myopic --look-ahead N``

One model
---------
Both modes run on the one Pyomo model :func:`model.build.build_model` makes,
built once and solved by one persistent HiGHS instance. A step changes only
bounds, activity and weights on that built model, never its structure:

- **history**: every decision of an earlier step is fixed (``Var.fix``): capacity
  built per offer and year (its vintages), power ordered, borrowing and repayment,
  energy dispatched, and the shortfalls already accepted (see below);
- **the window** of step ``t`` is ``t .. t + N - 1`` (``N`` years including
  ``t``). Rows indexed by a year after the window (targets, milestones, supply,
  grid, funding, ... of later years) are deactivated, and costs of those years
  get no weight (the mutable ``discount_factor`` is set to 0 there), so no
  target, milestone or price beyond the look-ahead drives the step's decisions;
  rows without a year (cumulative caps, deal commitments over their windows)
  stay active: the step knows its contracts and how far along they are;
- **decisions of the step's first year** are then fixed: ``build_gw[o, t]``,
  the power ``power_build_gw[p, y]`` ordered in ``t`` (``y - lead_time(p) = t``),
  ``borrow[t]``, ``repay[t]``, dispatch in ``t``. Power ordered in ``t`` that would
  serve only after the window is fixed at 0: the step cannot see a need for it.

A model built on the window's years alone (with the carried state as data)
would be the other faithful reading; it would rebuild the model each step.
Here the years after the window are in the model but inert (no active row, no
cost weight), which gives the same decisions for the years the step fixes.

Targets a step cannot meet
--------------------------
Each target, milestone and deal-minimum row gets a shortfall variable, fixed at
0 in perfect foresight; in a myopic step it may rise at a penalty
(:data:`PENALTY_BNUSD`), so a step whose earlier decisions left it unable to
meet a target still returns the least-cost plan for what it can reach. The
status is then ``target_missed`` and the message names the step, the year and
the reason (e.g. the grid needed in 2031 had to be ordered in 2027, beyond the
look-ahead: the lead time). The post-solve check (:mod:`model.checks`) runs on
every step.

Regret
------
The perfect-foresight plan is solved first on the same model (all rows, all
weights), then the steps. ``regret = myopic total cost - perfect-foresight
total cost`` (USD, discounted as ``total_cost``). When the myopic plan meets
every target it is a feasible plan of the perfect-foresight problem, so
regret >= 0 up to solver tolerance.
"""
from __future__ import annotations

import html
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import pandas as pd
from pyomo.environ import ConcreteModel, Constraint, NonNegativeReals, Objective, Var, minimize, value

from model.build import build_model, describe_limit
from model.scenario import Scenario
from model.solve import Outcome, solve_model as _solve, explain_duals, highs_version, make_solver, solver_options

FORESIGHT_MODES = ("perfect", "myopic")
#: Look-ahead of ``--foresight myopic`` when ``--look-ahead`` is not given (years, including the step's own).
DEFAULT_LOOK_AHEAD = 2
#: Rows a myopic step may fall short of (floors), each at a penalty per unit of shortfall.
RELAXABLE = ("target_capacity", "target_compute", "milestone_capacity", "milestone_compute",
             "deal_minimum_gw", "deal_minimum_spend")
#: Penalty of a shortfall, billion USD per unit of the row (GW, EFLOP/s, billion USD); far above any cost.
PENALTY_BNUSD = {"GW": 1e4, "EFLOP/s": 1e4, "bnUSD": 1e2}
#: Variables that follow from others through equality rows; they are never fixed.
DERIVED_VARS = frozenset({"in_service_gw", "debt_end_bnusd"})
#: Shortfalls and differences below this (model units) are noise.
TOL = 1e-6


class ForesightError(ValueError):
    """Bad foresight options (exit 2)."""


class HistoryError(ValueError):
    """New inputs contradict decisions fixed as history (exit 2); ``problems`` names each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems

    def __reduce__(self):
        return (HistoryError, (self.problems,))


@dataclass
class Shortfall:
    """A floor a step could not meet: which row, in which year, by how much, and why."""

    step: int
    window: tuple[int, int]
    year: int
    constraint: str
    label: str
    unit: str
    amount: float
    reason: str

    def sentence(self) -> str:
        amount = _money_text(self.amount * 1e9) if self.unit == "bnUSD" else f"{self.amount:,.4g} {self.unit}"
        return (f"step {self.step} (window {self.window[0]}-{self.window[1]}) cannot meet '{self.label}' "
                f"in {self.year}: short by {amount}; {self.reason}")

    def as_json(self) -> dict[str, Any]:
        unit, scale = ("USD", 1e9) if self.unit == "bnUSD" else (self.unit, 1.0)
        return {"step": self.step, "window": list(self.window), "year": self.year, "constraint": self.constraint,
                "name": self.label, "shortfall": {"value": self.amount * scale, "unit": unit},
                "reason": self.reason, "meaning": self.sentence()}


@dataclass
class Step:
    """One myopic step: its window, status, the decisions it fixed, what it could not meet."""

    year: int
    window: tuple[int, int]
    status: str
    objective_bnusd: float | None
    solve_s: float
    check_passed: bool
    decisions: list[dict[str, Any]] = field(default_factory=list)
    shortfalls: list[Shortfall] = field(default_factory=list)


@dataclass
class ForesightResult:
    """The plan (myopic or perfect), its perfect-foresight reference, the steps and the regret."""

    mode: str
    look_ahead: int | None
    outcome: Outcome
    reference_status: str
    reference_cost_bnusd: float | None
    steps: list[Step] = field(default_factory=list)
    shortfalls: list[Shortfall] = field(default_factory=list)     # first seen, per row and year
    reference_shortfalls: list[dict[str, Any]] = field(default_factory=list)
    history_from: int | None = None
    equal_delivery_cost_bnusd: float | None = None   # perfect foresight delivering what the myopic plan does

    @property
    def regret_bnusd(self) -> float | None:
        """Myopic minus perfect-foresight total cost (billion USD); 0 within the solver's tolerance."""
        if self.mode != "myopic" or self.reference_cost_bnusd is None or self.outcome.objective_bnusd is None:
            return None
        return _snap(self.outcome.objective_bnusd - self.reference_cost_bnusd, self.reference_cost_bnusd)

    @property
    def regret_at_equal_delivery_bnusd(self) -> float | None:
        """Myopic total cost minus perfect foresight's for what the myopic plan delivers (billion USD)."""
        if self.equal_delivery_cost_bnusd is None or self.outcome.objective_bnusd is None:
            return None
        return _snap(self.outcome.objective_bnusd - self.equal_delivery_cost_bnusd, self.equal_delivery_cost_bnusd)

    @property
    def comparable(self) -> bool:
        """Both plans meet every target: the regret compares plans that deliver the same."""
        return not self.reference_shortfalls and not self.final_shortfalls

    @property
    def final_shortfalls(self) -> list[Shortfall]:
        return [f for f in self.shortfalls if f.amount > TOL]


# ----------------------------------------------------------------------------
# The stepper: one built model, one persistent solver
# ----------------------------------------------------------------------------
def _snap(difference: float, scale: float) -> float:
    """``difference``, or 0 when it is within the solver's relative tolerance of ``scale`` (1e-7: HiGHS's)."""
    return 0.0 if abs(difference) <= 1e-7 * max(1.0, abs(scale)) else difference


def year_of(index: Any, years: frozenset[int]) -> int | None:
    """The planning year in a component index (its last member that is a year), or None."""
    items = index if isinstance(index, tuple) else (index,)
    found = [i for i in items if isinstance(i, int) and not isinstance(i, bool) and i in years]
    return found[-1] if found else None


class Stepper:
    """A built model and its persistent solver, with the operations a step needs.

    Parameters
    ----------
    s : Scenario
        Validated inputs (the main target included).
    time_limit : float, optional
        Seconds HiGHS may spend on each solve.
    """

    def __init__(self, s: Scenario, time_limit: float | None = None) -> None:
        self.s = s
        self.years = tuple(s.years)
        self.year_set = frozenset(self.years)
        t0 = time.perf_counter()
        self.m = build_model(s, mutable={"discount_factor"})
        self._add_shortfalls()
        self.build_s = time.perf_counter() - t0
        self.opt = make_solver(time_limit)
        # a fixed variable is a column with equal bounds (a bound change in HiGHS), not a parameter that
        # makes Pyomo rebuild every row and the objective it appears in; named expressions never change here
        self.opt.update_config.treat_fixed_vars_as_params = False
        self.opt.update_config.update_named_expressions = False
        self.time_limit = time_limit
        self.discount = {y: float(value(self.m.discount_factor[y])) for y in self.years}
        self.solver_info = {"name": "HiGHS", "version": highs_version(), "interface": "pyomo.contrib.appsi",
                            "time_limit_s": time_limit, **solver_options(self.opt)}
        # every row the build made active, with its year (None: no year, always active)
        self.rows: list[tuple[Any, int | None]] = []
        for con in self.m.component_data_objects(Constraint, active=True, descend_into=True):
            self.rows.append((con, year_of(con.index(), self.year_set)))
        self.decision_vars: list[tuple[Any, int | None]] = []
        for comp in self.m.component_objects(Var, descend_into=True):
            if comp.local_name in DERIVED_VARS or comp.local_name == "fs_shortfall":
                continue
            for idx, var in comp.items():
                self.decision_vars.append((var, self.decision_year(comp.local_name, idx)))

    # -- structure -----------------------------------------------------------
    def decision_year(self, name: str, idx: Any) -> int | None:
        """The year a variable is decided in: its year; for power, the year it is ordered (service - lead time)."""
        y = year_of(idx, self.year_set)
        if name == "power_build_gw" and y is not None:
            return y - self.s.power_lead_time_yr[idx[0]]
        return y

    def _add_shortfalls(self) -> None:
        """A shortfall variable on every target, milestone and deal-minimum row (fixed at 0 until relaxed)."""
        m, s = self.m, self.s
        rows = []
        for name in RELAXABLE:
            comp = getattr(m, name, None)
            if comp is None:
                continue
            for idx, con in comp.items():
                lim = describe_limit(s, name, idx)
                unit = lim.unit if lim is not None else "GW"
                if name.startswith("deal_"):
                    d = next(d for d in s.deals if d.name == idx)
                    year = min(d.last_year, s.last_year)
                else:
                    year = idx
                rows.append((name, idx, con, year, lim.label if lim else f"{name}[{idx}]", unit))
        self.short_rows = rows
        m.fs_shortfall = Var(range(len(rows)), within=NonNegativeReals, doc="shortfall of a floor (myopic step)")
        for i, (_, _, con, _, _, _) in enumerate(rows):
            con.set_value((con.lower, con.body + m.fs_shortfall[i], None))
            m.fs_shortfall[i].fix(0.0)
        m.total_cost.deactivate()
        m.fs_objective = Objective(expr=m.total_cost.expr + sum(
            PENALTY_BNUSD.get(unit, 1e4) * m.fs_shortfall[i] for i, (*_, unit) in enumerate(rows)), sense=minimize)

    # -- operations ------------------------------------------------------------
    def set_window(self, last: int) -> None:
        """Activate rows up to ``last`` and give costs after it no weight."""
        for con, y in self.rows:
            want = y is None or y <= last
            if want and not con.active:
                con.activate()
            elif not want and con.active:
                con.deactivate()
        for y in self.years:
            self.m.discount_factor[y] = self.discount[y] if y <= last else 0.0

    def relax_shortfalls(self, first: int, last: int | None = None) -> None:
        """Let floors of ``first`` .. ``last`` fall short at the penalty; later ones are held at 0.

        Floors before ``first`` are left as they are (fixed by their step, or free in the history).
        """
        for i, (*_, year, _, _) in enumerate(self.short_rows):
            var = self.m.fs_shortfall[i]
            if year >= first and (last is None or year <= last):
                var.unfix()
            elif last is not None and year > last:
                var.fix(0.0)

    def free_history_shortfalls(self, start: int) -> None:
        """Floors of history years (before ``start``) hold whatever the fixed history gives."""
        for i, (*_, year, _, _) in enumerate(self.short_rows):
            if year < start:
                self.m.fs_shortfall[i].unfix()

    def fix_decisions(self, years: Iterable[int], values: dict[str, dict] | None = None) -> None:
        """Fix every decision made in ``years`` at its value (or at ``values[name][index]`` when given)."""
        years = set(years)
        for var, y in self.decision_vars:
            if y is None or y not in years:
                continue
            if values is not None:
                name = var.parent_component().local_name
                if name not in values:          # not part of the history given (e.g. dispatch): left free
                    continue
                v = values[name].get(var.index())
                if v is None:                   # not in the history (e.g. an offer added since): nothing built
                    v = 0.0
            else:
                v = var.value if var.value is not None else 0.0
            lb = var.lb if var.lb is not None else -math.inf
            var.fix(max(lb, float(v)))
        for i, (*_, year, _, _) in enumerate(self.short_rows):
            if year in years:
                var = self.m.fs_shortfall[i]
                var.fix(max(0.0, var.value or 0.0))

    def fix_unseen_orders(self, step: int, last: int) -> None:
        """Power ordered in ``step`` that would serve only after ``last``: fixed at 0 (no need is visible)."""
        if not hasattr(self.m, "power_build_gw"):
            return
        for (p, y), var in self.m.power_build_gw.items():
            if y - self.s.power_lead_time_yr[p] == step and y > last:
                var.fix(0.0)

    def solve(self) -> tuple[str, Any, float]:
        t0 = time.perf_counter()
        status, res = _solve(self.opt, self.m)
        return status, res, time.perf_counter() - t0

    def check(self):
        from model.checks import check_plan

        return check_plan(self.m, self.s)

    def values(self) -> dict[str, dict]:
        """Every variable's current values, by name and index."""
        return {comp.local_name: {k: (float(v) if v is not None else None) for k, v in comp.extract_values().items()}
                for comp in self.m.component_objects(Var, descend_into=True)}

    def shortfall_values(self, first: int | None = None, last: int | None = None) -> list[tuple[int, float]]:
        out = []
        for i, (*_, year, _, _) in enumerate(self.short_rows):
            if (first is None or year >= first) and (last is None or year <= last):
                v = self.m.fs_shortfall[i].value or 0.0
                if v > TOL:
                    out.append((i, v))
        return out


def history_contradictions(st: Stepper) -> list[str]:
    """Limits the fixed history alone already breaks under the current inputs, in the user's words.

    A row whose variables are all fixed is recomputed against both bounds; a cap
    whose free variables all have non-negative coefficients is broken when the
    fixed part alone exceeds it (a cumulative cap or a deal maximum already used up).
    """
    from pyomo.repn import generate_standard_repn

    from model.checks import row_tolerance

    out = []
    for con in st.m.component_data_objects(Constraint, active=True, descend_into=True):
        repn = generate_standard_repn(con.body, compute_values=True, quadratic=False)
        fixed_part = float(value(repn.constant)) if repn.constant is not None else 0.0
        free_coefs = []
        for coef, var in zip(repn.linear_coefs, repn.linear_vars):
            if var.fixed:
                fixed_part += coef * float(var.value)
            else:
                free_coefs.append(coef)
        if not repn.linear_vars and repn.constant is None:
            continue
        lower, upper = con.lb, con.ub
        broken = None
        if upper is not None and fixed_part - upper > row_tolerance(upper) and all(c >= 0 for c in free_coefs):
            broken = ("exceeds", upper)
        elif lower is not None and not free_coefs and lower - fixed_part > row_tolerance(lower):
            broken = ("falls below", lower)
        if broken is None:
            continue
        comp = con.parent_component()
        lim = describe_limit(st.s, comp.local_name, con.index())
        label = lim.label if lim else f"model row {comp.local_name}[{con.index()}]"
        unit, scale = ("USD", 1e9) if lim and lim.unit == "bnUSD" else ((lim.unit if lim else "model units"), 1.0)
        out.append(f"the history {broken[0]} '{label}': {fixed_part * scale:,.6g} {unit} against "
                   f"{broken[1] * scale:,.6g} {unit}")
    return out


# ----------------------------------------------------------------------------
# Runs
# ----------------------------------------------------------------------------
def solve_foresight(s: Scenario, mode: str = "myopic", look_ahead: int | None = None,
                    time_limit: float | None = None, history: dict[str, dict] | None = None,
                    history_from: int | None = None, progress: bool = True) -> ForesightResult:
    """Plan ``s`` with perfect or myopic foresight on one built model; the perfect plan is the reference.

    Parameters
    ----------
    s : Scenario
        Validated inputs.
    mode : {"perfect", "myopic"}
        Perfect foresight: one solve over the whole horizon. Myopic: one step
        per year from ``history_from`` (default the first year), each seeing
        ``look_ahead`` years (its own included).
    look_ahead : int, optional
        Years each myopic step sees (default :data:`DEFAULT_LOOK_AHEAD`).
    history : dict, optional
        Values of decisions (by variable name and index) to fix as history for
        every year before ``history_from`` (re-planning, :mod:`model.replan`).
    history_from : int, optional
        First year planned; decisions before it come from ``history``.
    progress : bool
        Show a progress bar per step (tqdm, on stderr).
    """
    if mode not in FORESIGHT_MODES:
        raise ForesightError(f"--foresight: expected one of {', '.join(FORESIGHT_MODES)}, found {mode!r}")
    if mode == "myopic":
        look_ahead = DEFAULT_LOOK_AHEAD if look_ahead is None else look_ahead
        if look_ahead < 1:
            raise ForesightError(f"--look-ahead: expected a whole number of years >= 1, found {look_ahead!r}")
    st = Stepper(s, time_limit)
    timings = {"build_s": st.build_s}
    start = history_from if history_from is not None else s.first_year
    if history is not None:
        st.fix_decisions([y for y in st.years if y < start], history)
        st.free_history_shortfalls(start)
        problems = history_contradictions(st)
        if problems:
            raise HistoryError(problems)

    # perfect foresight (the reference, and the plan when mode == "perfect")
    st.set_window(s.last_year)
    status, res, dt = st.solve()
    timings["reference_solve_s"] = dt
    ref_shortfalls: list[dict[str, Any]] = []
    if status in ("infeasible", "infeasible_or_unbounded"):
        st.relax_shortfalls(start)
        status, res, dt = st.solve()
        timings["reference_solve_s"] += dt
        if status == "optimal":
            ref_shortfalls = [_short_json(st, i, v) for i, v in st.shortfall_values(start)]
    if status != "optimal":
        out = Outcome(status if status != "infeasible_or_unbounded" else "infeasible",
                      _no_plan_message(status, time_limit, "perfect foresight"), None, timings=timings,
                      solver=st.solver_info)
        return ForesightResult(mode, look_ahead, out, status, None, history_from=history_from)
    check = st.check()
    ref_cost = float(value(st.m.total_cost))
    ref_values = st.values()
    if mode == "perfect":
        st.solver_info["check"] = check.as_json()
        if not check.passed:
            out = Outcome("solver_error", check.message(), None, timings=timings, solver=st.solver_info)
            return ForesightResult(mode, None, out, "solver_error", None, history_from=history_from)
        binding = [] if ref_shortfalls else explain_duals(s, st.opt.get_duals(), "bnUSD")
        if ref_shortfalls:
            msg = (f"the target cannot be met{' from the history' if history is not None else ''}: "
                   + "; ".join(r["meaning"] for r in ref_shortfalls[:3]))
            out = Outcome("target_missed", msg, st.m, ref_cost, timings=timings, solver=st.solver_info)
        else:
            out = Outcome("optimal", "the target is met at least cost", st.m, ref_cost, binding=binding,
                          timings=timings, solver=st.solver_info)
        return ForesightResult(mode, None, out, out.status, ref_cost, reference_shortfalls=ref_shortfalls,
                               history_from=history_from)
    if not check.passed:
        st.solver_info["check"] = check.as_json()
        out = Outcome("solver_error", "the perfect-foresight reference " + check.message(), None, timings=timings,
                      solver=st.solver_info)
        return ForesightResult(mode, look_ahead, out, "solver_error", None, history_from=history_from)
    return _myopic_steps(st, look_ahead, start, ref_cost, ref_values, ref_shortfalls, timings, progress,
                         history_from)


def _myopic_steps(st: Stepper, n: int, start: int, ref_cost: float, ref_values: dict, ref_shortfalls: list,
                  timings: dict, progress: bool, history_from: int | None) -> ForesightResult:
    s = st.s
    from tqdm import tqdm

    steps: list[Step] = []
    seen: dict[int, Shortfall] = {}
    worst_check = None
    years = [y for y in st.years if y >= start]
    bar = tqdm(years, desc=f"myopic steps (look-ahead {n} a)", unit="step", file=sys.stderr,
               disable=not progress, leave=False)
    timings["steps_solve_s"] = 0.0
    for t in bar:
        last = min(t + n - 1, s.last_year)
        bar.set_postfix_str(f"{t}: window {t}-{last}")
        st.set_window(last)
        st.fix_unseen_orders(t, last)
        st.relax_shortfalls(t, last)
        status, res, dt = st.solve()
        timings["steps_solve_s"] += dt
        if status != "optimal":
            bar.close()
            word = "infeasible" if status in ("infeasible", "infeasible_or_unbounded") else status
            msg = (f"step {t} (window {t}-{last}) has no plan even with its targets and deal minimums relaxed: "
                   "the decisions fixed in earlier steps contradict the limits of its window"
                   if word == "infeasible" else _no_plan_message(status, st.time_limit, f"step {t}"))
            steps.append(Step(t, (t, last), word, None, dt, False))
            out = Outcome(word, msg, None, timings=timings, solver=st.solver_info)
            return ForesightResult("myopic", n, out, "optimal", ref_cost, steps, list(seen.values()),
                                   ref_shortfalls, history_from)
        check = st.check()
        worst_check = check if worst_check is None or check.worst_ratio > worst_check.worst_ratio else worst_check
        step = Step(t, (t, last), "optimal", float(value(st.m.fs_objective)), dt, check.passed)
        if not check.passed:
            bar.close()
            st.solver_info["check"] = check.as_json()
            steps.append(step)
            out = Outcome("solver_error", f"step {t}: " + check.message(), None, timings=timings,
                          solver=st.solver_info)
            return ForesightResult("myopic", n, out, "optimal", ref_cost, steps, list(seen.values()),
                                   ref_shortfalls, history_from)
        current = st.values()
        for i, v in st.shortfall_values(t, last):
            if i not in seen:
                name, idx, _, year, label, unit = st.short_rows[i]
                seen[i] = Shortfall(t, (t, last), year, f"{name}[{idx}]", label, unit, v,
                                    _reason(st, year, t, n, ref_values, current, ref_shortfalls, label))
        st.fix_decisions([t])
        step.decisions = _decisions(st, t, last)
        for i, f in seen.items():                 # the shortfall as finally fixed
            if st.m.fs_shortfall[i].fixed:
                f.amount = st.m.fs_shortfall[i].value or 0.0
        steps.append(step)
    bar.close()
    st.set_window(s.last_year)
    st.solver_info["check"] = worst_check.as_json() if worst_check is not None else {}
    st.solver_info["check"]["scope"] = "every myopic step; the worst step shown"
    cost = float(value(st.m.total_cost))
    final = [f for f in seen.values() if f.amount > TOL]
    equal = _equal_delivery_cost(st, start, timings) if final else None
    if final:
        msg = (f"the myopic plan (look-ahead {n} a) misses a target perfect foresight "
               f"{'also misses' if ref_shortfalls else 'meets'}: " + "; ".join(f.sentence() for f in final[:3]))
        status = "target_missed"
    else:
        msg = f"the target is met, planned year by year with a look-ahead of {n} a"
        status = "optimal"
    out = Outcome(status, msg, st.m, cost, timings=timings, solver=st.solver_info)
    return ForesightResult("myopic", n, out, "target_missed" if ref_shortfalls else "optimal", ref_cost, steps,
                           list(seen.values()), ref_shortfalls, history_from, equal)


def _equal_delivery_cost(st: Stepper, start: int, timings: dict) -> float | None:
    """Least cost, with perfect foresight, of delivering what the myopic plan delivers (its shortfalls kept).

    Re-solves the same model with every decision from ``start`` free again and each
    floor's shortfall fixed at the myopic plan's, then puts the myopic plan back
    (values restored and fixed, checked again). The myopic plan is feasible for this
    problem, so the myopic cost minus this one is >= 0: the cost of myopia at equal delivery.
    """
    plan = st.values()
    later = [y for y in st.years if y >= start]
    for var, y in st.decision_vars:
        if y is not None and y in later:
            var.unfix()
    status, _, dt = st.solve()
    timings["equal_delivery_solve_s"] = dt
    cost = float(value(st.m.total_cost)) if status == "optimal" and st.check().passed else None
    for comp in st.m.component_objects(Var, descend_into=True):
        for idx, v in plan.get(comp.local_name, {}).items():
            comp[idx].set_value(v, skip_validation=True)
    st.fix_decisions(later)
    return cost


def _short_json(st: Stepper, i: int, v: float) -> dict[str, Any]:
    name, idx, _, year, label, unit = st.short_rows[i]
    unit_out, scale = ("USD", 1e9) if unit == "bnUSD" else (unit, 1.0)
    return {"constraint": f"{name}[{idx}]", "name": label, "year": year,
            "shortfall": {"value": v * scale, "unit": unit_out},
            "meaning": f"'{label}' is short by "
                       f"{_money_text(v * scale) if unit_out == 'USD' else f'{v:,.4g} {unit_out}'} in {year}"}


def _no_plan_message(status: str, time_limit: float | None, what: str) -> str:
    if status == "time_limit":
        return f"{what}: HiGHS stopped at the time limit ({time_limit:g} s) without a proven optimum"
    if status in ("infeasible", "infeasible_or_unbounded"):
        return (f"{what}: the inputs contradict each other even without the target "
                "(run without --foresight to name the limits)")
    return f"{what}: HiGHS failed without a usable answer ({status})"


def _service_gw(s: Scenario, builds: dict, p: str, year: int) -> float:
    return sum(builds.get((p, v)) or 0.0 for v in s.power_service_vintages(p, year))


def _reason(st: Stepper, year: int, step: int, n: int, ref: dict, cur: dict, ref_shortfalls: list,
            label: str) -> str:
    """Why step ``step`` cannot meet a floor in ``year`` that perfect foresight meets (or says it misses it too)."""
    from model.concerns.power import KIND_WORDS

    s = st.s
    if any(r["year"] == year and r["name"] == label for r in ref_shortfalls):
        return "perfect foresight misses it too"
    # 1. power perfect foresight ordered for `year` when `year` was beyond the look-ahead
    gaps = []
    ref_p, cur_p = ref.get("power_build_gw", {}), cur.get("power_build_gw", {})
    for p in s.power_sources:
        gap = _service_gw(s, ref_p, p, year) - _service_gw(s, cur_p, p, year)
        if gap <= TOL:
            continue
        lead = s.power_lead_time_yr[p]
        for v in s.power_service_vintages(p, year):
            order = v - lead
            missing = (ref_p.get((p, v)) or 0.0) - (cur_p.get((p, v)) or 0.0)
            if missing > TOL and order < step and order + n - 1 < v:
                gaps.append((missing, p, v, order, lead))
    if gaps:
        missing, p, v, order, lead = max(gaps)
        src = s.power_sources[p]
        return (f"the {KIND_WORDS.get(src.kind, src.kind)} in {src.region} needed in {v} had to be ordered in "
                f"{order}, beyond the look-ahead ({n} a from {order}: lead time {lead} a); "
                f"perfect foresight ordered {missing:,.3g} GW of it then")
    # 2. capacity perfect foresight built earlier, when `year` was beyond the look-ahead
    ref_b, cur_b = ref.get("build_gw", {}), cur.get("build_gw", {})
    early = sorted({y for (o, y), v in ref_b.items() if y < step and (v or 0.0) - (cur_b.get((o, y)) or 0.0) > TOL
                    and y + n - 1 < year})
    if early:
        return (f"capacity for {year} had to be built from {early[0]} on (yearly build, ramp and supply caps limit "
                f"how fast it can be added), when {year} was beyond the look-ahead of {n} a")
    return "the decisions fixed in earlier steps leave too little room within the window's limits"


def _decisions(st: Stepper, t: int, last: int) -> list[dict[str, Any]]:
    """The decisions step ``t`` fixed (non-zero ones), as rows of ``tables/steps.csv``."""
    s, m = st.s, st.m
    base = {"step": t, "window_first": t, "window_last": last}
    rows = []
    for (o, y), var in m.build_gw.items():
        if y == t and (var.value or 0.0) > 1e-9:
            rows.append({**base, "decision": "build", "name": o, "year": y, "value": var.value, "unit": "GW"})
    if hasattr(m, "power_build_gw"):
        for (p, y), var in m.power_build_gw.items():
            if y - s.power_lead_time_yr[p] == t and (var.value or 0.0) > 1e-9:
                rows.append({**base, "decision": "power_order", "name": p, "year": y, "value": var.value,
                             "unit": "GW"})
    if hasattr(m, "borrow_bnusd"):
        v = m.borrow_bnusd[t].value or 0.0
        if v > 1e-9:
            rows.append({**base, "decision": "borrow", "name": "debt", "year": t, "value": v * 1e9, "unit": "USD"})
    for i, (name, idx, _, year, label, unit) in enumerate(st.short_rows):
        var = m.fs_shortfall[i]
        if year == t and (var.value or 0.0) > TOL:
            unit_out, scale = ("USD", 1e9) if unit == "bnUSD" else (unit, 1.0)
            rows.append({**base, "decision": "shortfall", "name": label, "year": year, "value": var.value * scale,
                         "unit": unit_out})
    return rows


# ----------------------------------------------------------------------------
# Read-out: summary keys, steps table, the page's section
# ----------------------------------------------------------------------------
STEP_COLUMNS = ["step", "window_first", "window_last", "decision", "name", "year", "value", "unit"]


def steps_table(r: ForesightResult) -> pd.DataFrame:
    rows = [d for st in r.steps for d in st.decisions]
    return pd.DataFrame(rows, columns=STEP_COLUMNS)


def _usd(bnusd: float) -> dict[str, Any]:
    return {"value": float(bnusd) * 1e9, "unit": "USD"}


def summary_keys(r: ForesightResult) -> dict[str, Any]:
    """``foresight``, ``regret`` and ``foresight_steps`` for ``summary.json``."""
    out: dict[str, Any] = {"foresight": {"mode": r.mode,
                                         "look_ahead": ({"value": r.look_ahead, "unit": "a"}
                                                        if r.look_ahead is not None else None)}}
    if r.mode == "myopic":
        regret = r.regret_bnusd
        out["regret"] = {
            **(_usd(regret) if regret is not None else {"value": None, "unit": "USD"}),
            "perfect_foresight_status": r.reference_status,
            "comparable": r.comparable,
            "basis": ("myopic total cost minus the perfect-foresight total cost for the same inputs"
                      + (" and history" if r.history_from is not None else "") + ", both discounted as total_cost"
                      + ("" if r.comparable else "; the plans do not deliver the same (a target is missed), "
                                                 "so the difference is not a pure cost of myopia")),
        }
        if r.reference_cost_bnusd is not None:
            out["perfect_foresight_cost"] = {**_usd(r.reference_cost_bnusd), "status": r.reference_status}
        equal = r.regret_at_equal_delivery_bnusd
        if equal is not None:
            out["regret_at_equal_delivery"] = {
                **_usd(equal), "basis": "myopic total cost minus the least cost, with perfect foresight, of "
                                        "delivering what the myopic plan delivers (its shortfalls kept)"}
        out["foresight_steps"] = {str(st.year): {
            "window": f"{st.window[0]}-{st.window[1]}", "status": st.status, "check_passed": st.check_passed,
            "capacity_built": {"value": sum(d["value"] for d in st.decisions if d["decision"] == "build"),
                               "unit": "GW"},
            "power_ordered": {"value": sum(d["value"] for d in st.decisions if d["decision"] == "power_order"),
                              "unit": "GW"},
        } for st in r.steps}
        if r.shortfalls:
            out["foresight_shortfalls"] = [f.as_json() for f in r.shortfalls if f.amount > TOL]
    if r.reference_shortfalls:
        out["perfect_foresight_shortfalls"] = r.reference_shortfalls
    return out


def _bn(bnusd: float | None) -> float | None:
    """Billion USD to USD (None stays None)."""
    return None if bnusd is None else bnusd * 1e9


def _money_text(usd: float | None) -> str:
    if usd is None:
        return "not available"
    a = abs(usd)
    sign = "-" if usd < 0 else ""
    if a >= 1e12:
        return f"{sign}{a / 1e12:,.3f} trillion USD"
    if a >= 1e9:
        return f"{sign}{a / 1e9:,.2f} billion USD"
    if a >= 1e6:
        return f"{sign}{a / 1e6:,.2f} million USD"
    return f"{sign}{a:,.0f} USD"


def report_section(r: ForesightResult, replan: dict[str, Any] | None = None) -> str:
    """The page's section on foresight, regret and steps (self-contained HTML, no numbers in e-notation)."""
    e = html.escape
    parts = ["<section id='foresight'><h2>Foresight</h2>"]
    if replan:
        parts.append(f"<p>Re-planned from <b>{e(str(replan['from']))}</b>: the decisions of "
                     f"<b>{e(replan['source_name'])}</b> before {e(str(replan['from']))} are fixed as history "
                     f"(capacity built, power ordered, borrowing); the rest is planned with the inputs below. "
                     f"Compare with <code>run.py compare {e(replan['source'])} &lt;this set&gt;</code>.</p>")
    if r.mode == "perfect":
        parts.append("<p>Perfect foresight: every year of the horizon is planned at once.</p></section>")
        return "".join(parts)
    regret = r.regret_bnusd
    parts.append(
        f"<p>Myopic foresight: planned year by year, each step seeing {r.look_ahead} year"
        f"{'s' if r.look_ahead != 1 else ''} (its own included): its targets, milestones and prices; "
        f"later years neither constrain it nor cost it anything. Each step fixes its first year's decisions "
        f"and carries capacity, power ordered, debt and deal progress forward.</p>"
        f"<p><b>Regret: {e(_money_text(regret * 1e9 if regret is not None else None))}</b> "
        f"(myopic {e(_money_text(r.outcome.objective_bnusd * 1e9 if r.outcome.objective_bnusd is not None else None))} "
        f"against perfect foresight {e(_money_text(_bn(r.reference_cost_bnusd)))}, "
        f"discounted total cost, same inputs)."
        + ("" if r.comparable else
           " The plans do not deliver the same: a target is missed. Against the least cost, with perfect "
           f"foresight, of delivering what the myopic plan delivers, myopia costs "
           f"{e(_money_text(_bn(r.regret_at_equal_delivery_bnusd)))}.") + "</p>")
    if r.final_shortfalls:
        parts.append("<ul>" + "".join(f"<li>{e(f.sentence())}</li>" for f in r.final_shortfalls) + "</ul>")
    head = ["step", "window", "status", "capacity built (GW)", "power ordered (GW)", "shortfall", "check"]
    rows = []
    for st in r.steps:
        built = sum(d["value"] for d in st.decisions if d["decision"] == "build")
        power = sum(d["value"] for d in st.decisions if d["decision"] == "power_order")
        short = [d for d in st.decisions if d["decision"] == "shortfall"]
        short_text = "; ".join(f"{d['value']:,.3f} {d['unit']} ({d['name']})" for d in short) or "none"
        rows.append([str(st.year), f"{st.window[0]}-{st.window[1]}", st.status, f"{built:,.3f}", f"{power:,.3f}",
                     short_text, "passed" if st.check_passed else "failed"])
    parts.append("<table><thead><tr>" + "".join(f"<th>{e(h)}</th>" for h in head) + "</tr></thead><tbody>"
                 + "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in rows)
                 + "</tbody></table><p>Every decision of every step is in <code>tables/steps.csv</code>.</p>")
    parts.append("</section>")
    return "".join(parts)


def insert_section(report: Path, section: str) -> None:
    """Put ``section`` into ``report.html`` after the headline (or before the end of the body)."""
    if not report.exists():
        return
    text = report.read_text(encoding="utf-8")
    for marker in ("<section id='plan'>", "</body>"):
        if marker in text:
            text = text.replace(marker, section + marker, 1)
            break
    report.write_text(text, encoding="utf-8")


def write_foresight_set(root: Path, name: str, s: Scenario, r: ForesightResult, argv: list[str],
                        timings: dict[str, float], plots: bool = True,
                        replan: dict[str, Any] | None = None, plan_inputs: dict[str, Any] | None = None) -> Path:
    """Write the plan's result set (the plan's layout) plus ``tables/steps.csv`` and the foresight keys."""
    import json

    from model.results import write_result_set
    from model.solution import to_dataset

    ds = to_dataset(s, r.outcome)
    extra = summary_keys(r)
    if replan:
        extra["replan"] = {k: replan[k] for k in ("source", "source_name", "from")}
    man_extra = {"kind": "plan", "foresight": extra["foresight"]}
    if plan_inputs is not None:
        man_extra["plan_inputs"] = plan_inputs
    if replan:
        man_extra["replan"] = replan

    def finish(tmp: Path) -> None:
        summ = json.loads((tmp / "summary.json").read_text())
        summ.update(extra)
        (tmp / "summary.json").write_text(json.dumps(summ, indent=2) + "\n")
        steps_table(r).to_csv(tmp / "tables" / "steps.csv", index=False)
        insert_section(tmp / "report.html", report_section(r, replan))

    return write_result_set(root, name, s, r.outcome, ds, argv, timings, plots=plots, extra_manifest=man_extra,
                            finish=finish)


def print_result(r: ForesightResult, path: Path) -> None:
    """A short summary on stdout: status, cost, regret, steps that fell short."""
    o = r.outcome
    print(f"\nStatus: {o.status}  ({o.message})")
    if o.objective_bnusd is not None:
        print(f"Total discounted cost: {_money_text(o.objective_bnusd * 1e9)}")
    if r.mode == "myopic":
        regret = r.regret_bnusd
        print(f"Perfect foresight, same inputs: {_money_text(_bn(r.reference_cost_bnusd))}")
        print(f"Regret (myopic - perfect, look-ahead {r.look_ahead} a): "
              f"{_money_text(regret * 1e9 if regret is not None else None)}"
              + ("" if r.comparable else "  (a target is missed: not a pure cost of myopia)"))
        if not r.comparable:
            print(f"Regret at equal delivery (perfect foresight delivering what the myopic plan delivers): "
                  f"{_money_text(_bn(r.regret_at_equal_delivery_bnusd))}")
        for f in r.final_shortfalls[:10]:
            print(f"  - {f.sentence()}")
    print(f"\nResult set: {path}  (open {path / 'report.html'}; decisions per step in tables/steps.csv)")


def run_from_cli(a: Any, s: Scenario, name: str, argv: list[str], timings: dict[str, float]) -> int:
    """``run.py --foresight myopic --look-ahead N``: solve, write, print; the exit code (as ``run.py``)."""
    from model.errors import ResultSetError

    if a.objective != "min-cost":
        print("error: --foresight myopic plans least cost; --objective max-capacity is not available with it",
              file=sys.stderr)
        return 2
    try:
        print(f"Solving scenario '{s.name}' with myopic foresight (look-ahead "
              f"{a.look_ahead or DEFAULT_LOOK_AHEAD} a): {len(s.offers)} offers, {s.first_year}-{s.last_year} ...",
              flush=True)
        r = solve_foresight(s, "myopic", a.look_ahead, a.time_limit)
    except ForesightError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    try:
        path = write_foresight_set(a.results, name, s, r, argv, timings, plots=not a.no_plots)
    except ResultSetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: could not write the result set {a.results / name}: {exc}; nothing was written "
              "(no partial set is left)", file=sys.stderr)
        return 1
    timings["write_s"] = time.perf_counter() - t0
    print_result(r, path)
    return exit_code(r.outcome.status)


def exit_code(status: str) -> int:
    if status == "optimal":
        return 0
    if status in ("target_missed", "infeasible"):
        return 3
    return 4
