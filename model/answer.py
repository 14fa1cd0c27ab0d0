"""The answer an analyst can quote: all-in capex per GW, calibration against reported figures,
the largest reachable capacity (always), whether the target binds, and the assumptions ranked by
how much each moves the headline.

Everything here reads a solved plan (and, for the reach and the ranking, re-solves variants of
its scenario); nothing changes the plan itself.
"""
from __future__ import annotations

import math
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Iterable

import xarray as xr

from model.scenario import Scenario
from model.units import quantity_json

#: Reported figures the plan is set beside (value, unit, source URL, what it is).
FRIAR_URL = ("https://bharathorizon.com/technology/artificial-intelligence/"
             "openai-compute-grows-95x-revenue-hits-20b.html")
RESET_URL = "https://techbuzz.ai/articles/openai-slashes-compute-spending-target-to-600b-down-from-1-4t"
ALTMAN_URL = "https://www.newsmax.com/finance/streettalk/sam-altman-open-ai-trillion/2025/10/29/id/1232304/"
SEED_COST_URL = "https://voice.lapaas.com/openai-250gw-data-center-2033/?amp=1"
REVENUE_URL = "https://www.ainvest.com/news/openai-600b-compute-target-guidance-reset-reality-check-2602"
BURN_URL = "https://longportapp.com/en/news/256202476"
GERMANY_URL = "https://de.statista.com/statistik/daten/studie/256942/umfrage/bruttostromverbrauch-in-deutschland"
STARGATE_URL = "https://news.superex.com/articles/15171.html"


def _fig(value: float | None, unit: str) -> dict[str, Any]:
    return quantity_json(value, unit) if value is not None else {"value": None, "unit": unit}


# ----------------------------------------------------------------------------
# All-in capex per GW
# ----------------------------------------------------------------------------
def all_in_capex_per_gw(s: Scenario, ds: xr.Dataset, target_year: int) -> dict[str, Any]:
    """Chips + facility + power per GW of IT capacity (USD/GW), from the capex rows the plan used.

    chips_and_facility = sum_{purchase o, y <= Y} capex[o, y] * build[o, y] / sum build[o, y]
    (the capex rows are per GW of IT: servers, network and the hall, as Epoch's 37.9e9 USD/GW),
    or the plain mean of the purchase offers' capex rows if the plan buys nothing;
    power = power build-out paid to Y / IT capacity added to Y. Leased capacity carries no capex
    (its rent is in ``cost_per_gw``).
    """
    years = [int(y) for y in ds.year.values if int(y) <= target_year]
    build = ds["build_gw"].sel(year=years)
    bought_gw = 0.0
    bought_usd = 0.0
    for o, info in s.offers.items():
        if info.contract != "purchase":
            continue
        for y in years:
            gw = float(build.sel(offer=o, year=y))
            bought_gw += gw
            bought_usd += gw * s.capex_bnusd_per_gw.get((o, y), 0.0) * 1e9
    if bought_gw > 1e-9:
        chips = bought_usd / bought_gw
        how = "weighted by the purchases in the plan"
    else:
        rows = [v for (o, y), v in s.capex_bnusd_per_gw.items() if s.offers[o].contract == "purchase" and v > 0]
        chips = (sum(rows) / len(rows) * 1e9) if rows else 0.0
        how = "mean of the purchase offers' capex rows (the plan buys nothing)"
    added = float(build.sum())
    power_usd = float(ds["power_capex_usd"].sel(year=years).sum()) if "power_capex_usd" in ds else 0.0
    power = power_usd / added if added > 1e-9 else 0.0
    return {**quantity_json(chips + power, "USD/GW"),
            "basis": (f"IT: chips, servers, network and facility per GW of IT capacity bought ({how}), plus power "
                      f"build-out paid {years[0]}-{target_year} per GW of IT added; compare with the ~50 billion USD/GW "
                      "all-in figure behind public headlines (Stargate: 500 billion USD for 10 GW)"),
            "parts": {"chips_and_facility": quantity_json(chips, "USD/GW"), "power": quantity_json(power, "USD/GW")}}


