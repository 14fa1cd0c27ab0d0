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

import base64
import csv
import html
import re
from pathlib import Path
from typing import Any, Iterable, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import xarray as xr  # noqa: E402

from model import fmt  # noqa: E402
from model.colours import colour  # noqa: E402
from model.pages import PLOT_STYLE as _PLOT_STYLE, STATUS_STYLE  # noqa: E402,F401
from model.scenario import Scenario  # noqa: E402


class _VendorColours(dict):
    """Vendor colours from ``inputs/colours.csv``; ``PALETTE.get(v, x)`` always answers the one colour of ``v``."""

    def get(self, key: Any, default: Any = None) -> str:  # noqa: ARG002 - the file's colour wins over a default
        return colour("vendor", str(key))

    def __getitem__(self, key: Any) -> str:
        return colour("vendor", str(key))

    def __contains__(self, key: object) -> bool:
        return True


#: Colours of chip vendors (kept for modules that import it; see :mod:`model.colours`).
PALETTE = _VendorColours()


# ----------------------------------------------------------------------------
# Numbers and words: one formatting module (kept names for the modules that import them)
# ----------------------------------------------------------------------------
def shadow_text(price: dict[str, Any]) -> str:
    """A shadow price as a person reads it: ``-25.5 billion USD/GW``."""
    return fmt.shadow_price(price)


def _fmt(fig: dict[str, Any]) -> str:
    """A figure for the terminal: ``7.29 trillion USD``, ``250 GW``."""
    return fmt.figure(fig)


def human(value: Any, unit: str = "") -> str:
    """A number with its unit as a person reads it (:func:`model.fmt.quantity`)."""
    return fmt.quantity(value, unit)


_sig = fmt.sig


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
    if t.get("unit") == "GW":
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
    with plt.rc_context(_PLOT_STYLE):
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
            fig.savefig(out / fname, dpi=110)
            plt.close(fig)
            images[title] = out / fname

        fig, axes = plt.subplots(1, 2, figsize=(11, 3.9), gridspec_kw={"width_ratios": [1.5, 1]})
        fp, grid = ds["facility_power_gw"], ds["grid_power_gw"]
        _stacked(axes[0], years, {str(r): fp.sel(region=r).values for r in ds.region.values}, "region")
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
        fig.savefig(out / "power_and_energy.png", dpi=110)
        plt.close(fig)
        images["Facility power and energy"] = out / "power_and_energy.png"

        fig, ax = plt.subplots(figsize=(9, 3.9))
        bottom = np.zeros(len(years))
        for i, part in enumerate(ds.cost_part.values):
            v = ds["cost_usd"].sel(cost_part=part).values / 1e9
            ax.bar(years, v, bottom=bottom, label=fmt.words(str(part)), color=_PART_COLOURS[i % len(_PART_COLOURS)])
            bottom += v
        ax.plot(years, ds["spending_usd"].values / 1e9, color="black", marker="o", lw=1, label="cash spent")
        ax.set_ylabel("billion USD per year")
        ax.set_title("Yearly cost by part (purchases as annuities) and cash spent", loc="left")
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
        ax.grid(alpha=0.3, axis="y")
        fig.tight_layout()
        fig.savefig(out / "costs.png", dpi=110)
        plt.close(fig)
        images["Costs"] = out / "costs.png"

        path = _binding_plot(summary, out)
        if path is not None:
            images["Binding limits"] = path
    return images


_PART_COLOURS = ("#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860", "#da8bc3", "#8c8c8c")


