"""Deals: minimum and maximum commitments in GW or USD over their windows, and dated tranches.

Tranches (``inputs/commitments.csv``) pin when a deal delivers: reported history is fixed
(``exactly``, not a decision and not reported as a binding limit), deliveries announced with dates
are lower bounds, and ``stop`` rows cap an offer after its last tranche unless a source or a marked
assumption lets it continue.
"""
from __future__ import annotations

from pyomo.environ import ConcreteModel, Constraint, Set

from model.concerns.common import Limit, add_param
from model.records import MAXIMUM_ENFORCED, MINIMUM_ENFORCED, Commitment, Deal, Scenario


def capacity_added(m: ConcreteModel, s: Scenario, d: Deal):
    """Expression: GW added by the deal's offers within its window."""
    return sum(m.build_gw[o, y] for o in d.offers for y in d.window(s.years) if (o, y) in m.OFFER_YEARS)


def spending(m: ConcreteModel, s: Scenario, d: Deal):
    """Expression: nominal money paid to the deal's offers within its window for new capacity (billion USD).

        sum_{o in O(d), y in W(d)} capex[o, y] * build_gw[o, y]
                                   + (lease_price[o, y] + fixed_cost[o, y]) * (in_service_gw[o, y] - opening_gw(o, y))

    Rent on the opening stock (built before the horizon, under earlier contracts) does not count
    towards a deal: deals buy new ("incremental") capacity. Energy is paid to utilities, not to the
    counterparty, and is left out.
    """
    expr = 0.0
    for o in d.offers:
        for y in d.window(s.years):
            if (o, y) in m.OFFER_YEARS:
                expr += m.capex_bnusd_per_gw[o, y] * m.build_gw[o, y]
            expr += (m.lease_bnusd_per_gw_yr[o, y] + m.fixed_bnusd_per_gw_yr[o, y]) * (
                m.in_service_gw[o, y] - s.opening_in_service_gw(o, y))
    return expr


def _deals(s: Scenario, field: str, statuses: tuple[str, ...]) -> dict[str, Deal]:
    return {d.name: d for d in s.deals if getattr(d, field) is not None and d.status in statuses
            and d.window(s.years)}


def param_values(s: Scenario) -> dict[str, dict]:
    """Deal bounds (GW, billion USD) for scenario ``s``, keyed by deal name."""
    return {
        "deal_min_gw": {k: d.min_gw for k, d in sorted(_deals(s, "min_gw", MINIMUM_ENFORCED).items())},
        "deal_max_gw": {k: d.max_gw for k, d in sorted(_deals(s, "max_gw", MAXIMUM_ENFORCED).items())},
        "deal_min_bnusd": {k: d.min_bnusd for k, d in sorted(_deals(s, "min_bnusd", MINIMUM_ENFORCED).items())},
        "deal_max_bnusd": {k: d.max_bnusd for k, d in sorted(_deals(s, "max_bnusd", MAXIMUM_ENFORCED).items())},
        "commitment_value": {c.name: c.value for c in s.commitments},
    }


def add_components(m: ConcreteModel, s: Scenario) -> None:
    add_deal_capacity(m, s)
    add_deal_spending(m, s)
    add_commitments(m, s)


def commitment_measure(m: ConcreteModel, s: Scenario, c: Commitment):
    """Expression: GW added, or billion USD paid, by the tranche's offers within its years."""
    if c.unit == "GW":
        return sum(m.build_gw[o, y] for o in c.offers for y in c.window(s.years) if (o, y) in m.OFFER_YEARS)
    return spending(m, s, Deal(c.name, "", "", c.first_year, c.last_year, c.offers, c.scope))


def add_commitments(m: ConcreteModel, s: Scenario) -> None:
    """Dated tranches: history and scheduled deliveries as fixed data, stops as caps.

    For every tranche c with offers O(c) and years W(c) = [first(c), last(c)] within the horizon:

        sum_{o in O(c), y in W(c)} build_gw[o, y]   (>=, =, <=)   commitment_gw[c]      (GW tranches)
        spending(O(c), W(c))                         (>=, =, <=)   commitment_bnusd[c]   (USD tranches)

    with >= for ``at_least``, = for ``exactly`` (history must be exact) and <= for ``at_most``;
    spending as in :func:`spending` (nominal billion USD). ``--set commitment.NAME=0GW`` or
    ``commitment_delay.NAME=1a`` move or drop a tranche.
    """
    if not s.commitments:
        return
    by_name = {c.name: c for c in s.commitments}
    m.COMMITMENTS = Set(initialize=list(by_name), ordered=True)
    add_param(m, "commitment_value", m.COMMITMENTS, param_values(s)["commitment_value"])

    def rule(m, k):
        c = by_name[k]
        lhs = commitment_measure(m, s, c)
        if isinstance(lhs, (int, float)):      # no offer can build in its years (the loader refuses a floor then)
            return Constraint.Skip
        if c.bound == "at_least":
            return lhs >= m.commitment_value[k]
        if c.bound == "at_most":
            return lhs <= m.commitment_value[k]
        return lhs == m.commitment_value[k]

    m.commitment = Constraint(m.COMMITMENTS, rule=rule)


