"""The world LP: one Block per buyer (the single-buyer model) and the constraints the buyers share.

Each buyer's Block is :func:`model.build.build_model` of its Scenario: its own offers, deals,
commitments, money (revenue, equity, debt limit) and costs. Its own vendor supply caps, grid power
rows and kind caps are switched off where the world holds a shared cap, and the shared rows below
take their place. Units: GW of accelerator IT power (deliveries in a year: GW/a x 1 a), GW of
facility power, TWh, billion USD (present value of the first year in the objective).
"""
from __future__ import annotations

from dataclasses import replace

from pyomo.environ import Block, ConcreteModel, Constraint, NonNegativeReals, Objective, Set, Var, minimize

from model.build import build_model
from model.concerns.power import facility_power, sources_in
from model.scenario import Scenario
from model.world.data import WorldInputs

#: Penalty for GW of a shared cap exceeded in the elastic form (billion USD per GW, present value):
#: far above any value of capacity, so it is used only when signed deals and history need more than
#: the world makes.
ELASTIC_PENALTY_BNUSD_PER_GW = 1.0e4


def deliveries(blk: Block, s: Scenario, vendor: str, year: int) -> list:
    """The buyer's builds of ``vendor``'s offers in ``year`` (GW), as a list of variables."""
    return [blk.build_gw[o, year] for o in s.offers_where(vendor=vendor) if (o, year) in blk.OFFER_YEARS]


def kind_builds(blk: Block, s: Scenario, kind: str, year: int) -> list:
    """The buyer's power builds of ``kind`` in ``year`` (GW), as a list of variables."""
    return [blk.power_build_gw[p, year] for p, src in s.power_sources.items()
            if src.kind == kind and (p, year) in blk.POWER_BUILD_INDEX]


def supply_rows(w: WorldInputs) -> list[tuple[str, int]]:
    """(vendor, year) rows of the shared supply cap: every year with a world output figure (after reported
    history only when ``w.history_supply_free``, as the single-buyer model does)."""
    free = w.history_last_year if w.history_supply_free and w.history_last_year is not None else None
    return [(v, y) for (v, y) in sorted(w.world_output_gw) if free is None or y > free]


def history_rows(w: WorldInputs) -> list[tuple[str, int]]:
    """Rows of the shared supply cap in years of reported history (some buyer's deliveries then are data)."""
    return [(v, y) for (v, y) in supply_rows(w) if w.history_last_year is not None and y <= w.history_last_year]


def build_world(w: WorldInputs, keep_targets: bool = False, elastic: bool = False,
                shares: dict[tuple[str, str, str], float] | None = None) -> ConcreteModel:
    """The world LP for ``w``.

    Parameters
    ----------
    w : WorldInputs
        Every buyer's Scenario and the shared caps.
    keep_targets : bool
        Keep each buyer's targets and milestones as hard rows (a one-buyer world then reproduces the
        single-buyer plan); by default they are dropped: announced capacity and its value are the demand.
    elastic : bool
        Let every shared cap be exceeded at :data:`ELASTIC_PENALTY_BNUSD_PER_GW` (to name the caps that
        signed deals and history cannot fit within).
    shares : dict, optional
        ``{(kind, name, buyer): share}`` (kind ``vendor``, ``region`` or ``power_kind``): the pro-rata rule.
        Each buyer is held to its share of each shared cap instead of the buyers sharing one row.
    """
    m = ConcreteModel(name=f"world plan ({w.name})")
    m.BUYERS = Set(initialize=list(w.buyers), ordered=True)
    m.YEARS = Set(initialize=list(w.years), ordered=True)
    m.buyer = Block(m.BUYERS)
    for b in w.buyers:
        s = w.scenarios[b] if keep_targets else replace(w.scenarios[b], targets=())
        blk = m.buyer[b]
        build_model(s, into=blk)
        blk.total_cost.deactivate()
        release_shared_caps(blk, s, w)
    m.elastic = elastic
    add_grid_draw(m, w)
    add_world_supply_cap(m, w, shares)
    add_world_grid_cap(m, w, shares)
    add_world_kind_cap(m, w, shares)
    add_served(m, w)
    add_net_cost_objective(m, w)
    return m


