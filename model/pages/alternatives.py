"""The page of a set of near-optimal alternatives (modelling to generate alternatives).

It opens with what the cost slack buys ("+5 % cost lets self-build drop from
124 to 45 GW"), then the figures, a picture of each plan's vendor and host mix
(one colour per company, legends beside the bars, never over them), the GW by
vendor and host in a table, and provenance last.
"""
from __future__ import annotations

import re

from pathlib import Path
from typing import Any, Mapping, Sequence

from model import fmt
from model.colours import colour
from model.pages import (PLOT_STYLE, card, figure_block, finite, image, manifest_of, names_of, p, page,
                         provenance_rows, read_csv, read_json, save_figure, section, table, table_block, verdict)


def _mix(set_dir: Path, summary: Mapping[str, Any]) -> dict[str, dict[str, dict[str, float]]]:
    """``{alternative: {dimension: {id: GW}}}`` from tables/mix.csv, else from the summary."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    df = read_csv(set_dir / "tables" / "mix.csv")
    if df is not None and {"alternative", "dimension", "key", "value"} <= set(df.columns):
        for r in df.itertuples():
            out.setdefault(str(r.alternative), {}).setdefault(str(r.dimension), {})[str(r.key)] = float(r.value)
        return out
    for a in summary.get("alternatives") or []:
        for dim in ("vendor", "host"):
            out.setdefault(a["name"], {})[dim] = {k: float(f["value"]) for k, f in
                                                  (a.get(f"capacity_by_{dim}") or {}).items()}
    return out


def swings(mix: Mapping[str, Mapping[str, Mapping[str, float]]], reference: str,
           names: Mapping[str, Mapping[str, str]]) -> list[dict[str, Any]]:
    """For each alternative, its largest change in any vendor's or host's GW against the reference plan."""
    ref = mix.get(reference, {})
    out = []
    for alt, dims in mix.items():
        if alt == reference:
            continue
        best = None
        for dim, members in dims.items():
            for key, gw in members.items():
                base = ref.get(dim, {}).get(key, 0.0)
                if best is None or abs(gw - base) > abs(best["to"] - best["from"]):
                    best = {"alternative": alt, "dimension": dim, "key": key, "from": base, "to": gw,
                            "who": names.get(dim, {}).get(key, key)}
        if best is not None:
            out.append(best)
    out.sort(key=lambda s: -abs(s["to"] - s["from"]))
    return out


def render(set_dir: Path, manifest: Mapping[str, Any] | None = None) -> str:
    """The alternatives set's ``report.html``, from its files."""
    set_dir = Path(set_dir)
    summary = read_json(set_dir / "summary.json")
    manifest = manifest_of(set_dir, manifest)
    names = names_of(set_dir, manifest)
    mix = _mix(set_dir, summary)
    alts = summary.get("alternatives") or []
    order = [a["name"] for a in alts] or list(mix)
    reference = order[0] if order else ""
    cost_of = {a["name"]: a.get("total_cost", {}).get("value") for a in alts}
    rise_of = {a["name"]: a.get("cost_increase", {}).get("value") for a in alts}
    slack = (summary.get("slack") or {}).get("value")
    least = summary.get("least_cost")
    ty = summary.get("target_year")
    sw = swings(mix, reference, names)

    if summary.get("status") == "optimal" and alts:
        word, colour_ = "Room to choose", "#1a7f37"
        if sw and abs(sw[0]["to"] - sw[0]["from"]) > 0.05:
            s0 = sw[0]
            verb = "drop" if s0["to"] < s0["from"] else "grow"
            sentence = (f"{fmt.percent(rise_of.get(s0['alternative']) or slack, signed=True)} cost lets "
                        f"{s0['who']} ({s0['dimension']}) {verb} from {fmt.quantity(s0['from'], 'GW')} to "
                        f"{fmt.quantity(s0['to'], 'GW')} in {ty}: {len(alts)} plans within "
                        f"{fmt.percent(slack)} of the least cost ({fmt.figure(least)}) differ that much in their mix.")
        else:
            sentence = (f"The {len(alts)} plans within {fmt.percent(slack)} of the least cost ({fmt.figure(least)}) "
                        "barely differ: the least-cost mix is nearly forced.")
        more = [f"{fmt.percent(rise_of.get(s['alternative']), signed=True)} cost, {plan_words(s['alternative'])}: "
                f"{s['who']} ({s['dimension']}) from {fmt.quantity(s['from'], 'GW')} to {fmt.quantity(s['to'], 'GW')}."
                for s in sw[1:4] if abs(s["to"] - s["from"]) > 0.05]
    else:
        word, colour_ = fmt.words(str(summary.get("status", "no plan"))), "#b42318"
        sentence, more = f"No alternatives: {summary.get('message', '')}", []
    v = verdict(word, colour_, sentence, more)
    cards = [card("Least cost", fmt.figure(least), "discounted"), card("Cost slack", fmt.percent(slack),
                                                                        "allowed above the least cost"),
             card("Plans kept", str(len(alts)), f"of {summary.get('candidates_solved', len(alts))} solved")]
    if sw:
        cards.append(card("Widest swing", fmt.quantity(abs(sw[0]["to"] - sw[0]["from"]), "GW"),
                          f"{sw[0]['who']} ({sw[0]['dimension']}) in {ty}"))

    sections = [
        section("pictures", "Each plan's mix", [figure_block(image(mix_plot(mix, order, rise_of, names, ty, set_dir),
                                                                   "Capacity by vendor and host per plan"))],
                nav="Pictures"),
        section("mix", "GW by vendor and host", mix_tables(mix, order, names, ty), nav="Table"),
        section("costs", "Cost of each plan", [table_block(table(
            ["plan", "discounted cost", "above the least cost"],
            [[n, fmt.quantity(cost_of.get(n), "USD"), fmt.percent(rise_of.get(n), signed=True) if rise_of.get(n)
              else "the least cost"] for n in order], numeric=(1, 2)))]),
        section("method", "How the plans were found", [p(
            "The least cost is solved first; then, with the total cost held within the slack, each vendor's and "
            "each host's capacity in the target year is minimised and maximised, and the plans that differ most "
            "from those already kept are kept (greedily, from the least-cost plan).")]),
        section("provenance", "Provenance", [table_block(table(["", ""], provenance_rows(manifest)))]),
    ]
    return page("alternatives.html", title="Near-optimal alternatives", heading="Near-optimal alternatives",
                subheading=f"Scenario {summary.get('scenario', '')}; plans within {fmt.percent(slack)} of the least "
                           f"cost, target year {ty}", verdict=v, headline=cards, sections=sections,
                footer="Written by compute-energy-plan alternatives; tables in tables/*.csv.")


