"""The world allocation shipped with the inputs: the default buyer's shares of the world's shared supply.

``inputs/world_allocation.csv`` (``kind,name,year,share,unit,source``; kind ``vendor`` or ``region``) is
written by ``python run.py world --write-allocation``. When it is there, the single-buyer run reads it
instead of the ``buyer_share`` rows of ``vendor_supply.csv`` and ``region_parameters.csv``: every
``buyer_share`` row of a vendor (region) it names is replaced by one row per year of the file, so

    supply_cap[v, y]  = world_output[v, y] x share[v, y]
    grid_power[r, y]  = sum_c regional_power[c, y] x capacity_credit[c] x share[r, y]

A ``--set buyer_share.V=..`` or ``grid_share.R=..`` still overrides (it is applied later). Without the
file, the ``buyer_share`` rows of the two tables decide, as before (the fallback).

The file is the world's answer for the inputs it was computed on, and says which: its header holds the
**world fingerprint** (:func:`world_fingerprint` with ``own``), a sha256 over every row the world reads
(every table the LP reads, the default buyer's own included, without the ``buyer_share`` rows it replaces
and without provenance columns), every other buyer's files and the ``buyer_demand_scale.B`` /
``buyer_value_scale.B`` keys of the run. A run whose scenario, futures or ``--set`` change any of that
(world output, regional power, a PUE, its own deals or money, a rival's demand) does not use the shipped
shares: the world is re-solved with the run's changes (:func:`resolved_rows`, about a second, memoised per
process) and the run takes its shares from that. The target (``--target``, ``--year``) is not an input of
the world: the world plans every buyer's announced capacity.
"""
from __future__ import annotations

import hashlib
import operator
import os
import re
from dataclasses import replace
from pathlib import Path
from typing import Any, Iterable

from pint import DimensionalityError

from model.errors import InputError, InputErrors
from model.inputs.memo import IdentityMemo
from model.inputs.tables import FileSchema, RawRow, RawTable, ancestor_with_same, read_table
from model.provenance import inputs_date
from model.units import UnitParseError, parse_quantity

ALLOCATION_FILE = "world_allocation.csv"
ALLOCATION_SCHEMA = FileSchema(ALLOCATION_FILE, ("kind", "name", "year", "share", "unit", "source"),
                               ("kind", "name", "year"), optional=())
_DATE = re.compile(r"inputs of (\d{4}-\d{2}-\d{2})")
_WORLD_LINE = re.compile(r"^# world: rule (\S+); fingerprint sha256:([0-9a-f]{64})\s*$")
#: where the shares of a re-solved world come from (a row's ``file``), for messages and the basis
RESOLVED = "the world re-solved for this run's changes"
#: said of the shares of a re-solved world that cannot honour every buyer's signed deals
ELASTIC = "the world cannot honour every buyer's signed deals and history with them, shares from its elastic solve"
#: columns that say where a figure comes from, not what it is (left out of the fingerprint)
PROVENANCE = frozenset({"source", "date", "confidence", "note", "reason", "url"})
#: files the LP never reads (calibration and reference figures: presentation)
NOT_IN_THE_LP = frozenset({"calibration.csv", "reference_energy.csv"})
#: The files each buyer of the world has its own of (``inputs/buyers/<buyer>/``; the top-level ones are the
#: default buyer's); every other file is read by every buyer (model.world.data).
BUYER_SCOPED = ("offers.csv", "offer_parameters.csv", "opening_stock.csv", "deals.csv", "deal_terms.csv",
                "commitments.csv", "finance.csv", "targets.csv", "portfolio.csv", "power_sources.csv",
                "power_source_parameters.csv")
#: --set keys of the world run that a single-buyer run passes on to the world
WORLD_SET_KEYS = ("buyer_demand_scale", "buyer_value_scale")
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


def apply_world_allocation(tables: dict[str, RawTable], inputs_dir: Path, errors: list[InputError],
                           rows: list[RawRow] | None = None) -> Path | None:
    """Replace the ``buyer_share`` rows of every vendor and region the allocation names (in place).

    ``rows`` are the rows of a re-solved world (:func:`resolved_rows`); without them the file is read.
    Returns the file read (or that the re-solved rows stand for), or None when there is none (the tables
    are then unchanged).
    """
    path = Path(inputs_dir) / ALLOCATION_FILE
    if rows is not None and not rows:
        return None                # asked to use none: the buyer_share rows decide
    if rows is None:
        if not path.exists():
            return None
        table = read_table(path, ALLOCATION_SCHEMA, errors)
        if table is None:
            return path
        rows = list(table.rows)
    checked_rows = []
    for row in rows:
        checked = _check(row, tables, errors)
        if checked is not None:
            checked_rows.append((*checked, row))
    for kind, (file, key, _) in TARGETS.items():
        named = {r[1] for r in checked_rows if r[0] == kind}
        if not named:
            continue
        t = tables[file]
        kept = tuple(r for r in t.rows if not (r.get("parameter") == "buyer_share" and r.get(key) in named))
        added = []
        for k, name, year, share, raw in checked_rows:
            if k != kind:
                continue
            vals = {c: "" for c in t.columns}
            vals.update({key: name, "year": str(year), "parameter": "buyer_share", "value": repr(share),
                         "unit": "dimensionless", "source": raw.get("source"),
                         "date": _DATE.search(raw.get("source")).group(1), "confidence": "D"})
            added.append(RawRow(vals, raw.file, raw.row))
        tables[file] = replace(t, rows=kept + tuple(added))
    return path


