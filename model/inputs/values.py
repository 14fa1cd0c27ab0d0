"""Checking rows: values with units, years, provenance, ids and scopes, every problem collected."""
from __future__ import annotations

import math
import operator
from dataclasses import dataclass
from itertools import compress
from types import MappingProxyType
from typing import Any, Iterable

from model.errors import InputError
from model.inputs.catalogue import Catalogue, ParameterSpec
from model.inputs.memo import MEMOS, kept_on
from model.inputs.memo import IdentityMemo
from model.inputs.tables import (CONFIDENCE, DATE_PATTERN, PROVENANCE, SCOPE_KEYS, FileSchema, RawRow, RawTable,
                                 step_of)
from model.units import Q_, QUANTITY_ERRORS, UnitParseError, conversion_factor, describe, parse_quantity, unit_parts, ureg


@dataclass(frozen=True)
class Fact:
    """A validated quantity row: its key columns, parameter, value in model units."""

    keys: dict[str, Any]
    parameter: str
    value: float
    unit: str          # the model unit the value is in
    file: str
    row: int | str


#: Clean answers of :func:`parse_value` by (value text, unit text, spec): a pure function of these three, and the
#: rows one ``--set`` becomes (one per region, say) carry the same texts. A refused value is never kept (its
#: problem names its own row).
_VALUES: dict[tuple[str, str, int], tuple[ParameterSpec, tuple[float, str]]] = {}
MEMOS.append(_VALUES)


def parse_value(row: RawRow, spec: ParameterSpec, errors: list[InputError],
                value_col: str = "value", unit_col: str = "unit") -> tuple[float, str] | None:
    """Check one row's value and unit against ``spec``; return (model value, model unit)."""
    text, unit_text = row.get(value_col), row.get(unit_col)
    if not kept_on():
        return _parse_value(row, text, unit_text, spec, errors, value_col, unit_col)
    key = (text, unit_text, id(spec))
    hit = _VALUES.get(key)
    if hit is not None and hit[0] is spec:
        return hit[1]
    got = _parse_value(row, text, unit_text, spec, errors, value_col, unit_col)
    if got is not None:
        if len(_VALUES) > 20000:
            _VALUES.clear()
        _VALUES[key] = (spec, got)
    return got


def _parse_value(row: RawRow, text: str, unit_text: str, spec: ParameterSpec, errors: list[InputError],
                 value_col: str, unit_col: str) -> tuple[float, str] | None:
    if text == "":
        errors.append(InputError(row.file, row.row, value_col, f"a number for '{spec.row_name}'", "an empty cell"))
        return None
    try:
        number = float(text)
    except ValueError:
        errors.append(InputError(row.file, row.row, value_col, f"a number for '{spec.row_name}'", repr(text)))
        return None
    if not math.isfinite(number):
        errors.append(InputError(row.file, row.row, value_col, f"a finite number for '{spec.row_name}'", repr(text)))
        return None
    if unit_text == "":
        errors.append(InputError(row.file, row.row, unit_col, f"a unit for '{spec.row_name}': {spec.expected}",
                                 "an empty cell"))
        return None
    try:
        magnitude, units, dimensionality = unit_parts(unit_text)   # parsed once per text and process
    except UnitParseError:
        errors.append(InputError(row.file, row.row, unit_col, f"a unit for '{spec.row_name}': {spec.expected}",
                                 repr(unit_text)))
        return None
    if magnitude != 1:  # a number in the unit cell ('0 GW', 'nan GW') would rescale the value silently
        errors.append(InputError(row.file, row.row, unit_col, f"a unit without a number for '{spec.row_name}': "
                                 f"{spec.expected}", repr(unit_text)))
        return None
    for dim, model_unit in spec.alternatives:
        if dimensionality is dim or dimensionality == dim:      # (both kept per text and spec: mostly the same)
            factor = conversion_factor(units, model_unit)
            value = number * factor if factor is not None else float(Q_(number, units).to(model_unit).magnitude)
            if not math.isfinite(value):  # e.g. 1e308 TW overflows in GW
                errors.append(InputError(row.file, row.row, value_col,
                                         f"'{spec.row_name}' that is finite in {model_unit}", _as_given(text, unit_text)))
                return None
            if spec.minimum is not None and value < spec.minimum - 1e-12:
                errors.append(InputError(row.file, row.row, value_col,
                                         f"'{spec.row_name}' of at least {_in_units(spec.minimum, model_unit, unit_text)}",
                                         _as_given(text, unit_text)))
                return None
            if spec.maximum is not None and value > spec.maximum + 1e-12:
                errors.append(InputError(row.file, row.row, value_col,
                                         f"'{spec.row_name}' of at most {_in_units(spec.maximum, model_unit, unit_text)}",
                                         _as_given(text, unit_text)))
                return None
            return value, model_unit
    errors.append(InputError(row.file, row.row, unit_col, f"{spec.expected} for '{spec.row_name}'",
                             describe(Q_(number, units))))
    return None


