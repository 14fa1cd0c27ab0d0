"""Solving with myopic foresight: the yearly steps, regret against perfect foresight, and why a step fell short."""
from __future__ import annotations

import sys
from typing import Any, Iterable

from pyomo.environ import Var, value

from model.foresight.steps import (DEFAULT_LOOK_AHEAD, FORESIGHT_MODES, TOL, ForesightError, ForesightResult,
                                   HistoryError, Shortfall, Step, Stepper, history_contradictions, money_text)
from model.scenario import Scenario
from model.solve import Outcome, explain_duals


def solve_foresight(s: Scenario, mode: str = "myopic", look_ahead: int | None = None,
                    time_limit: float | None = None, history: dict[str, dict] | None = None,
                    history_from: int | None = None, progress: bool = True) -> ForesightResult:
    """Plan ``s`` with perfect or myopic foresight on one built model; the perfect plan is the reference.

    Parameters
    ----------
    s : Scenario
        Validated inputs.
    mode : {"perfect", "myopic"}
        Perfect foresight: one solve over the whole horizon. Myopic: one step
        per year from ``history_from`` (default the first year), each seeing
        ``look_ahead`` years (its own included).
    look_ahead : int, optional
        Years each myopic step sees (default :data:`DEFAULT_LOOK_AHEAD`).
    history : dict, optional
        Values of decisions (by variable name and index) to fix as history for
        every year before ``history_from`` (re-planning, :mod:`model.replan`).
    history_from : int, optional
        First year planned; decisions before it come from ``history``.
    progress : bool
        Show a progress bar per step (tqdm, on stderr).
    """
    if mode not in FORESIGHT_MODES:
        raise ForesightError(f"--foresight: expected one of {', '.join(FORESIGHT_MODES)}, found {mode!r}")
    if mode == "myopic":
        look_ahead = DEFAULT_LOOK_AHEAD if look_ahead is None else look_ahead
        if look_ahead < 1:
            raise ForesightError(f"--look-ahead: expected a whole number of years >= 1, found {look_ahead!r}")
    st = Stepper(s, time_limit)
    timings = {"build_s": st.build_s}
    start = history_from if history_from is not None else s.first_year
    if history is not None:
        st.fix_decisions([y for y in st.years if y < start], history)
        st.free_history_shortfalls(start)
        problems = history_contradictions(st)
        if problems:
            raise HistoryError(problems)

    # perfect foresight (the reference, and the plan when mode == "perfect")
    st.set_window(s.last_year)
    status, res, dt = st.solve()
    timings["reference_solve_s"] = dt
    ref_shortfalls: list[dict[str, Any]] = []
    if status in ("infeasible", "infeasible_or_unbounded"):
        st.relax_shortfalls(start)
        status, res, dt = st.solve()
        timings["reference_solve_s"] += dt
        if status == "optimal":
            ref_shortfalls = [_short_json(st, i, v) for i, v in st.shortfall_values(start)]
    if status != "optimal":
        out = Outcome(status if status != "infeasible_or_unbounded" else "infeasible",
                      _no_plan_message(status, time_limit, "perfect foresight"), None, timings=timings,
                      solver=st.solver_info)
        return ForesightResult(mode, look_ahead, out, status, None, history_from=history_from)
    check = st.check()
    ref_cost = float(value(st.m.total_cost))
    ref_values = st.values()
    if mode == "perfect":
        st.solver_info["check"] = check.as_json()
        if not check.passed:
            out = Outcome("solver_error", check.message(), None, timings=timings, solver=st.solver_info)
            return ForesightResult(mode, None, out, "solver_error", None, history_from=history_from)
        binding = [] if ref_shortfalls else explain_duals(s, st.opt.get_duals(), "bnUSD")
        if ref_shortfalls:
            status = missed_status(r["constraint"] for r in ref_shortfalls)
            what = ("the target cannot be met" if status == "target_missed"
                    else "the target is held, but a deal minimum or scheduled tranche cannot be kept")
            msg = (f"{what}{' from the history' if history is not None else ''}: "
                   + "; ".join(r["meaning"] for r in ref_shortfalls[:3]))
            out = Outcome(status, msg, st.m, ref_cost, timings=timings, solver=st.solver_info)
        else:
            out = Outcome("optimal", "the target is met at least cost", st.m, ref_cost, binding=binding,
                          timings=timings, solver=st.solver_info)
        return ForesightResult(mode, None, out, out.status, ref_cost, reference_shortfalls=ref_shortfalls,
                               history_from=history_from)
    if not check.passed:
        st.solver_info["check"] = check.as_json()
        out = Outcome("solver_error", "the perfect-foresight reference " + check.message(), None, timings=timings,
                      solver=st.solver_info)
        return ForesightResult(mode, look_ahead, out, "solver_error", None, history_from=history_from)
    return _myopic_steps(st, look_ahead, start, ref_cost, ref_values, ref_shortfalls, timings, progress,
                         history_from)


