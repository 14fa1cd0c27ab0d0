"""Power and energy: facility power within firm power per region, power sources, energy by source.

Facility power (IT capacity x PUE) in a region must fit within the grid
power already available to the plan plus the firm part (capacity credit) of
the power sources it builds: new grid interconnection, on-site gas, nuclear
or solar+storage contracts. Each source has a lead time from the first
planning year, build caps, a lifetime and costs. Every TWh the plan's
capacity uses, billed to the plan or paid by a host whose lease includes
power, is delivered by the existing grid (within grid power x hours) or a
source in service in its region (within capacity factor x hours), cheapest
first; emissions follow from the energy by source.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

import xarray as xr
from pyomo.environ import ConcreteModel, Constraint, Expression, NonNegativeReals, Set, Var

from model.concerns.common import Limit, add_param, filled, pairs
from model.scenario import Scenario

KIND_WORDS = {"grid": "grid", "gas": "on-site gas", "nuclear": "nuclear contracts", "solar_storage": "solar + storage"}


def grid_index(s: Scenario) -> list[tuple[str, int]]:
    """(region, year) rows that can hold capacity: an offer of the region open by y, or opening stock."""
    return [(r, y) for r in s.regions for y in s.years
            if any(s.offers[o].first_year <= y or s.opening_in_service_gw(o, y) > 0
                   for o in s.offers_where(region=r))]


def power_build_index(s: Scenario) -> list[tuple[str, int]]:
    return [(p, y) for p in s.power_sources for y in s.power_build_years(p)]


def sources_in(s: Scenario, region: str) -> list[str]:
    return [p for p, src in s.power_sources.items() if src.region == region]


def pue(s: Scenario) -> dict[tuple[str, int], float]:
    """Param ``pue[r, y]``: power usage effectiveness by (region, year) (dimensionless; 1 where none is given)."""
    return filled(pairs(s.regions, s.years), s.pue, 1.0)


def grid_power_gw(s: Scenario) -> dict[tuple[str, int], float]:
    """Param ``grid_power_gw[r, y]``: grid power available to the plan (GW) on the rows of :func:`grid_index`."""
    return {k: s.grid_power_gw.get(k, 0.0) for k in grid_index(s)}


def energy_twh_per_gw(s: Scenario) -> dict[tuple[str, int], float]:
    """Param ``energy_twh_per_gw[r, y]``: facility energy of 1 GW of IT for a year (TWh/GW) by (region, year)."""
    keys = pairs(s.regions, s.years)
    pue = s.pue
    if pue.keys() >= set(keys):       # as Scenario.energy_twh_per_gw works it out, for every key at once
        per_gw = (np.fromiter(map(pue.__getitem__, keys), float, len(keys)) * s.utilisation * s.hours_per_year
                  / 1000.0)
        return dict(zip(keys, per_gw.tolist()))
    return {(r, y): s.energy_twh_per_gw(r, y) for r in s.regions for y in s.years}


def grid_energy_price(s: Scenario) -> dict[tuple[str, int], float]:
    """Param ``grid_energy_price[r, y]``: grid electricity price (billion USD/TWh) by (region, year), 0 if none."""
    return filled(pairs(s.regions, s.years), s.electricity_price_bnusd_per_twh, 0.0)


def capacity_credit(s: Scenario) -> dict[str, float]:
    """Param ``capacity_credit[p]``: firm share of a power source's capacity (dimensionless; 1 if none)."""
    return {p: s.capacity_credit.get(p, 1.0) for p in s.power_sources}


def capacity_factor(s: Scenario) -> dict[str, float]:
    """Param ``capacity_factor[p]``: energy a source delivers per GW-year over hours (dimensionless; 1 if none)."""
    return {p: s.capacity_factor.get(p, 1.0) for p in s.power_sources}


def power_build_cap_gw(s: Scenario) -> dict[tuple[str, int], float]:
    """Param ``power_build_cap_gw[p, y]``: new capacity of a source per build year (GW), where capped."""
    caps = s.power_build_cap_gw
    return {k: caps[k] for k in power_build_index(s) if k in caps}


def power_cumulative_cap_gw(s: Scenario) -> dict[str, float]:
    """Param ``power_cumulative_cap_gw[p]``: a source's capacity over the horizon (GW), where capped."""
    return dict(s.power_cumulative_cap_gw)


