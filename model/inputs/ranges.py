"""Plausible ranges of the inputs that decide the answer (``inputs/ranges.csv``), and the changes they make.

Each row of ``ranges.csv`` names the input rows it covers (file, ``select``, parameter) and a plausible
``low`` and ``high`` with its reason, or, without low and high, excludes them from the ranking with a
reason. A range moves its rows through the override path every run takes: a ``set_key`` becomes
``--set KEY=VALUE`` (:func:`model.inputs.apply_set`); otherwise each covered row is edited by a scenario
``replace`` entry (:func:`model.inputs.apply_scenario_doc`). The loader then validates the variant
exactly as ``run.py`` validates a run.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from model.errors import InputError, InputErrors
from model.inputs.catalogue import Catalogue
from model.inputs.tables import CONFIDENCE, RawRow, RawTable, display_path

FILE = "ranges.csv"
COLUMNS = ("file", "select", "parameter", "label", "low", "high", "unit", "set_key", "reason", "source", "date",
           "confidence")
#: Columns of an input row that are values or provenance, not part of its key.
NOT_KEY = ("value", "unit", "source", "date", "confidence", "note", "description")
#: Parameters that are shares of a whole: a factor never takes them above all of it (1, or 100 percent).
SHARES = ("buyer_share",)
#: Inputs outside the single-buyer ranking, with why: tables the LP never reads, and rows only the world run
#: reads. ``display_names.csv`` (presentation) and ``inputs/buyers/<buyer>/`` (the world run's buyers) are
#: not among the tables at all.
OUT_OF_SCOPE_FILES = {"calibration.csv": "calibration references the results are compared with"}
WORLD_ONLY = {("power_kind_supply.csv", "world_supply_cap"): "the world run's cap shared by every buyer"}


@dataclass(frozen=True)
class Clause:
    """``column=a|b`` (``negate``: ``column!=a|b``) of a range's ``select``."""

    column: str
    values: tuple[str, ...]
    negate: bool = False

    def holds(self, row: RawRow) -> bool:
        return (row.get(self.column) in self.values) != self.negate


@dataclass(frozen=True)
class InputRange:
    """One row of ``ranges.csv``: the input rows it covers and their plausible low and high.

    ``unit`` is ``x`` (a factor on each covered row's value), ``+a`` (years added to it) or a unit the
    value is replaced in; ``low`` and ``high`` are None for a row that excludes its rows from the ranking.
    """

    line: int
    file: str
    select: tuple[Clause, ...]
    parameter: str
    label: str
    low: float | None
    high: float | None
    unit: str
    set_key: str
    reason: str
    source: str

    @property
    def excluded(self) -> bool:
        return self.low is None

    @property
    def key(self) -> str:
        """A short name for the range: its ``--set`` key, or ``file:parameter[select]``."""
        if self.set_key:
            return self.set_key
        sel = ";".join(f"{c.column}{'!=' if c.negate else '='}{'|'.join(c.values)}" for c in self.select)
        return f"{self.file.removesuffix('.csv')}:{self.parameter or '*'}" + (f"[{sel}]" if sel else "")

    def covers(self, file: str, row: RawRow) -> bool:
        """Does this range cover ``row`` of ``file``?"""
        if file != self.file:
            return False
        if self.parameter and row.get("parameter") != self.parameter:
            return False
        return all(c.holds(row) for c in self.select)

    def rows(self, tables: dict[str, RawTable]) -> list[RawRow]:
        table = tables.get(self.file)
        return [] if table is None else [r for r in table.rows if self.covers(self.file, r)]


