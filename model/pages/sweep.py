"""The page of a sweep, rendered from its result set on disk.

It opens with the answer in words (which values of which input still reach the
target, and what moves the cost), then the figures, then pictures drawn from
the set's tables with met and missed cases kept apart everywhere: a heat map
for a two-key grid, a tornado with missed ends marked, Sobol and Morris bars
with their confidence intervals, distributions of cost and capacity, and the
fan of capacity paths; then the tables with units in every header; provenance
last.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from model import fmt
from model.pages.sweep_status import FIGURES, failure_sentences, flat_figures, varies
from model.pages import (PLOT_STYLE, card, details, figures_block, finite, h3, image, manifest_of, p, page,
                         provenance_rows, read_csv, save_figure, section, table, table_block, verdict)

MET, MISSED, FAILED = "#4c72b0", "#c44e52", "#8c8c8c"
PLANNED = ("optimal", "target_missed", "commitment_missed")


def key_label(key: str) -> str:
    """``supply_growth.nvidia`` -> ``Supply growth (nvidia)``; ``pue`` -> ``PUE``."""
    base, _, narrow = str(key).partition(".")
    return fmt.words(base) + (f" ({narrow})" if narrow else "")


def _unit(u: Any) -> str:
    return "" if not isinstance(u, str) or u in ("dimensionless", "nan") else u


def _with_unit(label: str, unit: str) -> str:
    return f"{label} ({unit})" if unit else label


class Sweep:
    """The cases of a sweep as one wide frame: swept inputs, status, headline figures."""

    def __init__(self, set_dir: Path, manifest: Mapping[str, Any]):
        import pandas as pd

        self.manifest = manifest
        self.keys = [k["key"] for k in manifest.get("keys") or []]
        self.key_units = {k["key"]: _unit(k.get("unit")) for k in manifest.get("keys") or []}
        cases = read_csv(set_dir / "cases.csv")
        summ = read_csv(set_dir / "summary.csv")
        status = read_csv(set_dir / "status.csv")
        frame = pd.DataFrame(index=pd.Index(sorted(set(status["case"])) if status is not None else [], name="case"))
        if cases is not None and len(cases):
            frame = frame.join(cases.pivot_table(index="case", columns="key", values="value", aggfunc="first"),
                               how="outer")
            for k in cases["key"].unique():
                self.key_units.setdefault(str(k), _unit(cases[cases["key"] == k]["unit"].iloc[0]))
                if k not in self.keys:
                    self.keys.append(str(k))
        if status is not None:
            cols = [c for c in ("status", "message") if c in status.columns]
            frame = frame.join(status.set_index("case")[cols], how="left")
        self.figure_units: dict[str, str] = {}
        if summ is not None and len(summ):
            main = summ[summ["group"].isna() | (summ["group"].astype(str) == "")]
            frame = frame.join(main.pivot_table(index="case", columns="figure", values="value", aggfunc="first"),
                               how="left")
            self.figure_units = {str(f): _unit(g["unit"].iloc[0]) for f, g in main.groupby("figure")}
        self.frame = frame
        self.met = frame["status"] == "optimal" if "status" in frame else pd.Series(dtype=bool)
        self.missed = frame["status"] == "target_missed" if "status" in frame else pd.Series(dtype=bool)
        target = manifest.get("target") or {}
        self.target_text = str(target.get("text") or "")
        self.target_year = target.get("year_used") or target.get("year")
        self.kind = target.get("kind", "power")

    def values(self, key: str) -> list[float]:
        col = self.frame.get(key)
        return sorted({round(float(x), 12) for x in col if finite(x)}) if col is not None else []

    def fig(self, name: str, mask=None) -> np.ndarray:
        col = self.frame.get(name)
        if col is None:
            return np.array([])
        col = col if mask is None else col[mask]
        return np.array([float(x) for x in col if finite(x)])


def answer(sw: Sweep) -> tuple[str, list[str]]:
    """The answer sentence and its follow-ups."""
    n = len(sw.frame)
    n_met, n_missed = int(sw.met.sum()), int(sw.missed.sum())
    n_failed = n - n_met - n_missed
    target = f"the {sw.target_text} target" if sw.target_text else "the target"
    if n_missed == 0 and n_met == n:
        head = f"All {n} cases meet {target}"
    elif n_met == 0:
        head = f"No case of the {n} meets {target}"
    else:
        head = f"{n_met} of {n} cases meet {target} and {n_missed} miss it"
    if n_failed:
        head += f"; {n_failed} of the {n} have no plan"
    more: list[str] = failure_sentences(sw)
    cap_name = "capacity_in_service" if sw.kind == "power" else "compute_in_service"
    cap_unit = sw.figure_units.get(cap_name, "GW")
    for key in sw.keys:
        vals = sw.values(key)
        if len(vals) < 2:
            continue
        unit = sw.key_units.get(key, "")
        col = sw.frame[key]
        grouped = sw.manifest.get("method") in ("grid", "oat") and len(vals) <= 7
        if grouped:
            at = [np.isclose(col.astype(float), v) for v in vals]
            caps = [np.sort(sw.fig(cap_name, mask)) for mask in at]
            same = all(len(c) == len(caps[0]) and np.allclose(c, caps[0], rtol=1e-6, atol=1e-6) for c in caps)
            if same and len(caps[0]):
                text = f"{key_label(key)} does not change the capacity"
                cost_medians = [float(np.median(c)) for c in (sw.fig("total_cost", mask & sw.met) for mask in at)
                                if len(c)]
                if len(cost_medians) >= 2:
                    text += (f"; from {fmt.quantity(vals[0], unit)} to {fmt.quantity(vals[-1], unit)} it moves the "
                             f"median cost of the plans that meet the target from "
                             f"{fmt.quantity(cost_medians[0], 'USD')} to {fmt.quantity(cost_medians[-1], 'USD')}")
                more.append(text + ".")
                continue
            reach = [f"{key_label(key)} {fmt.quantity(v, unit)} reaches only {fmt.quantity(c.max(), cap_unit)}"
                     for v, c, mask in zip(vals, caps, at) if len(c) and not (sw.met & mask).any()]
            if reach:
                more.append("; ".join(reach) + ".")
            elif caps and all(len(c) for c in caps):
                more.append(f"{key_label(key)} moves the capacity from "
                            f"{fmt.quantity(float(np.median(caps[0])), cap_unit)} to "
                            f"{fmt.quantity(float(np.median(caps[-1])), cap_unit)} (medians at its ends); some "
                            "case meets the target at each of its values.")
        if not grouped and sw.met.any() and sw.missed.any():
            x = col.astype(float)
            met_x, missed_x = x[sw.met], x[sw.missed]
            if met_x.max() < missed_x.min():
                more.append(f"Every case with {key_label(key)} above {fmt.quantity(float(met_x.max()), unit)} "
                            "misses the target.")
            elif missed_x.max() < met_x.min():
                more.append(f"Every case with {key_label(key)} below {fmt.quantity(float(met_x.min()), unit)} "
                            "misses the target.")
    dominant = dominant_input(sw)
    if dominant:
        more.append(dominant)
    return head + ".", more


def dominant_input(sw: Sweep) -> str:
    """A sentence on the input that moves the cost most (Sobol total index, Morris mu*, or rank correlation)."""
    set_dir = sw.manifest.get("_set_dir")
    if set_dir is None:
        return ""
    for name, col, word in (("sobol", "ST", "total Sobol index"), ("morris", "mu_star", "Morris mu*"),
                            ("oat", "swing", "swing from its low to its high value"),
                            ("correlations", "spearman", "rank correlation")):
        df = read_csv(Path(set_dir) / f"{name}.csv")
        if df is None or col not in df.columns:
            continue
        cost = df[(df["figure"] == "total_cost")]
        cost = cost[[finite(x) for x in cost[col]]]
        if cost.empty:
            continue
        row = cost.loc[cost[col].abs().idxmax()]
        value = float(row[col])
        shown = fmt.quantity(abs(value), "USD") if name == "oat" else (
            fmt.quantity(value, "USD") if name == "morris" else fmt.sig(value, 2))
        return f"What moves the cost most: {key_label(row['key'])} ({word} {shown})."
    return ""


def render(set_dir: Path, manifest: Mapping[str, Any] | None = None) -> str:
    """The sweep's ``report.html``, from its files."""
    set_dir = Path(set_dir)
    manifest = {**manifest_of(set_dir, manifest), "_set_dir": str(set_dir)}
    sw = Sweep(set_dir, manifest)
    method = str(manifest.get("method", ""))
    head, more = answer(sw)
    n_met, n_missed = int(sw.met.sum()), int(sw.missed.sum())
    n_failed = len(sw.frame) - n_met - n_missed
    tone = ("All met", "#1a7f37") if n_missed == 0 and n_met == len(sw.frame) else (
        ("Some without a plan", "#b35900") if n_met and n_failed and not n_missed else
        ("Some missed", "#b35900") if n_met else ("None met", "#b42318"))
    v = verdict(tone[0], tone[1], head, more)

    cost_met = sw.fig("total_cost", sw.met)
    cap_all = sw.fig("capacity_in_service" if sw.kind == "power" else "compute_in_service")
    cap_unit = sw.figure_units.get("capacity_in_service" if sw.kind == "power" else "compute_in_service", "GW")
    cards = [card("Cases", str(len(sw.frame)), f"{n_met} meet the target, {n_missed} miss it"
                  + (f", {n_failed} have no plan" if n_failed else ""), "warn" if n_missed or n_failed else "")]
    if len(cost_met):
        cards.append(card("Cost where the target is met", fmt.span(cost_met.min(), cost_met.max(), "USD"),
                          f"median {fmt.quantity(float(np.median(cost_met)), 'USD')}"))
    if len(cap_all):
        cards.append(card("Capacity reached", fmt.span(cap_all.min(), cap_all.max(), cap_unit),
                          f"in {sw.target_year}" if sw.target_year else ""))
    cards.append(card("Method", {"oat": "one at a time", "grid": "grid", "montecarlo": "Monte Carlo",
                                 "sobol": "Sobol", "morris": "Morris"}.get(method, method),
                      f"{len(sw.keys)} input{'s' if len(sw.keys) != 1 else ''} varied"))

    pictures = [
        image(heatmap(sw, set_dir), "Heat map of the two-key grid"),
        image(tornado(set_dir, sw), "Tornado"),
        image(indices_plot(set_dir, "sobol"), "Sobol indices"),
        image(indices_plot(set_dir, "morris"), "Morris screening"),
        image(distributions(sw, set_dir), "Distributions of cost and capacity"),
        image(fan(set_dir, sw), "Capacity by year over the cases"),
    ]
    sections = [
        section("pictures", "What moved the answer", [p(t, "note") for t in flat_figures(sw)]
                + [figures_block(pictures, one_column=True)], nav="Pictures"),
        section("inputs", "Inputs swept", [table_block(table(
            ["input", "values", "unit"],
            [[key_label(k["key"]), _range(k), _unit(k.get("unit")) or "a plain number"]
             for k in manifest.get("keys") or []]))] + [p(str(n), "note") for n in
                                                         (manifest.get("fast_path") or {}).get("notes", [])]),
        section("sensitivity", "Sensitivity tables", sensitivity_blocks(set_dir, sw), nav="Sensitivity"),
        section("cases", "Cases", case_blocks(sw)),
        section("provenance", "Provenance", [table_block(table(["", ""], provenance_rows(manifest) + [
            ["seed", str(manifest.get("seed", ""))],
            ["fast path", ("on" if (manifest.get("fast_path") or {}).get("on") else "off") + "; cases solved: "
             + ", ".join(f"{k} {v}" for k, v in ((manifest.get("fast_path") or {}).get("paths") or {}).items())]]))]),
    ]
    return page("sweep.html", title=f"Sweep {method}", heading=f"Sweep: {len(sw.keys)} input"
                f"{'s' if len(sw.keys) != 1 else ''} varied, {len(sw.frame)} cases",
                subheading=f"Scenario {manifest.get('scenario', '')}; target {sw.target_text or 'as in the inputs'}"
                           + (f" by {sw.target_year}" if sw.target_year else ""),
                verdict=v, headline=cards, sections=sections,
                footer="Written by compute-energy-plan sweep; every case in summary.csv, cases.csv and status.csv.")


