"""Plots and the one-page report of a result set, and the HTML pieces ``compare`` shares.

``report.html`` is the page a person reads first: one self-contained file
(plots inlined as ``data:`` URIs, styles inline, no scripts, no network) with

1. the status in plain words and the headline figures as cards;
2. what limits the plan: binding limits with their shadow prices, or, for a
   missed target, the limits on the largest reachable figure;
3. the plan over time by chip vendor, host and region (plots and compact tables);
4. power and energy, and cost;
5. the inputs that differ from the base data, with their sources;
6. provenance: command line, versions, the sha256 of every input file.

Headline figures are rendered generically from ``summary.json``: a top-level
``{"value", "unit"}`` becomes a card, a per-year series (keys are years)
becomes a card at the target year, and a breakdown (keys are members) becomes
a small table with shares. Keys added later appear without code changes.
"""
from __future__ import annotations

import base64
import html
import math
import re
from pathlib import Path
from typing import Any, Iterable, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import xarray as xr  # noqa: E402

from model.scenario import Scenario  # noqa: E402

PALETTE = {"nvidia": "#76b900", "amd": "#ed1c24", "broadcom": "#cc092f", "google": "#4285f4", "aws": "#ff9900",
           "cerebras": "#6b4fbb"}
#: Status -> (headline word, colour of its badge).
STATUS_STYLE = {
    "optimal": ("Target met", "#1a7f37"),
    "target_missed": ("Target missed", "#b35900"),
    "infeasible": ("Inputs contradict each other", "#b42318"),
    "time_limit": ("Solver stopped at its time limit", "#b42318"),
    "solver_error": ("Solver failed", "#b42318"),
    "unbounded": ("Unbounded", "#b42318"),
}
#: Headline keys in the order a reader wants them; any other figure follows in summary order.
CARD_ORDER = ("target", "max_reachable", "total_cost", "capacity_in_service", "compute_in_service",
              "facility_power", "energy", "spending")
#: Summary keys that are words or structure, not figures.
TEXT_KEYS = ("status", "message", "scenario", "target_year", "objective", "total_cost_basis")
_POWER_WORDS = re.compile(r"power|energy|emission|grid", re.I)
_MONEY_WORDS = re.compile(r"cost|spend|fund|debt|money|cash|revenue", re.I)
_PLOT_STYLE = {"axes.spines.top": False, "axes.spines.right": False, "axes.titlesize": 11,
               "axes.titleweight": "bold", "axes.labelsize": 9, "xtick.labelsize": 8.5, "ytick.labelsize": 8.5,
               "legend.fontsize": 8, "font.size": 9}


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


