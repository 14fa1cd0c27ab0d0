"""The stochastic page's exposure part: who holds the risk, as a table and a money-flow (Sankey) picture.

Read from summary.json's ``exposure`` and ``money_flows`` (model/exposure.py);
one colour per company from inputs/colours.csv (model/colours.py).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from model import fmt
from model.pages import PLOT_STYLE, figures_block, image, p, save_figure, section, table, table_block

GAP, BUYER = "#b42318", "#1f2328"


def company_colour(name: str) -> str:
    """A counterparty's colour: its vendor or host row in inputs/colours.csv (by id or name), else a stable one."""
    from model.colours import colour, fallback, read_colours

    fixed = {"lenders": "#6e6e6e", "power suppliers": "#c9a227", "revenue": "#8c8c8c"}
    if name in fixed:
        return fixed[name]
    table_ = read_colours()
    low = name.lower()
    for kind in ("vendor", "host"):
        for (k, n), c in table_.items():
            if k == kind and (n.lower() == low or n.lower() == low.split(" ")[0] or n.lower() == low.replace(" ", "-")):
                return c
    scoped = deal_scope_company(name)
    if scoped is not None:                 # a deal's counterparty: the colour of the host or vendor it covers
        return colour(*scoped)
    return fallback(f"company:{name}")


def deal_scope_company(counterparty: str, inputs: Path | None = None) -> tuple[str, str] | None:
    """``(kind, id)`` of the first host or vendor in the scope of the deal with this counterparty
    (``SoftBank, OpenAI, Oracle, MGX`` -> ``("host", "stargate")``), from the inputs' ``deals.csv``."""
    import csv

    from model.pages import PROJECT_INPUTS

    path = Path(inputs or PROJECT_INPUTS) / "deals.csv"
    if not path.exists():
        return None
    with path.open(newline="") as fh:
        for row in csv.DictReader(line for line in fh if not line.startswith("#")):
            if (row.get("counterparty") or "").strip() != counterparty:
                continue
            for part in (row.get("scope") or "").split("&"):
                key, _, values = part.partition("=")
                if key in ("host", "vendor") and values:
                    return key, values.split("|")[0]
                for scope_key, file, kind in (("family", "families.csv", "vendor"), ("offer", "offers.csv", "host")):
                    if key == scope_key and values and (Path(inputs or PROJECT_INPUTS) / file).exists():
                        with (Path(inputs or PROJECT_INPUTS) / file).open(newline="") as ff:   # its vendor / host
                            for r in csv.DictReader(line for line in ff if not line.startswith("#")):
                                if r.get(scope_key) == values.split("|")[0] and r.get(kind):
                                    return kind, r[kind]
    return None


def _v(fig: Any) -> float:
    return float(fig["value"]) if isinstance(fig, Mapping) and fmt.is_number(fig.get("value")) else 0.0


def exposure_sentence(summary: Mapping[str, Any]) -> str:
    """Who is exposed, in one sentence for the verdict: the largest expected unpaid amounts, else the largest
    commitment and its share of the buyer's revenue."""
    exp = summary.get("exposure") or {}
    if not exp:
        return ""
    unpaid = sorted((c for c in exp if _v(exp[c].get("unpaid_expected")) > 0),
                    key=lambda c: -_v(exp[c].get("unpaid_expected")))

    def share(c: str) -> str:
        fig = exp[c].get("share_of_revenue")
        return f"{fmt.percent(_v(fig))} of the buyer's revenue" if fig else "no share of revenue recorded"

    if unpaid:
        first = unpaid[0]
        text = (f"Most exposed: {first} ({share(first)}; {fmt.figure(exp[first].get('unpaid_expected'))} expected "
                "to go unpaid")
        if exp[first].get("unpaid_cvar"):
            text += f", {fmt.figure(exp[first]['unpaid_cvar'])} in the worst futures (CVaR)"
        text += ")"
        if len(unpaid) > 1:
            text += "; then " + ", ".join(f"{c} ({fmt.figure(exp[c].get('unpaid_expected'))})" for c in unpaid[1:3])
        return text + "."
    largest = max(exp, key=lambda c: _v(exp[c].get("committed")))
    return (f"Nobody is left unpaid in any future; the largest commitment is to {largest} "
            f"({fmt.figure(exp[largest].get('committed'))}, {share(largest)}).")