def _as_given(text: str, unit_text: str) -> str:
    """A value as the user gave it, without the word 'dimensionless' after a plain number."""
    return text if unit_text in ("", "dimensionless") else f"{text} {unit_text}"


def _in_units(value: float, model_unit: str, user_unit: str) -> str:
    if ureg.Unit(model_unit).dimensionless and user_unit in ("", "dimensionless"):
        return f"{value:g}"
    try:
        q = Q_(value, model_unit).to(parse_quantity(f"1 {user_unit}").units)
        return f"{q.magnitude:g} {user_unit}"
    except QUANTITY_ERRORS:      # the user's unit text cannot show this value: shown in the model's unit
        return f"{value:g} {model_unit}"


#: The (source, date, confidence) texts found clean by :func:`check_provenance` (a pure function of them): the
#: rows one ``--set`` becomes carry the same three. A refused one is never kept (its problem names its row).
_CLEAN_PROVENANCE: set[tuple[str, str, str | None]] = set()
MEMOS.append(_CLEAN_PROVENANCE)


def check_provenance(row: RawRow, errors: list[InputError]) -> None:
    """Every row needs a source (or ``assumption: reason``) and a date."""
    if not kept_on():
        _check_provenance(row, errors)
        return
    key = (row.get("source"), row.get("date"), row.values.get("confidence"))
    if key in _CLEAN_PROVENANCE:
        return
    before = len(errors)
    _check_provenance(row, errors)
    if len(errors) == before:
        if len(_CLEAN_PROVENANCE) > 20000:
            _CLEAN_PROVENANCE.clear()
        _CLEAN_PROVENANCE.add(key)


def _check_provenance(row: RawRow, errors: list[InputError]) -> None:
    src = row.get("source")
    if not src:
        errors.append(InputError(row.file, row.row, "source", "a citation or 'assumption: <reason>'", "an empty cell"))
    elif src.lower().startswith("assumption") and len(src.split(":", 1)[-1].strip()) < 5:
        errors.append(InputError(row.file, row.row, "source", "'assumption: <the reason>'", repr(src)))
    date = row.get("date")
    if not date:
        errors.append(InputError(row.file, row.row, "date", "a date YYYY, YYYY-MM or YYYY-MM-DD", "an empty cell"))
    elif not DATE_PATTERN.match(date):
        errors.append(InputError(row.file, row.row, "date", "a date YYYY, YYYY-MM or YYYY-MM-DD", repr(date)))
    conf = row.values.get("confidence")
    if conf is not None and conf.strip() and conf.strip() not in CONFIDENCE:
        errors.append(InputError(row.file, row.row, "confidence", "one of " + ", ".join(sorted(CONFIDENCE)),
                                 repr(conf)))