def release_shared_caps(blk: Block, s: Scenario, w: WorldInputs) -> None:
    """Switch off a buyer's own rows where the world holds a shared cap.

    ``vendor_supply_cap[v, y]`` for vendors with world output, ``grid_power[r, y]`` and
    ``grid_energy_cap[r, y]`` for regions with a regional firm power figure (replaced by the
    buyer's grid draw, :func:`add_grid_draw`) and every ``power_kind_supply_cap[k, y]``.
    """
    vendors = {v for v, _ in w.world_output_gw}
    regions = {r for r, _ in w.regional_firm_gw}
    if hasattr(blk, "vendor_supply_cap"):
        for (v, y), con in blk.vendor_supply_cap.items():
            if v in vendors:
                con.deactivate()
    for name in ("grid_power", "grid_energy_cap"):
        if hasattr(blk, name):
            for (r, y), con in getattr(blk, name).items():
                if r in regions:
                    con.deactivate()
    if hasattr(blk, "power_kind_supply_cap"):
        blk.power_kind_supply_cap.deactivate()


def _grid_rows(m: ConcreteModel, w: WorldInputs) -> list[tuple[str, str, int]]:
    regions = {r for r, _ in w.regional_firm_gw}
    return [(b, r, y) for b in w.buyers for (r, y) in m.buyer[b].GRID_INDEX if r in regions]


def add_grid_draw(m: ConcreteModel, w: WorldInputs) -> None:
    """Each buyer's firm draw on a region's grid: its facility power beyond its own firm power.

    For every buyer b and (region r, year y) of b that can hold capacity, r with a regional figure:

        sum_{o in O_b(r)} pue[r, y] * in_service_gw_b[o, y]
            <=  grid_draw_gw[b, r, y] + sum_{p in P_b(r)} capacity_credit[p] * power_in_service_gw_b[p, y]
                                                                                    (buyer_grid_power, GW)
        grid_energy_twh_b[r, y]  <=  grid_draw_gw[b, r, y] * hours / 1000            (buyer_grid_energy, TWh)

    The buyer's own sources (P_b(r)) serve only the buyer; the grid draw is what the regions share
    (:func:`add_world_grid_cap`).
    """
    rows = _grid_rows(m, w)
    m.GRID_DRAW_INDEX = Set(initialize=rows, dimen=3, ordered=True)
    m.grid_draw_gw = Var(m.GRID_DRAW_INDEX, within=NonNegativeReals, doc="buyer's firm draw on the grid (GW)")

    def power_rule(m, b, r, y):
        blk, s = m.buyer[b], w.scenarios[b]
        return facility_power(blk, s, r, y) <= m.grid_draw_gw[b, r, y] + sum(
            blk.capacity_credit[p] * blk.power_in_service_gw[p, y] for p in sources_in(s, r))

    def energy_rule(m, b, r, y):
        hours_twh = w.scenarios[b].hours_per_year / 1000.0
        return m.buyer[b].grid_energy_twh[r, y] <= m.grid_draw_gw[b, r, y] * hours_twh

    m.buyer_grid_power = Constraint(m.GRID_DRAW_INDEX, rule=power_rule)
    m.buyer_grid_energy = Constraint(m.GRID_DRAW_INDEX, rule=energy_rule)


def _overflow(m: ConcreteModel, name: str, index: list) -> Var | None:
    """The elastic overflow of a shared cap family (GW), or None when the caps are hard."""
    if not m.elastic:
        return None
    var = Var(index, within=NonNegativeReals, doc=f"GW beyond the shared cap ({name})")
    m.add_component(f"{name}_overflow_gw", var)
    return var


def overflows(m: ConcreteModel) -> dict[str, Var]:
    """The elastic overflow variables of the built model, by the constraint family they relax."""
    return {c.name.removesuffix("_overflow_gw"): c for c in m.component_objects(Var, descend_into=False)
            if c.name.endswith("_overflow_gw") and c.name != "history_overflow_gw"}


