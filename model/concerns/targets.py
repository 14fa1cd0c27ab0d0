"""Targets and yearly milestones: capacity (GW) or compute (FLOP/s) in service."""
from __future__ import annotations

from pyomo.environ import ConcreteModel, Constraint, NonNegativeReals, Objective, Set, Var, maximize

from model.concerns.common import Limit, active_vintages, add_param
from model.scenario import Scenario, Target


def capacity_in_service(m: ConcreteModel, s: Scenario, year: int):
    """Expression: IT capacity of every offer in service in ``year`` (GW)."""
    return sum(m.in_service_gw[o, year] for o in s.offers)


def facility_power_in_service(m: ConcreteModel, s: Scenario, year: int):
    """Expression: facility power of every offer in service in ``year`` (GW) = sum of IT x PUE."""
    return sum(m.pue[info.region, year] * m.in_service_gw[o, year] for o, info in s.offers.items())


def target_measure(s: Scenario, kind: str):
    """The expression a main target of ``kind`` is measured by (IT or facility power, or compute)."""
    if kind == "compute":
        return compute_in_service
    basis = next((t.basis for t in s.targets if t.main and t.kind == "power"), "it")
    return facility_power_in_service if basis == "facility" else capacity_in_service


def compute_in_service(m: ConcreteModel, s: Scenario, year: int):
    """Expression: compute in service in ``year`` (EFLOP/s), each vintage at its generation's FLOP/s per GW."""
    expr = 0.0
    for o, info in s.offers.items():
        expr += s.opening_in_service_eflops(o, year)
        for v in active_vintages(s, o, year):
            expr += s.eflops_per_gw[info.family, v] * m.build_gw[o, v]
    return expr


def _strongest(targets: list[Target]) -> dict[int, Target]:
    out: dict[int, Target] = {}
    for t in targets:
        if t.year not in out or t.value > out[t.year].value:
            out[t.year] = t
    return out


def main_targets(s: Scenario, kind: str) -> dict[int, Target]:
    return _strongest([t for t in s.targets if t.main and t.kind == kind])


def milestones(s: Scenario, kind: str) -> dict[int, Target]:
    """Milestones of ``kind`` by year, except in years fixed by reported history (they are data, not decisions)."""
    past = s.history_last_year
    return _strongest([t for t in s.targets if not t.main and t.kind == kind and (past is None or t.year > past)])


def param_values(s: Scenario) -> dict[str, dict]:
    """Values of this concern's Params (GW, EFLOP/s) for scenario ``s``."""
    return {
        "target_gw": {y: t.value for y, t in main_targets(s, "power").items()},
        "milestone_gw": {y: t.value for y, t in milestones(s, "power").items()},
        "target_eflops": {y: t.value for y, t in main_targets(s, "compute").items()},
        "milestone_eflops": {y: t.value for y, t in milestones(s, "compute").items()},
    }


def add_components(m: ConcreteModel, s: Scenario) -> None:
    add_target_capacity(m, s)
    add_target_compute(m, s)


def add_target_capacity(m: ConcreteModel, s: Scenario) -> None:
    """Capacity in service meets the power target and milestones.

    For every year y from the target year to the end of the horizon (the
    target holds once reached), and every milestone year:

        sum_o in_service_gw[o, y]  >=  target_gw[y]        (target_capacity)
        sum_o in_service_gw[o, y]  >=  milestone_gw[y]     (milestone_capacity)

    in GW of IT power; with a facility-basis target (``--target-basis
    facility``) the target row weighs each offer by its region's PUE. The main target and the milestones are separate
    families so that diagnosis can relax the target alone.
    """
    values = param_values(s)
    main, extra = values["target_gw"], values["milestone_gw"]
    m.TARGET_GW_YEARS = Set(initialize=sorted(main), ordered=True)
    m.MILESTONE_GW_YEARS = Set(initialize=sorted(extra), ordered=True)
    add_param(m, "target_gw", m.TARGET_GW_YEARS, main)
    add_param(m, "milestone_gw", m.MILESTONE_GW_YEARS, extra)
    measure = target_measure(s, "power")
    if main:
        m.target_capacity = Constraint(m.TARGET_GW_YEARS, rule=lambda m, y: measure(m, s, y) >= m.target_gw[y])
    if extra:
        m.milestone_capacity = Constraint(m.MILESTONE_GW_YEARS,
                                          rule=lambda m, y: capacity_in_service(m, s, y) >= m.milestone_gw[y])


def add_target_compute(m: ConcreteModel, s: Scenario) -> None:
    """Compute in service meets the compute target and milestones.

    For every year y with a compute target (from its year on) or milestone:

        sum_o [opening_eflops(o, y) + sum_{v in V(o, y)} eflops_per_gw[f(o), v] * build_gw[o, v]]
            >=  target_eflops[y]

    in EFLOP/s (dense FP8); each vintage v performs at the newest generation of
    its family available in v.
    """
    values = param_values(s)
    main, extra = values["target_eflops"], values["milestone_eflops"]
    m.TARGET_EFLOPS_YEARS = Set(initialize=sorted(main), ordered=True)
    m.MILESTONE_EFLOPS_YEARS = Set(initialize=sorted(extra), ordered=True)
    add_param(m, "target_eflops", m.TARGET_EFLOPS_YEARS, main)
    add_param(m, "milestone_eflops", m.MILESTONE_EFLOPS_YEARS, extra)
    if main:
        m.target_compute = Constraint(m.TARGET_EFLOPS_YEARS,
                                      rule=lambda m, y: compute_in_service(m, s, y) >= m.target_eflops[y])
    if extra:
        m.milestone_compute = Constraint(m.MILESTONE_EFLOPS_YEARS,
                                         rule=lambda m, y: compute_in_service(m, s, y) >= m.milestone_eflops[y])


def _main_label(s: Scenario, kind: str, y: int) -> Limit:
    t = main_targets(s, kind)[y]
    return Limit(f"{t.label} (in service {y})", t.unit, "floor")


def _milestone_label(s: Scenario, kind: str, y: int) -> Limit:
    t = milestones(s, kind)[y]
    return Limit(t.label, t.unit, "floor")


LIMITS = {
    "target_capacity": lambda s, y: _main_label(s, "power", y),
    "target_compute": lambda s, y: _main_label(s, "compute", y),
    "milestone_capacity": lambda s, y: _milestone_label(s, "power", y),
    "milestone_compute": lambda s, y: _milestone_label(s, "compute", y),
}


def add_largest_reachable(m: ConcreteModel, s: Scenario) -> None:
    """Turn a built plan into "the largest figure that can be held from the target year on".

    The main target's rows are deactivated, and for every year y of the main target:

        measure(y)  >=  reachable          (reachable_held)
        max  reachable                     (max_reachable; the cost objective is deactivated)

    with measure the target's own (IT or facility GW, or EFLOP/s). Used to
    diagnose a missed target and for ``--objective max-capacity``.
    """
    kind = s.main_target.kind
    for name in ("target_capacity", "target_compute"):
        if hasattr(m, name):
            getattr(m, name).deactivate()
    years = sorted(main_targets(s, kind))
    measure = target_measure(s, kind)
    m.reachable = Var(within=NonNegativeReals)
    m.reachable_held = Constraint(years, rule=lambda m, y: measure(m, s, y) >= m.reachable)
    m.total_cost.deactivate()
    m.max_reachable = Objective(expr=m.reachable, sense=maximize)
