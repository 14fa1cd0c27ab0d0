"""The shares of the world's supply a single-buyer run uses, as rows for the terminal and the plan page.

``summary.json`` ``supply_share`` is ``{"vendor": {v: {"basis", "unit", "by_year"}}, "region": {...}}``
(:func:`model.inputs.allocation.share_table`): each share with where it came from (the world run's
allocation, the user's ``--set``, or the fallback ``buyer_share`` rows).
"""
from __future__ import annotations

from typing import Any, Mapping


def share_rows(summary: Mapping[str, Any], year: int) -> list[tuple[str, str, float, str]]:
    """(kind, name, share in ``year``, basis) for every vendor and region with a share."""
    out = []
    for kind in ("vendor", "region"):
        for name, entry in (summary.get("supply_share") or {}).get(kind, {}).items():
            share = entry.get("by_year", {}).get(str(year))
            if share is not None:
                out.append((kind, name, float(share), str(entry.get("basis", ""))))
    return out


def terminal_lines(summary: Mapping[str, Any], year: int,
                   names: Mapping[str, Mapping[str, str]] | None = None) -> list[str]:
    """The share table as text lines (empty when the run has no shares).

    Vendors and regions are shown by their display names (``names``: kind -> id -> name, as
    :func:`model.report.display_names` gives them, the names the plan page shows); an id without one in words.
    """
    from model.fmt import percent
    from model.names import name as display_name

    rows = share_rows(summary, year)
    if not rows:
        return []
    bases = sorted({b for *_, b in rows})
    lines = [f"Shares of the world's supply used in {year} (basis: {'; '.join(bases)})"]
    for kind, id_, share, _ in rows:
        lines.append(f"  {kind:<7} {display_name(kind, id_, names):<20} {percent(share):>8}")
    return lines