def add_world_supply_cap(m: ConcreteModel, w: WorldInputs, shares: dict | None = None) -> None:
    """What all buyers take of a vendor's chips in a year fits within the world's output.

    For every vendor v with world output and year y:

        sum_b sum_{o in O_b(v)} build_gw_b[o, y]  <=  world_output_gw[v, y] * 1 a + history_overflow_gw[v, y]
                                                                                        (world_supply_cap, GW)

    history_overflow_gw exists only in years of reported history (a buyer's deliveries then are data,
    which may not fit a world figure from another source) and costs the elastic penalty, so it is used
    only when history alone exceeds the world's output; buyers without history in those years still
    take only what the world made beside the history of the others.

    Its dual, undiscounted to year y, is the scarcity price of v's chips in y (USD per GW).
    Under the pro-rata rule each buyer has its own row instead:
    sum_{o in O_b(v)} build_gw_b[o, y] <= share[v, b] * world_output_gw[v, y] (buyer_supply_share).
    """
    rows = [k for k in supply_rows(w) if any(deliveries(m.buyer[b], w.scenarios[b], k[0], k[1]) for b in w.buyers)]
    m.WORLD_SUPPLY_INDEX = Set(initialize=rows, dimen=2, ordered=True)
    over = _overflow(m, "world_supply_cap", rows)
    m.HISTORY_SUPPLY_INDEX = Set(initialize=[k for k in history_rows(w) if k in set(rows)], dimen=2, ordered=True)
    m.history_overflow_gw = Var(m.HISTORY_SUPPLY_INDEX, within=NonNegativeReals,
                                doc="GW of reported history beyond the world's output")

    def rule(m, v, y):
        taken = sum(sum(deliveries(m.buyer[b], w.scenarios[b], v, y)) for b in w.buyers)
        extra = m.history_overflow_gw[v, y] if (v, y) in m.HISTORY_SUPPLY_INDEX else 0.0
        return taken <= w.world_output_gw[v, y] + extra + (over[v, y] if over is not None else 0.0)

    if shares is None:
        m.world_supply_cap = Constraint(m.WORLD_SUPPLY_INDEX, rule=rule)
        return
    index = [(b, v, y) for v, y in rows if (v, y) not in m.HISTORY_SUPPLY_INDEX       # history is data
             for b in w.buyers if deliveries(m.buyer[b], w.scenarios[b], v, y)]
    share_over = _overflow(m, "buyer_supply_share", index)
    m.buyer_supply_share = Constraint(index, rule=lambda m, b, v, y: sum(deliveries(m.buyer[b], w.scenarios[b], v, y))
                                      <= shares.get(("vendor", v, b), 0.0) * w.world_output_gw[v, y]
                                      + (share_over[b, v, y] if share_over is not None else 0.0))


def add_world_grid_cap(m: ConcreteModel, w: WorldInputs, shares: dict | None = None) -> None:
    """What all buyers draw on a region's grid fits within its firm power.

    For every region r with a regional figure and year y in which some buyer can hold capacity there:

        sum_b grid_draw_gw[b, r, y]  <=  regional_firm_gw[r, y] + history_grid_excess_gw[r, y]  (world_grid_cap, GW)

    history_grid_excess_gw exists only in years of reported history and costs the elastic penalty.

    regional_firm = sum_c regional_power[c, y] x capacity_credit[c] (not x a buyer's share). Its
    dual, undiscounted, is the scarcity price of firm power in r in y (USD per GW of facility power).
    Under the pro-rata rule: grid_draw_gw[b, r, y] <= share[r, b] * regional_firm_gw[r, y].
    """
    rows = sorted({(r, y) for _, r, y in m.GRID_DRAW_INDEX})
    m.WORLD_GRID_INDEX = Set(initialize=rows, dimen=2, ordered=True)
    over = _overflow(m, "world_grid_cap", rows)
    # years of reported history: what the buyers drew then is data, which may not fit a regional figure
    # from another source (a higher PUE, a lower regional figure); the excess costs the elastic penalty,
    # so it is used only when history alone exceeds the region's firm power, and it is reported
    m.HISTORY_GRID_INDEX = Set(initialize=[k for k in rows if w.history_last_year is not None
                                           and k[1] <= w.history_last_year], dimen=2, ordered=True)
    m.history_grid_excess_gw = Var(m.HISTORY_GRID_INDEX, within=NonNegativeReals,
                                   doc="GW of grid draw in reported history beyond the region's firm power")
    if shares is None:
        m.world_grid_cap = Constraint(m.WORLD_GRID_INDEX, rule=lambda m, r, y: sum(
            m.grid_draw_gw[b, r, y] for b in w.buyers if (b, r, y) in m.GRID_DRAW_INDEX)
            <= w.regional_firm_gw.get((r, y), 0.0) + (over[r, y] if over is not None else 0.0)
            + (m.history_grid_excess_gw[r, y] if (r, y) in m.HISTORY_GRID_INDEX else 0.0))
        return
    index = [k for k in m.GRID_DRAW_INDEX if w.history_last_year is None or k[2] > w.history_last_year]
    share_over = _overflow(m, "buyer_grid_share", index)
    m.buyer_grid_share = Constraint(index, rule=lambda m, b, r, y: m.grid_draw_gw[b, r, y]
                                    <= shares.get(("region", r, b), 0.0) * w.regional_firm_gw.get((r, y), 0.0)
                                    + (share_over[b, r, y] if share_over is not None else 0.0))


