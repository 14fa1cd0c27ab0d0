"""Plots of the energy and money read-out: power by source and region, energy against references,
spending against funding."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import xarray as xr  # noqa: E402

from model import charts  # noqa: E402
from model.colours import colour  # noqa: E402
from model.scenario import Scenario  # noqa: E402


def _label_positions(values: list[float], gap: float) -> list[float]:
    """Heights for labels of horizontal lines at ``values`` (sorted high to low), at least ``gap`` apart."""
    out: list[float] = []
    for v in values:
        out.append(min(v, out[-1] - gap) if out else v)
    return out


def write_energy_plots(ds: xr.Dataset, summary: dict[str, Any], out: Path, s: Scenario) -> dict[str, Path]:
    """Write the three energy-and-money plots; returns title -> file (none without a plan)."""
    if "in_service_gw" not in ds:
        return {}
    years = ds.year.values
    images: dict[str, Path] = {}

    # 1. firm power used by kind against the facility power drawn (by region: see the report's power plot)
    fig, ax = plt.subplots(figsize=(8, 4.3))
    facility = ds["facility_power_gw"].sum("region").values
    grid_used = np.minimum(ds["grid_power_gw"].where(ds["it_power_gw"] > 0, 0).sum("region").values, facility)
    layers = {"existing grid": grid_used}
    if "power_in_service_gw" in ds:
        credit = xr.DataArray([s.capacity_credit.get(p, 1.0) for p in ds.power_source.values], dims="power_source",
                              coords={"power_source": ds.power_source.values})
        firm = (ds["power_in_service_gw"] * credit).groupby("power_kind").sum()
        for k in firm.power_kind.values:
            layers[str(k)] = firm.sel(power_kind=k).values
    keys = [k for k in layers if np.any(layers[k] > 1e-9)]
    if keys:
        ax.stackplot(years, [layers[k] for k in keys], labels=[k.replace("_", " + ") for k in keys],
                     colors=[colour("power_kind", k) for k in keys], alpha=0.9)
    ax.plot(years, facility, color="black", lw=1.5, label="facility power drawn")
    ax.set_title("Firm power by source (capacity credit applied)")
    ax.set_ylabel("GW")
    ax.legend(loc="upper left", fontsize=8, frameon=False)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    charts.save(fig, out / "power_by_source.png")
    images["Power by source"] = out / "power_by_source.png"

    # 2. energy per year against reference figures
    fig, ax = plt.subplots(figsize=(9.5, 4.3))
    energy = ds["energy_twh"].sum("region").values
    ax.bar(years, energy, color="#4c72b0", label="facility energy of the plan")
    refs = sorted(s.reference_energy_twh.items(), key=lambda kv: -kv[1])
    top = max([float(np.max(energy)) if len(energy) else 0.0] + [v for _, v in refs] + [1e-9]) * 1.08
    ax.set_ylim(0, top)
    # labels to the right of the plot, pushed apart so that none overlaps (lines at close values)
    label_y = _label_positions([v for _, v in refs], 0.055 * top)
    for (name, value), y, style in zip(refs, label_y, ["--", ":", "-.", (0, (5, 1)), (0, (1, 3))] * 4):
        ax.axhline(value, color="#c44e52", ls=style, lw=1)
        words = name.replace("_", " ")
        words = " ".join("US" if w == "us" else w for w in words.split())
        ax.annotate(f"{words[:1].upper() + words[1:]}: {value:,.0f} TWh", xy=(1.0, value),
                    xycoords=("axes fraction", "data"), xytext=(1.02, y), textcoords=("axes fraction", "data"),
                    fontsize=7.5, color="#8b1e22", va="center",
                    arrowprops={"arrowstyle": "-", "color": "#c44e52", "lw": 0.6})
    ax.set_ylabel("TWh per year")
    ax.set_title("Energy per year against reference figures")
    ax.grid(alpha=0.3, axis="y")
    fig.tight_layout(rect=(0, 0, 0.77, 1))
    charts.save(fig, out / "energy_vs_references.png")
    images["Energy against references"] = out / "energy_vs_references.png"

    # 3. spending against funding
    fig, ax = plt.subplots(figsize=(8, 4.3))
    spend = ds["spending_usd"].values / 1e9
    fund = ds["funding_usd"].values / 1e9
    width = 0.4
    ax.bar(years - width / 2, spend, width, color="#c44e52", label="spending")
    ax.bar(years + width / 2, fund, width, color="#55a868", label="funding before borrowing")
    ax.plot(years, ds["debt_usd"].values / 1e9, color="black", marker="o", lw=1, label="debt at year end")
    gap = summary.get("funding_gap", {})
    if gap.get("value"):
        from model import fmt

        ax.set_title(f"Spending against funding (largest gap {fmt.figure(gap)} by {gap.get('year', '')})")
    else:
        ax.set_title("Spending against funding")
    ax.set_ylabel("billion USD")
    ax.legend(fontsize=8, frameon=False)
    ax.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    charts.save(fig, out / "spending_vs_funding.png")
    images["Spending against funding"] = out / "spending_vs_funding.png"
    return images