def parse_year(row: RawRow, column: str, mode: str, horizon: tuple[int, int] | None,
               errors: list[InputError]) -> int | None:
    """Read a calendar-year column. ``mode``: required, optional, any, vintage."""
    text = row.get(column)
    if text == "":
        if mode != "optional":
            errors.append(InputError(row.file, row.row, column, "a calendar year (e.g. 2030)", "an empty cell"))
        return None
    try:
        as_float = float(text)
        year = int(as_float)
        if year != as_float:
            raise ValueError
    except (ValueError, OverflowError):  # OverflowError: 'inf', '1e400'
        errors.append(InputError(row.file, row.row, column, "a calendar year (e.g. 2030)", repr(text)))
        return None
    if not 1990 <= year <= 2100:
        errors.append(InputError(row.file, row.row, column, "a calendar year between 1990 and 2100", repr(text)))
        return None
    if horizon is not None:
        first, last = horizon
        if mode in ("required", "optional") and not first <= year <= last:
            errors.append(InputError(row.file, row.row, column,
                                     f"a year within the planning horizon {first}..{last}", repr(text)))
            return None
        if mode == "vintage" and year > first:
            errors.append(InputError(row.file, row.row, column,
                                     f"a vintage no later than the first planning year {first}", repr(text)))
            return None
    return year


