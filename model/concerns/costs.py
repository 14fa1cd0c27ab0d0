"""Costs and the objective: discounted purchases (as annuities), leases, fixed costs and energy.

Money convention (nominal throughout, the cost of capital counted once)
-----------------------------------------------------------------------
Every USD input is nominal, and every cash flow is discounted at the
buyer's nominal cost of capital r (``discount_rate``). A purchase is charged
as an annuity at that same rate over its lifetime, so its whole annuity
stream is worth its price in the year it is bought; the years of the stream
that fall after the horizon are charged in the ``after_horizon`` part (see
:func:`add_after_horizon`), so a late purchase is not cheaper than an early
one. Borrowing moves cash between years; at the discount rate it is
neutral in present value, so the objective charges only the spread of its
interest over r (``financing``), never the interest itself.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Callable, Iterable

import xarray as xr
from pyomo.environ import ConcreteModel, Expression, Objective, Set, minimize

from model.concerns.common import active_vintages, add_param
from model.scenario import Scenario

#: Cost parts, each a yearly Expression ``<part>_cost_bnusd[y]`` on the model (billion USD, undiscounted):
#: capital (annuities of purchases), lease, fixed (O&M of offers), energy (by source), power
#: (annuities and fixed costs of power sources), financing (the spread of interest over the discount
#: rate on debt), after_horizon (what the plan still owes after the last year, valued in the last year).
PARTS = ("capital", "lease", "fixed", "energy", "power", "financing", "after_horizon")


def remaining_annuity_factor(s: Scenario, years_left: int) -> float:
    """Value in the last planning year of 1 USD a year paid in each of the next ``years_left`` years.

        A(n) = sum_{k=1..n} (1 + r)^-k      (dimensionless; A(0) = 0)
    """
    return _annuity_sum(s.discount_rate, max(0, years_left))


@lru_cache(maxsize=4096)
def _annuity_sum(r: float, years: int) -> float:
    """sum_{k=1..years} (1 + r)^-k, once per (rate, years): a sweep asks for the same few hundred per case."""
    return sum((1.0 + r) ** -k for k in range(1, years + 1))


def discount_factor(s: Scenario) -> dict[int, float]:
    """Param ``discount_factor[y]``: present value of 1 USD paid in year y, (1 + r)^-(y - y0) (dimensionless)."""
    return {y: s.discount_factor(y) for y in s.years}


def capex_bnusd_per_gw(s: Scenario) -> dict[tuple[str, int], float]:
    """Param ``capex_bnusd_per_gw[o, v]``: purchase price (billion USD/GW) by (offer, build year), 0 if none."""
    return {k: s.capex_bnusd_per_gw.get(k, 0.0) for k in s.offer_years}


def capital_recovery_factor(s: Scenario) -> dict[str, float]:
    """Param ``capital_recovery_factor[o]``: yearly annuity worth 1 USD over an offer's lifetime (dimensionless)."""
    return {o: s.capital_recovery_factor(o) for o in s.offers}


def lease_bnusd_per_gw_yr(s: Scenario) -> dict[tuple[str, int], float]:
    """Param ``lease_bnusd_per_gw_yr[o, y]``: lease (billion USD/GW-year) by (offer, year), 0 if none."""
    return {(o, y): s.lease_bnusd_per_gw_yr.get((o, y), 0.0) for o in s.offers for y in s.years}


def fixed_bnusd_per_gw_yr(s: Scenario) -> dict[tuple[str, int], float]:
    """Param ``fixed_bnusd_per_gw_yr[o, y]``: fixed O&M cost (billion USD/GW-year) by (offer, year), 0 if none."""
    return {(o, y): s.fixed_bnusd_per_gw_yr.get((o, y), 0.0) for o in s.offers for y in s.years}


def after_horizon_annuity(s: Scenario) -> dict[tuple[str, int], float]:
    """Param ``after_horizon_annuity[o, v]``: A(years vintage v of offer o is left in service after the horizon).

    Dimensionless; only vintages that can be built and outlive the last year.
    """
    last = s.last_year
    offer_years = set(s.offer_years)
    out = {}
    for o in s.offers:
        life = s.lifetime_yr[o]
        for v in s.years:
            n = v + life - 1 - last
            if n > 0 and (o, v) in offer_years:
                out[o, v] = remaining_annuity_factor(s, n)
    return out


