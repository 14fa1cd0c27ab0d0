"""Power sources, energy prices and emissions (table family of the loader)."""
from __future__ import annotations

from typing import Any

from model.assemble.series import group_facts, whole_years, yearly_series
from model.errors import InputError
from model.inputs import Catalogue, facts_from
from model.records import PowerSource


#: Series a grid source without rows of its own takes from its region: parameter -> the region's figure.
FROM_REGION = {"energy_price": "electricity_price", "emissions_factor": "grid_emissions"}


def assemble_energy(rows, catalogue: Catalogue, errors: list[InputError], years: tuple[int, ...],
                    ids: dict[str, set[str]]) -> tuple[dict[str, Any], dict[str, dict[tuple[str, int], tuple]]]:
    """Power sources and their parameters, in model units, as Scenario fields; and where the regions' figures go.

    A grid source's energy price and emissions without rows of its own are its region's
    (:data:`FROM_REGION`): those entries hold 0.0 here, and the second answer says which
    (``{field: {(source, year): (region figure, (region, year))}}``); :func:`with_region_figures` fills them
    in. So this family reads no region table, and a case that changes regional prices re-works only the fill.
    """
    horizon = (years[0], years[-1])
    entity = rows("power_sources.csv", horizon, ids)
    ids["power_sources.csv"] = frozenset(r["power_source"] for r in entity)
    sources = {r["power_source"]: PowerSource(r["power_source"], r["region"], r["kind"], r["first_year"],
                                              r.get("description", "")) for r in entity}
    grouped = group_facts(facts_from(rows("power_source_parameters.csv", horizon, ids), ("power_source", "year")),
                     "power_source")
    out: dict[str, Any] = {"power_sources": sources, "power_lead_time_yr": {}, "power_lifetime_yr": {},
                           "power_build_cap_gw": {}, "power_cumulative_cap_gw": {}, "capacity_credit": {},
                           "capacity_factor": {}, "power_capex_bnusd_per_gw": {}, "power_fixed_bnusd_per_gw_yr": {},
                           "source_energy_price_bnusd_per_twh": {}, "source_emissions_t_per_mwh": {},
                           "power_kind_cap_gw": {}, "power_kind_world_cap_gw": {}}
    from_region: dict[str, dict[tuple[str, int], tuple[str, tuple[str, int]]]] = {}
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
            elif param in FROM_REGION and src.kind == "grid":
                s = dict.fromkeys(years, 0.0)         # the region's figures, filled in by with_region_figures
                fed = from_region.setdefault(fieldname, {})
                for y in years:
                    fed[name, y] = (FROM_REGION[param], (src.region, y))
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
    return out, from_region


def with_region_figures(energy: dict[str, Any], from_region: dict[str, dict[tuple[str, int], tuple]],
                        region_param: dict[str, dict[tuple[str, int], float]]) -> dict[str, Any]:
    """``energy`` with the grid sources' entries of :func:`assemble_energy` set to their regions' figures.

    ``source_energy_price[p, y] = electricity_price[region(p), y]`` (and emissions likewise, 0 where the region
    has none) for a grid source ``p`` without rows of its own. New dicts for the fields it fills, in the same
    key order; ``energy`` (a kept answer) is left as it is.
    """
    if not from_region:
        return energy
    out = dict(energy)
    for field_name, fed in from_region.items():
        filled = dict(energy[field_name])
        for key, (figure, region_year) in fed.items():
            filled[key] = region_param[figure].get(region_year, 0.0)
        out[field_name] = filled
    return out
