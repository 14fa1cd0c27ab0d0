"""The post-solve check: recompute every constraint from the plan's numbers and refuse a plan that breaks one.

A solver reports "optimal" about the problem it saw, within its own scaled
tolerances. Before a plan is written anywhere, :func:`check_plan` takes the
variable values the plan consists of, evaluates every active constraint of
the Pyomo model again (its body against its bounds) and every variable's
bounds, and lists what is broken by more than a tolerance scaled to the row.
:mod:`model.solve` refuses a plan whose check fails (status ``solver_error``,
the worst violations named in the user's words).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from pyomo.environ import ConcreteModel, Constraint, Var, value
from pyomo.repn import generate_standard_repn

from model.build import describe_limit
from model.scenario import Scenario

#: A row may miss its bound by this share of the larger of 1, |bound| and the sum of |coefficient x value|
#: over its terms (HiGHS's own primal feasibility tolerance is 1e-7 on its scaled model).
RELATIVE_TOLERANCE = 1e-6


@dataclass(frozen=True)
class Violation:
    """One constraint (or variable bound) the plan breaks beyond tolerance.

    ``bound``, ``found``, ``excess`` and ``tolerance`` are in the row's model
    unit (``unit``: GW, GW/a, bnUSD, EFLOP/s, ...). ``side`` says which bound
    is broken: ``"upper"`` (found above bound) or ``"lower"`` (found below).
    """

    constraint: str
    label: str
    unit: str
    side: str
    bound: float
    found: float
    excess: float
    tolerance: float

    @property
    def meaning(self) -> str:
        """``'Acme supply cap 2027' is exceeded by 0.5 GW (plan 100.5 GW, limit 100 GW)``."""
        scale, unit = (1e9, "USD") if self.unit == "bnUSD" else (1.0, self.unit)
        verb = "exceeded" if self.side == "upper" else "undershot"
        if math.isnan(self.found):
            return f"'{self.label}' cannot be evaluated: a variable in it has no value"
        if self.unit == "model units":   # an accounting row or a variable bound: no user-facing unit
            return (f"'{self.label}' is off by {self.excess:.4g} "
                    f"(recomputed {self.found:.6g}, bound {self.bound:.6g}, in model units)")
        return (f"'{self.label}' is {verb} by {self.excess * scale:.4g} {unit} "
                f"(plan {self.found * scale:.6g} {unit}, limit {self.bound * scale:.6g} {unit})")

    def as_json(self) -> dict[str, Any]:
        return {"constraint": self.constraint, "name": self.label, "side": self.side, "unit": self.unit,
                "bound": self.bound, "found": None if math.isnan(self.found) else self.found,
                "excess": None if math.isnan(self.excess) else self.excess, "tolerance": self.tolerance,
                "meaning": self.meaning}


@dataclass
class CheckResult:
    """What the check saw: how many rows and bounds it recomputed, and what is broken (worst first)."""

    rows: int
    bounds: int
    violations: list[Violation] = field(default_factory=list)
    worst_ratio: float = 0.0      # largest |miss| / tolerance over every row, broken or not

    @property
    def passed(self) -> bool:
        return not self.violations

    def message(self, top: int = 3) -> str:
        """One sentence naming the worst violations, for the result set's status message."""
        n = len(self.violations)
        worst = "; ".join(v.meaning for v in self.violations[:top])
        more = f" (and {n - top} more)" if n > top else ""
        return (f"the plan HiGHS returned breaks {n} limit{'s' if n != 1 else ''} beyond tolerance "
                f"when recomputed, so it is refused: {worst}{more}")

    def as_json(self, top: int = 20) -> dict[str, Any]:
        return {"passed": self.passed, "rows_checked": self.rows, "bounds_checked": self.bounds,
                "relative_tolerance": RELATIVE_TOLERANCE, "worst_miss_over_tolerance": self.worst_ratio,
                "violations": [v.as_json() for v in self.violations[:top]], "violations_total": len(self.violations)}


def row_tolerance(bound: float, terms_magnitude: float = 0.0) -> float:
    """Tolerance for one row: ``RELATIVE_TOLERANCE * max(1, |bound|, sum_i |a_i x_i|)``.

    Examples
    --------
    >>> row_tolerance(250.0)
    0.00025
    >>> row_tolerance(0.0)
    1e-06
    """
    return RELATIVE_TOLERANCE * max(1.0, abs(bound), abs(terms_magnitude))


