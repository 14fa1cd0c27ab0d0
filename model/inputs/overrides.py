"""Overrides: ``--set KEY=VALUE`` and scenario files applied to the rows, each recorded for the manifest."""
from __future__ import annotations

import bisect
import datetime as _dt
import difflib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from model.errors import InputError, InputErrors
from model.inputs.catalogue import Catalogue, Settable
from model.inputs.memo import MEMOS, kept_on
from model.inputs.tables import (DEPENDENTS, ENTITY_KEY, SCHEMAS, RawRow, RawTable, Step, display_path, record_step,
                                 step_of)
from model.inputs.values import parse_value
from model.units import (QUANTITY_ERRORS, UnitParseError, describe, parse_quantity, quoted_prefix, unit_case_fix,
                         unit_cell_text, ureg)

#: Longest ``KEY=VALUE`` text read (refused before anything parses it, quoting its start).
MAX_ASSIGNMENT_CHARS = 200


@dataclass(frozen=True)
class Override:
    """One change on top of the base data, as recorded in the manifest."""

    origin: str      # "scenario NAME" or "--set"
    action: str      # set | scale | switch | replace | drop | add
    target: str      # key or file
    detail: str
    source: str


def _matches(row: RawRow, where: dict[str, Any]) -> bool:
    return all(row.get(k) == str(v).strip() for k, v in where.items())


def _drop_rows(tables: dict[str, RawTable], file: str, where: dict[str, Any]) -> int:
    table = tables[file]
    kept = tuple(r for r in table.rows if not _matches(r, where))
    dropped = [r for r in table.rows if _matches(r, where)]
    tables[file] = replace(table, rows=kept)
    if file in ENTITY_KEY:
        key = ENTITY_KEY[file]
        gone = {r.get(key) for r in dropped}
        for dep_file, dep_col in DEPENDENTS.get(file, []):
            if dep_file in tables:
                dep = tables[dep_file]
                tables[dep_file] = replace(dep, rows=tuple(r for r in dep.rows if r.get(dep_col) not in gone))
    return len(dropped)


def _fmt(x: float) -> str:
    return repr(float(x))


def apply_set(tables: dict[str, RawTable], catalogue: Catalogue, assignment: str,
              origin: str = "command line", row: str | None = None) -> Override:
    """Apply one ``KEY[.NAME]=VALUE`` assignment to the raw tables (in place).

    Raises
    ------
    InputError
        For an unknown key or member, a missing ``=``, a scale factor that
        is not a non-negative plain number, or a value the parameter refuses
        (wrong dimension, out of range): checked once here, naming the key,
        rather than once for each row the value would become.
    """
    if len(assignment) > MAX_ASSIGNMENT_CHARS:
        raise InputError(origin, row or f"--set {quoted_prefix(assignment)}", "--set",
                         f"KEY=VALUE of at most {MAX_ASSIGNMENT_CHARS} characters", quoted_prefix(assignment))
    where = row or f"--set {assignment}"
    if "=" not in assignment:
        raise InputError(origin, where, assignment or "--set", "KEY=VALUE (e.g. pue=1.2)", repr(assignment))
    key, value = (s.strip() for s in assignment.split("=", 1))
    base, _, member = key.partition(".")
    if base not in catalogue.settable:
        close = difflib.get_close_matches(base, list(catalogue.settable), n=1, cutoff=0.6)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise InputError(origin, where, key or "KEY", "one of " + ", ".join(sorted(catalogue.settable)),
                         repr(key) + hint)
    spec = catalogue.settable[base]
    param = catalogue.parameters[spec.parameter]
    file = param.file
    if file not in tables:
        raise InputError(origin, where, key, f"the file {file} to be readable", "it could not be read")
    if spec.mode in ("edit", "shift"):
        return _apply_row_edit(tables, spec, param, key, member, value, origin, where)
    # one rule, two forms (a multiple of revenue, or USD): setting either replaces both
    rule_rows = {param.row_name, *ONE_RULE.get(spec.parameter, ())}
    if spec.mode == "set" and value.lower() == "none" and spec.parameter in LIFTABLE:
        tables[file] = replace(tables[file], rows=tuple(r for r in tables[file].rows
                                                        if r.get("parameter") not in rule_rows))
        return Override(origin, "set", key, "none (no limit)", where)
    members = _set_members(tables, spec, key, member, origin, where)
    table = tables[file]
    if spec.mode == "scale":
        return _apply_scale(tables, catalogue, spec, members, key, value, origin, where)
    # mode "set": one row for all years, per member
    if spec.mode == "switch":
        words = {"on": "1", "true": "1", "yes": "1", "1": "1", "off": "0", "false": "0", "no": "0", "0": "0"}
        if value.lower() not in words:
            raise InputError(origin, where, key, "on or off", repr(value))
        value = words[value.lower()]
    try:
        q = parse_quantity(value)
        num, unit = _fmt(q.magnitude), unit_cell_text(q.units)
    except UnitParseError:
        raise _unreadable(value, key, param, origin, where) from None
    # Check the value once, here, naming the key: the rows it becomes (one per region, vendor, ...)
    # would each report the same problem, and a refused scalar would look like a missing row.
    problems: list[InputError] = []
    parse_value(RawRow({"value": num, "unit": unit}, origin, where), param, problems)
    if problems:   # the value as typed, or its dimension when that is what is wrong
        wrong_unit = problems[0].field == "unit"
        found = (problems[0].found if wrong_unit and unit not in ("", "dimensionless")
                 else f"{value!r} (a plain number, no unit)" if wrong_unit and unit else repr(value))
        raise InputError(origin, where, problems[0].field, problems[0].expected, found)
    drop = _dropped_positions(table, rule_rows, spec.qualifier if members else None, members)
    today = _dt.date.today().isoformat()
    template = dict.fromkeys(table.columns, "")
    template.update(parameter=param.row_name, value=num, unit=unit, source=f"{origin}: {where}",
                    date=today, confidence="assumption")
    added = []
    for m in (members or [None]):
        vals = dict(template)
        if m is not None:
            vals[spec.qualifier] = m
        added.append(RawRow(vals, origin, where))
    tables[file] = _with_added(table, drop, added, frozenset(rule_rows) | {param.row_name})
    return Override(origin, spec.mode, key, value, where)


