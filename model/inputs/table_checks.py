"""A changed table's check worked out from a clean check of a relative: a sweep case checks only its new rows.

:func:`model.inputs.values.check_rows` is wrapped by :class:`CheckedTables`: a table checked before gives its
answer again; a table a ``--set`` made is worked out from the steps that made it
(:func:`model.inputs.tables.step_of`), or from a scan of its rows against a clean relative; anything else, and
every table where a problem is found, gets the full check, so refusals keep its words.
"""
from __future__ import annotations

import operator
from types import MappingProxyType
from typing import Any, Callable

from model.errors import InputError
from model.inputs.catalogue import Catalogue
from model.inputs.memo import MEMOS, kept_on
from model.inputs.tables import FileSchema, RawRow, RawTable, step_of


class CheckedTables:
    """The result of :func:`model.inputs.values.check_rows` for the tables checked lately, reused or derived for a
    table that comes again.

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

    def __init__(self, check_row: Callable[..., Any], row_key: Callable[[RawRow, tuple[str, ...]], tuple],
                 size: int = 128) -> None:
        import threading
        from collections import OrderedDict

        self.size = size
        self.check_row, self.row_key = check_row, row_key     # one row's own checks, and its key (values.py)
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
        check_row, row_key = self.check_row, self.row_key
        parsed_of, key_of = relative.index(row_key)
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
        check_row = self.check_row
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

    def index(self, row_key: Callable[[RawRow, tuple[str, ...]], tuple]) -> tuple[dict[int, tuple[RawRow, Any]],
                                                                             dict[tuple, int]]:
        """``({id(row): (row, parsed)}, {key: id(row)})`` over the table's rows (a clean check keeps every row)."""
        if self._index is None:
            parsed_of = {id(r): (r, p) for r, p in zip(self.table.rows, self.rows)}
            key_of = {row_key(r, self.schema.key): id(r) for r in self.table.rows}
            self._index = (parsed_of, key_of)
        return self._index
