"""The frozen records the model is built from: :class:`Scenario` and its parts, in model units.

Everything downstream of :func:`model.scenario.load_scenario` trusts them: magnitudes are plain floats in
the model units of :mod:`model.units` (GW, GW/a, billion USD, EFLOP/s, TWh, years), sets are consistent,
nothing is NaN.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Iterable

from model.inputs import Override


@dataclass(frozen=True)
class Offer:
    """One way to get capacity: (vendor, family, host, region) under a contract."""

    name: str
    vendor: str
    family: str
    kind: str
    host: str
    region: str
    contract: str
    first_year: int
    description: str = ""
    energy_billed: bool = True      # False: the lease price includes power


@dataclass(frozen=True)
class PowerSource:
    """A way to supply facility power in a region: new grid, on-site gas, a nuclear or solar+storage contract."""

    name: str
    region: str
    kind: str          # grid | gas | nuclear | solar_storage
    first_year: int
    description: str = ""


@dataclass(frozen=True)
class Target:
    """Capacity (GW of IT or facility power) or compute (EFLOP/s) that must be in service in ``year``."""

    year: int
    kind: str          # "power" or "compute"
    value: float       # GW or EFLOP/s
    label: str         # e.g. "target 250 GW" or "milestone 1.9 GW (targets.csv line 2)"
    main: bool = False
    basis: str = "it"  # power targets: "it" (accelerator IT capacity) or "facility" (IT x PUE)

    @property
    def unit(self) -> str:
        return "GW" if self.kind == "power" else "EFLOP/s"


#: Deal statuses whose minimum is enforced; an LOI only caps; a cancelled deal is ignored.
MINIMUM_ENFORCED = ("signed", "active", "announced")


MAXIMUM_ENFORCED = ("signed", "active", "announced", "loi")


@dataclass(frozen=True)
class Deal:
    """A contract over a window, covering the offers its scope selects."""

    name: str
    counterparty: str
    status: str
    first_year: int
    last_year: int
    offers: tuple[str, ...]
    scope: str
    min_gw: float | None = None
    max_gw: float | None = None
    min_bnusd: float | None = None
    max_bnusd: float | None = None
    description: str = ""

    def window(self, years: Iterable[int]) -> tuple[int, ...]:
        return tuple(y for y in years if self.first_year <= y <= self.last_year)


@dataclass(frozen=True)
class Commitment:
    """A tranche announced with dates, or history: what the offers of a scope add (or pay) within years.

    ``kind`` is ``history`` (reported, fixed: not a decision and not a priced limit), ``scheduled`` (a
    delivery announced with a date: a lower bound, or exact) or ``stop`` (where an offer ends after
    its deal: an upper bound). ``unit`` is ``GW`` (capacity added) or ``bnUSD`` (money paid, nominal).
    """

    name: str
    kind: str
    offers: tuple[str, ...]
    scope: str
    first_year: int
    last_year: int
    bound: str          # at_least | exactly | at_most
    value: float        # GW or billion USD
    unit: str           # "GW" or "bnUSD"
    deal: str = ""
    source: str = ""

    def window(self, years: Iterable[int]) -> tuple[int, ...]:
        return tuple(y for y in years if self.first_year <= y <= self.last_year)


@dataclass(frozen=True)
class PortfolioRule:
    """A share of capacity in service that the scoped offers may (max) or must (min) hold."""

    name: str
    rule: str           # "max_share" or "min_share"
    scope: str
    offers: tuple[str, ...]
    first_year: int
    last_year: int
    share: float        # dimensionless, 0..1


@dataclass(frozen=True)
class Scenario:
    """Every input the model needs, validated and in model units.

    Dict-valued fields are keyed by tuples of set members; a key that is absent
    means "no limit" for caps and "zero" for costs.
    """

    name: str
    description: str
    years: tuple[int, ...]
    discount_rate: float
    utilisation: float
    hours_per_year: float
    vendors: dict[str, str]
    hosts: dict[str, str]
    regions: dict[str, str]
    families: dict[str, tuple[str, str, str]]        # family -> (kind, vendor, name)
    offers: dict[str, Offer]
    lifetime_yr: dict[str, int]
    build_cap_gw: dict[tuple[str, int], float]
    cumulative_cap_gw: dict[str, float]
    ramp_gw: dict[str, float]
    capex_bnusd_per_gw: dict[tuple[str, int], float]
    lease_bnusd_per_gw_yr: dict[tuple[str, int], float]
    fixed_bnusd_per_gw_yr: dict[tuple[str, int], float]
    supply_cap_gw: dict[tuple[str, int], float]
    grid_power_gw: dict[tuple[str, int], float]
    pue: dict[tuple[str, int], float]
    electricity_price_bnusd_per_twh: dict[tuple[str, int], float]
    eflops_per_gw: dict[tuple[str, int], float]       # (family, vintage) -> EFLOP/s per GW IT
    opening_gw: dict[tuple[str, int], float]          # (offer, vintage) -> GW
    targets: tuple[Target, ...]
    deals: tuple[Deal, ...]
    portfolio: tuple[PortfolioRule, ...]
    # energy (power sources beyond the grid already available)
    power_sources: dict[str, PowerSource] = field(default_factory=dict)
    power_lead_time_yr: dict[str, int] = field(default_factory=dict)
    power_lifetime_yr: dict[str, int] = field(default_factory=dict)
    power_build_cap_gw: dict[tuple[str, int], float] = field(default_factory=dict)
    power_cumulative_cap_gw: dict[str, float] = field(default_factory=dict)
    capacity_credit: dict[str, float] = field(default_factory=dict)
    capacity_factor: dict[str, float] = field(default_factory=dict)
    power_capex_bnusd_per_gw: dict[tuple[str, int], float] = field(default_factory=dict)
    power_fixed_bnusd_per_gw_yr: dict[tuple[str, int], float] = field(default_factory=dict)
    source_energy_price_bnusd_per_twh: dict[tuple[str, int], float] = field(default_factory=dict)
    source_emissions_t_per_mwh: dict[tuple[str, int], float] = field(default_factory=dict)
    power_kind_cap_gw: dict[tuple[str, int], float] = field(default_factory=dict)
    power_kind_world_cap_gw: dict[tuple[str, int], float] = field(default_factory=dict)   # all buyers (world run)
    grid_emissions_t_per_mwh: dict[tuple[str, int], float] = field(default_factory=dict)
    reference_energy_twh: dict[str, float] = field(default_factory=dict)
    world_output_gw: dict[tuple[str, int], float] = field(default_factory=dict)   # vendor world output (GW/a)
    calibration_refs: tuple = ()      # model.calibration.CalibrationRef rows of inputs/calibration.csv
    # money
    funding_on: bool = False
    revenue_bnusd: dict[int, float] = field(default_factory=dict)
    equity_bnusd: dict[int, float] = field(default_factory=dict)
    vendor_financing_bnusd: dict[int, float] = field(default_factory=dict)
    debt_limit_bnusd: dict[int, float] = field(default_factory=dict)
    debt_limit_multiple: dict[int, float] = field(default_factory=dict)   # x revenue; {} when stated in USD
    revenue_growth: dict[int, float] = field(default_factory=dict)        # growth path after the last revenue row
    terminal_debt_growth: float | None = None   # debt_end[Y] <= (1 + g) debt_end[Y-1]; None: no terminal rule
    interest_share_flag: float | None = None    # interest above this share of revenue is flagged
    interest_rate: float = 0.0
    revenue_to_compute: float = 1.0
    opening_cash_bnusd: float = 0.0
    cash_floor_bnusd: float = 0.0
    commitments: tuple[Commitment, ...] = ()
    overrides: tuple[Override, ...] = ()
    input_files: dict[str, str] = field(default_factory=dict)
    # the shares of the world's supply the run uses, with their basis (model.inputs.allocation.share_table)
    supply_share: dict[str, dict] = field(default_factory=dict)
    #: ``{kind: {id: name}}`` from ``inputs/display_names.csv`` and the vendor and host files (model.names).
    display_names: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def history_last_year(self) -> int | None:
        """The last year fixed by reported history (commitments of kind ``history``), or None."""
        years = [c.last_year for c in self.commitments if c.kind == "history" and c.window(self.years)]
        return max(years) if years else None

    # -- sets ---------------------------------------------------------------
    @property
    def first_year(self) -> int:
        return self.years[0]

    @property
    def last_year(self) -> int:
        return self.years[-1]

    @property
    def main_target(self) -> Target:
        return next(t for t in self.targets if t.main)

    @property
    def offer_years(self) -> tuple[tuple[str, int], ...]:
        """(offer, year) pairs in which an offer can be built."""
        return tuple((o, y) for o, info in self.offers.items() for y in self.years if y >= info.first_year)

    @cached_property
    def _offers_by(self) -> dict[tuple[str, str], tuple[str, ...]]:
        """(attribute, value) -> offers, built once (lookups inside constraint rules stay O(1))."""
        index: dict[tuple[str, str], list[str]] = defaultdict(list)
        for o, info in self.offers.items():
            for attr in ("vendor", "family", "kind", "host", "region", "contract"):
                index[attr, getattr(info, attr)].append(o)
        return {k: tuple(v) for k, v in index.items()}

    def offers_where(self, **attrs: str) -> tuple[str, ...]:
        """Offers whose attributes equal ``attrs`` (e.g. ``region="US-Texas"``), in input order."""
        if len(attrs) == 1:
            ((k, v),) = attrs.items()
            return self._offers_by.get((k, v), ())
        return tuple(o for o, info in self.offers.items() if all(getattr(info, k) == v for k, v in attrs.items()))

    @cached_property
    def _opening_by_offer(self) -> dict[str, tuple[tuple[int, float], ...]]:
        out: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for (o, vin), gw in self.opening_gw.items():
            out[o].append((vin, gw))
        return {o: tuple(v) for o, v in out.items()}

    # -- derived coefficients (pure functions of the fields) ----------------
    def discount_factor(self, year: int) -> float:
        """(1 + r)^-(year - first_year): the present value of 1 USD paid in ``year``."""
        return (1.0 + self.discount_rate) ** -(year - self.first_year)

    def capital_recovery_factor(self, offer: str) -> float:
        """r / ((1 + r) (1 - (1 + r)^-L)): the yearly payment, from the build year on, worth 1 USD then.

        Payments fall in the L years in service starting with the build year (as the objective
        charges them), so sum_{k=0..L-1} CRF (1 + r)^-k = 1: a purchase costs exactly its price in
        present value at the discount rate.
        """
        return annuity_due_factor(self.lifetime_yr[offer], self.discount_rate)

    def service_years(self, offer: str, vintage: int) -> tuple[int, ...]:
        """Planning years in which capacity of ``offer`` built in ``vintage`` is in service."""
        life = self.lifetime_yr[offer]
        return tuple(y for y in self.years if vintage <= y < vintage + life)

    def energy_twh_per_gw(self, region: str, year: int) -> float:
        """Facility energy drawn by 1 GW of IT capacity for a year: PUE x utilisation x hours (TWh/GW)."""
        return self.pue[region, year] * self.utilisation * self.hours_per_year / 1000.0

    def opening_in_service_gw(self, offer: str, year: int) -> float:
        """Opening-stock capacity of ``offer`` still in service in ``year``."""
        life = self.lifetime_yr[offer]
        return sum(gw for vin, gw in self._opening_by_offer.get(offer, ()) if vin <= year < vin + life)

    def opening_in_service_eflops(self, offer: str, year: int) -> float:
        life, fam = self.lifetime_yr[offer], self.offers[offer].family
        return sum(gw * self.eflops_per_gw[fam, vin] for vin, gw in self._opening_by_offer.get(offer, ())
                   if vin <= year < vin + life)

    def power_build_years(self, source: str) -> tuple[int, ...]:
        """Years in which new capacity of ``source`` can come into service.

        Capacity decided in the first planning year serves from first year +
        lead time at the earliest, and never before the source's own first year.
        """
        earliest = max(self.power_sources[source].first_year, self.first_year + self.power_lead_time_yr[source])
        return tuple(y for y in self.years if y >= earliest)

    def power_service_vintages(self, source: str, year: int) -> tuple[int, ...]:
        """Build years of ``source`` still in service in ``year``."""
        life = self.power_lifetime_yr[source]
        return tuple(v for v in self.power_build_years(source) if v <= year < v + life)

    def power_capital_recovery_factor(self, source: str) -> float:
        """As :meth:`capital_recovery_factor`, over the power source's lifetime."""
        return annuity_due_factor(self.power_lifetime_yr[source], self.discount_rate)

    def funding_bnusd(self, year: int) -> float:
        """Money for compute in ``year`` before borrowing: revenue share + equity + vendor financing."""
        return (self.revenue_to_compute * self.revenue_bnusd.get(year, 0.0) + self.equity_bnusd.get(year, 0.0)
                + self.vendor_financing_bnusd.get(year, 0.0))

    def with_target(self, value: float, kind: str, year: int, basis: str = "it") -> "Scenario":
        """A copy whose main target is ``value`` (GW or EFLOP/s) from ``year`` on."""
        others = tuple(t for t in self.targets if not t.main)
        main = main_target_rows(value, kind, year, self.years, basis)
        return replace(self, targets=others + main)


def annuity_due_factor(life: int, r: float) -> float:
    """Yearly payment over ``life`` years, the first now, whose present value at rate ``r`` is 1."""
    return 1.0 / life if r == 0 else r / ((1.0 + r) * (1.0 - (1.0 + r) ** -life))


def main_target_rows(value: float, kind: str, year: int, years: tuple[int, ...],
                  basis: str = "it") -> tuple[Target, ...]:
    """The target holds in its year and every later planning year (capacity stood up is kept)."""
    unit = "GW" if kind == "power" else "EFLOP/s"
    from model.fmt import quantity

    shown = f"{value:g} {unit}" if kind == "power" else quantity(value * 1e18, "FLOP/s")   # no e-notation
    if kind == "power" and basis == "facility":
        shown += " of facility power"
    return tuple(Target(y, kind, value, f"target {shown} by {year}", main=True, basis=basis)
                 for y in years if y >= year)