def _terms_magnitude(expr: Any) -> float:
    """sum_i |a_i x_i| + |constant| of a linear expression at the current values (the row's own scale)."""
    repn = generate_standard_repn(expr, compute_values=True, quadratic=False)
    total = abs(value(repn.constant)) if repn.constant is not None else 0.0
    for coef, var in zip(repn.linear_coefs, repn.linear_vars):
        total += abs(coef * (var.value or 0.0))
    return total


def _describe(s: Scenario | None, name: str, index: Any) -> tuple[str, str]:
    """The user's words and unit for row ``name[index]`` (accounting rows have no Limit: named by component)."""
    idx = "" if index is None else (",".join(map(str, index)) if isinstance(index, tuple) else str(index))
    lim = describe_limit(s, name, index) if s is not None else None
    if lim is not None:
        return lim.label, lim.unit
    return f"model row {name}[{idx}]", "model units"


def check_plan(m: ConcreteModel, s: Scenario | None = None, descend_into: bool = True,
               skip_prefix: str | None = None) -> CheckResult:
    """Recompute every active constraint and variable bound of a solved model from its variable values.

    For every active row ``lower <= body(x) <= upper`` and every variable bound:

        miss = max(lower - body(x), body(x) - upper, 0)
        broken  <=>  miss > RELATIVE_TOLERANCE * max(1, |bound|)
                     and miss > RELATIVE_TOLERANCE * max(1, |bound|, sum_i |a_i x_i|)

    (the second, wider test is computed only for rows failing the first, so
    the check costs one evaluation per row).

    Parameters
    ----------
    m : ConcreteModel
        A model whose variable values hold the plan (loaded after an optimal solve).
    s : Scenario, optional
        The scenario, to name broken limits in the user's words
        (:func:`model.build.describe_limit`).
    descend_into : bool
        Also check the rows and variables of sub-blocks (default). The
        stochastic extensive form checks each future's block with its own
        scenario and then its own top-level rows with ``descend_into=False``.
    skip_prefix : str, optional
        Leave out components whose name starts with it (rows a decomposition
        library adds to our model, e.g. ``"_mpisppy"``).

    Returns
    -------
    CheckResult
        Violations sorted worst first (by miss / tolerance).
    """
    violations: list[tuple[float, Violation]] = []
    worst = 0.0
    rows = 0
    for con in m.component_data_objects(Constraint, active=True, descend_into=descend_into):
        if skip_prefix and con.name.startswith(skip_prefix):
            continue
        rows += 1
        found = value(con.body, exception=False)
        lower, upper = con.lb, con.ub
        comp = con.parent_component()
        if found is None:
            label, unit = _describe(s, comp.local_name, con.index())
            bound = upper if upper is not None else (lower if lower is not None else 0.0)
            violations.append((math.inf, Violation(f"{comp.local_name}[{con.index()}]", label, unit, "upper",
                                                   bound, math.nan, math.nan, 0.0)))
            continue
        for side, bound, miss in (("lower", lower, None if lower is None else lower - found),
                                  ("upper", upper, None if upper is None else found - upper)):
            if miss is None:
                continue
            tol = row_tolerance(bound)
            worst = max(worst, miss / tol)
            if miss <= tol:
                continue
            tol = row_tolerance(bound, _terms_magnitude(con.body))
            if miss <= tol:
                continue
            label, unit = _describe(s, comp.local_name, con.index())
            idx = con.index()
            name = f"{comp.local_name}[{','.join(map(str, idx)) if isinstance(idx, tuple) else idx}]"
            violations.append((miss / tol, Violation(name, label, unit, side, bound, found, miss, tol)))
    bounds = 0
    for var in m.component_data_objects(Var, active=True, descend_into=descend_into):
        if skip_prefix and var.name.startswith(skip_prefix):
            continue
        x = var.value
        if x is None:
            continue   # not in the solved problem (appears in no active row)
        for side, bound, miss in (("lower", var.lb, None if var.lb is None else var.lb - x),
                                  ("upper", var.ub, None if var.ub is None else x - var.ub)):
            if miss is None:
                continue
            bounds += 1
            tol = row_tolerance(bound)
            worst = max(worst, miss / tol)
            if miss > tol:
                what = var.parent_component().doc or var.parent_component().local_name
                label = f"{what}: {var.name} {'at least' if side == 'lower' else 'at most'} {bound:g}"
                violations.append((miss / tol, Violation(var.name, label, "model units", side, bound, x, miss, tol)))
    violations.sort(key=lambda t: -t[0])
    return CheckResult(rows, bounds, [v for _, v in violations], worst)


