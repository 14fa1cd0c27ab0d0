"""Plots of a plan and the hook that writes its page, ``report.html``.

The page itself is rendered from the result set on disk by
:mod:`model.pages.plan` (Jinja2 templates in ``model/templates``); numbers go
through :mod:`model.fmt` and colours through :mod:`model.colours`, so the
terminal, every page and every plot agree. This module draws the plan's plots
(capacity by chip vendor, host and region; facility power and energy; costs;
binding limits), writes the display names of the set (``tables/names.csv``)
and keeps the small HTML helpers and the override read-out that
:mod:`model.compare` shares.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import xarray as xr  # noqa: E402

from model import charts  # noqa: E402
from model import fmt  # noqa: E402
from model.colours import colour  # noqa: E402
from model.names import humaniser, name, scenario_names, write_names_csv  # noqa: E402
from model.pages import PLOT_STYLE  # noqa: E402
from model.scenario import Scenario  # noqa: E402


# ----------------------------------------------------------------------------
# Plots
# ----------------------------------------------------------------------------
def _top(series: dict[str, np.ndarray], n: int = 10) -> dict[str, np.ndarray]:
    """The ``n - 1`` largest series by total, the rest summed as "other" (a legend a person can read)."""
    if len(series) <= n:
        return series
    ranked = sorted(series, key=lambda k: -float(np.sum(series[k])))
    out = {k: series[k] for k in ranked[: n - 1]}
    out["other"] = np.sum([series[k] for k in ranked[n - 1:]], axis=0)
    return out


def _stacked(ax, years, series: dict[str, np.ndarray], kind: str, names: dict[str, str] | None = None) -> None:
    """Stacked areas by id, largest at the bottom, one colour per id (``inputs/colours.csv``), legend outside."""
    names = names or {}
    series = _top(series)
    keys = sorted((k for k in series if np.any(series[k] > 1e-9)), key=lambda k: -float(np.sum(series[k])))
    if not keys:
        ax.text(0.5, 0.5, "nothing in service", ha="center", transform=ax.transAxes)
        return
    ax.stackplot(years, [series[k] for k in keys], labels=[names.get(k, k) for k in keys],
                 colors=[colour(kind, k) for k in keys], alpha=0.95, lw=0)
    handles, labels = ax.get_legend_handles_labels()
    ax.legend(handles[::-1], labels[::-1], loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    ax.grid(alpha=0.3)
    ax.set_xlim(years[0], years[-1])
    ax.set_ylim(bottom=0)


def _target_line(ax, summary: dict[str, Any]) -> None:
    t = summary.get("target", {})
    if t.get("unit") == "GW" and summary.get("objective") != "max-capacity":   # no target asked when maximising
        ax.axhline(t["value"], color="black", ls="--", lw=1)
        ax.axvline(summary["target_year"], color="black", ls=":", lw=1)
        ax.annotate(f"target {fmt.figure(t)} by {summary['target_year']}", (summary["target_year"], t["value"]),
                    textcoords="offset points", xytext=(-4, 5), ha="right", fontsize=8)
        ax.set_ylim(top=max(ax.get_ylim()[1], t["value"] * 1.08))


def write_plots(ds: xr.Dataset, summary: dict[str, Any], out: Path,
                names: dict[str, dict[str, str]] | None = None) -> dict[str, Path]:
    """Write the plots of a plan; returns title -> file.

    Parameters
    ----------
    ds : xr.Dataset
        The plan (:func:`model.solution.to_dataset`); without ``in_service_gw`` nothing is drawn.
    summary : dict
        The set's headline figures (for the target line and binding limits).
    out : Path
        Folder the PNG files go to.
    names : dict, optional
        Display names by id for a coordinate (``{"vendor": {"nvidia": "NVIDIA"}, ...}``).
    """
    names = names or {}
    images: dict[str, Path] = {}
    if "in_service_gw" not in ds:
        return images
    years = ds.year.values
    with plt.rc_context(PLOT_STYLE):
        for coord, kind, fname, title in (
            ("vendor", "vendor", "capacity_by_vendor.png", "IT capacity in service by chip vendor"),
            ("host", "host", "capacity_by_host.png", "IT capacity in service by host"),
            ("offer_region", "region", "capacity_by_region.png", "IT capacity in service by region"),
        ):
            g = ds["in_service_gw"].groupby(coord).sum()
            fig, ax = plt.subplots(figsize=(9, 3.9))
            _stacked(ax, years, {str(k): g.sel({coord: k}).values for k in g[coord].values}, kind,
                     names.get(kind, {}))
            _target_line(ax, summary)
            ax.set_ylabel("GW of IT power")
            ax.set_title(title, loc="left")
            fig.tight_layout()
            charts.save(fig, out / fname)
            images[title] = out / fname

        fig, axes = plt.subplots(1, 2, figsize=(11, 3.9), gridspec_kw={"width_ratios": [1.5, 1]})
        fp, grid = ds["facility_power_gw"], ds["grid_power_gw"]
        _stacked(axes[0], years, {str(r): fp.sel(region=r).values for r in ds.region.values}, "region",
                 names.get("region", {}))
        axes[0].plot(years, grid.sum("region").values, color="black", lw=1.2, ls="--",
                     label="grid available (all regions)")
        top = max(float(grid.sum("region").max()), float(fp.sum("region").max()), 1e-6)
        axes[0].set_ylim(0, top * 1.05)
        handles, labels = axes[0].get_legend_handles_labels()
        axes[0].legend(handles, labels, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=7)
        axes[0].set_ylabel("GW of facility power")
        axes[0].set_title("Facility power by region", loc="left")
        axes[1].bar(years, ds["energy_twh"].sum("region").values, color="#4c72b0")
        axes[1].set_ylabel("TWh per year")
        axes[1].set_title("Facility energy used", loc="left")
        axes[1].grid(alpha=0.3, axis="y")
        fig.tight_layout()
        charts.save(fig, out / "power_and_energy.png")
        images["Facility power and energy"] = out / "power_and_energy.png"

        fig, ax = plt.subplots(figsize=(9, 3.9))
        bottom = np.zeros(len(years))
        for i, part in enumerate(ds.cost_part.values):
            v = ds["cost_usd"].sel(cost_part=part).values / 1e9
            ax.bar(years, v, bottom=bottom, label=name("cost_part", str(part), names), color=_PART_COLOURS[i % len(_PART_COLOURS)])
            bottom += v
        ax.plot(years, ds["spending_usd"].values / 1e9, color="black", marker="o", lw=1, label="cash spent")
        ax.set_ylabel("billion USD per year")
        ax.set_title("Yearly cost by part (purchases as annuities) and cash spent", loc="left")
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
        ax.grid(alpha=0.3, axis="y")
        fig.tight_layout()
        charts.save(fig, out / "costs.png")
        images["Costs"] = out / "costs.png"

        path = _binding_plot(summary, out, names)
        if path is not None:
            images["Binding limits"] = path
    return images


_PART_COLOURS = ("#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860", "#da8bc3", "#8c8c8c")


def _binding_plot(summary: dict[str, Any], out: Path, names: dict[str, dict[str, str]]) -> Path | None:
    """The 15 costliest binding limits in USD/GW (targets apart), each with a label that tells it apart."""
    from model.pages.plan import TARGET_FAMILIES, binding_frame

    if summary.get("status") != "optimal" or summary.get("objective") == "max-capacity":
        return None     # shadow prices in USD/GW of a least-cost plan only (the page shows the others in tables)
    regions = list((summary.get("capacity_by_region") or {}).keys())
    limits = [b for b in binding_frame(summary.get("binding") or [], regions, names)
              if b["family"] not in TARGET_FAMILIES and b["unit"] == "USD/GW"][:15]
    if not limits:
        return None
    import textwrap

    words = humaniser(names)
    labels = [textwrap.fill(_shorten(words(b["label"]), 90), 46) for b in limits]
    lines = sum(label.count("\n") + 1 for label in labels)
    fig, ax = plt.subplots(figsize=(9, 0.27 * lines + 0.12 * len(limits) + 1.3))
    vals = [abs(b["value"]) / 1e9 for b in limits]
    ax.barh(range(len(limits)), vals, color="#c44e52")
    ax.set_yticks(range(len(limits)), labels)
    ax.invert_yaxis()
    ax.set_xlabel("billion USD saved per GW more room in the limit")
    fig.suptitle("Binding limits by shadow price", x=0.01, ha="left", fontweight="bold")
    ax.grid(alpha=0.3, axis="x")
    fig.tight_layout()
    charts.save(fig, out / "binding.png")
    return out / "binding.png"


def _shorten(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"



# ----------------------------------------------------------------------------
# The report
# ----------------------------------------------------------------------------
def display_names(s: Scenario) -> dict[str, dict[str, str]]:
    """Display names of a scenario by kind and id (``model.names``), vendors and hosts included."""
    return scenario_names(s)


def write_names(folder: Path, s: Scenario) -> Path:
    """``tables/names.csv`` (``kind,id,name``): display names of every kind (``model.names``), for the pages."""
    (folder / "tables").mkdir(exist_ok=True)
    return write_names_csv(folder / "tables" / "names.csv", display_names(s))


def write_report(folder: Path, summary: dict[str, Any], images: dict[str, Path], s: Scenario,
                 manifest: dict[str, Any] | None = None) -> Path:
    """Write ``report.html`` of a plan's result set (rendered from the set on disk by :mod:`model.pages.plan`).

    Parameters
    ----------
    folder : Path
        The result set's folder, with ``summary.json``, ``tables/*.csv`` and ``plots/*.png`` written.
    summary, images :
        Kept for callers; the page reads the set's files.
    s : Scenario
        The scenario run (display names of vendors, hosts and regions go to ``tables/names.csv``).
    manifest : dict, optional
        The set's manifest when ``manifest.json`` is not written yet.

    Returns
    -------
    Path
        ``folder / "report.html"``.
    """
    from model import pages

    write_names(Path(folder), s)
    return pages.write("plan", Path(folder), "report.html", manifest=manifest)
