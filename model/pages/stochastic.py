"""The page of a stochastic (two-stage) plan, rendered from its result set on disk.

It opens with the verdict (expected cost and its spread, the chance and size
of a miss), then VSS, EVPI and CVaR each with one sentence on what it means,
then pictures drawn from the set's tables: cost per future as a distribution
(not bars from zero), the hedge (what the first stage does differently from
the plan made for the expected future) and capacity paths per future; then
the tables; provenance last.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import numpy as np

from model import fmt
from model.pages.exposure import exposure_section, exposure_sentence
from model.pages import (PLOT_STYLE, bullets, card, figures_block, finite, image, manifest_of, names_of,
                         p, page, provenance_rows, read_csv, read_json, save_figure, section, table, table_block,
                         verdict)

MISSED, MET, LINE = "#c44e52", "#4c72b0", "#1f2328"


def _v(fig: Any) -> float | None:
    return float(fig["value"]) if isinstance(fig, dict) and finite(fig.get("value")) else None


#: What a page says of a figure its method does not compute (the decomposition reports no shortfall per future,
#: VSS, EVPI or CVaR): never "met" or "not finite", which would be claims.
NOT_COMPUTED = "not computed by this method"


def _reports_misses(summary: Mapping[str, Any]) -> bool:
    """Whether the set says, per future, if the target is met (the extensive form and PH do; the decomposition not)."""
    return "miss_probability" in summary or "shortfall_by_future" in summary


def render(set_dir: Path, manifest: Mapping[str, Any] | None = None) -> str:
    """The stochastic set's ``report.html``, from its files."""
    set_dir = Path(set_dir)
    summary = read_json(set_dir / "summary.json")
    manifest = manifest_of(set_dir, manifest)
    names = names_of(set_dir, manifest)
    futures = _futures(summary)
    status = str(summary.get("status", "unknown"))
    last = summary.get("first_stage_last_year")

    exp = _v(summary.get("expected_cost"))
    costs = [f["cost"] for f in futures if f["cost"] is not None]
    miss_p = _v(summary.get("miss_probability"))
    short = summary.get("expected_shortfall") or {}
    worst = max((f for f in futures if f["shortfall"] > 1e-6), key=lambda f: f["shortfall"], default=None)
    if status in ("optimal", "converged") and exp is not None:
        word, colour = (("Hedged plan", "#1a7f37") if not miss_p else ("Hedged plan, target at risk", "#b35900"))
        sentence = (f"Across {len(futures)} futures the hedged plan costs {fmt.quantity(exp, 'USD')} on expected "
                    f"value" + (_spread(costs) if costs else "") + "; ")
        if not _reports_misses(summary):
            sentence += "whether it meets the target in each future is " + NOT_COMPUTED + "."
        elif miss_p:
            sentence += (f"it misses the target with a {fmt.percent(miss_p)} chance, by up to "
                         f"{fmt.quantity(worst['shortfall'], short.get('unit', 'GW'))} (in '{worst['name']}'; "
                         f"expected shortfall {fmt.figure(short)}).")
        else:
            sentence += "it meets the target in every future."
    else:
        word, colour = fmt.words(status), "#b42318"
        sentence = f"No hedged plan: {summary.get('message', status)}."
    more = [exposure_sentence(summary)] + [meaning(summary, k) for k in ("vss", "evpi", "cvar")]
    hedge = summary.get("hedge") or []
    if hedge:
        more.append(f"The hedge, built by {last}: " + "; ".join(_hedge_words(h, names) for h in hedge[:3]) + ".")
    elif status == "optimal":
        more.append(f"The hedged first stage (to {last}) builds what the plan for the expected future builds.")
    v = verdict(word, colour, sentence, more)

    cards = [card("Expected cost", fmt.figure(summary.get("expected_cost")), "discounted, incl. penalties for misses")]
    if costs:
        cards.append(card("Cost by future", fmt.span(min(costs), max(costs), "USD"),
                          f"{len(futures)} futures"))
    if _reports_misses(summary):
        cards.append(card("Chance of missing the target", fmt.percent(miss_p) if miss_p is not None else "n/a",
                          f"expected shortfall {fmt.figure(short)}", "warn" if miss_p else ""))
    else:
        cards.append(card("Chance of missing the target", "not computed", NOT_COMPUTED))
    for key, word_ in (("vss", "Value of hedging (VSS)"), ("evpi", "Value of perfect information")):
        cards.append(card(word_, fmt.figure(summary.get(key), missing="not finite") if key in summary
                          else "not computed", "expected cost" if key in summary else NOT_COMPUTED))
    ci = summary.get("confidence_interval") or {}
    if ci.get("low") and ci.get("high"):
        cards.append(card(f"Expected cost, {fmt.percent(ci.get('level'))} interval",
                          fmt.span(_v(ci["low"]), _v(ci["high"]), "USD"),
                          ci.get("note") or ci.get("method", ""), "warn" if (_v(ci.get("relative_half_width")) or 0)
                          > 0.01 else ""))
    if summary.get("lower_bound"):
        cards.append(card("Lower bound", fmt.figure(summary.get("lower_bound")),
                          f"gap {fmt.percent(_v(summary.get('gap')))}" if summary.get("gap") else ""))
    cvar = summary.get("cvar") or {}
    cards.append(card(f"CVaR {fmt.percent(cvar.get('alpha'))}" if cvar.get("alpha") is not None else "CVaR",
                      fmt.figure(cvar) if cvar else "not computed",
                      "mean cost of the worst futures" if cvar else NOT_COMPUTED))

    sections = [
        section("pictures", "Futures, hedge and capacity", [figures_block([
            image(cost_plot(futures, exp, _v(cvar), set_dir), "Cost per future"),
            image(hedge_plot(hedge, names, last, set_dir), "The hedge")]),
            figures_block([image(paths_plot(set_dir, futures, last), "Capacity added per future")])],
            nav="Pictures"),
        section("meaning", "What the figures mean", [bullets([meaning(summary, k) for k in ("vss", "evpi", "cvar")]
                                                             + [_miss_words(summary)])]),
        section("futures", "The futures", [table_block(table(
            ["future", "probability", "discounted cost", "shortfall"],
            [[f["name"], fmt.percent(f["probability"]), fmt.quantity(f["cost"], "USD"),
              fmt.quantity(f["shortfall"], short.get("unit", "GW")) if f["shortfall"] > 1e-6
              else "target met" if _reports_misses(summary) else "not computed"]
             for f in futures], numeric=(1, 2, 3),
            cell_class={(i, 3): "missed" for i, f in enumerate(futures) if f["shortfall"] > 1e-6}))]),
        exposure_section(summary, set_dir),
        section("hedge", "What the hedged first stage does differently", [table_block(table(
            ["by", "what", "hedged plan", "plan for the expected future", "difference"],
            [[h.get("dimension", ""), _who(h, names), fmt.figure(h.get("hedged")),
              fmt.figure(h.get("expected_value_plan")), fmt.signed(_v(h.get("difference")) or 0.0, "GW")]
             for h in hedge], numeric=(2, 3, 4)))] if hedge else [p("Nothing: the first stages agree.")]),
        section("provenance", "Provenance", [
            p(f"Futures file: {summary.get('futures_file', '')}; first stage up to {last}; a missed GW costs "
              f"{fmt.figure(summary.get('penalty'))}."),
            p(str(summary.get("note"))) if summary.get("note") else None,
            table_block(table(["", ""], provenance_rows(manifest)))]),
    ]
    return page("stochastic.html", title="Plan across futures", heading="Plan across futures",
                subheading=f"{len(futures)} futures, first stage to {last}, "
                           f"{(summary.get('risk') or {}).get('measure', 'expected cost')}",
                verdict=v, headline=cards, sections=sections,
                footer="Written by compute-energy-plan stochastic; tables in tables/*.csv.")


