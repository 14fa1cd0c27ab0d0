"""Plans that survive a broken deal: two-stage stochastic planning with risk.

A futures file describes what may change, with probabilities::

    description: Deals and power that may change
    first_stage_last_year: 2027    # builds up to this year are decided now, shared by every future
    penalty: 100e9 USD/GW          # per GW of target missed, per year it is missed (discounted);
                                   # a compute target takes a cost per FLOP/s, e.g. 70e6 USD/(EFLOP/s)
    expected: as announced         # optional: the future the expected-value plan is made for
    futures:                       # ... or `events:` (independent, combined into 2^n futures)
      - name: as announced
        probability: 0.5
      - name: NVIDIA equity only
        probability: 0.5
        source: "restructured Feb 2026 (facts.md section 2)"
        set: {deal_maximum.nvidia_loi: 0GW, supply_scale.nvidia: 0.8}
        # replace / drop / add exactly as in scenario files

Each future is the scenario plus its overrides, validated like any input.
The extensive form is one LP: one copy of the model per future, the
first-stage decisions (capacity built per offer and power built per source
in the years up to ``first_stage_last_year``) equal across futures, and the
target allowed to be missed at the penalty so every future stays feasible:

    min  (1 - w) * sum_f p_f * cost_f  +  w * CVaR_alpha(cost)
    CVaR_alpha = eta + 1 / (1 - alpha) * sum_f p_f * u_f,   u_f >= cost_f - eta,  u_f >= 0

(w = 0 without ``--risk cvar``). Reported with units: expected cost, cost
per future, CVaR, probability and size of a miss, the value of the
stochastic solution VSS = EEV - RP (EEV: the plan made for the expected
future, its first stage fixed, carried through every future) and the
expected value of perfect information EVPI = RP - WS (WS: each future
planned alone), and what the hedged first stage does differently from the
expected-value plan.

Many futures: ``--method ph`` decomposes by future with mpi-sppy's progressive
hedging (risk-neutral), one LP per future per iteration.
"""
from __future__ import annotations

import itertools
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import yaml
from pyomo.environ import (Block, ConcreteModel, Constraint, Expression, NonNegativeReals, Objective, Reals, Set, Var,
                           minimize, value)

from model.build import build_model
from model.checks import CheckResult, check_plan, merge
from model.errors import InputError, InputErrors
from model.exposure import cvar_of
from model.fmt import sig
from model.scenario import DEFAULT_INPUTS, Scenario, TargetSpec, load_scenario, load_variant, read_base_inputs
from model.fastsolve.appsi import highs_of
from model.solve import make_solver, solve_model as _solve
from model.units import QUANTITY_ERRORS, parse_quantity


@dataclass(frozen=True)
class Future:
    name: str
    probability: float
    scenario: Scenario


@dataclass(frozen=True)
class FuturesSpec:
    """A parsed futures file: the futures with their scenarios and the stage split."""

    futures: tuple[Future, ...]
    first_stage_last_year: int
    penalty_bnusd: float          # billion USD per unit of the target missed (``penalty_unit``) per year
    expected: str
    source_file: str
    penalty_unit: str = "GW"      # "GW" for a power target, "EFLOP/s" for a compute target


# ----------------------------------------------------------------------------
# Reading a futures file
# ----------------------------------------------------------------------------
def _combine_events(events: list[dict], where: str) -> list[dict]:
    """Independent events -> every combination, probability the product."""
    futures = []
    for flags in itertools.product((False, True), repeat=len(events)):
        p, docs, names = 1.0, [], []
        for on, ev in zip(flags, events):
            p *= ev["probability"] if on else 1.0 - ev["probability"]
            if on:
                docs.append(ev)
                names.append(ev["name"])
        merged: dict[str, Any] = {"name": " + ".join(names) or "none of the events", "probability": p,
                                  "source": "; ".join(str(d.get("source", "")) for d in docs if d.get("source"))}
        for key in ("set",):
            merged[key] = {k: v for d in docs for k, v in (d.get(key) or {}).items()}
        for key in ("replace", "drop", "add"):
            merged[key] = [e for d in docs for e in (d.get(key) or [])]
        futures.append(merged)
    return futures


