"""Small helpers shared by the concern modules."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from pyomo.environ import ConcreteModel, Param, Reals

from model.assemble.series import pairs  # noqa: F401 -- the Params over (region, year) pairs use it
from model.scenario import Scenario


@dataclass(frozen=True)
class Limit:
    """How a constraint reads in the user's words.

    ``label`` names it ("NVIDIA supply cap 2031"); ``unit`` is the unit of its
    right-hand side as a model unit ("GW"); ``sense`` is ``"cap"`` (<=) or
    ``"floor"`` (>=); ``detail`` adds context ("lead time 5 a").
    """

    label: str
    unit: str
    sense: str
    detail: str = ""


Describer = Callable[[Scenario, Any], Limit]


def filled(keys: tuple, values: dict, default: float) -> dict:
    """``{k: values.get(k, default) for k in keys}``, in the order of ``keys``, made in C when every key of
    ``values`` is one of ``keys`` (``dict.update`` keeps the places ``dict.fromkeys`` gave)."""
    out = dict.fromkeys(keys, default)
    if len(out) == len(keys) and values.keys() <= out.keys():
        out.update(values)
        return out
    return {k: values.get(k, default) for k in keys}


def add_param(m: ConcreteModel, name: str, index: Any, values: dict, default: float | None = None) -> None:
    """Add a Param, mutable only if the build asked for ``name`` to be mutable.

    Only the Params a sweep varies are mutable: Pyomo re-evaluates every mutable
    Param on each re-solve, so keeping the rest plain data keeps re-solves fast.
    """
    mutable = name in getattr(m, "mutable_params", frozenset())
    kwargs: dict[str, Any] = {"initialize": values, "mutable": mutable, "within": Reals}
    if default is not None:
        kwargs["default"] = default
    if index is None:
        m.add_component(name, Param(**kwargs))
    else:
        m.add_component(name, Param(index, **kwargs))


def offer_label(s: Scenario, offer: str) -> str:
    """``Oracle / NVIDIA GPU / US-Texas`` for an offer."""
    o = s.offers[offer]
    return f"{s.hosts.get(o.host, o.host)} / {s.vendors.get(o.vendor, o.vendor)} {o.kind} / {o.region}"


def active_vintages(s: Scenario, offer: str, year: int) -> list[int]:
    """Build years whose capacity of ``offer`` is still in service in ``year``."""
    life = s.lifetime_yr[offer]
    first = s.offers[offer].first_year
    return [v for v in s.years if max(first, year - life + 1) <= v <= year]