# ----------------------------------------------------------------------------
# Calibration
# ----------------------------------------------------------------------------
def calibration(s: Scenario, ds: xr.Dataset, summ: dict[str, Any]) -> dict[str, Any]:
    """The plan's 2025-2026 capacity, spending and energy beside reported figures, with sources and notes."""
    years = [int(y) for y in ds.year.values]
    spend = dict(zip(years, (float(v) for v in ds["spending_usd"].values)))
    ins = dict(zip(years, (float(v) for v in ds["in_service_gw"].sum("offer").values)))
    target_year = summ["target_year"]
    rows: list[dict[str, Any]] = []

    def row(figure: str, plan: float | None, reported: float, unit: str, source: str, note: str) -> None:
        rows.append({"figure": figure, "plan": plan, "reported": reported, "unit": unit, "source": source,
                     "note": note})

    if 2025 in ins:
        row("capacity in service end-2025", ins[2025], 1.9, "GW", FRIAR_URL,
            "history: 2025 additions are fixed data (commitments.csv history_2025), so the plan matches "
            "unless a scenario changes them")
    if 2025 in spend:
        row("compute and energy spending 2025", spend[2025], 21.1e9, "USD", f"{REVENUE_URL} ; {BURN_URL}",
            "reported: OpenAI's whole 2025 outlay, revenue 13.1 + burn 8 billion USD (staff, sales and compute); the "
            "plan counts only compute, its energy and interest, and rents clouds at list-like prices")
    to2030 = [y for y in years if y <= 2030]
    if to2030:
        row(f"spending {to2030[0]}-2030", sum(spend[y] for y in to2030), 600e9, "USD", RESET_URL,
            "reported: compute spending to 2030 after the February 2026 reset (was 1.4 trillion USD); the plan's spending "
            "is nominal cash (purchases when built, rents, energy, interest)")
    eight = [y for y in years if y <= years[0] + 7]
    row(f"spending {eight[0]}-{eight[-1]} (8 years)", sum(spend[y] for y in eight), 1.4e12, "USD", ALTMAN_URL,
        "reported: the cost of ~30 GW committed (Oct 2025) 'over the next 8 years'; the plan's capacity "
        f"in {eight[-1]} is {ins.get(eight[-1], 0.0):,.1f} GW")
    all_in = summ.get("all_in_capex_per_gw", {}).get("value")
    cap_ty = summ["capacity_in_service"][str(target_year)]["value"]
    if all_in is not None:
        row(f"capex of the capacity in {target_year} (all-in per GW x GW)", all_in * cap_ty, 12.5e12, "USD",
            SEED_COST_URL,
            f"seed arithmetic: 250 GW x ~50 billion USD/GW; the plan: {cap_ty:,.1f} GW x {all_in / 1e9:,.1f} billion USD/GW "
            "all-in (chips, facility, power; leased capacity valued at the same capex)")
    energy = summ.get("energy", {}).get("value")
    if energy is not None:
        row(f"energy in {target_year}", energy, 2190.0, "TWh", GERMANY_URL,
            f"seed arithmetic: 250 GW flat out x 8,760 h = 2,190 TWh = 4.3x Germany's 512 TWh; the plan draws "
            f"{cap_ty:,.1f} GW of IT at {s.utilisation:.0%} use x PUE = {energy:,.0f} TWh "
            f"({energy / 512.0:.1f}x Germany)")
    return {"value": rows, "unit": ""}


# ----------------------------------------------------------------------------
# Largest reachable, whether the target binds
# ----------------------------------------------------------------------------
def largest_reachable(s: Scenario, time_limit: float | None = None) -> float | None:
    """The most the plan can hold from the target year on (GW or EFLOP/s), or None if it cannot be solved."""
    from pyomo.environ import value

    from model.build import build_model
    from model.concerns.targets import add_largest_reachable
    from model.solve import make_solver

    m = build_model(s)
    add_largest_reachable(m, s)
    try:
        res = make_solver(time_limit).solve(m)
        res.solution_loader.load_vars()
    except (RuntimeError, ValueError) as exc:    # appsi: no solution to load (infeasible, time limit, solver error)
        print(f"note: the largest reachable figure could not be solved ({type(exc).__name__}: "
              f"{str(exc).splitlines()[0][:200] if str(exc) else ''}); it is left out", file=sys.stderr)
        return None
    return float(value(m.reachable))


