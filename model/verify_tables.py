"""The figures ``run.py verify`` compares, read from a result set: ``summary.json``, or the tables of the sets
that have none to stand for them (a sweep's ``summary.csv``, a world sweep's ``cases.csv``, a comparison's
``tables/*.csv``).

Kept apart from :mod:`model.verify` (the re-run and the report) so that each module stays one concern. Every
reader returns nested dicts of figures (``{"value": ..., "unit": ...}``) and words, the form
:func:`model.verify.compare_summaries` takes; every file is bounded before it is read.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from model.verify_checks import MAX_JSON_BYTES, read_json


def read_csv(path: Path, needed: set[str] | frozenset[str] = frozenset()) -> Any:
    """A result set's table (a pandas frame), refused (ValueError) when missing, too large, unreadable or
    without the ``needed`` columns."""
    import pandas as pd

    try:
        if path.stat().st_size > MAX_JSON_BYTES:
            raise ValueError(f"{path}: expected at most {MAX_JSON_BYTES} bytes, found {path.stat().st_size}")
        frame = pd.read_csv(path, keep_default_na=False, na_values=[""])
    except FileNotFoundError:
        raise ValueError(f"{path.parent} is not the set its manifest says: {path.name} is missing") from None
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ValueError(f"{path} cannot be read: {type(exc).__name__}: {str(exc)[:200]}") from None
    if not needed <= set(frame.columns):
        raise ValueError(f"{path}: expected the columns {', '.join(sorted(needed))}, found "
                         f"{', '.join(map(str, frame.columns))[:200]}")
    return frame


def _cell(value: Any, unit: str) -> Any:
    """A table cell as verify compares it: a number is a figure in ``unit``, an empty cell ``None``, else a word."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float)) or type(value).__module__ == "numpy":
        number = float(value)
        return None if math.isnan(number) else {"value": number, "unit": unit}
    return str(value)


def _column_unit(column: str, row_unit: str = "") -> str:
    """The unit of a world sweep's column, read from its name (``*_gw`` in GW, ``*_usd_per_gw`` in USD/GW)."""
    if column.endswith("_usd_per_gw"):
        return "USD/GW"
    if column.endswith("_gw"):
        return "GW"
    return row_unit if column == "value" else ""


def sweep_figures(result_set: Path) -> dict[str, Any]:
    """A sweep's every case, status and figures (``summary.csv``) and swept values (``cases.csv``), as
    ``{"case 3": {"status": ..., "total_cost": {...}, "input.pue": {...}}}``."""
    out: dict[str, Any] = {}
    for name, what in (("summary.csv", "figure"), ("cases.csv", "key")):
        frame = read_csv(Path(result_set) / name, {"case", what, "value", "unit"})
        for row in frame.itertuples(index=False):
            case = out.setdefault(f"case {row.case}", {})
            if what == "figure":
                case["status"] = row.status
                key = f"{row.figure}.{row.group}" if isinstance(row.group, str) and row.group else str(row.figure)
            else:
                key = f"input.{row.key}"
            value = float(row.value) if str(row.value) != "" else math.nan
            case[key] = {"value": value, "unit": str(row.unit)}
    return out


def world_sweep_figures(result_set: Path) -> dict[str, Any]:
    """A world sweep's words (year, rule, default buyer from ``summary.json``) and every case of ``cases.csv``
    (the key moved and its value, status, the default buyer's reach and shares, the world's total, the scarcest
    chips), as ``{"year": 2030, "case 0": {"status": "optimal", "default_in_service_gw": {...}}}``."""
    summary = read_json(Path(result_set) / "summary.json")
    out: dict[str, Any] = {k: summary.get(k) for k in ("kind", "year", "rule", "default_buyer")}
    frame = read_csv(Path(result_set) / "cases.csv", {"key", "value", "unit", "status"})
    for i, row in enumerate(frame.to_dict("records")):
        unit = "" if row.get("unit") is None or (isinstance(row["unit"], float) and math.isnan(row["unit"])) \
            else str(row["unit"])
        out[f"case {i}"] = {c: _cell(v, _column_unit(c, unit)) for c, v in row.items()}
    return out


def comparison_figures(result_set: Path) -> dict[str, Any]:
    """A comparison's tables: ``headline.csv`` by key and set (value, or its word, and difference in the row's
    unit), every other ``tables/*.csv`` row by row; plus which tables the set holds.

    Raises
    ------
    ValueError
        For a missing, oversized or unreadable table (named).
    """
    tables = Path(result_set) / "tables"
    names = sorted(p.stem for p in tables.glob("*.csv")) if tables.is_dir() else []
    out: dict[str, Any] = {"tables": ", ".join(names)}
    headline = read_csv(tables / "headline.csv", {"key", "set", "value", "unit"})
    for row in headline.to_dict("records"):
        unit = "" if _cell(row["unit"], "") is None else str(row["unit"])
        units = {"value": unit, "difference": unit, "difference_pct": "%"}
        cells = {c: _cell(v, units.get(c, "")) for c, v in row.items() if c not in ("key", "set")}
        text = cells.pop("text", None)
        if text is not None:           # a figure that is a word (a status): compared as the word
            cells["value"] = text
        out[f"headline[{row['key']} | {row['set']}]"] = cells
    for name in names:
        if name == "headline":
            continue
        frame = read_csv(tables / f"{name}.csv")
        out[name] = {str(i): {c: _cell(v, str(row.get("unit", "")) if c == "value" else "") for c, v in row.items()}
                     for i, row in enumerate(frame.to_dict("records"))}
    return out


def read_figures(result_set: Path, kind: str) -> dict[str, Any]:
    """The figures verify compares for a set of this kind (a key of :data:`model.verify_argv.ALLOWED`).

    Raises
    ------
    ValueError
        For a missing, oversized or unreadable file (named).
    """
    if kind == "sweep":
        return sweep_figures(result_set)
    if kind == "world-sweep":
        return world_sweep_figures(result_set)
    if kind == "compare":
        return comparison_figures(result_set)
    return read_json(Path(result_set) / "summary.json")
