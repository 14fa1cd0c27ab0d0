"""Saving a chart so that its text reads at the width a page shows it.

A page shows each chart one to a row, at its natural width or narrower: at
most the page's column (:data:`COLUMN_PX` at a 1400 px window) and
:data:`NARROW_COLUMN_PX` in a window of 800 px. A chart drawn 990 px wide
with 8.5 pt ticks at 110 dpi shows those ticks at about 10 px in the narrow
column. :func:`save` therefore raises every text of a figure whose size as
displayed in the narrow column would fall below :data:`MIN_TEXT_PX` to that
floor (relayouting the figure), and records the smallest text size in pixels
of the PNG as its ``min_text_px`` text chunk, so a browser test can check the
size as displayed (``min_text_px * shown width / natural width``). A figure
whose texts run over its edge is saved with the image grown to hold them
(nothing is cut), its text raised again for the wider image.
"""
from __future__ import annotations

import io
import warnings
from pathlib import Path
from typing import IO

DPI = 110
#: Width of the page's column at a 1400 px window and at an 800 px window (the CSS keeps both).
COLUMN_PX = 1072
NARROW_COLUMN_PX = 750   # 800 less two 16 px paddings and a 15 px scroll bar
#: The smallest chart text as displayed, in CSS pixels (a little over the 11 px readers are promised).
MIN_TEXT_PX = 11.5
#: Margin kept around a chart that had to grow to hold what ran over its edge (inches).
PAD_IN = 0.08


def shown_scale(natural_px: float, column_px: float = NARROW_COLUMN_PX) -> float:
    """How much a page shrinks a chart ``natural_px`` wide in a column ``column_px`` wide (never enlarges)."""
    return min(1.0, column_px / natural_px) if natural_px > 0 else 1.0


def _texts(fig) -> list:
    from matplotlib.text import Text

    return [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]


def raise_small_text(fig, dpi: float = DPI, floor_px: float = MIN_TEXT_PX, width_in: float | None = None) -> float:
    """Raise every text of ``fig`` that would show below ``floor_px`` in the narrow column; returns the
    smallest text size in pixels of the saved image (at ``dpi``; ``width_in``: the saved image's width, inches,
    when it differs from the figure's)."""
    natural = (width_in or fig.get_figwidth()) * dpi
    px_per_pt = dpi / 72.0
    scale = shown_scale(natural)
    need_pt = floor_px / (px_per_pt * scale)
    texts = _texts(fig)
    raised = False
    for t in texts:
        if t.get_fontsize() < need_pt - 1e-6:
            t.set_fontsize(need_pt)
            raised = True
    if raised and fig.get_layout_engine() is None and not fig.legends:   # a figure legend keeps its layout
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                fig.tight_layout()
            except (ValueError, RuntimeError):     # a layout tight_layout cannot handle keeps its own
                pass
    return min((t.get_fontsize() * px_per_pt for t in texts), default=need_pt * px_per_pt)


def clipped_px(fig) -> float:
    """How far, in pixels, what the figure draws runs over its edge (0: nothing is cut)."""
    renderer = fig.canvas.get_renderer()
    box = fig.get_tightbbox(renderer)            # in inches: every drawn text, tick label and legend
    w, h = fig.get_figwidth(), fig.get_figheight()
    over = max(0.0, -box.x0, -box.y0, box.x1 - w, box.y1 - h)
    return over * fig.dpi


def save(fig, target: Path | str | IO[bytes], dpi: float = DPI, close: bool = True) -> None:
    """Save ``fig`` as a PNG at ``dpi`` with its small text raised (see the module), then close it."""
    import matplotlib.pyplot as plt

    smallest = raise_small_text(fig, dpi)
    fig.set_dpi(dpi)
    fig.canvas.draw()
    cut = clipped_px(fig)
    if cut > 0:        # something runs over the edge: the saved image grows to hold it, its text raised to match
        width = 0.0
        for _ in range(4):                      # raising the text widens the drawing: until the two agree
            fig.canvas.draw()
            box = fig.get_tightbbox(fig.canvas.get_renderer())
            if box.width + 2 * PAD_IN <= width + 0.02:
                break
            width = box.width + 2 * PAD_IN
            smallest = raise_small_text(fig, dpi, width_in=width * 1.02)
    fig.savefig(target, format="png", dpi=dpi, bbox_inches="tight" if cut > 0 else None, pad_inches=PAD_IN,
                metadata={"min_text_px": f"{smallest:.2f}", "overflow_px": f"{cut:.0f}"})
    if close:
        plt.close(fig)


def png_bytes(fig, dpi: float = DPI) -> bytes:
    """The PNG of ``fig`` (saved as :func:`save` does) as bytes."""
    buf = io.BytesIO()
    save(fig, buf, dpi)
    return buf.getvalue()


def recorded(png: bytes) -> dict[str, str]:
    """The text chunks a PNG written by :func:`save` records (``min_text_px``; ``overflow_px``: how far the drawing ran over the figure's edge before the image grew to hold it)."""
    from PIL import Image

    with Image.open(io.BytesIO(png)) as im:
        return dict(getattr(im, "text", None) or {})


def min_text_px(png: bytes) -> float | None:
    """The ``min_text_px`` a PNG written by :func:`save` records (None for another PNG)."""
    value = recorded(png).get("min_text_px")
    return float(value) if value else None