def _range(k: Mapping[str, Any]) -> str:
    unit = _unit(k.get("unit"))
    if "low" in k and "high" in k:
        return f"{fmt.quantity(k['low'], unit)} to {fmt.quantity(k['high'], unit)}"
    params = ", ".join(f"{name} {fmt.sig(float(v), 3)}" for name, v in k.items()
                       if name not in ("key", "unit", "option", "distribution") and fmt.is_number(v))
    return f"{k.get('distribution', 'distribution')} ({params})"


# ----------------------------------------------------------------------------
# Tables
# ----------------------------------------------------------------------------
def sensitivity_blocks(set_dir: Path, sw: Sweep) -> list[Any]:
    blocks: list[Any] = []
    specs = {
        "oat": ("Each input alone from its low to its high value", [
            ("key", "input", None), ("low_value", "low value", "input"), ("high_value", "high value", "input"),
            ("at_low", "figure at low", "fig"), ("at_high", "figure at high", "fig"), ("swing", "swing", "fig")]),
        "sobol": ("Sobol indices (share of the variance; 95 % confidence intervals)", [
            ("key", "input", None), ("S1", "first order", "idx"), ("S1_conf", "± (95 %)", "idx"),
            ("ST", "total", "idx"), ("ST_conf", "± (95 %)", "idx")]),
        "morris": ("Morris screening (mean absolute effect mu* and spread sigma, in the figure's unit)", [
            ("key", "input", None), ("mu_star", "mu*", "fig"), ("mu_star_conf", "± (95 %)", "fig"),
            ("sigma", "sigma", "fig")]),
        "correlations": ("Rank correlation of each figure with each input (Spearman, over the cases with the figure)",
                         [("key", "input", None), ("spearman", "Spearman rho", "idx"), ("cases", "cases", "count")]),
    }
    for name, (title, cols) in specs.items():
        df = read_csv(set_dir / f"{name}.csv")
        if df is None or df.empty:
            continue
        blocks.append(h3(title))
        for figure, g in df.groupby("figure", sort=False):
            unit = _unit(g["unit"].iloc[0]) if "unit" in g else ""
            header = [_with_unit(label, unit) if kind == "fig" else label for _, label, kind in cols]
            rows = []
            for r in g.itertuples():
                row = []
                for col, _, kind in cols:
                    x = getattr(r, col, None)
                    if col == "key":
                        row.append(key_label(x))
                    elif kind == "input":
                        row.append(fmt.quantity(x, sw.key_units.get(r.key, "")))
                    elif kind == "fig":
                        row.append(fmt.quantity(x, unit, missing="n/a (cases without a plan)"))
                    elif kind == "count":
                        row.append(f"{int(x):,}" if finite(x) else "n/a")      # exact: 1,024 cases, not 1,000
                    else:
                        row.append(_index_text(x))
                rows.append(row)
            note = str(getattr(g.iloc[0], "note", "") or "") if "note" in g else ""
            blocks.append(table_block(table(header, rows, numeric=range(1, len(cols)),
                                            caption=FIGURES.get(str(figure), fmt.words(str(figure)))
                                            + (f" ({note})" if note and note != "nan" else ""))))
    return blocks or [p("This method writes no sensitivity table.")]