def parse_select(text: str) -> tuple[Clause, ...]:
    """``vendor=amd;year!=2025|2026`` as clauses (``ValueError`` naming the bad part)."""
    out = []
    for part in (p.strip() for p in text.split(";") if p.strip()):
        negate = "!=" in part
        column, sep, values = part.partition("!=" if negate else "=")
        if not sep or not column.strip() or not values.strip():
            raise ValueError(part)
        out.append(Clause(column.strip(), tuple(v.strip() for v in values.split("|")), negate))
    return tuple(out)


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def read_ranges(inputs_dir: Path | str, tables: dict[str, RawTable], catalogue: Catalogue) -> list[InputRange]:
    """Read and check ``inputs_dir/ranges.csv`` against the input tables it names.

    Returns an empty list when the file does not exist (an inputs folder without ranges).

    Raises
    ------
    InputErrors
        Every problem at once, each naming ranges.csv, the line and the field: an unknown file, a
        ``select`` column the file lacks, rows that match nothing (an input that does not exist), a low
        above its high or not a number, an unknown ``set_key``, a missing reason.
    """
    path = Path(inputs_dir) / FILE
    if not path.exists():
        return []
    shown = display_path(path)
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputErrors([InputError(shown, 1, "-", "a readable UTF-8 CSV file", str(exc))]) from None
    numbered = [(i, line) for i, line in enumerate(lines, start=1) if line.strip() and not line.lstrip().startswith("#")]
    if not numbered:
        return []
    reader = csv.reader([line for _, line in numbered])
    header = next(reader)
    errors: list[InputError] = []
    if tuple(header) != COLUMNS:
        raise InputErrors([InputError(shown, numbered[0][0], "header", ",".join(COLUMNS), ",".join(header))])
    out = []
    for (line, _), cells in zip(numbered[1:], reader):
        if len(cells) != len(COLUMNS):
            errors.append(InputError(shown, line, "-", f"{len(COLUMNS)} fields", f"{len(cells)} fields"))
            continue
        r = _check_row(shown, line, dict(zip(COLUMNS, (c.strip() for c in cells))), tables, catalogue, errors)
        if r is not None:
            out.append(r)
    if errors:
        raise InputErrors(errors)
    return out


def _check_row(shown: str, line: int, v: dict[str, str], tables: dict[str, RawTable], catalogue: Catalogue,
               errors: list[InputError]) -> InputRange | None:
    """One row of ranges.csv checked; problems go to ``errors`` (None if the row cannot be used)."""
    before = len(errors)

    def bad(field: str, expected: str, found: str) -> None:
        errors.append(InputError(shown, line, field, expected, found))

    table = tables.get(v["file"])
    if table is None:
        bad("file", "an input file (" + ", ".join(sorted(tables)) + ")", v["file"])
        return None
    try:
        select = parse_select(v["select"])
    except ValueError as exc:
        bad("select", "column=value pairs joined by ';' (e.g. vendor=amd;year!=2025)", str(exc))
        return None
    for c in select:
        if c.column not in table.columns:
            bad("select", f"a column of {v['file']} ({', '.join(table.columns)})", c.column)
    if v["parameter"] and "parameter" not in table.columns:
        bad("parameter", f"empty ({v['file']} has no parameter column)", v["parameter"])
    low, high = _number(v["low"]), _number(v["high"])
    if v["low"] or v["high"]:
        if low is None:
            bad("low", "a number", v["low"])
        if high is None:
            bad("high", "a number", v["high"])
        if low is not None and high is not None and low > high:
            bad("high", f"a value at least low ({v['low']})", v["high"])
        if not v["unit"]:
            bad("unit", "x (a factor), +a (years added) or a unit (GW, percent, ...)", "")
        if not v["label"]:
            bad("label", "a few words naming the input", "")
    elif not v["reason"].lower().startswith("excluded"):
        bad("reason", "'excluded: <why>' for a row without low and high", v["reason"])
    if not v["reason"]:
        bad("reason", "why the range is plausible (or why the rows are excluded)", "")
    if v["set_key"] and v["set_key"].partition(".")[0] not in catalogue.settable:
        bad("set_key", "a --set key (" + ", ".join(sorted(catalogue.settable)) + ")", v["set_key"])
    if not v["source"]:
        bad("source", "a citation or 'assumption: <reason>'", "")
    if v["confidence"] not in CONFIDENCE:
        bad("confidence", "one of " + ", ".join(sorted(CONFIDENCE)), v["confidence"])
    if len(errors) > before:
        return None
    r = InputRange(line, v["file"], select, v["parameter"], v["label"], low, high, v["unit"], v["set_key"],
                   v["reason"], v["source"])
    if not r.rows(tables):
        what = f"parameter {v['parameter']!r}" if v["parameter"] else "rows"
        bad("select" if v["select"] else "parameter", f"{what} of {v['file']} matching "
            f"'{v['select'] or '(all)'}' (an input that exists)", "no such row")
        return None
    return r


