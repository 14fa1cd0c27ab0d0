"""The headline with its range: every ranged input moved to its low and high (one at a time, then jointly).

The ranges are the rows of ``inputs/ranges.csv`` (:mod:`model.inputs.ranges`). Each variant is loaded
through the override path and validated as ``run.py`` validates a run; it is then re-solved warm on the
compiled plan (:mod:`model.fastsolve`) when it moves only numbers the plan can take, and built from
scratch otherwise (a longer horizon, another lifetime or lead time). Both objectives are read for every
variant: the largest reachable capacity (or compute) in the target year, and the total discounted cost of
the plan for the target (for the largest reachable figure where the target is missed).
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

from model.inputs.ranges import InputRange, change_for, combined
from model.scenario import BaseInputs, Scenario, TargetSpec

#: Entries moving the headline (and the other objective) by less than this share of it are dropped.
DROP_SHARE = 0.005
#: Why a variant has no answer when even its largest reachable figure has no plan.
NO_PLAN = ("no plan: the inputs contradict each other there (deal minimums, scheduled deliveries or "
           "money beyond what is left)")
#: Joint sample: Latin-hypercube cases over the inputs that move the headline, and its fixed seed.
JOINT_CASES = 48
JOINT_SEED = 20261202


@dataclass
class Answer:
    """One variant's two objectives: total cost (USD) and largest reachable figure (GW or EFLOP/s)."""

    cost: float | None
    reach: float | None
    path: str = "fast"            # fast | rebuild | refused
    note: str = ""
    target_met: bool | None = None


@dataclass
class Variant:
    """A range at one end (or a joint case): its Scenario, Param values and how it is solved."""

    scenario: Scenario | None
    refused: str = ""
    values: dict[str, dict] = field(default_factory=dict)
    changed: set[str] = field(default_factory=set)
    rebuild: str = ""


def load(base: BaseInputs, sets: Sequence[str], target: TargetSpec, changes: Sequence[tuple[list[str], dict]],
         ref_values: Mapping[str, Mapping]) -> Variant:
    """Load a variant through the override path and compare its Params with the run's."""
    from model.build import SWEEPABLE_PARAMS, param_values
    from model.errors import InputErrors
    from model.scenario import load_variant

    extra_sets, docs = combined(changes)
    try:
        s = load_variant(base, [*sets, *extra_sets], target,
                         [("ranges", "inputs/ranges.csv", {**d, "source": "inputs/ranges.csv"}) for d in docs],
                         world_allocation=False)     # the run's shares held (headline_pass)
    except InputErrors as exc:
        first = exc.errors[0] if exc.errors else exc
        return Variant(None, refused=f"refused by the loader: {first}")
    values = param_values(s)
    v = Variant(s, values=values)
    for name in set(values) | set(ref_values):
        a, b = ref_values.get(name, {}), values.get(name, {})
        if set(a) != set(b):
            v.rebuild = f"it changes the index of Param {name}"
        elif any(a[k] != b[k] for k in a):
            v.changed.add(name)
    frozen = sorted(v.changed - SWEEPABLE_PARAMS)
    if frozen and not v.rebuild:
        v.rebuild = f"it changes Param {frozen[0]}, which cannot be mutable"
    return v


