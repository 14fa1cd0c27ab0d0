"""The parameter catalogue (``inputs/parameters.yaml``): every parameter's dims, dimension, range and default, and the ``--set`` keys."""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from model.errors import InputError, InputErrors
from model.inputs.tables import display_path
from model.units import PARSER_ERRORS, ureg


@dataclass(frozen=True)
class ParameterSpec:
    """One entry of ``inputs/parameters.yaml``.

    ``alternatives`` pairs each allowed dimensionality with the model unit a
    value of that dimension is converted to (``[("[power]", "GW")]``).
    """

    name: str
    file: str
    alternatives: tuple[tuple[Any, str], ...]
    minimum: float | None
    maximum: float | None
    default: float | None
    default_source: str
    description: str
    in_file: str = ""       # the name rows use in the `parameter` column (default: ``name``)

    @property
    def row_name(self) -> str:
        return self.in_file or self.name

    @property
    def expected(self) -> str:
        """Plain words for the allowed units, e.g. ``a power (e.g. GW)``."""
        from model.units import dimension_name

        parts = ["a plain number (unit 'dimensionless' or '%')" if ureg.Unit(u).dimensionless
                 else f"{_article(dimension_name(ureg.Unit(u)))} (e.g. {u})" for _, u in self.alternatives]
        return " or ".join(parts)


def _article(name: str) -> str:
    return name if name.startswith("a ") else f"a {name}"


@dataclass(frozen=True)
class Settable:
    """A key ``--set KEY[.NAME]=VALUE`` accepts."""

    key: str
    parameter: str
    qualifier: str | None
    mode: str  # "set" or "scale"
    also: tuple[str, ...] = ()   # scale: further parameters of the same file scaled with it


@dataclass(frozen=True)
class Catalogue:
    parameters: dict[str, ParameterSpec]
    settable: dict[str, Settable]

    def for_file(self, file: str) -> dict[str, ParameterSpec]:
        """The parameters a file may hold, by the name its rows use."""
        return {p.row_name: p for p in self.parameters.values() if p.file == file}


def load_catalogue(path: Path) -> Catalogue:
    """Read ``parameters.yaml`` into a :class:`Catalogue`."""
    try:
        # libyaml's safe loader when present: the same documents, ~10x faster (the catalogue is read on every load)
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except (OSError, UnicodeDecodeError) as exc:
        raise InputErrors([InputError(display_path(path), 1, "-", "a readable YAML catalogue", str(exc))]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputErrors([InputError(display_path(path), mark.line + 1 if mark else 1, "-",
                                      "a readable YAML catalogue (valid YAML)", str(exc).splitlines()[0])]) from None
    problems = _catalogue_problems(raw, display_path(path))
    if problems:
        raise InputErrors(problems)
    params: dict[str, ParameterSpec] = {}
    for name, entry in (raw.get("parameters") or {}).items():
        dims = [d.strip() for d in str(entry["dimension"]).split(" or ")]
        units = [u.strip() for u in str(entry["unit"]).split(" or ")]
        alternatives = tuple(
            ((ureg.Unit("dimensionless").dimensionality if d == "dimensionless" else ureg.get_dimensionality(d)), u)
            for d, u in zip(dims, units)
        )
        params[name] = ParameterSpec(
            name=name,
            file=entry["file"],
            alternatives=alternatives,
            minimum=entry.get("min"),
            maximum=entry.get("max"),
            default=entry.get("default"),
            default_source=entry.get("default_source", ""),
            description=entry.get("description", ""),
            in_file=entry.get("name_in_file", ""),
        )
    settable = {
        key: Settable(key, v["parameter"], v.get("qualifier"), v.get("mode", "set"), tuple(v.get("also") or ()))
        for key, v in (raw.get("settable") or {}).items()
    }
    return Catalogue(params, settable)


def _catalogue_problems(raw: Any, shown: str) -> list[InputError]:
    """Check the shape of ``parameters.yaml`` before it is read, so a malformed entry is named, not a traceback.

    Every ``parameters`` entry needs ``file``, ``dimension`` and ``unit`` (with as
    many units as dimensions, each dimension known to pint); every ``settable``
    entry needs a ``parameter`` that the catalogue defines.
    """
    if not isinstance(raw, dict):
        return [InputError(shown, 1, "-", "a mapping with 'parameters' and 'settable'", type(raw).__name__)]
    out: list[InputError] = []
    params = raw.get("parameters") or {}
    if not isinstance(params, dict):
        return [InputError(shown, "parameters", "parameters", "a mapping of parameter name: entry",
                           type(params).__name__)]
    for name, entry in params.items():
        where = f"parameters.{name}"
        if not isinstance(entry, dict):
            out.append(InputError(shown, where, str(name), "a mapping with file, dimension and unit",
                                  type(entry).__name__))
            continue
        missing = [k for k in ("file", "dimension", "unit") if not entry.get(k)]
        if missing:
            out.append(InputError(shown, where, missing[0], "a value", "none"))
            continue
        dims = [d.strip() for d in str(entry["dimension"]).split(" or ")]
        units = [u.strip() for u in str(entry["unit"]).split(" or ")]
        if len(dims) != len(units):
            out.append(InputError(shown, where, "unit", f"one unit per dimension ({len(dims)})", repr(entry["unit"])))
            continue
        for d, u in zip(dims, units):
            try:
                dim = ureg.Unit("dimensionless").dimensionality if d == "dimensionless" else ureg.get_dimensionality(d)
                if ureg.Unit(u).dimensionality != dim:
                    raise ValueError(f"{u} is not {d}")
            except PARSER_ERRORS as exc:  # pint raises several types for bad text (ValueError, TokenError, ...)
                out.append(InputError(shown, where, "dimension", "a pint dimension and a unit of it",
                                      f"{d} / {u} ({type(exc).__name__}: {exc})"))
        for k in ("min", "max", "default"):
            v = entry.get(k)
            if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v)):
                out.append(InputError(shown, where, k, "a finite number or nothing", repr(v)))
    settable = raw.get("settable") or {}
    if not isinstance(settable, dict):
        return out + [InputError(shown, "settable", "settable", "a mapping of key: entry", type(settable).__name__)]
    for key, entry in settable.items():
        if not isinstance(entry, dict) or entry.get("parameter") not in params:
            out.append(InputError(shown, f"settable.{key}", "parameter", "the name of a parameter in 'parameters'",
                                  repr(entry.get("parameter") if isinstance(entry, dict) else entry)))
            continue
        for extra in entry.get("also") or ():
            if extra not in params or params[extra].get("file") != params[entry["parameter"]].get("file"):
                out.append(InputError(shown, f"settable.{key}", "also",
                                      f"parameters of {params[entry['parameter']].get('file')} in 'parameters'",
                                      repr(extra)))
    return out