def target_binds(s: Scenario, outcome: Any, summ: dict[str, Any]) -> dict[str, Any]:
    """Does the main target drive the plan? ``value`` True when a target row has a dual (or it is missed)."""
    if outcome.status == "target_missed":
        return {"value": True, "unit": "", "note": "the target cannot be met: the plan holds the most it can"}
    binds = any(b.constraint.startswith(("target_capacity", "target_compute")) for b in outcome.binding)
    if binds:
        return {"value": True, "unit": "", "note": "the target drives the plan: without it the plan would be smaller"}
    t = s.main_target
    ty = summ["target_year"]
    if t.kind == "power":
        held = summ["capacity_in_service"][str(ty)]["value"]
        shown = f"{held:,.1f} GW in service in {ty} against a target of {t.value:,.1f} GW"
    else:
        held = summ.get("compute_in_service", {}).get(str(ty), {}).get("value", 0.0)
        shown = f"{held:.3g} FLOP/s in service in {ty} against a target of {t.value * 1e18:.3g} FLOP/s"
    return {"value": False, "unit": "",
            "note": f"the target does not bind: {shown}; deal minimums, scheduled deliveries and history "
                    "drive the plan, so its cost does not depend on the target"}


# ----------------------------------------------------------------------------
# Assumptions ranked by how much they move the headline
# ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Candidate:
    """One assumption-marked input, varied one at a time from ``low`` to ``high``."""

    key: str
    label: str
    low: float
    high: float
    unit: str
    vary: Callable[[Scenario, float], Scenario]


def _member_words(s: Scenario, column: str, member: str, names: dict | None) -> str:
    """A vendor, region, offer or power source in the user's words."""
    from model.concerns.common import offer_label

    if column == "offer" and member in s.offers:
        return offer_label(s, member)
    if column == "power_source" and member in s.power_sources:
        src = s.power_sources[member]
        kind = {"grid": "new grid", "gas": "on-site gas", "nuclear": "nuclear contracts",
                "solar_storage": "solar + storage"}.get(src.kind, src.kind)
        return f"{kind} in {src.region}"
    if column == "region":
        return member
    return (names or {}).get(member, member)


def _scaled(field: str, pick: Callable[[Any], bool]) -> Callable[[Scenario, float], Scenario]:
    def vary(s: Scenario, f: float) -> Scenario:
        values = getattr(s, field)
        return replace(s, **{field: {k: v * f if pick(k) else v for k, v in values.items()}})
    return vary


def _scalar(field: str) -> Callable[[Scenario, float], Scenario]:
    return lambda s, v: replace(s, **{field: v})


def _is_assumption(row: Any) -> bool:
    return row.get("confidence") == "assumption" or row.get("source").lower().startswith("assumption")


def candidates(s: Scenario, tables: dict[str, Any]) -> list[Candidate]:
    """The assumption-marked inputs a ``--set`` key can move, with a one-at-a-time range each.

    Scale keys (supply, grid power, lease prices, capex, power build caps, debt limit) go from 0.8x
    to 1.2x in the years after reported history; the discount and interest rates +-2 points; the
    revenue share for compute 60..80 %. Only members whose rows are marked ``assumption`` are varied.
    """
    def marked(file: str, parameter: str, column: str | None) -> list[str]:
        t = tables.get(file)
        if t is None:
            return []
        out = [r.get(column) if column else "" for r in t.rows
               if r.get("parameter") == parameter and _is_assumption(r)]
        return list(dict.fromkeys(out))

    out: list[Candidate] = []
    for key, file, parameter, column, field, names in (
            ("supply_scale", "vendor_supply.csv", "supply_cap", "vendor", "supply_cap_gw", s.vendors),
            ("grid_power_scale", "region_parameters.csv", "grid_power", "region", "grid_power_gw", s.regions),
            ("lease_price_scale", "offer_parameters.csv", "lease_price", "offer", "lease_bnusd_per_gw_yr", None),
            ("capex_scale", "offer_parameters.csv", "capex", "offer", "capex_bnusd_per_gw", None),
            ("power_build_scale", "power_source_parameters.csv", "build_cap", "power_source", "power_build_cap_gw",
             None)):
        past = s.history_last_year or s.first_year - 1
        for member in marked(file, parameter, column):
            shown = _member_words(s, column, member, names)
            out.append(Candidate(f"{key}.{member}", f"{parameter.replace('_', ' ')} of {shown}", 0.8, 1.2,
                                 "", _scaled(field, lambda k, m=member: k[0] == m and k[1] > past)))
    if marked("finance.csv", "debt_limit", None) and s.debt_limit_bnusd:
        out.append(Candidate("debt_limit_scale", "debt limit", 0.8, 1.2, "",
                             _scaled("debt_limit_bnusd", lambda k: True)))
    for key, field, lo, hi, label in (("discount_rate", "discount_rate", -0.02, 0.02, "discount rate"),
                                      ("interest_rate", "interest_rate", -0.02, 0.02, "interest rate"),
                                      ("revenue_to_compute", "revenue_to_compute", None, None, "revenue share for compute")):
        if not marked("scalars.csv", key, None):
            continue
        base = getattr(s, field)
        low, high = (0.6, 0.8) if lo is None else (max(0.0, base + lo), base + hi)
        out.append(Candidate(key, label, low, high, "", _scalar(field)))
    return out


