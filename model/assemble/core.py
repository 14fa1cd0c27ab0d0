"""Validate every input table and build the :class:`~model.records.Scenario` (the core tables)."""
from __future__ import annotations

import math
from dataclasses import replace
from itertools import repeat
from typing import Any, Callable, Hashable

from model.assemble.commitments import assemble_commitments, resolve_scope
from model.assemble.energy import assemble_energy, with_region_figures
from model.assemble.money import assemble_money
from model.assemble.calibration_refs import read_calibration
from model.assemble.series import group_facts, has_row, pairs, whole_years, yearly_series
from model.assemble.supply import GRID_SUPPLY_PARAMETERS, assemble_supply, regional_firm_power
from model.errors import InputError
from model.inputs.memo import IdentityMemo
from model.inputs import ENTITY_KEY, SCHEMAS, Catalogue, RawRow, RawTable, check_rows, facts_from, parse_value
from model.records import Deal, Offer, PortfolioRule, Scenario, Target, main_target_rows


#: The closure that reads and checks one input table: ``rows(file, horizon=None, ids=None)``.
Rows = Callable[..., list[dict[str, Any]]]


def assemble(tables: dict[str, RawTable], catalogue: Catalogue, errors: list[InputError], name: str,
              description: str, target_value: tuple[float, str] | None,
              target_year: int | None, target_basis: str = "it") -> Scenario | None:
    """Validate every table and build the Scenario (``None`` if anything is wrong).

    Every rule runs for every load. A table family (:func:`entities`, :func:`region_parameters`, ...)
    whose tables are the very same objects as in an earlier load, with no problem found before it,
    gives that load's answer and problems again (:func:`kept_family`): a sweep case re-works only
    the families its changes reach.
    """
    def rows_into(problems: list[InputError]) -> Rows:
        def rows(file: str, horizon=None, ids=None) -> list[dict[str, Any]]:
            if file not in tables:
                return []
            return check_rows(tables[file], SCHEMAS[file], catalogue, ids or {}, horizon, problems)
        return rows

    rows = rows_into(errors)

    def family(name: str, files: tuple[str, ...], rule: Callable[[Rows, list[InputError]], Any],
               context: Hashable = ()) -> Any:
        return kept_family(name, tables, files, catalogue, years, lambda problems: rule(rows_into(problems), problems),
                           errors, context)

    got = horizon_years(rows, tables, errors)
    if got is None:
        return None
    years, hz = got
    horizon = (years[0], years[-1])

    ids, entity, families, offers = family("entities", (), lambda r, p: entities(r, horizon, p))
    ids = dict(ids)        # the power sources' ids are added below; the kept answer stays as it was

    # scalars
    scalar = {f.parameter: f for f in facts_from(rows("scalars.csv", horizon), ())}
    for key in ("discount_rate", "utilisation", "hours_per_year", "default_target"):
        if key not in scalar and "scalars.csv" in tables and not has_row(tables["scalars.csv"], key):
            errors.append(InputError(tables["scalars.csv"].file, 1, "parameter", f"a row for '{key}'", "none"))

    # generations -> EFLOP/s per GW by (family, vintage year)
    eflops_per_gw = family("generations", ("generations.csv",), lambda r, p: eflops_by_vintage(
        r("generations.csv", horizon, ids), families, entity["offers.csv"], offers, years, p))
    region_param = family("region_parameters", ("region_parameters.csv",), lambda r, p: region_parameters(
        r, catalogue, tables, p, years, ids, offers))
    lifetime, cum_cap, ramp, per_year = family("offer_parameters", ("offer_parameters.csv",), lambda r, p: (
        offer_parameters(r, catalogue, tables, p, years, ids, entity["offers.csv"], offers)))

    # vendor supply: supply_cap rows, or world_output x buyer_share
    def vendor_supply(r: Rows, p: list[InputError]) -> tuple[dict, dict]:
        world: dict[tuple[str, int], float] = {}
        caps = assemble_supply(facts_from(r("vendor_supply.csv", horizon, ids), ("vendor", "year")),
                               ids.get("vendors.csv", set()), years, p, world)
        return caps, world

    supply, world_output = family("vendor_supply", ("vendor_supply.csv",), vendor_supply)

    opening = opening_stock(rows("opening_stock.csv", horizon, ids), catalogue, offers, eflops_per_gw, tables, errors)

    targets = targets_of(rows("targets.csv", horizon, ids), years, hz, scalar, target_value, target_year,
                         target_basis, errors)

    deals = family("deals", ("deal_terms.csv",), lambda r, p: deals_of(r, p, years, ids, entity["deals.csv"], offers))
    rules = family("portfolio", ("portfolio.csv",), lambda r, p: portfolio_rules(r, catalogue, p, years, ids, offers))

    # tranches read only the deals' statuses (a scheduled tranche of a deal that is not binding is left out)
    commitments = family("commitments", ("commitments.csv",), lambda r, p: assemble_commitments(
        r, catalogue, p, years, offers, deals), context=tuple((d.name, d.status) for d in deals))
    energy, from_region = family("energy", ENERGY_FILES, lambda r, p: assemble_energy(r, catalogue, p, years, ids))
    energy = with_region_figures(energy, from_region, region_param)
    ids["power_sources.csv"] = frozenset(energy["power_sources"])       # as assemble_energy sets it
    money = family("money", ("finance.csv", "scalars.csv"), lambda r, p: assemble_money(r, p, years, scalar))
    reference_energy = reference_energy_of(rows("reference_energy.csv", horizon), catalogue, errors)

    calibration_refs = read_calibration(rows("calibration.csv", horizon), errors)

    if errors:
        return None
    return Scenario(
        name=name, description=description, years=years,
        discount_rate=scalar["discount_rate"].value, utilisation=scalar["utilisation"].value,
        hours_per_year=scalar["hours_per_year"].value,
        vendors={r["vendor"]: r["name"] for r in entity["vendors.csv"]},
        hosts={r["host"]: r["name"] for r in entity["hosts.csv"]},
        regions={r["region"]: r["name"] for r in entity["regions.csv"]},
        families=families, offers=offers, lifetime_yr=lifetime, build_cap_gw=per_year["build_cap"],
        cumulative_cap_gw=cum_cap, ramp_gw=ramp, capex_bnusd_per_gw=per_year["capex"],
        lease_bnusd_per_gw_yr=per_year["lease_price"], fixed_bnusd_per_gw_yr=per_year["fixed_cost"],
        supply_cap_gw=supply, grid_power_gw=region_param["grid_power"], pue=region_param["pue"],
        electricity_price_bnusd_per_twh=region_param["electricity_price"], eflops_per_gw=eflops_per_gw,
        opening_gw=opening, targets=tuple(targets), deals=tuple(deals), portfolio=tuple(rules),
        grid_emissions_t_per_mwh=region_param["grid_emissions"], reference_energy_twh=reference_energy,
        commitments=commitments, world_output_gw=world_output, calibration_refs=calibration_refs, **energy, **money,
    )


