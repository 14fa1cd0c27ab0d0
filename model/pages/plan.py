"""The page of one plan (``report.html``), rendered from the result set on disk.

First screen: the verdict (target met or missed, at what cost and on which
basis, the money it needs), the figures that matter, the energy comparison;
then the pictures (capacity by vendor, the binding limits); then the binding
limits ranked by cost and rolled up by family, region and year; then the
detail (the plan over time, power, cost, assumptions to read before quoting,
calibration, inputs that differ); provenance last.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Mapping, Sequence

from markupsafe import Markup

from model import fmt
from model.summary import flatten_summary, override_entries
from model.pages.calibration import calibration_blocks
from model.pages.plan_detail import energy_references, money_blocks, plan_blocks, power_blocks
from model.pages import (source_cell, STATUS_STYLE, bullets, card, details, figures_block, finite, h3, image,
                         manifest_of, names_of, p, page, provenance_rows, read_csv, read_json, section, sha_table,
                         table, table_block, verdict)
from model.pages.shares import share_blocks
from model.pages.why import range_blocks, range_sentence, what_stops_blocks

#: Constraint families in words (the Pyomo component a binding limit belongs to).
FAMILIES = {
    "build_cap": "offer build caps", "cumulative_cap": "offer cumulative caps", "ramp": "offer ramps",
    "vendor_supply_cap": "vendor supply", "deal_minimum_gw": "deal minimums", "deal_maximum_gw": "deal maximums",
    "deal_minimum_spend": "deal minimum spending", "deal_maximum_spend": "deal maximum spending",
    "grid_power": "grid connection", "power_build_cap": "power build-out (yearly caps and lead times)",
    "power_cumulative_cap": "power build-out (cumulative caps)", "power_kind_supply_cap": "power equipment supply",
    "source_energy_cap": "energy per power source", "funding_balance": "funding",
    "debt_limit": "debt limit", "portfolio_share": "portfolio rules", "target_capacity": "the target",
    "milestone_capacity": "milestones", "target_compute": "the target", "milestone_compute": "milestones",
    "commitment": "scheduled deliveries and tranche caps", "terminal_debt": "terminal debt rule",
}
TARGET_FAMILIES = ("target_capacity", "target_compute", "milestone_capacity", "milestone_compute")


def render(set_dir: Path, manifest: Mapping[str, Any] | None = None) -> str:
    """``report.html`` of a plan's result set, from its files."""
    set_dir = Path(set_dir)
    summary = read_json(set_dir / "summary.json")
    manifest = manifest_of(set_dir, manifest)
    names = names_of(set_dir, manifest)
    status = str(summary.get("status", "unknown"))
    ty = summary.get("target_year")
    regions = _regions(set_dir, summary)
    limits = binding_frame(summary.get("binding") or [], regions, names)
    reach = binding_frame(summary.get("limits_on_reach") or [], regions, names)
    plots = set_dir / "plots"

    v = plan_verdict(summary, limits, reach, manifest)
    sections = [
        section("pictures", "The plan in pictures", [figures_block([
            image(plots / "capacity_by_vendor.png", "IT capacity in service by chip vendor"),
            # a missed plan's shadow prices carry the penalty on the shortfall: read them in the tables, not a bar
            image(plots / "binding.png", "Binding limits ranked by shadow price")
            if status == "optimal" and summary.get("objective") != "max-capacity" else None],
            one_column=True)], nav="Pictures"),
        section("why", "What stops more", what_stops_blocks(summary), nav="Why"),
        section("limits", "What limits the plan", limits_blocks(summary, limits, reach, regions), nav="Limits"),
        section("quote", "Read before quoting", range_blocks(summary) + quote_blocks(summary)),
        section("plan", "The plan over time", plan_blocks(set_dir, names, ty), nav="Plan"),
        section("power", "Power and energy", power_blocks(set_dir, summary, ty), nav="Power"),
        section("shares", "Shares of the world's supply", share_blocks(summary, names, ty), nav="Shares"),
        section("money", "Cost and money", money_blocks(set_dir, summary), nav="Money"),
        section("more", "More figures", more_blocks(summary, names)),
        section("inputs", "Inputs that differ from the base data", input_blocks(manifest), nav="Inputs"),
        section("provenance", "Provenance", [table_block(table(["", ""], provenance_rows(manifest))),
                                            details(f"sha256 of the {len(manifest.get('inputs_sha256') or {})} "
                                                    "input files", [table_block(t) for t in
                                                                    [sha_table(manifest.get("inputs_sha256") or {})]
                                                                    if t])]),
    ]
    scenario = str(summary.get("scenario") or manifest.get("scenario") or "")
    description = manifest.get("scenario_description") or ("The base data, no scenario applied."
                                                           if scenario in ("", "base") else "")
    return page("plan.html", title=f"Compute plan {scenario}", heading=f"Compute plan · {scenario}",
                subheading=str(description or ""), verdict=v, headline=headline_cards(summary), sections=sections,
                footer="Written by compute-energy-plan. Figures are model results on sourced public inputs, not "
                       "forecasts; inputs/README.md gives every input's source.")


