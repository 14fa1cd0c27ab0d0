"""The world run's page: the answer in one sentence, then the figures, then pictures, then tables.

Reads only what the set holds (summary.json, manifest.json); display names come from the summary,
colours from inputs/colours.csv (kind ``buyer`` and ``vendor``).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from model import fmt
from model.colours import colour
from model.pages import (card, figures_block, image, p, page, provenance_rows, save_figure, section,
                         table, table_block, verdict)


def headline_sentence(summ: Mapping[str, Any], names: Mapping[str, str], vendor_names: Mapping[str, str]) -> str:
    """"The announced plans add up to X GW by 2033; the world plan builds Y GW; ... fall short by ...; chips from ..."""
    h = summ["headline"]
    year = h["year"]
    parts = [f"The announced plans add up to {fmt.figure(h['announced'])} by {year}",
             f"the world can build {fmt.figure(h['built'])} of them (the world plan, {summ['rule']} rule; "
             f"{fmt.figure(h['rest_of_world'])} more for the rest of the world)"]
    short = h.get("shortfall") or {}
    if short:
        who = ", ".join(f"{names.get(b, b)} by {fmt.figure(f)}" for b, f in list(short.items())[:4])
        parts.append(f"these buyers fall short: {who}" + (" and others" if len(short) > 4 else ""))
    else:
        parts.append("no buyer falls short")
    chips = h.get("scarcest_chips")
    if chips:
        parts.append(f"chips from {vendor_names.get(chips['vendor'], chips['vendor'])} are scarcest in "
                     f"{chips['year']} ({fmt.figure(chips['price'])} above cost at the margin)")
    else:
        parts.append("no vendor's chips are scarce: every supply cap has room")
    return "; ".join(parts) + "."


def capacity_plot(summ: Mapping[str, Any], set_dir: Path | None) -> bytes:
    """Capacity in service by buyer (stacked), with the sum of announced plans as a line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    buyers = summ["buyers"]
    years = sorted({int(y) for b in buyers.values() for y in b["capacity_in_service"]["by_year"]})
    fig, ax = plt.subplots(figsize=(7.5, 3.6))
    bottom = [0.0] * len(years)
    for b, fig_b in buyers.items():
        vals = [fig_b["capacity_in_service"]["by_year"][str(y)] for y in years]
        ax.bar(years, vals, bottom=bottom, color=colour("buyer", b), label=fig_b["name"])
        bottom = [x + v for x, v in zip(bottom, vals)]
    announced = [sum(b["announced"]["by_year"][str(y)] for b in buyers.values() if b["role"] != "rest_of_world")
                 for y in years]
    ax.plot(years, announced, color="black", linestyle="--", label="announced plans (sum, without the rest)")
    ax.set_ylabel("GW of IT capacity in service")
    ax.set_title("What the world builds for each buyer, against the announced plans")
    ax.legend(ncol=2, loc="upper left", frameon=False, fontsize=7)
    return save_figure(fig, set_dir, "capacity_by_buyer.png")


def price_plot(summ: Mapping[str, Any], vendor_names: Mapping[str, str], set_dir: Path | None) -> bytes | None:
    """Scarcity price of each vendor's chips per year (billion USD per GW, nominal)."""
    prices = summ.get("scarcity_price") or {}
    if not any(x["value"] > 0 for v in prices.values() for x in v.values()):
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 3.2))
    for v, by_year in prices.items():
        ys = sorted(int(y) for y in by_year)
        ax.plot(ys, [by_year[str(y)]["value"] / 1e9 for y in ys], marker="o", color=colour("vendor", v),
                label=vendor_names.get(v, v))
    ax.set_ylabel("billion USD per GW")
    ax.set_title("Scarcity price of each vendor's chips (dual of the world supply cap)")
    ax.legend(ncol=3, frameon=False)
    return save_figure(fig, set_dir, "scarcity_prices.png")


def buyer_table(summ: Mapping[str, Any], year: int) -> dict[str, Any]:
    rows = []
    y = str(year)
    for b, f in summ["buyers"].items():
        rows.append([f["name"], fmt.quantity(f["announced"]["by_year"][y], "GW"),
                     fmt.quantity(f["capacity_in_service"]["by_year"][y], "GW"),
                     fmt.quantity(f["shortfall"]["by_year"][y], "GW"),
                     fmt.quantity(f["facility_power"]["by_year"][y], "GW"),
                     fmt.quantity(f["spending"]["by_year"][y], "USD/a"),
                     fmt.quantity(f["value_of_capacity"]["by_year"][y], "USD/GW/a")])
    return table(["buyer", f"announced {year}", "in service", "short by", "facility power", "spending",
                  "value of a GW-year"], rows, numeric=range(1, 7))