def targets_of(rows: list[dict[str, Any]], years: tuple[int, ...], hz: dict, scalar: dict,
               target_value: tuple[float, str] | None, target_year: int | None, target_basis: str,
               errors: list[InputError]) -> list[Target]:
    """The milestones of targets.csv, then the main target (``--target`` or the default) in its year."""
    targets: list[Target] = []
    for r in rows:
        if "_value" not in r:
            continue
        kind = "power" if r["_unit"] == "GW" else "compute"
        targets.append(Target(r["year"], kind, r["_value"],
                              f"milestone {r['value']} {r['unit']} in {r['year']} ({r['_file']} line {r['_row']})"))
    if target_year is not None and not years[0] <= target_year <= years[-1]:
        errors.append(InputError("command line", "--year", "--year",
                                 f"a year within the planning horizon {years[0]}..{years[-1]}", repr(target_year)))
        target_year = None
    t_year = target_year or hz.get("default_target_year", years[-1])
    if target_value is None and "default_target" in scalar:
        target_value = (scalar["default_target"].value, "power")
    if target_value is not None:
        targets.extend(main_target_rows(target_value[0], target_value[1], t_year, years, target_basis))
    return targets


def opening_stock(rows: list[dict[str, Any]], catalogue: Catalogue, offers: dict, eflops_per_gw: dict,
                  tables: dict[str, RawTable], errors: list[InputError]) -> dict[tuple[str, int], float]:
    """Capacity in service at the start, GW by (offer, vintage); a vintage without a generation is refused."""
    opening: dict[tuple[str, int], float] = {}
    spec = catalogue.parameters["opening_capacity"]
    for r in rows:
        got = parse_value(RawRow({"value": r["value"], "unit": r["unit"]}, r["_file"], r["_row"]), spec, errors)
        if got:
            opening[r["offer"], r["vintage"]] = got[0]
    for (o, vin) in opening:
        if o in offers and (offers[o].family, vin) not in eflops_per_gw:
            errors.append(InputError(tables["opening_stock.csv"].file, f"offer {o}", "vintage",
                                     f"a vintage when family {offers[o].family} had a generation", repr(vin)))
    return opening