# ----------------------------------------------------------------------------
# Verdict and headline
# ----------------------------------------------------------------------------
def _basis(fig: Any) -> str:
    return str(fig.get("basis", "")) if isinstance(fig, dict) else ""


def money_verdict(summary: Mapping[str, Any], manifest: Mapping[str, Any]) -> str:
    """``needs 8.3 trillion USD of borrowing by 2033; no debt limit set`` (or that it needs none)."""
    peak = summary.get("debt_peak")
    if not (isinstance(peak, dict) and finite(peak.get("value"))):
        debt = summary.get("debt")
        if isinstance(debt, dict) and debt and all(isinstance(x, dict) for x in debt.values()):
            year, fig = max(debt.items(), key=lambda kv: kv[1].get("value") or 0.0)
            peak = {"value": fig.get("value"), "unit": fig.get("unit", "USD"), "year": year}
        else:
            return ""
    limit = peak.get("limit") or summary.get("debt_limit")     # summary "debt_limit" is per year since issue 21
    limit_text = "no debt limit set"
    if isinstance(limit, dict) and finite(limit.get("value")):
        limit_text = f"within a debt limit of {fmt.figure(limit)}"
    elif any(str((o or {}).get("target", "")).startswith("debt_limit") for o in manifest.get("overrides") or []):
        limit_text = "within the debt limit set for this run"
    if not finite(peak.get("value")) or float(peak["value"]) <= 1e3:
        return "It needs no borrowing: revenue, equity and vendor financing cover the spending every year."
    return (f"It needs {fmt.figure(peak)} of borrowing by {peak.get('year', 'the last year')} "
            f"(the most debt outstanding in any year); {limit_text}.")


def energy_sentence(summary: Mapping[str, Any]) -> str:
    """``It uses 1,870 TWh in 2033: 3.6x Germany's use in 2024 (512 TWh), 2.0x ...``."""
    refs = energy_references(summary.get("energy_comparison"))
    energy = summary.get("energy")
    if not refs or not isinstance(energy, dict):
        return ""
    countries = [r for r in refs if "data centre" not in r["name"].lower()]
    first = (countries or refs)[0]
    rest = [r for r in refs if r is not first][:2]

    def ref(r: dict[str, Any], owner: bool) -> str:
        name = r["name"]
        name = name[:1].upper() + name[1:] if "data centre" not in name.lower() else name
        what = f"{name}'s use in {r['year']}" if owner else f"{name} in {r['year']}"
        return f"{r['times']:.1f}× {what} ({fmt.quantity(r['twh'], 'TWh')})"

    return (f"It uses {fmt.figure(energy)} of electricity in {summary.get('target_year')}: "
            + ref(first, "data centre" not in first["name"].lower())
            + "".join(f"; {ref(r, False)}" for r in rest) + ".")


