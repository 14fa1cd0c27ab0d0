"""The world run's result set (summary.json, tables, manifest, report.html) and the allocation file.

summary.json holds ``buyers`` ({buyer: {capacity_in_service, facility_power, announced, shortfall,
spending, debt}}, each ``{"unit", "by_year": {year: value}}``), ``share_of_supply`` ({vendor: {year:
{buyer: share}}}: the buyer's deliveries / the vendor's world output; ``unused`` is what no buyer
takes), ``scarcity_price`` ({vendor: {year: {value, unit}}}), ``power_scarcity_price`` ({region:
...}), ``kind_scarcity_price`` and ``calibration`` (world totals beside public world figures).
"""
from __future__ import annotations

import csv
import datetime as _dt
import json
from pathlib import Path
from typing import Any

import pandas as pd

from model.provenance import inputs_date
from model.resultdir import new_result_dir
from model.results import code_sha256, package_versions
from model.world.data import WorldInputs
from model.world.solve import WorldOutcome

#: Public world figures set beside the world run (original publications; see docs/world.md).
PUBLIC_FIGURES = (
    # (figure, year, low, high, unit, source)
    ("data-centre energy, world", 2024, 415.0, 415.0, "TWh",
     "IEA (2025), Energy and AI, base case, https://www.iea.org/reports/energy-and-ai"),
    ("data-centre energy, world", 2030, 945.0, 945.0, "TWh",
     "IEA (2025), Energy and AI, base case, https://www.iea.org/reports/energy-and-ai"),
    ("data-centre energy, US", 2023, 176.0, 176.0, "TWh",
     "Shehabi et al. (2024), 2024 United States Data Center Energy Usage Report, LBNL-2001637"),
    ("data-centre energy, US", 2028, 325.0, 580.0, "TWh",
     "Shehabi et al. (2024), 2024 United States Data Center Energy Usage Report, LBNL-2001637"),
)
EPOCH_SHIPMENTS = ("Epoch AI, AI chip sales (https://epoch.ai/data/ai-chip-sales), 2025 shipments as chip TDP "
                   "converted to IT power: the world_output rows of inputs/vendor_supply.csv")

ALLOCATION_HEADER = ("kind", "name", "year", "share", "unit", "source")


def per_year(values: dict[int, float], unit: str) -> dict[str, Any]:
    return {"unit": unit, "by_year": {str(y): v for y, v in sorted(values.items())}}


def buyer_figures(w: WorldInputs, o: WorldOutcome) -> dict[str, Any]:
    """``{buyer: {name, role, capacity_in_service, facility_power, announced, shortfall, spending, debt}}``."""
    out: dict[str, Any] = {}
    for b, buyer in w.buyers.items():
        ys = w.years
        announced = {y: w.announced_gw.get((b, y), 0.0) for y in ys}
        out[b] = {
            "name": buyer.name, "role": buyer.role,
            "capacity_in_service": per_year({y: o.plan["in_service_gw"][b, y] for y in ys}, "GW"),
            "facility_power": per_year({y: o.plan["facility_gw"][b, y] for y in ys}, "GW"),
            "announced": per_year(announced, "GW"),
            "shortfall": per_year({y: max(0.0, announced[y] - o.plan["served_gw"][b, y]) for y in ys}, "GW"),
            "spending": per_year({y: o.plan["spending_bnusd"][b, y] * 1e9 for y in ys}, "USD/a"),
            "debt": per_year({y: o.plan["debt_bnusd"][b, y] * 1e9 for y in ys}, "USD"),
            "value_of_capacity": per_year({y: w.value_bnusd_per_gw_yr.get((b, y), 0.0) * 1e9 for y in ys},
                                          "USD/GW/a"),
        }
    return out


def share_of_supply(w: WorldInputs, o: WorldOutcome) -> dict[str, dict[str, dict[str, float]]]:
    """``{vendor: {year: {buyer: deliveries / world output, "unused": rest}}}`` (dimensionless)."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    for (v, y), cap in sorted(w.world_output_gw.items()):
        if cap <= 0:
            continue
        shares = {b: o.plan["deliveries_gw"].get((b, v, y), 0.0) / cap for b in w.buyers}
        shares["unused"] = max(0.0, 1.0 - sum(shares.values()))
        out.setdefault(v, {})[str(y)] = shares
    return out


def prices(o: WorldOutcome, family: str, unit: str) -> dict[str, dict[str, dict[str, Any]]]:
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for (name, y), price in sorted(o.prices.get(family, {}).items()):
        out.setdefault(name, {})[str(y)] = {"value": price, "unit": unit}
    return out


def energy_twh(w: WorldInputs, o: WorldOutcome, us_only: bool = False) -> dict[int, float]:
    """Energy all buyers' capacity uses per year (TWh): IT x PUE x utilisation x hours, by region."""
    out = {y: 0.0 for y in w.years}
    for b, s in w.scenarios.items():
        blk = o.model.buyer[b]
        in_service = blk.in_service_gw.extract_values()
        for oid, info in s.offers.items():
            if us_only and not info.region.startswith("US"):
                continue
            for y in w.years:
                out[y] += float(in_service[oid, y] or 0.0) * s.energy_twh_per_gw(info.region, y)
    return out