def allocation_header(path: Path) -> tuple[str, str] | None:
    """(rule, world fingerprint) from the header of an allocation file, or None if it states none."""
    try:
        with Path(path).open(encoding="utf-8") as f:
            for line in f:
                if not line.startswith("#"):
                    return None
                m = _WORLD_LINE.match(line.strip())
                if m:
                    return m.group(1), m.group(2)
    except (OSError, UnicodeDecodeError):     # unreadable: read_table reports it, naming the file
        return None
    return None


def is_world_set(assignment: str) -> bool:
    """Whether a ``--set`` assignment is a world run's key (``buyer_demand_scale.B=F``, ...)."""
    return assignment.partition("=")[0].strip().partition(".")[0] in WORLD_SET_KEYS


#: the listing of a buyers/ folder, kept while the modification times of it and its folders are the same
_LISTINGS: dict[str, tuple[tuple, list[Path]]] = {}


def buyer_files(inputs_dir: Path) -> list[Path]:
    """The files of the world's other buyers (``buyers.csv``, ``buyer_parameters.csv``, ``buyers/*/*``)."""
    folder = Path(inputs_dir)
    files = [p for p in (folder / "buyers.csv", folder / "buyer_parameters.csv") if p.exists()]
    root = folder / "buyers"
    if not root.is_dir():
        return files
    with os.scandir(root) as it:
        dirs = sorted(e.path for e in it if e.is_dir())
    stamp = (root.stat().st_mtime_ns, *(os.stat(d).st_mtime_ns for d in dirs), *dirs)
    kept = _LISTINGS.get(str(root))
    if kept is None or kept[0] != stamp:
        kept = (stamp, sorted(p for p in root.rglob("*") if p.is_file()))
        _LISTINGS[str(root)] = kept
    return files + list(kept[1])


#: digest of one table, kept per table object (tables are immutable; a sweep case replaces only the ones it
#: changes, so the others are the base's objects): (table, digest) by id, the table kept so the id stays its
_TABLE_DIGESTS: dict[int, tuple[RawTable, bytes]] = {}


def _one_table(name: str, table: RawTable) -> bytes:
    kept = _TABLE_DIGESTS.get(id(table))
    if kept is not None and kept[0] is table:
        return kept[1]
    h = hashlib.sha256(f"\x00table {name}\x00".encode())
    for row in table.rows:
        if row.get("parameter") == "buyer_share" and name in ("vendor_supply.csv", "region_parameters.csv"):
            continue
        h.update(repr(sorted((c, row.get(c)) for c in table.columns if c not in PROVENANCE)).encode())
    if len(_TABLE_DIGESTS) > 2048:
        _TABLE_DIGESTS.clear()
    _TABLE_DIGESTS[id(table)] = (table, h.digest())
    return h.digest()


def _table_digest(h: Any, tables: dict[str, RawTable], names: Iterable[str]) -> None:
    """Feed the rows of ``names`` to ``h`` (without ``buyer_share`` rows and provenance columns)."""
    for name in sorted(names):
        h.update(_one_table(name, tables[name]))


#: bytes digest of one file, kept while its size and modification time are the same
_FILE_DIGESTS: dict[str, tuple[tuple[int, int], bytes]] = {}


def _file_digest(path: Path) -> bytes:
    st = path.stat()
    stamp = (st.st_size, st.st_mtime_ns)
    kept = _FILE_DIGESTS.get(str(path))
    if kept is not None and kept[0] == stamp:
        return kept[1]
    digest = hashlib.sha256(path.read_bytes()).digest()
    _FILE_DIGESTS[str(path)] = (stamp, digest)
    return digest