def plan_verdict(summary: Mapping[str, Any], limits: list[dict[str, Any]], reach: list[dict[str, Any]],
                 manifest: Mapping[str, Any]) -> dict[str, Any]:
    status = str(summary.get("status", "unknown"))
    word, colour = STATUS_STYLE.get(status, (fmt.words(status), "#59636e"))
    ty = summary.get("target_year")
    target = summary.get("target")
    cost = summary.get("total_cost")
    basis = summary.get("total_cost_basis") or _basis(cost)
    more: list[str] = []
    reachable = summary.get("max_reachable")
    if summary.get("objective") == "max-capacity" and status == "optimal":
        word = "Most capacity"
        held = reachable if isinstance(reachable, dict) else (summary.get("capacity_in_service") or {}).get(str(ty))
        sentence = (f"Maximised: at most {fmt.figure(held, missing='an unknown amount')} of IT capacity can be in "
                    f"service from {ty} on within the limits; this plan holds it"
                    + (f", at a discounted cost of {fmt.figure(cost)}" if isinstance(cost, dict) else "") + ".")
        if reach or limits:
            more.append("What stops more: " + "; ".join(
                rollup_sentences([b for b in (reach or limits) if b["family"] not in TARGET_FAMILIES],
                                 _regions_count(summary))[:2]) + ".")
    elif status == "optimal" and isinstance(target, dict):
        sentence = (f"The plan holds {fmt.figure(target)} of IT capacity in service from {ty} on, at a discounted "
                    f"cost of {fmt.figure(cost)}{range_sentence(summary)}" + (f" ({basis})" if basis else "") + ".")
        if isinstance(reachable, dict) and finite(reachable.get("value")):
            more.append(f"{fmt.figure(reachable)} is the ceiling: the most that can be held in {ty} within the "
                        "limits" + (f" ({fmt.percent(float(reachable['value']) / float(target['value']) - 1)} "
                                    "above the target)." if target.get("value") and
                                    float(reachable["value"]) > float(target["value"]) * 1.005 else "."))
        t_limits = [b for b in limits if b["family"] in ("target_capacity", "target_compute")
                    and b.get("year") == ty]
        if t_limits:
            per_unit = t_limits[0]["unit"].split("/", 1)
            added = (fmt.quantity(abs(t_limits[0]["value"]), per_unit[0]) if len(per_unit) == 2
                     else fmt.quantity(abs(t_limits[0]["value"]), t_limits[0]["unit"]))
            more.append(f"Each {per_unit[-1]} more of the target would add {added} to that cost.")
        binds = summary.get("target_binds")
        if isinstance(binds, dict) and binds.get("value") is False:
            note = str(binds.get("note") or "the target does not bind: other limits drive the plan")
            more.insert(0, note[:1].upper() + note[1:] + ("" if note.endswith(".") else "."))
    elif status == "target_missed" and isinstance(target, dict):
        share = (float(reachable["value"]) / float(target["value"])
                 if isinstance(reachable, dict) and finite(reachable.get("value")) and target.get("value") else None)
        sentence = (f"The target of {fmt.figure(target)} by {ty} cannot be met: at most "
                    f"{fmt.figure(reachable, missing='an unknown amount')}{range_sentence(summary)}"
                    + (f" ({fmt.percent(share)} of the target)" if share is not None else "")
                    + " can be in service; the plan below is the least-cost plan for that figure"
                    + (f", at a discounted cost of {fmt.figure(cost)}" if isinstance(cost, dict) else "") + ".")
        if isinstance(summary.get("what_stops"), dict):
            more.append(str(summary["what_stops"].get("sentence", "")))
    elif status == "commitment_missed":
        sentence = ("The target is held, but a deal minimum or a scheduled tranche cannot be kept from the fixed "
                    f"history: {summary.get('message', '')}")
    elif status == "infeasible":
        sentence = ("The inputs contradict each other even without the target, so there is no plan; the limits "
                    "that would have to give are listed below.")
    else:
        sentence = f"The solver did not produce a plan ({fmt.words(status).lower()}): {summary.get('message', '')}"
    if status in ("optimal", "target_missed", "commitment_missed"):
        per = summary.get("all_in_capex_per_gw") or summary.get("cost_per_gw")
        if isinstance(per, dict) and finite(per.get("value")):
            label = "All-in capital cost" if "all_in_capex_per_gw" in summary else "Cost"
            more.append(f"{label} per GW: {fmt.figure(per)}" + (f" ({_basis(per)})" if _basis(per) else "") + ".")
        money = money_verdict(summary, manifest)
        if money:
            more.append(money)
        energy = energy_sentence(summary)
        if energy:
            more.append(energy)
        if status == "optimal" and summary.get("objective") != "max-capacity":
            costly = [b for b in limits if b["family"] not in TARGET_FAMILIES and b["unit"] == "USD/GW"]
            if costly:
                top = rollup(costly, _regions_count(summary))[:2]
                more.append("The costliest limits: " + "; ".join(
                    f"{r['core']} ({r['count']} limit{'s' if r['count'] != 1 else ''}, up to "
                    f"{fmt.quantity(r['max'], r['unit'])})" for r in top) + ".")
    return verdict(word, colour, sentence, more)


