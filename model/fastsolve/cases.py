"""A sweep case's inputs: its Scenario from the loader, and how two Scenarios differ."""
from __future__ import annotations

import math
from dataclasses import dataclass, fields, is_dataclass, replace
from typing import Any, Mapping

from model.fastsolve.lp import MATCH_RTOL, number_text
from model.scenario import BaseInputs, Scenario, TargetSpec, load_variant

#: Scenario fields that are records, not inputs of the model.
METADATA_FIELDS = ("name", "description", "overrides", "input_files")


class _Missing:
    """A path absent from a Scenario (a dict entry a key removes or adds)."""

    def __repr__(self) -> str:
        return "<missing>"

    def __reduce__(self):
        return (_missing, ())


def _missing() -> "_Missing":
    return MISSING


MISSING = _Missing()


def flatten(s: Scenario) -> dict[tuple, Any]:
    """Every input figure of ``s`` by path: ``("pue", ("US-Texas", 2030))``, ``("deals", 3, "min_gw")``, ..."""
    out: dict[tuple, Any] = {}
    for f in fields(s):
        if f.name not in METADATA_FIELDS:
            flatten_fields(getattr(s, f.name), (f.name,), out)
    return out


def flatten_fields(v: Any, path: tuple, out: dict[tuple, Any]) -> None:
    if is_dataclass(v):
        for f in fields(v):
            flatten_fields(getattr(v, f.name), path + (f.name,), out)
    elif isinstance(v, dict):
        for k, x in v.items():
            flatten_fields(x, path + (k,), out)
    elif isinstance(v, tuple) and v and is_dataclass(v[0]):
        for i, x in enumerate(v):
            flatten_fields(x, path + (i,), out)
    else:
        out[path] = v


def same_value(a: Any, b: Any) -> bool:
    if a is MISSING or b is MISSING:
        return a is b
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    return type(a) is type(b) and a == b


def _close(a: Any, b: Any) -> bool:
    return math.isclose(a, b, rel_tol=MATCH_RTOL, abs_tol=1e-12)


def scenario_difference(a: Scenario, b: Scenario) -> str:
    """The first input figure where ``a`` and ``b`` differ (within :data:`MATCH_RTOL`), or ``""``."""
    fa, fb = flatten(a), flatten(b)
    for path in sorted(set(fa) | set(fb), key=repr):
        x, y = fa.get(path, MISSING), fb.get(path, MISSING)
        if isinstance(x, float) and isinstance(y, float):
            if not _close(x, y):
                return f"{'.'.join(map(str, path))}: {number_text(x)} vs {number_text(y)}"
        elif not same_value(x, y):
            return f"{'.'.join(map(str, path))}: {number_text(x)} vs {number_text(y)}"
    return ""


@dataclass(frozen=True)
class CaseDeriver:
    """The Scenario of a sweep case, from the loader: every case passes the validation run.py applies.

    Parameters
    ----------
    base : BaseInputs
        The files, read once.
    fixed_sets : tuple of str
        ``--set`` assignments every case shares.
    target : TargetSpec
        The base target (``--target``, ``--year``).
    units : dict
        key -> unit text of the key's values (as the loader reads them).
    to_canonical : dict
        key -> factor from that unit to the model's unit.
    reference : Scenario
        The loader's Scenario for ``reference_values`` (the plan is compiled for it).
    reference_values : dict
        The swept values the reference was loaded with (empty: the base).
    resolve_world : bool
        Re-solve the world for each case, as run.py does (``--resolve-world``); by default every case holds
        the shares ``base`` holds.

    Notes
    -----
    An earlier version patched a case's Scenario from fits of each key made
    before the sweep, checking each key's range alone: a case breaking a rule
    between values (a deal's minimum above its maximum) was solved although
    run.py refuses it. The loader is cheap enough now (unit texts are parsed
    once per process, :func:`model.units.unit_cell`) to run for every case.
    """

    base: BaseInputs
    fixed_sets: tuple[str, ...]
    target: TargetSpec
    units: dict[str, str]
    to_canonical: dict[str, float]
    reference: Scenario | None
    reference_values: dict[str, float]
    resolve_world: bool = False      # re-solve the world for each case (run.py's shares; about a second a case)

    def loader_inputs(self, values: Mapping[str, float]) -> tuple[list[str], TargetSpec]:
        """The ``--set`` assignments and target the loader gets for ``values``."""
        sets = list(self.fixed_sets)
        target = self.target
        for key, v in values.items():
            text = f"{float(v)!r} {self.units[key]}".strip()
            if key == "target":
                target = replace(target, text=text)
            else:
                sets.append(f"{key}={text}")
        return sets, target

    def exact(self, values: Mapping[str, float]) -> Scenario:
        """The loader's Scenario for ``values`` (key -> value in the key's unit).

        Raises
        ------
        InputErrors
            When the loader refuses the case's values, as run.py would.
        """
        sets, target = self.loader_inputs(values)
        # every case holds the shares self.base holds (the world re-solved once for the sweep's own --set and
        # scenario); with resolve_world (--resolve-world) a case's shares are the world re-solved for it, as
        # run.py's are (about a second a case, kept per process)
        return load_variant(self.base, sets, target, world_allocation=self.resolve_world)

    def derive(self, values: Mapping[str, float]) -> tuple[Scenario, str]:
        """The case's Scenario and how it was made (always ``"loader"``)."""
        return self.exact(values), "loader"


def target_kind(s: Scenario) -> tuple[str, int, str]:
    """(kind, year, basis) of ``s``'s main target."""
    t = s.main_target
    year = min(x.year for x in s.targets if x.main)
    return t.kind, year, getattr(t, "basis", "it")
