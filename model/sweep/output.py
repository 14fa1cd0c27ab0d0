"""The sweep's result set: tables, ``solution.nc`` with a ``case`` dimension, sensitivity tables, plots and the page."""
from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from model import fmt

from model.fastsolve import target_kind
from model.scenario import Scenario
from model.sensitivity import correlation_table, morris_table, sobol_table, tornado_table
from model.sweep.keys import Vary
from model.sweep.runner import ANALYSED, CaseResult


def figure_units(kind: str) -> dict[str, str]:
    """Units of the headline figures for a power or a compute target."""
    return {"total_cost": "USD", "capacity_in_service": "GW", "compute_in_service": "FLOP/s",
            "facility_power": "GW", "energy": "TWh", "max_reachable": "GW" if kind == "power" else "FLOP/s",
            "marginal_cost_of_target": "USD/GW" if kind == "power" else "USD/(FLOP/s)"}


def tables_of(results: Sequence[CaseResult], cases: Sequence[Mapping[str, float]], varies: Sequence[Vary],
              kind: str) -> dict[str, Any]:
    """cases.csv, summary.csv and status.csv as DataFrames (tidy, with units)."""
    import pandas as pd

    units = figure_units(kind)
    case_rows = []
    for i, c in enumerate(cases):
        for v in varies:
            case_rows.append({"case": i, "key": v.key, "value": c.get(v.key, math.nan),
                              "unit": v.unit or "dimensionless",
                              "origin": "swept" if v.key in c else "base data"})
    summary_rows, status_rows = [], []
    for r in results:
        status_rows.append({"case": r.case, "status": r.status, "message": r.message, "inputs": r.inputs,
                            "path": r.path, "note": r.note, "seconds": r.seconds})
        for name, value in r.figures.items():
            fig, _, group = name.partition(":")
            fig = "capacity_by_vendor" if fig == "capacity_by_vendor" else fig
            summary_rows.append({"case": r.case, "status": r.status, "figure": fig, "group": group,
                                 "value": value, "unit": units.get(fig, "GW")})
        if not r.figures:
            for fig, unit in units.items():
                summary_rows.append({"case": r.case, "status": r.status, "figure": fig, "group": "",
                                     "value": math.nan, "unit": unit})
    return {
        "cases": pd.DataFrame(case_rows, columns=["case", "key", "value", "unit", "origin"]),
        "summary": pd.DataFrame(summary_rows, columns=["case", "status", "figure", "group", "value", "unit"]),
        "status": pd.DataFrame(status_rows, columns=["case", "status", "message", "inputs", "path", "note",
                                                     "seconds"]),
    }


def dataset_of(results: Sequence[CaseResult], cases: Sequence[Mapping[str, float]], varies: Sequence[Vary],
               reference: Scenario, attrs: Mapping[str, Any]) -> Any:
    """``solution.nc``: the plans of every case along a ``case`` dimension, with units in attrs."""
    import xarray as xr

    from model.solution import offer_coords

    offers, years, regions = list(reference.offers), list(reference.years), list(reference.regions)
    n = len(results)
    kind = target_kind(reference)[0]
    units = figure_units(kind)
    ins = np.full((n, len(offers), len(years)), np.nan)
    build = np.full_like(ins, np.nan)
    fac = np.full((n, len(regions), len(years)), np.nan)
    figs = {k: np.full(n, np.nan) for k in units}
    for i, r in enumerate(results):
        if r.in_service is not None:
            ins[i], build[i], fac[i] = r.in_service, r.build, r.facility
        for k in units:
            figs[k][i] = r.figures.get(k, np.nan)
    data = {
        "in_service_gw": (("case", "offer", "year"), ins, {"units": "GW", "long_name": "IT capacity in service"}),
        "build_gw": (("case", "offer", "year"), build, {"units": "GW", "long_name": "IT capacity added in the year"}),
        "facility_power_gw": (("case", "region", "year"), fac, {"units": "GW", "long_name": "facility power (IT x PUE)"}),
        "status": (("case",), np.array([r.status for r in results], dtype=object), {"long_name": "solve status"}),
        "input_value": (("case", "input"), np.array([[c.get(v.key, np.nan) for v in varies] for c in cases],
                                                     dtype=float).reshape(n, len(varies)),
                        {"long_name": "swept input values (NaN: the base data); units in input_unit"}),
    }
    for k, u in units.items():
        data[k] = (("case",), figs[k], {"units": u, "long_name": k.replace("_", " ") + " (target year)"})
    ds = xr.Dataset(data, coords={"case": [r.case for r in results], "offer": offers, "year": years,
                                  "region": regions, "input": [v.key for v in varies],
                                  "input_unit": ("input", [v.unit or "dimensionless" for v in varies]),
                                  **offer_coords(reference)})
    ds.attrs.update({k: (json.dumps(v) if isinstance(v, (dict, list)) else v) for k, v in attrs.items()})
    return ds