def after_horizon_opening_gw(s: Scenario) -> dict[str, float]:
    """Param ``after_horizon_opening_gw[o]``: opening stock of o in service after the horizon, weighted by A (GW).

    Only offers with some such stock.
    """
    last = s.last_year
    out = {}
    for o in s.offers:
        life = s.lifetime_yr[o]
        held = sum(gw * remaining_annuity_factor(s, vin + life - 1 - last) for vin, gw in s._opening_by_offer.get(o, ())
                   if vin + life - 1 > last)
        if held > 0:
            out[o] = held
    return out


def power_after_horizon_annuity(s: Scenario) -> dict[tuple[str, int], float]:
    """Param ``power_after_horizon_annuity[p, v]``: as ``after_horizon_annuity``, for power sources (dimensionless)."""
    return _power_annuities(s, s.power_sources)


def take_or_pay_after_horizon_annuity(s: Scenario) -> dict[tuple[str, int], float]:
    """Param ``take_or_pay_after_horizon_annuity[p, v]``: ``power_after_horizon_annuity`` of take-or-pay contracts.

    Dimensionless. Only the sources of :func:`take_or_pay_sources`, whose fixed payments continue after the
    horizon.
    """
    return _power_annuities(s, take_or_pay_sources(s))


def _power_annuities(s: Scenario, sources: Iterable[str]) -> dict[tuple[str, int], float]:
    """A(years build v of source p is left in service after the horizon) for ``sources``, where positive."""
    last = s.last_year
    out = {}
    for p in sources:
        life = s.power_lifetime_yr[p]
        for v in s.power_build_years(p):
            n = v + life - 1 - last
            if n > 0:
                out[p, v] = remaining_annuity_factor(s, n)
    return out


#: This concern's Params, name -> function of the Scenario giving ``{index: value}``, in build order.
#: Each reads only what its own Param needs, so a sweep case re-works only those whose inputs moved
#: (:class:`model.fastsolve.reads.KeptParams`).
PARAMS: dict[str, Callable[[Scenario], dict]] = {
    "discount_factor": discount_factor,
    "capex_bnusd_per_gw": capex_bnusd_per_gw,
    "capital_recovery_factor": capital_recovery_factor,
    "lease_bnusd_per_gw_yr": lease_bnusd_per_gw_yr,
    "fixed_bnusd_per_gw_yr": fixed_bnusd_per_gw_yr,
    "after_horizon_annuity": after_horizon_annuity,
    "after_horizon_opening_gw": after_horizon_opening_gw,
    "power_after_horizon_annuity": power_after_horizon_annuity,
    "take_or_pay_after_horizon_annuity": take_or_pay_after_horizon_annuity,
}


def param_values(s: Scenario) -> dict[str, dict]:
    """Cost coefficients for scenario ``s`` (billion USD per GW or per GW-year; factors dimensionless).

    The after-horizon annuity factors A(n) (:func:`remaining_annuity_factor`) weigh what is still owed
    after the last year; see :func:`add_after_horizon`.
    """
    return {name: fn(s) for name, fn in PARAMS.items()}


def take_or_pay_sources(s: Scenario) -> list[str]:
    """Power sources that are take-or-pay contracts: no capex in any build year and a fixed payment.

    Such a source (a nuclear or solar + storage PPA) is paid in ``fixed_cost`` per GW contracted for its
    lifetime (the contract term) whether its energy is used or not, so its payments after the horizon are
    owed, as a lease's are. The fixed cost of an owned plant (gas, grid) is O&M that stops with the plant
    and is left out after the horizon, as energy is.
    """
    out = []
    for p in s.power_sources:
        builds = s.power_build_years(p)
        if builds and all(s.power_capex_bnusd_per_gw.get((p, v), 0.0) == 0.0 for v in builds) \
                and any(s.power_fixed_bnusd_per_gw_yr.get((p, y), 0.0) > 0.0 for y in s.years):
            out.append(p)
    return out