def read_futures_doc(path: Path, shown: str, expected: str) -> dict:
    """A futures file's YAML mapping; InputErrors naming the file (and line) when unreadable or malformed."""
    try:
        doc = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise InputErrors([InputError(shown, 1, "-", "a readable futures file", str(exc))]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputErrors([InputError(shown, mark.line + 1 if mark else 1, "-", "valid YAML",
                                      str(exc).splitlines()[0])]) from None
    if not isinstance(doc, dict):
        raise InputErrors([InputError(shown, 1, "-", expected, type(doc).__name__)])
    return doc


def load_futures(path: Path, inputs_dir: Path = DEFAULT_INPUTS, scenario: str | None = None,
                 sets: Sequence[str] = (), target: TargetSpec = TargetSpec()) -> FuturesSpec:
    """Read a futures file and build one validated Scenario per future.

    Raises
    ------
    InputErrors
        Naming the file and entry for a malformed file, probabilities that do
        not sum to 1, a bad penalty, or any problem in a future's overrides.
    """
    from model.inputs import display_path

    shown = display_path(Path(path))
    doc = read_futures_doc(path, shown, "a mapping with futures or events")
    errors: list[InputError] = []
    entries = doc.get("futures")
    events = doc.get("events")
    if (entries is None) == (events is None):
        raise InputErrors([InputError(shown, "futures", "futures", "either a 'futures' or an 'events' list",
                                      "both" if entries is not None else "neither")])
    kind = "futures" if entries is not None else "events"
    items = entries if entries is not None else events
    if not isinstance(items, list) or not items:
        raise InputErrors([InputError(shown, kind, kind, "a non-empty list", repr(items))])
    for i, e in enumerate(items):
        where = f"{kind}[{i}]"
        if not isinstance(e, dict) or not str(e.get("name", "")).strip():
            errors.append(InputError(shown, where, "name", "a mapping with a name", repr(e)))
            continue
        p = e.get("probability")
        if isinstance(p, str):
            try:
                p = float(parse_quantity(p).to("").magnitude)
            except QUANTITY_ERRORS:
                p = None         # refused just below, naming the field
        if not isinstance(p, (int, float)) or isinstance(p, bool) or not 0.0 <= float(p) <= 1.0:
            errors.append(InputError(shown, where, "probability", "a probability between 0 and 1", repr(e.get("probability"))))
        else:
            e["probability"] = float(p)
    if errors:
        raise InputErrors(errors)
    if kind == "futures":
        total = sum(e["probability"] for e in items)
        if abs(total - 1.0) > 1e-6:
            raise InputErrors([InputError(shown, "futures", "probability", "probabilities summing to 1",
                                          sig(total, 9))])
        names = [e["name"] for e in items]
        if len(set(names)) != len(names):
            raise InputErrors([InputError(shown, "futures", "name", "each future named once", repr(names))])
        futures_docs = items
    else:
        if len(items) > 10:
            raise InputErrors([InputError(shown, "events", "events", "at most 10 events (2^10 futures)",
                                          f"{len(items)} events")])
        futures_docs = _combine_events(items, shown)
    stage = doc.get("first_stage_last_year")
    if not isinstance(stage, int) or isinstance(stage, bool):
        raise InputErrors([InputError(shown, "first_stage_last_year", "first_stage_last_year",
                                      "a calendar year (the last year decided now)", repr(stage))])
    futures = []
    # futures plan on the deals' own shares (the buyer_share rows): the world's allocation is one answer for one
    # future, with no room in scarce years for a future that moves a delivery (a world across futures: not built)
    held = read_base_inputs(inputs_dir, scenario, [])
    for i, fdoc in enumerate(futures_docs):
        where = f"{shown}, {kind}[{i}] '{fdoc['name']}'" if kind == "futures" else f"{shown}, future '{fdoc['name']}'"
        body = {k: v for k, v in fdoc.items() if k in ("set", "replace", "drop", "add", "source", "name",
                                                       "probability", "description", "notes")}
        try:
            s = load_variant(held, sets, target, [(fdoc["name"], where, body)], world_allocation=False)
        except InputErrors as exc:
            errors.extend(exc.errors)
            continue
        futures.append(Future(fdoc["name"], fdoc["probability"], s))
    if errors:
        raise InputErrors(errors)
    penalty, penalty_unit = penalty_of(doc.get("penalty"), futures[0].scenario.main_target.kind, shown)
    years = futures[0].scenario.years
    if not years[0] <= stage <= years[-1]:
        raise InputErrors([InputError(shown, "first_stage_last_year", "first_stage_last_year",
                                      f"a year within the horizon {years[0]}..{years[-1]}", repr(stage))])
    expected = doc.get("expected") or max(futures, key=lambda f: f.probability).name
    if expected not in {f.name for f in futures}:
        raise InputErrors([InputError(shown, "expected", "expected", "the name of one of the futures", repr(expected))])
    return FuturesSpec(tuple(futures), stage, penalty, expected, shown, penalty_unit)


def penalty_of(raw: Any, kind: str, shown: str) -> tuple[float, str]:
    """The penalty per unit of the target missed, in billion USD per GW (power) or per EFLOP/s (compute).

    The shortfall is measured in the target's own unit, so the penalty must be a
    cost per that unit: ``100e9 USD/GW`` for a power target, a cost per FLOP/s
    (e.g. ``70e6 USD/(EFLOP/s)``) for a compute target. Anything else is refused.
    """
    unit, example = ("GW", "100e9 USD/GW") if kind == "power" else ("EFLOP/s", "70e6 USD/(EFLOP/s)")
    expected = f"a cost per {unit if kind == 'power' else 'FLOP/s'} of the {kind} target missed (e.g. {example})"
    try:
        q = parse_quantity(str(raw if raw is not None else ""))
        value_ = float(q.to(f"bnUSD/({unit})").magnitude)
    except QUANTITY_ERRORS:
        other = "GW" if kind == "compute" else "FLOP/s"
        found = repr(raw)
        try:
            parse_quantity(str(raw)).to(f"bnUSD/{'GW' if kind == 'compute' else '(EFLOP/s)'}")
            found += (f" (a cost per {other}, but the target is {kind}: a shortfall in "
                      f"{'FLOP/s' if kind == 'compute' else 'GW'} cannot be priced per {other})")
        except QUANTITY_ERRORS:   # no cost per the other kind either: the message says what is expected
            pass
        raise InputErrors([InputError(shown, "penalty", "penalty", expected, found)]) from None
    if not math.isfinite(value_) or value_ < 0:
        raise InputErrors([InputError(shown, "penalty", "penalty", expected + ", not negative", repr(raw))])
    return value_, unit


# ----------------------------------------------------------------------------
# Models
# ----------------------------------------------------------------------------
def first_stage_keys(s: Scenario, last_year: int) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
    """(offer, year) and (power source, year) decisions taken up to ``last_year``."""
    builds = [(o, y) for (o, y) in s.offer_years if y <= last_year]
    power = [(p, y) for p in s.power_sources for y in s.power_build_years(p) if y <= last_year]
    return builds, power


def add_future(block, s: Scenario, penalty: float, mutable: Sequence[str] = ()) -> None:
    """One future's model on ``block``, with the main target softened by a penalised shortfall.

        measure(y) + shortfall[y]  >=  target[y]       for the main target's years
        cost = total_cost + sum_y discount_factor[y] * penalty * shortfall[y]

    shortfall and the target are in GW (power target) or EFLOP/s (compute
    target); ``penalty`` is in billion USD per that unit (:func:`penalty_of`). ``mutable``: Params built
    mutable (:func:`model.build.build_model`), for a template of many futures (model/decompose_template.py).
    """
    build_model(s, mutable, into=block)
    block.total_cost.deactivate()
    name = "target_capacity" if hasattr(block, "target_capacity") else "target_compute"
    target = getattr(block, name, None)
    years = list(target.keys()) if target is not None else []
    block.shortfall = Var(years, within=NonNegativeReals, doc="target missed (GW or EFLOP/s)")
    for y in years:
        con = target[y]
        con.set_value((con.lower, con.body + block.shortfall[y], None))
    # milestones (e.g. the capacity in service in 2025) at the same penalty: a future whose supply is scaled
    # down may not reach them, and a hard row would make that future (and the whole extensive form) infeasible
    mname = "milestone_capacity" if hasattr(block, "milestone_capacity") else "milestone_compute"
    milestone = getattr(block, mname, None)
    myears = list(milestone.keys()) if milestone is not None else []
    block.milestone_shortfall = Var(myears, within=NonNegativeReals, doc="milestone missed (GW or EFLOP/s)")
    for y in myears:
        con = milestone[y]
        con.set_value((con.lower, con.body + block.milestone_shortfall[y], None))
    unmet_cost = _soften_deal_minimums(block, s, penalty)
    block.future_cost = Expression(expr=block.total_cost.expr + sum(
        block.discount_factor[y] * penalty * block.shortfall[y] for y in years) + sum(
        block.discount_factor[y] * penalty * block.milestone_shortfall[y] for y in myears) + unmet_cost)


def _soften_deal_minimums(block, s: Scenario, penalty: float):
    """Deal minimums a future cannot honour (its vendor supply falls short), at a price; returns that cost.

        capacity_added(d) + deal_unmet_gw[d]    >=  deal_min_gw[d]      cost: penalty per GW (as a missed target GW)
        spending(d)       + deal_unpaid[d]      >=  deal_min_bnusd[d]   cost: 1 USD per USD (take-or-pay: the
                                                                         minimum is owed even when not taken)

    each discounted at the deal window's last year (within the horizon). Without
    this a future whose supply is below a deal's minimum has no plan at all.
    """
    last = {d.name: min(max(d.last_year, s.years[0]), s.years[-1]) for d in s.deals}
    cost = 0.0
    for con_name, var_name, price in (("deal_minimum_gw", "deal_unmet_gw", penalty),
                                      ("deal_minimum_spend", "deal_unpaid_bnusd", 1.0)):
        con = getattr(block, con_name, None)
        keys = list(con.keys()) if con is not None else []
        setattr(block, var_name, Var(keys, within=NonNegativeReals))
        var = getattr(block, var_name)
        for k in keys:
            c = con[k]
            c.set_value((c.lower, c.body + var[k], None))
            cost = cost + block.discount_factor[last.get(k, s.years[-1])] * price * var[k]
    return cost


@dataclass
class StochasticResult:
    status: str
    message: str
    objective_bnusd: float | None = None
    expected_cost_bnusd: float | None = None
    cvar_bnusd: float | None = None
    cost_by_future: dict[str, float] = field(default_factory=dict)
    shortfall_by_future: dict[str, float] = field(default_factory=dict)
    first_stage_build: dict[tuple[str, int], float] = field(default_factory=dict)
    first_stage_power: dict[tuple[str, int], float] = field(default_factory=dict)
    builds_by_future: dict[str, dict[tuple[str, int], float]] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    size: dict[str, int] = field(default_factory=dict)
    check: CheckResult | None = None     # the post-solve check of every future's plan (model.checks)
    payments_by_future: dict[str, dict] = field(default_factory=dict)   # counterparty -> year -> bnUSD (exposure.py)


def check_extensive_form(m: ConcreteModel, spec: FuturesSpec) -> CheckResult:
    """Recompute every row of the extensive form: each future's block with its own scenario, then the shared rows.

    The shared rows are non-anticipativity (first-stage decisions equal across
    futures) and, under CVaR, the excess rows; a broken one is named by its
    component in model units.
    """
    parts = [(f"future '{f.name}'", check_plan(m.future[i], f.scenario)) for i, f in enumerate(spec.futures)]
    parts.append(("shared rows", check_plan(m, None, descend_into=False)))
    return merge(parts)


def extensive_form(spec: FuturesSpec, risk: str | None = None, alpha: float = 0.9, weight: float = 0.5,
                   fixed_first_stage: tuple[dict, dict] | None = None,
                   time_limit: float | None = None) -> StochasticResult:
    """Build and solve the extensive form; optionally with the first stage fixed (for EEV)."""
    t0 = time.perf_counter()
    names = [f.name for f in spec.futures]
    prob = {f.name: f.probability for f in spec.futures}
    m = ConcreteModel(name="extensive form")
    m.FUTURES = Set(initialize=list(range(len(names))), ordered=True)
    m.future = Block(m.FUTURES)
    keys = {}
    for i, f in enumerate(spec.futures):
        add_future(m.future[i], f.scenario, spec.penalty_bnusd)
        keys[i] = first_stage_keys(f.scenario, spec.first_stage_last_year)
    # non-anticipativity: each first-stage decision equal to its value in the first future that has it
    build_ref: dict[tuple[str, int], int] = {}
    power_ref: dict[tuple[str, int], int] = {}
    rows = []
    for i in m.FUTURES:
        for k in keys[i][0]:
            if k in build_ref:
                rows.append(("build", i, build_ref[k], k))
            else:
                build_ref[k] = i
        for k in keys[i][1]:
            if k in power_ref:
                rows.append(("power", i, power_ref[k], k))
            else:
                power_ref[k] = i

    def var(kind, i, k):
        return m.future[i].build_gw[k] if kind == "build" else m.future[i].power_build_gw[k]

    m.NONANT = Set(initialize=list(range(len(rows))), ordered=True)
    m.nonanticipativity = Constraint(m.NONANT, rule=lambda m, r: var(rows[r][0], rows[r][1], rows[r][3])
                                     == var(rows[r][0], rows[r][2], rows[r][3]))
    if fixed_first_stage is not None:
        fixed_build, fixed_power = fixed_first_stage
        for k, i in build_ref.items():
            m.future[i].build_gw[k].fix(fixed_build.get(k, 0.0))
        for k, i in power_ref.items():
            m.future[i].power_build_gw[k].fix(fixed_power.get(k, 0.0))
    expected = sum(prob[names[i]] * m.future[i].future_cost for i in m.FUTURES)
    if risk == "cvar":
        m.eta = Var(within=Reals)
        m.excess = Var(m.FUTURES, within=NonNegativeReals)
        m.cvar_excess = Constraint(m.FUTURES, rule=lambda m, i: m.excess[i] >= m.future[i].future_cost - m.eta)
        cvar = m.eta + 1.0 / (1.0 - alpha) * sum(prob[names[i]] * m.excess[i] for i in m.FUTURES)
        m.objective = Objective(expr=(1.0 - weight) * expected + weight * cvar, sense=minimize)
    else:
        cvar = None
        m.objective = Objective(expr=expected, sense=minimize)
    build_s = time.perf_counter() - t0
    opt = make_solver(time_limit)
    t0 = time.perf_counter()
    status, _ = _solve(opt, m)
    solve_s = time.perf_counter() - t0
    h = highs_of(opt)
    size = {"futures": len(names), "rows": int(h.getNumRow()), "cols": int(h.getNumCol())}
    if status != "optimal":
        return StochasticResult(status, "the extensive form has no solution" + (
            " with the first stage fixed to the expected-value plan" if fixed_first_stage else ""),
            timings={"build_s": build_s, "solve_s": solve_s}, size=size)
    t0 = time.perf_counter()
    checked = check_extensive_form(m, spec)
    check_s = time.perf_counter() - t0
    if not checked.passed:
        return StochasticResult("solver_error", checked.message(), timings={"build_s": build_s, "solve_s": solve_s,
                                                                            "check_s": check_s},
                                size=size, check=checked)
    costs = {names[i]: value(m.future[i].future_cost) for i in m.FUTURES}
    shortfall = {names[i]: max([value(v) for v in m.future[i].shortfall.values()] or [0.0]) for i in m.FUTURES}
    first_build = {k: float(value(var("build", i, k))) for k, i in build_ref.items()}
    first_power = {k: float(value(var("power", i, k))) for k, i in power_ref.items()}
    builds = {names[i]: {k: float(v) for k, v in m.future[i].build_gw.extract_values().items() if v and v > 1e-9}
              for i in m.FUTURES}
    exp_cost = sum(prob[n] * c for n, c in costs.items())
    from model.exposure import payments

    pays = {names[i]: payments(m.future[i], spec.futures[i].scenario) for i in m.FUTURES}
    return StochasticResult("optimal", "the hedged plan is optimal across the futures", value(m.objective), exp_cost,
                            value(cvar) if cvar is not None else cvar_of(costs, prob, alpha), costs, shortfall,
                            first_build, first_power, builds, {"build_s": build_s, "solve_s": solve_s,
                                                               "check_s": check_s}, size, checked, pays)


def deterministic_plan(s: Scenario, penalty: float, time_limit: float | None = None) -> tuple[float, dict, dict]:
    """One future planned alone (with the same penalised shortfall): cost and its builds."""
    m = ConcreteModel()
    add_future(m, s, penalty)
    m.objective = Objective(expr=m.future_cost)
    opt = make_solver(time_limit)
    status, _ = _solve(opt, m)
    if status != "optimal":
        raise RuntimeError(f"future {s.name!r} has no plan even with the target softened ({status})")
    checked = check_plan(m, s)
    if not checked.passed:
        raise RuntimeError(f"future {s.name!r} planned alone: {checked.message()}")
    build = {k: float(v or 0.0) for k, v in m.build_gw.extract_values().items()}
    power = {k: float(v or 0.0) for k, v in m.power_build_gw.extract_values().items()} if hasattr(m, "power_build_gw") else {}
    return value(m.objective), build, power


@dataclass
class StochasticReport:
    rp: StochasticResult
    eev_bnusd: float | None
    ws_bnusd: float
    vss_bnusd: float | None
    evpi_bnusd: float
    ev_first_build: dict
    ev_first_power: dict
    miss_probability: float
    expected_shortfall: float
    differences: list[dict]
    note: str = ""


def plan_under_uncertainty(spec: FuturesSpec, risk: str | None = None, alpha: float = 0.9, weight: float = 0.5,
                           time_limit: float | None = None) -> StochasticReport:
    """The recourse problem, VSS and EVPI, and how the hedged first stage differs."""
    rp = extensive_form(spec, risk, alpha, weight, time_limit=time_limit)
    if rp.status != "optimal":
        raise RuntimeError(rp.message)
    prob = {f.name: f.probability for f in spec.futures}
    ws = 0.0
    ev_build, ev_power = {}, {}
    for f in spec.futures:
        cost, build, power = deterministic_plan(f.scenario, spec.penalty_bnusd, time_limit)
        ws += f.probability * cost
        if f.name == spec.expected:
            ev_build = {k: v for k, v in build.items() if k[1] <= spec.first_stage_last_year}
            ev_power = {k: v for k, v in power.items() if k[1] <= spec.first_stage_last_year}
    eev = extensive_form(spec, None, fixed_first_stage=(ev_build, ev_power), time_limit=time_limit)
    if eev.status in ("solver_error", "time_limit"):
        raise RuntimeError("the expected-value plan carried through every future: " + eev.message)
    # VSS and EVPI are defined on the expected cost: with a CVaR objective, compare with the risk-neutral plan
    neutral = rp if risk is None else extensive_form(spec, None, time_limit=time_limit)
    if neutral.status != "optimal":
        raise RuntimeError("the risk-neutral plan (for VSS and EVPI): " + neutral.message)
    note = "" if risk is None else "VSS and EVPI compare expected costs with the risk-neutral recourse plan"
    if eev.status == "optimal":
        eev_cost = eev.expected_cost_bnusd
        vss = eev_cost - neutral.expected_cost_bnusd
    else:
        eev_cost, vss = None, None
        note = ("the expected-value plan's first stage cannot be carried into every future (it breaks a limit "
                "there), so its expected cost is unbounded: VSS is reported as not finite")
        note += "" if risk is None else "; EVPI compares expected costs with the risk-neutral recourse plan"
    miss = sum(prob[n] for n, v in rp.shortfall_by_future.items() if v > 1e-6)
    exp_short = sum(prob[n] * v for n, v in rp.shortfall_by_future.items())
    evpi = neutral.expected_cost_bnusd - ws
    return StochasticReport(rp, eev_cost, ws, vss, evpi, ev_build, ev_power, miss, exp_short,
                            first_stage_differences(spec, rp, ev_build, ev_power), note)


def first_stage_differences(spec: FuturesSpec, rp: StochasticResult, ev_build: dict, ev_power: dict) -> list[dict]:
    """What the hedged first stage does differently from the expected-value plan, by kind, vendor, host, power."""
    out = []

    def group(builds: dict, attr: str) -> dict[str, float]:
        g: dict[str, float] = {}
        for (o, _), v in builds.items():
            info = next((f.scenario.offers[o] for f in spec.futures if o in f.scenario.offers), None)
            if info is not None:
                g[getattr(info, attr)] = g.get(getattr(info, attr), 0.0) + v
        return g

    for attr in ("kind", "vendor", "host", "region"):
        hedged, ev = group(rp.first_stage_build, attr), group(ev_build, attr)
        for key in sorted(set(hedged) | set(ev)):
            d = hedged.get(key, 0.0) - ev.get(key, 0.0)
            if abs(d) > 1e-3:
                out.append({"dimension": attr, "key": key, "hedged": {"value": hedged.get(key, 0.0), "unit": "GW"},
                            "expected_value_plan": {"value": ev.get(key, 0.0), "unit": "GW"},
                            "difference": {"value": d, "unit": "GW"},
                            "meaning": f"{'more' if d > 0 else 'less'} capacity of {attr} {key} built by "
                                       f"{spec.first_stage_last_year} ({d:+.2f} GW)"})
    kinds: dict[str, tuple[float, float]] = {}
    for k in set(rp.first_stage_power) | set(ev_power):
        src = next((f.scenario.power_sources[k[0]] for f in spec.futures if k[0] in f.scenario.power_sources), None)
        if src is None:
            continue
        h, e = kinds.get(src.kind, (0.0, 0.0))
        kinds[src.kind] = (h + rp.first_stage_power.get(k, 0.0), e + ev_power.get(k, 0.0))
    for kind, (h, e) in sorted(kinds.items()):
        if abs(h - e) > 1e-3:
            out.append({"dimension": "power", "key": kind, "hedged": {"value": h, "unit": "GW"},
                        "expected_value_plan": {"value": e, "unit": "GW"}, "difference": {"value": h - e, "unit": "GW"},
                        "meaning": f"{'earlier' if h > e else 'less'} {kind.replace('_', ' + ')} power by "
                                   f"{spec.first_stage_last_year} ({h - e:+.2f} GW)"})
    out.sort(key=lambda d: -abs(d["difference"]["value"]))
    return out


# ----------------------------------------------------------------------------
# Decomposition with mpi-sppy's progressive hedging
# ----------------------------------------------------------------------------
def ph_suitability(spec: FuturesSpec) -> str:
    """Why progressive hedging cannot solve these futures (empty when it can); cheap, nothing is built.

    PH here needs every future to have the same first-stage decisions: futures
    that add or remove offers or power sources, or move lead times, before
    the first-stage end break that.
    """
    keys = [first_stage_keys(f.scenario, spec.first_stage_last_year) for f in spec.futures]
    differ = [f.name for f, k in zip(spec.futures, keys) if k != keys[0]]
    if differ:
        return (f"{spec.source_file}: progressive hedging needs the same first-stage decisions in every future, "
                f"but {', '.join(repr(n) for n in differ[:3])}{' ...' if len(differ) > 3 else ''} change(s) the offers, "
                f"power sources or lead times before {spec.first_stage_last_year + 1}; use the extensive form "
                f"(without --method ph)")
    return ""