def exposure_section(summary: Mapping[str, Any], set_dir: Path) -> dict[str, Any] | None:
    """The section (None when the set has no exposure)."""
    exp = summary.get("exposure") or {}
    if not exp:
        return None
    order = sorted(exp, key=lambda c: (-_v(exp[c].get("unpaid_expected")), -_v(exp[c].get("committed"))))
    alpha = next((exp[c]["unpaid_cvar"].get("alpha") for c in exp if exp[c].get("unpaid_cvar")), None)
    cvar_head = f"unpaid, CVaR {fmt.percent(alpha)}" if alpha is not None else "unpaid, CVaR"
    rows = [[c, fmt.figure(exp[c].get("committed")),
             fmt.percent(_v(exp[c]["share_of_revenue"])) if exp[c].get("share_of_revenue") else "n/a",
             fmt.figure(exp[c].get("unpaid_expected")), fmt.figure(exp[c].get("unpaid_cvar"))] for c in order]
    top = summary.get("most_exposed") or order[:3]
    blocks = [
        p("Most exposed (largest expected unpaid amount): " + ", ".join(top) + "." if any(
            _v(exp[c].get("unpaid_expected")) > 0 for c in exp) else
          "In every future revenue, equity and vendor financing cover the payments: nobody is left unpaid."),
        figures_block([image(sankey_plot(summary.get("money_flows") or [], set_dir), "Money flows")],
                      one_column=True),
        table_block(table(["counterparty", "committed (expected payments, nominal)", "share of the buyer's revenue",
                           "unpaid, expected", cvar_head], rows, numeric=(1, 2, 3, 4))),
        p(str(summary.get("exposure_rule", ""))),
    ]
    return section("exposure", "Who holds the risk", blocks, nav="Exposure")


