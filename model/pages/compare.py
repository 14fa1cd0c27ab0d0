"""The page of a comparison set (``compare.html``), rendered from the set on disk.

It opens with the answer: for each set against the first, the differences
that matter (status, capacity, cost, cost per GW when the plans differ in
size) in one sentence; then the headline figures with labels (never raw keys)
coloured good or bad where the direction is known; the pictures; the binding
limits with their shadow prices side by side; the inputs that differ; the
sets and provenance last.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Mapping, Sequence

from model import fmt
from model.names import humaniser
from model.pages import (source_cell, STATUS_STYLE, bullets, card, details, figure_block, finite, h3, image, manifest_of, names_of,
                         p, page, provenance_rows, read_csv, section, table, table_block, verdict)

#: Figures where more is better (+1) or worse (-1); others are shown without a judgement.
DIRECTION = {"total_cost": -1, "cost_per_gw": -1, "all_in_capex_per_gw": -1, "discounted_cost_per_gw": -1,
             "capacity_in_service": +1, "compute_in_service": +1, "max_reachable": +1, "funding_gap": -1,
             "debt_peak": -1, "debt": -1, "emissions": -1, "energy_cost": -1}
#: The figures of the first table, in order (per-year series at the target year).
MAIN = ("target", "max_reachable", "capacity_in_service", "compute_in_service", "total_cost",
        "discounted_cost_per_gw", "cost_per_gw", "all_in_capex_per_gw", "facility_power", "energy", "energy_cost",
        "emissions", "funding_gap", "debt_peak")


def _figures(headline, label: str) -> dict[str, tuple[Any, str]]:
    sub = headline[headline["set"] == label]
    out: dict[str, tuple[Any, str]] = {}
    for r in sub.itertuples():
        value = r.value if finite(r.value) else (r.text if isinstance(r.text, str) else None)
        out[str(r.key)] = (value, "" if not isinstance(r.unit, str) else r.unit)
    return out


def _at_year(figs: Mapping[str, tuple[Any, str]], key: str) -> tuple[Any, str]:
    """A figure, or a per-year series at the set's target year."""
    if key in figs:
        return figs[key]
    ty = figs.get("target_year", (None, ""))[0]
    if ty is not None:
        try:
            return figs.get(f"{key}.{int(float(ty))}", (None, ""))
        except (TypeError, ValueError):
            pass
    return None, ""


def _with_per_gw(figs: dict[str, tuple[Any, str]]) -> dict[str, tuple[Any, str]]:
    cost, _ = figs.get("total_cost", (None, ""))
    cap, unit = _at_year(figs, "capacity_in_service")
    if finite(cost) and finite(cap) and cap > 0 and unit == "GW":
        figs["discounted_cost_per_gw"] = (float(cost) / float(cap), "USD/GW")
    return figs


def _change(a: Any, b: Any) -> float | None:
    if finite(a) and finite(b) and float(a) != 0:
        return (float(b) - float(a)) / abs(float(a))
    return None


def _label(key: str, names: Mapping[str, Mapping[str, str]]) -> str:
    if key == "discounted_cost_per_gw":
        return "Discounted cost per GW in service"
    if key in ("capacity_in_service", "compute_in_service"):
        return fmt.LABELS[key] + " (target year)"
    return fmt.label(key, names)