def write_sweep_set(root: Path, name: str, *, method: str, varies: Sequence[Vary], cases: Sequence[Mapping[str, float]],
                    results: Sequence[CaseResult], reference: Scenario, manifest: dict[str, Any], seed: int,
                    levels: int, plots: bool = True) -> Path:
    """Write the sweep's result set into a temporary folder and rename it into place (never overwriting).

    Raises
    ------
    ResultSetError
        If ``root/name`` exists.
    """
    from model import __version__, pages
    from model.resultdir import new_result_dir

    final = Path(root) / name
    with new_result_dir(root, name) as tmp:
        kind, ty, _ = target_kind(reference)
        units = figure_units(kind)
        tabs = tables_of(results, cases, varies, kind)
        for tname, df in tabs.items():
            df.to_csv(tmp / f"{tname}.csv", index=False)
        attrs = {"scenario": reference.name, "method": method, "seed": seed, "target_year": ty,
                 "target_kind": kind, "input_sha256": reference.input_files, "model_version": __version__,
                 "Conventions": "CF-1.8"}
        ds = dataset_of(results, cases, varies, reference, attrs)
        ds.to_netcdf(tmp / "solution.nc")
        analysed = {k: np.array([r.figures.get(k, math.nan) for r in results]) for k in ANALYSED}
        input_units = {v.key: v.unit for v in varies}
        sens = sensitivity_tables(method, varies, cases, analysed, units, seed, levels)
        for tname, df in sens.items():
            df.to_csv(tmp / f"{tname}.csv", index=False)
        if plots:
            (tmp / "plots").mkdir()
            sweep_plots(tmp / "plots", method, varies, cases, results, analysed, units, sens, input_units,
                                 reference)
            pages.write("sweep", tmp, "report.html", manifest=manifest)
        manifest = {**manifest, "files": sorted(p.name for p in tmp.iterdir()) + ["manifest.json"]}
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str) + "\n")
    return final


def sensitivity_tables(method: str, varies: Sequence[Vary], cases: Sequence[Mapping[str, float]],
                       analysed: Mapping[str, np.ndarray], units: Mapping[str, str], seed: int,
                       levels: int) -> dict[str, Any]:
    """The method's sensitivity tables: oat (tornado), sobol, morris; rank correlations for the others."""
    bounds = {v.key: (v.low, v.high) for v in varies}
    out: dict[str, Any] = {}
    if method == "oat":
        out["oat"] = tornado_table(cases, analysed, units, {v.key: v.unit for v in varies})
        return out
    if method == "sobol":
        out["sobol"] = sobol_table(bounds, analysed, units, seed)
    if method == "morris":
        x = np.array([[c[v.key] for v in varies] for c in cases], dtype=float)
        out["morris"] = morris_table(bounds, x, analysed, units, seed, levels)
    x = {v.key: np.array([c.get(v.key, np.nan) for c in cases], dtype=float) for v in varies}
    out["correlations"] = correlation_table(x, analysed, units)
    return out


def sweep_plots(folder: Path, method: str, varies: Sequence[Vary], cases: Sequence[Mapping[str, float]],
                results: Sequence[CaseResult], analysed: Mapping[str, np.ndarray], units: Mapping[str, str],
                sens: Mapping[str, Any], input_units: Mapping[str, str], reference: Scenario) -> dict[str, Path]:
    """The sweep's plots; returns title -> file."""
    from model.sensitivity import plot_distributions, plot_effects, plot_fan, plot_morris, plot_sobol, plot_tornado

    images: dict[str, Path] = {}

    def add(title: str, make: Callable[[], Path | None]) -> None:
        try:
            path = make()
        except Exception as exc:  # noqa: BLE001 -- a plot must never cost the sweep its results; said below
            print(f"  note: plot '{title}' failed: {type(exc).__name__}: {exc}", file=sys.stderr)
            return
        if path is not None:
            images[title] = path

    if "oat" in sens:
        add("Tornado: each input alone from low to high", lambda: plot_tornado(sens["oat"], folder))
    if "sobol" in sens:
        add("Sobol indices (first order and total, 95 % intervals)", lambda: plot_sobol(sens["sobol"], folder))
    if "morris" in sens:
        add("Morris screening (mu* and sigma)", lambda: plot_morris(sens["morris"], folder))
    add("Distributions of cost and capacity over the cases", lambda: plot_distributions(
        {k: analysed[k] for k in ("total_cost", "capacity_in_service")}, units, folder))
    if method != "oat":
        x = {v.key: np.array([c.get(v.key, np.nan) for c in cases], dtype=float) for v in varies}
        status = [r.status for r in results]
        add("Total cost against each input", lambda: plot_effects(
            x, analysed["total_cost"], "total_cost", units["total_cost"], status, folder, input_units))
        add("Capacity in service (target year) against each input", lambda: plot_effects(
            x, analysed["capacity_in_service"], "capacity_in_service", "GW", status, folder, input_units))
    cap = np.array([r.in_service.sum(axis=0) if r.in_service is not None else np.full(len(reference.years), np.nan)
                    for r in results])
    t = reference.main_target
    kind, ty, _ = target_kind(reference)
    add("Capacity in service by year over the cases",
        lambda: plot_fan(list(reference.years), cap, folder, (t.value, ty) if kind == "power" else None))
    return images


def _range_text(v: Vary) -> str:
    unit = f" {v.unit}" if v.unit else ""
    if v.distribution is None:
        return f"{fmt.sig(v.low, 6)} .. {fmt.sig(v.high, 6)}{unit}"
    params = ", ".join(f"{k} {fmt.sig(x, 6)}" for k, x in v.distribution.params.items())
    return f"{v.distribution.kind} ({params}){unit}"