def sankey_plot(flows: list[Mapping[str, Any]], set_dir: Path, top: int = 10) -> bytes | None:
    """Money into the buyer (revenue, investors, the gap) on the left, its payments to partners on the right."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import PathPatch
    from matplotlib.path import Path as MPath

    ins = [(str(f["from"]), _v(f.get("value")), str(f.get("kind", ""))) for f in flows
           if f.get("to") == "buyer" and _v(f.get("value")) > 0]
    outs = sorted([(str(f["to"]), _v(f.get("value"))) for f in flows if f.get("from") == "buyer"
                   and _v(f.get("value")) > 0], key=lambda t: -t[1])
    if not ins or not outs:
        return None
    if len(outs) > top:
        outs = outs[:top - 1] + [("others", sum(v for _, v in outs[top - 1:]))]
    total = max(sum(v for _, v, _ in ins), sum(v for _, v in outs))
    scale = 1.0 / total
    gap = 0.012

    def stack(values: list[float]) -> list[tuple[float, float]]:
        spans, y = [], 1.0 + gap * (len(values) - 1) / 2
        for v in values:
            h = v * scale
            spans.append((y - h, y))
            y -= h + gap
        return spans

    left = stack([v for _, v, _ in ins])
    right = stack([v for _, v in outs])

    def contiguous(values: list[float]) -> list[tuple[float, float]]:
        spans, y = [], 1.0
        for v in values:
            spans.append((y - v * scale, y))
            y -= v * scale
        return spans

    mid_in = contiguous([v for _, v, _ in ins])       # the buyer's bar: no gaps
    mid_out = contiguous([v for _, v in outs])

    n_rows = max(len(ins), len(outs))
    height = 0.5 * n_rows + 3.6
    line = 0.26 / (height - 1.4)       # one line of 11.5 px text in axis units (the axis spans about 1.2)

    def label_positions(spans: list[tuple[float, float]], sep: float = 2.2 * line) -> list[float]:
        """Label heights at the spans' middles, pushed apart top-down so that none overlap."""
        ys, out = [(a + b) / 2 for a, b in spans], []
        for y in ys:
            out.append(min(y, out[-1] - sep) if out else y)
        return out

    def band(ax, x0: float, y0: tuple[float, float], x1: float, y1: tuple[float, float], colour: str, hatch=None):
        xm = (x0 + x1) / 2
        verts = [(x0, y0[1]), (xm, y0[1]), (xm, y1[1]), (x1, y1[1]), (x1, y1[0]), (xm, y1[0]), (xm, y0[0]),
                 (x0, y0[0]), (x0, y0[1])]
        codes = [MPath.MOVETO, MPath.CURVE4, MPath.CURVE4, MPath.CURVE4, MPath.LINETO, MPath.CURVE4, MPath.CURVE4,
                 MPath.CURVE4, MPath.CLOSEPOLY]
        ax.add_patch(PathPatch(MPath(verts, codes), facecolor=colour, edgecolor="none", alpha=0.55, hatch=hatch))

    with plt.rc_context(PLOT_STYLE):
        fig, ax = plt.subplots(figsize=(9.5, height))
        label_in, label_out = iter(label_positions(left)), iter(label_positions(right))
        for (name, v, kind), l_, m_ in zip(ins, left, mid_in):
            c = GAP if kind == "gap" else ("#8c8c8c" if kind == "revenue" else company_colour(name))
            band(ax, 0.12, l_, 0.46, m_, c, hatch="//" if kind == "warrant" else None)
            ax.add_patch(plt.Rectangle((0.10, l_[0]), 0.02, l_[1] - l_[0], color=c))
            what = {"warrant": " (warrant, shares)", "gap": "", "revenue": ""}.get(kind, f" ({kind.replace('_', ' ')})")
            y_text = next(label_in)
            ax.plot([0.07, 0.10], [y_text, (l_[0] + l_[1]) / 2], color="#999999", lw=0.5)
            ax.text(0.065, y_text, f"{name}{what}\n{fmt.quantity(v, 'USD')}", ha="right", va="center")
        for (name, v), r_, m_ in zip(outs, right, mid_out):
            c = company_colour(name) if name != "others" else "#bbbbbb"
            band(ax, 0.50, m_, 0.86, r_, c)
            ax.add_patch(plt.Rectangle((0.86, r_[0]), 0.02, r_[1] - r_[0], color=c))
            y_text = next(label_out)
            ax.plot([0.88, 0.91], [(r_[0] + r_[1]) / 2, y_text], color="#999999", lw=0.5)
            ax.text(0.915, y_text, f"{name}\n{fmt.quantity(v, 'USD')}", ha="left", va="center")
        lo = min(min(a for a, _ in mid_in), min(a for a, _ in mid_out))
        hi = max(max(b for _, b in mid_in), max(b for _, b in mid_out))
        ax.add_patch(plt.Rectangle((0.46, lo), 0.04, hi - lo, color=BUYER))
        ax.text(0.48, lo - 0.02, "the buyer\n(this plan)", ha="center", va="top", fontweight="bold")
        ys = [a for a, _ in left + right] + [b for _, b in left + right] + label_positions(left) + label_positions(right)
        ax.set_xlim(-0.62, 1.5)             # room for the labels on both sides: none is cut
        ax.set_ylim(min(ys + [lo]) - 0.14, max(ys) + 0.06)
        ax.axis("off")
        ax.set_title("Money flows: revenue and investments into the buyer, its payments out to partners\n"
                     "(expected over the futures, nominal; hatched: shares, not cash)", loc="left")
        fig.tight_layout()
        return save_figure(fig, set_dir, "money_flows.png")
