"""Calibration that flags: the plan beside reported figures, each with a tolerance and a verdict.

The reference figures are rows of ``inputs/calibration.csv`` (read and validated with the other inputs,
:func:`model.assemble.calibration_refs.read_calibration`), each naming what of the plan it measures:

========================  =====================================================  ======
measure                   the plan's figure                                      unit
========================  =====================================================  ======
``capacity``              IT capacity in service at the end of ``last_year``      GW
``spending``              nominal cash spent over ``first_year..last_year``       USD
``debt``                  debt outstanding at the end of ``last_year``            USD
``energy``                facility energy in ``last_year``; ``scope`` ``world``   TWh
                          or ``US`` (the regions named ``US-...``)
``vendor_share``          capacity built of ``scope``'s chips (a vendor, or       GW/a
                          ``each``) in the year of its largest share of the
                          vendor's world output, ``first_year..last_year``
                          (the reference is that world output:
                          ``vendor_supply.csv``; leave ``value`` empty)
========================  =====================================================  ======

``ratio = plan / reference``; the verdict is ``within`` when ``ratio_low <= ratio <= ratio_high`` and
``outside`` otherwise. Rows outside lead the page's calibration section and are named in the terminal,
each with what would reconcile it (the ``reconcile`` column).
"""
from __future__ import annotations

from typing import Any, Callable

import xarray as xr

from model.records import Scenario

def _by_year(da: xr.DataArray) -> dict[int, float]:
    return {int(y): float(v) for y, v in zip(da.year.values, da.values)}


def _plan_figure(s: Scenario, ds: xr.Dataset, ref: CalibrationRef) -> list[tuple[str, float, float | None, str]]:
    """(figure, plan value, reference value, unit) for one reference row (several for vendor_share ``each``)."""
    years = [int(y) for y in ds.year.values if ref.first_year <= int(y) <= ref.last_year]
    if not years:
        return []
    last = max(years)
    if ref.measure == "capacity":
        return [(ref.figure, _by_year(ds["in_service_gw"].sum("offer"))[last], ref.value, "GW")]
    if ref.measure == "spending":
        spend = _by_year(ds["spending_usd"])
        return [(ref.figure, sum(spend[y] for y in years), ref.value, "USD")]
    if ref.measure == "debt":
        return [(ref.figure, _by_year(ds["debt_usd"])[last], ref.value, "USD")]
    if ref.measure == "energy":
        regions = [str(r) for r in ds.region.values if ref.scope != "US" or str(r).startswith("US-")]
        return [(ref.figure, float(ds["energy_twh"].sel(region=regions, year=last).sum()), ref.value, "TWh")]
    vendors = sorted({v for v, _ in s.world_output_gw}) if ref.scope == "each" else [ref.scope]
    out = []
    for v in vendors:
        offers = [o for o, info in s.offers.items() if info.vendor == v]
        built = _by_year(ds["build_gw"].sel(offer=offers).sum("offer")) if offers else {y: 0.0 for y in years}
        world = {y: s.world_output_gw.get((v, y), 0.0) for y in years}
        shares = {y: built[y] / world[y] for y in years if world[y] > 0}
        if not shares:
            continue
        peak = max(shares, key=shares.get)
        out.append((ref.figure.replace("{vendor}", s.vendors.get(v, v)).replace("{year}", str(peak)),
                    built[peak], world[peak], "GW/a"))
    return out


def calibration_rows(s: Scenario, ds: xr.Dataset) -> list[dict[str, Any]]:
    """Every reference row beside the plan: {figure, value, reference, unit, ratio, tolerance, verdict, reconcile,
    source}; rows outside their tolerance first, the largest miss (in log ratio) leading."""
    import math

    rows = []
    for ref in s.calibration_refs:
        for figure, plan, reference, unit in _plan_figure(s, ds, ref):
            ratio = plan / reference if reference else math.inf if plan > 0 else 1.0
            within = ref.ratio_low <= ratio <= ref.ratio_high
            rows.append({"figure": figure, "value": plan, "reference": reference, "unit": unit,
                         "ratio": ratio if math.isfinite(ratio) else None,
                         "tolerance": {"low": ref.ratio_low, "high": ref.ratio_high},
                         "verdict": "within" if within else "outside",
                         "reconcile": ref.reconcile, "source": ref.source})

    def miss(r: dict[str, Any]) -> float:
        ratio, tol = r["ratio"], r["tolerance"]
        if r["verdict"] == "within":
            return 0.0
        if ratio is None:
            return math.inf
        edge = tol["high"] if ratio > tol["high"] else max(tol["low"], 1e-12)
        return abs(math.log(max(ratio, 1e-12) / edge))

    return sorted(rows, key=lambda r: (r["verdict"] == "within", -miss(r)))


def calibration(s: Scenario, ds: xr.Dataset) -> dict[str, Any]:
    """summary.json ``calibration``: the rows, and how many are outside their tolerance."""
    rows = calibration_rows(s, ds)
    return {"value": rows, "unit": "", "outside": sum(r["verdict"] == "outside" for r in rows),
            "basis": "ratio = plan / reference; within when ratio_low <= ratio <= ratio_high (inputs/calibration.csv)"}


def miss_sentence(row: dict[str, Any], fmt: Callable[[dict[str, Any]], str]) -> str:
    """One outside row in words: 'spending 2025-2030 ...: the plan's 1.33 trillion USD is 2.2x 600 billion USD'."""
    ratio = row["ratio"]
    from model.fmt import sig

    times = f"{sig(ratio, 2)}x" if ratio is not None else "infinitely more than"
    tol = row["tolerance"]
    band = f"at most {sig(tol['high'], 6)}x" if tol["low"] == 0 else f"{sig(tol['low'], 6)}x..{sig(tol['high'], 6)}x"
    return (f"{row['figure']}: the plan's {fmt({'value': row['value'], 'unit': row['unit']})} is {times} "
            f"{fmt({'value': row['reference'], 'unit': row['unit']})} (tolerance {band})")


def calibration_lines(summary: dict[str, Any]) -> list[str]:
    """Terminal lines naming every calibration row outside its tolerance."""
    from model.fmt import figure as fmt

    cal = summary.get("calibration") or {}
    misses = [r for r in cal.get("value") or [] if r.get("verdict") == "outside"]
    if not misses:
        return ["  Calibration: every row within its tolerance"] if cal.get("value") else []
    out = [f"  Calibration: {len(misses)} of {len(cal['value'])} rows outside their tolerance:"]
    for r in misses:
        out += [f"    - {miss_sentence(r, fmt)}", f"      to reconcile: {r['reconcile']}"]
    return out