#: Each table's row positions by parameter (:class:`_Positions`), kept per table object: a sweep sets the same
#: base tables every case, and a table a ``--set`` made works its positions out from the step that made it.
_POSITIONS: dict[int, tuple[RawTable, "_Positions"]] = {}
MEMOS.append(_POSITIONS)


class _Positions:
    """A table's row positions by parameter: read from its rows, or, for a table a ``--set`` made, worked out one
    parameter when asked from the step that made it (:class:`~model.inputs.tables.Step`): the parent's positions
    less those dropped, then the rows appended.

    A second ``--set`` on a table the first made reads the positions of its own parameters only, not every row.
    """

    __slots__ = ("_by_parameter", "_table", "_step")

    def __init__(self, table: RawTable, step: Step | None = None) -> None:
        self._table, self._step = table, step
        self._by_parameter: dict[str, tuple[int, ...]] = {}
        if step is None:
            index: dict[str, list[int]] = {}
            for i, r in enumerate(table.rows):
                index.setdefault(r.get("parameter"), []).append(i)
            self._by_parameter = {k: tuple(v) for k, v in index.items()}

    def of(self, parameter: str) -> tuple[int, ...]:
        """The positions of ``parameter``'s rows, in order."""
        step = self._step
        if step is None or parameter in self._by_parameter:
            return self._by_parameter.get(parameter, ())
        gone, rows = step.dropped, self._table.rows
        kept = tuple(i - bisect.bisect_left(gone, i) for i in _positions(step.parent).of(parameter)
                     if not _holds(gone, i))
        appended = tuple(i for i in range(len(rows) - step.added, len(rows)) if rows[i].get("parameter") == parameter)
        out = self._by_parameter[parameter] = kept + appended
        return out


def _holds(ordered: tuple[int, ...], i: int) -> bool:
    at = bisect.bisect_left(ordered, i)
    return at < len(ordered) and ordered[at] == i


def _positions(table: RawTable) -> _Positions:
    hit = _POSITIONS.get(id(table))
    if hit is not None and hit[0] is table:
        return hit[1]
    positions = _Positions(table, step_of(table))
    if kept_on():
        if len(_POSITIONS) > 256:
            _POSITIONS.clear()
        _POSITIONS[id(table)] = (table, positions)
    return positions


def _dropped_positions(table: RawTable, parameters: set[str], qualifier: str | None,
                       members: list[str]) -> tuple[int, ...]:
    """The positions (sorted) of ``table``'s rows of ``parameters`` (of ``members`` only, when ``qualifier`` is
    given), read through the table's positions by parameter."""
    positions = _positions(table)
    chosen = set(members)
    return tuple(sorted(i for name in parameters for i in positions.of(name)
                        if qualifier is None or table.rows[i].get(qualifier) in chosen))


