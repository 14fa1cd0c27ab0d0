"""The swept keys: ``--vary KEY=LOW:HIGH[UNIT]`` and ``--distributions FILE``, checked against the catalogue."""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

from model.errors import InputError, InputErrors
from model.sensitivity import DISTRIBUTIONS, Distribution


class SweepUsageError(ValueError):
    """A sweep option is wrong; the message names it. Nothing has run (exit code 2)."""


@dataclass(frozen=True)
class Vary:
    """One swept input: its key, the unit its values are in, and their range or distribution.

    ``low``/``high`` are in ``unit`` (for a distribution: the range its
    probes were taken over). ``to_canonical`` converts a value to the model's
    unit (``canonical_unit``).
    """

    key: str
    option: str
    unit: str
    canonical_unit: str
    to_canonical: float
    low: float
    high: float
    distribution: Distribution | None = None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"key": self.key, "unit": self.unit or "dimensionless", "option": self.option}
        if self.distribution is None:
            out.update(low=self.low, high=self.high)
        else:
            out.update(distribution=self.distribution.kind, **self.distribution.params)
        return out


def _unit_text(q: Any) -> str:
    """How a quantity's unit is written back for the loader ('' for a plain number)."""
    from model.units import ureg

    if q.units == ureg.dimensionless:
        return ""
    return f"{q.units:~C}"


def key_dimensions(key: str, catalogue: Any, option: str) -> list[tuple[Any, str]]:
    """The (dimensionality, model unit) pairs a key's values may have.

    Raises
    ------
    SweepUsageError
        For an unknown key, a qualifier on a key without one, or a switch.
    """
    from model.units import COMPUTE, POWER, ureg

    base, dot, member = key.partition(".")
    if base == "target":
        if dot:
            raise SweepUsageError(f"{option}: 'target' takes no '.NAME' qualifier")
        return [(POWER, "GW"), (COMPUTE, "EFLOP/s")]
    from model.inputs.allocation import WORLD_SET_KEYS

    if base in WORLD_SET_KEYS:
        raise SweepUsageError(f"{option}: '{base}' moves another buyer of the world; sweep the world, whose "
                              f"cases give every buyer's capacity and shares, this one's included: "
                              f"python run.py sweep --world {option}")
    if base not in catalogue.settable:
        raise SweepUsageError(f"{option}: unknown key '{base}'; expected 'target' or one of "
                              + ", ".join(sorted(catalogue.settable)) + " (inputs/parameters.yaml, settable)")
    spec = catalogue.settable[base]
    if dot and not spec.qualifier:
        raise SweepUsageError(f"{option}: '{base}' takes no '.NAME' qualifier (it applies everywhere)")
    if dot and not member:
        raise SweepUsageError(f"{option}: expected a {spec.qualifier} after '{base}.'")
    if spec.mode == "scale":
        return [(ureg.Unit("dimensionless").dimensionality, "")]
    if spec.mode != "set":
        raise SweepUsageError(f"{option}: '{base}' is a {spec.mode} ({spec.mode} keys cannot be varied over a range)")
    return list(catalogue.parameters[spec.parameter].alternatives)


def _match_dimension(q: Any, dims: list[tuple[Any, str]], option: str, field_name: str = "unit") -> str:
    from model.units import describe, dimension_name, ureg

    for dim, unit in dims:
        if q.dimensionality == dim:
            return unit
    words = " or ".join(f"{dimension_name(ureg.Unit(u) if u else ureg.Unit('dimensionless'))} (e.g. {u or '1.2'})"
                        for _, u in dims)
    raise SweepUsageError(f"{option}: expected {words}, found {describe(q)}")


def _dimension_words(dims: list[tuple[Any, str]]) -> str:
    """``money per energy (e.g. USD/MWh)``: what a key's values may be measured in."""
    from model.units import dimension_name, ureg

    return " or ".join(f"{dimension_name(ureg.Unit(u) if u else ureg.Unit('dimensionless'))} (e.g. {u or '1.2'})"
                       for _, u in dims)