def _index_text(x: Any) -> str:
    """A sensitivity index or correlation (a share or a ratio, at most 1 in size) to 2 significant digits;
    below a millionth it is the analysis's round-off (SALib gives 2.3e-16 for an input that moves nothing): 0."""
    if not finite(x):
        return "n/a"
    return "0" if abs(float(x)) < 1e-6 else fmt.sig(float(x), 2)


def case_blocks(sw: Sweep, limit: int = 200) -> list[Any]:
    figs = [f for f in ("total_cost", "capacity_in_service", "compute_in_service", "facility_power", "max_reachable",
                        "marginal_cost_of_target") if f in sw.frame.columns]
    header = ["case"] + [_with_unit(key_label(k), sw.key_units.get(k, "")) for k in sw.keys] + ["status"] + \
             [FIGURES.get(f, fmt.words(f)) for f in figs]
    rows, cells = [], {}
    for i, (case, r) in enumerate(sw.frame.head(limit).iterrows()):
        status = str(r.get("status", ""))
        row = [str(case)] + [fmt.quantity(r.get(k), sw.key_units.get(k, ""), missing="base data") for k in sw.keys]
        row.append({"optimal": "target met", "target_missed": "target missed"}.get(status, fmt.words(status).lower()))
        for f in figs:
            missing = "not reached" if f == "max_reachable" and status == "optimal" else "n/a"
            if f == "max_reachable" and status == "optimal":
                missing = "target met"
            row.append(fmt.quantity(r.get(f), sw.figure_units.get(f, ""), missing=missing))
        if status != "optimal":
            cells[(i, len(sw.keys) + 1)] = "missed"
        rows.append(row)
    t = table(header, rows, numeric=[i for i in range(len(header)) if i != len(sw.keys) + 1], cell_class=cells)
    n = len(sw.frame)
    blocks = [p(f"The first {min(n, limit)} of {n} cases; all are in summary.csv.", "note")] if n > limit else []
    title = f"All {n} cases" if n <= limit else f"The first {limit} of {n} cases (all in summary.csv)"
    return blocks + [table_block(t) if n <= 30 else details(title, [table_block(t)])]


