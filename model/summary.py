"""Reading what a result set says: headline figures of ``summary.json`` and recorded overrides.

Shared by the pages, ``compare``, ``verify`` and the terminal, so that each
reads a summary the same way. Nothing here imports a higher module.
"""
from __future__ import annotations

import ast
from typing import Any, Iterable

from model.units import UnitParseError, parse_quantity


#: Summary keys that are prose or lists, not headline figures (binding limits are compared apart).
NOT_FIGURES = ("message", "binding", "limits_on_reach", "conflicts")


def is_figure(x: Any) -> bool:
    """A ``{"value", "unit"}`` leaf of a summary (its value a number, word or None, not a table)."""
    return isinstance(x, dict) and "value" in x and "unit" in x and not isinstance(x["value"], (dict, list))


def flatten_summary(summary: dict[str, Any]) -> dict[str, tuple[Any, str]]:
    """Headline figures by dotted key: ``{"capacity_by_vendor.nvidia": (140.7, "GW"), ...}``.

    ``{"value", "unit"}`` leaves keep their unit (their other fields, such as
    ``year``, become ``key.field`` with the unit ``""``); plain scalars
    (``status``, ``target_year``) get the unit ``""``; prose and lists
    (:data:`NOT_FIGURES`) are left out.

    Examples
    --------
    >>> flatten_summary({"status": "optimal", "target": {"value": 2.0, "unit": "GW"},
    ...                  "capacity_by_vendor": {"acme": {"value": 1.0, "unit": "GW"}}})
    {'status': ('optimal', ''), 'target': (2.0, 'GW'), 'capacity_by_vendor.acme': (1.0, 'GW')}
    """
    out: dict[str, tuple[Any, str]] = {}

    def walk(prefix: str, v: Any) -> None:
        if is_figure(v):
            out[prefix] = (v["value"], str(v["unit"]))
            for k, extra in v.items():   # what a figure says about itself: its year, basis, ...
                if k not in ("value", "unit") and isinstance(extra, (str, int, float, bool)):
                    out[f"{prefix}.{k}"] = (extra, "")
        elif isinstance(v, dict):
            for k, sub in v.items():
                walk(f"{prefix}.{k}", sub)
        elif isinstance(v, (str, int, float, bool)) or v is None:
            out[prefix] = (v, "")

    for key, v in summary.items():
        if key not in NOT_FIGURES:
            walk(key, v)
    return out


def override_entries(overrides: Iterable[Any]) -> list[dict[str, str]]:
    """Each recorded override as ``key``, ``value``, ``unit``, ``action``, ``origin``, ``source``.

    ``overrides`` are :class:`model.inputs.Override` objects or their manifest dicts.
    ``set`` and ``scale`` keep their ``--set`` key (``pue.US-Texas``); table edits
    are keyed by file and row selector (``offers.csv[offer=x]``). Keys are unique:
    a repeated one gets `` #2``, `` #3``.
    """
    out: list[dict[str, str]] = []
    seen: dict[str, int] = {}
    for o in overrides:
        d = o if isinstance(o, dict) else o.__dict__
        action, target, detail = str(d.get("action", "")), str(d.get("target", "")), str(d.get("detail", ""))
        value, unit = detail, ""
        if action == "set":
            value, unit = split_quantity(detail)
        elif action == "scale":
            value, unit = detail.replace("x ", "× ", 1), "factor"
        elif action in ("replace", "drop"):
            cond_text, _, values_text = detail.partition(" -> ")
            try:
                cond = ast.literal_eval(cond_text)
                target = f"{target}[{', '.join(f'{k}={v}' for k, v in cond.items())}]"
            except (ValueError, SyntaxError, AttributeError):
                target = f"{target}[{cond_text}]"
            if action == "drop":
                value = "dropped"
            else:
                try:
                    values = ast.literal_eval(values_text)
                    unit = str(values.pop("unit", "")) if isinstance(values, dict) else ""
                    if isinstance(values, dict) and set(values) == {"value"}:
                        value = str(values["value"])
                    elif isinstance(values, dict):
                        value = ", ".join(f"{k}={v}" for k, v in values.items())
                    else:
                        value = values_text
                except (ValueError, SyntaxError):
                    value = values_text
        elif action == "add":
            value = f"+{detail}"
            target = f"{target} (added rows)"
        seen[target] = seen.get(target, 0) + 1
        key = target if seen[target] == 1 else f"{target} #{seen[target]}"
        out.append({"key": key, "value": value, "unit": unit, "action": action,
                    "origin": str(d.get("origin", "")), "source": str(d.get("source", ""))})
    return out


def split_quantity(text: str) -> tuple[str, str]:
    """``'70.7 USD/MWh'`` -> ``('70.7', 'USD/MWh')``; text that is no quantity stays whole."""
    try:
        q = parse_quantity(text)
    except UnitParseError:
        return text, ""
    unit = "" if q.dimensionless and str(q.units) == "dimensionless" else f"{q.units:~C}"
    return f"{q.magnitude:g}", unit