def power_kind_cap_gw(s: Scenario) -> dict[tuple[str, int], float]:
    """Param ``power_kind_cap_gw[k, y]``: new capacity of one kind per year (GW), for kinds the plan can build."""
    kinds = {src.kind for src in s.power_sources.values()}
    return {k: v for k, v in sorted(s.power_kind_cap_gw.items()) if k[0] in kinds}


def power_capex_bnusd_per_gw(s: Scenario) -> dict[tuple[str, int], float]:
    """Param ``power_capex_bnusd_per_gw[p, y]``: a source's capex (billion USD/GW) by build year, 0 if none."""
    return {k: s.power_capex_bnusd_per_gw.get(k, 0.0) for k in power_build_index(s)}


def power_crf(s: Scenario) -> dict[str, float]:
    """Param ``power_crf[p]``: capital recovery factor over a source's lifetime (dimensionless, per year)."""
    return {p: s.power_capital_recovery_factor(p) for p in s.power_sources}


def power_fixed_bnusd_per_gw_yr(s: Scenario) -> dict[tuple[str, int], float]:
    """Param ``power_fixed_bnusd_per_gw_yr[p, y]``: a source's fixed cost (billion USD/GW-year), 0 if none."""
    return {(p, y): s.power_fixed_bnusd_per_gw_yr.get((p, y), 0.0) for p in s.power_sources for y in s.years}


def source_energy_price(s: Scenario) -> dict[tuple[str, int], float]:
    """Param ``source_energy_price[p, y]``: price of a source's energy (billion USD/TWh) by year, 0 if none."""
    return filled(pairs(s.power_sources, s.years), s.source_energy_price_bnusd_per_twh, 0.0)


#: This concern's Params, name -> function of the Scenario giving ``{index: value}``, in build order.
#: Each reads only what its own Param needs, so a sweep case re-works only those whose inputs moved
#: (:class:`model.fastsolve.reads.KeptParams`).
PARAMS: dict[str, Callable[[Scenario], dict]] = {
    "pue": pue,
    "grid_power_gw": grid_power_gw,
    "energy_twh_per_gw": energy_twh_per_gw,
    "grid_energy_price": grid_energy_price,
    "capacity_credit": capacity_credit,
    "capacity_factor": capacity_factor,
    "power_build_cap_gw": power_build_cap_gw,
    "power_cumulative_cap_gw": power_cumulative_cap_gw,
    "power_kind_cap_gw": power_kind_cap_gw,
    "power_capex_bnusd_per_gw": power_capex_bnusd_per_gw,
    "power_crf": power_crf,
    "power_fixed_bnusd_per_gw_yr": power_fixed_bnusd_per_gw_yr,
    "source_energy_price": source_energy_price,
}


def param_values(s: Scenario) -> dict[str, dict]:
    """PUE, grid power (GW), source parameters and energy prices (billion USD/TWh) for scenario ``s``."""
    return {name: fn(s) for name, fn in PARAMS.items()}


def add_components(m: ConcreteModel, s: Scenario) -> None:
    values = param_values(s)
    m.POWER_SOURCES = Set(initialize=list(s.power_sources), ordered=True)
    m.POWER_BUILD_INDEX = Set(initialize=power_build_index(s), dimen=2, ordered=True)
    for name, index in (("pue", m.REGIONS * m.YEARS), ("energy_twh_per_gw", m.REGIONS * m.YEARS),
                        ("grid_energy_price", m.REGIONS * m.YEARS), ("capacity_credit", m.POWER_SOURCES),
                        ("capacity_factor", m.POWER_SOURCES), ("power_capex_bnusd_per_gw", m.POWER_BUILD_INDEX),
                        ("power_crf", m.POWER_SOURCES), ("power_fixed_bnusd_per_gw_yr", m.POWER_SOURCES * m.YEARS),
                        ("source_energy_price", m.POWER_SOURCES * m.YEARS)):
        add_param(m, name, index, values[name])
    m.power_build_gw = Var(m.POWER_BUILD_INDEX, within=NonNegativeReals, doc="power source capacity added (GW)")
    m.power_in_service_gw = Expression(m.POWER_SOURCES, m.YEARS, rule=lambda m, p, y: sum(
        m.power_build_gw[p, v] for v in s.power_service_vintages(p, y)))
    add_power_balance(m, s)
    add_power_build_cap(m, s)
    add_power_cumulative_cap(m, s)
    add_power_kind_supply_cap(m, s)
    add_energy_dispatch(m, s)
    add_power_costs(m, s)