# ----------------------------------------------------------------------------
# Pictures
# ----------------------------------------------------------------------------
def money_scale(unit: str, values: Any) -> tuple[float, str]:
    """Divisor and unit words for an axis: trillion, billion or million USD by the largest value; else the unit."""
    if unit != "USD":
        return 1.0, unit
    top = max([abs(float(v)) for v in np.ravel(values) if finite(v)] or [0.0])
    for scale, word in ((1e12, "trillion USD"), (1e9, "billion USD"), (1e6, "million USD")):
        if top >= scale:
            return scale, word
    return 1.0, "USD"


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def heatmap(sw: Sweep, set_dir: Path) -> bytes | None:
    """A two-key grid as heat maps of capacity and cost; missed cells marked, cells without a plan grey."""
    if sw.manifest.get("method") != "grid" or len(sw.keys) != 2:
        return None
    plt = _plt()
    kx, ky = sw.keys
    xs, ys = sw.values(kx), sw.values(ky)
    if len(xs) < 2 or len(ys) < 2:
        return None
    cap_name = "capacity_in_service" if sw.kind == "power" else "compute_in_service"
    panels = [(name, cmap, FIGURES[name]) for name, cmap in ((cap_name, "viridis"), ("total_cost", "magma_r"))
              if varies(sw.fig(name))]          # a figure the same in every case is said in words, not drawn
    if not panels:
        return None
    with plt.rc_context(PLOT_STYLE):
        fig, axes = plt.subplots(1, len(panels), figsize=(6 * len(panels), 0.45 * len(ys) + 2.6), squeeze=False)
        axes = axes[0]
        for ax, (name, cmap, title) in zip(axes, panels):
            unit = sw.figure_units.get(name, "")
            grid = np.full((len(ys), len(xs)), np.nan)
            status = np.full((len(ys), len(xs)), "", dtype=object)
            for _, r in sw.frame.iterrows():
                if not (finite(r.get(kx)) and finite(r.get(ky))):
                    continue
                i = int(np.argmin([abs(y - r[ky]) for y in ys]))
                j = int(np.argmin([abs(x - r[kx]) for x in xs]))
                grid[i, j] = r.get(name) if finite(r.get(name)) else np.nan
                status[i, j] = r.get("status", "")
            scale, word = money_scale(unit, grid)
            shown = grid / scale
            im = ax.imshow(np.ma.masked_invalid(shown), origin="lower", aspect="auto", cmap=cmap)
            for i in range(len(ys)):
                for j in range(len(xs)):
                    text = "no plan" if not finite(grid[i, j]) else fmt.quantity(grid[i, j], unit).replace(" USD", "")
                    missed = status[i, j] == "target_missed"
                    dark = False
                    if finite(shown[i, j]):
                        r_, g_, b_, _ = im.cmap(im.norm(shown[i, j]))
                        dark = 0.299 * r_ + 0.587 * g_ + 0.114 * b_ < 0.55
                    ax.text(j, i, text + ("\nmissed" if missed else ""), ha="center", va="center", fontsize=7.5,
                            color="white" if dark else "black", fontweight="bold" if missed else "normal")
                    if missed:
                        ax.add_patch(plt.Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, ec=MISSED, lw=2))
            ax.set_xticks(range(len(xs)), [fmt.quantity(x, sw.key_units.get(kx, "")) for x in xs])
            ax.set_yticks(range(len(ys)), [fmt.quantity(y, sw.key_units.get(ky, "")) for y in ys])
            ax.set_xlabel(key_label(kx))
            ax.set_ylabel(key_label(ky))
            ax.set_title(f"{title} ({word}); red frame: target missed", loc="left", fontsize=9.5)
            fig.colorbar(im, ax=ax, fraction=0.04)
        fig.tight_layout()
        return save_figure(fig, set_dir, "heatmap.png")