def reference_energy_of(rows: list[dict[str, Any]], catalogue: Catalogue, errors: list[InputError]) -> dict[str, float]:
    """The reference energy figures (TWh) by key, each parsed in its unit."""
    out: dict[str, float] = {}
    for key, r in {r["reference"]: r for r in rows}.items():
        got = parse_value(RawRow({"value": r["value"], "unit": r["unit"]}, r["_file"], r["_row"]),
                          catalogue.parameters["reference_energy"], errors)
        if got:
            out[key] = got[0]
    return out


#: The entity tables: every family reads their ids (and most their offers).
ENTITY_FILES = ("vendors.csv", "hosts.csv", "regions.csv", "families.csv", "offers.csv", "deals.csv")

#: The tables the energy family reads besides the entity tables (the regions' prices reach grid sources after it).
ENERGY_FILES = ("power_sources.csv", "power_source_parameters.csv",
                "power_kind_parameters.csv", "power_kind_supply.csv")

#: The table families' answers for the very same tables (see :func:`kept_family`).
_FAMILIES = IdentityMemo(256)


def kept_family(name: str, tables: dict[str, RawTable], files: tuple[str, ...], catalogue: Catalogue,
                years: tuple[int, ...], rule: Callable[[list[InputError]], Any], errors: list[InputError],
                context: Hashable = ()) -> Any:
    """``rule(problems)``: the family ``name`` over the entity tables and ``files``, kept for the same tables.

    A family's answer is a function of the tables it reads (``ENTITY_FILES`` and ``files``), the
    catalogue, the years and ``context`` (what else it reads from earlier families, as plain values),
    given that no problem was found before it: a few rules word or skip a
    problem by the ones found so far (:func:`~model.assemble.series.row_already_refused`). So an
    answer is kept and given again only when ``errors`` is empty at the call; otherwise the rule runs
    on ``errors`` itself. The answer is shared between Scenarios: nothing may change it.
    """
    inputs = (catalogue,) + tuple(tables.get(f) for f in ENTITY_FILES + files)
    return _FAMILIES.before_any_problem(inputs, (name, files, years, context), rule, errors)


def horizon_years(rows: Rows, tables: dict[str, RawTable],
                  errors: list[InputError]) -> tuple[tuple[int, ...], dict[str, int]] | None:
    """The planning years and the rows of ``horizon.csv`` (``None`` if the horizon is unusable)."""
    # horizon first: years elsewhere are checked against it
    horizon_rows = {r["parameter"]: r for r in rows("horizon.csv")}
    hz: dict[str, int] = {}
    for key in ("first_year", "last_year", "default_target_year"):
        r = horizon_rows.get(key)
        if r is None:
            if "horizon.csv" in tables and not has_row(tables["horizon.csv"], key):
                errors.append(InputError(tables["horizon.csv"].file, 1, "parameter", f"a row for '{key}'", "none"))
            continue
        try:
            hz[key] = int(float(r["value"]))
            if hz[key] != float(r["value"]) or not 1990 <= hz[key] <= 2100:
                raise ValueError
        except (ValueError, OverflowError):  # OverflowError: 'inf'
            hz.pop(key, None)   # a refused year must not shape the horizon (-8e9 would make billions of years)
            errors.append(InputError(r["_file"], r["_row"], "value", f"a calendar year for '{key}'", repr(r["value"])))
    if "first_year" not in hz or "last_year" not in hz:
        return None
    if hz["last_year"] < hz["first_year"]:
        r = horizon_rows["last_year"]
        errors.append(InputError(r["_file"], r["_row"], "value", f"a last year not before {hz['first_year']}",
                                 repr(r["value"])))
        return None
    years = tuple(range(hz["first_year"], hz["last_year"] + 1))
    return years, hz