def answer(labels: Sequence[str], figs: Mapping[str, dict[str, tuple[Any, str]]],
           statuses: Mapping[str, str]) -> list[str]:
    """One sentence per set after the first: what differs that matters."""
    ref = labels[0]
    out = []
    for lab in labels[1:]:
        parts = []
        if statuses.get(lab) != statuses.get(ref):
            word_lab = STATUS_STYLE.get(statuses.get(lab, ""), (statuses.get(lab, ""),))[0].lower()
            word_ref = STATUS_STYLE.get(statuses.get(ref, ""), (statuses.get(ref, ""),))[0].lower()
            parts.append(f"{word_lab} where {ref} is {word_ref}")
        cap_a, cap_b = _at_year(figs[ref], "capacity_in_service")[0], _at_year(figs[lab], "capacity_in_service")[0]
        for key, word in (("capacity_in_service", "capacity"), ("total_cost", "discounted cost")):
            a, b = _at_year(figs[ref], key)[0], _at_year(figs[lab], key)[0]
            ch = _change(a, b)
            if ch is not None and abs(ch) >= 0.005:
                unit = _at_year(figs[lab], key)[1]
                parts.append(f"{word} {signed(float(b) - float(a), unit)} to {fmt.quantity(b, unit)} "
                             f"({fmt.percent(ch, signed=True)})")
        sizes_differ = finite(cap_a) and finite(cap_b) and abs(float(cap_a) - float(cap_b)) > 1e-6 * max(1, abs(cap_a))
        if sizes_differ:
            a, b = figs[ref].get("discounted_cost_per_gw", (None, ""))[0], figs[lab].get("discounted_cost_per_gw",
                                                                                         (None, ""))[0]
            ch = _change(a, b)
            if ch is not None:
                parts.append(f"discounted cost per GW in service {signed(float(b) - float(a), 'USD/GW')} to "
                             f"{fmt.quantity(b, 'USD/GW')} ({fmt.percent(ch, signed=True)})")
        if not parts:
            out.append(f"{lab} gives the same headline figures as {ref}.")
        else:
            out.append(f"{lab} against {ref}: " + "; ".join(parts) + ".")
    return out


def signed(diff: float, unit: str) -> str:
    """A difference with its sign and unit: ``+25 billion USD``, ``-5.2 GW``."""
    return ("+" if diff > 0 else "-" if diff < 0 else "±") + fmt.quantity(abs(diff), unit)


def key_words(key: str, names: Mapping[str, Mapping[str, str]]) -> str:
    """An override key in words: ``supply_scale.nvidia`` -> ``supply scale of NVIDIA``."""
    param, _, member = str(key).partition(".")
    text = fmt.words(param).lower() if param.lower() != param.upper() else param
    text = {"pue": "PUE"}.get(param, text)
    if member:
        who = humaniser(names)(member)
        text += f" of {who}"
    return text


def what_changed(set_dir: Path, labels: Sequence[str], names: Mapping[str, Mapping[str, str]]) -> list[str]:
    """The inputs that differ between the sets, in words with their values (``NVIDIA supply scale: ...``)."""
    over = read_csv(set_dir / "tables" / "overrides.csv")
    if over is None or over.empty or not {"key", "set", "value", "differs"} <= set(over.columns):
        return []
    dif = over[over["differs"].astype(bool)]
    out = []
    for key in dict.fromkeys(dif["key"]):
        rows = dif[dif["key"] == key].set_index("set")
        values = [f"{lab} {rows.loc[lab, 'value'] if lab in rows.index else '(base data)'}" for lab in labels]
        out.append(f"{key_words(str(key), names)}: " + ", ".join(str(v) for v in values))
    return out