def headline_cards(summary: Mapping[str, Any]) -> list[dict[str, str]]:
    """The three to six figures that matter, with their basis."""
    ty = summary.get("target_year")
    out = []
    target = summary.get("target")
    reach = summary.get("max_reachable")
    maximised = summary.get("objective") == "max-capacity"
    if isinstance(target, dict) and not maximised:
        out.append(card("Target", fmt.figure(target), f"in service from {ty}"))
    if isinstance(reach, dict):
        missed = summary.get("status") == "target_missed"
        out.append(card("Most capacity" if maximised else "Largest reachable (ceiling)",
                        fmt.figure(reach, missing="not reached"), f"the most the limits allow in {ty}",
                        "warn" if missed else ""))
    if isinstance(summary.get("total_cost"), dict):
        out.append(card("Total discounted cost", fmt.figure(summary["total_cost"]),
                        short_basis(str(summary.get("total_cost_basis") or _basis(summary["total_cost"])))))
    for key, word in (("all_in_capex_per_gw", "All-in capital cost per GW"), ("cost_per_gw", "Cost per GW")):
        fig = summary.get(key)
        if isinstance(fig, dict) and finite(fig.get("value")):
            out.append(card(word, fmt.figure(fig), short_basis(_basis(fig))))
    if isinstance(summary.get("facility_power"), dict):
        out.append(card("Facility power", fmt.figure(summary["facility_power"]), f"in {ty}, IT load × PUE"))
    if isinstance(summary.get("energy"), dict):
        refs = energy_references(summary.get("energy_comparison"))
        countries = [r for r in refs if "data centre" not in r["name"].lower()]
        note = (f"in {ty}; {countries[0]['times']:.1f}× {countries[0]['name']} {countries[0]['year']}"
                if countries else f"in {ty}")
        out.append(card("Energy used", fmt.figure(summary["energy"]), note))
    peak = summary.get("debt_peak")
    if isinstance(peak, dict) and finite(peak.get("value")):
        out.append(card("Peak debt", fmt.figure(peak), f"in {peak.get('year', '')}".strip(), ""))
    return out[:7]


def short_basis(text: str) -> str:
    """The first clause of a basis (the verdict states it whole, once): up to its first ';' or '('."""
    head = re.split(r"[;(]", str(text or ""), maxsplit=1)[0].strip().rstrip(",")
    return head


# ----------------------------------------------------------------------------
# Binding limits: labels, families, roll-ups
# ----------------------------------------------------------------------------
def _regions(set_dir: Path, summary: Mapping[str, Any]) -> list[str]:
    regions = list((summary.get("capacity_by_region") or {}).keys())
    pw = read_csv(set_dir / "tables" / "power.csv")
    if pw is not None and "region" in pw.columns:
        regions += [str(r) for r in pw["region"].unique() if str(r) not in regions]
    return regions


def _regions_count(summary: Mapping[str, Any]) -> int:
    return len(summary.get("capacity_by_region") or {}) or 0


def binding_frame(items: Sequence[Mapping[str, Any]], regions: Sequence[str],
                  names: Mapping[str, Mapping[str, str]]) -> list[dict[str, Any]]:
    """Binding limits with a unique label, their family, region and year, largest shadow price first.

    Two different limits that read alike ("Stargate sites / NVIDIA GPU /
    US-Ohio build cap 2031" for two offers) get what differs appended: the
    offer, deal or source id of their constraint.
    """
    rows = []
    by_length = sorted(regions, key=len, reverse=True)      # the longest region name a limit names wins
    named = re.compile(r"(?<![\w-])(" + "|".join(re.escape(r) for r in by_length) + r")(?![\w-])") if regions else None
    for b in items:
        price = b.get("shadow_price") or {}
        cons = str(b.get("constraint") or b.get("name") or "")
        family, _, index = cons.partition("[")
        index = [x.strip(" '\"") for x in index.rstrip("]").split(",") if x.strip()]
        year = next((int(x) for x in reversed(index) if re.fullmatch(r"\d{4}", x)), None)
        text = str(b.get("name") or cons)
        found = {m.group(1) for m in named.finditer(text)} if named is not None else set()
        region = next((r for r in by_length if r in found), None)     # one regex per page, not per region
        who = None
        if family.startswith("vendor_supply") and index:
            who = names.get("vendor", {}).get(index[0], index[0])
        elif family.startswith("deal_") and " deal " in text:
            who = text.split(" deal ")[0]
        rows.append({"name": text, "label": text, "family": family, "index": index, "year": year, "who": who,
                     "region": region, "value": float(price.get("value") or 0.0) if finite(price.get("value"))
                     else 0.0, "unit": str(price.get("unit", "")), "meaning": str(b.get("meaning") or text)})
    by_name: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by_name.setdefault(r["name"], []).append(r)
    for same in by_name.values():
        if len({tuple(r["index"]) for r in same}) > 1:
            for r in same:
                ids = [x for x in r["index"] if not re.fullmatch(r"\d{4}", x)]
                if ids:
                    r["label"] = f"{r['name']} ({', '.join(ids)})"
    rows.sort(key=lambda r: -abs(r["value"]))
    return rows