def eflops_by_vintage(gen_rows: list[dict[str, Any]], families: dict[str, tuple[str, str, str]],
                      offer_rows: list[dict[str, Any]], offers: dict[str, Offer], years: tuple[int, ...],
                      errors: list[InputError]) -> dict[tuple[str, int], float]:
    """EFLOP/s per GW of each family by vintage year, from ``generations.csv`` (the latest generation by then)."""
    # generations -> EFLOP/s per GW by (family, vintage year)
    gens: dict[tuple[str, str], dict[str, Any]] = {}
    for r in gen_rows:
        g = gens.setdefault((r["family"], r["generation"]), {"year": r["year"], "_file": r["_file"], "_row": r["_row"]})
        g[r["parameter"]] = r["_value"]
    eflops_per_gw: dict[tuple[str, int], float] = {}
    vintages = range(min(years[0] - 30, 1995), years[-1] + 1)
    for fam in families:
        avail = sorted(((g["year"], g) for (f, _), g in gens.items()
                        if f == fam and "it_power_per_chip" in g and "flops_per_chip" in g), key=lambda t: t[0])
        for v in vintages:
            latest = [g for y, g in avail if y is not None and y <= v]
            if latest:
                g = latest[-1]
                # FLOP/s per W -> EFLOP/s per GW: x 1e9 W/GW / 1e18
                eflops_per_gw[fam, v] = g["flops_per_chip"] / g["it_power_per_chip"] * 1e9 / 1e18
    for (f, gname), g in gens.items():
        missing = {"it_power_per_chip", "flops_per_chip"} - set(g)
        if missing:
            errors.append(InputError(g["_file"], g["_row"], "parameter",
                                     f"both it_power_per_chip and flops_per_chip for generation {gname}",
                                     f"no {' or '.join(sorted(missing))}"))
        elif not math.isfinite(g["flops_per_chip"] / g["it_power_per_chip"] * 1e-9):   # EFLOP/s per GW
            errors.append(InputError(g["_file"], g["_row"], "value",
                                     f"flops_per_chip / it_power_per_chip of generation {gname} finite in EFLOP/s per GW",
                                     f"{g['flops_per_chip']:g} FLOP/s / {g['it_power_per_chip']:g} W"))
    for r in offer_rows:
        o = offers.get(r["offer"])
        if o and (o.family, max(o.first_year, years[0])) not in eflops_per_gw:
            errors.append(InputError(r["_file"], r["_row"], "family",
                                     f"a family with a generation available by {max(o.first_year, years[0])} "
                                     "in generations.csv", repr(o.family)))
    return eflops_per_gw


def region_parameters(rows: Rows, catalogue: Catalogue, tables: dict[str, RawTable], errors: list[InputError],
                      years: tuple[int, ...], ids: dict[str, set[str]],
                      offers: dict[str, Offer]) -> dict[str, dict[tuple[str, int], float]]:
    """Grid power, PUE, electricity price and grid emissions by (region, year), with defaults from the catalogue.

    With no problem found before or in the table's rows, each figure is worked out on its own and kept for
    the very same facts (:func:`region_figures`): a case that changes the PUE works out the PUE only, and the
    figures it left alone are the same objects as before. Should any figure find a problem, all are worked
    out together, region by region (:func:`region_parameters_in_order`), so the problems and their order are
    always that function's.
    """
    horizon = (years[0], years[-1])
    region_facts = facts_from(rows("region_parameters.csv", horizon, ids), ("region", "year", "component"))
    if not errors:
        kept = region_figures(region_facts, catalogue, tables, years, ids, offers)
        if kept is not None:
            return kept
    return region_parameters_in_order(region_facts, catalogue, tables, errors, years, ids, offers)