def mix_tables(mix: Mapping[str, Mapping[str, Mapping[str, float]]], order: Sequence[str],
               names: Mapping[str, Mapping[str, str]], ty: Any) -> list[Any]:
    blocks: list[Any] = []
    for dim, word in (("vendor", "chip vendor"), ("host", "host")):
        keys = [k for k in dict.fromkeys(k for alt in order for k in mix.get(alt, {}).get(dim, {}))
                if any(abs(mix.get(alt, {}).get(dim, {}).get(k, 0.0)) > 1e-6 for alt in order)]
        if not keys:
            continue
        rows = [[names.get(dim, {}).get(k, k)] + [_gw(mix.get(alt, {}).get(dim, {}).get(k, 0.0)) for alt in order]
                for k in keys]
        blocks.append(table_block(table([f"{word} (GW in {ty})", *order], rows, numeric=range(1, len(order) + 1))))
    return blocks or [p("No plan to show.")]


def _gw(v: float) -> str:
    return "·" if abs(v) < 0.05 else f"{v:,.1f}"


def plan_words(name: str) -> str:
    """An alternative's name as a phrase: ``least AMD (vendor)`` -> ``the plan with the least AMD``."""
    m = re.fullmatch(r"(least|most) (.+?)(?: \((vendor|host)\))?", str(name))
    if str(name) == "least cost":
        return "the least-cost plan"
    return f"the plan with the {m.group(1)} {m.group(2)}" if m else f"the plan {name}"


def mix_plot(mix: Mapping[str, Mapping[str, Mapping[str, float]]], order: Sequence[str],
             rise_of: Mapping[str, Any], names: Mapping[str, Mapping[str, str]], ty: Any,
             set_dir: Path) -> bytes | None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    if not order:
        return None
    with plt.rc_context(PLOT_STYLE):
        fig, axes = plt.subplots(2, 1, figsize=(9, 2 * (0.42 * len(order) + 1.3)), sharex=True)   # one above the other
        for ax, (dim, word) in zip(axes, (("vendor", "chip vendor"), ("host", "host"))):
            keys = [k for k in dict.fromkeys(k for alt in order for k in mix.get(alt, {}).get(dim, {}))
                    if any(mix.get(alt, {}).get(dim, {}).get(k, 0.0) > 1e-6 for alt in order)]
            keys.sort(key=lambda k: -sum(mix.get(alt, {}).get(dim, {}).get(k, 0.0) for alt in order))
            left = np.zeros(len(order))
            for k in keys:
                vals = np.array([mix.get(alt, {}).get(dim, {}).get(k, 0.0) for alt in order])
                ax.barh(range(len(order)), vals, left=left, color=colour(dim, k), label=names.get(dim, {}).get(k, k))
                left += vals
            ax.set_title(f"Capacity by {word} in {ty} (GW)", loc="left")
            ax.grid(alpha=0.3, axis="x")
            ax.legend(frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
        labels = [f"{n} ({fmt.percent(rise_of.get(n), signed=True)})" if finite(rise_of.get(n)) and rise_of.get(n)
                  else (n if "least cost" in n else f"{n} (least cost)") for n in order]
        for ax in axes:
            ax.set_yticks(range(len(order)), labels)
            ax.invert_yaxis()
        fig.tight_layout()
        return save_figure(fig, set_dir, "alternatives_mix.png")
