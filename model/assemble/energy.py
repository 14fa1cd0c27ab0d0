"""Power sources, energy prices and emissions (table family of the loader)."""
from __future__ import annotations

from typing import Any

from model.assemble.series import group_facts, whole_years, yearly_series
from model.errors import InputError
from model.inputs import Catalogue, facts_from
from model.records import PowerSource


def assemble_energy(rows, catalogue: Catalogue, errors: list[InputError], years: tuple[int, ...],
                     ids: dict[str, set[str]], region_param: dict) -> dict[str, Any]:
    """Power sources and their parameters, in model units, as Scenario fields."""
    horizon = (years[0], years[-1])
    entity = rows("power_sources.csv", horizon, ids)
    ids["power_sources.csv"] = {r["power_source"] for r in entity}
    sources = {r["power_source"]: PowerSource(r["power_source"], r["region"], r["kind"], r["first_year"],
                                              r.get("description", "")) for r in entity}
    grouped = group_facts(facts_from(rows("power_source_parameters.csv", horizon, ids), ("power_source", "year")),
                     "power_source")
    out: dict[str, Any] = {"power_sources": sources, "power_lead_time_yr": {}, "power_lifetime_yr": {},
                           "power_build_cap_gw": {}, "power_cumulative_cap_gw": {}, "capacity_credit": {},
                           "capacity_factor": {}, "power_capex_bnusd_per_gw": {}, "power_fixed_bnusd_per_gw_yr": {},
                           "source_energy_price_bnusd_per_twh": {}, "source_emissions_t_per_mwh": {},
                           "power_kind_cap_gw": {}, "power_kind_world_cap_gw": {}}
    spec = catalogue.for_file("power_source_parameters.csv")
    scalars = {"lead_time": "power_lead_time_yr", "lifetime": "power_lifetime_yr",
               "cumulative_cap": "power_cumulative_cap_gw", "capacity_credit": "capacity_credit",
               "capacity_factor": "capacity_factor"}
    series = {"build_cap": "power_build_cap_gw", "capex": "power_capex_bnusd_per_gw",
              "fixed_cost": "power_fixed_bnusd_per_gw_yr", "energy_price": "source_energy_price_bnusd_per_twh",
              "emissions_factor": "source_emissions_t_per_mwh"}
    for name, src in sources.items():
        for param, fieldname in scalars.items():
            facts = grouped.get((name, param), [])
            for f in facts:
                if f.keys.get("year") is not None:
                    errors.append(InputError(f.file, f.row, "year", f"an empty year for '{param}'",
                                             repr(f.keys["year"])))
            value = facts[0].value if facts else spec[param].default
            if value is None:
                continue
            if param in ("lead_time", "lifetime"):
                value = whole_years(value, facts[0] if facts else None, param, errors)
                if value is None:
                    continue
                value = value if param == "lead_time" else max(1, value)
            out[fieldname][name] = value
        for param, fieldname in series.items():
            facts = grouped.get((name, param), [])
            if facts:
                s = yearly_series(facts, years, errors)
            elif param == "energy_price" and src.kind == "grid":
                s = {y: region_param["electricity_price"].get((src.region, y), 0.0) for y in years}
            elif param == "emissions_factor" and src.kind == "grid":
                s = {y: region_param["grid_emissions"].get((src.region, y), 0.0) for y in years}
            elif spec[param].default is not None:
                s = {y: float(spec[param].default) for y in years}
            else:
                s = {y: 0.0 for y in years} if param != "build_cap" else None
            if s is None:
                continue
            for y, v in s.items():
                out[fieldname][name, y] = v
    rows("power_kind_parameters.csv", horizon, ids)   # checked here; its rows reach the sources as copies
    kinds = group_facts(facts_from(rows("power_kind_supply.csv", horizon, ids), ("kind", "year")), "kind")
    for (kind, param), facts in kinds.items():
        # supply_cap: this plan's share (the single-buyer model); world_supply_cap: all buyers (the world run)
        field_name = "power_kind_cap_gw" if param == "supply_cap" else "power_kind_world_cap_gw"
        s = yearly_series(facts, years, errors)
        if s:
            for y, v in s.items():
                out[field_name][kind, y] = v
    return out