def _stacked(ax, years, series: dict[str, np.ndarray], colours: dict[str, str] | None = None) -> None:
    """Stacked areas, largest at the bottom, legend outside on the right (top to bottom as stacked)."""
    series = _top(series)
    keys = sorted((k for k in series if np.any(series[k] > 1e-9)), key=lambda k: -float(np.sum(series[k])))
    if not keys:
        ax.text(0.5, 0.5, "nothing in service", ha="center", transform=ax.transAxes)
        return
    cmap = plt.get_cmap("tab20")
    cols = [(colours or {}).get(k, cmap(i % 20)) for i, k in enumerate(keys)]
    ax.stackplot(years, [series[k] for k in keys], labels=keys, colors=cols, alpha=0.92, lw=0)
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
        ax.annotate(f"target {t['value']:g} GW by {summary['target_year']}", (summary["target_year"], t["value"]),
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
        for coord, fname, title, colours in (
            ("vendor", "capacity_by_vendor.png", "IT capacity in service by chip vendor", PALETTE),
            ("host", "capacity_by_host.png", "IT capacity in service by host", None),
            ("offer_region", "capacity_by_region.png", "IT capacity in service by region", None),
        ):
            g = ds["in_service_gw"].groupby(coord).sum()
            fig, ax = plt.subplots(figsize=(9, 3.9))
            label = names.get(coord, {})
            _stacked(ax, years, {label.get(str(k), str(k)): g.sel({coord: k}).values for k in g[coord].values},
                     {label.get(k, k): c for k, c in (colours or {}).items()})
            _target_line(ax, summary)
            ax.set_ylabel("GW of IT power")
            ax.set_title(title, loc="left")
            fig.tight_layout()
            fig.savefig(out / fname, dpi=110)
            plt.close(fig)
            images[title] = out / fname

        fig, axes = plt.subplots(1, 2, figsize=(11, 3.9), gridspec_kw={"width_ratios": [1.5, 1]})
        fp, grid = ds["facility_power_gw"], ds["grid_power_gw"]
        _stacked(axes[0], years, {str(r): fp.sel(region=r).values for r in ds.region.values})
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
        for part in ds.cost_part.values:
            v = ds["cost_usd"].sel(cost_part=part).values / 1e9
            ax.bar(years, v, bottom=bottom, label=str(part))
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

        binding = [b for b in summary.get("binding", []) if not b["name"].startswith("target")
                   and b["shadow_price"]["unit"] == "USD/GW"]
        binding = sorted(binding, key=lambda b: -abs(b["shadow_price"]["value"]))[:15]
        if binding:
            fig, ax = plt.subplots(figsize=(9, 0.32 * len(binding) + 1.2))
            vals = [abs(b["shadow_price"]["value"]) / 1e9 for b in binding]
            ax.barh(range(len(binding)), vals, color="#c44e52")
            ax.set_yticks(range(len(binding)), [_shorten(b["name"], 70) for b in binding], fontsize=8)
            ax.invert_yaxis()
            ax.set_xlabel("cost saved by one GW more room in the limit (billion USD per GW)")
            ax.set_title("Binding limits by shadow price", loc="left")
            ax.grid(alpha=0.3, axis="x")
            fig.tight_layout()
            fig.savefig(out / "binding.png", dpi=110)
            plt.close(fig)
            images["Binding limits"] = out / "binding.png"
    return images


def _shorten(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


# ----------------------------------------------------------------------------
# Numbers and words
# ----------------------------------------------------------------------------
def shadow_text(price: dict[str, Any]) -> str:
    """A shadow price as a person reads it: ``-25.5 billion USD/GW``."""
    v, u = price["value"], price["unit"]
    if u.endswith("/USD") and u != "USD/USD" and v != 0:
        return f"{v * 1e9:.3g} {u[:-4]} per billion USD"
    if u.startswith("USD/") and u != "USD/USD" and abs(v) >= 1e6:
        return f"{v / 1e9:,.3g} billion {u}" if abs(v) >= 1e9 else f"{v / 1e6:,.3g} million {u}"
    return f"{v:.4g} {u}"


def _fmt(fig: dict[str, Any]) -> str:
    """A figure for the terminal: ``6.06 trillion USD``, ``250.00 GW``."""
    v, u = fig["value"], fig["unit"]
    if u == "USD":
        if abs(v) >= 1e12:
            return f"{v / 1e12:,.2f} trillion USD"
        return f"{v / 1e9:,.1f} billion USD"
    if u == "FLOP/s":
        return f"{v:.3g} FLOP/s"
    return f"{v:,.2f} {u}"


def human(value: Any, unit: str = "") -> str:
    """A number as a person reads it, with three significant figures and its unit.

    >>> human(6.0617e12, "USD")
    '6.06 trillion USD'
    >>> human(250.0, "GW")
    '250 GW'
    >>> human(1.57e24, "FLOP/s")
    '1.57×10²⁴ FLOP/s'
    """
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return f"{value} {unit}".strip()
    v = float(value)
    if not math.isfinite(v):
        return f"{v} {unit}".strip()
    if unit == "USD" or unit.startswith("USD/"):
        for scale, word in ((1e12, "trillion"), (1e9, "billion"), (1e6, "million")):
            if abs(v) >= scale:
                return f"{_sig(v / scale)} {word} {unit}"
        return f"{_sig(v)} {unit}"
    if unit == "FLOP/s" and v != 0:
        mantissa, exponent = f"{v:.2e}".split("e")
        return f"{mantissa}×10{_superscript(int(exponent))} FLOP/s"
    return f"{_sig(v)} {unit}".strip()


def _superscript(n: int) -> str:
    return str(n).translate(str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹"))


def _sig(v: float, digits: int = 3) -> str:
    """``v`` to ``digits`` significant figures, with thousands separators, no trailing zeros."""
    if v == 0:
        return "0"
    if abs(v) >= 10 ** digits:
        return f"{v:,.0f}"
    decimals = max(0, digits - 1 - int(math.floor(math.log10(abs(v)))))
    text = f"{v:,.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def label_for(key: str) -> str:
    """``capacity_by_vendor`` -> ``Capacity by vendor``."""
    text = key.replace("_", " ").strip()
    if text.startswith("it "):
        return "IT " + text[3:]
    return text[:1].upper() + text[1:]


def is_figure(x: Any) -> bool:
    """True for ``{"value": number, "unit": str}``."""
    return (isinstance(x, dict) and set(x) >= {"value", "unit"} and isinstance(x["unit"], str)
            and isinstance(x["value"], (int, float)) and not isinstance(x["value"], bool))


def classify(summary: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Sort a summary's keys by shape: ``figures``, ``series`` (by year), ``breakdowns`` (by member)."""
    out: dict[str, dict[str, Any]] = {"figures": {}, "series": {}, "breakdowns": {}}
    for key, v in summary.items():
        if key in TEXT_KEYS:
            continue
        if is_figure(v):
            out["figures"][key] = v
        elif isinstance(v, dict) and v and all(is_figure(x) for x in v.values()):
            kind = "series" if all(re.fullmatch(r"\d{4}", str(k)) for k in v) else "breakdowns"
            out[kind][key] = v
    return out


# ----------------------------------------------------------------------------
# HTML pieces (shared with compare.py)
# ----------------------------------------------------------------------------
CSS = """
:root{--ink:#1f2328;--muted:#59636e;--line:#d1d9e0;--soft:#f6f8fa;--accent:#0969da}
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--ink);
 margin:0;background:#fff;line-height:1.45;font-size:15px}
header.top{background:linear-gradient(135deg,#0d1b2a,#1b3a5c);color:#fff;padding:28px 0 22px}
header.top .wrap{display:flex;flex-direction:column;gap:6px}
header.top h1{margin:0;font-size:26px;font-weight:650;letter-spacing:-.01em}
header.top p{margin:0;color:#c9d6e3;max-width:900px}
.wrap{max-width:1120px;margin:0 auto;padding:0 24px}
nav.toc{position:sticky;top:0;background:rgba(255,255,255,.96);border-bottom:1px solid var(--line);z-index:2}
nav.toc .wrap{display:flex;gap:18px;flex-wrap:wrap;padding-top:9px;padding-bottom:9px;font-size:13.5px}
nav.toc a{color:var(--muted);text-decoration:none}nav.toc a:hover{color:var(--accent)}
section{padding:10px 0 6px}
h2{font-size:19px;margin:26px 0 10px;padding-bottom:6px;border-bottom:1px solid var(--line)}
h3{font-size:15px;margin:18px 0 6px;color:var(--muted)}
.status{display:flex;align-items:center;gap:14px;margin:18px 0 4px;padding:14px 18px;border-radius:10px;
 border:1px solid var(--line);background:var(--soft)}
.badge{display:inline-block;color:#fff;font-weight:650;padding:4px 11px;border-radius:999px;font-size:13.5px;
 white-space:nowrap}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(205px,1fr));gap:12px;margin:14px 0}
.card{border:1px solid var(--line);border-radius:10px;padding:12px 14px;background:#fff}
.card.warn{border-color:#b35900;box-shadow:inset 4px 0 0 #b35900}
.card .k{font-size:12.5px;color:var(--muted);text-transform:uppercase;letter-spacing:.03em}
.card .v{font-size:23px;font-weight:650;margin-top:3px;font-variant-numeric:tabular-nums}
.card .n{font-size:12.5px;color:var(--muted);margin-top:2px}
figure{margin:10px 0 4px}figure img{max-width:100%;height:auto;display:block}
table{border-collapse:collapse;margin:8px 0 14px;font-size:13px;font-variant-numeric:tabular-nums}
th,td{border-bottom:1px solid var(--line);padding:4px 9px;text-align:left;vertical-align:top}
thead th{background:var(--soft);font-weight:600;border-bottom:2px solid var(--line)}
td.num,th.num{text-align:right;white-space:nowrap}
tr.total td{font-weight:650;border-top:2px solid var(--line)}
td.hl,th.hl{background:#fff8c5}
td.zero{color:#aab3bd}
.scroll{overflow-x:auto}
.bar{height:9px;border-radius:4px;background:#c44e52;min-width:2px}
.pos{color:#0550ae}.neg{color:#953800}.same{color:var(--muted)}
.note{color:var(--muted);font-size:13px}
.src{font-size:12.5px;color:#3d444d}
.lede{font-size:16px;max-width:920px;margin:6px 0 4px}
details{margin:6px 0 12px}summary{cursor:pointer;color:var(--accent)}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px}
.grid2{display:grid;grid-template-columns:repeat(auto-fit,minmax(320px,1fr));gap:6px 28px}
footer{color:var(--muted);font-size:12.5px;padding:26px 0 40px}
"""


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
            f"<style>{CSS}</style></head><body><header class='top'><div class='wrap'>{header_html}</div></header>"
            f"<nav class='toc'><div class='wrap'>{links}</div></nav><main class='wrap'>{''.join(body)}</main>"
            f"<footer class='wrap'>{footer}</footer></body></html>")


def status_banner(status: str, message: str) -> str:
    word, colour = STATUS_STYLE.get(status, (status, "#59636e"))
    return (f"<div class='status' id='status'><span class='badge' style='background:{colour}'>{esc(word)}</span>"
            f"<span><b class='mono'>{esc(status)}</b> — {esc(message)}</span></div>")


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
def headline_cards(summary: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(label, value, note) for every headline figure, known ones first.

    A per-year series is shown at the target year; breakdowns are not cards.
    """
    ty = str(summary.get("target_year", ""))
    shapes = classify(summary)
    cards: list[tuple[str, str, str]] = []
    keys = [k for k in CARD_ORDER if k in shapes["figures"] or k in shapes["series"]]
    keys += [k for k in summary if k not in keys and (k in shapes["figures"] or k in shapes["series"])]
    for key in keys:
        if key in shapes["figures"]:
            fig = shapes["figures"][key]
            extra = [f"{v}" if k == "basis" else f"{k.replace('_', ' ')} {v}" for k, v in fig.items()
                     if k not in ("value", "unit", "year") and isinstance(v, (str, int, float))]
            when = f"in {fig['year']}" if "year" in fig else (f"in {ty}" if ty else "")
            note = {"target": f"in service from {ty}" if ty else "",
                    "max_reachable": "the most the limits allow",
                    "total_cost": summary.get("total_cost_basis", "")}.get(key, "; ".join([when, *extra]).strip("; "))
            label = {"target": "Target", "max_reachable": "Largest reachable",
                     "total_cost": "Total discounted cost"}.get(key, label_for(key))
            cards.append((label, human(fig["value"], fig["unit"]), note))
        else:
            series = shapes["series"][key]
            if ty in series:
                cards.append((f"{label_for(key)} {ty}", human(series[ty]["value"], series[ty]["unit"]),
                              "in the target year"))
    return cards


def _read_table(folder: Path, name: str) -> pd.DataFrame | None:
    f = folder / "tables" / f"{name}.csv"
    try:
        return pd.read_csv(f) if f.exists() else None
    except (OSError, ValueError, pd.errors.ParserError):
        return None


def _year_table(df: pd.DataFrame, coord: str, names: dict[str, str], target_year: int | None,
                unit: str = "GW") -> str:
    """Members by year, largest first, with a total row; the target year highlighted."""
    wide = df.pivot_table(index=coord, columns="year", values="value", aggfunc="sum").fillna(0.0)
    if target_year in wide.columns:
        wide = wide.sort_values(target_year, ascending=False)
    else:
        wide = wide.loc[wide.sum(axis=1).sort_values(ascending=False).index]
    wide = wide[(wide.abs() > 1e-9).any(axis=1)]
    years = list(wide.columns)
    rows, classes, cell_class = [], [], {}
    for r, (member, vals) in enumerate(wide.iterrows()):
        rows.append([names.get(str(member), str(member))] + [_cell(v) for v in vals])
        classes.append("")
        for i, v in enumerate(vals):
            if abs(v) < 0.05:
                cell_class[(r, i + 1)] = "zero"
    rows.append(["Total"] + [_cell(v) for v in wide.sum(axis=0)])
    classes.append("total")
    for r in range(len(rows)):
        for i, y in enumerate(years):
            if y == target_year:
                cell_class[(r, i + 1)] = (cell_class.get((r, i + 1), "") + " hl").strip()
    header = [f"{coord} ({unit})"] + [str(y) for y in years]
    return table_html(header, rows, numeric=range(1, len(years) + 1), row_class=classes, cell_class=cell_class)


def _cell(v: float) -> str:
    return "·" if abs(v) < 0.05 else f"{v:,.1f}"


_PER = {"GW": "per GW of the limit", "USD": "per USD of the limit", "TWh": "per TWh of the limit",
        "a": "per year of the limit"}


def _by_unit(limits: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Limits grouped by the unit of their shadow price (sizes compare only within a group), largest first."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for b in limits:
        groups.setdefault(b["shadow_price"]["unit"], []).append(b)
    for items in groups.values():
        items.sort(key=lambda b: -abs(b["shadow_price"]["value"]))
    return dict(sorted(groups.items(), key=lambda kv: -len(kv[1])))


def _grouped_limits(limits: list[dict[str, Any]], top: int) -> str:
    groups = _by_unit(limits)
    out = []
    for unit, items in groups.items():
        if len(groups) > 1:
            per = _PER.get(unit.split("/")[-1], f"per {unit.split('/')[-1]}")
            out.append(f"<p class='note'>Limits measured in {esc(unit.split('/')[-1])} "
                       f"(shadow prices {esc(per)}):</p>")
        out.append(_limits_table(items, top=top))
    return "".join(out)


def _binding_section(summary: dict[str, Any]) -> str:
    parts = ["<section id='limits'><h2>What limits the plan</h2>"]
    reach = summary.get("limits_on_reach") or []
    if summary.get("conflicts"):
        items = "".join(f"<li>{esc(c.get('meaning', c))}</li>" for c in summary["conflicts"])
        parts.append("<h3>Limits that contradict each other (each would have to give)</h3>"
                     f"<ul>{items}</ul>")
    if reach:
        parts.append("<h3>What stops more capacity (limits on the largest reachable figure)</h3>")
        parts.append(_grouped_limits(reach, top=6))
    binding = summary.get("binding") or []
    if binding:
        targets = [b for b in binding if b["name"].startswith(("target", "milestone"))]
        others = [b for b in binding if b not in targets]
        parts.append(f"<p class='note'>{len(binding)} limits bind. A limit's shadow price is how much the total "
                     "cost would change with one unit more room in it.</p>")
        if others:
            parts.append("<h3>Binding limits, the costliest first</h3>")
            parts.append(_grouped_limits(others, top=8))
        if targets:
            parts.append("<h3>Targets and milestones</h3>" + _limits_table(targets, top=len(targets)))
    if not (binding or reach or summary.get("conflicts")):
        parts.append("<p>No limit binds (or the run produced no plan to read them from).</p>")
    parts.append("</section>")
    return "".join(parts)


def _limits_table(limits: list[dict[str, Any]], top: int) -> str:
    """Limits as sentences with their shadow price and a bar for its size (within this table)."""
    biggest = max((abs(b["shadow_price"]["value"]) for b in limits), default=0.0) or 1.0

    def rows(items):
        return [[esc(b.get("meaning") or b["name"]), esc(shadow_text(b["shadow_price"])),
                 f"<div class='bar' style='width:{110 * abs(b['shadow_price']['value']) / biggest:.0f}px'></div>"]
                for b in items]

    header = ["in words", "shadow price", ""]
    out = table_html(header, rows(limits[:top]), numeric=(1,), raw=True)
    if len(limits) > top:
        out += (f"<details><summary>{len(limits) - top} more</summary>"
                + table_html(header, rows(limits[top:]), numeric=(1,), raw=True) + "</details>")
    return out


def _shares(figs: dict[str, dict[str, Any]], names: dict[str, str], n: int = 3) -> str:
    """``NVIDIA 56%, Broadcom 21%, AMD 11%``: the ``n`` largest members' shares."""
    total = sum(f["value"] for f in figs.values())
    if total <= 0:
        return ""
    ranked = sorted(figs.items(), key=lambda kv: -kv[1]["value"])[:n]
    return ", ".join(f"{names.get(k, k)} {100 * f['value'] / total:.0f}%" for k, f in ranked if f["value"] > 0)


def summary_sentences(summary: dict[str, Any], names: dict[str, dict[str, str]] | None = None) -> list[str]:
    """The result in a few plain sentences, from whichever headline keys the summary holds."""
    names = names or {}
    status = summary.get("status")
    ty = summary.get("target_year")
    out: list[str] = []
    target = human(summary["target"]["value"], summary["target"]["unit"]) if is_figure(summary.get("target")) else None
    cost = human(summary["total_cost"]["value"], "USD") if is_figure(summary.get("total_cost")) else None
    if status == "optimal" and target:
        out.append(f"The plan holds {target} in service from {ty} on"
                   + (f", at a discounted cost of {cost}." if cost else "."))
    elif status == "target_missed" and target:
        reach = summary.get("max_reachable")
        out.append(f"The target of {target} by {ty} cannot be met"
                   + (f": the most the limits allow is {human(reach['value'], reach['unit'])}" if is_figure(reach)
                      else "") + "."
                   + (f" Below is the least-cost plan for that figure ({cost})." if cost else ""))
    elif status == "infeasible":
        out.append("The inputs contradict each other even without the target, so there is no plan; "
                   "the limits that would have to give are listed below.")
    elif status:
        out.append(f"The solver did not produce a plan (status {status}).")
    for key, word in (("capacity_by_vendor", "chip vendor"), ("capacity_by_host", "host"),
                      ("capacity_by_region", "region")):
        figs = summary.get(key)
        if isinstance(figs, dict) and figs and all(is_figure(f) for f in figs.values()):
            text = _shares(figs, names.get(key.rsplit("_", 1)[-1], {}))
            if text:
                out.append(f"By {word} in {ty}: {text}.")
    if is_figure(summary.get("facility_power")):
        fp = summary["facility_power"]
        line = f"It draws {human(fp['value'], fp['unit'])} of facility power in {ty}"
        if is_figure(summary.get("energy")):
            line += f" and uses {human(summary['energy']['value'], summary['energy']['unit'])} that year"
        out.append(line + ".")
    reach = summary.get("limits_on_reach") or []
    binding = [b for b in summary.get("binding") or [] if not b["name"].startswith(("target", "milestone"))]
    if reach:
        firsts = [items[0] for items in _by_unit(reach).values()][:2]
        out.append("What stops more: " + "; ".join(b.get("meaning", b["name"]) for b in firsts) + ".")
    elif binding:
        firsts = [items[0] for items in _by_unit(binding).values()][:2]
        out.append("The costliest limits: " + "; ".join(b.get("meaning", b["name"]) for b in firsts) + ".")
    return out


def _breakdown_table(fig_by_member: dict[str, dict[str, Any]], names: dict[str, str]) -> str:
    """Members with a value (largest first) and their shares; members at zero are left out."""
    total = sum(f["value"] for f in fig_by_member.values())
    items = sorted(((k, f) for k, f in fig_by_member.items() if abs(f["value"]) > 1e-9), key=lambda kv: -kv[1]["value"])
    if not items:
        return "<p class='note'>none (every member is zero)</p>"
    rows = [[names.get(k, k), human(f["value"], f["unit"]), f"{100 * f['value'] / total:.0f}%" if total else ""]
            for k, f in items]
    return table_html(["", "value", "share"], rows, numeric=(1, 2))


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
    """Write the self-contained ``report.html`` of a result set.

    Parameters
    ----------
    folder : Path
        The result set's folder; its ``tables/*.csv`` (if written) give the per-year tables.
    summary : dict
        The set's ``summary.json`` content.
    images : dict
        Title -> PNG file, from :func:`write_plots`; inlined as data URIs.
    s : Scenario
        The scenario run (names of vendors and hosts, description, overrides).
    manifest : dict, optional
        The set's manifest (command line, input hashes, versions) for the provenance section.

    Returns
    -------
    Path
        ``folder / "report.html"``.
    """
    folder = Path(folder)
    status = str(summary.get("status", "unknown"))
    ty = summary.get("target_year")
    shapes = classify(summary)
    names = {"vendor": dict(s.vendors), "host": dict(s.hosts), "region": {r: r for r in s.regions}}
    header = (f"<h1>Compute plan · {esc(s.name)}</h1>"
              + (f"<p>{esc(s.description)}</p>" if s.description else "<p>The base data, no scenario applied.</p>"))
    body: list[str] = [status_banner(status, str(summary.get("message", "")))]
    cards = headline_cards(summary)
    body.append("<section id='headline'><div class='cards'>" + "".join(
        f"<div class='card{' warn' if k == 'Largest reachable' else ''}'><div class='k'>{esc(k)}</div>"
        f"<div class='v'>{esc(v)}</div><div class='n'>{esc(n)}</div></div>" for k, v, n in cards) + "</div>")
    words = summary_sentences(summary, {"vendor": dict(s.vendors), "host": dict(s.hosts)})
    if words:
        body.append("<p class='lede'>" + " ".join(esc(w) for w in words) + "</p>")
    body.append("</section>")
    body.append(answer_section(summary))

    # the plan over time
    plan = ["<section id='plan'><h2>The plan over time</h2>"]
    covered = set()
    plan_titles = {"IT capacity in service by chip vendor", "IT capacity in service by host",
                   "IT capacity in service by region"}
    for coord, title, key in (("vendor", "IT capacity in service by chip vendor", "capacity_by_vendor"),
                              ("host", "IT capacity in service by host", "capacity_by_host"),
                              ("region", "IT capacity in service by region", "capacity_by_region")):
        df = _read_table(folder, f"capacity_by_{coord}")
        if title in images or df is not None:
            plan.append(f"<h3>By {'chip vendor' if coord == 'vendor' else coord} (GW of IT power in service)</h3>")
        if title in images:
            plan.append(img_tag(images[title], title))
        if df is not None and {coord, "year", "value"} <= set(df.columns):
            plan.append(_year_table(df, coord, names.get(coord, {}), ty))
            covered.add(key)
    rest = {k: v for k, v in shapes["breakdowns"].items()
            if k not in covered and not _POWER_WORDS.search(k) and not _MONEY_WORDS.search(k)}
    if rest:
        plan.append(f"<h3>More breakdowns in {esc(ty)}</h3><div class='grid2'>")
        for key, figs in rest.items():
            plan.append(f"<div><b>{esc(label_for(key))}</b>{_breakdown_table(figs, {})}</div>")
        plan.append("</div>")
    if len(plan) == 1:
        plan.append("<p>This run has no plan to show.</p>")
    plan.append("</section>")
    body.append("".join(plan))
    body.append(_binding_section(summary))

    # figures of shapes the sections above do not know (keys added later), listed rather than lost
    from model.compare import flatten_summary

    shown = set(TEXT_KEYS) | {"binding", "limits_on_reach", "conflicts"} | set(ANSWER_KEYS)
    for group in shapes.values():
        shown |= set(group)
    other = {k: v for k, v in summary.items() if k not in shown}
    if other:
        rows = [[k, human(v, u) if isinstance(v, (int, float)) and not isinstance(v, bool) else str(v), u]
                for k, (v, u) in flatten_summary(other).items()]
        if rows:
            body.append("<section id='more'><details><summary>More figures in summary.json "
                        f"({len(rows)})</summary>{table_html(['key', 'value', 'unit'], rows)}</details></section>")

    # power and energy (and any plot about power); breakdowns of power (e.g. power built by source)
    unplaced = {k: v for k, v in images.items() if k not in plan_titles and k != "Binding limits"}
    power = ["<section id='power'><h2>Power and energy</h2>"]
    for title in [k for k in unplaced if _POWER_WORDS.search(k)]:
        power.append(img_tag(unplaced.pop(title), title))
    pw = _read_table(folder, "power")
    if pw is not None and {"region", "year", "variable", "value", "unit"} <= set(pw.columns) and ty in set(pw["year"]):
        at = pw[pw["year"] == ty]
        wide = at.pivot_table(index="region", columns="variable", values="value", aggfunc="sum")
        units = at.groupby("variable")["unit"].first().to_dict()
        order = [c for c in ("it_power", "facility_power", "grid_power", "energy") if c in wide.columns]
        order += [c for c in wide.columns if c not in order]
        wide = wide[order].sort_values(order[0], ascending=False)
        rows = [[r] + [_cell(v) for v in vals] for r, vals in wide.iterrows()]
        rows.append(["Total"] + [_cell(v) for v in wide.sum(axis=0)])
        power.append(f"<h3>By region in {esc(ty)}</h3>")
        power.append(table_html(["region"] + [f"{label_for(c)} ({units.get(c, '')})" for c in order], rows,
                                numeric=range(1, len(order) + 1), row_class=[""] * (len(rows) - 1) + ["total"]))
    power_figs = {k: v for k, v in shapes["breakdowns"].items() if _POWER_WORDS.search(k) and k not in covered}
    if power_figs:
        power.append("<div class='grid2'>" + "".join(
            f"<div><b>{esc(label_for(k))}</b>{_breakdown_table(v, {})}</div>" for k, v in power_figs.items())
            + "</div>")
    if len(power) == 1:
        power.append("<p>No power figures in this run.</p>")
    power.append("</section>")
    body.append("".join(power))

    # cost
    cost = ["<section id='cost'><h2>Cost</h2>"]
    if "total_cost" in summary:
        cost.append(f"<p>Total discounted cost <b>{esc(human(summary['total_cost']['value'], 'USD'))}</b>"
                    f" ({esc(summary.get('total_cost_basis', ''))}).</p>")
    for title in [k for k in unplaced if _MONEY_WORDS.search(k)]:
        cost.append(img_tag(unplaced.pop(title), title))
    money = {k: v for k, v in shapes["breakdowns"].items() if _MONEY_WORDS.search(k)}
    if money:
        cost.append("<div class='grid2'>")
        for key, figs in money.items():
            cost.append(f"<div><b>{esc(label_for(key))}</b> (discounted, all years){_breakdown_table(figs, {})}</div>")
        cost.append("</div>")
    for key, series in shapes["series"].items():
        if next(iter(series.values()))["unit"] == "USD":
            rows = [[y, human(f["value"], f["unit"])] for y, f in series.items()]
            cost.append(f"<details><summary>{esc(label_for(key))} by year</summary>"
                        f"{table_html(['year', label_for(key)], rows, numeric=(1,))}</details>")
    if len(cost) == 1:
        cost.append("<p>No cost figures in this run.</p>")
    cost.append("</section>")
    body.append("".join(cost))

    if unplaced:
        body.append("<section id='plots'><h2>More plots</h2>" + "".join(
            f"<h3>{esc(k)}</h3>{img_tag(v, k)}" for k, v in unplaced.items()) + "</section>")

    # inputs that differ from base
    inputs = ["<section id='inputs'><h2>Inputs that differ from the base data</h2>"]
    entries = override_entries(s.overrides)
    if entries:
        origins = sorted({e["origin"] for e in entries})
        inputs.append(f"<p>{len(entries)} changes on top of the base data, from "
                      f"{esc(', '.join(origins))}; each with its source or reason.</p>")
        rows = [[esc(e["action"]), f"<span class='mono'>{esc(e['key'])}</span>", esc(e["value"]), esc(e["unit"]),
                 f"<span class='src'>{autolink(e['source'])}</span>"] for e in entries]
        inputs.append(table_html(["change", "key", "value", "unit", "source or reason"], rows, raw=True))
    else:
        inputs.append("<p>None: this run uses the base data as shipped in <code>inputs/</code>.</p>")
    inputs.append("</section>")
    body.append("".join(inputs))

    body.append(_provenance(manifest, s))
    nav = [("status", "Status"), ("plan", "Plan"), ("limits", "Limits"), ("power", "Power"), ("cost", "Cost"),
           ("inputs", "Inputs"), ("provenance", "Provenance")]
    footer = ("Written by compute-energy-plan. Figures are model results on sourced public inputs, not forecasts; "
              "see <code>inputs/README.md</code> for every input's source.")
    page = html_page(f"Compute plan {s.name}", header, nav, body, footer)
    out = folder / "report.html"
    out.write_text(page, encoding="utf-8")
    return out


def _provenance(manifest: dict[str, Any] | None, s: Scenario) -> str:
    parts = ["<section id='provenance'><h2>Provenance</h2>"]
    hashes = (manifest or {}).get("inputs_sha256") or s.input_files
    if manifest:
        cmd = " ".join(str(a) for a in manifest.get("command_line", []))
        solver = manifest.get("solver") or {}
        rows = [["command line", f"<code>{esc(cmd)}</code>"],
                ["created", esc(manifest.get("created", ""))],
                ["scenario", esc(manifest.get("scenario", s.name))],
                ["tool version", esc(manifest.get("version", ""))],
                ["solver", esc(" ".join(str(solver.get(k, "")) for k in ("name", "version")).strip())]]
        timings = manifest.get("timings_s") or {}
        if timings:
            rows.append(["timings", esc(", ".join(f"{k} {v:.2f} s" for k, v in timings.items()
                                                  if isinstance(v, (int, float))))])
        parts.append(table_html(["", ""], rows, raw=True))
        versions = manifest.get("versions") or {}
        if versions:
            parts.append("<details><summary>package versions</summary>"
                         + table_html(["package", "version"], sorted(versions.items())) + "</details>")
    if hashes:
        parts.append(f"<details><summary>sha256 of the {len(hashes)} input files</summary>"
                     + table_html(["file", "sha256"], [[esc(k), f"<span class='mono'>{esc(v)}</span>"]
                                                       for k, v in hashes.items()], raw=True)
                     + "</details>")
    parts.append("</section>")
    return "".join(parts)
