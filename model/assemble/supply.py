"""Vendor supply and regional firm grid power from their sourced parts (table families of the loader)."""
from __future__ import annotations

from collections import defaultdict
from typing import Iterable

from model.assemble.series import group_facts, grown, row_already_refused, yearly_series
from model.errors import InputError
from model.inputs import Fact
from model.inputs.memo import IdentityMemo


def assemble_supply(facts: list[Fact], vendors: Iterable[str], years: tuple[int, ...],
                     errors: list[InputError],
                     world_out: dict[tuple[str, int], float] | None = None) -> dict[tuple[str, int], float]:
    """Each vendor's supply cap to this plan (GW/a), from ``vendor_supply.csv``.

    ``world_out``, when given, receives the world output per (vendor, year) of the vendors given in
    that form (GW/a; for calibration: the plan's share of each vendor's output).

    Two forms, one per vendor:

        supply_cap[v, y]                                  (rows for given years, grown at supply_growth after)
        world_output[v, y] x buyer_share[v, y]            (world output grown at supply_growth after its
                                                           last year; the share interpolated, flat outside)

    A vendor with neither is not capped.
    """
    grouped = group_facts(facts, "vendor")
    supply: dict[tuple[str, int], float] = {}
    for v in sorted(vendors):
        parts = tuple(tuple(grouped.get((v, p), ())) for p in _VENDOR_PARTS)
        got = _VENDORS.before_any_problem(tuple(f for part in parts for f in part) or (None,),
                                          (v, tuple(years), tuple(map(len, parts))),
                                          lambda problems: vendor_supply(v, *parts, years, problems), errors)
        if got is None:
            continue
        s, world_s = got
        if world_out is not None and world_s is not None:
            world_out.update(world_s)
        supply.update(s)
    return supply


#: The rows of one vendor's supply, by parameter (see :func:`vendor_supply`).
_VENDOR_PARTS = ("supply_cap", "world_output", "buyer_share", "supply_growth")

#: Each vendor's supply from the very same facts, while no problem was found before (a sweep case that changes
#: one vendor's growth re-works that vendor only); shared: read-only.
_VENDORS = IdentityMemo(1024)


def vendor_supply(v: str, caps: tuple[Fact, ...], world: tuple[Fact, ...], share: tuple[Fact, ...],
                  growth_f: tuple[Fact, ...], years: tuple[int, ...], errors: list[InputError]
                  ) -> tuple[dict[tuple[str, int], float], dict[tuple[str, int], float] | None] | None:
    """One vendor's supply cap ``{(v, y): GW/a}`` and world output (``None`` unless given in that form), or
    ``None`` if the vendor has a problem (appended to ``errors``). See :func:`assemble_supply` for the forms."""
    for f in growth_f:
        if f.keys.get("year") is not None:
            errors.append(InputError(f.file, f.row, "year", "an empty year for 'supply_growth'",
                                     repr(f.keys["year"])))
    growth = growth_f[0].value if growth_f else 0.0
    if caps and (world or share):
        f = (world or share)[0]
        errors.append(InputError(f.file, f.row, "parameter", f"either supply_cap rows or world_output and "
                                 f"buyer_share rows for vendor {v}", "both"))
        return None
    if world and not share or share and not world:
        if row_already_refused(errors, "vendor_supply.csv", ("buyer_share", "world_output", "supply_scale")):
            return None      # the missing row was refused already; say it once
        f = (world or share)[0]
        missing = "buyer_share" if world else "world_output"
        errors.append(InputError(f.file, f.row, "parameter", f"a '{missing}' row for vendor {v} as well "
                                 f"(supply = world_output x buyer_share)", "none"))
        return None
    series_facts = caps or world
    if not series_facts:
        return {}, None
    if any(f.keys.get("year") is None for f in series_facts):
        s = yearly_series(list(series_facts), years, errors)
    else:
        s = grown({f.keys["year"]: f.value for f in series_facts}, years, growth)
    if s is None:
        return None
    world_s = None
    if world:
        s_share = yearly_series(list(share), years, errors)
        if s_share is None:
            return None
        world_s = {(v, y): s[y] for y in years}
        s = {y: s[y] * s_share[y] for y in years}
    return {(v, y): val for y, val in s.items()}, world_s