def rank_assumptions(s: Scenario, tables: dict[str, Any], missed: bool, most: int = 80,
                     time_limit: float | None = None) -> dict[str, Any]:
    """One-at-a-time pass over the assumption-marked inputs; ranked by the swing of the headline.

    The headline is the total cost when the target is met, the largest reachable capacity when it
    is missed. Each variant is the validated scenario with one input scaled (no new rows, so every
    figure stays within the checks it passed); it is re-solved warm from the base plan's basis
    (:mod:`model.fastsolve`). At most ``most`` inputs are varied (in the order of :func:`candidates`),
    so the answer does not depend on the machine's speed; the rest are counted.
    """
    from model.build import SWEEPABLE_PARAMS, param_values

    cands = candidates(s, tables)
    ref = param_values(s)
    variants: list[tuple[Candidate, Scenario, Scenario]] = []
    changed: set[str] = set()
    for c in cands:
        lo, hi = c.vary(s, c.low), c.vary(s, c.high)
        for v in (lo, hi):
            pv = param_values(v)
            changed |= {k for k in pv if pv[k] != ref.get(k)}
        variants.append((c, lo, hi))
    rows: list[dict[str, Any]] = []
    skipped = 0
    solver = _Solver(s, changed & SWEEPABLE_PARAMS, missed, time_limit)
    base = solver(s)[1 if missed else 0]
    for c, lo, hi in variants:
        if len(rows) >= most:
            skipped += 1
            continue
        a, b = solver(lo), solver(hi)
        row = {"key": c.key, "label": c.label, "low": c.low, "high": c.high, "unit": c.unit,
               "cost_low": a[0], "cost_high": b[0], "capacity_low": a[1], "capacity_high": b[1]}
        metric = (a[1], b[1]) if missed else (a[0], b[0])
        if None not in metric:
            row["swing"] = abs(metric[1] - metric[0])
        else:
            ends = [e for e, x in (("low", metric[0]), ("high", metric[1])) if x is None]
            known = [x for x in metric if x is not None]
            # one end has no plan: the swing is what the other end moves from the base (a lower bound)
            row["swing"] = abs(known[0] - base) if known and base is not None else None
            row["note"] = (f"no plan at the {' and '.join(ends)} end: the inputs then contradict each other "
                           "(e.g. scheduled deliveries or deal minimums beyond what is left)"
                           + ("; the swing is the other end's change from the base" if row["swing"] is not None
                              else ""))
        row["swing_unit"] = "GW" if missed else "USD"
        rows.append(row)
    rows.sort(key=lambda r: (r["swing"] is None, -(r["swing"] or 0.0), "note" in r))
    out: dict[str, Any] = {"value": rows, "unit": "",
                           "headline": "largest reachable capacity" if missed else "total cost",
                           "method": "one at a time: each assumption-marked input from low to high, the rest at base; "
                                     f"{solver.how}"}
    if skipped:
        out["not_ranked"] = f"{skipped} of {len(variants)} inputs (at most {most} are varied)"
    return out