def _binding_plot(summary: dict[str, Any], out: Path) -> Path | None:
    """The 15 costliest binding limits in USD/GW (targets apart), each with a label that tells it apart."""
    from model.pages.plan import TARGET_FAMILIES, binding_frame

    regions = list((summary.get("capacity_by_region") or {}).keys())
    limits = [b for b in binding_frame(summary.get("binding") or [], regions, {})
              if b["family"] not in TARGET_FAMILIES and b["unit"] == "USD/GW"][:15]
    if not limits:
        return None
    fig, ax = plt.subplots(figsize=(9, 0.32 * len(limits) + 1.2))
    vals = [abs(b["value"]) / 1e9 for b in limits]
    ax.barh(range(len(limits)), vals, color="#c44e52")
    ax.set_yticks(range(len(limits)), [_shorten(b["label"], 80) for b in limits], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("cost saved by one GW more room in the limit (billion USD per GW)")
    ax.set_title("Binding limits by shadow price", loc="left")
    ax.grid(alpha=0.3, axis="x")
    fig.tight_layout()
    fig.savefig(out / "binding.png", dpi=110)
    plt.close(fig)
    return out / "binding.png"


def _shorten(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


# ----------------------------------------------------------------------------
# HTML helpers shared with compare.py
# ----------------------------------------------------------------------------
def _css() -> str:
    """The shared styles of every page (``model/templates/style.css``)."""
    return (Path(__file__).resolve().parent / "templates" / "style.css").read_text()


def esc(x: Any) -> str:
    return html.escape(str(x), quote=True)


_URL = re.compile(r"(https?://[^\s<>\"')]+)")


def autolink(text: Any) -> str:
    """Escape ``text`` and turn the URLs in it into links."""
    parts = _URL.split(str(text))
    return "".join(f"<a href='{esc(p)}'>{esc(p)}</a>" if i % 2 else esc(p) for i, p in enumerate(parts))


def img_tag(path: Path, alt: str) -> str:
    """A ``<figure>`` with the PNG at ``path`` inlined as a data URI."""
    data = base64.b64encode(Path(path).read_bytes()).decode()
    return f"<figure><img alt='{esc(alt)}' src='data:image/png;base64,{data}'></figure>"


def table_html(header: Sequence[str], rows: Iterable[Sequence[Any]], numeric: Iterable[int] = (),
               row_class: Sequence[str] | None = None, cell_class: dict[tuple[int, int], str] | None = None,
               raw: bool = False) -> str:
    """An HTML table; ``numeric`` columns are right-aligned; cells are escaped unless ``raw``."""
    numeric = set(numeric)
    cell_class = cell_class or {}
    head = "".join(f"<th class='{'num' if i in numeric else ''}'>{esc(h)}</th>" for i, h in enumerate(header))
    body = []
    for r, row in enumerate(rows):
        cls = f" class='{row_class[r]}'" if row_class and row_class[r] else ""
        cells = []
        for i, c in enumerate(row):
            classes = " ".join(x for x in ("num" if i in numeric else "", cell_class.get((r, i), "")) if x)
            cells.append(f"<td class='{classes}'>{c if raw else esc(c)}</td>")
        body.append(f"<tr{cls}>{''.join(cells)}</tr>")
    return f"<div class='scroll'><table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>"


def html_page(title: str, header_html: str, nav: Sequence[tuple[str, str]], body: Sequence[str],
              footer: str = "") -> str:
    """One self-contained page: inline styles, no scripts, no external resources."""
    links = "".join(f"<a href='#{esc(a)}'>{esc(t)}</a>" for a, t in nav)
    return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            f"<meta name='viewport' content='width=device-width, initial-scale=1'><title>{esc(title)}</title>"
            f"<style>{_css()}</style></head>"
            f"<body><header class='top'><div class='wrap'>{header_html}</div></header>"
            f"<nav class='toc'><div class='wrap'>{links}</div></nav><main class='wrap'>{''.join(body)}</main>"
            f"<footer class='wrap'>{footer}</footer></body></html>")


# ----------------------------------------------------------------------------
# Overrides in words (shared with compare.py)
# ----------------------------------------------------------------------------
def override_entries(overrides: Iterable[Any]) -> list[dict[str, str]]:
    """Each recorded override as ``key``, ``value``, ``unit``, ``action``, ``origin``, ``source``.

    ``overrides`` are :class:`model.inputs.Override` objects or their manifest dicts.
    ``set`` and ``scale`` keep their ``--set`` key (``pue.US-Texas``); table edits
    are keyed by file and row selector (``offers.csv[offer=x]``). Keys are unique:
    a repeated one gets `` #2``, `` #3``.
    """
    import ast

    out: list[dict[str, str]] = []
    seen: dict[str, int] = {}
    for o in overrides:
        d = o if isinstance(o, dict) else o.__dict__
        action, target, detail = str(d.get("action", "")), str(d.get("target", "")), str(d.get("detail", ""))
        value, unit = detail, ""
        if action == "set":
            value, unit = _split_quantity(detail)
        elif action == "scale":
            value, unit = detail.replace("x ", "× ", 1), "factor"
        elif action in ("replace", "drop"):
            cond_text, _, values_text = detail.partition(" -> ")
            try:
                cond = ast.literal_eval(cond_text)
                target = f"{target}[{', '.join(f'{k}={v}' for k, v in cond.items())}]"
            except (ValueError, SyntaxError, AttributeError):
                target = f"{target}[{cond_text}]"
            if action == "drop":
                value = "dropped"
            else:
                try:
                    values = ast.literal_eval(values_text)
                    unit = str(values.pop("unit", "")) if isinstance(values, dict) else ""
                    if isinstance(values, dict) and set(values) == {"value"}:
                        value = str(values["value"])
                    elif isinstance(values, dict):
                        value = ", ".join(f"{k}={v}" for k, v in values.items())
                    else:
                        value = values_text
                except (ValueError, SyntaxError):
                    value = values_text
        elif action == "add":
            value = f"+{detail}"
            target = f"{target} (added rows)"
        seen[target] = seen.get(target, 0) + 1
        key = target if seen[target] == 1 else f"{target} #{seen[target]}"
        out.append({"key": key, "value": value, "unit": unit, "action": action,
                    "origin": str(d.get("origin", "")), "source": str(d.get("source", ""))})
    return out


def _split_quantity(text: str) -> tuple[str, str]:
    """``'70.7 USD/MWh'`` -> ``('70.7', 'USD/MWh')``; text that is no quantity stays whole."""
    from model.units import UnitParseError, parse_quantity

    try:
        q = parse_quantity(text)
    except UnitParseError:
        return text, ""
    unit = "" if q.dimensionless and str(q.units) == "dimensionless" else f"{q.units:~C}"
    return f"{q.magnitude:g}", unit



# ----------------------------------------------------------------------------
# The report
# ----------------------------------------------------------------------------
def write_names(folder: Path, s: Scenario) -> Path:
    """``tables/names.csv`` (``kind,id,name``): display names of vendors, hosts and regions, for the pages."""
    (folder / "tables").mkdir(exist_ok=True)
    path = folder / "tables" / "names.csv"
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["kind", "id", "name"])
        regions = {r: r for r in s.regions}
        for kind, table in (("vendor", dict(s.vendors)), ("host", dict(s.hosts)), ("region", regions)):
            for key, name in table.items():
                w.writerow([kind, key, name])
    return path