def tornado(set_dir: Path, sw: Sweep) -> bytes | None:
    """Each input alone from low to high: bars of cost around the base case; an end that misses the target in red."""
    df = read_csv(set_dir / "oat.csv")
    if df is None or df.empty:
        return None
    plt = _plt()
    status = sw.frame["status"] if "status" in sw.frame else None
    cap_name = "capacity_in_service" if sw.kind == "power" else "compute_in_service"
    panels = [f for f in ("total_cost", cap_name) if f in set(df["figure"])]
    with plt.rc_context(PLOT_STYLE):
        fig, axes = plt.subplots(1, len(panels), figsize=(6.2 * len(panels), 0.5 * df["key"].nunique() + 2.2),
                                 squeeze=False)
        for ax, name in zip(axes[0], panels):
            g = df[df["figure"] == name].copy()
            unit = _unit(g["unit"].iloc[0])
            scale, word = money_scale(unit, g[["at_low", "at_high", "base"]].values)
            g["order"] = g["swing"].fillna(-1)
            g = g.sort_values("order", ascending=True)
            base = float(g["base"].iloc[0]) / scale if finite(g["base"].iloc[0]) else 0.0
            for i, r in enumerate(g.itertuples()):
                for end, case in ((r.at_low, r.low_case), (r.at_high, r.high_case)):
                    st = str(status.get(case, "")) if status is not None else ""
                    if not finite(end):
                        ax.text(base, i, "  no plan", va="center", fontsize=7.5, color=FAILED)
                        continue
                    colour = MISSED if st == "target_missed" else MET
                    ax.barh(i, float(end) / scale - base, left=base, color=colour, alpha=0.85, height=0.6)
            ax.axvline(base, color="black", lw=0.8)
            ax.set_yticks(range(len(g)), [f"{key_label(k)} {fmt.quantity(lo, sw.key_units.get(k, ''))} to "
                                          f"{fmt.quantity(hi, sw.key_units.get(k, ''))}"
                                          for k, lo, hi in zip(g["key"], g["low_value"], g["high_value"])],
                          fontsize=8)
            ax.set_xlabel(f"{FIGURES.get(name, name)} ({word})")
            ax.grid(alpha=0.3, axis="x")
            ax.set_title(f"{FIGURES.get(name, name).split(' (')[0]}: each input alone", loc="left")
        from matplotlib.patches import Patch

        fig.legend(handles=[Patch(color=MET, label="target met at this end"),
                            Patch(color=MISSED, label="target missed at this end")],
                   loc="lower center", ncol=2, frameon=False, fontsize=8)
        fig.tight_layout(rect=(0, 0.07, 1, 1))
        return save_figure(fig, set_dir, "tornado_marked.png")