class _CheckedTables:
    """The result of :func:`check_rows` for the tables checked lately, reused or derived for a table that comes again.

    ``check_rows`` is a pure function of its arguments (the table's rows are
    immutable text); a sweep loads every case, and a case changes only the
    few tables its ``--set`` assignments touch (``apply_set`` makes new
    tables, the others are the same objects, and a new table keeps every row
    it did not change as the same object). So:

    * a table checked before, with the same schema, catalogue, ids and
      horizon, gets the same good rows and the same problems again;
    * a new table with a relative (the last table of the same file, schema,
      catalogue, columns, ids and horizon checked in full and found clean,
      such as a sweep's base table) is derived from it
      (:meth:`derived`): its rows the relative holds keep their parsed dicts,
      its other rows get :func:`check_row`, and the duplicate-key rule is
      decided on the rows that differ. When anything is found (a problem, a
      duplicate key, a row object twice) the whole table is checked by
      :func:`check_rows` itself, so every refusal and its wording is the
      full check's;
    * anything else is checked in full.

    Nothing is skipped: every row of every table is either checked or the
    very object a clean check accepted. Keys hold the objects themselves
    (compared by identity), so a reused ``id`` can never match a different
    table. The rows are shared between loads, so they are read-only mappings.
    """

    def __init__(self, size: int = 128) -> None:
        import threading
        from collections import OrderedDict

        self.size = size
        self.entries: "OrderedDict[tuple, tuple]" = OrderedDict()
        self.clean: dict[tuple, _CleanCheck] = {}      # the last clean check of a file, by what its rows' checks read
        self.clean_tables: dict[tuple, _CleanCheck] = {}   # every recent clean check, by table and that context
        self.refused_roots: dict[tuple, RawTable] = {}     # base tables of --set steps whose full check found problems
        self.lock = threading.Lock()
        self.derived_tables = self.full_checks = 0
        self.rows_checked = 0        # rows a derived table checked (its rows the relative did not hold)
        self.from_steps = 0          # derived tables worked out from the --set steps that made them
        MEMOS.append(self)          # emptied with the others by model.inputs.memo.clear_memos

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()
            self.clean.clear()
            self.clean_tables.clear()
            self.refused_roots.clear()
            self.derived_tables = self.full_checks = self.rows_checked = self.from_steps = 0

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def checked(table, schema, catalogue, ids, horizon, errors):
            if not kept_on():
                return fn(table, schema, catalogue, ids, horizon, errors)
            context = (id(schema), id(catalogue), horizon, table.file, table.columns,
                       tuple(sorted((k, frozenset(v)) for k, v in ids.items())))
            key = (id(table),) + context
            with self.lock:
                hit = self.entries.get(key)
                if hit is not None and hit[0] is table and hit[1] is schema and hit[2] is catalogue:
                    self.entries.move_to_end(key)
                    errors.extend(hit[4])
                    return list(hit[3])
                relative = self._ancestor_check(table, context)
            if relative is None and step_of(table) is not None:
                relative = self._root_checked(fn, table, schema, catalogue, ids, horizon, context)
            if relative is None:
                relative = self.clean.get(context)
            rows = None
            if relative is not None and relative.schema is schema and relative.catalogue is catalogue:
                rows = self.derived(relative, table, schema, catalogue, ids, horizon)
            mine: list[InputError] = []
            full = rows is None
            if full:
                rows = tuple(r if isinstance(r, MappingProxyType) else MappingProxyType(r)     # read-only
                             for r in fn(table, schema, catalogue, ids, horizon, mine))
                self.full_checks += 1
            else:
                self.derived_tables += 1
            errors.extend(mine)
            with self.lock:
                self.entries[key] = (table, schema, catalogue, rows, tuple(mine))
                while len(self.entries) > self.size:
                    self.entries.popitem(last=False)
                if full and not mine:
                    # the relative of the tables to come: a table checked in full and clean (a sweep's base
                    # table; a derived one is not taken, so the relative's index is built once per sweep)
                    self.clean[context] = clean = _CleanCheck(table, schema, catalogue, rows)
                    if len(self.clean_tables) > 64:
                        self.clean_tables.clear()
                    self.clean_tables[(id(table),) + context] = clean
            return list(rows)

        return checked

    def derived(self, relative: "_CleanCheck", table: RawTable, schema: FileSchema, catalogue: Catalogue,
                ids: dict[str, set[str]], horizon: tuple[int, int] | None) -> tuple | None:
        """``table``'s good rows from a clean check of a relative, or ``None`` if the table needs the full check.

        Exactly the full check's answer when it returns rows: the relative's rows were each clean and
        their keys distinct; a row it holds (the same object) is clean again (its checks read the row and
        this context only); each other row is checked here and must be clean; and no key of those rows
        may equal another's or a key of a relative's row the table still holds.
        """
        parsed_of, key_of = relative.index()
        by_steps = self._by_steps(relative, table)
        if by_steps is not None:
            self.from_steps += 1
            return self._fresh_checked(by_steps, table, schema, catalogue, ids, horizon, key_of)
        rows = table.rows
        row_ids = list(map(id, rows))
        present = set(row_ids)
        if len(present) != len(rows):                # one row object twice: the full check names the duplicate
            return None
        # a row the relative holds is found by its id: the relative keeps its rows alive, so no other live
        # object can have that id (the row itself is kept beside its parsed dict, and checked below all the same)
        hits = list(map(parsed_of.get, row_ids))
        out = [None if hit is None else hit[1] for hit in hits]
        fresh = [(at, rows[at]) for at, hit in enumerate(hits) if hit is None or hit[0] is not rows[at]]
        params = catalogue.for_file(schema.parameters_of or schema.name)
        keys_seen: set[tuple] = set()
        for at, row in fresh:
            problems: list[InputError] = []
            parsed = check_row(row, table.columns, schema, params, ids, horizon, problems)   # a new row: not kept
            self.rows_checked += 1
            if problems:
                return None
            key = row_key(row, schema.key)
            holder = key_of.get(key)
            if key in keys_seen or (holder is not None and holder in present):
                return None
            keys_seen.add(key)
            out[at] = parsed
        return tuple(out)

    def _ancestor_check(self, table: RawTable, context: tuple) -> "_CleanCheck | None":
        """The clean full check of the nearest table ``table`` was made from by ``--set`` steps, in ``context``
        (a sweep's base table, whatever was checked last), or ``None``."""
        step, n = step_of(table), 0
        while step is not None and n < 16:
            got = self.clean_tables.get((id(step.parent),) + context)
            if got is not None and got.table is step.parent:
                return got
            step, n = step_of(step.parent), n + 1
        return None

    def _root_checked(self, fn, table: RawTable, schema: FileSchema, catalogue: Catalogue, ids: dict[str, set[str]],
                      horizon: tuple[int, int] | None, context: tuple) -> "_CleanCheck | None":
        """The table ``table`` was first made from by ``--set`` steps (a sweep's base table), checked in full once
        and kept as the relative of the tables made from it when clean; ``None`` when it is not."""
        root, n = table, 0
        while (step := step_of(root)) is not None and n < 16:
            root, n = step.parent, n + 1
        if step_of(root) is not None or self.refused_roots.get((id(root),) + context) is root:
            return None           # a chain too long, or a root already found with problems (checked once only)
        problems: list[InputError] = []
        rows = tuple(r if isinstance(r, MappingProxyType) else MappingProxyType(r)
                     for r in fn(root, schema, catalogue, ids, horizon, problems))
        self.full_checks += 1
        if problems:
            with self.lock:
                if len(self.refused_roots) > 64:
                    self.refused_roots.clear()
                self.refused_roots[(id(root),) + context] = root
            return None
        clean = _CleanCheck(root, schema, catalogue, rows)
        with self.lock:
            if len(self.clean_tables) > 64:
                self.clean_tables.clear()
            self.clean_tables[(id(root),) + context] = clean
        return clean

    @staticmethod
    def _by_steps(relative: "_CleanCheck", table: RawTable) -> tuple[list, list[int], set[int]] | None:
        """``(good rows, positions of the new rows, ids of the relative's rows no longer held)`` of ``table``,
        worked out from the steps that made it (:func:`model.inputs.tables.step_of`) from the relative's table,
        or from a table holding the very same rows, touching only the rows that changed; ``None`` when no such
        chain of steps is known.

        The good rows hold the relative's parsed dict for each row it holds and ``None`` for each new row. The
        rows the steps give are compared, object by object, with ``table.rows``: a chain that does not give
        exactly those rows is not used.
        """
        chain = []
        t = table
        base = relative.table
        while t is not base:
            step = step_of(t)
            if step is None or len(chain) > 16:
                break
            chain.append((t, step))
            t = step.parent
        if not chain or (t is not base and (t.rows is not base.rows and (
                len(t.rows) != len(base.rows) or not all(map(operator.is_, t.rows, base.rows))))):
            return None           # no step, or the steps start from a table whose rows are not the relative's
        out = list(relative.rows)
        rows = list(relative.table.rows)
        fresh: list[int] = []
        gone: set[int] = set()
        for t, step in reversed(chain):
            for i in reversed(step.dropped):
                if out[i] is not None:
                    gone.add(id(rows[i]))
                del out[i], rows[i]
                fresh = [f - 1 if f > i else f for f in fresh if f != i]
            fresh.extend(range(len(rows), len(rows) + step.added))
            out.extend([None] * step.added)
            rows.extend(t.rows[len(t.rows) - step.added:] if step.added else ())
        if len(rows) != len(table.rows) or not all(map(operator.is_, rows, table.rows)):
            return None
        return out, fresh, gone

    def _fresh_checked(self, by_steps: tuple[list, list[int], set[int]], table: RawTable, schema: FileSchema,
                       catalogue: Catalogue, ids: dict[str, set[str]], horizon: tuple[int, int] | None,
                       key_of: dict[tuple, int]) -> tuple | None:
        """The good rows of :meth:`_by_steps` with each new row checked (:func:`check_row`) and the duplicate-key
        rule decided on them: a new row's key may equal neither another new row's nor a key of a relative's row
        the table still holds. ``None`` (the full check) on any problem."""
        out, fresh, gone = by_steps
        params = catalogue.for_file(schema.parameters_of or schema.name)
        keys_seen: set[tuple] = set()
        for at in fresh:
            row = table.rows[at]
            problems: list[InputError] = []
            parsed = check_row(row, table.columns, schema, params, ids, horizon, problems)   # a new row: not kept
            self.rows_checked += 1
            if problems:
                return None
            key = tuple(row.get(c) for c in schema.key)
            holder = key_of.get(key)
            if key in keys_seen or (holder is not None and holder not in gone):
                return None
            keys_seen.add(key)
            out[at] = parsed
        return tuple(out)