def calibration(w: WorldInputs, o: WorldOutcome) -> list[dict[str, Any]]:
    """World totals of the run beside public world figures (nearest model year where the figure's is outside)."""
    rows: list[dict[str, Any]] = []
    first = w.years[0]
    delivered = sum(gw for (b, v, y), gw in o.plan["deliveries_gw"].items() if y == first)
    made = sum(gw for (v, y), gw in w.world_output_gw.items() if y == first)
    rows.append({"figure": "accelerators delivered (IT power)", "year": first,
                 "model": {"value": delivered, "unit": "GW"}, "public": {"low": made, "high": made, "unit": "GW"},
                 "source": EPOCH_SHIPMENTS})
    world, us = energy_twh(w, o), energy_twh(w, o, us_only=True)
    for figure, year, low, high, unit, source in PUBLIC_FIGURES:
        at = min(max(year, w.years[0]), w.years[-1])
        series = us if "US" in figure else world
        rows.append({"figure": figure + " (model: the buyers' AI capacity only)", "year": year, "model_year": at,
                     "model": {"value": series[at], "unit": unit}, "public": {"low": low, "high": high, "unit": unit},
                     "source": source})
    return rows


def headline(w: WorldInputs, o: WorldOutcome, year: int) -> dict[str, Any]:
    """The page's first sentence in figures: announced vs built by ``year``, who falls short, scarcest chips.

    The scarcest chips and power are looked for after the last year of reported history. Announced and
    built count the default and named buyers; the rest of the world (role ``rest_of_world``)
    has no plan of its own, so it is reported beside them (``rest_of_world``, ``built_world``).
    """
    planners = [b for b, x in w.buyers.items() if x.role != "rest_of_world"]   # the rest has no plan of its own
    announced = sum(w.announced_gw.get((b, year), 0.0) for b in planners)
    built = sum(o.plan["in_service_gw"][b, year] for b in planners)
    total = sum(o.plan["in_service_gw"][b, year] for b in w.buyers)
    short = {b: max(0.0, w.announced_gw.get((b, year), 0.0) - o.plan["served_gw"][b, year]) for b in planners}
    after = w.history_last_year if w.history_last_year is not None else w.years[0] - 1   # history is data
    scarce = sorted(((p, v, y) for (v, y), p in o.prices.get("vendor", {}).items() if p > 0 and y > after),
                    reverse=True)
    power = sorted(((p, r, y) for (r, y), p in o.prices.get("region", {}).items() if p > 0 and y > after),
                   reverse=True)
    return {
        "year": year, "announced": {"value": announced, "unit": "GW"}, "built": {"value": built, "unit": "GW"},
        "built_world": {"value": total, "unit": "GW"}, "rest_of_world": {"value": total - built, "unit": "GW"},
        "basis": "announced and built: the default and named buyers (the rest of the world has no announced plan: "
                 "it takes what they leave); built_world adds the rest of the world",
        "shortfall": {b: {"value": gw, "unit": "GW"} for b, gw in sorted(short.items(), key=lambda kv: -kv[1])
                      if gw > 1e-6},
        "scarcest_chips": ({"vendor": scarce[0][1], "year": scarce[0][2],
                            "price": {"value": scarce[0][0], "unit": "USD/GW"}} if scarce else None),
        "scarcest_power": ({"region": power[0][1], "year": power[0][2],
                            "price": {"value": power[0][0], "unit": "USD/GW"}} if power else None),
    }


def region_names(w: WorldInputs) -> dict[str, str]:
    """Each region's display name (``inputs/display_names.csv``: ``Tennessee``), as the plan's pages name it; not
    the description ``regions.csv`` gives it (``Tennessee and north Mississippi (MLGW/TVA): xAI's Colossus ...``)."""
    from model.names import name, scenario_names

    s = w.scenarios[w.default]
    shown = scenario_names(s)
    return {r: name("region", r, shown) for r in s.regions}