def add_components(m: ConcreteModel, s: Scenario) -> None:
    """Cost Params and the yearly cost Expressions (billion USD per year, undiscounted)."""
    values = param_values(s)
    add_param(m, "discount_factor", m.YEARS, values["discount_factor"])
    add_param(m, "capex_bnusd_per_gw", m.OFFER_YEARS, values["capex_bnusd_per_gw"])
    add_param(m, "capital_recovery_factor", m.OFFERS, values["capital_recovery_factor"])
    add_param(m, "lease_bnusd_per_gw_yr", m.OFFERS * m.YEARS, values["lease_bnusd_per_gw_yr"])
    add_param(m, "fixed_bnusd_per_gw_yr", m.OFFERS * m.YEARS, values["fixed_bnusd_per_gw_yr"])
    m.AFTER_HORIZON_VINTAGES = Set(initialize=list(values["after_horizon_annuity"]), dimen=2, ordered=True)
    m.AFTER_HORIZON_OPENING = Set(initialize=list(values["after_horizon_opening_gw"]), ordered=True)
    m.POWER_AFTER_HORIZON = Set(initialize=list(values["power_after_horizon_annuity"]), dimen=2, ordered=True)
    add_param(m, "after_horizon_annuity", m.AFTER_HORIZON_VINTAGES, values["after_horizon_annuity"])
    add_param(m, "after_horizon_opening_gw", m.AFTER_HORIZON_OPENING, values["after_horizon_opening_gw"])
    add_param(m, "power_after_horizon_annuity", m.POWER_AFTER_HORIZON, values["power_after_horizon_annuity"])
    m.TAKE_OR_PAY_AFTER_HORIZON = Set(initialize=list(values["take_or_pay_after_horizon_annuity"]), dimen=2,
                                      ordered=True)
    add_param(m, "take_or_pay_after_horizon_annuity", m.TAKE_OR_PAY_AFTER_HORIZON,
              values["take_or_pay_after_horizon_annuity"])

    def capital(m, y):
        """Annuity of every vintage in service: sum_o sum_{v in V(o,y)} capex[o,v] * CRF[o] * build_gw[o,v]."""
        return sum(m.capex_bnusd_per_gw[o, v] * m.capital_recovery_factor[o] * m.build_gw[o, v]
                   for o in s.offers for v in active_vintages(s, o, y))

    m.capital_cost_bnusd = Expression(m.YEARS, rule=capital)
    m.lease_cost_bnusd = Expression(m.YEARS, rule=lambda m, y: sum(
        m.lease_bnusd_per_gw_yr[o, y] * m.in_service_gw[o, y] for o in s.offers))
    m.fixed_cost_bnusd = Expression(m.YEARS, rule=lambda m, y: sum(
        m.fixed_bnusd_per_gw_yr[o, y] * m.in_service_gw[o, y] for o in s.offers))
    m.purchase_cash_bnusd = Expression(m.YEARS, rule=lambda m, y: sum(
        m.capex_bnusd_per_gw[o, y] * m.build_gw[o, y] for o in s.offers if (o, y) in m.OFFER_YEARS))


def add_after_horizon(m: ConcreteModel, s: Scenario) -> None:
    """What the plan still owes after the last year Y, valued in Y (billion USD; zero in other years).

        after_horizon[Y] = sum_o sum_{v: v + L(o) - 1 > Y} (capex[o, v] * CRF[o] + lease[o, Y]) * build_gw[o, v] * A(v + L(o) - 1 - Y)
                         + sum_o sum_{opening (v, g) of o} lease[o, Y] * g * A(v + L(o) - 1 - Y)
                         + sum_p sum_{v: v + L(p) - 1 > Y} power_capex[p, v] * CRF[p] * power_build_gw[p, v] * A(v + L(p) - 1 - Y)
                         + sum_{p take-or-pay} sum_{v: v + L(p) - 1 > Y} power_fixed[p, Y] * power_build_gw[p, v] * A(v + L(p) - 1 - Y)
                         + spread / (1 + r) * debt_end[Y]

    A(n) is :func:`remaining_annuity_factor`. Purchases (capacity and power
    sources) are annuities at the discount rate, so with this part every
    purchase is charged its full price in present value, wherever in the
    horizon it falls; leases run on at the last year's price while the
    capacity is in service. The debt still outstanding is assumed repaid in
    the year after the horizon: at the discount rate that is neutral in
    present value (what it paid for is already counted), so only its spread
    for that year is charged. Take-or-pay power contracts (:func:`take_or_pay_sources`)
    run on at the last year's payment for the rest of their term, as leases do.
    Energy and the fixed (O&M) costs of owned capacity and plants after Y are
    not owed and are left out.
    """
    last = s.last_year

    def rule(m, y):
        if y != last:
            return 0.0
        expr = sum((m.capex_bnusd_per_gw[o, v] * m.capital_recovery_factor[o] + m.lease_bnusd_per_gw_yr[o, last])
                   * m.after_horizon_annuity[o, v] * m.build_gw[o, v] for o, v in m.AFTER_HORIZON_VINTAGES)
        expr += sum(m.lease_bnusd_per_gw_yr[o, last] * m.after_horizon_opening_gw[o] for o in m.AFTER_HORIZON_OPENING)
        if hasattr(m, "power_build_gw"):
            expr += sum(m.power_capex_bnusd_per_gw[p, v] * m.power_crf[p] * m.power_after_horizon_annuity[p, v]
                        * m.power_build_gw[p, v] for p, v in m.POWER_AFTER_HORIZON)
            expr += sum(m.power_fixed_bnusd_per_gw_yr[p, last] * m.take_or_pay_after_horizon_annuity[p, v]
                        * m.power_build_gw[p, v] for p, v in m.TAKE_OR_PAY_AFTER_HORIZON)
        if s.funding_on and hasattr(m, "debt_end_bnusd"):
            expr += m.debt_after_horizon_spread * m.debt_end_bnusd[last]
        return expr

    m.after_horizon_cost_bnusd = Expression(m.YEARS, rule=rule)