def _myopic_steps(st: Stepper, n: int, start: int, ref_cost: float, ref_values: dict, ref_shortfalls: list,
                  timings: dict, progress: bool, history_from: int | None) -> ForesightResult:
    s = st.s
    from tqdm import tqdm

    steps: list[Step] = []
    seen: dict[int, Shortfall] = {}
    worst_check = None
    years = [y for y in st.years if y >= start]
    bar = tqdm(years, desc=f"myopic steps (look-ahead {n} a)", unit="step", file=sys.stderr,
               disable=not progress, leave=False)
    timings["steps_solve_s"] = 0.0
    for t in bar:
        last = min(t + n - 1, s.last_year)
        bar.set_postfix_str(f"{t}: window {t}-{last}")
        st.set_window(last)
        st.fix_unseen_orders(t, last)
        st.relax_shortfalls(t, last)
        status, res, dt = st.solve()
        timings["steps_solve_s"] += dt
        if status != "optimal":
            bar.close()
            word = "infeasible" if status in ("infeasible", "infeasible_or_unbounded") else status
            msg = (f"step {t} (window {t}-{last}) has no plan even with its targets and deal minimums relaxed: "
                   "the decisions fixed in earlier steps contradict the limits of its window"
                   if word == "infeasible" else _no_plan_message(status, st.time_limit, f"step {t}"))
            steps.append(Step(t, (t, last), word, None, dt, False))
            out = Outcome(word, msg, None, timings=timings, solver=st.solver_info)
            return ForesightResult("myopic", n, out, "optimal", ref_cost, steps, list(seen.values()),
                                   ref_shortfalls, history_from)
        check = st.check()
        worst_check = check if worst_check is None or check.worst_ratio > worst_check.worst_ratio else worst_check
        step = Step(t, (t, last), "optimal", float(value(st.m.fs_objective)), dt, check.passed)
        if not check.passed:
            bar.close()
            st.solver_info["check"] = check.as_json()
            steps.append(step)
            out = Outcome("solver_error", f"step {t}: " + check.message(), None, timings=timings,
                          solver=st.solver_info)
            return ForesightResult("myopic", n, out, "optimal", ref_cost, steps, list(seen.values()),
                                   ref_shortfalls, history_from)
        current = st.values()
        for i, v in st.shortfall_values(t, last):
            if i not in seen:
                name, idx, _, year, label, unit = st.short_rows[i]
                seen[i] = Shortfall(t, (t, last), year, f"{name}[{idx}]", label, unit, v,
                                    _reason(st, year, t, n, ref_values, current, ref_shortfalls, label))
        st.fix_decisions([t])
        step.decisions = _decisions(st, t, last)
        for i, f in seen.items():                 # the shortfall as finally fixed
            if st.m.fs_shortfall[i].fixed:
                f.amount = st.m.fs_shortfall[i].value or 0.0
        steps.append(step)
    bar.close()
    st.set_window(s.last_year)
    st.solver_info["check"] = worst_check.as_json() if worst_check is not None else {}
    st.solver_info["check"]["scope"] = "every myopic step; the worst step shown"
    cost = float(value(st.m.total_cost))
    final = [f for f in seen.values() if f.amount > TOL]
    equal = _equal_delivery_cost(st, start, timings) if final else None
    if final:
        status = missed_status(f.constraint for f in final)
        what = "a target" if status == "target_missed" else "a deal minimum or scheduled tranche"
        msg = (f"the myopic plan (look-ahead {n} a) misses {what} perfect foresight "
               f"{'also misses' if ref_shortfalls else 'meets'}: " + "; ".join(f.sentence() for f in final[:3]))
    else:
        msg = f"the target is met, planned year by year with a look-ahead of {n} a"
        status = "optimal"
    out = Outcome(status, msg, st.m, cost, timings=timings, solver=st.solver_info)
    ref_status = missed_status(r["constraint"] for r in ref_shortfalls) if ref_shortfalls else "optimal"
    return ForesightResult("myopic", n, out, ref_status, ref_cost, steps,
                           list(seen.values()), ref_shortfalls, history_from, equal)


