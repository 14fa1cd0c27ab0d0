"""The detail sections of a plan's page: the plan over time, power and energy, cost and money.

Split from :mod:`model.pages.plan` (which renders the page and its verdict) to keep each module short.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Mapping

from model import fmt
from model.pages import (details, figure_block, figures_block, finite, h3, image, p, read_csv, table,
                         table_block)

_ENERGY_REF = re.compile(r"([\d.,]+)x ([^;(]+?) (\d{4}) \(([\d,.]+) TWh\)")


def _basis(fig: Any) -> str:
    return str(fig.get("basis", "")) if isinstance(fig, dict) else ""


def energy_references(text: Any) -> list[dict[str, Any]]:
    """The summary's ``energy_comparison`` sentence as ``[{times, name, year, twh}]``."""
    out = []
    for times, name, year, twh in _ENERGY_REF.findall(str(text or "")):
        name = " ".join(fmt.words(w) if w.lower() in ("us", "eu", "uk") else w for w in name.strip().split())
        if "data centre" not in name.lower():
            name = name[:1].upper() + name[1:]      # a country or region
        out.append({"times": float(times.replace(",", "")), "name": name, "year": int(year),
                    "twh": float(twh.replace(",", ""))})
    return out



# ----------------------------------------------------------------------------
# Detail: plan over time, power, money, more figures, inputs
# ----------------------------------------------------------------------------
def _year_table(df, coord: str, names: Mapping[str, str], ty: Any, unit: str = "GW") -> dict[str, Any]:
    wide = df.pivot_table(index=coord, columns="year", values="value", aggfunc="sum").fillna(0.0)
    wide = wide.sort_values(ty, ascending=False) if ty in wide.columns else wide
    wide = wide[(wide.abs() > 1e-9).any(axis=1)]
    years = list(wide.columns)
    rows, classes, cells = [], [], {}
    for r, (member, vals) in enumerate(wide.iterrows()):
        rows.append([names.get(str(member), str(member))] + [_cell(x) for x in vals])
        classes.append("")
        for i, x in enumerate(vals):
            if abs(x) < 0.05:
                cells[(r, i + 1)] = "zero"
    rows.append(["Total"] + [_cell(x) for x in wide.sum(axis=0)])
    classes.append("total")
    for r in range(len(rows)):
        for i, y in enumerate(years):
            if y == ty:
                cells[(r, i + 1)] = (cells.get((r, i + 1), "") + " hl").strip()
    word = {"vendor": "chip vendor", "offer_region": "region"}.get(coord, coord)
    return table([f"{word} ({unit})"] + [str(y) for y in years], rows, numeric=range(1, len(years) + 1),
                 row_class=classes, cell_class=cells)


def _cell(v: float) -> str:
    return "·" if abs(v) < 0.05 else f"{v:,.1f}"


def plan_blocks(set_dir: Path, names: Mapping[str, Mapping[str, str]], ty: Any) -> list[Any]:
    blocks: list[Any] = []
    for coord, word, png in (("vendor", "chip vendor", "capacity_by_vendor.png"),
                             ("host", "host", "capacity_by_host.png"),
                             ("region", "region", "capacity_by_region.png")):
        df = read_csv(set_dir / "tables" / f"capacity_by_{coord}.csv")
        img = image(set_dir / "plots" / png, f"IT capacity in service by {word}") if coord != "vendor" else None
        if df is None and img is None:
            continue
        blocks.append(h3(f"By {word} (GW of IT power in service)"))
        blocks.append(figure_block(img))
        if df is not None and {coord, "year", "value"} <= set(df.columns):
            blocks.append(table_block(_year_table(df, coord, names.get(coord, {}), ty)))
    if not blocks:
        blocks.append(p("This run has no plan to show."))
    return blocks


