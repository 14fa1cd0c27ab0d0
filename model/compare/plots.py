"""The comparison's plots: capacity by vendor per set, capacity, power and energy, cost."""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Sequence

import pandas as pd
import pint

from model import charts
from model.colours import colour
from model.names import name, project_names
from model.compare.figures import convert, shorten
from model.compare.sets import ResultSetView
from model.pages import PLOT_STYLE


def write_plots(views: Sequence[ResultSetView], gathered: dict[str, pd.DataFrame], out: Path) -> dict[str, Path]:
    """Side-by-side plots: capacity by vendor per set; capacity, power, energy; cost. Title -> file."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    images: dict[str, Path] = {}
    with plt.rc_context(PLOT_STYLE):
        for title, draw in (("IT capacity in service by chip vendor, per set", _vendor_plot),
                            ("Capacity, facility power and energy", _power_plot), ("Cost", _cost_plot)):
            path = draw(plt, views, gathered, out)
            if path is not None:
                images[title] = path
    return images


def _vendor_plot(plt: Any, views: Sequence[ResultSetView], gathered: dict[str, pd.DataFrame], out: Path) -> Path | None:
    """Stacked capacity by chip vendor, one panel per set, with the target line."""
    labels = [v.label for v in views]
    cap = gathered.get("capacity_by_vendor")
    if cap is None or not {"vendor", "year", "value"} <= set(cap.columns):
        return None
    present = [lab for lab in labels if lab in set(cap["set"])]
    vendors = (cap.groupby("vendor")["value"].sum().sort_values(ascending=False).index.tolist())
    vendor_colour = {v: colour("vendor", str(v)) for v in vendors}
    ncols = min(3, len(present))
    nrows = math.ceil(len(present) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.4 * ncols + 1.6, 3.4 * nrows), sharey=True,
                             squeeze=False)
    for ax in axes.flat[len(present):]:
        ax.set_visible(False)
    for ax, lab in zip(axes.flat, present):
        wide = cap[cap["set"] == lab].pivot_table(index="year", columns="vendor", values="value",
                                                   aggfunc="sum").reindex(columns=vendors).fillna(0.0)
        ax.stackplot(wide.index, [wide[v].values for v in vendors], colors=[vendor_colour[v] for v in vendors],
                     labels=vendors, alpha=0.92, lw=0)
        view = next(v for v in views if v.label == lab)
        t = view.summary.get("target") or {}
        if t.get("unit") == "GW":
            ax.axhline(t["value"], color="black", ls="--", lw=0.9)
        ax.set_title(shorten(lab, 34), loc="left", fontsize=10)
        ax.grid(alpha=0.3)
        ax.set_xlim(wide.index.min(), wide.index.max())
    axes[0][0].set_ylabel("GW of IT power in service")
    handles, names = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles[::-1], names[::-1], loc="center right", frameon=False)
    fig.suptitle("IT capacity in service by chip vendor", x=0.01, ha="left", fontweight="bold", fontsize=11)
    fig.tight_layout(rect=(0, 0, 1 - 1.3 / fig.get_size_inches()[0], 1))
    charts.save(fig, out / "capacity_by_vendor.png")
    return out / "capacity_by_vendor.png"


def _power_plot(plt: Any, views: Sequence[ResultSetView], gathered: dict[str, pd.DataFrame], out: Path) -> Path | None:
    """Capacity, facility power and energy by year, one line per set."""
    labels = [v.label for v in views]
    colours = plt.get_cmap("tab10")
    series = _yearly_series(views, gathered)
    if not series:
        return None
    titles = [("capacity", "IT capacity in service", "GW"), ("facility_power", "Facility power", "GW"),
              ("energy", "Facility energy", "TWh per year")]
    titles = [t for t in titles if t[0] in series]
    fig, axes = plt.subplots(1, len(titles), figsize=(4.3 * len(titles) + 0.5, 3.6), squeeze=False)
    for ax, (name, title, unit) in zip(axes[0], titles):
        for i, lab in enumerate(labels):
            s = series[name].get(lab)
            if s is not None:
                ax.plot(s.index, s.values, marker="o", ms=3, lw=1.6, color=colours(i % 10),
                        label=shorten(lab, 30), ls="-" if i == 0 else ("--" if i % 2 else "-."))
        ax.set_title(title, loc="left")
        ax.set_ylabel(unit)
        ax.grid(alpha=0.3)
    axes[0][0].legend(frameon=False, fontsize=8)
    fig.tight_layout()
    charts.save(fig, out / "power.png")
    return out / "power.png"


def _cost_plot(plt: Any, views: Sequence[ResultSetView], gathered: dict[str, pd.DataFrame], out: Path) -> Path | None:
    """Total discounted cost by part per set, and cash spent per year."""
    import numpy as np

    labels = [v.label for v in views]
    colours = plt.get_cmap("tab10")
    parts = _cost_parts(views)
    spending = _spending(views, gathered)
    if parts is not None or spending:
        n = (parts is not None) + bool(spending)
        fig, axes = plt.subplots(1, n, figsize=(6.0 * n, 3.8), squeeze=False)
        k = 0
        if parts is not None:
            ax = axes[0][k]
            k += 1
            bottom = np.zeros(len(parts.index))
            shown = project_names()
            for j, part in enumerate(parts.columns):
                vals = parts[part].values / 1e12
                ax.bar(range(len(parts.index)), vals, bottom=bottom, label=name("cost_part", str(part), shown),
                       color=plt.get_cmap("tab10")(j % 10))
                bottom += vals
            ax.set_xticks(range(len(parts.index)), [shorten(x, 18) for x in parts.index], rotation=20,
                          ha="right", fontsize=8)
            ax.set_ylabel("trillion USD (discounted)")
            ax.set_title("Total discounted cost by part", loc="left")
            ax.set_ylim(0, max(float(bottom.max()), 1e-9) * 1.3)
            ax.legend(frameon=False, fontsize=8, ncol=min(4, len(parts.columns)), loc="upper left")
            ax.grid(alpha=0.3, axis="y")
        if spending:
            ax = axes[0][k]
            for i, lab in enumerate(labels):
                s = spending.get(lab)
                if s is not None:
                    ax.plot(s.index, s.values / 1e9, marker="o", ms=3, lw=1.6, color=colours(i % 10),
                            label=shorten(lab, 30))
            ax.set_ylabel("billion USD per year")
            ax.set_title("Cash spent per year", loc="left")
            ax.legend(frameon=False, fontsize=8)
            ax.grid(alpha=0.3)
        fig.tight_layout()
        charts.save(fig, out / "cost.png")
        return out / "cost.png"
    return None


def _yearly_series(views: Sequence[ResultSetView],
                   gathered: dict[str, pd.DataFrame]) -> dict[str, dict[str, pd.Series]]:
    """Per set, per year: capacity in service (GW), facility power (GW), energy (TWh)."""
    out: dict[str, dict[str, pd.Series]] = {}
    for v in views:
        cap = v.summary.get("capacity_in_service")
        if isinstance(cap, dict) and cap:
            try:
                out.setdefault("capacity", {})[v.label] = pd.Series(
                    {int(y): convert(float(f["value"]), f["unit"], "GW") for y, f in cap.items()}).sort_index()
            except (KeyError, TypeError, ValueError, pint.DimensionalityError, pint.UndefinedUnitError):
                pass
    pw = gathered.get("power")
    if pw is not None and {"set", "year", "variable", "value", "unit"} <= set(pw.columns):
        for name, unit in (("facility_power", "GW"), ("energy", "TWh")):
            sub = pw[pw["variable"] == name]
            for lab, g in sub.groupby("set"):
                try:
                    vals = [convert(float(x), u, unit) for x, u in zip(g["value"], g["unit"])]
                except (pint.DimensionalityError, pint.UndefinedUnitError, ValueError):
                    continue
                out.setdefault(name, {})[str(lab)] = pd.Series(vals, index=g["year"].values).groupby(level=0).sum()
    return out


def _cost_parts(views: Sequence[ResultSetView]) -> pd.DataFrame | None:
    """Discounted cost by part (USD), sets as rows, parts as columns; from each summary's ``cost_by_part``."""
    rows = {}
    for v in views:
        parts = v.summary.get("cost_by_part")
        if isinstance(parts, dict) and parts:
            try:
                rows[v.label] = {p: convert(float(f["value"]), f["unit"], "USD") for p, f in parts.items()}
            except (KeyError, TypeError, ValueError, pint.DimensionalityError, pint.UndefinedUnitError):
                continue
    if not rows:
        return None
    return pd.DataFrame.from_dict(rows, orient="index").fillna(0.0)


def _spending(views: Sequence[ResultSetView], gathered: dict[str, pd.DataFrame]) -> dict[str, pd.Series]:
    out = {}
    for v in views:
        sp = v.summary.get("spending")
        if isinstance(sp, dict) and sp:
            try:
                out[v.label] = pd.Series({int(y): convert(float(f["value"]), f["unit"], "USD")
                                          for y, f in sp.items()}).sort_index()
            except (KeyError, TypeError, ValueError, pint.DimensionalityError, pint.UndefinedUnitError):
                continue
    return out