#: The region figures (grid power, PUE, price, emissions), each kept for the very same facts; shared: read-only.
_REGION_FIGURES = IdentityMemo(512)

#: The figures of a region, in the order :func:`region_parameters_in_order` works them out.
REGION_FIGURES = ("grid_power", "pue", "electricity_price", "grid_emissions")


def region_figures(region_facts: list, catalogue: Catalogue, tables: dict[str, RawTable], years: tuple[int, ...],
                   ids: dict[str, set[str]], offers: dict[str, Offer]) -> dict[str, dict[tuple[str, int], float]] | None:
    """:func:`region_parameters_in_order`'s answer, each figure worked out alone and kept; ``None`` on any problem.

    Equal to that function's answer when it finds no problem: each figure reads only its own rows (grid
    power also the regional components'), and with no problem anywhere no rule reads the problems found
    before it.
    """
    regions = ids.get("regions.csv", frozenset())
    facts_of: dict[str, list] = {}
    for f in region_facts:
        facts_of.setdefault(f.parameter, []).append(f)
    if any(f.keys.get("component") for name, fs in facts_of.items() if name not in GRID_SUPPLY_PARAMETERS
           for f in fs):
        return None                   # a component where none belongs: refused, in order
    grid = tuple(f for name in GRID_SUPPLY_PARAMETERS for f in facts_of.get(name, ()))
    out: dict[str, dict[tuple[str, int], float]] = {}
    for figure in REGION_FIGURES:
        own = tuple(facts_of.get(figure, ()))
        problems: list[InputError] = []
        out[figure] = _REGION_FIGURES(
            (catalogue, offers, regions) + own + (grid if figure == "grid_power" else ()),
            (figure, years, len(own)),
            lambda p, figure=figure, own=own: region_figure(figure, own, grid, catalogue, tables, years, regions,
                                                            offers, p),
            problems)
        if problems:
            return None
    return out


def region_figure(figure: str, own: tuple, grid: tuple, catalogue: Catalogue, tables: dict[str, RawTable],
                  years: tuple[int, ...], regions: frozenset[str], offers: dict[str, Offer],
                  errors: list[InputError]) -> dict[tuple[str, int], float]:
    """One figure of :func:`region_parameters_in_order` for every region (its rows ``own``; grid power also reads
    the regional components ``grid``), as that function works it out."""
    spec = catalogue.parameters[figure]
    by_region: dict[str, list] = {}
    for f in own:
        by_region.setdefault(f.keys.get("region"), []).append(f)
    grid_by_region: dict[str, list] = {}
    for f in grid if figure == "grid_power" else ():
        grid_by_region.setdefault(f.keys.get("region"), []).append(f)
    out: dict[tuple[str, int], float] = {}
    for region in regions:
        firm = (regional_firm_power(grid_by_region.get(region, []), region, years, errors) if figure == "grid_power"
                else None)
        region_figure_into(out, figure, region, by_region.get(region, []), firm, spec, years, offers, tables, errors)
    return out


