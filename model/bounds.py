"""Stated bounds of every whole-number option, shared by the commands and by ``run.py verify``.

A value outside its bound is refused before anything runs (exit 2), so that a
typing slip or a crafted manifest cannot fork a hundred workers or draw a
million futures. The bounds are on sense, not on data (assumption: a laptop
or one server; raise them here if a larger machine needs more).
"""
from __future__ import annotations

#: option -> (least, most), both included.
WHOLE_NUMBER_BOUNDS: dict[str, tuple[int, int]] = {
    "--year": (1900, 2200),
    "--from": (1900, 2200),
    "--look-ahead": (1, 100),
    "--processes": (1, 64),
    "--workers": (1, 64),
    "--sample": (1, 10_000),
    "--iterations": (1, 10_000),
    "--batches": (1, 1_000),
    "--seed": (0, 2**32 - 1),
    "--count": (1, 100),
    "--steps": (2, 1_000),
    "--samples": (1, 1_000_000),
    "--levels": (2, 100),
    "--chunk-size": (1, 1_000_000),
}


def whole_number_problem(option: str, value: int | None) -> str:
    """``"command line, --processes: expected a whole number from 1 to 64, found 100000"``, or ``""``."""
    if value is None or option not in WHOLE_NUMBER_BOUNDS:
        return ""
    low, high = WHOLE_NUMBER_BOUNDS[option]
    if low <= value <= high:
        return ""
    return f"command line, {option}: expected a whole number from {low} to {high}, found {value}"
