"""Costs and the objective: discounted purchases (as annuities), leases, fixed costs and energy."""
from __future__ import annotations

import xarray as xr
from pyomo.environ import ConcreteModel, Expression, Objective, minimize

from model.concerns.common import active_vintages, add_param
from model.scenario import Scenario

PARTS = ("capital", "lease", "fixed", "energy")


def param_values(s: Scenario) -> dict[str, dict]:
    """Cost coefficients for scenario ``s`` (billion USD per GW or per GW-year; factors dimensionless)."""
    oy = [(o, y) for o in s.offers for y in s.years]
    return {
        "discount_factor": {y: s.discount_factor(y) for y in s.years},
        "capex_bnusd_per_gw": {k: s.capex_bnusd_per_gw.get(k, 0.0) for k in s.offer_years},
        "capital_recovery_factor": {o: s.capital_recovery_factor(o) for o in s.offers},
        "lease_bnusd_per_gw_yr": {k: s.lease_bnusd_per_gw_yr.get(k, 0.0) for k in oy},
        "fixed_bnusd_per_gw_yr": {k: s.fixed_bnusd_per_gw_yr.get(k, 0.0) for k in oy},
        "energy_cost_bnusd_per_gw_yr": {(r, y): s.energy_cost_per_gw(r, y) for r in s.regions for y in s.years},
    }


def add_components(m: ConcreteModel, s: Scenario) -> None:
    """Cost Params and the yearly cost Expressions (billion USD per year, undiscounted)."""
    values = param_values(s)
    add_param(m, "discount_factor", m.YEARS, values["discount_factor"])
    add_param(m, "capex_bnusd_per_gw", m.OFFER_YEARS, values["capex_bnusd_per_gw"])
    add_param(m, "capital_recovery_factor", m.OFFERS, values["capital_recovery_factor"])
    add_param(m, "lease_bnusd_per_gw_yr", m.OFFERS * m.YEARS, values["lease_bnusd_per_gw_yr"])
    add_param(m, "fixed_bnusd_per_gw_yr", m.OFFERS * m.YEARS, values["fixed_bnusd_per_gw_yr"])
    add_param(m, "energy_cost_bnusd_per_gw_yr", m.REGIONS * m.YEARS, values["energy_cost_bnusd_per_gw_yr"])

    def capital(m, y):
        """Annuity of every vintage in service: sum_o sum_{v in V(o,y)} capex[o,v] * CRF[o] * build_gw[o,v]."""
        return sum(m.capex_bnusd_per_gw[o, v] * m.capital_recovery_factor[o] * m.build_gw[o, v]
                   for o in s.offers for v in active_vintages(s, o, y))

    m.capital_cost_bnusd = Expression(m.YEARS, rule=capital)
    m.lease_cost_bnusd = Expression(m.YEARS, rule=lambda m, y: sum(
        m.lease_bnusd_per_gw_yr[o, y] * m.in_service_gw[o, y] for o in s.offers))
    m.fixed_cost_bnusd = Expression(m.YEARS, rule=lambda m, y: sum(
        m.fixed_bnusd_per_gw_yr[o, y] * m.in_service_gw[o, y] for o in s.offers))
    m.energy_cost_bnusd = Expression(m.YEARS, rule=lambda m, y: sum(
        m.energy_cost_bnusd_per_gw_yr[info.region, y] * m.in_service_gw[o, y] for o, info in s.offers.items()
        if info.energy_billed))


def add_objective(m: ConcreteModel, s: Scenario) -> None:
    """Minimise the discounted total cost.

        min  sum_y discount_factor[y] * (capital[y] + lease[y] + fixed[y] + energy[y])

    with discount_factor[y] = (1 + r)^-(y - first_year), capital[y] the
    annuities (capex x CRF) of the vintages in service, so a purchase late in
    the horizon is charged only for its years inside it. Billion USD.
    """
    m.total_cost = Objective(expr=sum(
        m.discount_factor[y] * (m.capital_cost_bnusd[y] + m.lease_cost_bnusd[y] + m.fixed_cost_bnusd[y]
                                + m.energy_cost_bnusd[y]) for y in s.years), sense=minimize)


LIMITS: dict = {}


def report(m: ConcreteModel, s: Scenario) -> xr.Dataset:
    """Yearly costs by part (USD, undiscounted and discounted) and the cash spent per year."""
    from pyomo.environ import value

    years = list(s.years)
    parts = {p: [value(getattr(m, f"{p}_cost_bnusd")[y]) * 1e9 for y in years] for p in PARTS}
    df = [s.discount_factor(y) for y in years]
    build = m.build_gw.extract_values()
    capex_cash = [sum(s.capex_bnusd_per_gw.get((o, y), 0.0) * float(build.get((o, y)) or 0.0) for o in s.offers) * 1e9
                  for y in years]
    cost = [[parts[p][j] for j in range(len(years))] for p in PARTS]
    discounted = [[parts[p][j] * df[j] for j in range(len(years))] for p in PARTS]
    spending = [capex_cash[j] + parts["lease"][j] + parts["fixed"][j] + parts["energy"][j] for j in range(len(years))]
    return xr.Dataset(
        {
            "cost_usd": (("cost_part", "year"), cost, {"units": "USD", "long_name": "yearly cost by part (capital as annuities)"}),
            "discounted_cost_usd": (("cost_part", "year"), discounted, {"units": "USD", "long_name": "yearly cost by part, discounted to the first year"}),
            "discount_factor": (("year",), df, {"units": "dimensionless"}),
            "spending_usd": (("year",), spending, {"units": "USD", "long_name": "cash paid in the year (purchases when built, leases, fixed, energy)"}),
            "purchase_usd": (("year",), capex_cash, {"units": "USD", "long_name": "purchase price of capacity built in the year"}),
        },
        coords={"cost_part": list(PARTS)},
    )