def rollup(limits: Sequence[Mapping[str, Any]], n_regions: int) -> list[dict[str, Any]]:
    """Limits rolled up by family: how many bind, in which regions and years, the largest shadow price."""
    groups: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
    for b in limits:
        groups.setdefault((b["family"], b["unit"]), []).append(b)
    out = []
    for (family, unit), items in groups.items():
        regions = sorted({b["region"] for b in items if b["region"]})
        years = [b["year"] for b in items if b["year"] is not None]
        word = FAMILIES.get(family, fmt.words(family).lower())
        where = ""
        if regions:
            if n_regions and len(regions) >= n_regions:
                where = f" in all {n_regions} regions"
            elif len(regions) <= 3:
                where = " in " + ", ".join(regions)
            else:
                where = f" in {len(regions)} regions"
        who = list(dict.fromkeys(b["who"] for b in items if b.get("who")))
        if who and not where:
            sep = "; " if any("," in w for w in who) else ", "
            where = " for " + (sep.join(who) if len(who) <= 3 else f"{sep.join(who[:2])} and {len(who) - 2} more")
        when = f" in {fmt.years_span(years)}" if years else ""
        times = f" ({len(items)} limits)" if len(items) > 1 else ""
        verb = "bind" if word.split(" (")[0].endswith("s") else "binds"
        core = f"{word} {verb}{where}{when}"
        sentence = core + times
        out.append({"core": core, "family": family, "label": word, "unit": unit, "count": len(items),
                    "regions": regions,
                    "who": who,
                    "years": fmt.years_span(years), "max": max(abs(b["value"]) for b in items),
                    "sum": sum(abs(b["value"]) for b in items), "sentence": sentence})
    out.sort(key=lambda r: (r["unit"] != "USD/GW", -r["max"]))
    return out


def rollup_sentences(limits: Sequence[Mapping[str, Any]], n_regions: int) -> list[str]:
    return [r["sentence"] for r in rollup(limits, n_regions)]