def region_figure_into(out: dict[tuple[str, int], float], figure: str, region: str, facts: list, firm: dict | None,
                       spec: Any, years: tuple[int, ...], offers: dict[str, Offer], tables: dict[str, RawTable],
                       errors: list[InputError]) -> None:
    """One region's ``figure`` into ``out[(region, year)]``: its rows (one for all years, or given years,
    interpolated), else the grid's firm power (grid power only, when the region has ``regional_power``
    rows), else the catalogue's default; a region with offers and none of these is refused."""
    if figure == "grid_power" and firm is not None:
        if facts:
            f = facts[0]
            errors.append(InputError(f.file, f.row, "parameter",
                                     f"either grid_power rows or regional_power rows for region {region}", "both"))
            return
        for y, v in firm.items():
            out[region, y] = v
        return
    if facts:
        if len(facts) == 1 and facts[0].keys.get("year") is None:     # one row for all years (most regions)
            out.update(zip(pairs((region,), years), repeat(facts[0].value)))
            return
        s = yearly_series(facts, years, errors)
        if s is None:
            return
    elif spec.default is not None:
        s = {y: float(spec.default) for y in years}
    else:
        if any(o.region == region for o in offers.values()):
            errors.append(InputError(tables["region_parameters.csv"].file if "region_parameters.csv" in tables
                                     else "region_parameters.csv", 1, "parameter",
                                     f"a '{figure}' row for region {region} (it has offers)", "none"))
        return
    for y, v in s.items():
        out[region, y] = v


def region_parameters_in_order(region_facts: list, catalogue: Catalogue, tables: dict[str, RawTable],
                               errors: list[InputError], years: tuple[int, ...], ids: dict[str, set[str]],
                               offers: dict[str, Offer]) -> dict[str, dict[tuple[str, int], float]]:
    """The region figures worked out region by region, every problem in that order (see :func:`region_parameters`)."""
    grid_facts = [f for f in region_facts if f.parameter in GRID_SUPPLY_PARAMETERS]
    region_facts = [f for f in region_facts if f.parameter not in GRID_SUPPLY_PARAMETERS]
    for f in region_facts:
        if f.keys.get("component"):
            errors.append(InputError(f.file, f.row, "component", f"an empty component for '{f.parameter}' (components "
                                     f"name the regional figures of {', '.join(GRID_SUPPLY_PARAMETERS)})",
                                     repr(f.keys["component"])))
    grid_grouped = group_facts(grid_facts, "region")
    grouped = group_facts(region_facts, "region")
    region_param: dict[str, dict[tuple[str, int], float]] = {"grid_power": {}, "pue": {}, "electricity_price": {},
                                                               "grid_emissions": {}}
    for region in ids.get("regions.csv", set()):
        firm = regional_firm_power([f for fs in (grid_grouped.get((region, p), []) for p in GRID_SUPPLY_PARAMETERS)
                                     for f in fs], region, years, errors)
        for param, out in region_param.items():
            region_figure_into(out, param, region, grouped.get((region, param), []), firm,
                               catalogue.parameters[param], years, offers, tables, errors)
    return region_param


def offer_parameters(rows: Rows, catalogue: Catalogue, tables: dict[str, RawTable], errors: list[InputError],
                     years: tuple[int, ...], ids: dict[str, set[str]], offer_rows: list[dict[str, Any]],
                     offers: dict[str, Offer]) -> tuple[dict, dict, dict, dict[str, dict[tuple[str, int], float]]]:
    """Lifetime, cumulative cap and ramp per offer, and build cap, capex, lease price and fixed cost by year."""
    horizon = (years[0], years[-1])
    # offer parameters
    op_facts = facts_from(rows("offer_parameters.csv", horizon, ids), ("offer", "year"))
    grouped = group_facts(op_facts, "offer")
    offer_lines = {r["offer"]: r["_row"] for r in offer_rows}
    lifetime: dict[str, int] = {}
    cum_cap: dict[str, float] = {}
    ramp: dict[str, float] = {}
    per_year: dict[str, dict[tuple[str, int], float]] = {"build_cap": {}, "capex": {}, "lease_price": {},
                                                           "fixed_cost": {}}
    for o, info in offers.items():
        for param in ("lifetime", "cumulative_cap", "ramp"):
            facts = grouped.get((o, param), [])
            for f in facts:
                if f.keys.get("year") is not None:
                    errors.append(InputError(f.file, f.row, "year", f"an empty year for '{param}' (one value per offer)",
                                             repr(f.keys["year"])))
            if len(facts) == 1 and facts[0].keys.get("year") is None:
                value = facts[0].value
            elif not facts and catalogue.parameters[param].default is not None:
                value = float(catalogue.parameters[param].default)
            else:
                continue
            if param == "lifetime":
                whole = whole_years(value, facts[0] if facts else None, param, errors)
                if whole is not None:
                    lifetime[o] = max(1, whole)
            elif param == "cumulative_cap":
                cum_cap[o] = value
            else:
                ramp[o] = value
        for param, out in per_year.items():
            facts = grouped.get((o, param), [])
            if facts:
                s = yearly_series(facts, years, errors)
                if s is None:
                    continue
            else:
                default = catalogue.parameters[param].default
                if default is None:
                    continue
                s = {y: float(default) for y in years}
            for y, v in s.items():
                out[o, y] = v
        bad_rows = any(e.file.endswith("offer_parameters.csv") for e in errors)
        line = offer_lines.get(o, "offer " + o)
        if not bad_rows and info.contract == "lease" and not any(per_year["lease_price"].get((o, y), 0) > 0
                                                                 for y in years):
            errors.append(InputError(tables["offers.csv"].file, line, "contract",
                                     f"a lease_price row in offer_parameters.csv for lease offer {o}", "none"))
        if not bad_rows and info.contract == "purchase" and not any(per_year["capex"].get((o, y), 0) > 0
                                                                    for y in years):
            errors.append(InputError(tables["offers.csv"].file, line, "contract",
                                     f"a capex row in offer_parameters.csv for purchase offer {o}", "none"))
    return lifetime, cum_cap, ramp, per_year


