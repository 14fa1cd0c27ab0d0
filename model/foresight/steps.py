"""Myopic foresight's steps: the records of a step and its shortfalls, and the Stepper that fixes, relaxes and solves one window on the one built model."""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Iterable

from pyomo.environ import Constraint, NonNegativeReals, Objective, Var, minimize, value

from model.build import build_model, describe_limit
from model.scenario import Scenario
from model.solve import Outcome, highs_version, make_solver
from model.solve import solve_model as _solve
from model.solve import solver_options

FORESIGHT_MODES = ("perfect", "myopic")


#: Look-ahead of ``--foresight myopic`` when ``--look-ahead`` is not given (years, including the step's own).
DEFAULT_LOOK_AHEAD = 2


#: Rows a myopic step may fall short of (floors), each at a penalty per unit of shortfall.
RELAXABLE = ("target_capacity", "target_compute", "milestone_capacity", "milestone_compute",
             "deal_minimum_gw", "deal_minimum_spend", "commitment")


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
        amount = money_text(self.amount * 1e9) if self.unit == "bnUSD" else f"{self.amount:,.4g} {self.unit}"
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
        """A shortfall variable on every target, milestone, deal-minimum and scheduled-tranche row (fixed at 0
        until relaxed): a step that put a tranche off to years it could not see may fall short of it."""
        m, s = self.m, self.s
        rows = []
        for name in RELAXABLE:
            comp = getattr(m, name, None)
            if comp is None:
                continue
            for idx, con in comp.items():
                if name == "commitment":     # only scheduled floors: history is exact, stops are caps
                    c = next(c for c in s.commitments if c.name == idx)
                    if c.bound != "at_least":
                        continue
                lim = describe_limit(s, name, idx)
                unit = lim.unit if lim is not None else "GW"
                if name == "commitment":
                    year = min(c.last_year, s.last_year)
                elif name.startswith("deal_"):
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


def usd_text(bnusd: float) -> dict[str, Any]:
    return {"value": float(bnusd) * 1e9, "unit": "USD"}


def bn_text(bnusd: float | None) -> float | None:
    """Billion USD to USD (None stays None)."""
    return None if bnusd is None else bnusd * 1e9


def money_text(usd: float | None) -> str:
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