def render(set_dir: Path, manifest: Mapping[str, Any] | None = None) -> str:
    """``compare.html`` of a comparison set, from its files."""
    set_dir = Path(set_dir)
    manifest = manifest_of(set_dir, manifest)
    headline = read_csv(set_dir / "tables" / "headline.csv")
    sets = manifest.get("sets") or []
    labels = [s["label"] for s in sets] or (list(dict.fromkeys(headline["set"])) if headline is not None else [])
    names: dict[str, dict[str, str]] = {}
    for s in sets:
        for dim, table_ in names_of(Path(s.get("path", "")), None).items():
            names.setdefault(dim, {}).update(table_)
    figs = {lab: _with_per_gw(_figures(headline, lab)) for lab in labels} if headline is not None else {}
    statuses = {lab: str(figs.get(lab, {}).get("status", ("unknown", ""))[0]) for lab in labels}
    ref = labels[0] if labels else ""

    lines = answer(labels, figs, statuses) if len(labels) > 1 else []
    all_met = all(s == "optimal" for s in statuses.values())
    word, colour = ("Compared", "#0969da") if all_met else ("Statuses differ", "#b35900")
    if len(set(statuses.values())) == 1 and not all_met:
        word = STATUS_STYLE.get(next(iter(statuses.values())), ("Compared",))[0]
    sentence = lines[0] if lines else f"{len(labels)} result sets compared; differences are relative to {ref}."
    changed = what_changed(set_dir, labels, names)
    for key, word in (("target", "target"), ("target_year", "target year"), ("scenario", "scenario")):
        vals = [_at_year(figs.get(lab, {}), key) for lab in labels]
        if len({str(v) for v, _ in vals}) > 1:
            changed.insert(0, f"{word}: " + ", ".join(
                f"{lab} {fmt.quantity(v, u) if fmt.is_number(v) and u else v}" for lab, (v, u) in zip(labels, vals)))
    if changed:
        sentence = "What changed: " + "; ".join(changed[:4]) + (f" and {len(changed) - 4} more" if len(changed) > 4
                                                                 else "") + ". " + sentence
    kinds = manifest.get("kinds_note")          # sets of different kinds: said before any figure
    more = ([f"{kinds[:1].upper()}{kinds[1:]}."] if kinds else []) + lines[1:]
    v = verdict(word, colour, sentence, more + [f"Differences are relative to the first set, {ref}."])

    cards = []
    for lab in labels:
        cap, unit = _at_year(figs[lab], "capacity_in_service")
        cost = figs[lab].get("total_cost", (None, ""))
        note = STATUS_STYLE.get(statuses[lab], (fmt.words(statuses[lab]),))[0]
        cards.append(card(lab, fmt.quantity(cap, unit or "GW", missing="no plan"),
                          f"{note}; {fmt.quantity(cost[0], 'USD', missing='no cost')} discounted",
                          "" if statuses[lab] == "optimal" else "warn"))

    diff_png = difference_picture(set_dir, labels, figs, names)
    sections = [
        section("difference", "The difference in one picture", [figure_block(image(
            diff_png, "Change in IT capacity in service by chip vendor and host in the target year"))],
            nav="Difference"),
        section("headline", "Headline figures", headline_blocks(labels, figs, names), nav="Figures"),
        section("plots", "Side by side", [figure_block(image(f, t)) for t, f in (
            ("IT capacity in service by chip vendor, per set",
             vendor_panels(set_dir, labels, figs, names) or set_dir / "plots" / "capacity_by_vendor.png"),
            ("Capacity, facility power and energy", set_dir / "plots" / "power.png"),
            ("Cost", set_dir / "plots" / "cost.png"))], nav="Pictures"),
        section("binding", "Binding limits side by side", binding_blocks(set_dir, labels), nav="Limits"),
        section("inputs", "Inputs that differ", input_blocks(set_dir, labels), nav="Inputs"),
        section("sets", "The sets", [table_block(table(
            ["set", "status", "scenario", "folder", "version"],
            [[s.get("label", ""), STATUS_STYLE.get(str(s.get("status")), (fmt.words(str(s.get("status"))),))[0],
              str(s.get("scenario") or ""), str(s.get("path", "")), str(s.get("version") or "")] for s in sets]))]),
        section("provenance", "Provenance", [table_block(table(["", ""], provenance_rows(manifest)))]),
    ]
    return page("compare.html", title=f"Comparison: {' vs '.join(labels)}",
                heading=f"Comparison of {len(labels)} result sets", subheading=" · ".join(labels), verdict=v,
                headline=cards, sections=sections,
                footer="Written by compute-energy-plan compare; tables in tables/*.csv (long, with a set column).")