def deals_of(rows: Rows, errors: list[InputError], years: tuple[int, ...], ids: dict[str, set[str]],
             deal_rows: list[dict[str, Any]], offers: dict[str, Offer]) -> list[Deal]:
    """Deals with their windows and their minimum and maximum in GW or USD (``deal_terms.csv``)."""
    horizon = (years[0], years[-1])
    # deals
    deals: list[Deal] = []
    terms = group_facts(facts_from(rows("deal_terms.csv", horizon, ids), ("deal",)), "deal")
    for r in deal_rows:
        own = tuple(terms.get((r["deal"], "minimum"), ())) + tuple(terms.get((r["deal"], "maximum"), ()))
        d = _DEALS((r, offers) + own, (years, len(own)),
                   lambda problems, r=r: deal_of(r, terms, years, offers, problems), errors)
        if d is not None:
            deals.append(d)
    return deals


#: Each deal kept for the very same row, terms and offers (a case that changes one deal's minimum works out that
#: deal only); shared: read-only.
_DEALS = IdentityMemo(1024)


def deal_of(r: dict[str, Any], terms: dict[tuple, list], years: tuple[int, ...], offers: dict[str, Offer],
            errors: list[InputError]) -> Deal | None:
    """One deal of ``deals.csv`` (row ``r``) with its window and its minimum and maximum from ``terms``
    (``deal_terms.csv`` facts by (deal, bound)); ``None`` if it is refused (the problem in ``errors``)."""
    if r["first_year"] is not None and r["last_year"] is not None and r["last_year"] < r["first_year"]:
        errors.append(InputError(r["_file"], r["_row"], "last_year",
                                 f"a window end not before its start {r['first_year']}", repr(r["last_year"])))
        return None
    chosen = resolve_scope(r, offers, errors)
    if chosen is None:
        return None
    d = Deal(r["deal"], r["counterparty"], r["status"], r["first_year"], r["last_year"], chosen, r["scope"],
             description=r.get("description", ""))
    values: dict[str, float] = {}
    for bound in ("minimum", "maximum"):
        for f in terms.get((d.name, bound), []):
            field_name = ("min" if bound == "minimum" else "max") + ("_gw" if f.unit == "GW" else "_bnusd")
            if field_name in values:
                errors.append(InputError(f.file, f.row, "unit", f"one {bound} in {'GW' if f.unit == 'GW' else 'USD'}"
                                         f" per deal ({d.name} has two)", repr(f.keys)))
            values[field_name] = f.value
    for unit in ("_gw", "_bnusd"):
        lo, hi = values.get("min" + unit), values.get("max" + unit)
        if lo is not None and hi is not None and lo > hi + 1e-9:
            f = next(x for x in terms[(d.name, "minimum")] if x.unit == ("GW" if unit == "_gw" else "bnUSD"))
            shown = "GW" if unit == "_gw" else "USD"
            errors.append(InputError(f.file, f.row, "value", f"a minimum no larger than the maximum "
                                     f"({hi * (1 if unit == '_gw' else 1e9):g} {shown})",
                                     f"{lo * (1 if unit == '_gw' else 1e9):g} {shown}"))
    if d.window(years) == () and any(v is not None for v in values.values()):
        errors.append(InputError(r["_file"], r["_row"], "first_year",
                                 f"a window overlapping the horizon {years[0]}..{years[-1]}",
                                 f"{r['first_year']}..{r['last_year']}"))
    return replace(d, **values)


