"""Costs and the objective: discounted purchases (as annuities), leases, fixed costs and energy."""
from __future__ import annotations

import xarray as xr
from pyomo.environ import ConcreteModel, Expression, Objective, minimize

from model.concerns.common import active_vintages, add_param
from model.scenario import Scenario

#: Cost parts, each a yearly Expression ``<part>_cost_bnusd[y]`` on the model (billion USD, undiscounted):
#: capital (annuities of purchases), lease, fixed (O&M of offers), energy (by source), power
#: (annuities and fixed costs of power sources), financing (interest on borrowing).
PARTS = ("capital", "lease", "fixed", "energy", "power", "financing")


def param_values(s: Scenario) -> dict[str, dict]:
    """Cost coefficients for scenario ``s`` (billion USD per GW or per GW-year; factors dimensionless)."""
    oy = [(o, y) for o in s.offers for y in s.years]
    return {
        "discount_factor": {y: s.discount_factor(y) for y in s.years},
        "capex_bnusd_per_gw": {k: s.capex_bnusd_per_gw.get(k, 0.0) for k in s.offer_years},
        "capital_recovery_factor": {o: s.capital_recovery_factor(o) for o in s.offers},
        "lease_bnusd_per_gw_yr": {k: s.lease_bnusd_per_gw_yr.get(k, 0.0) for k in oy},
        "fixed_bnusd_per_gw_yr": {k: s.fixed_bnusd_per_gw_yr.get(k, 0.0) for k in oy},
    }


def add_components(m: ConcreteModel, s: Scenario) -> None:
    """Cost Params and the yearly cost Expressions (billion USD per year, undiscounted)."""
    values = param_values(s)
    add_param(m, "discount_factor", m.YEARS, values["discount_factor"])
    add_param(m, "capex_bnusd_per_gw", m.OFFER_YEARS, values["capex_bnusd_per_gw"])
    add_param(m, "capital_recovery_factor", m.OFFERS, values["capital_recovery_factor"])
    add_param(m, "lease_bnusd_per_gw_yr", m.OFFERS * m.YEARS, values["lease_bnusd_per_gw_yr"])
    add_param(m, "fixed_bnusd_per_gw_yr", m.OFFERS * m.YEARS, values["fixed_bnusd_per_gw_yr"])

    def capital(m, y):
        """Annuity of every vintage in service: sum_o sum_{v in V(o,y)} capex[o,v] * CRF[o] * build_gw[o,v]."""
        return sum(m.capex_bnusd_per_gw[o, v] * m.capital_recovery_factor[o] * m.build_gw[o, v]
                   for o in s.offers for v in active_vintages(s, o, y))

    m.capital_cost_bnusd = Expression(m.YEARS, rule=capital)
    m.lease_cost_bnusd = Expression(m.YEARS, rule=lambda m, y: sum(
        m.lease_bnusd_per_gw_yr[o, y] * m.in_service_gw[o, y] for o in s.offers))
    m.fixed_cost_bnusd = Expression(m.YEARS, rule=lambda m, y: sum(
        m.fixed_bnusd_per_gw_yr[o, y] * m.in_service_gw[o, y] for o in s.offers))
    m.purchase_cash_bnusd = Expression(m.YEARS, rule=lambda m, y: sum(
        m.capex_bnusd_per_gw[o, y] * m.build_gw[o, y] for o in s.offers if (o, y) in m.OFFER_YEARS))


def add_objective(m: ConcreteModel, s: Scenario) -> None:
    """Minimise the discounted total cost.

        min  sum_y discount_factor[y] * (capital[y] + lease[y] + fixed[y] + energy[y] + power[y] + financing[y])

    with discount_factor[y] = (1 + r)^-(y - first_year), capital[y] the
    annuities (capex x CRF) of the vintages in service, so a purchase late in
    the horizon is charged only for its years inside it. Billion USD. Each
    part is an Expression added by its concern (see :data:`PARTS`).
    """
    m.total_cost = Objective(expr=sum(
        m.discount_factor[y] * sum(getattr(m, f"{part}_cost_bnusd")[y] for part in PARTS) for y in s.years),
        sense=minimize)


LIMITS: dict = {}


def report(m: ConcreteModel, s: Scenario) -> xr.Dataset:
    """Yearly costs by part (USD, undiscounted and discounted) and the cash spent per year."""
    from pyomo.environ import value

    years = list(s.years)
    parts = {p: [value(getattr(m, f"{p}_cost_bnusd")[y]) * 1e9 for y in years] for p in PARTS}
    df = [s.discount_factor(y) for y in years]
    cost = [[parts[p][j] for j in range(len(years))] for p in PARTS]
    discounted = [[parts[p][j] * df[j] for j in range(len(years))] for p in PARTS]
    cash = {name: [value(getattr(m, f"{name}_bnusd")[y]) * 1e9 for y in years]
            for name in ("purchase_cash", "power_capex_cash", "spending", "funding", "borrowing", "debt")}
    return xr.Dataset(
        {
            "cost_usd": (("cost_part", "year"), cost, {"units": "USD", "long_name": "yearly cost by part (capital as annuities)"}),
            "discounted_cost_usd": (("cost_part", "year"), discounted, {"units": "USD", "long_name": "yearly cost by part, discounted to the first year"}),
            "discount_factor": (("year",), df, {"units": "dimensionless"}),
            "spending_usd": (("year",), cash["spending"], {"units": "USD", "long_name": "cash paid in the year (purchases when built, leases, fixed costs, energy, power build-out, interest)"}),
            "purchase_usd": (("year",), cash["purchase_cash"], {"units": "USD", "long_name": "purchase price of capacity built in the year"}),
            "power_capex_usd": (("year",), cash["power_capex_cash"], {"units": "USD", "long_name": "cost of power sources built in the year"}),
            "funding_usd": (("year",), cash["funding"], {"units": "USD", "long_name": "revenue share, equity and vendor financing in the year"}),
            "borrowing_usd": (("year",), cash["borrowing"], {"units": "USD", "long_name": "new borrowing in the year"}),
            "debt_usd": (("year",), cash["debt"], {"units": "USD", "long_name": "debt outstanding at the end of the year"}),
        },
        coords={"cost_part": list(PARTS)},
    )