def missed_status(constraints: Iterable[str]) -> str:
    """``target_missed`` when a shortfall is on a target or milestone row, else ``commitment_missed``.

    A floor of a deal (minimum GW or spend) or a scheduled tranche that cannot be kept is not a
    missed target: the target may be held in full while a deal's minimum falls short.
    """
    targets = ("target_capacity", "target_compute", "milestone_capacity", "milestone_compute")
    return "target_missed" if any(str(c).startswith(targets) for c in constraints) else "commitment_missed"


def _equal_delivery_cost(st: Stepper, start: int, timings: dict) -> float | None:
    """Least cost, with perfect foresight, of delivering what the myopic plan delivers (its shortfalls kept).

    Re-solves the same model with every decision from ``start`` free again and each
    floor's shortfall fixed at the myopic plan's, then puts the myopic plan back
    (values restored and fixed, checked again). The myopic plan is feasible for this
    problem, so the myopic cost minus this one is >= 0: the cost of myopia at equal delivery.
    """
    plan = st.values()
    later = [y for y in st.years if y >= start]
    for var, y in st.decision_vars:
        if y is not None and y in later:
            var.unfix()
    status, _, dt = st.solve()
    timings["equal_delivery_solve_s"] = dt
    cost = float(value(st.m.total_cost)) if status == "optimal" and st.check().passed else None
    for comp in st.m.component_objects(Var, descend_into=True):
        for idx, v in plan.get(comp.local_name, {}).items():
            comp[idx].set_value(v, skip_validation=True)
    st.fix_decisions(later)
    return cost


def _short_json(st: Stepper, i: int, v: float) -> dict[str, Any]:
    name, idx, _, year, label, unit = st.short_rows[i]
    unit_out, scale = ("USD", 1e9) if unit == "bnUSD" else (unit, 1.0)
    return {"constraint": f"{name}[{idx}]", "name": label, "year": year,
            "shortfall": {"value": v * scale, "unit": unit_out},
            "meaning": f"'{label}' is short by "
                       f"{money_text(v * scale) if unit_out == 'USD' else f'{v:,.4g} {unit_out}'} in {year}"}


def _no_plan_message(status: str, time_limit: float | None, what: str) -> str:
    if status == "time_limit":
        return f"{what}: HiGHS stopped at the time limit ({time_limit:g} s) without a proven optimum"
    if status in ("infeasible", "infeasible_or_unbounded"):
        return (f"{what}: the inputs contradict each other even without the target "
                "(run without --foresight to name the limits)")
    return f"{what}: HiGHS failed without a usable answer ({status})"