def _kept_rows(table: RawTable, drop: tuple[int, ...]) -> tuple[RawRow, ...]:
    """``table``'s rows without those at the sorted positions ``drop``."""
    if not drop:
        return table.rows
    kept = list(table.rows)
    for i in reversed(drop):
        del kept[i]
    return tuple(kept)


def _with_added(table: RawTable, drop: tuple[int, ...], added: list[RawRow], touched: frozenset[str]) -> RawTable:
    """``table`` without the rows at ``drop`` and with ``added`` after the others, and the step that made it
    recorded (its positions and its checks are worked out from it). ``touched``: the parameters of the rows
    dropped and added (or more: a parameter named there is only read again)."""
    new = replace(table, rows=_kept_rows(table, drop) + tuple(added))
    record_step(new, Step(table, drop, len(added), touched))
    return new


def _set_members(tables: dict[str, RawTable], spec: Settable, key: str, member: str, origin: str,
                 where: str) -> list[str]:
    """The regions, vendors, ... a ``--set`` key applies to: ``KEY.NAME`` narrows it to one (which must exist)."""
    base = key.partition(".")[0]
    if spec.qualifier:
        entity_file = {"region": "regions.csv", "vendor": "vendors.csv", "offer": "offers.csv",
                       "deal": "deals.csv", "power_source": "power_sources.csv"}[spec.qualifier]
        entity_key = ENTITY_KEY[entity_file]
        all_members = [r.get(entity_key) for r in tables.get(entity_file, RawTable("", (), ())).rows]
        if member:
            if member not in all_members:
                raise InputError(origin, where, key, f"a {spec.qualifier} after '{base}.' (one of "
                                 + ", ".join(all_members) + ")", repr(member))
            return [member]
        return all_members
    if member:
        raise InputError(origin, where, key, f"'{base}' without a qualifier (it applies everywhere)", repr(key))
    return []


def _apply_scale(tables: dict[str, RawTable], catalogue: Catalogue, spec: Settable, members: list[str], key: str,
                 value: str, origin: str, where: str) -> Override:
    """``--set KEY=FACTOR`` for a scale key: every matching row's value times the factor, its source saying so."""
    param = catalogue.parameters[spec.parameter]
    table = tables[param.file]
    file = param.file
    try:
        factor = parse_quantity(value)
    except UnitParseError:
        raise InputError(origin, where, key, "a plain non-negative number (a factor)", repr(value)) from None
    if factor.dimensionality != ureg.Unit("dimensionless").dimensionality or factor.to("").magnitude < 0:
        raise InputError(origin, where, key, "a plain non-negative number (a factor)",
                         repr(value) if factor.dimensionless else describe(factor))
    f = float(factor.to("").magnitude)
    names = {param.row_name, *(catalogue.parameters[a].row_name for a in spec.also)}
    new_rows = []
    for r in table.rows:
        hit = r.get("parameter") in names and (not members or r.get(spec.qualifier) in members)
        if hit:
            try:
                scaled = _fmt(float(r.get("value")) * f)
            except ValueError:
                scaled = r.get("value")  # left for validation to report
            vals = dict(r.values, value=scaled)
            vals["source"] = f"{r.get('source')} x {f} ({where})"
            new_rows.append(RawRow(vals, r.file, r.row))
        else:
            new_rows.append(r)
    tables[file] = replace(table, rows=tuple(new_rows))
    return Override(origin, "scale", key, f"x {f}", where)


#: Parameters whose absence means "no limit": ``--set KEY=none`` drops their rows.
LIFTABLE = ("debt_limit", "debt_limit_multiple", "terminal_debt_growth")

#: Parameters that state one rule in two forms: ``--set`` of one replaces the rows of the other too.
ONE_RULE = {"debt_limit": ("debt_limit_multiple",), "debt_limit_multiple": ("debt_limit",)}


def _unreadable(value: str, key: str, param: Any, origin: str, where: str) -> InputError:
    """The error for a ``--set`` value that is no number with a unit, naming the key, quoting the value and, when
    the unit's case is what is wrong and the value in the right case is accepted, saying how to write it."""
    hint = ""
    fixed = unit_case_fix(value)
    if fixed:
        q = parse_quantity(fixed)
        unit = unit_cell_text(q.units)
        problems: list[InputError] = []
        parse_value(RawRow({"value": _fmt(q.magnitude), "unit": unit}, origin, where), param, problems)
        if not problems:
            hint = f" (units are case-sensitive: write {key}={fixed})"
    return InputError(origin, where, key, f"a value for '{key}': {param.expected}", quoted_prefix(value, 40) + hint)