def world_fingerprint(tables: dict[str, RawTable], inputs_dir: Path, world_sets: tuple[str, ...] = (),
                      own: bool = False) -> str:
    """sha256 of what every buyer of the world reads, as these tables (after a run's changes) give it.

    Covered: every row of every table that is not the default buyer's own (``BUYER_SCOPED``) and that the
    LP reads, without the ``buyer_share`` rows (the allocation replaces them) and without provenance
    columns; the bytes of ``buyers.csv``, ``buyer_parameters.csv`` and every file under ``buyers/``; and the
    world keys among the run's ``--set`` (``buyer_demand_scale.B``, ``buyer_value_scale.B``), sorted.
    With ``own`` the default buyer's own tables are covered too: then the digest decides the whole world
    (the key of the re-solved worlds kept in memory).
    """
    h = hashlib.sha256()
    _table_digest(h, tables, [n for n in tables if (own or n not in BUYER_SCOPED) and n not in NOT_IN_THE_LP])
    root = Path(inputs_dir)
    for p in buyer_files(root):
        h.update(f"\x00file {p.relative_to(root).as_posix()}\x00".encode())
        h.update(_file_digest(p))
    for a in sorted(x.strip() for x in world_sets):
        h.update(f"\x00set {a}\x00".encode())
    return h.hexdigest()


def stale_allocation(tables: dict[str, RawTable], inputs_dir: Path, sets: Iterable[str]) -> str | None:
    """The rule to re-solve the world with when the shipped allocation is not of this run's world, else None.

    None when there is no allocation file, when it states no fingerprint (a file written by hand is taken
    as written) or when its fingerprint is this run's (``tables`` are the run's tables after its changes).
    """
    path = Path(inputs_dir) / ALLOCATION_FILE
    if not path.exists():
        return None
    header = allocation_header(path)
    if header is None:
        return None
    rule, fingerprint = header
    world_sets = tuple(a for a in sets if is_world_set(a))
    return None if world_fingerprint(tables, inputs_dir, world_sets, own=True) == fingerprint else rule


#: the worlds re-solved in this process, by the digest of everything they read and the rule
_RESOLVED: dict[tuple[str, str], "tuple[RawRow, ...] | InputErrors"] = {}
_RESOLVED_KEEP = 512


def resolved_rows(tables: dict[str, RawTable], inputs_dir: Path, scenario: str | None, sets: Iterable[str],
                  extra: Iterable, rule: str) -> list[RawRow]:
    """The default buyer's allocation rows of the world re-solved with a run's scenario, futures and sets.

    ``tables`` are the run's tables after those changes: the world they give is kept in memory by the
    digest of everything it reads (:func:`world_fingerprint` with ``own``), so a sweep, the range pass or
    another run in the same process that asks for the same world does not solve it again. Raises
    InputErrors when the world cannot be loaded with those changes, or when it cannot honour every
    buyer's signed deals with them (naming the shared caps they exceed).
    """
    sets = tuple(sets)
    key = (world_fingerprint(tables, inputs_dir, tuple(a for a in sets if is_world_set(a)), own=True), rule)
    if key not in _RESOLVED:
        if len(_RESOLVED) >= _RESOLVED_KEEP:
            _RESOLVED.pop(next(iter(_RESOLVED)))
        _RESOLVED[key] = _resolve(Path(inputs_dir), scenario, sets, tuple(extra), rule)
    result = _RESOLVED[key]
    if isinstance(result, InputErrors):
        raise InputErrors(list(result.errors))
    return list(result)


#: The world's solver, registered by :mod:`model.world` (this module is below it: the loader calls the world
#: back through this hook, so the world depends on the loader and not the other way round).
_WORLD_SOLVER: list = []


def set_world_solver(solver: Any) -> None:
    """Register ``(solve, rows)``: ``solve(inputs_dir, scenario, sets, extra, rule) -> (WorldInputs,
    WorldOutcome)`` and ``rows(w, o, date)``, the default buyer's allocation rows (``model.world`` on import)."""
    _WORLD_SOLVER[:] = [solver]


def _resolve(inputs_dir: Path, scenario: str | None, sets: tuple[str, ...], extra: tuple, rule: str
             ) -> "tuple[RawRow, ...] | InputErrors":
    import datetime as _dt

    if not _WORLD_SOLVER:       # model/__init__.py imports model.world, which registers it
        raise RuntimeError("no world solver registered (import model.world)")
    solve_world, allocation_rows = _WORLD_SOLVER[0]
    try:
        w, o = solve_world(inputs_dir, scenario, sets, extra, rule)
    except InputErrors as exc:
        return exc
    where = f"{ALLOCATION_FILE} ({RESOLVED})"
    if o.model is None:
        return InputErrors([InputError(where, "-", "share", "a world plan with this run's changes", o.message)])
    # a world whose signed deals and history exceed the shared caps (status infeasible) still has its elastic
    # plan: the buyer takes its shares from it (each at most 1) and its own LP says what it cannot honour
    elastic = f"; {ELASTIC}: {o.message}" if o.status != "optimal" else ""
    # the inputs' date (the latest source date of the rows the world read), as --write-allocation states it
    date = inputs_date(w.input_files) or _dt.date.today().isoformat()
    out = []
    for i, r in enumerate(allocation_rows(w, o, date), start=1):
        r = dict(r, source=f"{RESOLVED} (rule {rule}{elastic}) on inputs of {date}")
        out.append(RawRow({k: str(v) for k, v in r.items()}, where, i))
    return tuple(out)