def facility_power(m: ConcreteModel, s: Scenario, region: str, year: int):
    """Expression: facility power drawn in a region and year (GW) = sum of IT capacity x PUE."""
    return sum(m.pue[region, year] * m.in_service_gw[o, year] for o in s.offers_where(region=region))


def add_power_balance(m: ConcreteModel, s: Scenario) -> None:
    """Facility power in each region fits within the grid already available plus firm power built.

    For every region r and year y that can hold capacity:

        sum_{o in O(r)} pue[r, y] * in_service_gw[o, y]
            <=  grid_power_gw[r, y] + sum_{p in P(r)} capacity_credit[p] * power_in_service_gw[p, y]

    GW of facility power. grid_power is what the region's grid can give the
    plan by y without new interconnection (interpolated from the inputs);
    power_in_service_gw[p, y] sums the builds of source p within its lifetime.
    """
    index = grid_index(s)
    m.GRID_INDEX = Set(initialize=index, dimen=2, ordered=True)
    add_param(m, "grid_power_gw", m.GRID_INDEX, grid_power_gw(s))
    if index:
        m.grid_power = Constraint(m.GRID_INDEX, rule=lambda m, r, y: facility_power(m, s, r, y) <= m.grid_power_gw[r, y]
                                  + sum(m.capacity_credit[p] * m.power_in_service_gw[p, y] for p in sources_in(s, r)))


def add_power_build_cap(m: ConcreteModel, s: Scenario) -> None:
    """Limit new capacity of each power source per year; nothing before its lead time.

    For every source p and year y in its build years (y >= first_year(p) and
    y >= first planning year + lead_time(p): the index set itself enforces the lead time):

        power_build_gw[p, y]  <=  power_build_cap_gw[p, y] * 1 a          (GW)
    """
    values = power_build_cap_gw(s)
    m.POWER_BUILD_CAP_INDEX = Set(initialize=list(values), dimen=2, ordered=True)
    add_param(m, "power_build_cap_gw", m.POWER_BUILD_CAP_INDEX, values)
    if values:
        m.power_build_cap = Constraint(m.POWER_BUILD_CAP_INDEX,
                                       rule=lambda m, p, y: m.power_build_gw[p, y] <= m.power_build_cap_gw[p, y])


def add_power_cumulative_cap(m: ConcreteModel, s: Scenario) -> None:
    """Limit a source's capacity over the horizon (a site, a contract's size).

        sum_y power_build_gw[p, y]  <=  power_cumulative_cap_gw[p]          (GW)
    """
    values = power_cumulative_cap_gw(s)
    m.POWER_CUMULATIVE_SOURCES = Set(initialize=list(values), ordered=True)
    add_param(m, "power_cumulative_cap_gw", m.POWER_CUMULATIVE_SOURCES, values)
    if values:
        m.power_cumulative_cap = Constraint(m.POWER_CUMULATIVE_SOURCES, rule=lambda m, p: sum(
            m.power_build_gw[p, y] for y in s.power_build_years(p)) <= m.power_cumulative_cap_gw[p])


def add_power_kind_supply_cap(m: ConcreteModel, s: Scenario) -> None:
    """Limit what the plan can add of one kind over all regions per year (e.g. gas turbines).

    For every kind k and year y with a cap:

        sum_{p : kind(p) = k} power_build_gw[p, y]  <=  power_kind_cap_gw[k, y] * 1 a     (GW)
    """
    values = power_kind_cap_gw(s)
    m.POWER_KIND_CAP_INDEX = Set(initialize=list(values), dimen=2, ordered=True)
    add_param(m, "power_kind_cap_gw", m.POWER_KIND_CAP_INDEX, values)

    def rule(m, k, y):
        builds = [m.power_build_gw[p, y] for p, src in s.power_sources.items()
                  if src.kind == k and (p, y) in m.POWER_BUILD_INDEX]
        return sum(builds) <= m.power_kind_cap_gw[k, y] if builds else Constraint.Skip

    if values:
        m.power_kind_supply_cap = Constraint(m.POWER_KIND_CAP_INDEX, rule=rule)


def billed_energy_twh(m: ConcreteModel, s: Scenario, region: str, year: int):
    """Expression: facility energy of the region's offers whose energy the plan pays for (TWh)."""
    return sum(m.energy_twh_per_gw[region, year] * m.in_service_gw[o, year]
               for o in s.offers_where(region=region) if s.offers[o].energy_billed)