class Solver:
    """Both objectives of a variant: warm on compiled plans where it can, a fresh build otherwise."""

    def __init__(self, s: Scenario, mutable: set[str], missed: bool, time_limit: float | None) -> None:
        self.s, self.missed, self.time_limit = s, missed, time_limit
        self.mutable = set(mutable)
        self.reach_plan = self.cost_plan = None
        self.how = "each variant built and solved"
        self.proof = ""
        try:
            from model.fastsolve import HighsPlan, compile_plan

            self.reach_plan = HighsPlan(compile_plan(s, sorted(mutable), "reach", time_limit), time_limit)
            if not missed:
                self.cost_plan = HighsPlan(compile_plan(s, sorted(mutable), "min-cost", time_limit), time_limit)
            self.how = ("re-solved warm in HiGHS from the run's optimal basis with only the moved coefficients, "
                        "bounds and costs changed")
        except Exception as exc:  # noqa: BLE001 -- the fast path is an optimisation: any failure to compile it
            self.reach_plan = self.cost_plan = None            # is recorded in the method, and every variant is
            self.how = ("each variant built and solved (the fast path could not be compiled: "   # built afresh
                        f"{type(exc).__name__}: {str(exc)[:200]})")

    def differs(self, s: Scenario) -> str:
        """What differs between the LP the compiled plan gives for ``s``'s Params and a fresh build of ``s``."""
        from model.fastsolve import check_plan_matches

        return check_plan_matches(self.reach_plan.a, [s], self.time_limit, "reach") if self.reach_plan else ""

    def __call__(self, v: Variant) -> Answer:
        if v.scenario is None:
            return Answer(None, None, "refused", v.refused)
        if self.reach_plan is None or v.rebuild or not v.changed <= self.mutable:
            return self.rebuild(v.scenario, v.rebuild)
        p = self.reach_plan
        p.reset()
        p.set_params(p.param_vector(v.values))
        rr = p.solve_reach()
        if rr.status in ("infeasible", "infeasible_or_unbounded"):
            return Answer(None, None, "fast", NO_PLAN)
        if rr.status != "optimal":
            return self.rebuild(v.scenario, "the fast path found no plan")
        reach = rr.max_reachable
        cost = rr.objective_bnusd * 1e9 if math.isfinite(rr.objective_bnusd) else None
        met = None
        if self.cost_plan is not None:
            c = self.cost_plan
            c.reset()
            c.set_params(c.param_vector(v.values))
            cs = c.solve_min_cost()
            met = cs.status == "optimal"
            if met:
                cost = cs.objective_bnusd * 1e9
        return Answer(cost, reach, "fast", target_met=met)

    def rebuild(self, s: Scenario, why: str) -> Answer:
        from model.solve import solve_plan

        o = solve_plan(s, "max-capacity", self.time_limit)
        if not o.has_plan:
            return Answer(None, None, "rebuild", NO_PLAN if o.status == "infeasible" else f"no plan: {o.message}")
        cost, met = o.objective_bnusd * 1e9, None
        if not self.missed:
            m = solve_plan(s, "min-cost", self.time_limit)
            met = m.status == "optimal"
            if met:
                cost = m.objective_bnusd * 1e9
        return Answer(cost, o.max_reachable, "rebuild", why, met)


def not_proven(group: list[InputRange], end: str, solver: Solver, combo: Any, depth: int = 0) -> list[InputRange]:
    """The ranges of ``group`` whose ``end`` the compiled plan does not reproduce (a fresh build differs).

    The whole group is proven at once; a group that differs (or cannot be loaded together) is split in
    halves until the inputs that differ are found alone (a few fresh builds each).
    """
    if not group or solver.reach_plan is None:
        return []
    v = combo(group)
    if v.scenario is not None and not v.rebuild and not solver.differs(v.scenario):
        return []
    if len(group) == 1:
        return group if v.scenario is not None and not v.rebuild else []
    if depth > 8:
        return group
    half = len(group) // 2
    return (not_proven(group[:half], end, solver, combo, depth + 1)
            + not_proven(group[half:], end, solver, combo, depth + 1))


def headline_of(a: Answer, missed: bool) -> float | None:
    return a.reach if missed else a.cost


def _swing(a: float | None, b: float | None) -> float | None:
    return abs(b - a) if a is not None and b is not None else None


def _value_text(r: InputRange, x: float) -> str:
    from model.fmt import is_share_key, percent, quantity, sig

    if r.unit in ("dimensionless", "") and is_share_key(r.parameter):
        return percent(x, 6)        # a share (a capacity credit, the terminal debt growth): 10 %, not 0.1
    if r.unit == "x":
        return f"x {sig(x, 6)}"
    if r.unit == "year":            # a calendar year that replaces one (horizon.csv's last_year), not a duration
        return f"{x:.0f}"
    if r.unit.startswith("+"):
        return f"{'+' if x >= 0 else '-'}{quantity(abs(x), r.unit[1:], 6)}"
    return quantity(x, r.unit, 6)


