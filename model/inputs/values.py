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
from model.inputs.table_checks import CheckedTables
from model.inputs.tables import CONFIDENCE, DATE_PATTERN, PROVENANCE, SCOPE_KEYS, FileSchema, RawRow, RawTable
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


@CheckedTables(check_row=lambda *args: check_row(*args), row_key=lambda row, columns: row_key(row, columns))
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