def _spread(costs: list[float]) -> str:
    text = fmt.span(min(costs), max(costs), "USD")
    return f" ({text} by future)" if " to " in text else " (about the same in every future)"


def _futures(summary: Mapping[str, Any]) -> list[dict[str, Any]]:
    out = []
    shortfalls = summary.get("shortfall_by_future") or {}
    for name, fig in (summary.get("cost_by_future") or {}).items():
        out.append({"name": name, "cost": _v(fig), "probability": float(fig.get("probability") or 0.0),
                    "shortfall": _v(shortfalls.get(name)) or 0.0})
    return out


def _who(h: Mapping[str, Any], names: Mapping[str, Mapping[str, str]]) -> str:
    dim, key = str(h.get("dimension", "")), str(h.get("key", ""))
    if dim in names and key in names[dim]:
        return names[dim][key]
    return key.replace("_", " + ") if dim == "power" else key


def _hedge_words(h: Mapping[str, Any], names: Mapping[str, Mapping[str, str]]) -> str:
    d = _v(h.get("difference")) or 0.0
    dim = str(h.get("dimension", ""))
    what = f"{_who(h, names)} power" if dim == "power" else f"{_who(h, names)} ({dim})"
    return f"{fmt.signed(d, 'GW')} {what}"


def meaning(summary: Mapping[str, Any], key: str) -> str:
    """One sentence on what VSS, EVPI or CVaR means, with its value (or that its method does not compute it)."""
    if key not in summary:
        what = {"vss": "Value of the stochastic solution (VSS)", "evpi": "Expected value of perfect information (EVPI)",
                "cvar": "CVaR"}[key]
        return f"{what}: {NOT_COMPUTED}."
    if key == "vss":
        v = summary.get("vss")
        if _v(v) is None:
            return ("Value of the stochastic solution: not finite; the plan made for the expected future cannot be "
                    "carried through every future (see the note in provenance).")
        return (f"Value of the stochastic solution (VSS) {fmt.figure(v)}: the plan made for the expected future alone "
                "would cost this much more on expected value than the hedged plan.")
    if key == "evpi":
        return (f"Expected value of perfect information (EVPI) {fmt.figure(summary.get('evpi'), missing='n/a')}: "
                "what knowing the future before the first stage would save on expected value.")
    cvar = summary.get("cvar") or {}
    alpha = cvar.get("alpha")
    tail = f"{fmt.percent(1 - alpha)}" if fmt.is_number(alpha) else "some"
    return (f"CVaR {fmt.figure(cvar)}: the expected cost over the worst {tail} of futures by probability, "
            "the figure to quote to someone who fears the bad cases.")