def one_at_a_time(ranges: Sequence[InputRange], answers: Mapping[tuple[int, str], Answer], base: Answer,
                  missed: bool, unit: str) -> tuple[list[dict[str, Any]], int]:
    """Each range's row (both objectives at each end, the swings), ranked by the headline's swing; and
    how many were dropped for moving nothing (< :data:`DROP_SHARE` of either objective)."""
    rows, dropped = [], 0
    for r in ranges:
        lo, hi = answers[(r.line, "low")], answers[(r.line, "high")]
        swing_reach, swing_cost = _swing(lo.reach, hi.reach), _swing(lo.cost, hi.cost)
        row: dict[str, Any] = {
            "key": r.key, "label": r.label, "low": r.low, "high": r.high, "unit": r.unit,
            "low_text": _value_text(r, r.low), "high_text": _value_text(r, r.high), "reason": r.reason,
            "source": r.source, "ranges_line": r.line,
            "cost_low": lo.cost, "cost_high": hi.cost, "capacity_low": lo.reach, "capacity_high": hi.reach,
            "swing_capacity": swing_reach, "swing_cost": swing_cost, "capacity_unit": unit,
            "path": lo.path if lo.path == hi.path else f"{lo.path}/{hi.path}"}
        ends = [(e, a) for e, a in (("low", lo), ("high", hi)) if headline_of(a, missed) is None]
        h_base, h_lo, h_hi = headline_of(base, missed), headline_of(lo, missed), headline_of(hi, missed)
        if ends:
            known = [x for x in (h_lo, h_hi) if x is not None]
            row["swing"] = abs(known[0] - h_base) if known and h_base is not None else None
            row["note"] = "; ".join(f"no answer at the {e} end ({a.note or a.path})" for e, a in ends)
        else:
            row["swing"] = abs(h_hi - h_lo)
        short = [e for e, a in (("low", lo), ("high", hi)) if a.target_met is False]
        if short:
            row["note"] = "; ".join([*filter(None, [row.get("note")]),
                                     f"the target is missed at the {' and '.join(short)} end: the cost there is the "
                                     "plan's for the largest reachable figure"])
        row["swing_unit"] = unit if missed else "USD"
        moves = [(row["swing"], h_base), (swing_cost if missed else swing_reach, base.cost if missed else base.reach)]
        if all(sw is not None and ref and sw < DROP_SHARE * abs(ref) for sw, ref in moves) and not ends:
            dropped += 1
            continue
        rows.append(row)
    rows.sort(key=lambda x: (x["swing"] is None, -(x["swing"] or 0.0)))
    return rows, dropped


def joint_sample(ranges: Sequence[InputRange], n: int = JOINT_CASES, seed: int = JOINT_SEED) -> list[list[float]]:
    """A Latin-hypercube sample of ``n`` cases: each range's value per case, between its low and high."""
    from scipy.stats import qmc

    if not ranges:
        return []
    u = qmc.LatinHypercube(d=len(ranges), seed=seed).random(n)
    lows = np.array([r.low for r in ranges], dtype=float)
    highs = np.array([r.high for r in ranges], dtype=float)
    return (lows + u * (highs - lows)).tolist()


def range_pass(s: Scenario, base: BaseInputs, sets: Sequence[str], target: TargetSpec,
               ranges: Sequence[InputRange], missed: bool, time_limit: float | None = None,
               samples: int = JOINT_CASES) -> dict[str, Any]:
    """The ranking (``assumptions_ranked``) and the headline's range (``headline_range``) over ``ranges``.

    Returns a mapping with both keys, each in the summary's form, and ``range_timings`` (seconds, for the
    manifest: a summary holds no timings, so the same inputs give the same summary).
    """
    from model.build import param_values

    t0, cpu0 = time.perf_counter(), time.process_time()
    ranged = [r for r in ranges if not r.excluded]
    unit = "GW" if s.main_target.kind == "power" else "EFLOP/s"
    ref_values = param_values(s)
    variants = {(r.line, end): load(base, sets, target, [change_for(r, x, base.tables)], ref_values)
                for r in ranged for end, x in (("low", r.low), ("high", r.high))}
    from model.fastsolve import scenario_difference

    for v in variants.values():      # a figure outside every Param (e.g. opening cash) needs a fresh build
        if v.scenario is not None and not v.rebuild and not v.changed:
            diff = scenario_difference(s, v.scenario)
            if diff:
                v.rebuild = f"it moves a figure the compiled plan holds as a constant ({diff})"
    mutable = set().union(*(v.changed for v in variants.values() if v.scenario is not None and not v.rebuild))
    solver = Solver(s, mutable, missed, time_limit)
    fast = [r for r in ranged if all(not variants[(r.line, e)].rebuild and variants[(r.line, e)].scenario is not None
                                     for e in ("low", "high"))]
    offenders: list[InputRange] = []
    for end in ("low", "high"):
        offenders += not_proven([r for r in fast if r not in offenders], end, solver,
                                lambda group, end=end: load(base, sets, target, [
                                    change_for(r, getattr(r, end), base.tables) for r in group], ref_values))
    for r in offenders:
        for end in ("low", "high"):
            variants[(r.line, end)].rebuild = "pushing it into the compiled plan does not give a fresh build's LP"
    solver.proof = ", ".join(r.label for r in offenders)
    base_answer = solver(Variant(s, values=ref_values))
    answers = {k: solver(v) for k, v in variants.items()}
    rows, dropped = one_at_a_time(ranged, answers, base_answer, missed, unit)
    headline = headline_of(base_answer, missed)
    oat = [headline_of(a, missed) for a in answers.values() if headline_of(a, missed) is not None]
    t1 = time.perf_counter()

    # jointly: a Latin hypercube over the inputs that move the headline on the fast path
    by_line = {r.line: r for r in ranged}
    moving = [by_line[row["ranges_line"]] for row in rows if row["path"] == "fast" and "note" not in row
              and row["swing"] and row["swing"] >= DROP_SHARE * abs(headline or 0.0)]
    cases = joint_sample(moving, samples)
    joint: list[float] = []
    skipped = 0
    for values in cases:
        v = load(base, sets, target, [change_for(r, x, base.tables) for r, x in zip(moving, values)], ref_values)
        if v.scenario is None or v.rebuild or not v.changed <= solver.mutable:
            skipped += 1
            continue
        a = solver(v)
        h = headline_of(a, missed)
        if h is None or a.path != "fast":
            skipped += 1
            continue
        joint.append(h)
    seconds = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    how = solver.how + ("; the compiled plan was proven against fresh builds of the fast inputs at their lows "
                        "together and at their highs together" + (
                            f" (built afresh instead, as pushing them did not give a fresh build's LP: {solver.proof})"
                            if solver.proof else ""))
    return {"assumptions_ranked": ranking_json(rows, dropped, ranged, missed, how),
            "headline_range": range_json(rows, headline, oat, joint, moving, len(cases), skipped, missed, unit),
            "range_timings": {"range_one_at_a_time_s": t1 - t0, "range_s": seconds, "range_cpu_s": cpu}}