class _CleanCheck:
    """A table whose check found no problem, with its good rows (one per row, in order) and, when first
    needed, its rows' parsed dicts and keys by row identity."""

    __slots__ = ("table", "schema", "catalogue", "rows", "_index")

    def __init__(self, table: RawTable, schema: FileSchema, catalogue: Catalogue, rows: tuple) -> None:
        # its ids and horizon are in the key it is kept under (the context a relative must share)
        self.table, self.schema, self.catalogue, self.rows = table, schema, catalogue, rows
        self._index: tuple[dict, dict] | None = None

    def index(self) -> tuple[dict[int, tuple[RawRow, Any]], dict[tuple, int]]:
        """``({id(row): (row, parsed)}, {key: id(row)})`` over the table's rows (a clean check keeps every row)."""
        if self._index is None:
            parsed_of = {id(r): (r, p) for r, p in zip(self.table.rows, self.rows)}
            key_of = {row_key(r, self.schema.key): id(r) for r in self.table.rows}
            self._index = (parsed_of, key_of)
        return self._index


def _row_context(table: RawTable, schema: FileSchema, ids: dict[str, set[str]],
                 horizon: tuple[int, int] | None) -> tuple:
    """What a row's checks read besides the row: the horizon, the columns, the ids of the entities it may name."""
    return (horizon, table.columns,
            tuple((entity, frozenset(ids[entity]) if entity in ids else None) for entity in schema.references.values()))


