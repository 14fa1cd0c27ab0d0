"""Preparing a sweep (once, in this process): probe every key with the loader, compile and prove the fast plan."""
from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

from model.errors import InputErrors
from model.fastsolve import CaseDeriver, NotPolynomial, changed_params, check_plan_matches, compile_plan
from model.scenario import BaseInputs, Scenario, TargetSpec
from model.sweep.keys import SweepUsageError, Vary
from model.sweep.runner import SweepJob, one_line, plain_number


@dataclass
class Prepared:
    """The job plus what preparation found (for the manifest and the report)."""

    job: SweepJob
    notes: list[str]
    mutable: list[str]
    fast: bool
    seconds: float


def prepare(base: BaseInputs, fixed_sets: Sequence[str], target: TargetSpec, method: str, varies: Sequence[Vary],
            cases: Sequence[Mapping[str, float]], time_limit: float | None = None, rebuild: bool = False,
            log: Callable[[str], None] = lambda _: None, resolve_world: bool = False) -> Prepared:
    """Check every swept key against the loader, find the Params it moves, compile and prove the fast plan.

    Raises
    ------
    SweepUsageError
        When the loader refuses a key's low or high value (naming the option).
    """
    from model.build import SWEEPABLE_PARAMS

    t0 = time.perf_counter()
    notes: list[str] = []
    units = {v.key: v.unit for v in varies}
    factors = {v.key: v.to_canonical for v in varies}
    tmp = CaseDeriver(base, tuple(fixed_sets), target, units, factors, None, {}, resolve_world)   # loads only

    def load(values: Mapping[str, float]) -> Scenario:
        return tmp.exact(values)

    ref_values, reference = _reference(method, varies, load)
    log(f"reference case loaded ({time.perf_counter() - t0:.1f} s)")

    # each key at a few values: which Params the sweep moves (made mutable), and a proof of the compiled plan
    probes: dict[str, list[tuple[float, Scenario]]] = {}
    for v in varies:
        if v.distribution is not None:
            probes[v.key] = _probe_distribution(v, ref_values, reference, load)
            continue
        got: list[tuple[float, Scenario]] = []
        for x in _probe_points(v, ref_values):
            if v.key in ref_values and x == ref_values[v.key]:
                got.append((x, reference))
                continue
            try:
                got.append((x, load({**ref_values, v.key: x})))
            except InputErrors as exc:
                raise SweepUsageError(f"{v.option}: {plain_number(x)} {v.unit} is refused by the loader: "
                                      f"{one_line(exc)}".replace("  ", " ")) from None
        probes[v.key] = got
    log(f"each swept key loaded at 3 values ({time.perf_counter() - t0:.1f} s)")
    combos = [dict(cases[0]), dict(cases[-1])]
    for side in (0, -1):
        combo = {k: ps[side][0] for k, ps in probes.items() if ps}
        if combo and combo != ref_values:
            combos.append(combo)
    checked: list[Scenario] = []
    for case in list({json.dumps(c, sort_keys=True): c for c in combos}.values()):
        try:
            checked.append(tmp.exact(case))
        except InputErrors:
            continue
    deriver = CaseDeriver(base, tuple(fixed_sets), target, units, factors, reference, ref_values, resolve_world)

    # the fast plan: only the Params the keys move are mutable; prove the pushed LP equals a fresh build
    others = [s for ps in probes.values() for _, s in ps if s is not reference] + checked
    changed, reindexed = changed_params(reference, others)
    plan = reach = None
    if rebuild:
        notes.append("--rebuild: every case is loaded and built from scratch")
    elif reindexed:
        notes.append(f"the swept keys change the index of {', '.join(sorted(reindexed))}: every case is built "
                     "from scratch")
    elif changed - SWEEPABLE_PARAMS:
        notes.append(f"the swept keys change {', '.join(sorted(changed - SWEEPABLE_PARAMS))}, which cannot be "
                     "mutable: every case is built from scratch")
    else:
        try:
            plan = compile_plan(reference, changed, "min-cost", time_limit)
            # the combined cases move every key at once: a key that changes the model's shape shows there
            endpoints = checked or [s for key in probes for x, s in probes[key][::2] if s is not reference]
            diff = check_plan_matches(plan, endpoints, time_limit)
            if diff:
                notes.append(f"pushing a case's Params does not give a fresh build's LP ({diff}): the keys change "
                             "the model's structure, every case is built from scratch")
                plan = None
            else:
                reach = compile_plan(reference, changed, "reach", time_limit)
        except NotPolynomial as exc:
            notes.append(f"a coefficient is not a polynomial in the swept Params ({exc}): every case is built "
                         "from scratch")
            plan = None
    log(f"model built and compiled once, fast path {'proven' if plan else 'off'} ({time.perf_counter() - t0:.1f} s)")
    job = SweepJob(uuid.uuid4().hex, deriver, plan, reach, time_limit, tuple(reference.vendors))
    return Prepared(job, notes, sorted(changed), plan is not None, time.perf_counter() - t0)


def _reference(method: str, varies: Sequence[Vary],
               load: Callable[[Mapping[str, float]], Scenario]) -> tuple[dict[str, float], Scenario]:
    """The reference values of the swept keys (none for one-at-a-time, medians for Monte Carlo, else the lows)
    and the reference case loaded at them.

    Raises
    ------
    SweepUsageError
        Naming the key whose value the loader refuses (or saying the values together are refused).
    """
    if method == "oat":
        ref_values: dict[str, float] = {}
    elif method == "montecarlo":
        ref_values = {v.key: (v.distribution.quantile(0.5) if v.distribution else (v.low + v.high) / 2)
                      for v in varies}
    else:
        ref_values = {v.key: v.low for v in varies}
    try:
        return ref_values, load(ref_values)
    except InputErrors as exc:
        for v in varies:                                         # whose value is refused?
            if v.key in ref_values:
                try:
                    load({v.key: ref_values[v.key]})
                except InputErrors as one:
                    raise SweepUsageError(f"{v.option}: {plain_number(ref_values[v.key])} {v.unit} is refused by the "
                                          f"loader: {one_line(one)}".replace("  ", " ")) from None
        raise SweepUsageError(f"the swept values together are refused by the loader: {one_line(exc)}") from None


def _probe_distribution(v: Vary, ref_values: Mapping[str, float], reference: Scenario,
                        load: Callable[[Mapping[str, float]], Scenario]) -> list[tuple[float, Scenario]]:
    """Probes of a distribution: its median and, on each side, the widest quantile the loader accepts.

    Cases drawn beyond the probed interval go through the loader one by one
    (and are recorded as input errors if it refuses them).
    """
    median = ref_values[v.key]
    out: list[tuple[float, Scenario]] = []
    for side in ((0.001, 0.01, 0.05, 0.1, 0.25), (0.999, 0.99, 0.95, 0.9, 0.75)):
        for q in side:
            x = v.distribution.quantile(q)
            if x == median:
                break
            try:
                out.append((x, load({**ref_values, v.key: x})))
                break
            except InputErrors:
                continue
    if len(out) < 2:
        return []
    return [out[0], (median, reference), out[1]]


def _probe_points(v: Vary, ref_values: Mapping[str, float]) -> list[float]:
    """Three values to load a key at: its ends and a middle one (the reference value if inside)."""
    lo, hi = v.low, v.high
    mid = ref_values.get(v.key, (lo + hi) / 2)
    if not lo < mid < hi:
        mid = (lo + hi) / 2
    return [lo, mid, hi]