def portfolio_rules(rows: Rows, catalogue: Catalogue, errors: list[InputError], years: tuple[int, ...],
                    ids: dict[str, set[str]], offers: dict[str, Offer]) -> list[PortfolioRule]:
    """Portfolio rules (most or least share for a vendor, host or kind of chip) over their years."""
    horizon = (years[0], years[-1])
    # portfolio
    rules: list[PortfolioRule] = []
    pf_spec = catalogue.parameters
    for r in rows("portfolio.csv", horizon, ids):
        got = parse_value(RawRow({"value": r["value"], "unit": r["unit"]}, r["_file"], r["_row"]),
                          pf_spec[r["rule"]], errors)
        if r["first_year"] is not None and r["last_year"] is not None and r["last_year"] < r["first_year"]:
            errors.append(InputError(r["_file"], r["_row"], "last_year",
                                     f"a last year not before {r['first_year']}", repr(r["last_year"])))
            continue
        chosen = resolve_scope(r, offers, errors)
        if got is None or chosen is None:
            continue
        rules.append(PortfolioRule(f"{r['rule']} {r['scope']} {r['first_year']}-{r['last_year']}", r["rule"],
                                   r["scope"], chosen, r["first_year"], r["last_year"], got[0]))
    return rules


def entities(rows: Rows, horizon: tuple[int, int], errors: list[InputError]) -> tuple[
        dict[str, set[str]], dict[str, list[dict[str, Any]]], dict[str, tuple[str, str, str]], dict[str, Offer]]:
    """The entity tables (vendors, hosts, regions, families, offers, deals): their ids, rows, families and offers."""
    # entity tables
    ids: dict[str, frozenset[str]] = {}      # frozen: shared by the loads that keep this answer
    entity: dict[str, list[dict[str, Any]]] = {}
    for file in ("vendors.csv", "hosts.csv", "regions.csv"):
        entity[file] = rows(file, horizon)
        ids[file] = frozenset(r[ENTITY_KEY[file]] for r in entity[file])
    entity["families.csv"] = rows("families.csv", horizon, ids)
    ids["families.csv"] = frozenset(r["family"] for r in entity["families.csv"])
    entity["offers.csv"] = rows("offers.csv", horizon, ids)
    ids["offers.csv"] = frozenset(r["offer"] for r in entity["offers.csv"])
    entity["deals.csv"] = rows("deals.csv", horizon, ids)
    ids["deals.csv"] = frozenset(r["deal"] for r in entity["deals.csv"])

    families = {r["family"]: (r["kind"], r["vendor"], r["name"]) for r in entity["families.csv"]}
    offers: dict[str, Offer] = {}
    for r in entity["offers.csv"]:
        fam = families.get(r["family"])
        if fam and fam[1] != r["vendor"]:
            errors.append(InputError(r["_file"], r["_row"], "vendor",
                                     f"the vendor of family {r['family']} ({fam[1]})", repr(r["vendor"])))
            continue
        if fam is None:
            continue
        offers[r["offer"]] = Offer(r["offer"], r["vendor"], r["family"], fam[0], r["host"], r["region"],
                                   r["contract"], r["first_year"], r.get("description", ""),
                                   energy_billed=(r.get("energy") or "billed") == "billed")
    return ids, entity, families, offers
