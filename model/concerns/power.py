"""Power: facility power (IT capacity x PUE) within the grid power available per region and year."""
from __future__ import annotations

import xarray as xr
from pyomo.environ import ConcreteModel, Constraint, Set

from model.concerns.common import Limit, add_param
from model.scenario import Scenario


def facility_power(m: ConcreteModel, s: Scenario, region: str, year: int):
    """Expression: facility power drawn in a region and year (GW) = sum of IT capacity x PUE."""
    return sum(m.pue[region, year] * m.in_service_gw[o, year] for o in s.offers_where(region=region))


def grid_index(s: Scenario) -> list[tuple[str, int]]:
    """(region, year) rows that can hold capacity: an offer of the region open by y, or opening stock."""
    return [(r, y) for r in s.regions for y in s.years
            if any(s.offers[o].first_year <= y or s.opening_in_service_gw(o, y) > 0
                   for o in s.offers_where(region=r))]


def param_values(s: Scenario) -> dict[str, dict]:
    """PUE (dimensionless) and grid power (GW) for scenario ``s``."""
    return {"pue": {(r, y): s.pue.get((r, y), 1.0) for r in s.regions for y in s.years},
            "grid_power_gw": {k: s.grid_power_gw.get(k, 0.0) for k in grid_index(s)}}


def add_components(m: ConcreteModel, s: Scenario) -> None:
    add_param(m, "pue", m.REGIONS * m.YEARS, param_values(s)["pue"])
    add_grid_power(m, s)


def add_grid_power(m: ConcreteModel, s: Scenario) -> None:
    """Facility power in each region stays within the grid power available to the plan.

    For every region r with offers and year y:

        sum_{o : region(o) = r} pue[r, y] * in_service_gw[o, y]  <=  grid_power_gw[r, y]

    Both sides are GW of facility power; grid_power is what the region's grid
    can give this plan by year y (interpolated from the input years).
    """
    values = param_values(s)["grid_power_gw"]
    index = list(values)
    m.GRID_INDEX = Set(initialize=index, dimen=2, ordered=True)
    add_param(m, "grid_power_gw", m.GRID_INDEX, values)
    if index:
        m.grid_power = Constraint(m.GRID_INDEX, rule=lambda m, r, y: facility_power(m, s, r, y) <= m.grid_power_gw[r, y])


LIMITS = {
    "grid_power": lambda s, k: Limit(f"grid in {k[0]} {k[1]}", "GW", "cap"),
}


def report(m: ConcreteModel, s: Scenario) -> xr.Dataset:
    """Facility power, grid power available and energy by region and year."""
    regions, years = list(s.regions), list(s.years)
    in_service = m.in_service_gw.extract_values()
    it = [[sum(float(in_service[o, y] or 0.0) for o in s.offers_where(region=r)) for y in years] for r in regions]
    facility = [[it[i][j] * s.pue[r, y] for j, y in enumerate(years)] for i, r in enumerate(regions)]
    energy = [[it[i][j] * s.energy_twh_per_gw(r, y) for j, y in enumerate(years)] for i, r in enumerate(regions)]
    grid = [[s.grid_power_gw.get((r, y), 0.0) for y in years] for r in regions]
    dims = ("region", "year")
    return xr.Dataset({
        "it_power_gw": (dims, it, {"units": "GW", "long_name": "IT capacity in service"}),
        "facility_power_gw": (dims, facility, {"units": "GW", "long_name": "facility power (IT x PUE)"}),
        "grid_power_gw": (dims, grid, {"units": "GW", "long_name": "grid power available to the plan"}),
        "energy_twh": (dims, energy, {"units": "TWh", "long_name": "facility energy used (IT x PUE x utilisation x hours)"}),
        "pue": (dims, [[s.pue[r, y] for y in years] for r in regions], {"units": "dimensionless"}),
    })
