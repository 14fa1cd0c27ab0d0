"""The world allocation shipped with the inputs: the default buyer's shares of the world's shared supply.

``inputs/world_allocation.csv`` (``kind,name,year,share,unit,source``; kind ``vendor`` or ``region``) is
written by ``python run.py world --write-allocation``. When it is there, the single-buyer run reads it
instead of the ``buyer_share`` rows of ``vendor_supply.csv`` and ``region_parameters.csv``: every
``buyer_share`` row of a vendor (region) it names is replaced by one row per year of the file, so

    supply_cap[v, y]  = world_output[v, y] x share[v, y]
    grid_power[r, y]  = sum_c regional_power[c, y] x capacity_credit[c] x share[r, y]

A ``--set buyer_share.V=..`` or ``grid_share.R=..`` still overrides (it is applied later). Without the
file, the ``buyer_share`` rows of the two tables decide, as before (the fallback).
"""
from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from pint import DimensionalityError

from model.errors import InputError
from model.inputs.memo import IdentityMemo
from model.inputs.tables import FileSchema, RawRow, RawTable, read_table
from model.units import UnitParseError, parse_quantity

ALLOCATION_FILE = "world_allocation.csv"
ALLOCATION_SCHEMA = FileSchema(ALLOCATION_FILE, ("kind", "name", "year", "share", "unit", "source"),
                               ("kind", "name", "year"), optional=())
_DATE = re.compile(r"inputs of (\d{4}-\d{2}-\d{2})")
#: (kind in the allocation file) -> (table, key column, parameter that makes the member shared)
TARGETS = {"vendor": ("vendor_supply.csv", "vendor", "world_output"),
           "region": ("region_parameters.csv", "region", "regional_power")}


def _check(row: RawRow, tables: dict[str, RawTable], errors: list[InputError]) -> tuple[str, str, int, float] | None:
    """(kind, name, year, share) of one allocation row, or None (problems appended)."""
    kind, name = row.get("kind"), row.get("name")
    if kind not in TARGETS:
        errors.append(InputError(row.file, row.row, "kind", "vendor or region", repr(kind)))
        return None
    file, key, param = TARGETS[kind]
    shared = {r.get(key) for r in tables[file].rows if r.get("parameter") == param} if file in tables else set()
    if name not in shared:
        errors.append(InputError(row.file, row.row, "name", f"a {kind} with '{param}' rows in {file} "
                                 f"({', '.join(sorted(shared)) or 'none'})", repr(name)))
        return None
    try:
        year, share = int(row.get("year")), float(row.get("share"))
    except ValueError:
        errors.append(InputError(row.file, row.row, "year/share", "a calendar year and a number",
                                 f"{row.get('year')!r}, {row.get('share')!r}"))
        return None
    if not 0.0 <= share <= 1.0:
        errors.append(InputError(row.file, row.row, "share", "a share from 0 to 1", repr(row.get("share"))))
        return None
    if row.get("unit") not in ("dimensionless", "1", ""):
        errors.append(InputError(row.file, row.row, "unit", "dimensionless", repr(row.get("unit"))))
        return None
    if not _DATE.search(row.get("source")):
        errors.append(InputError(row.file, row.row, "source", "'python run.py world --write-allocation on inputs "
                                 "of YYYY-MM-DD'", repr(row.get("source"))))
        return None
    return kind, name, year, share


def apply_world_allocation(tables: dict[str, RawTable], inputs_dir: Path, errors: list[InputError]) -> Path | None:
    """Replace the ``buyer_share`` rows of every vendor and region the allocation file names (in place).

    Returns the file read, or None when there is none (the tables are then unchanged).
    """
    path = Path(inputs_dir) / ALLOCATION_FILE
    if not path.exists():
        return None
    table = read_table(path, ALLOCATION_SCHEMA, errors)
    if table is None:
        return path
    rows = []
    for row in table.rows:
        checked = _check(row, tables, errors)
        if checked is not None:
            rows.append((*checked, row))
    for kind, (file, key, _) in TARGETS.items():
        named = {r[1] for r in rows if r[0] == kind}
        if not named:
            continue
        t = tables[file]
        kept = tuple(r for r in t.rows if not (r.get("parameter") == "buyer_share" and r.get(key) in named))
        added = []
        for k, name, year, share, raw in rows:
            if k != kind:
                continue
            vals = {c: "" for c in t.columns}
            vals.update({key: name, "year": str(year), "parameter": "buyer_share", "value": repr(share),
                         "unit": "dimensionless", "source": raw.get("source"),
                         "date": _DATE.search(raw.get("source")).group(1), "confidence": "D"})
            added.append(RawRow(vals, raw.file, raw.row))
        tables[file] = replace(t, rows=kept + tuple(added))
    return path


#: Each buyer_share row's share, kept per row object (a sweep case leaves most rows as they were).
_SHARES = IdentityMemo(4096)


def _share(row: RawRow) -> float:
    """A buyer_share row's value as a plain fraction (kept per row: see :data:`_SHARES`)."""
    return _SHARES((row,), None, lambda _: _read_share(row), [])


def _read_share(row: RawRow) -> float:
    q = parse_quantity(f"{row.get('value')} {row.get('unit') or 'dimensionless'}")
    return float(q.to("dimensionless").magnitude)


def basis_of(row: RawRow) -> str:
    """Where a share came from, in words: the world run, the user, or the fallback rows."""
    if row.file.endswith(ALLOCATION_FILE):
        m = _DATE.search(row.get("source"))
        rule = "pro-rata" if "pro-rata" in row.get("source") else "value"
        return f"world run, {rule} rule, inputs of {m.group(1) if m else 'unknown date'}"
    if "--set" in str(row.row) or row.file == "command line":
        return "set by the user"
    if row.file.startswith("scenario") or "scenarios" in row.file:
        return f"set by the scenario file ({row.file})"
    return f"buyer_share rows of {row.file} (no world allocation for it)"


def share_table(tables: dict[str, RawTable], years: tuple[int, ...]) -> dict[str, dict[str, Any]]:
    """``{"vendor": {v: {"basis", "unit", "by_year"}}, "region": {r: ...}}``: the shares the run uses.

    A region whose components carry different shares (the fallback rows) is listed per component as
    ``region/component``. Years between given ones are interpolated and held flat outside, as the loader does.
    """
    import numpy as np

    out: dict[str, dict[str, Any]] = {"vendor": {}, "region": {}}
    for kind, (file, key, _) in TARGETS.items():
        groups: dict[str, list[RawRow]] = {}
        for r in tables.get(file, RawTable(file, (), ())).rows:
            if r.get("parameter") == "buyer_share":
                name = r.get(key) + (f"/{r.get('component')}" if r.get("component") else "")
                groups.setdefault(name, []).append(r)
        for name, rows in sorted(groups.items()):
            try:
                points = {int(r.get("year")): _share(r) for r in rows if r.get("year")}
                flat = [_share(r) for r in rows if not r.get("year")]
            except (ValueError, UnitParseError, DimensionalityError):  # refused by the loader, naming its row
                continue
            if flat:
                series = {y: flat[0] for y in years}
            elif points:
                xs = sorted(points)
                series = {y: float(np.interp(y, xs, [points[x] for x in xs])) for y in years}
            else:
                continue
            out[kind][name] = {"basis": basis_of(rows[-1]), "unit": "dimensionless",
                               "by_year": {str(y): v for y, v in series.items()}}
    return out
