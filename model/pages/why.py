"""The plan page's "What stops more" and the headline's range, from ``summary.json``.

Both only show what :func:`model.why.what_stops` and :mod:`model.headline_range` decided; nothing here
ranks or explains anew.
"""
from __future__ import annotations

from typing import Any, Mapping

from model import fmt
from model.headline_range import range_words
from model.pages import bullets, p, table, table_block
from model.why import per_unit_text


def what_stops_blocks(summary: Mapping[str, Any]) -> list[Any]:
    """The story (one sentence), then each family with its effect and its largest limits."""
    ws = summary.get("what_stops")
    if not isinstance(ws, Mapping):
        return []
    unit = str(ws.get("unit", "GW"))
    blocks: list[Any] = [p(str(ws.get("sentence", ""))),
                         p(f"Basis: {ws.get('basis', '')}. Families are ranked by what "
                           f"{ws.get('step', '1 % more room in each binding limit')} adds to the largest reachable "
                           "figure.", "note")]
    rows = []
    for f in ws.get("families") or []:
        tops = "; ".join(f"{x['name']} ({per_unit_text(x['per_unit'])})" for x in f.get("limits") or [])
        rows.append([str(f["family"]), str(f["words"]), str(f["binding"]),
                     fmt.quantity(f["effect"]["value"], unit), tops])
    if rows:
        blocks.append(table_block(table(["family", "what it is", "binding limits", "1 % more room adds",
                                         "largest limits (per unit)"], rows, numeric=(2, 3))))
    if summary.get("binding_note"):
        blocks.append(p("Cost duals: " + str(summary["binding_note"]) + ".", "note"))
    return blocks


def range_sentence(summary: Mapping[str, Any]) -> str:
    """``68.7-109 GW over the inputs below`` in brackets, for the verdict ('' without a range)."""
    words = range_words(summary.get("headline_range"))
    return f" ({words})" if words else ""


def range_blocks(summary: Mapping[str, Any]) -> list[Any]:
    """The headline's range and the five inputs that move it most (before the full ranking)."""
    hr = summary.get("headline_range")
    if not isinstance(hr, Mapping):
        return []
    if hr.get("low") is None:
        return [p(f"The headline's range is {hr.get('note', 'not computed')}.", "note")]
    unit = str(hr.get("unit", ""))
    joint = hr.get("jointly") or {}
    lines = [f"{i['label']} ({i['low']} to {i['high']}): {fmt.quantity(i['swing'], i['unit'])}"
             for i in hr.get("inputs") or []]
    return [p(f"The {hr.get('basis', 'headline')}: {fmt.quantity(hr.get('value'), unit)}, "
              f"{fmt.span(hr['low'], hr['high'], unit)} over the ranged inputs of inputs/ranges.csv (one at a time: "
              f"{fmt.span((hr.get('one_at_a_time') or {}).get('low'), (hr.get('one_at_a_time') or {}).get('high'), unit)}; "
              f"jointly over {joint.get('solved', 0)} Latin-hypercube cases: "
              f"{fmt.span(joint.get('low'), joint.get('high'), unit)}). The inputs that move it most:"),
            bullets(lines), p(str(hr.get("method", "")), "note")]