def in_scope(file: str, row: RawRow) -> bool:
    """Is ``row`` of ``file`` an input the single-buyer LP reads (so one a range must cover or exclude)?"""
    return file not in OUT_OF_SCOPE_FILES and (file, row.get("parameter")) not in WORLD_ONLY


def _factor(row: RawRow, value: float) -> str:
    """``row``'s value times ``value`` (a share held to at most all of it)."""
    new = float(row.get("value")) * value
    if row.get("parameter") in SHARES:
        new = min(new, 100.0 if row.get("unit") == "percent" else 1.0)
    return repr(new)


def row_key(table: RawTable, row: RawRow) -> dict[str, str]:
    """The columns that pick ``row`` out of its file (every column but value and provenance)."""
    return {c: row.get(c) for c in table.columns if c not in NOT_KEY}


def change_for(r: InputRange, value: float, tables: dict[str, RawTable]) -> tuple[list[str], dict[str, Any]]:
    """The override that puts range ``r`` at ``value``: (``--set`` assignments, scenario ``replace`` doc).

    A factor (``x``) multiplies each covered row's value (a share at most all of it), ``+a`` adds whole
    years, any other unit replaces the value. ``tables`` are the tables a run uses: after the world
    allocation replaced the ``buyer_share`` rows, so a factor moves the allocation's shares year by year. The doc's entries go through :func:`model.inputs.apply_scenario_doc`.
    """
    if r.set_key:
        unit = "" if r.unit in ("x", "dimensionless") else f" {r.unit}"
        return [f"{r.set_key}={value!r}{unit}"], {}
    table = tables[r.file]
    entries = []
    for row in r.rows(tables):
        old = row.get("value")
        if r.unit == "x":
            new, unit = (_factor(row, value) if _number(old) is not None else old), row.get("unit")
        elif r.unit.startswith("+"):
            new, unit = (repr(float(round(float(old) + value))) if _number(old) is not None else old), row.get("unit")
        else:
            new, unit = repr(float(value)), r.unit
        if "value" not in table.columns:        # an entity row (no value): nothing to move
            continue
        entries.append({"file": r.file, "where": row_key(table, row), "values": {"value": new, "unit": unit},
                        "source": f"ranges.csv line {r.line}: {r.label} at {value:g} {r.unit}"})
    return [], ({"replace": entries} if entries else {})


def combined(changes: Iterable[tuple[list[str], dict[str, Any]]]) -> tuple[list[str], list[dict[str, Any]]]:
    """Several ranges' changes as one run's (``--set`` assignments, scenario docs applied in order)."""
    sets: list[str] = []
    docs: list[dict[str, Any]] = []
    for s, d in changes:
        sets += s
        if d:
            docs.append(d)
    return sets, docs


def check_ranges(inputs_dir: Path | str) -> list[InputRange]:
    """``inputs_dir/ranges.csv`` checked against the base data (no scenario): what ``run.py`` and
    ``run.py check`` refuse with exit 2 when a range names an input that does not exist.

    Raises
    ------
    InputErrors
        As :func:`read_ranges`.
    """
    from model.scenario import read_base_inputs

    if not (Path(inputs_dir) / FILE).exists():
        return []
    base = read_base_inputs(Path(inputs_dir), None)
    return read_ranges(inputs_dir, base.tables, base.catalogue)