#: Each row's key (its text in the key columns), kept per row object: the duplicate-key rule reads every row of
#: a changed table, and working the keys out again was half the time of a PUE case's region table.
_ROW_KEYS: dict[tuple[int, tuple[str, ...]], tuple[RawRow, tuple[str, ...]]] = {}
MEMOS.append(_ROW_KEYS)


def row_key(row: RawRow, columns: tuple[str, ...]) -> tuple[str, ...]:
    """``(row.get(c) for c in columns)`` as a tuple, kept per row object (rows are immutable)."""
    if not kept_on():
        return tuple(row.get(c) for c in columns)
    hit = _ROW_KEYS.get((id(row), columns))
    if hit is not None and hit[0] is row:
        return hit[1]
    key = tuple(row.get(c) for c in columns)
    if len(_ROW_KEYS) > 50000:
        _ROW_KEYS.clear()
    _ROW_KEYS[(id(row), columns)] = (row, key)
    return key


#: One row's own checks (everything but the duplicate-key rule), kept per row object: a sweep case's
#: changed table re-checks only its new rows. Sized for the rows of one load and a few cases' new ones.
_ROW_CHECKS = IdentityMemo(20000)


@_CheckedTables()
def check_rows(table: RawTable, schema: FileSchema, catalogue: Catalogue,
               ids: dict[str, set[str]], horizon: tuple[int, int] | None,
               errors: list[InputError]) -> list[dict[str, Any]]:
    """Validate every row of one table; return the good rows as parsed dicts.

    Each returned dict holds the text columns, parsed years (int or None), and,
    for quantity tables, ``_value`` / ``_unit`` in model units. ``_file`` and
    ``_row`` keep the origin. A row's own checks (:func:`check_row`) are kept
    per row object (:data:`_ROW_CHECKS`); the duplicate-key rule, which reads
    every row, runs on every call.
    """
    params = catalogue.for_file(schema.parameters_of or schema.name)
    context = _row_context(table, schema, ids, horizon)
    seen: dict[tuple, int | str] = {}
    out = []
    for row in table.rows:
        n_before = len(errors)
        parsed = _ROW_CHECKS((row, schema, catalogue), context,
                             lambda problems: check_row(row, table.columns, schema, params, ids, horizon, problems),
                             errors)
        key = row_key(row, schema.key)
        if key in seen:
            first = seen[key]
            errors.append(InputError(row.file, row.row, ", ".join(schema.key),
                                     f"each ({', '.join(schema.key)}) once",
                                     f"a duplicate of line {first}: {key}" if isinstance(first, int)
                                     else f"a duplicate of {first}: {key}"))
        else:
            seen[key] = row.row
        if len(errors) == n_before:
            out.append(parsed)
    return out


_MUST_FILL: dict[int, tuple[FileSchema, tuple[str, ...]]] = {}


def _must_fill(schema: FileSchema) -> tuple[str, ...]:
    """The key and required columns of ``schema`` whose cell may not be empty (years, provenance, values, units
    and free texts are checked by their own rules), in the order they are checked; worked out once per schema."""
    hit = _MUST_FILL.get(id(schema))
    if hit is None or hit[0] is not schema:
        hit = _MUST_FILL[id(schema)] = (schema, tuple(
            col for col in schema.key + schema.required
            if not (col in schema.years or col in PROVENANCE
                    or col in ("value", "unit", "confidence", "description", "name", "scope", "component"))))
    return hit[1]


