"""The plan page's calibration section: the plan beside reported figures, rows outside their tolerance first.

Reads summary.json ``calibration`` (:mod:`model.calibration`); each row shows the plan's figure, the
reference, the ratio with its tolerance, the verdict, and for a row outside what would reconcile it.
"""
from __future__ import annotations

from typing import Any, Mapping

from markupsafe import Markup

from model import fmt
from model.pages import h3, p, source_cell, table, table_block


def _tolerance(tol: Mapping[str, Any]) -> str:
    low, high = float(tol.get("low", 0.0)), float(tol.get("high", 0.0))
    return f"at most {high:g}x" if low == 0 else f"{low:g}x to {high:g}x"


def calibration_blocks(summary: Mapping[str, Any]) -> list[Any]:
    """Heading, a sentence naming the misses, and the table (outside first, as the summary orders them)."""
    cal = summary.get("calibration")
    rows = (cal or {}).get("value") if isinstance(cal, Mapping) else None
    if not rows:
        return []
    blocks: list[Any] = [h3("Calibration: the plan against reported figures")]
    misses = [r for r in rows if r.get("verdict") == "outside"]
    if misses:
        blocks.append(p(f"{len(misses)} of {len(rows)} figures are outside their tolerance: "
                        + "; ".join(f"{r.get('figure')} ({fmt.quantity(r.get('ratio'), '')}x)" for r in misses)
                        + ". Each says what would reconcile it.", "warn"))
    else:
        blocks.append(p(f"All {len(rows)} figures are within their tolerance."))
    body, classes = [], []
    for r in rows:
        unit = str(r.get("unit", ""))
        outside = r.get("verdict") == "outside"
        ratio = r.get("ratio")
        body.append([str(r.get("figure", "")), fmt.quantity(r.get("value"), unit), fmt.quantity(r.get("reference"), unit),
                     f"{ratio:.2f}x" if ratio is not None else "n/a", _tolerance(r.get("tolerance") or {}),
                     Markup("<strong>outside</strong>") if outside else "within",
                     r.get("reconcile") if outside else "", source_cell(r.get("source"))])
        classes.append("warn" if outside else "")
    blocks.append(table_block(table(["figure", "plan", "reference", "ratio", "tolerance", "verdict",
                                     "what would reconcile it", "source"], body, numeric=(1, 2, 3), row_class=classes)))
    return blocks