def interest_spread(s: Scenario) -> float:
    """Interest over the discount rate, max(0, interest_rate - discount_rate) (dimensionless, per year).

    A rate below the discount rate is charged as neutral: counting it as a
    gain would make borrowing without end look profitable.
    """
    return max(0.0, s.interest_rate - s.discount_rate)


def add_objective(m: ConcreteModel, s: Scenario) -> None:
    """Minimise the discounted total cost (billion USD, nominal, in present value of the first year).

        min  sum_y discount_factor[y] * (capital[y] + lease[y] + fixed[y] + energy[y] + power[y]
                                         + financing[y] + after_horizon[y])

    with discount_factor[y] = (1 + r)^-(y - first_year) at the nominal cost
    of capital r; capital[y] the annuities (capex x CRF at r) of the vintages
    in service; financing[y] = spread x debt at the start of y (the interest
    over r: borrowing at r costs nothing in present value); after_horizon
    what is still owed after the last year (:func:`add_after_horizon`). So
    each purchase is charged exactly its price in present value. Each part
    is an Expression added by its concern (see :data:`PARTS`).
    """
    add_after_horizon(m, s)
    m.total_cost = Objective(expr=sum(
        m.discount_factor[y] * sum(getattr(m, f"{part}_cost_bnusd")[y] for part in PARTS) for y in s.years),
        sense=minimize)


LIMITS: dict = {}


def report(m: ConcreteModel, s: Scenario) -> xr.Dataset:
    """Yearly costs by part (USD, undiscounted and discounted) and the cash spent per year."""
    from pyomo.environ import value

    years = list(s.years)
    parts = {p: [value(getattr(m, f"{p}_cost_bnusd")[y]) * 1e9 for y in years] for p in PARTS}
    df = [s.discount_factor(y) for y in years]
    cost = [[parts[p][j] for j in range(len(years))] for p in PARTS]
    discounted = [[parts[p][j] * df[j] for j in range(len(years))] for p in PARTS]
    cash = {name: [value(getattr(m, f"{name}_bnusd")[y]) * 1e9 for y in years]
            for name in ("purchase_cash", "power_capex_cash", "spending", "funding", "borrowing", "debt")}
    return xr.Dataset(
        {
            "cost_usd": (("cost_part", "year"), cost, {"units": "USD", "long_name": "yearly cost by part (capital as annuities)"}),
            "discounted_cost_usd": (("cost_part", "year"), discounted, {"units": "USD", "long_name": "yearly cost by part, discounted to the first year"}),
            "discount_factor": (("year",), df, {"units": "dimensionless"}),
            "spending_usd": (("year",), cash["spending"], {"units": "USD", "long_name": "cash paid in the year (purchases when built, leases, fixed costs, energy, power build-out, interest)"}),
            "purchase_usd": (("year",), cash["purchase_cash"], {"units": "USD", "long_name": "purchase price of capacity built in the year"}),
            "power_capex_usd": (("year",), cash["power_capex_cash"], {"units": "USD", "long_name": "cost of power sources built in the year"}),
            "funding_usd": (("year",), cash["funding"], {"units": "USD", "long_name": "revenue share, equity and vendor financing in the year"}),
            "borrowing_usd": (("year",), cash["borrowing"], {"units": "USD", "long_name": "new borrowing in the year"}),
            "debt_usd": (("year",), cash["debt"], {"units": "USD", "long_name": "debt outstanding at the end of the year"}),
        },
        coords={"cost_part": list(PARTS)},
    )
