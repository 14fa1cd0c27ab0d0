"""Capacity with vintages and lifetimes: what is built, what is in service, what retires."""
from __future__ import annotations

import xarray as xr
from pyomo.environ import ConcreteModel, Constraint, NonNegativeReals, Var

from model.concerns.common import active_vintages
from model.scenario import Scenario


def add_components(m: ConcreteModel, s: Scenario) -> None:
    """Decision variables ``build_gw`` and ``in_service_gw`` and their accounting."""
    m.build_gw = Var(m.OFFER_YEARS, within=NonNegativeReals, doc="IT capacity added (GW)")
    m.in_service_gw = Var(m.OFFERS, m.YEARS, within=NonNegativeReals, doc="IT capacity in service (GW)")
    add_capacity_accounting(m, s)


def add_capacity_accounting(m: ConcreteModel, s: Scenario) -> None:
    """Capacity in service is the opening stock plus the vintages still within their lifetime.

    For every offer o and year y:

        in_service_gw[o, y] = opening_gw(o, y) + sum_{v in V(o, y)} build_gw[o, v]

    where V(o, y) = {v : first_year(o) <= v <= y, v > y - lifetime(o)} and
    opening_gw(o, y) is the opening stock built before the horizon and still
    within its lifetime in y. Both sides are GW of accelerator IT power.
    """
    def rule(m, o, y):
        built = sum(m.build_gw[o, v] for v in active_vintages(s, o, y))
        return m.in_service_gw[o, y] == s.opening_in_service_gw(o, y) + built

    m.capacity_accounting = Constraint(m.OFFERS, m.YEARS, rule=rule)


LIMITS: dict = {}


def retired_gw(s: Scenario, build: dict, offer: str, year: int) -> float:
    """Capacity of ``offer`` that leaves service at the start of ``year`` (built ``lifetime`` years earlier)."""
    life = s.lifetime_yr[offer]
    v = year - life
    opening = s.opening_gw.get((offer, v), 0.0)
    return build.get((offer, v), 0.0) + opening


def report(m: ConcreteModel, s: Scenario) -> xr.Dataset:
    """Build, in service and retired capacity by offer and year (GW)."""
    offers, years = list(s.offers), list(s.years)
    build = {k: float(v or 0.0) for k, v in m.build_gw.extract_values().items()}
    in_service = {k: float(v or 0.0) for k, v in m.in_service_gw.extract_values().items()}
    data = {
        "build_gw": [[build.get((o, y), 0.0) for y in years] for o in offers],
        "in_service_gw": [[in_service.get((o, y), 0.0) for y in years] for o in offers],
        "retired_gw": [[retired_gw(s, build, o, y) for y in years] for o in offers],
    }
    docs = {"build_gw": "IT capacity added in the year", "in_service_gw": "IT capacity in service",
            "retired_gw": "IT capacity leaving service at the start of the year"}
    return xr.Dataset({k: (("offer", "year"), v, {"units": "GW", "long_name": docs[k]}) for k, v in data.items()})