def add_world_kind_cap(m: ConcreteModel, w: WorldInputs, shares: dict | None = None) -> None:
    """What all buyers add of one kind of power over all regions in a year fits within the kind's cap.

    For every kind k (gas turbines, nuclear contracts, ...) and year y with a cap:

        sum_b sum_{p : kind(p) = k} power_build_gw_b[p, y]  <=  kind_cap_gw[k, y] * 1 a   (world_kind_cap, GW)

    Under the pro-rata rule: sum_{p : kind(p) = k} power_build_gw_b[p, y] <= share[k, b] * kind_cap_gw[k, y].
    """
    rows = [k for k in sorted(w.kind_cap_gw) if any(kind_builds(m.buyer[b], w.scenarios[b], *k) for b in w.buyers)]
    m.WORLD_KIND_INDEX = Set(initialize=rows, dimen=2, ordered=True)
    over = _overflow(m, "world_kind_cap", rows)
    if shares is None:
        m.world_kind_cap = Constraint(m.WORLD_KIND_INDEX, rule=lambda m, k, y: sum(
            sum(kind_builds(m.buyer[b], w.scenarios[b], k, y)) for b in w.buyers)
            <= w.kind_cap_gw[k, y] + (over[k, y] if over is not None else 0.0))
        return
    index = [(b, k, y) for k, y in rows for b in w.buyers if kind_builds(m.buyer[b], w.scenarios[b], k, y)]
    share_over = _overflow(m, "buyer_kind_share", index)
    m.buyer_kind_share = Constraint(index, rule=lambda m, b, k, y: sum(kind_builds(m.buyer[b], w.scenarios[b], k, y))
                                    <= shares.get(("power_kind", k, b), 0.0) * w.kind_cap_gw[k, y]
                                    + (share_over[b, k, y] if share_over is not None else 0.0))


def add_served(m: ConcreteModel, w: WorldInputs) -> None:
    """The part of each buyer's announced capacity its capacity in service meets.

    For every buyer b and year y:

        served_gw[b, y]  <=  announced_gw[b, y]                                   (served_within_announced, GW)
        served_gw[b, y]  <=  sum_o in_service_gw_b[o, y]                          (served_within_service, GW)

    Capacity beyond the announced figure is worth nothing to the buyer (it may still be built to honour
    signed deals); the shortfall is announced_gw - served_gw.
    """
    m.served_gw = Var(m.BUYERS, m.YEARS, within=NonNegativeReals, doc="announced capacity met (GW)")
    m.served_within_announced = Constraint(m.BUYERS, m.YEARS, rule=lambda m, b, y: m.served_gw[b, y]
                                           <= w.announced_gw.get((b, y), 0.0))
    m.served_within_service = Constraint(m.BUYERS, m.YEARS, rule=lambda m, b, y: m.served_gw[b, y] <= sum(
        m.buyer[b].in_service_gw[o, y] for o in w.scenarios[b].offers))


def add_net_cost_objective(m: ConcreteModel, w: WorldInputs) -> None:
    """Minimise the buyers' discounted costs less the value of the announced capacity they get.

        min  sum_b total_cost_b  -  sum_{b, y} discount_factor[y] * value_of_capacity[b, y] * served_gw[b, y]
             + penalty * (history beyond world output + overflow of shared caps, elastic form only)

    billion USD, present value of the first year; total_cost_b is the buyer's own objective
    (:func:`model.concerns.costs.add_objective`), value_of_capacity in billion USD per GW-year. This is
    the negative of the total surplus: a partial equilibrium with elastic demand (as TIMES/MARKAL).
    """
    value = sum(w.discount_factor(y) * w.value_bnusd_per_gw_yr.get((b, y), 0.0) * m.served_gw[b, y]
                for b in w.buyers for y in w.years)
    penalty = ELASTIC_PENALTY_BNUSD_PER_GW * (sum(m.history_overflow_gw[k] for k in m.history_overflow_gw)
                                              + sum(m.history_grid_excess_gw[k] for k in m.history_grid_excess_gw))
    if m.elastic:
        for over in overflows(m).values():
            penalty = penalty + ELASTIC_PENALTY_BNUSD_PER_GW * sum(over[k] for k in over)
    m.net_cost = Objective(expr=sum(m.buyer[b].total_cost.expr for b in w.buyers) - value + penalty, sense=minimize)