GRID_SUPPLY_PARAMETERS = ("regional_power", "regional_power_growth", "buyer_share", "capacity_credit")


#: Each region's firm grid power from the very same facts (a sweep case changes other rows of the table).
_FIRM = IdentityMemo(1024)


def regional_firm_power(facts: list[Fact], region: str, years: tuple[int, ...],
                         errors: list[InputError]) -> dict[int, float] | None:
    """Firm facility power the grid gives the plan in ``region`` (GW): see :func:`firm_power`.

    Kept for the very same facts while no problem was found before (:data:`_FIRM`); shared: read-only.
    """
    return _FIRM.before_any_problem(tuple(facts), (region, tuple(years)),
                                    lambda problems: firm_power(facts, region, years, problems), errors)


def firm_power(facts: list[Fact], region: str, years: tuple[int, ...],
               errors: list[InputError]) -> dict[int, float] | None:
    """Firm facility power the grid gives the plan in ``region`` (GW), or None if the region has no
    ``regional_power`` rows (it may give ``grid_power`` rows directly).

    Each ``component`` of the region is one sourced regional figure (a utility's contracted
    data-centre load, a market's generation added, a site's supply contract):

        grid_power[r, y] = sum_c  regional_power[c, y] x buyer_share[c, y] x capacity_credit[c]

    ``regional_power`` (GW) is interpolated between its years, flat before the first, and grows by
    ``regional_power_growth`` GW/a after its last; ``buyer_share`` is this plan's share of it;
    ``capacity_credit`` (default 1) is the firm part of a nameplate figure. A ``buyer_share`` or
    ``capacity_credit`` row with an empty component applies to every component of the region that
    has none of its own (``--set grid_share.REGION=...`` writes such a row).
    """
    if not facts:
        return None
    by: dict[tuple[str, str], list[Fact]] = defaultdict(list)
    for f in facts:
        by[f.keys.get("component") or "", f.parameter].append(f)
        if f.parameter in ("regional_power_growth", "capacity_credit") and f.keys.get("year") is not None:
            errors.append(InputError(f.file, f.row, "year", f"an empty year for '{f.parameter}' (one value per "
                                     "component)", repr(f.keys["year"])))
    components = sorted({c for c, p in by if p == "regional_power"})
    for (c, param), fs in by.items():
        if c and c not in components:
            errors.append(InputError(fs[0].file, fs[0].row, "component",
                                     f"a component of region {region} with a 'regional_power' row "
                                     f"(one of {', '.join(components) or 'none'})", repr(c)))
        if not c and param in ("regional_power", "regional_power_growth"):
            errors.append(InputError(fs[0].file, fs[0].row, "component",
                                     f"the name of the regional figure for '{param}'", "an empty cell"))
    total = {y: 0.0 for y in years}
    for c in components:
        regional = by[c, "regional_power"]
        share = by.get((c, "buyer_share")) or by.get(("", "buyer_share"), [])
        credit = by.get((c, "capacity_credit")) or by.get(("", "capacity_credit"), [])
        growth = by.get((c, "regional_power_growth"), [])
        if not share:
            if row_already_refused(errors, "region_parameters.csv", ("grid_share", "grid_power_scale")):
                continue      # the missing row was refused already; say it once
            f = regional[0]
            errors.append(InputError(f.file, f.row, "parameter", f"a 'buyer_share' row for {region} / {c} as well "
                                     "(grid_power = regional_power x buyer_share x capacity_credit)", "none"))
            continue
        if any(f.keys.get("year") is None for f in regional):
            s = yearly_series(regional, years, errors)
        else:
            s = grown({f.keys["year"]: f.value for f in regional}, years, growth[0].value if growth else 0.0,
                       linear=True)
        s_share = yearly_series(share, years, errors)
        if s is None or s_share is None:
            continue
        cc = credit[0].value if credit else 1.0
        for y in years:
            total[y] += s[y] * s_share[y] * cc
    return total
