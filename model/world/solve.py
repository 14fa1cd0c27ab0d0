"""Solving the world LP and reading out who gets what, and what the shared caps are worth.

A shared cap's dual is in billion USD (present value of the first year) per GW; the scarcity price
in year y is that dual undiscounted to y's nominal USD: price[v, y] = -dual[v, y] / discount_factor[y]
x 1e9 (USD per GW). A cap that does not bind has price 0.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from pyomo.environ import ConcreteModel, value

from model.concerns.power import facility_power, sources_in
from model.fmt import sig
from model.solve import failure_message, highs_version, make_solver, solve_model
from model.world.build import build_world, deliveries, overflows
from model.world.data import WorldInputs
from model.world.shares import pro_rata_shares

RULES = ("value", "pro-rata")


@dataclass
class WorldOutcome:
    """What a world solve produced: status, message, the model, and its read-out in plain dicts.

    ``plan`` holds, each keyed by tuples: ``in_service_gw[b, y]``, ``facility_gw[b, y]``, ``served_gw[b, y]``,
    ``spending_bnusd[b, y]``, ``debt_bnusd[b, y]``, ``deliveries_gw[b, v, y]``, ``grid_draw_gw[b, r, y]``,
    ``kind_builds_gw[b, k, y]``; ``prices`` holds ``vendor[v, y]``, ``region[r, y]`` and ``kind[k, y]``
    in USD per GW (nominal in the year); ``overflow`` the GW by which signed deals and history exceed a
    shared cap (elastic re-solve of an infeasible world only).
    """

    status: str              # optimal | infeasible | time_limit | solver_error | unbounded
    message: str
    rule: str
    model: ConcreteModel | None = None
    objective_bnusd: float | None = None
    plan: dict[str, dict] = field(default_factory=dict)
    prices: dict[str, dict] = field(default_factory=dict)
    overflow: dict[str, dict] = field(default_factory=dict)
    shares: dict[tuple[str, str, str], float] | None = None
    timings: dict[str, float] = field(default_factory=dict)
    size: dict[str, int] = field(default_factory=dict)
    solver: dict[str, Any] = field(default_factory=dict)

    @property
    def has_plan(self) -> bool:
        return self.status == "optimal"


def lp_size(m: ConcreteModel) -> dict[str, int]:
    """Active constraints and variables of a built model (rows, columns)."""
    from pyomo.environ import Constraint, Var

    rows = sum(1 for _ in m.component_data_objects(Constraint, active=True))
    cols = sum(1 for _ in m.component_data_objects(Var))
    return {"rows": rows, "columns": cols}


def solve_world(w: WorldInputs, rule: str = "value", keep_targets: bool = False,
                time_limit: float | None = None) -> WorldOutcome:
    """Build and solve the world plan under ``rule``; if signed deals and history cannot fit within the
    shared caps, re-solve with the caps elastic and name the caps they exceed (status ``infeasible``)."""
    if rule not in RULES:
        raise ValueError(f"unknown rule {rule!r}")
    timings: dict[str, float] = {}
    shares = pro_rata_shares(w) if rule == "pro-rata" else None
    t0 = time.perf_counter()
    m = build_world(w, keep_targets=keep_targets, shares=shares)
    timings["build_s"] = time.perf_counter() - t0
    opt = make_solver(time_limit)
    solver = {"name": "HiGHS", "version": highs_version(), "interface": "pyomo.contrib.appsi"}
    t0 = time.perf_counter()
    status, res = solve_model(opt, m)
    timings["solve_s"] = time.perf_counter() - t0
    size = lp_size(m)
    if status == "optimal":
        out = WorldOutcome("optimal", "every signed deal fits within the world's supply", rule, m,
                           float(value(m.net_cost)), shares=shares, timings=timings, size=size, solver=solver)
        read_out(out, w, opt.get_duals())
        history = {k: float(value(v)) for k, v in m.history_overflow_gw.items() if value(v) > 1e-6}
        grid = {k: float(value(v)) for k, v in m.history_grid_excess_gw.items() if value(v) > 1e-6}
        if history:
            out.overflow = {"history_beyond_world_output": history}
            out.message += ("; reported history alone exceeds the world's output in " + "; ".join(
                f"{cap_words(w, 'world_supply_cap', k)} by {sig(gw)} GW" for k, gw in sorted(history.items())))
        if grid:
            out.overflow = {**(out.overflow or {}), "history_beyond_regional_firm_power": grid}
            out.message += ("; reported history alone draws more than the region's firm power in " + "; ".join(
                f"{cap_words(w, 'world_grid_cap', k)} by {sig(gw)} GW" for k, gw in sorted(grid.items())))
        return out
    if status not in ("infeasible", "infeasible_or_unbounded"):
        return WorldOutcome(status, failure_message(status, time_limit, res), rule, None, shares=shares,
                            timings=timings, size=size, solver=solver)
    t0 = time.perf_counter()
    m = build_world(w, keep_targets=keep_targets, elastic=True, shares=shares)
    status, res = solve_model(make_solver(time_limit), m)
    timings["elastic_solve_s"] = time.perf_counter() - t0
    if status != "optimal":
        return WorldOutcome("infeasible", "the buyers' own inputs contradict each other even with every shared "
                            "cap relaxed (solve each buyer alone to find which)", rule, None, shares=shares,
                            timings=timings, size=size, solver=solver)
    out = WorldOutcome("infeasible", "", rule, m, None, shares=shares, timings=timings, size=size, solver=solver)
    read_out(out, w, {})
    out.overflow = {name: {k: float(value(v)) for k, v in var.items() if value(v) > 1e-6}
                    for name, var in overflows(m).items()}
    words = [f"{cap_words(w, fam, k)}: {sig(gw)} GW"
             for fam, rows in out.overflow.items() for k, gw in sorted(rows.items())]
    out.message = ("signed deals and history need more than the world makes: " + "; ".join(words[:8])
                   + (" ..." if len(words) > 8 else ""))
    return out


#: A shared cap family's row in words, by the kinds of its index (``buyer``, a display-name kind, ``year``).
CAP_WORDS = {
    "world_supply_cap": (("vendor", "year"), "the world's output of {vendor} chips in {year}"),
    "buyer_supply_share": (("buyer", "vendor", "year"), "{buyer}'s share of {vendor} chips in {year}"),
    "world_grid_cap": (("region", "year"), "firm grid power in {region} in {year}"),
    "buyer_grid_share": (("buyer", "region", "year"), "{buyer}'s share of firm grid power in {region} in {year}"),
    "world_kind_cap": (("power_kind", "year"), "{power_kind} built in {year} (all regions)"),
    "buyer_kind_share": (("buyer", "power_kind", "year"), "{buyer}'s share of {power_kind} built in {year}"),
}


def cap_words(w: WorldInputs, family: str, key: tuple) -> str:
    """One row of a shared cap family in words, with the display names the world's pages use.

    ``("world_supply_cap", ("nvidia", 2027))`` reads "the world's output of NVIDIA chips in 2027". A family this table does not know is said as its words and the row's names, never its ids.
    """
    from model.names import in_words, name, scenario_names

    shown = scenario_names(w.scenarios[w.default])
    kinds, text = CAP_WORDS.get(family, (None, None))
    if kinds is None or len(kinds) != len(key):
        return " ".join([in_words(family), *(in_words(str(k)) for k in key)])
    fields = {kind: (w.name_of(k) if kind == "buyer" and k in w.buyers else str(k) if kind == "year"
                     else name(kind, str(k), shown)) for kind, k in zip(kinds, key)}
    return text.format(**fields)


def grid_draw_used(m: ConcreteModel, w: WorldInputs, b: str, r: str, y: int) -> float:
    """The firm grid power buyer b uses in region r and year y (GW).

    The LP's ``grid_draw_gw`` may sit anywhere between the need and the cap where the region's grid
    has room (it costs nothing), so the read-out is the need:

        used = min(grid_draw, max(facility power - own firm power, grid energy / hours))
    """
    blk, s = m.buyer[b], w.scenarios[b]
    need = float(value(facility_power(blk, s, r, y))) - sum(
        float(value(blk.capacity_credit[p] * blk.power_in_service_gw[p, y])) for p in sources_in(s, r))
    energy = float(value(blk.grid_energy_twh[r, y])) / (s.hours_per_year / 1000.0)
    return max(0.0, min(float(value(m.grid_draw_gw[b, r, y])), max(need, energy)))


def read_out(out: WorldOutcome, w: WorldInputs, duals: dict) -> None:
    """Fill ``out.plan`` and ``out.prices`` from the solved model ``out.model`` (in place)."""
    m = out.model
    plan: dict[str, dict] = {k: {} for k in ("in_service_gw", "facility_gw", "served_gw", "spending_bnusd",
                                             "debt_bnusd", "deliveries_gw", "grid_draw_gw", "kind_builds_gw")}
    for b in w.buyers:
        blk, s = m.buyer[b], w.scenarios[b]
        in_service = blk.in_service_gw.extract_values()
        for y in w.years:
            it = sum(float(in_service[o, y] or 0.0) for o in s.offers)
            plan["in_service_gw"][b, y] = it
            plan["facility_gw"][b, y] = sum(float(in_service[o, y] or 0.0) * s.pue.get((s.offers[o].region, y), 1.0)
                                            for o in s.offers)
            plan["served_gw"][b, y] = float(value(m.served_gw[b, y]))
            plan["spending_bnusd"][b, y] = float(value(blk.spending_bnusd[y]))
            plan["debt_bnusd"][b, y] = float(value(blk.debt_bnusd[y]))
            for v in s.vendors:
                got = deliveries(blk, s, v, y)
                if got:
                    plan["deliveries_gw"][b, v, y] = float(sum(value(x) for x in got))
            for p, src in s.power_sources.items():
                if (p, y) in blk.POWER_BUILD_INDEX:
                    key = (b, src.kind, y)
                    plan["kind_builds_gw"][key] = plan["kind_builds_gw"].get(key, 0.0) + float(
                        value(blk.power_build_gw[p, y]))
    for b, r, y in m.GRID_DRAW_INDEX:
        plan["grid_draw_gw"][b, r, y] = grid_draw_used(m, w, b, r, y)
    out.plan = plan
    out.prices = {"vendor": {}, "region": {}, "kind": {}}
    for fam, name in (("vendor", "world_supply_cap"), ("region", "world_grid_cap"), ("kind", "world_kind_cap")):
        con = getattr(m, name, None)
        if con is None or not duals:
            continue
        for k, c in con.items():
            out.prices[fam][k] = max(0.0, -float(duals.get(c, 0.0))) / w.discount_factor(k[1]) * 1e9