def ranking_json(rows: list[dict[str, Any]], dropped: int, ranged: Sequence[InputRange], missed: bool,
                 how: str) -> dict[str, Any]:
    return {"value": rows, "unit": "",
            "headline": "largest reachable capacity" if missed else "total cost",
            "method": (f"one at a time: each of the {len(ranged)} ranged inputs of inputs/ranges.csv at its low and "
                       "its high, the rest as in this run, both objectives (largest reachable capacity in the target "
                       "year; total discounted cost of the plan for the target, or for the largest reachable "
                       "figure where it is missed); every variant loaded and validated as run.py validates; "
                       f"{how}; entries moving neither objective by {DROP_SHARE:.1%} of its base value dropped "
                       f"({dropped})"),
            "dropped": dropped,
            "by_other_objective": [{"key": r["key"], "label": r["label"],
                                    "swing": r["swing_capacity" if not missed else "swing_cost"],
                                    "unit": r["capacity_unit"] if not missed else "USD"}
                                   for r in sorted(rows, key=lambda r: -(r["swing_capacity" if not missed
                                                                          else "swing_cost"] or 0.0))[:5]]}


def range_json(rows: list[dict[str, Any]], headline: float | None, oat: list[float], joint: list[float],
               moving: Sequence[InputRange], cases: int, skipped: int, missed: bool, unit: str) -> dict[str, Any]:
    """summary.json's ``headline_range``: low, high, unit, basis, method and the five inputs that move it most."""
    every = [x for x in [headline, *oat, *joint] if x is not None]
    top = [{"key": r["key"], "label": r["label"], "low": r["low_text"], "high": r["high_text"],
            "swing": r["swing"], "unit": r["swing_unit"]} for r in rows[:5]]
    return {"value": headline, "low": min(every) if every else None, "high": max(every) if every else None,
            "unit": unit if missed else "USD",
            "basis": "largest reachable capacity in the target year (the target is missed)" if missed
                     else "total discounted cost of the plan (the target is met)",
            "one_at_a_time": {"low": min(oat, default=None), "high": max(oat, default=None)},
            "jointly": {"low": min(joint, default=None), "high": max(joint, default=None), "cases": cases,
                        "solved": len(joint), "skipped": skipped, "inputs": len(moving), "seed": JOINT_SEED},
            "method": (f"the lowest and highest headline over every ranged input at its low and high one at a time "
                       f"and over {cases} Latin-hypercube cases (scipy.stats.qmc, seed {JOINT_SEED}) moving "
                       f"together the {len(moving)} inputs that move it with an answer at both ends on the fast "
                       f"path, each uniform between its low and high (cases without a plan, or that a fresh build "
                       f"would need, are skipped: {skipped}); the buyer's shares of the world's chips and firm power are "
                       f"held at the run's own for every case (inputs/world_allocation.csv, or the world re-solved "
                       f"for the run's changes): the world is not re-solved per case (sweep --world shows how the "
                       f"world moves them); the time it took is in manifest.json (timings)"),
            "inputs": top}