def merge(results: list[tuple[str, CheckResult]]) -> CheckResult:
    """One result for several checked plans (or parts of one): each violation's label prefixed with its part.

    ``results`` pairs a label (``"future 'late'"``, ``"plan 'most AMD (vendor)'"``) with its check.
    """
    violations = [Violation(v.constraint, f"{label}: {v.label}" if label else v.label, v.unit, v.side, v.bound,
                            v.found, v.excess, v.tolerance)
                  for label, r in results for v in r.violations]
    violations.sort(key=lambda v: -(v.excess / v.tolerance if v.tolerance > 0 and math.isfinite(v.excess) else math.inf))
    return CheckResult(sum(r.rows for _, r in results), sum(r.bounds for _, r in results), violations,
                       max([r.worst_ratio for _, r in results] or [0.0]))


def energy_readout_problems(s: Scenario, ds: Any) -> list[str]:
    """Recompute the energy balance from a plan's read-out (``model.concerns.power.report``); list what breaks.

    Per region r and year y, and source p (TWh a year):

        energy_twh[r, y]  =  grid_energy_twh[r, y] + sum_{p in P(r)} source_energy_twh[p, y]
        grid_energy_twh[r, y]  <=  grid_power_gw[r, y] * hours / 1000
        source_energy_twh[p, y]  <=  capacity_factor[p] * hours / 1000 * power_in_service_gw[p, y]

    with the row tolerance of :func:`row_tolerance`. The LP's own rows are
    checked by :func:`check_plan`; this checks what is written, after the
    read-out has split equal-price grid energy.
    """
    hours_twh = s.hours_per_year / 1000.0
    out = []
    has_sources = "source_energy_twh" in ds
    regions, sources_all, years = list(s.regions), list(s.power_sources), list(s.years)

    tables: dict[str, tuple[Any, dict[str, int], dict[int, int]]] = {}
    for name in ("energy_twh", "grid_energy_twh", "source_energy_twh", "power_in_service_gw"):
        if name not in ds:
            continue
        da = ds[name]
        dim = da.dims[0]
        keys = [str(k) for k in da[dim].values] if dim in da.indexes else (regions if dim == "region" else sources_all)
        yrs = [int(v) for v in da["year"].values] if "year" in da.indexes else years
        tables[name] = (da.transpose(dim, "year").values, {k: i for i, k in enumerate(keys)},
                        {v: j for j, v in enumerate(yrs)})

    def at(name: str, key: str, y: int) -> float:      # by label where the read-out has coordinates, else by position
        values, rows, cols = tables[name]
        return float(values[rows[key], cols[y]])

    for r in s.regions:
        for y in s.years:
            used = at("energy_twh", r, y)
            grid = at("grid_energy_twh", r, y)
            sources = [p for p, src in s.power_sources.items() if src.region == r] if has_sources else []
            delivered = grid + sum(at("source_energy_twh", p, y) for p in sources)
            if abs(used - delivered) > row_tolerance(used, delivered):
                out.append(f"energy in {r} {y}: {used:.6g} TWh used, {delivered:.6g} TWh delivered")
            cap = s.grid_power_gw.get((r, y), 0.0) * hours_twh
            if grid - cap > row_tolerance(cap, grid):
                out.append(f"grid energy in {r} {y}: {grid:.6g} TWh above the {cap:.6g} TWh the grid can deliver")
            for p in sources:
                e = at("source_energy_twh", p, y)
                cap = s.capacity_factor.get(p, 1.0) * hours_twh * at("power_in_service_gw", p, y)
                if e - cap > row_tolerance(cap, e):
                    out.append(f"energy from {p} {y}: {e:.6g} TWh above the {cap:.6g} TWh its capacity can deliver")
    return out