def indices_plot(set_dir: Path, name: str) -> bytes | None:
    """Sobol S1/ST or Morris mu* as bars with their 95 % confidence intervals, per figure."""
    df = read_csv(set_dir / f"{name}.csv")
    if df is None or df.empty:
        return None
    plt = _plt()
    figs = [f for f in ("total_cost", "capacity_in_service", "facility_power") if f in set(df["figure"])]
    with plt.rc_context(PLOT_STYLE):
        fig, axes = plt.subplots(1, len(figs), figsize=(4.4 * len(figs) + 0.6, 0.45 * df["key"].nunique() + 2.2),
                                 squeeze=False)
        for ax, f in zip(axes[0], figs):
            g = df[df["figure"] == f]
            y = np.arange(len(g))
            labels = [key_label(k) for k in g["key"]]
            if name == "sobol":
                for off, col, conf, colour, lab in ((-0.18, "S1", "S1_conf", "#4c72b0", "first order"),
                                                    (0.18, "ST", "ST_conf", "#dd8452", "total")):
                    vals = np.nan_to_num(g[col].astype(float).values)
                    err = np.nan_to_num(g[conf].astype(float).values)
                    ax.barh(y + off, vals, 0.34, xerr=err, color=colour, label=lab, capsize=3)
                ax.set_xlabel("share of the variance")
            else:
                unit = _unit(g["unit"].iloc[0])
                scale = 1e9 if unit == "USD" else 1.0
                ax.barh(y, np.nan_to_num(g["mu_star"].astype(float).values) / scale, 0.5,
                        xerr=np.nan_to_num(g["mu_star_conf"].astype(float).values) / scale, color="#4c72b0",
                        capsize=3, label="mu*")
                ax.set_xlabel(f"mu* ({'billion USD' if unit == 'USD' else unit})")
            note = str(g["note"].iloc[0]) if "note" in g and isinstance(g["note"].iloc[0], str) else ""
            ax.set_yticks(y, labels)
            ax.invert_yaxis()
            ax.set_title(FIGURES.get(f, f).split(" (")[0] + ("\n(" + note + ")" if note else ""), loc="left",
                         fontsize=9)
            ax.grid(alpha=0.3, axis="x")
        axes[0][0].legend(frameon=False, fontsize=8, loc="lower right")
        fig.tight_layout()
        return save_figure(fig, set_dir, f"{name}_bars.png")