def world_summary(w: WorldInputs, o: WorldOutcome, year: int) -> dict[str, Any]:
    """summary.json of a world run (see the module docstring)."""
    out: dict[str, Any] = {
        "kind": "world", "rule": o.rule, "status": o.status, "message": o.message, "scenario": w.name,
        "default_buyer": w.default, "year": year,
        "vendor_names": dict(w.scenarios[w.default].vendors), "region_names": region_names(w),
        "objective": {"value": (o.objective_bnusd or 0.0) * 1e9, "unit": "USD"},
        "headline": headline(w, o, year),
        "buyers": buyer_figures(w, o),
        "share_of_supply": share_of_supply(w, o),
        "scarcity_price": prices(o, "vendor", "USD/GW"),
        "power_scarcity_price": prices(o, "region", "USD/GW"),
        "kind_scarcity_price": prices(o, "kind", "USD/GW"),
        "world_output": {v: per_year({y: gw for (vv, y), gw in w.world_output_gw.items() if vv == v}, "GW/a")
                         for v in sorted({v for v, _ in w.world_output_gw})},
        "regional_firm_power": {r: per_year({y: gw for (rr, y), gw in w.regional_firm_gw.items() if rr == r}, "GW")
                                for r in sorted({r for r, _ in w.regional_firm_gw})},
        "calibration": calibration(w, o),
        "lp_size": o.size,
    }
    if o.shares is not None:
        out["pro_rata_shares"] = [{"kind": k, "name": n, "buyer": b, "share": v} for (k, n, b), v in sorted(o.shares.items())]
    if o.overflow:
        out["shared_caps_exceeded"] = {fam: {" ".join(map(str, k)): {"value": gw, "unit": "GW"} for k, gw in rows.items()}
                                       for fam, rows in o.overflow.items() if rows}
    return out


def world_tables(w: WorldInputs, o: WorldOutcome) -> dict[str, pd.DataFrame]:
    """Tidy long tables: buyers by year, deliveries by vendor, grid draw by region, scarcity prices."""
    rows = []
    for b in w.buyers:
        for y in w.years:
            for key, figure, unit in (("in_service_gw", "capacity_in_service", "GW"), ("facility_gw", "facility_power", "GW"),
                                      ("served_gw", "announced_served", "GW")):
                rows.append({"buyer": b, "year": y, "figure": figure, "value": o.plan[key][b, y], "unit": unit})
            rows.append({"buyer": b, "year": y, "figure": "announced", "value": w.announced_gw.get((b, y), 0.0),
                         "unit": "GW"})
    out = {"buyers": pd.DataFrame(rows)}
    out["deliveries"] = pd.DataFrame([{"buyer": b, "vendor": v, "year": y, "value": gw, "unit": "GW"}
                                      for (b, v, y), gw in sorted(o.plan["deliveries_gw"].items())])
    out["grid_draw"] = pd.DataFrame([{"buyer": b, "region": r, "year": y, "value": gw, "unit": "GW"}
                                     for (b, r, y), gw in sorted(o.plan["grid_draw_gw"].items())])
    out["scarcity_prices"] = pd.DataFrame([{"kind": fam, "name": k[0], "year": k[1], "value": p, "unit": "USD/GW"}
                                           for fam, d in o.prices.items() for k, p in sorted(d.items())])
    return out


def _up(share: float) -> float:
    """A share to 9 decimals, rounded up (the single-buyer run can always hold what the world gave it), in [0, 1]."""
    import math

    return min(1.0, max(0.0, math.ceil(share * 1e9 - 1e-6) / 1e9))


