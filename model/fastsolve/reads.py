"""A sweep case's Params without re-working the concerns whose inputs the case left as they were.

Each concern's ``param_values(s)`` is a pure function of the Scenario fields it reads. Run once on the
reference case through :class:`Reading` (a stand-in for the Scenario that records every field read,
including those read inside the Scenario's own methods and properties), it tells which fields decide its
Params. For a case, a concern whose every recorded field is equal to the reference's (the same object,
or an equal value) gives the reference's Params: same reads, same path through the code, same answer.
Any other concern is worked out again. So

    kept(s) == model.build.param_values(s)      for every case s

while a sweep over a target or a price works out one or two concerns instead of all eight (about 4 ms
of a case whose HiGHS solve takes about 6).
"""
from __future__ import annotations

import functools
import inspect
import types
from typing import Any, Callable

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


class KeptParams:
    """``model.build.param_values`` for cases of one sweep, each concern worked out only if its fields moved.

    Parameters
    ----------
    reference : Scenario
        The case the compiled plan was built for.
    """

    def __init__(self, reference: Scenario) -> None:
        from model.build import CONCERNS

        self.kept: list[tuple[Callable[[Scenario], dict], dict[str, Any] | None, dict]] = []
        self.worked_out = 0
        for concern in CONCERNS:
            fn = getattr(concern, "param_values", None)
            if fn is None:
                continue
            reading = Reading(reference)
            try:
                values = fn(reading)
                reads: dict[str, Any] | None = dict(object.__getattribute__(reading, "_read"))
            except (TypeError, AttributeError):   # a concern that needs the Scenario itself: worked out every case
                values, reads = fn(reference), None
            self.kept.append((fn, reads, values))

    def __call__(self, s: Scenario) -> dict[str, dict]:
        out: dict[str, dict] = {}
        for fn, reads, values in self.kept:
            if reads is not None and all(same(getattr(s, name), v) for name, v in reads.items()):
                out.update(values)
            else:
                self.worked_out += 1
                out.update(fn(s))
        return out
