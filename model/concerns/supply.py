"""Vendor supply caps per year (manufacturing: packaging, memory)."""
from __future__ import annotations

from pyomo.environ import ConcreteModel, Constraint, Set

from model.concerns.common import Limit, add_param
from model.scenario import Scenario


def param_values(s: Scenario) -> dict[str, dict]:
    """Supply caps (GW per year) for scenario ``s``."""
    return {"supply_cap_gw": {k: s.supply_cap_gw[k] for k in sorted(s.supply_cap_gw) if k[0] in s.vendors}}


def add_components(m: ConcreteModel, s: Scenario) -> None:
    add_vendor_supply_cap(m, s)


def add_vendor_supply_cap(m: ConcreteModel, s: Scenario) -> None:
    """Limit each vendor's deliveries in each year to its stated supply.

    For every vendor v and year y with a cap, after the last year of reported history:

        sum_{o : vendor(o) = v, y >= first_year(o)} build_gw[o, y]  <=  supply_cap_gw[v, y] * 1 a

    Both sides are GW of accelerator IT power. Vendors with no cap row are left
    unconstrained. Years of reported history (``history`` rows of
    commitments.csv) are data: what was delivered then was delivered, so a
    lower supply figure for those years (``--set supply_scale.nvidia=0.8``)
    cannot contradict them.
    """
    values = param_values(s)["supply_cap_gw"]
    index = list(values)
    m.SUPPLY_CAP_INDEX = Set(initialize=index, dimen=2, ordered=True)
    add_param(m, "supply_cap_gw", m.SUPPLY_CAP_INDEX, values)

    def rule(m, v, y):
        builds = [m.build_gw[o, y] for o in s.offers_where(vendor=v) if (o, y) in m.OFFER_YEARS]
        if not builds or (s.history_last_year is not None and y <= s.history_last_year):
            return Constraint.Skip
        return sum(builds) <= m.supply_cap_gw[v, y]

    if index:
        m.vendor_supply_cap = Constraint(m.SUPPLY_CAP_INDEX, rule=rule)


LIMITS = {
    "vendor_supply_cap": lambda s, k: (None if s.history_last_year is not None and k[1] <= s.history_last_year
                                       else Limit(f"{s.vendors[k[0]]} supply cap {k[1]}", "GW", "cap")),
}