def share_table(summ: Mapping[str, Any], names: Mapping[str, str], vendor_names: Mapping[str, str],
                year: int) -> dict[str, Any] | None:
    shares = summ.get("share_of_supply") or {}
    vendors = [v for v in shares if str(year) in shares[v]]
    if not vendors:
        return None
    buyers = list(summ["buyers"]) + ["unused"]
    rows = [[names.get(b, "not taken" if b == "unused" else b)]
            + [fmt.percent(shares[v][str(year)].get(b, 0.0)) for v in vendors] for b in buyers]
    return table(["buyer"] + [vendor_names.get(v, v) for v in vendors], rows, numeric=range(1, len(vendors) + 1),
                 caption=f"Share of each vendor's world output in {year}")


def calibration_table(summ: Mapping[str, Any]) -> dict[str, Any]:
    rows = []
    for r in summ.get("calibration", []):
        pub = r["public"]
        public = (fmt.quantity(pub["low"], pub["unit"]) if pub["low"] == pub["high"]
                  else fmt.span(pub["low"], pub["high"], pub["unit"]))
        year = f"{r['year']}" + (f" (model {r['model_year']})" if r.get("model_year", r["year"]) != r["year"] else "")
        rows.append([r["figure"], year, fmt.figure(r["model"]), public, r["source"]])
    return table(["figure", "year", "world run", "public figure", "source"], rows, numeric=(2, 3))


def price_rows(prices: Mapping[str, Any], names: Mapping[str, str]) -> list[list[Any]]:
    rows = []
    for name, by_year in prices.items():
        for y, x in sorted(by_year.items()):
            if x["value"] > 0:
                rows.append([names.get(name, name), y, fmt.figure(x)])
    return rows


def render(set_dir: Path | None, summ: Mapping[str, Any], manifest: Mapping[str, Any], plots: bool = True) -> str:
    """The world run's report.html."""
    names = {b: f["name"] for b, f in summ["buyers"].items()}
    vendor_names = summ.get("vendor_names", {})
    region_names = summ.get("region_names", {})
    year = int(summ["headline"]["year"])
    ok = summ["status"] == "optimal"
    sentence = headline_sentence(summ, names, vendor_names)
    v = verdict("World plan" if ok else "Signed deals exceed the world's supply", "#1a7f37" if ok else "#b42318",
                sentence, [] if ok else [summ.get("message", "")])
    h = summ["headline"]
    cards = [card(f"Announced plans by {year}", fmt.figure(h["announced"]), "the default and named buyers"),
             card("The world builds for them", fmt.figure(h["built"]),
                  f"{fmt.figure(h['rest_of_world'])} more for the rest of the world"),
             card("Short of the plans", fmt.quantity(sum(f["value"] for f in h["shortfall"].values()), "GW"),
                  f"{len(h['shortfall'])} buyers fall short")]
    if h.get("scarcest_chips"):
        c = h["scarcest_chips"]
        cards.append(card("Scarcest chips", vendor_names.get(c["vendor"], c["vendor"]),
                          f"{c['year']}: {fmt.figure(c['price'])}"))
    if h.get("scarcest_power"):
        c = h["scarcest_power"]
        cards.append(card("Scarcest firm power", region_names.get(c["region"], c["region"]),
                          f"{c['year']}: {fmt.figure(c['price'])}"))
    pictures = [image(capacity_plot(summ, set_dir), "Capacity in service by buyer"),
                image(price_plot(summ, vendor_names, set_dir), "Scarcity price of chips")] if plots else []
    sections = [
        section("pictures", "Who gets what", [figures_block(pictures, one_column=True)], nav="Pictures"),
        section("buyers", f"Buyers in {year}", [table_block(buyer_table(summ, year))], nav="Buyers"),
        section("shares", "Shares of supply", [table_block(t) for t in [share_table(summ, names, vendor_names, year)]
                                               if t], nav="Shares"),
        section("prices", "Scarcity prices", [p(
            "A scarcity price is the dual of a shared cap, undiscounted to the year: what one more GW of that "
            "vendor's chips (or of firm power in that region) in that year would add to the buyers' total value "
            "less cost. Zero where the cap has room."),
            table_block(table(["vendor or region", "year", "price"],
                              price_rows(summ.get("scarcity_price", {}), vendor_names)
                              + price_rows(summ.get("power_scarcity_price", {}), region_names), numeric=(2,)))],
            nav="Prices"),
        section("calibration", "World totals against public figures", [table_block(calibration_table(summ))],
                nav="Calibration"),
        section("provenance", "Provenance", [table_block(table(["", ""], provenance_rows(manifest)))]),
    ]
    return page("page.html", title="World market", heading="The world market: who gets the chips and the power",
                subheading=f"Scenario {summ.get('scenario', '')}; rule: {summ['rule']}; {len(names)} buyers",
                verdict=v, headline=cards, sections=sections,
                footer="Written by compute-energy-plan world; tables in tables/*.csv; see docs/world.md.")