def _apply_row_edit(tables: dict[str, RawTable], spec: Settable, param: Any, key: str, member: str, value: str,
                    origin: str, where: str) -> Override:
    """``--set commitment[.NAME]=5GW`` (mode edit: a tranche's size) or ``commitment_delay[.NAME]=1a`` (mode shift).

    Edits the matching rows of the qualifier's file in place, keeping their other columns (scope, years,
    bound). A shift moves first and last year later (negative: earlier) by whole years; a tranche moved
    out of the horizon no longer binds.

    Raises
    ------
    InputError
        For an unknown member, or a shift that is not a whole number of years.
    """
    file = f"{spec.qualifier}s.csv"
    table = tables[file]
    names = [r.get(spec.qualifier) for r in table.rows]
    if member and member not in names:
        raise InputError(origin, where, key, f"a {spec.qualifier} after '{key.partition('.')[0]}.' (one of "
                         + ", ".join(names) + ")", repr(member))
    if spec.mode == "shift":
        try:
            q = parse_quantity(value)
            shift = float(q.to("a").magnitude)
        except QUANTITY_ERRORS:
            raise InputError(origin, where, key, "a whole number of years (e.g. 1a, -1a)", repr(value)) from None
        if shift != int(shift):
            raise InputError(origin, where, key, "a whole number of years (e.g. 1a, -1a)", repr(value))
    else:
        try:
            q = parse_quantity(value)
            num, unit = _fmt(q.magnitude), f"{q.units:~}" if not q.dimensionless else ""
        except UnitParseError:
            raise _unreadable(value, key, param, origin, where) from None
    rows = []
    for r in table.rows:
        if not member or r.get(spec.qualifier) == member:
            vals = dict(r.values)
            if spec.mode == "shift":
                for col in ("first_year", "last_year"):
                    try:
                        vals[col] = str(int(float(vals[col])) + int(shift))
                    except ValueError:
                        pass   # validation reports the bad year
            else:
                vals.update(value=num, unit=unit)
            vals["source"] = f"{r.get('source')}; {origin}: {where}"
            r = RawRow(vals, r.file, r.row)
        rows.append(r)
    tables[file] = replace(table, rows=tuple(rows))
    return Override(origin, spec.mode, key, value, where)


