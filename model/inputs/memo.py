"""Results of the loader's pure rules kept for the very same inputs (a sweep loads thousands of variants).

A sweep case changes a few rows (``apply_set`` makes new rows and tables; every row it does not touch
is the same object as in the base). The loader runs all its rules on every case; a rule whose inputs
are the same objects as before gives the same answer and the same problems, so :class:`IdentityMemo`
hands back that answer (and appends those problems again, in order) instead of working it out again.

Keys are the input objects themselves, compared by identity (``is``), plus a hashable context
(schema, horizon, ids): an entry holds its objects, so a reused ``id`` can never match a different
input. Everything kept must be immutable or treated as read-only by the callers.
"""
from __future__ import annotations

from collections import OrderedDict
from contextlib import contextmanager
from operator import is_
from typing import Any, Callable, Hashable, Sequence

from model.errors import InputError


#: Every memo made: IdentityMemo, model.inputs.table_checks.CheckedTables and the kept dicts (all have ``clear()``).
MEMOS: list = []


#: While False, every memo works each answer out and keeps nothing (see :func:`nothing_kept`).
_ON = [True]


@contextmanager
def nothing_kept():
    """Within it, the loader works everything out and keeps nothing, leaving what was kept untouched.

    For comparing the incremental path with a full load (tests), and for timing a full load.
    """
    _ON[0] = False
    try:
        yield
    finally:
        _ON[0] = True


def kept_on() -> bool:
    """Whether memos give and keep answers now (False inside :func:`nothing_kept`)."""
    return _ON[0]


def clear_memos() -> None:
    """Forget every kept answer (the next load works everything out again: tests compare the two)."""
    for memo in MEMOS:
        memo.clear()


class IdentityMemo:
    """A bounded LRU of ``rule(objects) -> (answer, problems)`` keyed on the objects' identity and a context.

    Parameters
    ----------
    size : int
        Entries kept (least recently used dropped first). Size it to the inputs of one load (the
        base's rows or tables) with room for the changed ones of a few cases.
    """

    def __init__(self, size: int) -> None:
        MEMOS.append(self)
        self.size = size
        self.entries: "OrderedDict[tuple, tuple]" = OrderedDict()
        self.hits = self.misses = 0

    def __call__(self, objects: Sequence[Any], context: Hashable, rule: Callable[[list[InputError]], Any],
                 errors: list[InputError]) -> Any:
        """``rule(problems)``'s answer for ``objects`` in ``context``; its problems appended to ``errors``.

        ``rule`` must be a pure function of ``objects`` and ``context`` that only appends to the list
        it is given (the loader's rules collect their problems that way). Safe across threads without a
        lock: each step is one operation on a built-in dict, and two threads missing at once both work
        the same answer out.
        """
        if not _ON[0]:
            return rule(errors)
        key = (id(objects[0]) if len(objects) == 1 else tuple(map(id, objects)), context)
        entries = self.entries
        hit = entries.get(key)
        if hit is not None:
            kept = hit[0]
            if len(kept) == len(objects) and (kept[0] is objects[0] if len(kept) == 1 else all(map(is_, kept, objects))):
                try:
                    entries.move_to_end(key)
                except KeyError:          # dropped by another thread meanwhile: the answer is still good
                    pass
                self.hits += 1
                if hit[2]:
                    errors.extend(hit[2])
                return hit[1]
        mine: list[InputError] = []
        answer = rule(mine)
        errors.extend(mine)
        self.misses += 1
        self.entries[key] = (tuple(objects), answer, tuple(mine))
        while len(self.entries) > self.size:
            try:
                self.entries.popitem(last=False)
            except KeyError:
                break
        return answer

    def before_any_problem(self, objects: Sequence[Any], context: Hashable, rule: Callable[[list[InputError]], Any],
                           errors: list[InputError]) -> Any:
        """As calling the memo, for a rule that also reads the problems found so far: kept only while there are none.

        A few rules word or skip a problem by the ones found before them (a missing row that was
        refused already is not reported twice); with no problem before the rule, its answer is a
        function of its inputs alone. Otherwise it runs on ``errors`` itself.
        """
        if errors:
            return rule(errors)
        return self(objects, context, rule, errors)

    def clear(self) -> None:
        self.entries.clear()
        self.hits = self.misses = 0