def headline_pass(s: Scenario, inputs_dir: Any, scenario: str | None, sets: Sequence[str], target: TargetSpec,
                  missed: bool, time_limit: float | None = None) -> dict[str, Any]:
    """Read ``inputs_dir/ranges.csv`` (checked against the base data) and run :func:`range_pass` on the run's
    scenario, ``--set`` overrides and target. A range whose rows the scenario removed is left out (counted)."""
    from model.inputs.ranges import read_ranges
    from model.scenario import read_base_inputs, world_rows_for

    plain = read_base_inputs(inputs_dir, None)
    ranges = read_ranges(inputs_dir, plain.tables, plain.catalogue)
    if not ranges:
        return {"headline_range": {"value": None, "unit": "", "note": "not computed: no inputs/ranges.csv"}}
    # The run's shares of the world are held for every case: the world is not re-solved per case (about a
    # second each, ~100 cases); `sweep --world` and `run.py world --set` show how the world moves them.
    rows = world_rows_for(inputs_dir, scenario, sets)
    base = plain if scenario is None and rows is None else read_base_inputs(inputs_dir, scenario, rows)
    present = [r for r in ranges if r.excluded or r.rows(base.tables)]
    out = range_pass(s, base, sets, target, present, missed, time_limit)
    if len(present) < len(ranges):
        out["headline_range"]["not_in_scenario"] = [r.key for r in ranges if r not in present]
    return out


# ----------------------------------------------------------------------------
# In words (terminal and page)
# ----------------------------------------------------------------------------
def range_words(hr: Mapping[str, Any] | None) -> str:
    """``68.7-109 GW over the inputs below`` from ``headline_range`` ('' when it was not computed)."""
    from model import fmt

    if not isinstance(hr, Mapping) or hr.get("low") is None or hr.get("high") is None:
        return ""
    unit = str(hr.get("unit", ""))
    lo, hi = fmt.quantity(hr["low"], unit), fmt.quantity(hr["high"], unit)
    lo_num, _, lo_unit = lo.partition(" ")
    _, _, hi_unit = hi.partition(" ")
    shown = f"{lo_num}-{hi}" if lo_unit == hi_unit and lo_unit else f"{lo} to {hi}"
    return f"{shown} over the inputs below"


def ranking_lines(summary: Mapping[str, Any], top: int = 5) -> list[str]:
    """The terminal's "Read before quoting" lines: the inputs that move the headline most, both objectives."""
    from model import fmt

    ranked = summary.get("assumptions_ranked") or {}
    rows = ranked.get("value") or []
    hr = summary.get("headline_range") or {}
    if not rows:
        note = hr.get("note") if isinstance(hr, Mapping) else None
        return [f"  Read before quoting: the headline's range is not computed ({note.removeprefix('not computed: ')})"
                ] if note else []
    joint = hr.get("jointly") or {}
    lines = [f"  Read before quoting: the inputs that move the {ranked.get('headline')} most (inputs/ranges.csv, "
             f"each from its low to its high; the range above also moves {joint.get('inputs', 0)} of them "
             f"together over {joint.get('solved', 0)} Latin-hypercube cases):"]
    ends = ("cost_low", "cost_high") if rows[0].get("swing_unit") == "USD" else ("capacity_low", "capacity_high")
    scale = fmt.table_scale([r.get(k) for r in rows for k in ends])     # a swing below its round-off reads 0
    for r in rows[:top]:
        swing = fmt.quantity(fmt.settled(r.get("swing"), scale), r.get("swing_unit", ""))
        reach = fmt.span(r.get("capacity_low"), r.get("capacity_high"), r.get("capacity_unit", "GW"),
                         missing=fmt.NO_PLAN_END)
        cost = fmt.span(r.get("cost_low"), r.get("cost_high"), "USD", missing=fmt.NO_PLAN_END)
        note = f"; {r['note']}" if r.get("note") else ""
        lines.append(f"    - {r['label']} ({r['low_text']} .. {r['high_text']}): {swing} "
                     f"(reach {reach}; cost {cost}{note})")
    other = ranked.get("by_other_objective") or []
    if other:
        what = "total cost" if ranked.get("headline") != "total cost" else "largest reachable capacity"
        lines.append(f"    Most for the {what}: " + ", ".join(
            f"{o['label']} ({fmt.quantity(o['swing'], o['unit'])})" for o in other[:3]))
    return lines