def host_paid_energy_twh(m: ConcreteModel, s: Scenario, region: str, year: int):
    """Expression: facility energy of the region's offers whose lease includes power (TWh, paid by the host)."""
    return sum(m.energy_twh_per_gw[region, year] * m.in_service_gw[o, year]
               for o in s.offers_where(region=region) if not s.offers[o].energy_billed)


def used_energy_twh(m: ConcreteModel, s: Scenario, region: str, year: int):
    """Expression: every TWh the region's capacity uses, billed or host-paid (TWh)."""
    return sum(m.energy_twh_per_gw[region, year] * m.in_service_gw[o, year] for o in s.offers_where(region=region))


def dispatch_index(s: Scenario) -> list[tuple[str, int]]:
    """(source, year) rows that can deliver energy: capacity can be in service and the region can use it."""
    rows = set(grid_index(s))
    return [(p, y) for p, src in s.power_sources.items() for y in s.years
            if (src.region, y) in rows and s.power_service_vintages(p, y)]


def add_energy_dispatch(m: ConcreteModel, s: Scenario) -> None:
    """Every TWh the plan uses is delivered by the existing grid or a source in service in its region.

    For every region r and year y that can hold capacity ((r, y) in GRID_INDEX):

        grid_energy_twh[r, y] + sum_{p in P(r), (p, y) in D} source_energy_twh[p, y]
            =  sum_{o in O(r)} energy_twh_per_gw[r, y] * in_service_gw[o, y]            (energy_balance)
        grid_energy_twh[r, y]  <=  grid_power_gw[r, y] * hours / 1000                      (grid_energy_cap)

    and for every source p and year y in D (capacity of p can be in service in y
    and its region can hold capacity in y):

        source_energy_twh[p, y]  <=  capacity_factor[p] * hours / 1000 * power_in_service_gw[p, y]
                                                                                           (source_energy_cap)

    All TWh a year; energy_twh_per_gw = PUE x utilisation x hours / 1000 (TWh per
    GW of IT). The right-hand side of the balance counts every offer: those
    whose energy the plan pays for and those whose lease includes power. The
    host pays for the latter, but the energy is still delivered by the same
    grid and sources, so it takes their capacity and emits what they emit
    (:func:`add_power_costs` says how it is charged). A source built only for
    firm power thus also delivers energy whenever the existing grid cannot.
    """
    hours_twh = s.hours_per_year / 1000.0
    index = dispatch_index(s)
    m.DISPATCH_SOURCES = Set(initialize=list(dict.fromkeys(p for p, _ in index)), ordered=True)
    m.DISPATCH_INDEX = Set(initialize=index, dimen=2, ordered=True)
    m.grid_energy_twh = Var(m.GRID_INDEX, within=NonNegativeReals, doc="energy from the existing grid (TWh)")
    m.source_energy_twh = Var(m.DISPATCH_INDEX, within=NonNegativeReals, doc="energy from a source (TWh)")
    m.energy_balance = Constraint(m.GRID_INDEX, rule=lambda m, r, y: m.grid_energy_twh[r, y] + sum(
        m.source_energy_twh[p, y] for p in sources_in(s, r) if (p, y) in m.DISPATCH_INDEX)
        == used_energy_twh(m, s, r, y))
    m.grid_energy_cap = Constraint(m.GRID_INDEX, rule=lambda m, r, y: m.grid_energy_twh[r, y]
                                   <= m.grid_power_gw[r, y] * hours_twh)
    m.source_energy_cap = Constraint(m.DISPATCH_INDEX, rule=lambda m, p, y: m.source_energy_twh[p, y]
                                     <= m.capacity_factor[p] * hours_twh * m.power_in_service_gw[p, y])


