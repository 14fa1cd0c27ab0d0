"""Offer availability: first year (in the index set), yearly and cumulative caps, ramps."""
from __future__ import annotations

from pyomo.environ import ConcreteModel, Constraint, Set

from model.concerns.common import Limit, add_param, offer_label
from model.scenario import Scenario


def param_values(s: Scenario) -> dict[str, dict]:
    """Values of this concern's Params (GW) for scenario ``s``; their keys are the constraints' index."""
    return {
        "build_cap_gw": {(o, y): s.build_cap_gw[o, y] for (o, y) in s.offer_years if (o, y) in s.build_cap_gw},
        "cumulative_cap_gw": {o: s.cumulative_cap_gw[o] for o in s.offers if o in s.cumulative_cap_gw},
        "ramp_gw": {(o, y): s.ramp_gw[o] for (o, y) in s.offer_years if o in s.ramp_gw},
    }


def add_components(m: ConcreteModel, s: Scenario) -> None:
    add_build_cap(m, s)
    add_cumulative_cap(m, s)
    add_ramp(m, s)


def add_build_cap(m: ConcreteModel, s: Scenario) -> None:
    """Limit what an offer can add in a year.

    For every (offer o, year y) with a cap, y >= first_year(o):

        build_gw[o, y]  <=  build_cap_gw[o, y] * 1 a

    GW added in the year against the offer's GW/a. Offers without a cap row
    are limited only by supply, deals and power.
    """
    values = param_values(s)["build_cap_gw"]
    index = list(values)
    m.BUILD_CAP_INDEX = Set(initialize=index, dimen=2, ordered=True)
    add_param(m, "build_cap_gw", m.BUILD_CAP_INDEX, values)
    if index:
        m.build_cap = Constraint(m.BUILD_CAP_INDEX, rule=lambda m, o, y: m.build_gw[o, y] <= m.build_cap_gw[o, y])


def add_cumulative_cap(m: ConcreteModel, s: Scenario) -> None:
    """Limit what an offer can add over the horizon (a site's size, a deal's volume).

    For every offer o with a cumulative cap:

        sum_{y >= first_year(o)} build_gw[o, y]  <=  cumulative_cap_gw[o]     (GW)
    """
    values = param_values(s)["cumulative_cap_gw"]
    index = list(values)
    m.CUMULATIVE_CAP_OFFERS = Set(initialize=index, ordered=True)
    add_param(m, "cumulative_cap_gw", m.CUMULATIVE_CAP_OFFERS, values)
    if index:
        m.cumulative_cap = Constraint(m.CUMULATIVE_CAP_OFFERS, rule=lambda m, o: sum(
            m.build_gw[o, y] for y in s.years if y >= s.offers[o].first_year) <= m.cumulative_cap_gw[o])


def add_ramp(m: ConcreteModel, s: Scenario) -> None:
    """Limit how fast an offer's yearly build can grow.

    For every offer o with a ramp and year y > first_year(o):

        build_gw[o, y] - build_gw[o, y-1]  <=  ramp_gw[o] * 1 a

    and in its first year build_gw[o, first] <= ramp_gw[o] (from zero). GW.
    """
    values = param_values(s)["ramp_gw"]
    index = list(values)
    m.RAMP_INDEX = Set(initialize=index, dimen=2, ordered=True)
    add_param(m, "ramp_gw", m.RAMP_INDEX, values)

    def rule(m, o, y):
        previous = m.build_gw[o, y - 1] if (o, y - 1) in m.OFFER_YEARS else 0.0
        return m.build_gw[o, y] - previous <= m.ramp_gw[o, y]

    if index:
        m.ramp = Constraint(m.RAMP_INDEX, rule=rule)


def _past(s: Scenario, year: int) -> bool:
    """True in years fixed by reported history: their limits are not priced (the builds are data)."""
    return s.history_last_year is not None and year <= s.history_last_year


LIMITS = {
    "build_cap": lambda s, k: None if _past(s, k[1]) else Limit(f"{offer_label(s, k[0])} build cap {k[1]}", "GW", "cap"),
    "cumulative_cap": lambda s, o: Limit(f"{offer_label(s, o)} cumulative cap", "GW", "cap"),
    "ramp": lambda s, k: None if _past(s, k[1]) else Limit(f"{offer_label(s, k[0])} ramp limit {k[1]}", "GW", "cap"),
}
