"""Plots and the one-page report of a result set."""
from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import xarray as xr  # noqa: E402

from model.scenario import Scenario  # noqa: E402

PALETTE = {"nvidia": "#76b900", "amd": "#ed1c24", "broadcom": "#cc092f", "google": "#4285f4", "aws": "#ff9900",
           "cerebras": "#6b4fbb"}


def _top(series: dict[str, np.ndarray], n: int = 10) -> dict[str, np.ndarray]:
    """The ``n - 1`` largest series by total, the rest summed as "other" (a legend a person can read)."""
    if len(series) <= n:
        return series
    ranked = sorted(series, key=lambda k: -float(np.sum(series[k])))
    out = {k: series[k] for k in ranked[: n - 1]}
    out["other"] = np.sum([series[k] for k in ranked[n - 1:]], axis=0)
    return out


def _stacked(ax, years, series: dict[str, np.ndarray], colours: dict[str, str] | None = None) -> None:
    series = _top(series)
    keys = [k for k in series if np.any(series[k] > 1e-9)]
    if not keys:
        ax.text(0.5, 0.5, "nothing in service", ha="center", transform=ax.transAxes)
        return
    cmap = plt.get_cmap("tab20")
    cols = [(colours or {}).get(k, cmap(i % 20)) for i, k in enumerate(keys)]
    ax.stackplot(years, [series[k] for k in keys], labels=keys, colors=cols, alpha=0.9)
    ax.legend(loc="upper left", fontsize=8, ncol=2, frameon=False)
    ax.grid(alpha=0.3)
    ax.set_xlim(years[0], years[-1])


def _target_line(ax, summary: dict[str, Any]) -> None:
    t = summary.get("target", {})
    if t.get("unit") == "GW":
        ax.axhline(t["value"], color="black", ls="--", lw=1)
        ax.axvline(summary["target_year"], color="black", ls=":", lw=1)
        ax.annotate(f"target {t['value']:g} GW by {summary['target_year']}", (summary["target_year"], t["value"]),
                    textcoords="offset points", xytext=(-150, 6), fontsize=8)


def write_plots(ds: xr.Dataset, summary: dict[str, Any], out: Path,
                names: dict[str, dict[str, str]] | None = None) -> dict[str, Path]:
    """Write the plots of a plan; returns title -> file.

    ``names`` maps a coordinate (``vendor``, ``host``) to display names by id.
    """
    names = names or {}
    images: dict[str, Path] = {}
    if "in_service_gw" not in ds:
        return images
    years = ds.year.values
    for coord, fname, title, colours in (
        ("vendor", "capacity_by_vendor.png", "IT capacity in service by chip vendor", PALETTE),
        ("host", "capacity_by_host.png", "IT capacity in service by host", None),
        ("offer_region", "capacity_by_region.png", "IT capacity in service by region", None),
    ):
        g = ds["in_service_gw"].groupby(coord).sum()
        fig, ax = plt.subplots(figsize=(8, 4.2))
        label = names.get(coord, {})
        _stacked(ax, years, {label.get(str(k), str(k)): g.sel({coord: k}).values for k in g[coord].values},
                 {label.get(k, k): c for k, c in (colours or {}).items()})
        _target_line(ax, summary)
        ax.set_ylabel("GW (IT)")
        ax.set_title(title)
        fig.tight_layout()
        fig.savefig(out / fname, dpi=110)
        plt.close(fig)
        images[title] = out / fname

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    fp, grid = ds["facility_power_gw"], ds["grid_power_gw"]
    _stacked(axes[0], years, {str(r): fp.sel(region=r).values for r in ds.region.values})
    axes[0].plot(years, grid.sum("region").values, color="black", lw=1.2, ls="--", label="grid available (all regions)")
    axes[0].set_ylabel("GW (facility)")
    axes[0].set_title("Facility power by region")
    axes[0].legend(loc="upper left", fontsize=7, ncol=2, frameon=False)
    axes[1].bar(years, ds["energy_twh"].sum("region").values, color="#4c72b0")
    axes[1].set_ylabel("TWh per year")
    axes[1].set_title("Facility energy used")
    axes[1].grid(alpha=0.3, axis="y")
    fig.tight_layout()
    fig.savefig(out / "power_and_energy.png", dpi=110)
    plt.close(fig)
    images["Facility power and energy"] = out / "power_and_energy.png"

    fig, ax = plt.subplots(figsize=(8, 4.2))
    bottom = np.zeros(len(years))
    for part in ds.cost_part.values:
        v = ds["cost_usd"].sel(cost_part=part).values / 1e9
        ax.bar(years, v, bottom=bottom, label=str(part))
        bottom += v
    ax.plot(years, ds["spending_usd"].values / 1e9, color="black", marker="o", lw=1, label="cash spent")
    ax.set_ylabel("billion USD per year")
    ax.set_title("Yearly cost by part (purchases as annuities) and cash spent")
    ax.legend(fontsize=8, frameon=False)
    ax.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    fig.savefig(out / "costs.png", dpi=110)
    plt.close(fig)
    images["Costs"] = out / "costs.png"

    binding = [b for b in summary.get("binding", []) if not b["name"].startswith("target")
               and b["shadow_price"]["unit"] == "USD/GW"][:15]
    if binding:
        fig, ax = plt.subplots(figsize=(8, 0.35 * len(binding) + 1.2))
        vals = [abs(b["shadow_price"]["value"]) / 1e9 for b in binding]
        ax.barh(range(len(binding)), vals, color="#c44e52")
        ax.set_yticks(range(len(binding)), [b["name"] for b in binding], fontsize=8)
        ax.invert_yaxis()
        ax.set_xlabel("cost saved by one more GW of the limit (billion USD / GW)")
        ax.set_title("Binding limits (shadow prices)")
        ax.grid(alpha=0.3, axis="x")
        fig.tight_layout()
        fig.savefig(out / "binding.png", dpi=110)
        plt.close(fig)
        images["Binding limits"] = out / "binding.png"
    return images