def parse_vary(text: str, catalogue: Any) -> Vary:
    """Read ``KEY=LOW:HIGH[UNIT]`` (``pue=1.1:1.5``, ``electricity_price=60:120USD/MWh``, ``target=200:300GW``).

    The unit may follow each number or only the last one (then both share it).

    Raises
    ------
    SweepUsageError
        Naming the option: bad syntax, unknown key, wrong dimension, low above high.
    """
    from model.units import Q_, UnitParseError, parse_quantity

    option = f"--vary {text}"
    if "=" not in text:
        raise SweepUsageError(f"{option}: expected KEY=LOW:HIGH[UNIT] (e.g. pue=1.1:1.2, "
                              "electricity_price=60:120USD/MWh, target=200:300GW)")
    key, rng = (x.strip() for x in text.split("=", 1))
    dims = key_dimensions(key, catalogue, option)
    if ":" not in rng:
        raise SweepUsageError(f"{option}: expected LOW:HIGH after '=' (e.g. {key}=1:2), found {rng!r}")
    low_text, high_text = (x.strip() for x in rng.split(":", 1))
    try:
        high = parse_quantity(high_text)
    except UnitParseError as exc:
        raise SweepUsageError(f"{option}: HIGH {exc}") from None
    try:
        low = Q_(float(low_text), high.units)
    except ValueError:
        try:
            low = parse_quantity(low_text)
        except UnitParseError as exc:
            raise SweepUsageError(f"{option}: LOW {exc}") from None
    canonical = _match_dimension(high, dims, option)
    if low.dimensionality != high.dimensionality:
        raise SweepUsageError(f"{option}: LOW and HIGH must have the same dimension")
    lo, hi = float(low.to(high.units).magnitude), float(high.magnitude)
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise SweepUsageError(f"{option}: expected finite numbers")
    if lo > hi:
        raise SweepUsageError(f"{option}: LOW ({lo:g}) is above HIGH ({hi:g})")
    factor = float(Q_(1.0, high.units).to(canonical or "dimensionless").magnitude)
    return Vary(key, option, _unit_text(high), canonical, factor, lo, hi)