class _Solver:
    """Re-solve scenario variants: warm in HiGHS when the fast path compiles, else build each one."""

    def __init__(self, s: Scenario, mutable: set[str], missed: bool, time_limit: float | None) -> None:
        self.s, self.missed, self.time_limit = s, missed, time_limit
        self.plan = None
        self.rebuilt = 0
        self.how = "each variant built and solved"
        try:
            from model.fastsolve import HighsPlan, compile_plan

            arrays = compile_plan(s, sorted(mutable), "reach" if missed else "min-cost", time_limit)
            self.plan = HighsPlan(arrays, time_limit)
            self.how = "re-solved warm in HiGHS from the base plan's basis with only the varied coefficients changed"
        except (ValueError, RuntimeError, KeyError) as exc:    # the fast path refuses this plan's shape
            self.plan = None
            self.how += f" (the fast path refused this plan: {type(exc).__name__}: {str(exc)[:160]})"

    def __call__(self, v: Scenario) -> tuple[float | None, float | None]:
        """(total cost in USD or None, largest reachable in GW or None) for variant ``v``."""
        if self.plan is not None:
            try:
                from model.build import param_values

                self.plan.reset()
                self.plan.set_params(self.plan.param_vector(param_values(v)))
                cs = self.plan.solve_reach() if self.missed else self.plan.solve_min_cost()
                if cs.status != "optimal":
                    return None, None
                cost = cs.objective_bnusd * 1e9 if math.isfinite(cs.objective_bnusd) else None
                reach = cs.max_reachable if math.isfinite(cs.max_reachable) else None
                return cost, reach
            except (ValueError, RuntimeError, KeyError) as exc:   # a variant the warm plan cannot hold: built afresh
                self.rebuilt += 1
                if self.rebuilt == 1:
                    self.how += (f"; variants the warm plan could not hold were built afresh "
                                 f"(first: {type(exc).__name__}: {str(exc)[:160]})")
        from model.solve import solve_plan

        o = solve_plan(v, "min-cost", self.time_limit)
        if o.status == "optimal":
            return o.objective_bnusd * 1e9, None
        if o.status == "target_missed":
            return o.objective_bnusd * 1e9 if o.objective_bnusd is not None else None, o.max_reachable
        return None, None


def read_tables(inputs_dir: Path | str, scenario: str | None) -> dict[str, Any]:
    """The raw input tables after the scenario file (where each row says whether it is an assumption)."""
    from model.scenario import read_base_inputs

    return read_base_inputs(Path(inputs_dir), scenario).tables


def extras(s: Scenario, outcome: Any, inputs_dir: Path | str | None, scenario: str | None,
           ranking: bool = True, time_limit: float | None = None) -> dict[str, Any]:
    """Figures that need more solves than the plan's own: the largest reachable figure and the ranking."""
    out: dict[str, Any] = {}
    if not outcome.has_plan:
        return out
    if outcome.max_reachable is None:
        out["max_reachable"] = largest_reachable(s, time_limit)
    if ranking and inputs_dir is not None:
        from model.errors import InputError, InputErrors

        try:
            tables = read_tables(inputs_dir, scenario)
        except (InputErrors, InputError, OSError) as exc:    # the plan's own inputs were read; these are again
            print(f"note: the inputs could not be read again to rank the assumptions ({str(exc).splitlines()[0]}); "
                  "none is ranked", file=sys.stderr)
            tables = {}
        out["assumptions_ranked"] = rank_assumptions(s, tables, outcome.status == "target_missed",
                                                     time_limit=time_limit)
    return out


def peak_debt(summ: dict[str, Any]) -> tuple[float, str] | None:
    """(largest debt in USD, its year) from a summary, or None."""
    debt = summ.get("debt") or {}
    if not debt:
        return None
    year, fig = max(debt.items(), key=lambda kv: kv[1]["value"])
    return fig["value"], year


def build_years(summ: dict[str, Any], top: int = 3) -> list[tuple[str, float]]:
    """The years in which most capacity is added (year, GW), largest first."""
    added = summ.get("capacity_added") or {}
    return sorted([(y, f["value"]) for y, f in added.items() if f["value"] > 1e-6], key=lambda a: -a[1])[:top]