#: summary.json keys :func:`answer_section` shows (issue 11: an answer an analyst can quote).
ANSWER_KEYS = ("all_in_capex_per_gw", "debt_peak", "target_binds", "calibration", "assumptions_ranked")


def answer_section(summary: dict[str, Any]) -> str:
    """"Read before quoting": the two costs per GW defined, borrowing, whether the target binds, the
    calibration against reported figures and the assumptions ranked by how much they move the answer."""
    if "total_cost" not in summary:
        return ""
    out = ["<section id='answer'><h2>Read before quoting</h2>"]
    facts = []
    allin, per_gw = summary.get("all_in_capex_per_gw"), summary.get("cost_per_gw")
    if allin:
        facts.append(f"<li><b>All-in capex per GW</b>: {esc(human(allin['value'] / 1e9, 'billion USD/GW'))}. "
                     f"{esc(allin.get('basis', ''))}.</li>")
    if per_gw:
        facts.append(f"<li><b>Spending per GW</b>: {esc(human(per_gw['value'] / 1e9, 'billion USD/GW'))}. "
                     f"{esc(per_gw.get('basis', ''))}.</li>")
    peak = summary.get("debt_peak")
    if peak:
        limit = f" (limit {human(peak['limit']['value'], 'USD')})" if peak.get("limit") else " (no debt limit)"
        facts.append(f"<li><b>Borrowing</b>: peak debt {esc(human(peak['value'], 'USD'))} in {esc(peak['year'])}"
                     f"{esc(limit)}.</li>")
    reach = summary.get("max_reachable")
    if reach:
        facts.append(f"<li><b>Largest reachable</b> in {esc(summary.get('target_year'))}: "
                     f"{esc(human(reach['value'], reach['unit']))} (target {esc(human(summary['target']['value'], summary['target']['unit']))}).</li>")
    binds = summary.get("target_binds")
    if binds:
        facts.append(f"<li><b>Does the target bind?</b> {'yes' if binds['value'] else 'no'}: {esc(binds.get('note', ''))}.</li>")
    out.append("<ul>" + "".join(facts) + "</ul>")
    cal = (summary.get("calibration") or {}).get("value") or []
    if cal:
        rows = [[r["figure"], human(r["plan"], r["unit"]) if r["plan"] is not None else "none",
                 human(r["reported"], r["unit"]), r["note"], r["source"]] for r in cal]
        out.append("<h3>Calibration: the plan beside reported figures</h3>"
                   + table_html(["figure", "plan", "reported", "why they differ", "source"], rows))
    ranked = summary.get("assumptions_ranked") or {}
    if ranked.get("value"):
        rows = []
        for r in ranked["value"]:
            swing = human(r["swing"], r["swing_unit"]) if r.get("swing") is not None else r.get("note", "no plan at one end")
            rows.append([r["label"], r["key"], f"{r['low']:g} to {r['high']:g}", swing])
        more = f" {ranked['not_ranked']} not ranked." if ranked.get("not_ranked") else ""
        out.append(f"<h3>Assumptions ranked by how much they move the {esc(ranked.get('headline', 'answer'))}</h3>"
                   f"<p>{esc(ranked.get('method', ''))}.{esc(more)}</p>"
                   + table_html(["assumption", "--set key", "range", "swing"], rows[:15]))
    out.append("</section>")
    return "".join(out)


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