def add_power_costs(m: ConcreteModel, s: Scenario) -> None:
    """Yearly energy cost and power-source cost (billion USD per year, undiscounted).

        energy[y] = sum_r grid_energy_price[r, y] * grid_energy_twh[r, y]
                    + sum_p source_energy_price[p, y] * source_energy_twh[p, y]
                    - sum_r grid_energy_price[r, y] * host_paid_energy_twh[r, y]
        power[y]  = sum_p sum_{v in V(p, y)} capex[p, v] * CRF[p] * power_build_gw[p, v]
                    + sum_p fixed_cost[p, y] * power_in_service_gw[p, y]

    Every TWh is dispatched in merit order (the cheapest grid or source energy
    first), whoever pays for it. Energy of leases that include power is paid by
    the host at the region's grid price (the last term): it costs the plan
    nothing while the grid delivers it, and when the plan's own sources must
    deliver it the plan pays their price less the grid price (it earns the
    difference when a source is cheaper than the grid).
    """
    m.energy_cost_bnusd = Expression(m.YEARS, rule=lambda m, y: sum(
        m.grid_energy_price[r, y] * m.grid_energy_twh[r, y] for r in s.regions if (r, y) in m.GRID_INDEX) + sum(
        m.source_energy_price[p, y] * m.source_energy_twh[p, y] for p in m.DISPATCH_SOURCES
        if (p, y) in m.DISPATCH_INDEX) - sum(
        m.grid_energy_price[r, y] * host_paid_energy_twh(m, s, r, y) for r in s.regions if (r, y) in m.GRID_INDEX))
    m.power_cost_bnusd = Expression(m.YEARS, rule=lambda m, y: sum(
        m.power_capex_bnusd_per_gw[p, v] * m.power_crf[p] * m.power_build_gw[p, v]
        for p in s.power_sources for v in s.power_service_vintages(p, y)) + sum(
        m.power_fixed_bnusd_per_gw_yr[p, y] * m.power_in_service_gw[p, y] for p in s.power_sources))
    m.power_fixed_cash_bnusd = Expression(m.YEARS, rule=lambda m, y: sum(
        m.power_fixed_bnusd_per_gw_yr[p, y] * m.power_in_service_gw[p, y] for p in s.power_sources))
    m.power_capex_cash_bnusd = Expression(m.YEARS, rule=lambda m, y: sum(
        m.power_capex_bnusd_per_gw[p, y] * m.power_build_gw[p, y] for p in s.power_sources
        if (p, y) in m.POWER_BUILD_INDEX))


def _source_label(s: Scenario, p: str, year: int | None = None) -> str:
    src = s.power_sources[p]
    when = f" {year}" if year is not None else ""
    return f"{KIND_WORDS.get(src.kind, src.kind)} in {src.region}{when} (lead time {s.power_lead_time_yr[p]} a)"


LIMITS = {
    "grid_power": lambda s, k: Limit((f"grid in {k[0]} {k[1]}" if not sources_in(s, k[0])
                                      else f"grid and power built in {k[0]} {k[1]}"), "GW", "cap",
                                     "grid already available plus firm power built"),
    "power_build_cap": lambda s, k: Limit(_source_label(s, k[0], k[1]), "GW", "cap"),
    "power_cumulative_cap": lambda s, p: Limit(_source_label(s, p) + " cumulative cap", "GW", "cap"),
    "power_kind_supply_cap": lambda s, k: Limit(f"{KIND_WORDS.get(k[0], k[0])} supply {k[1]}", "GW", "cap"),
    "grid_energy_cap": lambda s, k: Limit(f"grid energy in {k[0]} {k[1]}", "TWh", "cap"),
    "source_energy_cap": lambda s, k: Limit(f"energy from {k[0]} {k[1]}", "TWh", "cap"),
}


def existing_grid_first(s: Scenario, grid_energy: list[list[float]], source_energy: dict[tuple[str, int], float]) -> None:
    """Read out equal-price grid energy as the existing grid's first, then the new interconnections' (in place).

    A new grid interconnection (kind ``grid``) that takes the region's electricity
    price and grid emission factor delivers the same energy as the existing grid
    at the same cost and emissions, so the LP's split between them is arbitrary.
    Per region and year the sum over the existing grid and those sources is
    kept and re-split: the existing grid up to grid_power x hours, the rest to
    the sources in proportion to the LP's values (never more than the LP gave
    each, so every cap still holds). Cost, emissions and the energy balance are
    unchanged.
    """
    hours_twh = s.hours_per_year / 1000.0
    for i, r in enumerate(s.regions):
        for j, y in enumerate(s.years):
            price, factor = s.electricity_price_bnusd_per_twh.get((r, y), 0.0), s.grid_emissions_t_per_mwh.get((r, y), 0.0)
            same = [p for p, src in s.power_sources.items() if src.region == r and src.kind == "grid"
                    and (p, y) in source_energy
                    and abs(s.source_energy_price_bnusd_per_twh.get((p, y), 0.0) - price) <= 1e-12
                    and abs(s.source_emissions_t_per_mwh.get((p, y), 0.0) - factor) <= 1e-12]
            from_sources = sum(source_energy[p, y] for p in same)
            if from_sources <= 0.0:
                continue
            total = grid_energy[i][j] + from_sources
            grid_energy[i][j] = min(total, s.grid_power_gw.get((r, y), 0.0) * hours_twh)
            share = (total - grid_energy[i][j]) / from_sources
            for p in same:
                source_energy[p, y] *= share