def add_deal_capacity(m: ConcreteModel, s: Scenario) -> None:
    """Capacity commitments of deals, in GW added within the window W(d).

        deal_min_gw[d]  <=  sum_{o in O(d), y in W(d)} build_gw[o, y]   (signed, active, announced deals)
        sum_{o in O(d), y in W(d)} build_gw[o, y]  <=  deal_max_gw[d]   (also letters of intent)

    O(d) are the offers the deal's scope selects; GW of IT power.
    """
    lo, hi = _deals(s, "min_gw", MINIMUM_ENFORCED), _deals(s, "max_gw", MAXIMUM_ENFORCED)
    m.DEAL_MIN_GW = Set(initialize=sorted(lo), ordered=True)
    m.DEAL_MAX_GW = Set(initialize=sorted(hi), ordered=True)
    values = param_values(s)
    add_param(m, "deal_min_gw", m.DEAL_MIN_GW, values["deal_min_gw"])
    add_param(m, "deal_max_gw", m.DEAL_MAX_GW, values["deal_max_gw"])
    if lo:
        m.deal_minimum_gw = Constraint(m.DEAL_MIN_GW, rule=lambda m, k: capacity_added(m, s, lo[k]) >= m.deal_min_gw[k])
    if hi:
        m.deal_maximum_gw = Constraint(m.DEAL_MAX_GW, rule=lambda m, k: capacity_added(m, s, hi[k]) <= m.deal_max_gw[k])


def add_deal_spending(m: ConcreteModel, s: Scenario) -> None:
    """Money commitments of deals, in billion USD paid within the window (take-or-pay, caps).

        deal_min_bnusd[d]  <=  spending(d)      (signed, active, announced deals)
        spending(d)  <=  deal_max_bnusd[d]      (also letters of intent)

    with spending(d) as in :func:`spending` (nominal, undiscounted).
    """
    lo, hi = _deals(s, "min_bnusd", MINIMUM_ENFORCED), _deals(s, "max_bnusd", MAXIMUM_ENFORCED)
    m.DEAL_MIN_USD = Set(initialize=sorted(lo), ordered=True)
    m.DEAL_MAX_USD = Set(initialize=sorted(hi), ordered=True)
    values = param_values(s)
    add_param(m, "deal_min_bnusd", m.DEAL_MIN_USD, values["deal_min_bnusd"])
    add_param(m, "deal_max_bnusd", m.DEAL_MAX_USD, values["deal_max_bnusd"])
    if lo:
        m.deal_minimum_spend = Constraint(m.DEAL_MIN_USD, rule=lambda m, k: spending(m, s, lo[k]) >= m.deal_min_bnusd[k])
    if hi:
        m.deal_maximum_spend = Constraint(m.DEAL_MAX_USD, rule=lambda m, k: spending(m, s, hi[k]) <= m.deal_max_bnusd[k])


def _deal(s: Scenario, name: str) -> Deal:
    return next(d for d in s.deals if d.name == name)


def _label(s: Scenario, name: str, bound: str) -> str:
    d = _deal(s, name)
    return f"{d.counterparty} deal {bound} ({d.name}, {d.first_year}-{d.last_year})"


def _commitment_limit(s: Scenario, name: str) -> Limit | None:
    """A tranche in the user's words; None for history (data, not a limit to price)."""
    c = next(c for c in s.commitments if c.name == name)
    if c.kind == "history":
        return None
    years = f"{c.first_year}" if c.first_year == c.last_year else f"{c.first_year}-{c.last_year}"
    word = {"at_least": "scheduled delivery", "exactly": "scheduled delivery (exact)", "at_most": "end of offer"}[c.bound]
    return Limit(f"{word} {c.name} ({years})", c.unit, "cap" if c.bound == "at_most" else "floor")


LIMITS = {
    "commitment": _commitment_limit,
    "deal_minimum_gw": lambda s, k: Limit(_label(s, k, "minimum"), "GW", "floor"),
    "deal_maximum_gw": lambda s, k: Limit(_label(s, k, "maximum"), "GW", "cap"),
    "deal_minimum_spend": lambda s, k: Limit(_label(s, k, "minimum spend"), "bnUSD", "floor"),
    "deal_maximum_spend": lambda s, k: Limit(_label(s, k, "maximum spend"), "bnUSD", "cap"),
}