def distributions(sw: Sweep, set_dir: Path) -> bytes | None:
    """Histograms of cost and capacity over the cases, met and missed apart (whole counts)."""
    if len(sw.frame) < 3:
        return None
    plt = _plt()
    from matplotlib.ticker import MaxNLocator

    cap_name = "capacity_in_service" if sw.kind == "power" else "compute_in_service"
    names = [n for n in ("total_cost", cap_name) if varies(sw.fig(n))]   # a flat figure is said in words
    if not names:
        return None
    with plt.rc_context(PLOT_STYLE):
        fig, axes = plt.subplots(1, len(names), figsize=(4.5 * len(names) + 0.5, 3.6), squeeze=False)
        axes = axes[0]
        for ax, name in zip(axes, names):
            unit = sw.figure_units.get(name, "")
            scale, word = money_scale(unit, sw.fig(name))
            met, missed = sw.fig(name, sw.met) / scale, sw.fig(name, sw.missed) / scale
            both = np.concatenate([met, missed])
            if not len(both):
                ax.set_visible(False)
                continue
            lo, hi = float(both.min()), float(both.max())
            bins = np.linspace(lo, hi if hi > lo else lo + 1e-9, min(20, max(3, len(both) // 2)) + 1)
            ax.hist([met, missed], bins=bins, stacked=True, color=[MET, MISSED],
                    label=[f"target met ({len(met)})", f"target missed ({len(missed)})"])
            ax.yaxis.set_major_locator(MaxNLocator(integer=True))
            ax.set_xlabel(f"{FIGURES.get(name, name)} ({word})")
            ax.set_ylabel("cases")
            ax.grid(alpha=0.3, axis="y")
            ax.legend(frameon=False, fontsize=8, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2)
        fig.tight_layout()
        return save_figure(fig, set_dir, "distributions_met_missed.png")


def fan(set_dir: Path, sw: Sweep) -> bytes | None:
    """Capacity by year: the band and median of the cases that meet the target; missed cases as thin lines."""
    path = set_dir / "solution.nc"
    if not path.exists():
        return None
    import xarray as xr

    try:
        with xr.open_dataset(path) as ds:
            if "in_service_gw" not in ds:
                return None
            cap = ds["in_service_gw"].sum("offer", min_count=1).load()
    except (OSError, ValueError):
        return None
    plt = _plt()
    years = cap.year.values
    status = {int(c): str(s) for c, s in sw.frame["status"].items()} if "status" in sw.frame else {}
    met = [c for c in cap.case.values if status.get(int(c)) == "optimal"]
    missed = [c for c in cap.case.values if status.get(int(c)) == "target_missed"]
    with plt.rc_context(PLOT_STYLE):
        fig, ax = plt.subplots(figsize=(9, 3.8))
        for c in missed:
            ax.plot(years, cap.sel(case=c).values, color=MISSED, lw=0.7, alpha=0.5)
        if met:
            m = cap.sel(case=met).values
            ax.fill_between(years, np.nanpercentile(m, 5, axis=0), np.nanpercentile(m, 95, axis=0), color=MET,
                            alpha=0.25, lw=0, label="cases that meet the target: 5-95 %")
            ax.plot(years, np.nanmedian(m, axis=0), color=MET, lw=2, label="their median")
        if missed:
            ax.plot([], [], color=MISSED, lw=0.7, label="cases that miss the target")
        if sw.kind == "power" and sw.target_text and sw.target_year:
            from model.units import QUANTITY_ERRORS, parse_quantity

            try:
                tq = parse_quantity(sw.target_text).to("GW").magnitude
                ax.axhline(tq, color="black", ls="--", lw=0.9)
                ax.annotate(f"target {sw.target_text} by {sw.target_year}", (years[0], tq), xytext=(2, 4),
                            textcoords="offset points", fontsize=8)
                ax.set_ylim(0, max(ax.get_ylim()[1], tq * 1.1))
            except QUANTITY_ERRORS as exc:  # a target text that is not a power: no line drawn, and said so
                print(f"  note: the target line is not drawn: target {sw.target_text!r}: {exc}", file=sys.stderr)
        ax.set_ylabel("GW of IT capacity in service")
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.set_title("Capacity by year over the cases", loc="left")
        ax.legend(frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
        ax.grid(alpha=0.3)
        fig.tight_layout()
        return save_figure(fig, set_dir, "fan_met_missed.png")