def check_row(row: RawRow, columns: tuple[str, ...], schema: FileSchema, params: dict[str, ParameterSpec],
              ids: dict[str, set[str]], horizon: tuple[int, int] | None,
              errors: list[InputError]) -> MappingProxyType:
    """One row's checks (provenance, empty cells, years, ids, choices, value and unit): its parsed dict, read-only.

    The dict is the row's only if no problem was appended to ``errors``.
    """
    check_provenance(row, errors)
    get = row.values.get
    parsed: dict[str, Any] = {c: get(c, "").strip() for c in columns}      # row.get(c) for each column
    for col in _must_fill(schema):
        if row.get(col) == "":
            errors.append(InputError(row.file, row.row, col, f"a value for '{col}'", "an empty cell"))
    for col, mode in schema.years.items():
        parsed[col] = parse_year(row, col, mode, horizon, errors)
    for col, entity in schema.references.items():
        v = row.get(col)
        if v and entity in ids and v not in ids[entity]:
            errors.append(InputError(row.file, row.row, col,
                                     f"a {col} defined in {entity} (one of {', '.join(sorted(ids[entity]))})",
                                     repr(v)))
    for col, allowed in schema.choices.items():
        v = row.get(col)
        if v and v not in allowed:
            errors.append(InputError(row.file, row.row, col, "one of " + ", ".join(allowed), repr(v)))
    if schema.quantity:
        pname = row.get("parameter")
        if pname not in params:
            errors.append(InputError(row.file, row.row, "parameter",
                                     f"a parameter of {schema.name} (one of {', '.join(sorted(params))})",
                                     repr(pname)))
        else:
            got = parse_value(row, params[pname], errors)
            if got:
                parsed["_value"], parsed["_unit"] = got
    parsed["_file"], parsed["_row"] = row.file, row.row
    return MappingProxyType(parsed)


#: Each checked row's Fact, kept per (row object, key columns), so rules over facts see which inputs are unchanged.
#: A plain dict (emptied when large): one lookup per row, as :func:`row_key`'s.
_FACTS: dict[tuple[str, ...], tuple[dict[int, Fact], dict[int, Any]]] = {}
MEMOS.append(_FACTS)


def facts_from(rows: list[dict[str, Any]], key_cols: Iterable[str]) -> list[Fact]:
    """Turn checked quantity rows into :class:`Fact` records (the same Fact for the same row: read-only)."""
    key_cols = tuple(key_cols)
    if not kept_on():
        return [_fact(r, key_cols) for r in rows]
    facts, owners = _FACTS.setdefault(key_cols, ({}, {}))     # {id(row): fact}, {id(row): row} for these columns
    row_ids = list(map(id, rows))
    out = list(map(facts.get, row_ids))
    # the rows whose id holds no fact of the very same row: found in C (a sweep case changes a few rows)
    missing = list(compress(range(len(rows)), map(operator.is_not, map(owners.get, row_ids), rows)))
    if missing and len(facts) > 50000:
        facts.clear()
        owners.clear()
    for i in missing:
        r = rows[i]
        out[i] = facts[id(r)] = _fact(r, key_cols)
        owners[id(r)] = r
    return out


def _fact(r: dict[str, Any], key_cols: tuple[str, ...]) -> Fact:
    return Fact(MappingProxyType({c: r.get(c) for c in key_cols}), r["parameter"], r["_value"], r["_unit"],
                r["_file"], r["_row"])


def parse_scope(text: str) -> dict[str, tuple[str, ...]]:
    """Read a scope selector (``vendor=amd&host=oracle|microsoft``, or ``all``).

    Raises
    ------
    ValueError
        If a term is not ``key=value`` or names an unknown key.
    """
    text = text.strip()
    if text in ("all", "*"):
        return {}
    terms: dict[str, tuple[str, ...]] = {}
    for term in text.split("&"):
        key, eq, vals = term.partition("=")
        key = key.strip()
        if not eq or key not in SCOPE_KEYS or not vals.strip():
            raise ValueError(term)
        terms[key] = tuple(v.strip() for v in vals.split("|") if v.strip())
    return terms