def _miss_words(summary: Mapping[str, Any]) -> str:
    if not _reports_misses(summary):
        return "Whether the target is met in each future: " + NOT_COMPUTED + "."
    mp = _v(summary.get("miss_probability"))
    if not mp:
        return "The target is met in every future."
    return (f"Chance of missing the target {fmt.percent(mp)}: the total probability of the futures in which the "
            f"hedged plan falls short; on average it falls short by {fmt.figure(summary.get('expected_shortfall'))} "
            f"(each missed unit costs the penalty {fmt.figure(summary.get('penalty'))}).")


# ----------------------------------------------------------------------------
# Pictures
# ----------------------------------------------------------------------------
def cost_plot(futures: list[dict[str, Any]], expected: float | None, cvar: float | None, set_dir: Path) -> bytes | None:
    """Cost per future as a distribution: one dot per future (size by probability), the axis around the spread."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fs = sorted((f for f in futures if f["cost"] is not None), key=lambda f: f["cost"])
    if not fs:
        return None
    scale, word = (1e12, "trillion") if max(abs(f["cost"]) for f in fs) >= 1e12 else (1e9, "billion")
    x = np.array([f["cost"] for f in fs]) / scale
    import textwrap

    labels = [textwrap.fill(f"{f['name']} ({fmt.percent(f['probability'])})", 50) for f in fs]
    lines = sum(label.count("\n") + 1 for label in labels)
    with plt.rc_context(PLOT_STYLE):
        fig, ax = plt.subplots(figsize=(9, 0.24 * lines + 0.12 * len(fs) + 1.9))
        sizes = [30 + 400 * f["probability"] for f in fs]
        colours = [MISSED if f["shortfall"] > 1e-6 else MET for f in fs]
        ax.scatter(x, range(len(fs)), s=sizes, c=colours, zorder=3, alpha=0.9)
        ax.set_yticks(range(len(fs)), labels)       # whole names, wrapped: never cut with "..."
        lo, hi = float(x.min()), float(x.max())
        pad = max((hi - lo) * 0.15, abs(hi) * 0.003, 1e-9)
        ax.set_xlim(lo - pad, hi + pad)
        if expected is not None:
            ax.axvline(expected / scale, color=LINE, ls="--", lw=1, label="expected cost")
        if cvar is not None and lo - pad <= cvar / scale <= hi + pad:
            ax.axvline(cvar / scale, color="#8172b3", ls=":", lw=1.2, label="CVaR")
        ax.scatter([], [], c=MET, label="target met")
        if any(f["shortfall"] > 1e-6 for f in fs):
            ax.scatter([], [], c=MISSED, label="target missed")
        ax.legend(frameon=False, loc="lower left", ncol=4, bbox_to_anchor=(0.0, 1.0))
        ax.set_xlabel(f"discounted cost incl. penalties ({word} USD); dot size: probability")
        fig.suptitle("Cost per future", x=0.01, ha="left", fontweight="bold")
        ax.grid(alpha=0.3, axis="x")
        fig.tight_layout()
        return save_figure(fig, set_dir, "cost_by_future.png")


def hedge_plot(hedge: list[dict[str, Any]], names: Mapping[str, Mapping[str, str]], last: Any,
               set_dir: Path) -> bytes | None:
    """The hedge: hedged minus expected-value plan, GW built by the end of the first stage, by what differs."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    items = [h for h in hedge if _v(h.get("difference")) is not None][:12]
    if not items:
        return None
    with plt.rc_context(PLOT_STYLE):
        fig, ax = plt.subplots(figsize=(9, 0.36 * len(items) + 1.6))
        vals = [_v(h["difference"]) for h in items]
        unit, factor = ("MW", 1e3) if max(abs(v) for v in vals) < 1.0 else ("GW", 1.0)   # the unit the text uses
        vals = [v * factor for v in vals]
        ax.barh(range(len(items)), vals, color=["#55a868" if v > 0 else "#dd8452" for v in vals])
        ax.set_yticks(range(len(items)), [f"{_who(h, names)} ({h.get('dimension', '')})" for h in items])
        ax.invert_yaxis()
        ax.axvline(0, color=LINE, lw=0.8)
        ax.set_xlabel(f"{unit} built by {last}: hedged plan less the plan for the expected future")
        ax.set_title("The hedge: what the first stage does differently", loc="left")
        ax.grid(alpha=0.3, axis="x")
        fig.tight_layout()
        return save_figure(fig, set_dir, "hedge.png")