def _cell(value: Any, unit: str, ref_value: Any, key: str, first: bool, neutral: bool = False) -> tuple[str, str]:
    """A cell's text (with its difference to the first set, absolute and in %) and its colour class.

    ``neutral``: no better/worse colour (the direction means nothing here, e.g. the ceiling of plans that
    all meet their target)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ("target met" if key == "max_reachable" else "n/a"), ""
    if not fmt.is_number(value):
        text = str(value)
        return (STATUS_STYLE.get(text, (fmt.words(text),))[0] if key == "status" else text), ""
    text = fmt.quantity(value, unit)
    if first:
        return text, ""
    ch = _change(ref_value, value)
    cls = ""
    if ch is not None and abs(ch) >= 0.0005:
        text += f" ({signed(float(value) - float(ref_value), unit)}, {fmt.percent(ch, signed=True)})"
        direction = 0 if neutral else DIRECTION.get(key.split(".")[0], 0)
        cls = "good" if direction * ch > 0 else ("bad" if direction * ch < 0 else "")
    return text, cls


def headline_blocks(labels: Sequence[str], figs: Mapping[str, dict[str, tuple[Any, str]]],
                    names: Mapping[str, Mapping[str, str]]) -> list[Any]:
    if not labels:
        return [p("No headline figures in this comparison set.")]
    ref = labels[0]
    rows, cells = [], {}
    for key in ("status",) + MAIN:
        vals = [_at_year(figs[lab], key) for lab in labels]
        if all(v[0] is None for v in vals):
            continue
        unit = next((u for _, u in vals if u), "")
        row = [_label(key, names)]
        all_met = all(str(figs[lab].get("status", ("", ""))[0]) == "optimal" for lab in labels)
        neutral = key in ("max_reachable", "target") or (all_met and key == "capacity_in_service")
        for i, (value, _) in enumerate(vals):
            text, cls = _cell(value, unit, vals[0][0], key, i == 0, neutral)
            row.append(text)
            if cls:
                cells[(len(rows), i + 1)] = cls
        rows.append(row)
    blocks: list[Any] = [
        p("Each figure in each set; after the first set, its change against the first in brackets, in units and "
          "in %. Green is better and red worse only where the direction is known (less cost, more capacity when "
          "a target is missed); the ceiling of plans that meet their target is not judged. Cost per GW in "
          "service puts plans of different sizes side by side.", "note"),
        table_block(table(["figure", *labels], rows, numeric=range(1, len(labels) + 1), cell_class=cells))]
    for parent, word in (("capacity_by_vendor", "chip vendor"), ("capacity_by_host", "host"),
                         ("capacity_by_region", "region")):
        members = sorted({k.split(".", 2)[1] for lab in labels for k in figs[lab] if k.startswith(parent + ".")
                          and k.count(".") == 1})
        if not members:
            continue
        b_rows, b_cells = [], {}
        for m in members:
            key = f"{parent}.{m}"
            vals = [figs[lab].get(key, (0.0, "GW")) for lab in labels]
            row = [fmt.label(key, names)]
            for i, (value, unit) in enumerate(vals):
                text, _ = _cell(value, unit or "GW", vals[0][0], key, i == 0)
                row.append(text)
            b_rows.append(row)
        blocks.append(details(f"Capacity by {word} in the target year", [table_block(table(
            [word, *labels], b_rows, numeric=range(1, len(labels) + 1)))]))
    return blocks


def binding_blocks(set_dir: Path, labels: Sequence[str]) -> list[Any]:
    b = read_csv(set_dir / "tables" / "binding.csv")
    if b is None or b.empty:
        return [p("No set has binding limits (or the sets record none).")]
    b = b[~b["name"].astype(str).str.startswith(("target", "milestone"))]
    n_all = b[b["binds_in_every_set"].astype(bool)]["name"].nunique()
    rows = []
    for unit, g in b.groupby("unit", sort=False):
        wide = g.pivot_table(index="name", columns="set", values="shadow_price", aggfunc="first")
        wide = wide.reindex(columns=list(labels))
        order = wide.abs().max(axis=1).sort_values(ascending=False).index
        for name in order:
            rows.append((float(wide.loc[name].abs().max()), unit, name,
                         [fmt.quantity(x, unit) if finite(x) else "does not bind" for x in wide.loc[name]]))
    rows.sort(key=lambda r: (r[1] != "USD/GW", -r[0]))
    body = [[name] + cells for _, _, name, cells in rows]
    blocks: list[Any] = [p(f"{b['name'].nunique()} limits bind in some set, {n_all} in every set. A shadow price "
                           "is how much the total cost would change with one unit more room in the limit.", "note"),
                         table_block(table(["limit", *labels], body[:20], numeric=range(1, len(labels) + 1)))]
    if len(body) > 20:
        blocks.append(details(f"{len(body) - 20} more binding limits", [table_block(table(
            ["limit", *labels], body[20:], numeric=range(1, len(labels) + 1)))]))
    return blocks


def input_blocks(set_dir: Path, labels: Sequence[str]) -> list[Any]:
    blocks: list[Any] = []
    files = read_csv(set_dir / "tables" / "inputs.csv")
    if files is not None and not files.empty:
        dif = files[files["differs"].astype(bool)]
        if dif.empty:
            blocks.append(p("The input files are identical in every set (same sha256)."))
        else:
            wide = dif.pivot(index="file", columns="set", values="sha256").reindex(columns=list(labels))

            def state(h: Any, ref_h: Any) -> str:
                if h in ("absent", "unknown"):
                    return "not used"
                return "as in the first set" if h == ref_h else "differs"

            blocks += [h3("Input files that differ"), table_block(table(
                ["file", *labels], [[f, *[state(h, vals.iloc[0]) for h in vals]] for f, vals in wide.iterrows()])),
                details("their sha256 (first 12 hex digits)", [table_block(table(
                    ["file", *labels], [[f, *[("not used" if h in ("absent", "unknown") else str(h)[:12])
                                              for h in vals]] for f, vals in wide.iterrows()]))])]
    over = read_csv(set_dir / "tables" / "overrides.csv")
    if over is not None and not over.empty:
        dif = over[over["differs"].astype(bool)]
        if dif.empty:
            blocks.append(p("The sets have the same overrides."))
        else:
            wide = dif.pivot(index="key", columns="set", values="value").reindex(columns=list(labels))
            meta = (dif.astype(object).fillna("").sort_values("source", ascending=False)
                    .drop_duplicates("key").set_index("key"))
            rows = [[key, str(meta.loc[key, "unit"]),
                     *[fmt.override_value(key, x, str(meta.loc[key, "unit"])) for x in wide.loc[key]],
                     source_cell(meta.loc[key, "source"])] for key in dict.fromkeys(dif["key"])]
            blocks += [h3("Overrides (scenario files and --set) that differ"),
                       table_block(table(["key", "unit", *labels, "source or reason"], rows))]
    missing = read_csv(set_dir / "tables" / "missing.csv")
    if missing is not None and not missing.empty:
        blocks += [h3("Figures some sets do not have"), bullets(
            [f"{r.set} has no {fmt.label(str(r.key)).lower()}: {r.reason}" for r in missing.itertuples()])]
    return blocks or [p("No set records its inputs.")]


def vendor_panels(set_dir: Path, labels: Sequence[str], figs: Mapping[str, Mapping[str, tuple[Any, str]]],
                  names: Mapping[str, Mapping[str, str]]) -> bytes | None:
    """Capacity by chip vendor per set, with display names and the one colour per vendor (``inputs/colours.csv``)."""
    cap = read_csv(set_dir / "tables" / "capacity_by_vendor.csv")
    if cap is None or not {"set", "vendor", "year", "value"} <= set(cap.columns) or not (set_dir / "plots").is_dir():
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from model.colours import colour
    from model.pages import PLOT_STYLE, save_figure

    present = [lab for lab in labels if lab in set(cap["set"])]
    if not present:
        return None
    vendors = cap.groupby("vendor")["value"].sum().sort_values(ascending=False).index.tolist()
    ncols = min(3, len(present))
    nrows = math.ceil(len(present) / ncols)
    with plt.rc_context(PLOT_STYLE):
        fig, axes = plt.subplots(nrows, ncols, figsize=(4.4 * ncols + 1.8, 3.4 * nrows), sharey=True, squeeze=False)
        for ax in axes.flat[len(present):]:
            ax.set_visible(False)
        for ax, lab in zip(axes.flat, present):
            wide = cap[cap["set"] == lab].pivot_table(index="year", columns="vendor", values="value",
                                                       aggfunc="sum").reindex(columns=vendors).fillna(0.0)
            ax.stackplot(wide.index, [wide[v].values for v in vendors], colors=[colour("vendor", v) for v in vendors],
                         labels=[names.get("vendor", {}).get(v, v) for v in vendors], alpha=0.95, lw=0)
            target, unit = figs.get(lab, {}).get("target", (None, ""))
            if finite(target) and unit == "GW":
                ax.axhline(float(target), color="black", ls="--", lw=0.9)
            ax.set_title(lab if len(lab) <= 34 else lab[:33] + "…", loc="left", fontsize=10)
            ax.grid(alpha=0.3)
            ax.set_xlim(wide.index.min(), wide.index.max())
        axes[0][0].set_ylabel("GW of IT power in service")
        handles, words = axes.flat[0].get_legend_handles_labels()
        fig.legend(handles[::-1], words[::-1], loc="center right", frameon=False)
        fig.suptitle("IT capacity in service by chip vendor (dashed: target)", x=0.01, ha="left", fontweight="bold",
                     fontsize=11)
        fig.tight_layout(rect=(0, 0, 1 - 1.5 / fig.get_size_inches()[0], 1))
        return save_figure(fig, set_dir, "capacity_by_vendor.png")


def difference_picture(set_dir: Path, labels: Sequence[str], figs: Mapping[str, Mapping[str, tuple[Any, str]]],
                       names: Mapping[str, Mapping[str, str]]) -> bytes | None:
    """Each set's change against the first in the target year: GW by chip vendor and by host (one colour per
    company, ``inputs/colours.csv``); ``None`` when the sets hold no capacity tables or nothing changes."""
    if len(labels) < 2 or not (set_dir / "plots").is_dir():
        return None
    panels = []
    for coord in ("vendor", "host"):
        cap = read_csv(set_dir / "tables" / f"capacity_by_{coord}.csv")
        if cap is None or not {"set", coord, "year", "value"} <= set(cap.columns):
            continue
        rows = []
        ref = labels[0]
        for lab in labels[1:]:
            ty = figs.get(lab, {}).get("target_year", (None, ""))[0]
            if not finite(ty):
                continue
            at = cap[cap["year"] == int(float(ty))]
            a = at[at["set"] == ref].groupby(coord)["value"].sum()
            b = at[at["set"] == lab].groupby(coord)["value"].sum()
            d = b.subtract(a, fill_value=0.0)
            rows += [(lab, str(k), float(v)) for k, v in d.items() if abs(v) >= 0.05]
        panels.append((coord, rows))
    if not any(rows for _, rows in panels):
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from model.colours import colour
    from model.pages import PLOT_STYLE, save_figure

    many = len(labels) > 2
    height = max(len(rows) for _, rows in panels)
    with plt.rc_context(PLOT_STYLE):
        fig, axes = plt.subplots(1, len(panels), figsize=(9, 0.42 * height + 1.6), squeeze=False)
        for ax, (coord, rows) in zip(axes[0], panels):
            rows = sorted(rows, key=lambda r: r[2])
            who = [names.get(coord, {}).get(k, k) + (f" ({lab})" if many else "") for lab, k, _ in rows]
            vals = [v for _, _, v in rows]
            ax.barh(range(len(rows)), vals, color=[colour(coord, k) for _, k, _ in rows])
            ax.set_yticks(range(len(rows)), who)
            ax.axvline(0, color="black", lw=0.8)
            for i, v in enumerate(vals):
                ax.annotate(f"{v:+.1f}", (v, i), xytext=(4 if v >= 0 else -4, 0), textcoords="offset points",
                            ha="left" if v >= 0 else "right", va="center")
            lo, hi = min(vals + [0.0]), max(vals + [0.0])
            pad = 0.25 * (hi - lo or 1.0)
            ax.set_xlim(lo - pad, hi + pad)
            ax.set_title(f"by {'chip vendor' if coord == 'vendor' else coord}", loc="left")
            ax.set_xlabel(f"GW, {' and '.join(labels[1:]) if not many else 'each set'} less {labels[0]}")
            ax.grid(alpha=0.3, axis="x")
        fig.suptitle("Change in IT capacity in service in the target year", x=0.01, ha="left", fontweight="bold")
        fig.tight_layout()
        return save_figure(fig, set_dir, "difference.png")