def report(m: ConcreteModel, s: Scenario) -> xr.Dataset:
    """Facility power, firm power by source, energy and emissions by region and year.

    :func:`model.solution.to_dataset` checks that the read-out balances
    (:func:`model.checks.energy_readout_problems`).
    """
    from pyomo.environ import value

    regions, years, sources = list(s.regions), list(s.years), list(s.power_sources)
    in_service = m.in_service_gw.extract_values()
    it = [[sum(float(in_service[o, y] or 0.0) for o in s.offers_where(region=r)) for y in years] for r in regions]
    facility = [[it[i][j] * s.pue[r, y] for j, y in enumerate(years)] for i, r in enumerate(regions)]
    energy = [[it[i][j] * s.energy_twh_per_gw(r, y) for j, y in enumerate(years)] for i, r in enumerate(regions)]
    grid = [[s.grid_power_gw.get((r, y), 0.0) for y in years] for r in regions]
    energy_rows = set(m.GRID_INDEX)
    grid_energy = [[float(value(m.grid_energy_twh[r, y])) if (r, y) in energy_rows else 0.0 for y in years]
                   for r in regions]
    source_energy = {k: float(value(m.source_energy_twh[k])) for k in m.DISPATCH_INDEX}
    existing_grid_first(s, grid_energy, source_energy)
    # energy of offers whose lease includes power: delivered like the rest, paid by the host
    host_paid = [[sum(float(in_service[o, y] or 0.0) * s.energy_twh_per_gw(r, y) for o in s.offers_where(region=r)
                      if not s.offers[o].energy_billed) for y in years] for r in regions]
    grid_emissions = [[grid_energy[i][j] * s.grid_emissions_t_per_mwh.get((r, y), 0.0)
                       for j, y in enumerate(years)] for i, r in enumerate(regions)]
    dims = ("region", "year")
    ds = xr.Dataset({
        "it_power_gw": (dims, it, {"units": "GW", "long_name": "IT capacity in service"}),
        "facility_power_gw": (dims, facility, {"units": "GW", "long_name": "facility power (IT x PUE)"}),
        "grid_power_gw": (dims, grid, {"units": "GW", "long_name": "grid power available without new interconnection"}),
        "energy_twh": (dims, energy, {"units": "TWh", "long_name": "facility energy used (IT x PUE x utilisation x hours)"}),
        "grid_energy_twh": (dims, grid_energy,
                            {"units": "TWh", "long_name": "energy delivered by the existing grid (billed and host-paid)"}),
        "host_paid_energy_twh": (dims, host_paid,
                                 {"units": "TWh", "long_name": "energy of leases that include power (paid by the host)"}),
        "grid_emissions_mt": (dims, grid_emissions, {"units": "Mt", "long_name": "CO2 from grid energy"}),
        "pue": (dims, [[s.pue[r, y] for y in years] for r in regions], {"units": "dimensionless"}),
    })
    if sources:
        built = m.power_build_gw.extract_values()
        src_build = [[float(built.get((p, y)) or 0.0) for y in years] for p in sources]
        src_service = [[float(value(m.power_in_service_gw[p, y])) for y in years] for p in sources]
        src_energy = [[source_energy.get((p, y), 0.0) for y in years] for p in sources]
        src_emis = [[src_energy[i][j] * s.source_emissions_t_per_mwh.get((p, y), 0.0) for j, y in enumerate(years)]
                    for i, p in enumerate(sources)]
        sdims = ("power_source", "year")
        ds = ds.assign({
            "power_build_gw": (sdims, src_build, {"units": "GW", "long_name": "power source capacity added"}),
            "power_in_service_gw": (sdims, src_service, {"units": "GW", "long_name": "power source capacity in service"}),
            "source_energy_twh": (sdims, src_energy, {"units": "TWh", "long_name": "energy from the source"}),
            "source_emissions_mt": (sdims, src_emis, {"units": "Mt", "long_name": "CO2 from the source"}),
        }).assign_coords(power_source=sources,
                         power_kind=("power_source", [s.power_sources[p].kind for p in sources]),
                         power_region=("power_source", [s.power_sources[p].region for p in sources]))
    return ds
