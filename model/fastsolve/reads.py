"""A sweep case's Params without re-working those whose inputs the case left as they were.

A concern gives its Params either one by one (a module-level ``PARAMS``: Param name -> function of the
Scenario, as :mod:`model.concerns.power` and :mod:`model.concerns.costs` do) or all at once
(``param_values(s)``). Each such function is a pure function of the Scenario fields it reads. Run once on
the reference case through :class:`Reading` (a stand-in for the Scenario that records every field read,
including those read inside the Scenario's own methods and properties), it tells which fields decide
what it gives. For a case, a Param (or a concern without ``PARAMS``) whose every recorded field is equal
to the reference's (the same object, or an equal value) gives the reference's values: same reads, same
path through the code, same answer. Any other is worked out again. So

    kept(s) == model.build.param_values(s)      for every case s

with the same Params in the same order and each Param's keys in the same order, while a sweep over a
target or a price works out a few Params (a price case: the prices, not the grid's index or the cost
annuities) instead of every Param of the concerns it touches.
"""
from __future__ import annotations

import functools
import inspect
import types
from typing import Any, Callable, NamedTuple

from model.scenario import Scenario


class Reading:
    """Stands for a Scenario and records the fields read from it (name -> value)."""

    __slots__ = ("_scenario", "_read")

    def __init__(self, scenario: Scenario) -> None:
        object.__setattr__(self, "_scenario", scenario)
        object.__setattr__(self, "_read", {})

    def __getattr__(self, name: str) -> Any:
        scenario = object.__getattribute__(self, "_scenario")
        attr = inspect.getattr_static(type(scenario), name, None)
        if isinstance(attr, property):
            return attr.fget(self)
        if isinstance(attr, functools.cached_property):
            return attr.func(self)             # worked out through this stand-in, so its reads are recorded
        if isinstance(attr, types.FunctionType):
            return types.MethodType(attr, self)
        value = getattr(scenario, name)
        object.__getattribute__(self, "_read")[name] = value
        return value

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"a Scenario is read-only ({name})")


def same(a: Any, b: Any) -> bool:
    """Whether two field values are the same object or equal (anything that cannot say so is 'not same')."""
    if a is b:
        return True
    if type(a) is not type(b):
        return False
    try:
        return bool(a == b)
    except (TypeError, ValueError):       # e.g. arrays, whose == is elementwise: worked out again
        return False


class Kept(NamedTuple):
    """One Param, or one concern without the per-Param form, as read on the reference case."""

    name: str | None                     # the Param; None for a concern's whole ``param_values``
    fn: Callable[[Scenario], dict]       # the Param's function, or the concern's ``param_values``
    reads: frozenset[str] | None         # fields read on the reference; None: worked out every case
    values: dict[str, dict]              # the reference's values, Param name -> {index: value}


class KeptParams:
    """``model.build.param_values`` for cases of one sweep, each Param worked out only if its fields moved.

    Parameters
    ----------
    reference : Scenario
        The case the compiled plan was built for.

    Attributes
    ----------
    worked_out : int
        Params worked out again over every call so far (not kept from the reference). A concern without
        the per-Param form is worked out whole, and counts each of its Params.
    """

    def __init__(self, reference: Scenario) -> None:
        from model.build import CONCERNS

        self.kept: list[Kept] = []
        self.fields: dict[str, Any] = {}     # every field read, with the reference's value (one object per field)
        self.worked_out = 0
        for concern in CONCERNS:
            params = getattr(concern, "PARAMS", None)
            if params is not None:
                for name, fn in params.items():
                    self._keep(name, fn, reference)
            elif hasattr(concern, "param_values"):
                self._keep(None, concern.param_values, reference)

    def _keep(self, name: str | None, fn: Callable[[Scenario], dict], reference: Scenario) -> None:
        reading = Reading(reference)
        try:
            got = fn(reading)
            read: dict[str, Any] = object.__getattribute__(reading, "_read")
            reads: frozenset[str] | None = frozenset(read)
            self.fields.update(read)
        except (TypeError, AttributeError):   # one that needs the Scenario itself: worked out every case
            got, reads = fn(reference), None
        self.kept.append(Kept(name, fn, reads, got if name is None else {name: got}))

    def moved(self, s: Scenario) -> frozenset[str]:
        """The fields read on the reference that ``s`` holds otherwise (not the same object, not equal)."""
        return frozenset(name for name, v in self.fields.items() if not same(getattr(s, name), v))

    def to_work_out(self, s: Scenario) -> list[str]:
        """The Params a call for ``s`` works out again (all of a concern's without the per-Param form), in order."""
        moved = self.moved(s)
        return [p for k in self.kept if k.reads is None or not k.reads.isdisjoint(moved) for p in k.values]

    def __call__(self, s: Scenario) -> dict[str, dict]:
        moved = self.moved(s)
        out: dict[str, dict] = {}
        for name, fn, reads, values in self.kept:
            if reads is not None and reads.isdisjoint(moved):
                out.update(values)
            elif name is None:
                got = fn(s)
                self.worked_out += len(got)
                out.update(got)
            else:
                self.worked_out += 1
                out[name] = fn(s)
        return out
