"""Portfolio rules: most (or least) share of capacity in service for a vendor, host or kind."""
from __future__ import annotations

from pyomo.environ import ConcreteModel, Constraint, Set

from model.concerns.common import Limit, add_param
from model.scenario import Scenario


def param_values(s: Scenario) -> dict[str, dict]:
    """Portfolio shares (dimensionless) by (rule number, year) for scenario ``s``."""
    return {"portfolio_share": {(i, y): r.share for i, r in enumerate(s.portfolio) for y in s.years
                                if r.first_year <= y <= r.last_year}}


def add_components(m: ConcreteModel, s: Scenario) -> None:
    add_portfolio_shares(m, s)


def add_portfolio_shares(m: ConcreteModel, s: Scenario) -> None:
    """Shares of capacity in service held by the offers a rule's scope selects.

    For every rule k and year y in its years, with O(k) its offers:

        sum_{o in O(k)} in_service_gw[o, y]  <=  max_share[k] * sum_o in_service_gw[o, y]   (max_share)
        sum_{o in O(k)} in_service_gw[o, y]  >=  min_share[k] * sum_o in_service_gw[o, y]   (min_share)

    Shares are dimensionless (0..1); both sides are GW of IT power.
    """
    values = param_values(s)["portfolio_share"]
    index = list(values)
    m.PORTFOLIO_INDEX = Set(initialize=index, dimen=2, ordered=True)
    add_param(m, "portfolio_share", m.PORTFOLIO_INDEX, values)

    def rule(m, i, y):
        r = s.portfolio[i]
        scoped = sum(m.in_service_gw[o, y] for o in r.offers)
        total = sum(m.in_service_gw[o, y] for o in s.offers)
        if r.rule == "max_share":
            return scoped <= m.portfolio_share[i, y] * total
        return scoped >= m.portfolio_share[i, y] * total

    if index:
        m.portfolio_share_rule = Constraint(m.PORTFOLIO_INDEX, rule=rule)


def _label(s: Scenario, k) -> Limit:
    r = s.portfolio[k[0]]
    word = "most" if r.rule == "max_share" else "least"
    return Limit(f"portfolio rule: {r.scope} holds at {word} {r.share:.0%} of capacity ({k[1]})", "GW",
                 "cap" if r.rule == "max_share" else "floor")


LIMITS = {"portfolio_share_rule": _label}