def power_blocks(set_dir: Path, summary: Mapping[str, Any], ty: Any) -> list[Any]:
    plots = set_dir / "plots"
    blocks: list[Any] = [figures_block([image(plots / "power_and_energy.png", "Facility power and energy"),
                                        image(plots / "power_by_source.png", "Firm power by source")],
                                       one_column=True)]
    pw = read_csv(set_dir / "tables" / "power.csv")
    if pw is not None and {"region", "year", "variable", "value", "unit"} <= set(pw.columns) and ty in set(pw["year"]):
        at = pw[pw["year"] == ty]
        wide = at.pivot_table(index="region", columns="variable", values="value", aggfunc="sum")
        units = at.groupby("variable")["unit"].first().to_dict()
        order = [c for c in ("it_power", "facility_power", "grid_power", "energy") if c in wide.columns]
        order += [c for c in wide.columns if c not in order]
        wide = wide[order].sort_values(order[0], ascending=False)
        rows = [[r] + [_cell(x) for x in vals] for r, vals in wide.iterrows()]
        rows.append(["Total"] + [_cell(x) for x in wide.sum(axis=0)])
        blocks += [h3(f"By region in {ty}"),
                   table_block(table(["region"] + [f"{fmt.words(c)} ({units.get(c, '')})" for c in order], rows,
                                     numeric=range(1, len(order) + 1), row_class=[""] * (len(rows) - 1) + ["total"]))]
    ps = read_csv(set_dir / "tables" / "power_sources.csv")
    if ps is not None and {"kind", "region", "year", "variable", "value"} <= set(ps.columns) and ty in set(ps["year"]):
        at = ps[(ps["variable"] == "power_in_service") & (ps["year"] == ty)]
        wide = at.pivot_table(index="region", columns="kind", values="value", aggfunc="sum").fillna(0.0)
        wide = wide.loc[:, (wide.abs() > 1e-9).any(axis=0)]
        wide = wide[(wide.abs() > 1e-9).any(axis=1)]
        if not wide.empty:
            wide = wide.loc[wide.sum(axis=1).sort_values(ascending=False).index]
            kinds = list(wide.columns)
            rows = [[r] + [_cell(x) for x in vals] + [_cell(vals.sum())] for r, vals in wide.iterrows()]
            rows.append(["Total"] + [_cell(x) for x in wide.sum(axis=0)] + [_cell(wide.values.sum())])
            blocks += [h3(f"Power sources the plan builds, in service in {ty} (GW, before capacity credit)"),
                       table_block(table(["region"] + [str(k).replace("_", " + ") for k in kinds] + ["all"], rows,
                                         numeric=range(1, len(kinds) + 2),
                                         row_class=[""] * (len(rows) - 1) + ["total"]))]
    refs = energy_references(summary.get("energy_comparison"))
    if refs:
        blocks += [h3("The plan's energy against reference figures"),
                   table_block(table(["reference", "its energy", "the plan uses"],
                                     [[f"{r['name'][:1].upper()}{r['name'][1:]} {r['year']}",
                                       fmt.quantity(r["twh"], "TWh"), f"{r['times']:.1f}×"]
                                      for r in refs], numeric=(1, 2)))]
    return blocks


def money_blocks(set_dir: Path, summary: Mapping[str, Any]) -> list[Any]:
    plots = set_dir / "plots"
    blocks: list[Any] = []
    cost_per = summary.get("cost_per_gw")
    if isinstance(cost_per, dict) and finite(cost_per.get("value")) and _basis(cost_per):
        blocks.append(p(f"Cost per GW {fmt.figure(cost_per)}: {_basis(cost_per)}.", "note"))
    gap = summary.get("funding_gap")
    if isinstance(gap, dict) and finite(gap.get("value")) and gap["value"] > 0:
        blocks.append(p(f"Spending exceeds revenue, equity and vendor financing by up to {fmt.figure(gap)}"
                        + (f" (in {gap['year']})" if gap.get("year") else "")
                        + "; the plan borrows the difference (the debt by year is in the table below)."))
    blocks.append(figures_block([image(plots / "costs.png", "Yearly cost by part and cash spent"),
                                 image(plots / "spending_vs_funding.png", "Spending against funding")]))
    parts = summary.get("cost_by_part")
    if isinstance(parts, dict) and parts:
        total = sum(f.get("value", 0.0) for f in parts.values() if isinstance(f, dict) and finite(f.get("value")))
        rows = [[fmt.words(k), fmt.figure(f), fmt.percent(f["value"] / total) if total else ""]
                for k, f in sorted(parts.items(), key=lambda kv: -(kv[1].get("value") or 0.0))
                if isinstance(f, dict) and finite(f.get("value")) and abs(f["value"]) > 0]
        blocks.append(table_block(table(["part", "discounted, all years", "share"], rows, numeric=(1, 2),
                                        caption="Total discounted cost by part")))
    series = [k for k in ("spending", "funding", "debt") if isinstance(summary.get(k), dict)]
    if series:
        years = list(summary[series[0]].keys())
        rows = [[y] + [fmt.figure(summary[k].get(y)) for k in series] for y in years]
        blocks.append(details("Spending, funding and debt by year (nominal)", [table_block(table(
            ["year"] + [fmt.LABELS.get(k, fmt.words(k)) for k in series], rows, numeric=range(1, len(series) + 1)))]))
    return blocks