#: Each buyer_share row's share, kept per row object (a sweep case leaves most rows as they were).
_SHARES = IdentityMemo(4096)


def _share(row: RawRow) -> float:
    """A buyer_share row's value as a plain fraction (kept per row: see :data:`_SHARES`)."""
    return _SHARES((row,), None, lambda _: _read_share(row), [])


def _read_share(row: RawRow) -> float:
    if row.get("unit") in ("dimensionless", "1", ""):      # the allocation's rows: a plain number (checked)
        return float(row.get("value"))
    q = parse_quantity(f"{row.get('value')} {row.get('unit') or 'dimensionless'}")
    return float(q.to("dimensionless").magnitude)


def basis_of(row: RawRow) -> str:
    """Where a share came from, in words: the world run, the user, or the fallback rows."""
    if RESOLVED in row.get("source"):
        m = _DATE.search(row.get("source"))
        rule = "pro-rata" if "pro-rata" in row.get("source") else "value"
        why = row.get("source").split(f"{ELASTIC}: ", 1)
        return (f"world run re-solved for this run's changes, {rule} rule, inputs of {m.group(1) if m else '?'}"
                + (f" ({ELASTIC}: {why[1].rsplit(') on inputs of', 1)[0]})" if len(why) > 1 else ""))
    if row.file.endswith(ALLOCATION_FILE):
        m = _DATE.search(row.get("source"))
        rule = "pro-rata" if "pro-rata" in row.get("source") else "value"
        return f"world run, {rule} rule, inputs of {m.group(1) if m else 'unknown date'}"
    if "--set" in str(row.row) or row.file == "command line":
        return "set by the user"
    if row.file.startswith("scenario") or "scenarios" in row.file:
        return f"set by the scenario file ({row.file})"
    return f"buyer_share rows of {row.file} (no world allocation for it)"


#: the last share tables, by the buyer_share rows they were read from (a sweep case keeps the base's row objects
#: wherever it does not change a share, even when it changes other rows of the same table)
_SHARE_TABLES: dict[tuple, tuple[tuple, dict]] = {}


def share_table(tables: dict[str, RawTable], years: tuple[int, ...]) -> dict[str, dict[str, Any]]:
    """``{"vendor": {v: {"basis", "unit", "by_year"}}, "region": {r: ...}}``: the shares the run uses.

    A region whose components carry different shares (the fallback rows) is listed per component as
    ``region/component``. Years between given ones are interpolated and held flat outside, as the loader does.
    Kept per tuple of ``buyer_share`` row objects (rows are immutable): a copy of the kept answer is returned.
    """
    # a table a --set made without touching a buyer_share row holds its parent's share rows: the table they
    # were read from stands for them (tables.ancestor_with_same), so a case that moves a PUE scans nothing
    sources = tuple(ancestor_with_same(tables.get(file, _NO_TABLE), "buyer_share") for file, _, _ in TARGETS.values())
    kept = _SHARE_TABLES.get((tuple(map(id, sources)), tuple(years)))
    if kept is not None and all(map(operator.is_, kept[0], sources)):
        pass
    else:
        rows = tuple(r for table in sources for r in table.rows
                     if r.values.get("parameter", "").strip() == "buyer_share")
        key = (tuple(map(id, rows)), tuple(years))
        kept = _SHARE_TABLES.get(key)
        if kept is None or len(kept[0]) != len(rows) or not all(a is b for a, b in zip(kept[0], rows)):
            if len(_SHARE_TABLES) > 256:
                _SHARE_TABLES.clear()
            kept = _SHARE_TABLES[key] = (rows, _share_table(tables, years))
        if len(_SHARE_TABLES) > 256:
            _SHARE_TABLES.clear()
        _SHARE_TABLES[(tuple(map(id, sources)), tuple(years))] = (sources, kept[1])
    return {kind: {name: {**entry, "by_year": dict(entry["by_year"])} for name, entry in by_name.items()}
            for kind, by_name in kept[1].items()}


_NO_TABLE = RawTable("", (), ())


def _share_table(tables: dict[str, RawTable], years: tuple[int, ...]) -> dict[str, dict[str, Any]]:
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