def paths_plot(set_dir: Path, futures: list[dict[str, Any]], last: Any) -> bytes | None:
    """Capacity added since the first year, per future (the set records builds; retirements are not subtracted)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    b = read_csv(set_dir / "tables" / "builds_by_future.csv")
    if b is None or b.empty or not {"future", "year", "value"} <= set(b.columns):
        return None
    wide = b.pivot_table(index="year", columns="future", values="value", aggfunc="sum").fillna(0.0).sort_index()
    cum = wide.cumsum()
    missed = {f["name"] for f in futures if f["shortfall"] > 1e-6}
    with plt.rc_context(PLOT_STYLE):
        fig, ax = plt.subplots(figsize=(9, 3.8))
        for name in cum.columns:
            ax.plot(cum.index, cum[name].values, color=MISSED if name in missed else MET, lw=1.2, alpha=0.75,
                    marker="o", ms=3)
        years = [int(y) for y in cum.index] + ([int(last)] if last is not None else [])
        ax.set_xlim(min(years) - 0.5, max(years) + 0.5)
        ax.set_ylim(0, max(float(cum.values.max()), 1e-9) * 1.1)
        ax.xaxis.get_major_locator().set_params(integer=True)
        if last is not None:
            ax.axvline(float(last), color=LINE, ls=":", lw=1)
            ax.annotate("end of the first stage", (float(last), ax.get_ylim()[1] * 0.95), xytext=(4, 0),
                        textcoords="offset points", fontsize=8)
        ax.plot([], [], color=MET, label="futures where the target is met")
        if missed:
            ax.plot([], [], color=MISSED, label="futures where it is missed")
        ax.legend(frameon=False, loc="lower right")
        ax.set_ylabel("GW of IT capacity added since the first year")
        ax.set_title("Capacity paths per future (capacity added, before retirements)", loc="left")
        ax.grid(alpha=0.3)
        fig.tight_layout()
        return save_figure(fig, set_dir, "capacity_paths.png")