def _read_distributions_file(path: Path) -> dict[str, Any]:
    """The YAML mapping of a distributions file; refused (file and line) when unreadable, invalid or empty."""
    import yaml

    shown = str(path)
    try:
        doc = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputErrors([InputError(shown, 1, "-", "a readable YAML file", str(exc))]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputErrors([InputError(shown, mark.line + 1 if mark else 1, "-", "valid YAML",
                                      str(exc).splitlines()[0])]) from None
    if not isinstance(doc, dict) or not doc:
        raise InputErrors([InputError(shown, 1, "-", "a mapping of key: {distribution: ..., ...}",
                                      type(doc).__name__)])
    return doc


def _first_unit(entry: Mapping[str, Any], scaled: Sequence[str]) -> tuple[str, str, str] | None:
    """(unit, field, text) of the first value of an entry written with a unit (``mean: 60 USD/MWh``), or None."""
    from model.units import UnitParseError, parse_quantity, ureg

    for name in scaled:
        v = entry.get(name)
        if isinstance(v, str):
            try:
                first = parse_quantity(v)
            except UnitParseError:
                continue
            if first.units != ureg.dimensionless:
                return f"{first.units}", name, repr(v)
    return None


def _distribution_numbers(entry: Mapping[str, Any], kind: str, scaled: Sequence[str], q: Any, words: str,
                          where: tuple[str, str], errors: list[InputError]) -> dict[str, float]:
    """The numbers of one distribution entry in the entry's unit ``q``; each bad one is added to ``errors``."""
    from model.units import UnitParseError, dimension_name, parse_quantity, ureg

    shown, key = where
    params: dict[str, float] = {}
    for name in DISTRIBUTIONS[kind]:
        v = entry.get(name)
        if isinstance(v, str) and name in scaled:
            try:
                value_q = parse_quantity(v)
            except UnitParseError:
                value_q = None
            if value_q is not None and value_q.units == ureg.dimensionless:
                v = float(value_q.magnitude)         # a plain number: in the entry's unit
            elif value_q is not None and value_q.dimensionality == q.dimensionality:
                v = float(value_q.to(q.units).magnitude)
            else:
                found = repr(v) if value_q is None else f"{v!r} ({dimension_name(value_q)})"
                errors.append(InputError(shown, key, name, f"a number or a value in {words}", found))
                continue
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            errors.append(InputError(shown, key, name, f"a number for the {kind} distribution", repr(v)))
        else:
            params[name] = float(v)
    return params


def parse_distributions(path: Path, catalogue: Any) -> list[Vary]:
    """Read a Monte Carlo distributions file.

    One entry per key, e.g.::

        electricity_price: {distribution: triangular, low: 60, mode: 80, high: 120, unit: USD/MWh}
        pue: {distribution: normal, mean: 1.3, sd: 0.05}
        supply_growth.nvidia: {distribution: uniform, low: 20, high: 40, unit: percent}
        target: {distribution: lognormal, median: 250, sigma: 0.1, unit: GW}

    ``lognormal`` takes the median and the standard deviation of the
    logarithm (a plain number). ``unit`` may be left out for plain numbers.
    A value may carry its own unit (``mean: 60 USD/MWh``, ``low: 20%``): it
    is converted to the entry's ``unit`` (or, without one, to the unit of
    its first value that has one); a value of another dimension is refused.

    Raises
    ------
    InputErrors
        Naming the file, the key and the field of every problem.
    """
    from model.units import Q_, UnitParseError, dimension_name, parse_quantity

    shown = str(path)
    doc = _read_distributions_file(path)
    errors: list[InputError] = []
    out: list[Vary] = []
    for key, entry in doc.items():
        key = str(key)
        option = f"{shown}, key {key}"
        if not isinstance(entry, dict):
            errors.append(InputError(shown, key, key, "a mapping with 'distribution' and its numbers", repr(entry)))
            continue
        kind = entry.get("distribution")
        if kind not in DISTRIBUTIONS:
            errors.append(InputError(shown, key, "distribution", "one of " + ", ".join(DISTRIBUTIONS), repr(kind)))
            continue
        try:
            dims = key_dimensions(key, catalogue, option)
        except SweepUsageError as exc:
            errors.append(InputError(shown, key, key, "a settable key or 'target'", str(exc).split(": ", 1)[-1]))
            continue
        unit_text = str(entry.get("unit", "") or "").strip()
        scaled = [n for n in DISTRIBUTIONS[kind] if not (kind == "lognormal" and n == "sigma")]  # sigma: log space
        unit_field, unit_shown = "unit", repr(unit_text)
        if not unit_text:               # no 'unit': the unit of the first value written with one ("60 USD/MWh")
            unit_text, unit_field, unit_shown = _first_unit(entry, scaled) or (unit_text, unit_field, unit_shown)
        words = _dimension_words(dims)
        try:
            q = parse_quantity(f"1 {unit_text}" if unit_text else "1")
        except UnitParseError:
            errors.append(InputError(shown, key, "unit", words, unit_shown))
            continue
        try:
            canonical = _match_dimension(q, dims, option)
        except SweepUsageError:
            errors.append(InputError(shown, key, unit_field, words, f"{unit_shown} ({dimension_name(q)})"))
            continue
        params = _distribution_numbers(entry, kind, scaled, q, words, (shown, key), errors)
        unknown = set(entry) - set(DISTRIBUTIONS[kind]) - {"distribution", "unit", "source", "note"}
        for name in sorted(unknown):
            errors.append(InputError(shown, key, name, f"only {', '.join(DISTRIBUTIONS[kind])}, unit, source, note",
                                     repr(name)))
        if len(params) < len(DISTRIBUTIONS[kind]):
            continue
        dist = Distribution(kind, params)
        for problem in dist.problems():
            errors.append(InputError(shown, key, kind, problem.split(" (")[0], problem))
        if dist.problems():
            continue
        unit = _unit_text(q)
        factor = float(Q_(1.0, q.units).to(canonical or "dimensionless").magnitude)
        out.append(Vary(key, option, unit, canonical, factor, dist.quantile(0.01), dist.quantile(0.99), dist))
    if errors:
        raise InputErrors(errors)
    return out