def allocation_rows(w: WorldInputs, o: WorldOutcome, inputs_date: str) -> list[dict[str, Any]]:
    """The default buyer's share of each shared vendor and region cap, per year (inputs/world_allocation.csv).

        share[vendor v, y] = (deliveries of the default buyer[v, y] + unsold[v, y]) / world_output[v, y]
        share[region r, y] = (grid draw of the default buyer[r, y] + unused[r, y]) / regional_firm[r, y]
        unsold[v, y] = max(0, world_output[v, y] - sum_b deliveries[b, v, y])       (likewise unused firm power)

    each rounded up to 9 decimals: what the world gave the buyer, and what no buyer took (a cap with room
    has a scarcity price of zero: anyone may buy what is left), so the single-buyer run is held to its
    allocation only where the world's supply is scarce. A vendor's or region's share in a year of the
    buyer's reported history is 1: what it drew then is data (a scenario that lowers that year's regional
    figure, as energy-constrained does, must not contradict it), as the supply caps skip those years.
    """
    source = f"python run.py world --write-allocation on inputs of {inputs_date}"
    b = w.default
    rows = []
    history = w.scenarios[b].history_last_year
    taken: dict[tuple[str, int], float] = {}
    for (_, v, y), gw in o.plan["deliveries_gw"].items():
        taken[v, y] = taken.get((v, y), 0.0) + gw
    drawn: dict[tuple[str, int], float] = {}
    for (_, r, y), gw in o.plan["grid_draw_gw"].items():
        drawn[r, y] = drawn.get((r, y), 0.0) + gw
    for (v, y), cap in sorted(w.world_output_gw.items()):
        left = max(0.0, cap - taken.get((v, y), 0.0))
        share = (o.plan["deliveries_gw"].get((b, v, y), 0.0) + left) / cap if cap > 0 else 0.0
        if history is not None and y <= history:
            share = 1.0      # a year of reported history: what the buyer received then is data, not a limit
        rows.append({"kind": "vendor", "name": v, "year": y, "share": _up(share),
                     "unit": "dimensionless", "source": source})
    for (r, y), cap in sorted(w.regional_firm_gw.items()):
        left = max(0.0, cap - drawn.get((r, y), 0.0))
        share = (o.plan["grid_draw_gw"].get((b, r, y), 0.0) + left) / cap if cap > 0 else 0.0
        if history is not None and y <= history:
            share = 1.0      # a year of reported history: what the buyer drew then is data, not a limit
        rows.append({"kind": "region", "name": r, "year": y, "share": _up(share),
                     "unit": "dimensionless", "source": source})
    return rows


def write_allocation(path: Path, rows: list[dict[str, Any]], rule: str, fingerprint: str) -> Path:
    """Write the allocation file (atomically: a temporary file renamed into place).

    ``fingerprint`` is :func:`model.inputs.allocation.world_fingerprint` of the inputs the world was solved
    on: a single-buyer run whose world differs re-solves the world instead of reading these shares.
    """
    tmp = Path(path).with_suffix(".csv.tmp")
    with tmp.open("w", newline="", encoding="utf-8") as f:
        f.write("# The default buyer's share of the world's shared supply per year, from the world run "
                f"(rule {rule}). Regenerate with: python run.py world --write-allocation\n"
                "# The single-buyer run reads it instead of the buyer_share rows; --set buyer_share.V=.. "
                "or grid_share.R=.. still overrides.\n"
                "# A run that changes what every buyer reads (the fingerprint below) re-solves the world "
                "instead (model/inputs/allocation.py).\n"
                f"# world: rule {rule}; fingerprint sha256:{fingerprint}\n")
        writer = csv.DictWriter(f, fieldnames=ALLOCATION_HEADER)
        writer.writeheader()
        writer.writerows(rows)
    tmp.replace(path)
    return Path(path)


def manifest(w: WorldInputs, o: WorldOutcome, argv: list[str], inputs_dir: str) -> dict[str, Any]:
    """The world set's manifest: the command line as typed (``run.py world ...``), the folder it ran in (input
    paths are relative to it), and the sha256 of every input file read (``run.py verify`` compares them)."""
    return {"kind": "world", "command_line": ["run.py", "world", *argv], "created": _dt.datetime.now(_dt.timezone.utc)
            .isoformat(timespec="seconds"), "scenario": w.name, "rule": o.rule, "sets": list(w.sets),
            "cwd": str(Path.cwd()), "inputs_dir": inputs_dir, "status": o.status, "timings_s": o.timings,
            "solver": o.solver, "lp_size": o.size, "input_files": w.input_files,
            "inputs_date": inputs_date(w.input_files), "packages": package_versions(),
            "code_sha256": code_sha256()}


def write_world_set(root: Path, name: str, w: WorldInputs, o: WorldOutcome, argv: list[str], year: int,
                    inputs_dir: str, plots: bool = True) -> Path:
    """Write the world run's result set atomically; returns its folder."""
    from model.world.page import render

    with new_result_dir(root, name) as tmp:
        summ = world_summary(w, o, year)
        man = manifest(w, o, argv, inputs_dir)
        (tmp / "summary.json").write_text(json.dumps(summ, indent=2, default=float), encoding="utf-8")
        (tmp / "tables").mkdir()
        (tmp / "plots").mkdir()
        for tname, df in world_tables(w, o).items():
            df.to_csv(tmp / "tables" / f"{tname}.csv", index=False)
        (tmp / "manifest.json").write_text(json.dumps(man, indent=2, default=str), encoding="utf-8")
        (tmp / "report.html").write_text(render(tmp, summ, man, plots), encoding="utf-8")
    return Path(root) / name
