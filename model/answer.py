"""The answer an analyst can quote: all-in capex per GW, calibration against reported figures,
the largest reachable capacity (always), whether the target binds, what stops more (:mod:`model.why`)
and the headline with its range over the ranged inputs (:mod:`model.headline_range`).

Everything here reads a solved plan (and, for the reach and the ranking, re-solves variants of
its scenario); nothing changes the plan itself.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Iterable

import xarray as xr

from model import fmt
from model.scenario import Scenario
from model.units import quantity_json

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
        shown = (f"{fmt.quantity(held, 'FLOP/s')} in service in {ty} against a target of "
                 f"{fmt.quantity(t.value * 1e18, 'FLOP/s')}")
    return {"value": False, "unit": "",
            "note": f"the target does not bind: {shown}; deal minimums, scheduled deliveries and history "
                    "drive the plan, so its cost does not depend on the target"}


# ----------------------------------------------------------------------------
# The headline's range, the ranking and what stops more (model.headline_range, model.why)
# ----------------------------------------------------------------------------
def read_tables(inputs_dir: Path | str, scenario: str | None) -> dict[str, Any]:
    """The raw input tables after the scenario file (where each row says whether it is an assumption)."""
    from model.scenario import read_base_inputs

    return read_base_inputs(Path(inputs_dir), scenario).tables


def run_target(s: Scenario) -> Any:
    """The ``TargetSpec`` that gives ``s``'s main target (to load variants of the run)."""
    from model.scenario import TargetSpec

    t = s.main_target
    year = min(x.year for x in s.targets if x.main)
    text = f"{t.value!r} GW" if t.kind == "power" else f"{t.value!r} EFLOP/s"
    return TargetSpec(text, year, getattr(t, "basis", "it"))


def why_extras(s: Scenario, outcome: Any, time_limit: float | None) -> dict[str, Any]:
    """``max_reachable`` (when the run did not solve it) and ``what_stops`` (:func:`model.why.what_stops`)."""
    from model.why import reach_limits, row_levels, what_stops

    out: dict[str, Any] = {}
    unit = "GW" if s.main_target.kind == "power" else "EFLOP/s"
    if outcome.reach_binding and outcome.max_reachable is not None:
        limits = [b.as_json() for b in outcome.reach_binding]
        levels = row_levels(outcome.model, [b["constraint"] for b in limits])
    else:
        reach, limits, levels = reach_limits(s, time_limit)
        if outcome.max_reachable is None:
            out["max_reachable"] = reach
    out["what_stops"] = what_stops(limits, levels, unit)
    return out


def extras(s: Scenario, outcome: Any, inputs_dir: Path | str | None, scenario: str | None,
           ranking: bool = True, time_limit: float | None = None, sets: Iterable[str] | None = None,
           target: Any = None) -> dict[str, Any]:
    """Figures that need more solves than the plan's own: the largest reachable figure, what stops more,
    and the headline's range with the ranking of the ranged inputs (``inputs/ranges.csv``).

    ``sets`` are the run's ``--set`` assignments (None: the run had none; a Scenario with command-line
    overrides but no ``sets`` gets no range, as its variants could not be rebuilt).
    """
    out: dict[str, Any] = {}
    if not outcome.has_plan:
        return out
    out.update(why_extras(s, outcome, time_limit))
    # the headline is the reach when the target is missed or the run maximised it (--objective max-capacity)
    missed = outcome.status == "target_missed" or outcome.max_reachable is not None
    skipped = ""
    if not ranking:
        skipped = "not computed: --no-ranking"
    elif inputs_dir is None:
        skipped = "not computed: no inputs folder"
    elif sets is None and any(o.origin == "command line" for o in s.overrides):
        skipped = "not computed: the run's --set overrides were not passed on"
    if skipped:
        out["headline_range"] = {"value": None, "unit": "", "note": skipped}
        return out
    from model.headline_range import headline_pass

    out.update(headline_pass(s, Path(inputs_dir), scenario, list(sets or ()), target or run_target(s), missed,
                             time_limit))
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