def shadow_text(price: dict[str, Any]) -> str:
    """A shadow price as a person reads it: ``-25.5 billion USD/GW``."""
    v, u = price["value"], price["unit"]
    if u.startswith("USD/") and u != "USD/USD" and abs(v) >= 1e6:
        return f"{v / 1e9:,.3g} billion {u}" if abs(v) >= 1e9 else f"{v / 1e6:,.3g} million {u}"
    return f"{v:.4g} {u}"


def _fmt(fig: dict[str, Any]) -> str:
    v, u = fig["value"], fig["unit"]
    if u == "USD":
        if abs(v) >= 1e12:
            return f"{v / 1e12:,.2f} trillion USD"
        return f"{v / 1e9:,.1f} billion USD"
    if u == "FLOP/s":
        return f"{v:.3g} FLOP/s"
    return f"{v:,.2f} {u}"


def write_report(folder: Path, summary: dict[str, Any], images: dict[str, Path], s: Scenario) -> Path:
    """A self-contained ``report.html`` (plots inlined, no network needed)."""
    e = html.escape
    head = [("Status", e(summary["status"])), ("Target", f"{_fmt(summary['target'])} by {summary['target_year']}")]
    if "max_reachable" in summary:
        head.append(("Largest reachable", _fmt(summary["max_reachable"])))
    if "total_cost" in summary:
        ty = str(summary["target_year"])
        head += [("Total discounted cost", _fmt(summary["total_cost"])),
                 (f"Capacity in service {ty}", _fmt(summary["capacity_in_service"][ty])),
                 (f"Facility power {ty}", _fmt(summary["facility_power"])),
                 (f"Energy {ty}", _fmt(summary["energy"]))]
    rows = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in head)
    parts = [f"<h1>Compute plan: {e(s.name)}</h1>", f"<p>{e(summary.get('message', ''))}</p>",
             f"<table class='kv'>{rows}</table>"]
    for title, path in images.items():
        data = base64.b64encode(path.read_bytes()).decode()
        parts.append(f"<h2>{e(title)}</h2><img alt='{e(title)}' src='data:image/png;base64,{data}'>")
    if summary.get("binding"):
        lines = "".join(f"<tr><td>{e(b['name'])}</td><td>{e(shadow_text(b['shadow_price']))}"
                        f"</td><td>{e(b['meaning'])}</td></tr>" for b in summary["binding"])
        parts.append(f"<h2>Binding limits</h2><table><tr><th>limit</th><th>shadow price</th><th>meaning</th></tr>{lines}</table>")
    if summary.get("conflicts"):
        lines = "".join(f"<li>{e(c['meaning'])}</li>" for c in summary["conflicts"])
        parts.append(f"<h2>Conflicting limits</h2><ul>{lines}</ul>")
    if s.overrides:
        lines = "".join(f"<li>{e(o.origin)}: {e(o.action)} {e(o.target)} {e(o.detail)} ({e(o.source)})</li>"
                        for o in s.overrides)
        parts.append(f"<h2>Inputs that differ from the base data</h2><ul>{lines}</ul>")
    style = ("body{font-family:sans-serif;max-width:1000px;margin:2em auto;color:#222}"
             "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;"
             "text-align:left;font-size:90%}img{max-width:100%}")
    page = (f"<!doctype html><html><head><meta charset='utf-8'><title>Compute plan {e(s.name)}</title>"
            f"<style>{style}</style></head><body>{''.join(parts)}</body></html>")
    out = folder / "report.html"
    out.write_text(page)
    return out