def _service_gw(s: Scenario, builds: dict, p: str, year: int) -> float:
    return sum(builds.get((p, v)) or 0.0 for v in s.power_service_vintages(p, year))


def _reason(st: Stepper, year: int, step: int, n: int, ref: dict, cur: dict, ref_shortfalls: list,
            label: str) -> str:
    """Why step ``step`` cannot meet a floor in ``year`` that perfect foresight meets (or says it misses it too)."""
    from model.concerns.power import KIND_WORDS

    s = st.s
    if any(r["year"] == year and r["name"] == label for r in ref_shortfalls):
        return "perfect foresight misses it too"
    # 1. power perfect foresight ordered for `year` when `year` was beyond the look-ahead
    gaps = []
    ref_p, cur_p = ref.get("power_build_gw", {}), cur.get("power_build_gw", {})
    for p in s.power_sources:
        gap = _service_gw(s, ref_p, p, year) - _service_gw(s, cur_p, p, year)
        if gap <= TOL:
            continue
        lead = s.power_lead_time_yr[p]
        for v in s.power_service_vintages(p, year):
            order = v - lead
            missing = (ref_p.get((p, v)) or 0.0) - (cur_p.get((p, v)) or 0.0)
            if missing > TOL and order < step and order + n - 1 < v:
                gaps.append((missing, p, v, order, lead))
    if gaps:
        missing, p, v, order, lead = max(gaps)
        src = s.power_sources[p]
        return (f"the {KIND_WORDS.get(src.kind, src.kind)} in {src.region} needed in {v} had to be ordered in "
                f"{order}, beyond the look-ahead ({n} a from {order}: lead time {lead} a); "
                f"perfect foresight ordered {missing:,.3g} GW of it then")
    # 2. capacity perfect foresight built earlier, when `year` was beyond the look-ahead
    ref_b, cur_b = ref.get("build_gw", {}), cur.get("build_gw", {})
    early = sorted({y for (o, y), v in ref_b.items() if y < step and (v or 0.0) - (cur_b.get((o, y)) or 0.0) > TOL
                    and y + n - 1 < year})
    if early:
        return (f"capacity for {year} had to be built from {early[0]} on (yearly build, ramp and supply caps limit "
                f"how fast it can be added), when {year} was beyond the look-ahead of {n} a")
    return "the decisions fixed in earlier steps leave too little room within the window's limits"


def _decisions(st: Stepper, t: int, last: int) -> list[dict[str, Any]]:
    """The decisions step ``t`` fixed (non-zero ones), as rows of ``tables/steps.csv``."""
    s, m = st.s, st.m
    base = {"step": t, "window_first": t, "window_last": last}
    rows = []
    for (o, y), var in m.build_gw.items():
        if y == t and (var.value or 0.0) > 1e-9:
            rows.append({**base, "decision": "build", "name": o, "year": y, "value": var.value, "unit": "GW"})
    if hasattr(m, "power_build_gw"):
        for (p, y), var in m.power_build_gw.items():
            if y - s.power_lead_time_yr[p] == t and (var.value or 0.0) > 1e-9:
                rows.append({**base, "decision": "power_order", "name": p, "year": y, "value": var.value,
                             "unit": "GW"})
    if hasattr(m, "borrow_bnusd"):
        v = m.borrow_bnusd[t].value or 0.0
        if v > 1e-9:
            rows.append({**base, "decision": "borrow", "name": "debt", "year": t, "value": v * 1e9, "unit": "USD"})
    for i, (name, idx, _, year, label, unit) in enumerate(st.short_rows):
        var = m.fs_shortfall[i]
        if year == t and (var.value or 0.0) > TOL:
            unit_out, scale = ("USD", 1e9) if unit == "bnUSD" else (unit, 1.0)
            rows.append({**base, "decision": "shortfall", "name": label, "year": year, "value": var.value * scale,
                         "unit": unit_out})
    return rows