def _limit_rows(items: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    biggest = max((abs(b["value"]) for b in items), default=0.0) or 1.0
    rows = [[b["label"], b["meaning"], fmt.quantity(b["value"], b["unit"]),
             Markup("<div class='bar' style='width:{}px'></div>").format(int(110 * abs(b["value"]) / biggest))]
            for b in items]
    return table(["limit", "in words", "shadow price", ""], rows, numeric=(2,))


def limits_blocks(summary: Mapping[str, Any], limits: list[dict[str, Any]], reach: list[dict[str, Any]],
                  regions: Sequence[str]) -> list[Any]:
    n_regions = _regions_count(summary) or len(regions)
    blocks: list[Any] = []
    if summary.get("conflicts"):
        blocks += [h3("Limits that contradict each other (each would have to give)"),
                   bullets([str(c.get("meaning", c.get("name", ""))) if isinstance(c, dict) else str(c)
                            for c in summary["conflicts"]])]
    if reach:
        blocks += [h3("Limits on the largest reachable figure (reach duals, per unit of each limit)"),
                   table_block(_limit_rows(reach[:10]))]
        if len(reach) > 10:
            blocks.append(details(f"{len(reach) - 10} more limits on the largest reachable figure",
                                  [table_block(_limit_rows(reach[10:]))]))
    others = [b for b in limits if b["family"] not in TARGET_FAMILIES]
    targets = [b for b in limits if b["family"] in TARGET_FAMILIES]
    if limits:
        blocks.append(p(f"{len(limits)} limits bind. A limit's shadow price is how much the total cost would "
                        "change with one unit more room in it; limits are ranked by it within each unit.", "note"))
    if others:
        groups = rollup(others, n_regions)
        blocks += [h3("Rolled up by family, region and year"),
                   table_block(table(["family", "binds", "where", "when", "largest shadow price"],
                                     [[g["label"][:1].upper() + g["label"][1:], str(g["count"]),
                                       (f"all {n_regions} regions" if n_regions and len(g["regions"]) >= n_regions
                                        else ", ".join(g["regions"]) or ", ".join(g["who"]) or "·"),
                                       g["years"] or "the whole horizon", fmt.quantity(g["max"], g["unit"])]
                                      for g in groups], numeric=(1, 4)))]
        by_unit: dict[str, list[dict[str, Any]]] = {}
        for b in others:
            by_unit.setdefault(b["unit"], []).append(b)
        ordered = sorted(by_unit.items(), key=lambda kv: (kv[0] != "USD/GW", -len(kv[1])))
        for unit, items in ordered:
            per = unit.split("/", 1)[-1] if "/" in unit else unit
            blocks.append(h3(f"The costliest limits measured in {per} (shadow price in {unit})"))
            blocks.append(table_block(_limit_rows(items[:10])))
            if len(items) > 10:
                blocks.append(details(f"{len(items) - 10} more limits in {per}",
                                      [table_block(_limit_rows(items[10:]))]))
    if targets:
        blocks += [h3("Targets and milestones"), table_block(_limit_rows(targets))]
    if not blocks:
        blocks.append(p("No limit binds (or the run produced no plan to read them from)."))
    return blocks


# ----------------------------------------------------------------------------
# Read before quoting: assumption ranking and calibration (when the summary has them)
# ----------------------------------------------------------------------------
def quote_blocks(summary: Mapping[str, Any]) -> list[Any]:
    blocks: list[Any] = []
    ranked = (summary.get("assumptions_ranked") or {}).get("value") if isinstance(
        summary.get("assumptions_ranked"), dict) else None
    if ranked:
        blocks.append(p("The assumptions that move the headline most, each from its low to its high value with "
                        "everything else as in this run. Quote a figure with the first few in mind."))
        rows = []
        scale = ranking_scales(ranked)
        for a in ranked:
            unit = str(a.get("unit") or "")
            rng = (f"{a['low_text']} to {a['high_text']}" if "low_text" in a
                   else fmt.assumption_range(str(a.get("key", "")), a.get("low"), a.get("high"), unit))
            swing_unit, cap = str(a.get("swing_unit") or ""), str(a.get("capacity_unit") or "GW")
            rows.append([str(a.get("label") or fmt.words(str(a.get("key", "")))), rng,
                         f"{fmt.quantity(a.get('cost_low'), 'USD', missing=fmt.NO_PLAN_END)} to "
                         f"{fmt.quantity(a.get('cost_high'), 'USD', missing=fmt.NO_PLAN_END)}",
                         f"{fmt.quantity(a.get('capacity_low'), cap, missing=fmt.NO_PLAN_END)} to "
                         f"{fmt.quantity(a.get('capacity_high'), cap, missing=fmt.NO_PLAN_END)}",
                         fmt.quantity(fmt.settled(a.get("swing"), scale.get(swing_unit, 0.0)), swing_unit)])
        header = ["assumption", "range", "total cost", "capacity", "swing"]
        if not any(finite(a.get("capacity_low")) or finite(a.get("capacity_high")) for a in ranked):
            header, rows = header[:3] + header[4:], [r[:3] + r[4:] for r in rows]    # capacity not computed
        blocks.append(table_block(table(header, rows, numeric=(len(header) - 1,))))
    return blocks + calibration_blocks(summary)      # rows outside their tolerance first (model/pages/calibration.py)


def ranking_scales(ranked: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    """The scale of the ranking's figures by unit (the capacity unit: its capacities, ``USD``: its costs), against
    which a swing is round-off (:func:`model.fmt.settled`)."""
    out = {"USD": fmt.table_scale([a.get(k) for a in ranked for k in ("cost_low", "cost_high")])}
    for unit in {str(a.get("capacity_unit") or "GW") for a in ranked}:
        out[unit] = fmt.table_scale([a.get(k) for a in ranked if str(a.get("capacity_unit") or "GW") == unit
                                     for k in ("capacity_low", "capacity_high")])
    return out


#: Keys the sections above show, or that are words and lists rather than figures.
SHOWN = {"status", "message", "scenario", "target_year", "objective", "total_cost_basis", "binding", "limits_on_reach",
         "conflicts", "target", "max_reachable", "total_cost", "capacity_in_service", "compute_in_service",
         "capacity_by_vendor", "capacity_by_host", "capacity_by_region", "facility_power", "energy",
         "energy_comparison", "cost_by_part", "spending", "funding", "debt", "funding_gap", "cost_per_gw",
         "all_in_capex_per_gw", "debt_peak", "assumptions_ranked", "calibration", "power_built",
         "supply_share", "what_stops", "binding_note", "headline_range"}   # their sections: Shares, Why, Read before quoting


#: Fields of a figure said in its label rather than as rows of their own: its year, its gas.
FOLDED = ("year", "gas")


def folded_label(key: str, flat: Mapping[str, tuple[Any, str]], names: Mapping[str, Mapping[str, str]]) -> str:
    """A figure's label with its year and gas fields in it: ``Energy cost 2033``, ``Emissions (CO2) 2033``."""
    text = fmt.label(key, names)
    gas, year = flat.get(f"{key}.gas", (None, ""))[0], flat.get(f"{key}.year", (None, ""))[0]
    if isinstance(gas, str) and gas:
        text += f" ({gas})"
    if fmt.is_number(year) and float(year).is_integer():
        text += f" {int(year)}"
    return text


def more_blocks(summary: Mapping[str, Any], names: Mapping[str, Mapping[str, str]]) -> list[Any]:
    """Figures the sections above do not place (keys added later), with labels and units, never raw keys."""
    other = {k: v for k, v in summary.items() if k not in SHOWN}
    rows = []
    ty = str(summary.get("target_year", ""))
    flat = flatten_summary(other)
    for key, (value, unit) in flat.items():
        parts = key.split(".")
        if len(parts) > 1 and re.fullmatch(r"\d{4}", parts[1]) and parts[1] != ty:
            continue      # a per-year series shows its target year only
        if len(parts) == 2 and parts[1] in FOLDED and parts[0] in flat:
            continue      # said in its figure's label (Energy cost 2033, Emissions (CO2))
        if isinstance(value, bool):
            text = "yes" if value else "no"
        elif fmt.is_number(value) and not unit and fmt.is_share_figure(key) and (
                len(parts) == 1 or re.fullmatch(r"\d{4}", parts[-1])):
            text = fmt.percent(value)        # a share (or its value in a year), never "0.543"
        elif fmt.is_number(value) and not unit and float(value).is_integer():
            text = str(int(value))           # a year or a count, never "2,030"
        elif fmt.is_number(value):
            text = fmt.quantity(value, unit)
        elif value is None:
            continue
        else:
            text = str(value)
        rows.append([folded_label(key, flat, names), text])
    ct = summary.get("compute_in_service")
    if isinstance(ct, dict) and ty in ct:
        rows.insert(0, [f"Compute in service {ty}", fmt.figure(ct[ty])])
    if not rows:
        return []
    return [table_block(table(["figure", "value"], rows, numeric=(1,)))]


def input_blocks(manifest: Mapping[str, Any]) -> list[Any]:
    entries = override_entries(manifest.get("overrides") or [])
    if not entries:
        return [p("No changes: this run uses the base data as shipped in inputs/.")]
    origins = sorted({e["origin"] for e in entries if e["origin"]})
    rows = [[e["action"], Markup("<span class='mono'>{}</span>").format(e["key"]),
             fmt.override_value(e["key"], e["value"], e["unit"]), e["unit"],
             source_cell(e["source"])] for e in entries]
    return [p(f"{len(entries)} changes on top of the base data" + (f", from {', '.join(origins)}" if origins else "")
              + "; each with its source or reason."),
            table_block(table(["change", "key", "value", "unit", "source or reason"], rows))]