def apply_scenario_file(tables: dict[str, RawTable], catalogue: Catalogue, path: Path) -> list[Override]:
    """Apply a scenario YAML (``set``, ``replace``, ``drop``, ``add``) to the raw tables in place."""
    shown = display_path(path)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError) as exc:
        raise InputErrors([InputError(shown, 1, "-", "a readable UTF-8 scenario file", str(exc))]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        raise InputErrors([InputError(shown, line, "-", "valid YAML", str(exc).splitlines()[0])]) from None
    if not isinstance(doc, dict):
        raise InputErrors([InputError(shown, 1, "-", "a mapping with description/set/replace/drop/add",
                                      type(doc).__name__)])
    return apply_scenario_doc(tables, catalogue, doc, shown, path.stem)


def _add_rows(tables: dict[str, RawTable], file: str, rows: Any, at: tuple[str, str], name: str, source: str,
              errors: list[InputError]) -> Override | None:
    """A scenario's ``add`` entry: its rows appended to ``file`` (each checked against the file's columns)."""
    shown, where = at
    if not isinstance(rows, list):
        errors.append(InputError(shown, where, "rows", "a list of rows (mappings of column: value)",
                                 type(rows).__name__))
        return None
    table = tables[file]
    added = []
    for j, row in enumerate(rows):
        if not isinstance(row, dict):
            errors.append(InputError(shown, f"{where}.rows[{j}]", "-", "a mapping of column: value",
                                     repr(row)))
            continue
        bad = [c for c in row if c not in table.columns]
        if bad:
            errors.append(InputError(shown, f"{where}.rows[{j}]", bad[0], f"columns of {file}",
                                     repr(bad[0])))
            continue
        vals = {c: "" for c in table.columns}
        vals.update({k: ("" if v is None else str(v)) for k, v in row.items()})
        if not vals.get("source"):
            vals["source"] = f"scenario {name}: {source}"
        added.append(RawRow(vals, shown, f"{where}.rows[{j}]"))
    tables[file] = replace(table, rows=table.rows + tuple(added))
    return Override(f"scenario {name}", "add", file, f"{len(added)} rows", source)


def apply_scenario_doc(tables: dict[str, RawTable], catalogue: Catalogue, doc: dict, shown: str, name: str,
                       default_source: str = "", extra_keys: tuple[str, ...] = ()) -> list[Override]:
    """Apply overrides given as a mapping (a scenario file's content, or one future of a futures file).

    ``shown`` names where the mapping came from in error messages; entries
    without a ``source`` take ``default_source`` (an error if that is empty).
    """
    errors: list[InputError] = []
    done: list[Override] = []
    unknown = set(doc) - {"description", "set", "replace", "drop", "add", "sources", "notes", *extra_keys}
    for k in sorted(unknown):
        errors.append(InputError(shown, k, k, "one of description, set, replace, drop, add", repr(k)))
    for section, shape in (("set", dict), ("replace", list), ("drop", list), ("add", list)):
        if doc.get(section) is not None and not isinstance(doc[section], shape):
            errors.append(InputError(shown, section, section, "a mapping of KEY: value" if shape is dict
                                     else "a list of entries (each starting with '- ')", type(doc[section]).__name__))
            doc = {**doc, section: None}
    for key, entry in (doc.get("set") or {}).items():
        where = f"set.{key}"
        if isinstance(entry, dict):
            value, source = entry.get("value"), entry.get("source", "") or default_source
        else:
            value, source = entry, default_source
        if not str(source).strip():
            errors.append(InputError(shown, where, "source", "a reason or citation for the change", "none"))
        try:
            o = apply_set(tables, catalogue, f"{key}={value}", origin=shown, row=where)
            done.append(replace(o, origin=f"scenario {name}", source=str(source)))
        except InputError as exc:
            errors.append(exc)
    for action in ("replace", "drop", "add"):
        for i, entry in enumerate(doc.get(action) or []):
            where = f"{action}[{i}]"
            if not isinstance(entry, dict):
                errors.append(InputError(shown, where, action, "a mapping with file and where/rows", repr(entry)))
                continue
            file = entry.get("file")
            source = str(entry.get("source", "") or default_source).strip()
            if file not in SCHEMAS:
                errors.append(InputError(shown, where, "file", "one of " + ", ".join(SCHEMAS), repr(file)))
                continue
            if file not in tables:
                continue  # its own read error is already reported
            if not source:
                errors.append(InputError(shown, where, "source", "a reason or citation for the change", "none"))
            if action in ("replace", "drop"):
                cond = entry.get("where") or {}
                if not isinstance(cond, dict) or not cond:
                    errors.append(InputError(shown, where, "where", "a mapping of column: value", repr(cond)))
                    continue
                bad = [c for c in cond if c not in tables[file].columns]
                if bad:
                    errors.append(InputError(shown, where, "where", f"columns of {file}", repr(bad)))
                    continue
                hits = [r for r in tables[file].rows if _matches(r, cond)]
                if not hits:
                    errors.append(InputError(shown, where, "where", f"a condition matching rows of {file}",
                                             f"no row matches {cond}"))
                    continue
                if action == "drop":
                    _drop_rows(tables, file, cond)
                    done.append(Override(f"scenario {name}", "drop", file, str(cond), source))
                else:
                    values = entry.get("values") or {}
                    bad = [c for c in values if c not in tables[file].columns]
                    if not isinstance(values, dict) or not values or bad:
                        errors.append(InputError(shown, where, "values", f"a mapping of columns of {file}",
                                                 repr(values)))
                        continue
                    table = tables[file]
                    new_rows = []
                    for r in table.rows:
                        if _matches(r, cond):
                            vals = dict(r.values, **{k: str(v) for k, v in values.items()})
                            vals["source"] = f"scenario {name}: {source}" if "source" not in values else vals["source"]
                            new_rows.append(RawRow(vals, shown, where))
                        else:
                            new_rows.append(r)
                    tables[file] = replace(table, rows=tuple(new_rows))
                    done.append(Override(f"scenario {name}", "replace", file, f"{cond} -> {values}", source))
            else:
                o = _add_rows(tables, file, entry.get("rows") or [], (shown, where), name, source, errors)
                if o is not None:
                    done.append(o)
    if errors:
        raise InputErrors(errors)
    return done
