"""The validated Scenario: sets and canonical magnitudes, ready for the model.

:func:`load_scenario` is the edge of the system: it reads ``inputs/``, applies
a scenario file and ``--set`` overrides, validates everything (collecting all
problems) and returns a frozen :class:`Scenario`. Everything downstream trusts
it: magnitudes are plain floats in the model units of :mod:`model.units`
(GW, GW/a, billion USD, EFLOP/s, TWh, years), sets are consistent, nothing is
NaN.
"""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from model.errors import InputError, InputErrors
from model.inputs import (ENTITY_KEY, SCHEMAS, RawRow, parse_value, Catalogue, Fact, Override, RawTable, apply_scenario_file, apply_set,
                          check_rows, expand_kind_defaults, facts_from, input_hashes, load_catalogue, parse_scope,
                          read_raw_tables, display_path)
from model.units import COMPUTE, POWER, UnitParseError, describe, parse_quantity

DEFAULT_INPUTS = Path(__file__).resolve().parent.parent / "inputs"


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
    grid_emissions_t_per_mwh: dict[tuple[str, int], float] = field(default_factory=dict)
    reference_energy_twh: dict[str, float] = field(default_factory=dict)
    # money
    funding_on: bool = False
    revenue_bnusd: dict[int, float] = field(default_factory=dict)
    equity_bnusd: dict[int, float] = field(default_factory=dict)
    vendor_financing_bnusd: dict[int, float] = field(default_factory=dict)
    debt_limit_bnusd: dict[int, float] = field(default_factory=dict)
    interest_rate: float = 0.0
    revenue_to_compute: float = 1.0
    opening_cash_bnusd: float = 0.0
    cash_floor_bnusd: float = 0.0
    commitments: tuple[Commitment, ...] = ()
    overrides: tuple[Override, ...] = ()
    input_files: dict[str, str] = field(default_factory=dict)

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
        return _annuity_due_factor(self.lifetime_yr[offer], self.discount_rate)

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
        return _annuity_due_factor(self.power_lifetime_yr[source], self.discount_rate)

    def funding_bnusd(self, year: int) -> float:
        """Money for compute in ``year`` before borrowing: revenue share + equity + vendor financing."""
        return (self.revenue_to_compute * self.revenue_bnusd.get(year, 0.0) + self.equity_bnusd.get(year, 0.0)
                + self.vendor_financing_bnusd.get(year, 0.0))

    def with_target(self, value: float, kind: str, year: int, basis: str = "it") -> "Scenario":
        """A copy whose main target is ``value`` (GW or EFLOP/s) from ``year`` on."""
        others = tuple(t for t in self.targets if not t.main)
        main = _main_targets(value, kind, year, self.years, basis)
        return replace(self, targets=others + main)


def _annuity_due_factor(life: int, r: float) -> float:
    """Yearly payment over ``life`` years, the first now, whose present value at rate ``r`` is 1."""
    return 1.0 / life if r == 0 else r / ((1.0 + r) * (1.0 - (1.0 + r) ** -life))


def _main_targets(value: float, kind: str, year: int, years: tuple[int, ...],
                  basis: str = "it") -> tuple[Target, ...]:
    """The target holds in its year and every later planning year (capacity stood up is kept)."""
    unit = "GW" if kind == "power" else "EFLOP/s"
    shown = f"{value:g} {unit}" if kind == "power" else f"{value * 1e18:.3g} FLOP/s"
    if kind == "power" and basis == "facility":
        shown += " of facility power"
    return tuple(Target(y, kind, value, f"target {shown} by {year}", main=True, basis=basis)
                 for y in years if y >= year)


# ----------------------------------------------------------------------------
# Series helpers
# ----------------------------------------------------------------------------
def interpolate(points: dict[int, float], years: Iterable[int]) -> dict[int, float]:
    """Linear interpolation between the given years, flat before the first and after the last."""
    xs = sorted(points)
    return {y: float(np.interp(y, xs, [points[x] for x in xs])) for y in years}


def _series(facts: list[Fact], years: tuple[int, ...], errors: list[InputError]) -> dict[int, float] | None:
    """One parameter of one key: either one all-years row, or rows for given years (interpolated)."""
    all_years = [f for f in facts if f.keys.get("year") is None]
    dated = [f for f in facts if f.keys.get("year") is not None]
    if all_years and dated:
        f = dated[0]
        errors.append(InputError(f.file, f.row, "year",
                                 f"either one row with an empty year for '{f.parameter}' or rows for given years",
                                 f"both (the empty-year row is {all_years[0].file} line {all_years[0].row})"))
        return None
    if all_years:
        return {y: all_years[0].value for y in years}
    return interpolate({f.keys["year"]: f.value for f in dated}, years)


def whole_years(value: float, fact: Fact | None, param: str, errors: list[InputError]) -> int | None:
    """A lifetime or lead time as a whole number of years; a fraction is refused, never rounded.

    The plan counts years as whole planning periods, so ``2.5 a`` (or ``30 month``)
    cannot be represented; rounding it silently (half to even: 2.5 -> 2,
    3.5 -> 4) changed the plan. The error names the row (file and line, the
    ``--set`` key or the scenario file entry) the value came from.

    Examples
    --------
    >>> whole_years(3.0, None, "lifetime", [])
    3
    >>> errs = []; whole_years(2.5, None, "lifetime", errs), len(errs)
    (None, 1)
    """
    whole = round(value)
    if abs(value - whole) <= 1e-6 * max(1.0, abs(value)):
        return int(whole)
    file, row = (fact.file, fact.row) if fact is not None else ("inputs/parameters.yaml", param)
    error = InputError(file, row, "value", f"a whole number of years for '{param}' (plans count whole years; "
                       f"write {math.floor(value):g} a or {math.ceil(value):g} a)", f"{value:g} a")
    if error not in errors:       # one --set row applies to every offer: say it once
        errors.append(error)
    return None


def _group(facts: list[Fact], *cols: str) -> dict[tuple, list[Fact]]:
    out: dict[tuple, list[Fact]] = {}
    for f in facts:
        out.setdefault(tuple(f.keys.get(c) for c in cols) + (f.parameter,), []).append(f)
    return out


# ----------------------------------------------------------------------------
# Loading
# ----------------------------------------------------------------------------
@dataclass(frozen=True)
class TargetSpec:
    """The main target as the user gave it (``--target``, ``--year``)."""

    text: str | None = None
    year: int | None = None
    basis: str = "it"          # "it" or "facility" (power targets only)


def _read_target(target: "TargetSpec", errors: list[InputError]) -> tuple[float, str] | None:
    """The main target's (value, kind) from ``--target``, or None (the default); problems go to ``errors``."""
    if target.text is None:
        return None
    try:
        return parse_target(target.text)
    except InputError as exc:
        errors.append(exc)
        return None


def parse_target(text: str, option: str = "--target") -> tuple[float, str]:
    """Read a target: a power (GW of IT capacity) or a compute rate (FLOP/s).

    Returns
    -------
    (value, kind)
        ``value`` in GW for kind ``"power"`` or EFLOP/s for kind ``"compute"``.

    Raises
    ------
    InputError
        Naming ``option`` when the text is not a power or a compute rate, or is negative.
    """
    expected = "a power (e.g. 250GW, 250000 MW) or a compute rate (e.g. 400 ZFLOP/s, 4e23 FLOP/s)"
    try:
        q = parse_quantity(text)
    except UnitParseError:
        raise InputError("command line", option, option, expected,
                         repr(text) if str(text).strip() else "an empty value") from None
    if q.dimensionality == POWER:
        value, kind = float(q.to("GW").magnitude), "power"
    elif q.dimensionality == COMPUTE:
        value, kind = float(q.to("EFLOP/s").magnitude), "compute"
    else:
        raise InputError("command line", option, option, expected, describe(q))
    if not math.isfinite(value) or value < 0:
        raise InputError("command line", option, option, "a non-negative finite power or compute rate", repr(text))
    return value, kind


def scenario_path(name: str, inputs_dir: Path) -> Path:
    return inputs_dir / "scenarios" / f"{name}.yaml"


def available_scenarios(inputs_dir: Path = DEFAULT_INPUTS) -> dict[str, str]:
    """Scenario name -> first line of its description."""
    import yaml

    out = {}
    for p in sorted((inputs_dir / "scenarios").glob("*.yaml")):
        try:
            doc = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
            desc = str(doc.get("description", "")).strip().splitlines() if isinstance(doc, dict) else [
                f"(not a scenario file: a {type(doc).__name__}, expected a mapping)"]
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            desc = [f"(unreadable: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})"]
        out[p.stem] = desc[0] if desc else ""
    return out


def _read_files(inputs_dir: Path, scenario: str | None, errors: list[InputError]):
    """Read the catalogue, the tables and the scenario file (the part of loading that touches the disk).

    Returns (catalogue, raw tables, overrides applied, extra files read, scenario description);
    problems are appended to ``errors``.
    """
    import yaml

    catalogue = load_catalogue(inputs_dir / "parameters.yaml")
    tables = read_raw_tables(inputs_dir, errors)
    expand_kind_defaults(tables)
    overrides: list[Override] = []
    extra_files: list[Path] = []
    description = ""
    if scenario is not None:
        path = scenario_path(scenario, inputs_dir)
        if not path.exists():
            known = ", ".join(available_scenarios(inputs_dir)) or "none"
            errors.append(InputError("command line", "--scenario", "--scenario",
                                     f"the name of a file in {display_path(inputs_dir / 'scenarios')} (one of {known})",
                                     repr(scenario)))
        else:
            extra_files.append(path)
            try:
                overrides += apply_scenario_file(tables, catalogue, path)
            except InputErrors as exc:     # an unreadable file is reported there, with its line
                errors.extend(exc.errors)
            else:
                description = scenario_description(path, errors)
    return catalogue, tables, overrides, extra_files, description


def scenario_description(path: Path, errors: list[InputError]) -> str:
    """The ``description`` of a scenario file (text); a description that is not text is a problem naming the file."""
    import yaml

    from model.inputs import display_path

    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        errors.append(InputError(display_path(path), 1, "description", "a readable scenario file",
                                 str(exc).splitlines()[0] if str(exc) else type(exc).__name__))
        return ""
    text = doc.get("description", "") if isinstance(doc, dict) else ""
    if text is None:
        return ""
    if not isinstance(text, str):
        errors.append(InputError(display_path(path), "description", "description", "a text (one or more sentences)",
                                 f"a {type(text).__name__}: {text!r}"[:200]))
        return ""
    return text.strip()


def load_scenario(inputs_dir: Path = DEFAULT_INPUTS, scenario: str | None = None,
                  sets: Iterable[str] = (), target: TargetSpec = TargetSpec(),
                  extra: Iterable[tuple[str, str, dict]] = ()) -> Scenario:
    """Read, override, validate and convert the inputs into a :class:`Scenario`.

    Parameters
    ----------
    inputs_dir : Path
        Folder with the input CSVs and ``parameters.yaml``.
    scenario : str, optional
        Name of ``inputs_dir/scenarios/NAME.yaml`` to apply on top of the base data.
    sets : iterable of str
        ``KEY[.NAME]=VALUE`` overrides applied after the scenario file.
    target : TargetSpec
        The main target and its year; defaults come from ``scalars.csv`` / ``horizon.csv``.
    extra : iterable of (name, where, mapping)
        Further overrides in the scenario-file form (``set``, ``replace``, ``drop``, ``add``),
        applied after the scenario file and before ``sets``: e.g. one future of a futures file.
        ``where`` names its origin in error messages; a mapping's ``source`` covers its entries.

    Raises
    ------
    InputErrors
        With every problem found, each naming its file, row and field.
    """
    inputs_dir = Path(inputs_dir)
    errors: list[InputError] = []
    target_value = _read_target(target, errors)
    if not inputs_dir.is_dir():
        raise InputErrors(errors + [InputError("command line", "--inputs", "--inputs", "a folder of input files",
                                               f"{display_path(inputs_dir)!r} ({'a file' if inputs_dir.exists() else 'no such folder'})")])
    catalogue, tables, overrides, extra_files, description = _read_files(inputs_dir, scenario, errors)
    name = scenario or "base"
    from model.inputs import apply_scenario_doc

    for extra_name, where, doc in extra:
        try:
            overrides += apply_scenario_doc(tables, catalogue, doc, where, extra_name,
                                            default_source=str(doc.get("source", "")),
                                            extra_keys=("name", "probability", "source"))
        except InputErrors as exc:
            errors.extend(exc.errors)
    for assignment in sets:
        try:
            overrides.append(apply_set(tables, catalogue, assignment))
        except InputError as exc:
            errors.append(exc)
    if errors and not tables:
        raise InputErrors(errors)
    if target.basis not in ("it", "facility"):
        errors.append(InputError("command line", "--target-basis", "--target-basis", "it or facility",
                                 repr(target.basis)))
    scen = _assemble(tables, catalogue, errors, name, description, target_value, target.year, target.basis)
    errors.extend(non_finite_problems(scen))   # derived figures (growth, ratios) may overflow
    if errors:
        raise InputErrors(errors)
    assert scen is not None
    return replace(scen, overrides=tuple(overrides), input_files=input_hashes(inputs_dir, extra_files))


def _has_row(table: RawTable, parameter: str) -> bool:
    """Whether ``table`` has a row for ``parameter`` (a refused one was reported already: not 'missing')."""
    return any(r.get("parameter") == parameter for r in table.rows)


def _assemble(tables: dict[str, RawTable], catalogue: Catalogue, errors: list[InputError], name: str,
              description: str, target_value: tuple[float, str] | None,
              target_year: int | None, target_basis: str = "it") -> Scenario | None:
    """Validate every table and build the Scenario (``None`` if anything is wrong)."""
    def rows(file: str, horizon=None, ids=None) -> list[dict[str, Any]]:
        if file not in tables:
            return []
        return check_rows(tables[file], SCHEMAS[file], catalogue, ids or {}, horizon, errors)

    # horizon first: years elsewhere are checked against it
    horizon_rows = {r["parameter"]: r for r in rows("horizon.csv")}
    hz: dict[str, int] = {}
    for key in ("first_year", "last_year", "default_target_year"):
        r = horizon_rows.get(key)
        if r is None:
            if "horizon.csv" in tables and not _has_row(tables["horizon.csv"], key):
                errors.append(InputError(tables["horizon.csv"].file, 1, "parameter", f"a row for '{key}'", "none"))
            continue
        try:
            hz[key] = int(float(r["value"]))
            if hz[key] != float(r["value"]) or not 1990 <= hz[key] <= 2100:
                raise ValueError
        except (ValueError, OverflowError):  # OverflowError: 'inf'
            hz.pop(key, None)   # a refused year must not shape the horizon (-8e9 would make billions of years)
            errors.append(InputError(r["_file"], r["_row"], "value", f"a calendar year for '{key}'", repr(r["value"])))
    if "first_year" not in hz or "last_year" not in hz:
        return None
    if hz["last_year"] < hz["first_year"]:
        r = horizon_rows["last_year"]
        errors.append(InputError(r["_file"], r["_row"], "value", f"a last year not before {hz['first_year']}",
                                 repr(r["value"])))
        return None
    years = tuple(range(hz["first_year"], hz["last_year"] + 1))
    horizon = (years[0], years[-1])

    # entity tables
    ids: dict[str, set[str]] = {}
    entity: dict[str, list[dict[str, Any]]] = {}
    for file in ("vendors.csv", "hosts.csv", "regions.csv"):
        entity[file] = rows(file, horizon)
        ids[file] = {r[ENTITY_KEY[file]] for r in entity[file]}
    entity["families.csv"] = rows("families.csv", horizon, ids)
    ids["families.csv"] = {r["family"] for r in entity["families.csv"]}
    entity["offers.csv"] = rows("offers.csv", horizon, ids)
    ids["offers.csv"] = {r["offer"] for r in entity["offers.csv"]}
    entity["deals.csv"] = rows("deals.csv", horizon, ids)
    ids["deals.csv"] = {r["deal"] for r in entity["deals.csv"]}

    families = {r["family"]: (r["kind"], r["vendor"], r["name"]) for r in entity["families.csv"]}
    offers: dict[str, Offer] = {}
    for r in entity["offers.csv"]:
        fam = families.get(r["family"])
        if fam and fam[1] != r["vendor"]:
            errors.append(InputError(r["_file"], r["_row"], "vendor",
                                     f"the vendor of family {r['family']} ({fam[1]})", repr(r["vendor"])))
            continue
        if fam is None:
            continue
        offers[r["offer"]] = Offer(r["offer"], r["vendor"], r["family"], fam[0], r["host"], r["region"],
                                   r["contract"], r["first_year"], r.get("description", ""),
                                   energy_billed=(r.get("energy") or "billed") == "billed")

    # scalars
    scalar = {f.parameter: f for f in facts_from(rows("scalars.csv", horizon), ())}
    for key in ("discount_rate", "utilisation", "hours_per_year", "default_target"):
        if key not in scalar and "scalars.csv" in tables and not _has_row(tables["scalars.csv"], key):
            errors.append(InputError(tables["scalars.csv"].file, 1, "parameter", f"a row for '{key}'", "none"))

    # generations -> EFLOP/s per GW by (family, vintage year)
    gen_rows = rows("generations.csv", horizon, ids)
    gens: dict[tuple[str, str], dict[str, Any]] = {}
    for r in gen_rows:
        g = gens.setdefault((r["family"], r["generation"]), {"year": r["year"], "_file": r["_file"], "_row": r["_row"]})
        g[r["parameter"]] = r["_value"]
    eflops_per_gw: dict[tuple[str, int], float] = {}
    vintages = range(min(years[0] - 30, 1995), years[-1] + 1)
    for fam in families:
        avail = sorted(((g["year"], g) for (f, _), g in gens.items()
                        if f == fam and "it_power_per_chip" in g and "flops_per_chip" in g), key=lambda t: t[0])
        for v in vintages:
            latest = [g for y, g in avail if y is not None and y <= v]
            if latest:
                g = latest[-1]
                # FLOP/s per W -> EFLOP/s per GW: x 1e9 W/GW / 1e18
                eflops_per_gw[fam, v] = g["flops_per_chip"] / g["it_power_per_chip"] * 1e9 / 1e18
    for (f, gname), g in gens.items():
        missing = {"it_power_per_chip", "flops_per_chip"} - set(g)
        if missing:
            errors.append(InputError(g["_file"], g["_row"], "parameter",
                                     f"both it_power_per_chip and flops_per_chip for generation {gname}",
                                     f"no {' or '.join(sorted(missing))}"))
        elif not math.isfinite(g["flops_per_chip"] / g["it_power_per_chip"] * 1e-9):   # EFLOP/s per GW
            errors.append(InputError(g["_file"], g["_row"], "value",
                                     f"flops_per_chip / it_power_per_chip of generation {gname} finite in EFLOP/s per GW",
                                     f"{g['flops_per_chip']:g} FLOP/s / {g['it_power_per_chip']:g} W"))
    for r in entity["offers.csv"]:
        o = offers.get(r["offer"])
        if o and (o.family, max(o.first_year, years[0])) not in eflops_per_gw:
            errors.append(InputError(r["_file"], r["_row"], "family",
                                     f"a family with a generation available by {max(o.first_year, years[0])} "
                                     "in generations.csv", repr(o.family)))

    # region parameters
    region_facts = facts_from(rows("region_parameters.csv", horizon, ids), ("region", "year", "component"))
    grid_facts = [f for f in region_facts if f.parameter in GRID_SUPPLY_PARAMETERS]
    region_facts = [f for f in region_facts if f.parameter not in GRID_SUPPLY_PARAMETERS]
    for f in region_facts:
        if f.keys.get("component"):
            errors.append(InputError(f.file, f.row, "component", f"an empty component for '{f.parameter}' (components "
                                     f"name the regional figures of {', '.join(GRID_SUPPLY_PARAMETERS)})",
                                     repr(f.keys["component"])))
    grid_grouped = _group(grid_facts, "region")
    grouped = _group(region_facts, "region")
    region_param: dict[str, dict[tuple[str, int], float]] = {"grid_power": {}, "pue": {}, "electricity_price": {},
                                                               "grid_emissions": {}}
    for region in ids.get("regions.csv", set()):
        firm = _regional_firm_power([f for fs in (grid_grouped.get((region, p), []) for p in GRID_SUPPLY_PARAMETERS)
                                     for f in fs], region, years, errors)
        for param, out in region_param.items():
            facts = grouped.get((region, param), [])
            if param == "grid_power" and firm is not None:
                if facts:
                    f = facts[0]
                    errors.append(InputError(f.file, f.row, "parameter",
                                             f"either grid_power rows or regional_power rows for region {region}",
                                             "both"))
                    continue
                for y, v in firm.items():
                    out[region, y] = v
                continue
            spec = catalogue.parameters[param]
            if facts:
                s = _series(facts, years, errors)
                if s is None:
                    continue
            elif spec.default is not None:
                s = {y: float(spec.default) for y in years}
            else:
                if any(o.region == region for o in offers.values()):
                    errors.append(InputError(tables["region_parameters.csv"].file if "region_parameters.csv" in tables
                                             else "region_parameters.csv", 1, "parameter",
                                             f"a '{param}' row for region {region} (it has offers)", "none"))
                continue
            for y, v in s.items():
                out[region, y] = v

    # offer parameters
    op_facts = facts_from(rows("offer_parameters.csv", horizon, ids), ("offer", "year"))
    grouped = _group(op_facts, "offer")
    offer_lines = {r["offer"]: r["_row"] for r in entity["offers.csv"]}
    lifetime: dict[str, int] = {}
    cum_cap: dict[str, float] = {}
    ramp: dict[str, float] = {}
    per_year: dict[str, dict[tuple[str, int], float]] = {"build_cap": {}, "capex": {}, "lease_price": {},
                                                           "fixed_cost": {}}
    for o, info in offers.items():
        for param in ("lifetime", "cumulative_cap", "ramp"):
            facts = grouped.get((o, param), [])
            for f in facts:
                if f.keys.get("year") is not None:
                    errors.append(InputError(f.file, f.row, "year", f"an empty year for '{param}' (one value per offer)",
                                             repr(f.keys["year"])))
            if len(facts) == 1 and facts[0].keys.get("year") is None:
                value = facts[0].value
            elif not facts and catalogue.parameters[param].default is not None:
                value = float(catalogue.parameters[param].default)
            else:
                continue
            if param == "lifetime":
                whole = whole_years(value, facts[0] if facts else None, param, errors)
                if whole is not None:
                    lifetime[o] = max(1, whole)
            elif param == "cumulative_cap":
                cum_cap[o] = value
            else:
                ramp[o] = value
        for param, out in per_year.items():
            facts = grouped.get((o, param), [])
            if facts:
                s = _series(facts, years, errors)
                if s is None:
                    continue
            else:
                default = catalogue.parameters[param].default
                if default is None:
                    continue
                s = {y: float(default) for y in years}
            for y, v in s.items():
                out[o, y] = v
        bad_rows = any(e.file.endswith("offer_parameters.csv") for e in errors)
        line = offer_lines.get(o, "offer " + o)
        if not bad_rows and info.contract == "lease" and not any(per_year["lease_price"].get((o, y), 0) > 0
                                                                 for y in years):
            errors.append(InputError(tables["offers.csv"].file, line, "contract",
                                     f"a lease_price row in offer_parameters.csv for lease offer {o}", "none"))
        if not bad_rows and info.contract == "purchase" and not any(per_year["capex"].get((o, y), 0) > 0
                                                                    for y in years):
            errors.append(InputError(tables["offers.csv"].file, line, "contract",
                                     f"a capex row in offer_parameters.csv for purchase offer {o}", "none"))

    # vendor supply: supply_cap rows, or world_output x buyer_share
    supply = _assemble_supply(facts_from(rows("vendor_supply.csv", horizon, ids), ("vendor", "year")),
                              ids.get("vendors.csv", set()), years, errors)

    # opening stock
    opening: dict[tuple[str, int], float] = {}
    for r in rows("opening_stock.csv", horizon, ids):
        spec = catalogue.parameters["opening_capacity"]
        got = parse_value(RawRow({"value": r["value"], "unit": r["unit"]}, r["_file"], r["_row"]), spec, errors)
        if got:
            opening[r["offer"], r["vintage"]] = got[0]
    for (o, vin) in opening:
        if o in offers and (offers[o].family, vin) not in eflops_per_gw:
            errors.append(InputError(tables["opening_stock.csv"].file, f"offer {o}", "vintage",
                                     f"a vintage when family {offers[o].family} had a generation", repr(vin)))

    # targets: milestones, then the main target
    targets: list[Target] = []
    for r in rows("targets.csv", horizon, ids):
        if "_value" not in r:
            continue
        kind = "power" if r["_unit"] == "GW" else "compute"
        targets.append(Target(r["year"], kind, r["_value"],
                              f"milestone {r['value']} {r['unit']} in {r['year']} ({r['_file']} line {r['_row']})"))
    if target_year is not None and not years[0] <= target_year <= years[-1]:
        errors.append(InputError("command line", "--year", "--year",
                                 f"a year within the planning horizon {years[0]}..{years[-1]}", repr(target_year)))
        target_year = None
    t_year = target_year or hz.get("default_target_year", years[-1])
    if target_value is None and "default_target" in scalar:
        target_value = (scalar["default_target"].value, "power")
    if target_value is not None:
        targets.extend(_main_targets(target_value[0], target_value[1], t_year, years, target_basis))

    # deals
    deals: list[Deal] = []
    terms = _group(facts_from(rows("deal_terms.csv", horizon, ids), ("deal",)), "deal")
    for r in entity["deals.csv"]:
        if r["first_year"] is not None and r["last_year"] is not None and r["last_year"] < r["first_year"]:
            errors.append(InputError(r["_file"], r["_row"], "last_year",
                                     f"a window end not before its start {r['first_year']}", repr(r["last_year"])))
            continue
        chosen = _resolve_scope(r, offers, errors)
        if chosen is None:
            continue
        d = Deal(r["deal"], r["counterparty"], r["status"], r["first_year"], r["last_year"], chosen, r["scope"],
                 description=r.get("description", ""))
        values: dict[str, float] = {}
        for bound in ("minimum", "maximum"):
            for f in terms.get((d.name, bound), []):
                field_name = ("min" if bound == "minimum" else "max") + ("_gw" if f.unit == "GW" else "_bnusd")
                if field_name in values:
                    errors.append(InputError(f.file, f.row, "unit", f"one {bound} in {'GW' if f.unit == 'GW' else 'USD'}"
                                             f" per deal ({d.name} has two)", repr(f.keys)))
                values[field_name] = f.value
        for unit in ("_gw", "_bnusd"):
            lo, hi = values.get("min" + unit), values.get("max" + unit)
            if lo is not None and hi is not None and lo > hi + 1e-9:
                f = next(x for x in terms[(d.name, "minimum")] if x.unit == ("GW" if unit == "_gw" else "bnUSD"))
                shown = "GW" if unit == "_gw" else "USD"
                errors.append(InputError(f.file, f.row, "value", f"a minimum no larger than the maximum "
                                         f"({hi * (1 if unit == '_gw' else 1e9):g} {shown})",
                                         f"{lo * (1 if unit == '_gw' else 1e9):g} {shown}"))
        if d.window(years) == () and any(v is not None for v in values.values()):
            errors.append(InputError(r["_file"], r["_row"], "first_year",
                                     f"a window overlapping the horizon {years[0]}..{years[-1]}",
                                     f"{r['first_year']}..{r['last_year']}"))
        deals.append(replace(d, **values))

    # portfolio
    rules: list[PortfolioRule] = []
    pf_spec = catalogue.parameters
    for r in rows("portfolio.csv", horizon, ids):
        got = parse_value(RawRow({"value": r["value"], "unit": r["unit"]}, r["_file"], r["_row"]),
                          pf_spec[r["rule"]], errors)
        if r["first_year"] is not None and r["last_year"] is not None and r["last_year"] < r["first_year"]:
            errors.append(InputError(r["_file"], r["_row"], "last_year",
                                     f"a last year not before {r['first_year']}", repr(r["last_year"])))
            continue
        chosen = _resolve_scope(r, offers, errors)
        if got is None or chosen is None:
            continue
        rules.append(PortfolioRule(f"{r['rule']} {r['scope']} {r['first_year']}-{r['last_year']}", r["rule"],
                                   r["scope"], chosen, r["first_year"], r["last_year"], got[0]))

    commitments = _assemble_commitments(rows, catalogue, errors, years, offers, deals)
    energy = _assemble_energy(rows, catalogue, errors, years, ids, region_param)
    money = _assemble_money(rows, errors, years, scalar)
    refs = {r["reference"]: r for r in rows("reference_energy.csv", horizon)}
    reference_energy: dict[str, float] = {}
    for key, r in refs.items():
        got = parse_value(RawRow({"value": r["value"], "unit": r["unit"]}, r["_file"], r["_row"]),
                          catalogue.parameters["reference_energy"], errors)
        if got:
            reference_energy[key] = got[0]

    if errors:
        return None
    return Scenario(
        name=name, description=description, years=years,
        discount_rate=scalar["discount_rate"].value, utilisation=scalar["utilisation"].value,
        hours_per_year=scalar["hours_per_year"].value,
        vendors={r["vendor"]: r["name"] for r in entity["vendors.csv"]},
        hosts={r["host"]: r["name"] for r in entity["hosts.csv"]},
        regions={r["region"]: r["name"] for r in entity["regions.csv"]},
        families=families, offers=offers, lifetime_yr=lifetime, build_cap_gw=per_year["build_cap"],
        cumulative_cap_gw=cum_cap, ramp_gw=ramp, capex_bnusd_per_gw=per_year["capex"],
        lease_bnusd_per_gw_yr=per_year["lease_price"], fixed_bnusd_per_gw_yr=per_year["fixed_cost"],
        supply_cap_gw=supply, grid_power_gw=region_param["grid_power"], pue=region_param["pue"],
        electricity_price_bnusd_per_twh=region_param["electricity_price"], eflops_per_gw=eflops_per_gw,
        opening_gw=opening, targets=tuple(targets), deals=tuple(deals), portfolio=tuple(rules),
        grid_emissions_t_per_mwh=region_param["grid_emissions"], reference_energy_twh=reference_energy,
        commitments=commitments, **energy, **money,
    )



def _grown(points: dict[int, float], years: tuple[int, ...], growth: float, linear: bool = False) -> dict[int, float]:
    """A series given in some years: interpolated between them, flat before the first, and after
    the last grown by ``growth`` per year (compound share, or GW/a added when ``linear``)."""
    last = max(points)
    out = interpolate(points, [y for y in years if y <= last])
    for y in years:
        if y > last:
            out[y] = points[last] + growth * (y - last) if linear else points[last] * (1.0 + growth) ** (y - last)
    return out


def _row_already_refused(errors: list[InputError], file: str, keys: tuple[str, ...]) -> bool:
    """True if a row of ``file`` or a ``--set`` of one of ``keys`` was refused already (its absence follows)."""
    return any(str(e.file).endswith(file) or any(k in str(e.row) for k in keys) for e in errors)


def _assemble_supply(facts: list[Fact], vendors: Iterable[str], years: tuple[int, ...],
                     errors: list[InputError]) -> dict[tuple[str, int], float]:
    """Each vendor's supply cap to this plan (GW/a), from ``vendor_supply.csv``.

    Two forms, one per vendor:

        supply_cap[v, y]                                  (rows for given years, grown at supply_growth after)
        world_output[v, y] x buyer_share[v, y]            (world output grown at supply_growth after its
                                                           last year; the share interpolated, flat outside)

    A vendor with neither is not capped.
    """
    grouped = _group(facts, "vendor")
    supply: dict[tuple[str, int], float] = {}
    for v in sorted(vendors):
        caps = grouped.get((v, "supply_cap"), [])
        world = grouped.get((v, "world_output"), [])
        share = grouped.get((v, "buyer_share"), [])
        growth_f = grouped.get((v, "supply_growth"), [])
        for f in growth_f:
            if f.keys.get("year") is not None:
                errors.append(InputError(f.file, f.row, "year", "an empty year for 'supply_growth'",
                                         repr(f.keys["year"])))
        growth = growth_f[0].value if growth_f else 0.0
        if caps and (world or share):
            f = (world or share)[0]
            errors.append(InputError(f.file, f.row, "parameter", f"either supply_cap rows or world_output and "
                                     f"buyer_share rows for vendor {v}", "both"))
            continue
        if world and not share or share and not world:
            if _row_already_refused(errors, "vendor_supply.csv", ("buyer_share", "world_output", "supply_scale")):
                continue      # the missing row was refused already; say it once
            f = (world or share)[0]
            missing = "buyer_share" if world else "world_output"
            errors.append(InputError(f.file, f.row, "parameter", f"a '{missing}' row for vendor {v} as well "
                                     f"(supply = world_output x buyer_share)", "none"))
            continue
        series_facts = caps or world
        if not series_facts:
            continue
        if any(f.keys.get("year") is None for f in series_facts):
            s = _series(series_facts, years, errors)
        else:
            s = _grown({f.keys["year"]: f.value for f in series_facts}, years, growth)
        if s is None:
            continue
        if world:
            s_share = _series(share, years, errors)
            if s_share is None:
                continue
            s = {y: s[y] * s_share[y] for y in years}
        for y, val in s.items():
            supply[v, y] = val
    return supply


GRID_SUPPLY_PARAMETERS = ("regional_power", "regional_power_growth", "buyer_share", "capacity_credit")


def _regional_firm_power(facts: list[Fact], region: str, years: tuple[int, ...],
                         errors: list[InputError]) -> dict[int, float] | None:
    """Firm facility power the grid gives the plan in ``region`` (GW), or None if the region has no
    ``regional_power`` rows (it may give ``grid_power`` rows directly).

    Each ``component`` of the region is one sourced regional figure (a utility's contracted
    data-centre load, a market's generation added, a site's supply contract):

        grid_power[r, y] = sum_c  regional_power[c, y] x buyer_share[c, y] x capacity_credit[c]

    ``regional_power`` (GW) is interpolated between its years, flat before the first, and grows by
    ``regional_power_growth`` GW/a after its last; ``buyer_share`` is this plan's share of it;
    ``capacity_credit`` (default 1) is the firm part of a nameplate figure. A ``buyer_share`` or
    ``capacity_credit`` row with an empty component applies to every component of the region that
    has none of its own (``--set grid_share.REGION=...`` writes such a row).
    """
    if not facts:
        return None
    by: dict[tuple[str, str], list[Fact]] = defaultdict(list)
    for f in facts:
        by[f.keys.get("component") or "", f.parameter].append(f)
        if f.parameter in ("regional_power_growth", "capacity_credit") and f.keys.get("year") is not None:
            errors.append(InputError(f.file, f.row, "year", f"an empty year for '{f.parameter}' (one value per "
                                     "component)", repr(f.keys["year"])))
    components = sorted({c for c, p in by if p == "regional_power"})
    for (c, param), fs in by.items():
        if c and c not in components:
            errors.append(InputError(fs[0].file, fs[0].row, "component",
                                     f"a component of region {region} with a 'regional_power' row "
                                     f"(one of {', '.join(components) or 'none'})", repr(c)))
        if not c and param in ("regional_power", "regional_power_growth"):
            errors.append(InputError(fs[0].file, fs[0].row, "component",
                                     f"the name of the regional figure for '{param}'", "an empty cell"))
    total = {y: 0.0 for y in years}
    for c in components:
        regional = by[c, "regional_power"]
        share = by.get((c, "buyer_share")) or by.get(("", "buyer_share"), [])
        credit = by.get((c, "capacity_credit")) or by.get(("", "capacity_credit"), [])
        growth = by.get((c, "regional_power_growth"), [])
        if not share:
            if _row_already_refused(errors, "region_parameters.csv", ("grid_share", "grid_power_scale")):
                continue      # the missing row was refused already; say it once
            f = regional[0]
            errors.append(InputError(f.file, f.row, "parameter", f"a 'buyer_share' row for {region} / {c} as well "
                                     "(grid_power = regional_power x buyer_share x capacity_credit)", "none"))
            continue
        if any(f.keys.get("year") is None for f in regional):
            s = _series(regional, years, errors)
        else:
            s = _grown({f.keys["year"]: f.value for f in regional}, years, growth[0].value if growth else 0.0,
                       linear=True)
        s_share = _series(share, years, errors)
        if s is None or s_share is None:
            continue
        cc = credit[0].value if credit else 1.0
        for y in years:
            total[y] += s[y] * s_share[y] * cc
    return total


def _resolve_scope(r: dict[str, Any], offers: dict[str, Offer], errors: list[InputError]) -> tuple[str, ...] | None:
    """The offers a row's ``scope`` selects; an error if it is malformed or selects none."""
    try:
        terms = parse_scope(r["scope"])
    except ValueError as exc:
        errors.append(InputError(r["_file"], r["_row"], "scope",
                                 "terms key=value joined by & (keys: offer, vendor, family, kind, host, region, "
                                 "contract) or 'all'", repr(str(exc))))
        return None
    chosen = tuple(o for o, info in offers.items()
                   if all(getattr(info, "name" if k == "offer" else k) in vals for k, vals in terms.items()))
    if not chosen:
        errors.append(InputError(r["_file"], r["_row"], "scope", "a scope that selects at least one offer",
                                 repr(r["scope"])))
        return None
    return chosen


def _assemble_commitments(rows, catalogue: Catalogue, errors: list[InputError], years: tuple[int, ...],
                          offers: dict[str, Offer], deals: list[Deal]) -> tuple[Commitment, ...]:
    """Tranches of ``commitments.csv`` (history, scheduled deliveries, stops) in model units.

    A tranche whose years lie wholly outside the horizon (e.g. delayed past it) is kept out, and so
    is a scheduled tranche of a deal that is not binding (a letter of intent, cancelled, or dropped by
    a scenario): its schedule follows the deal.
    """
    status = {d.name: d.status for d in deals}
    out: list[Commitment] = []
    spec = catalogue.parameters["commitment"]
    for r in rows("commitments.csv", (years[0], years[-1])):
        if r["first_year"] is None or r["last_year"] is None:
            continue
        deal = r.get("deal", "") or ""
        if r["kind"] == "scheduled" and deal and status.get(deal) not in MINIMUM_ENFORCED:
            continue
        if r["last_year"] < r["first_year"]:
            errors.append(InputError(r["_file"], r["_row"], "last_year", f"a year not before {r['first_year']}",
                                     repr(r["last_year"])))
            continue
        got = parse_value(RawRow({"value": r["value"], "unit": r["unit"]}, r["_file"], r["_row"]), spec, errors)
        if r["bound"] == "at_most" and _quiet_scope(r, offers) == ():
            continue        # a cap on offers a scenario dropped caps nothing
        chosen = _resolve_scope(r, offers, errors)
        if got is None or chosen is None:
            continue
        if r["kind"] == "history" and r["bound"] != "exactly":
            errors.append(InputError(r["_file"], r["_row"], "bound", "exactly for a history row (it is data)",
                                     repr(r["bound"])))
            continue
        c = Commitment(r["commitment"], r["kind"], chosen, r["scope"], r["first_year"], r["last_year"], r["bound"],
                       got[0], got[1], r.get("deal", "") or "", r.get("source", ""))
        open_years = [y for y in c.window(years) for o in chosen if offers[o].first_year <= y]
        if c.bound != "at_most" and c.value > 0 and c.window(years) and not open_years:
            errors.append(InputError(r["_file"], r["_row"], "first_year",
                                     f"years in which an offer of scope '{r['scope']}' is open (a tranche needs one)",
                                     f"{r['first_year']}..{r['last_year']}"))
            continue
        if c.window(years):
            out.append(c)
    return tuple(out)


def _quiet_scope(r: dict[str, Any], offers: dict[str, Offer]) -> tuple[str, ...] | None:
    """The offers a row's scope selects, or None if the scope is malformed (reported by :func:`_resolve_scope`)."""
    try:
        terms = parse_scope(r["scope"])
    except ValueError:
        return None
    return tuple(o for o, info in offers.items()
                 if all(getattr(info, "name" if k == "offer" else k) in vals for k, vals in terms.items()))


def _assemble_energy(rows, catalogue: Catalogue, errors: list[InputError], years: tuple[int, ...],
                     ids: dict[str, set[str]], region_param: dict) -> dict[str, Any]:
    """Power sources and their parameters, in model units, as Scenario fields."""
    horizon = (years[0], years[-1])
    entity = rows("power_sources.csv", horizon, ids)
    ids["power_sources.csv"] = {r["power_source"] for r in entity}
    sources = {r["power_source"]: PowerSource(r["power_source"], r["region"], r["kind"], r["first_year"],
                                              r.get("description", "")) for r in entity}
    grouped = _group(facts_from(rows("power_source_parameters.csv", horizon, ids), ("power_source", "year")),
                     "power_source")
    out: dict[str, Any] = {"power_sources": sources, "power_lead_time_yr": {}, "power_lifetime_yr": {},
                           "power_build_cap_gw": {}, "power_cumulative_cap_gw": {}, "capacity_credit": {},
                           "capacity_factor": {}, "power_capex_bnusd_per_gw": {}, "power_fixed_bnusd_per_gw_yr": {},
                           "source_energy_price_bnusd_per_twh": {}, "source_emissions_t_per_mwh": {},
                           "power_kind_cap_gw": {}}
    spec = catalogue.for_file("power_source_parameters.csv")
    scalars = {"lead_time": "power_lead_time_yr", "lifetime": "power_lifetime_yr",
               "cumulative_cap": "power_cumulative_cap_gw", "capacity_credit": "capacity_credit",
               "capacity_factor": "capacity_factor"}
    series = {"build_cap": "power_build_cap_gw", "capex": "power_capex_bnusd_per_gw",
              "fixed_cost": "power_fixed_bnusd_per_gw_yr", "energy_price": "source_energy_price_bnusd_per_twh",
              "emissions_factor": "source_emissions_t_per_mwh"}
    for name, src in sources.items():
        for param, fieldname in scalars.items():
            facts = grouped.get((name, param), [])
            for f in facts:
                if f.keys.get("year") is not None:
                    errors.append(InputError(f.file, f.row, "year", f"an empty year for '{param}'",
                                             repr(f.keys["year"])))
            value = facts[0].value if facts else spec[param].default
            if value is None:
                continue
            if param in ("lead_time", "lifetime"):
                value = whole_years(value, facts[0] if facts else None, param, errors)
                if value is None:
                    continue
                value = value if param == "lead_time" else max(1, value)
            out[fieldname][name] = value
        for param, fieldname in series.items():
            facts = grouped.get((name, param), [])
            if facts:
                s = _series(facts, years, errors)
            elif param == "energy_price" and src.kind == "grid":
                s = {y: region_param["electricity_price"].get((src.region, y), 0.0) for y in years}
            elif param == "emissions_factor" and src.kind == "grid":
                s = {y: region_param["grid_emissions"].get((src.region, y), 0.0) for y in years}
            elif spec[param].default is not None:
                s = {y: float(spec[param].default) for y in years}
            else:
                s = {y: 0.0 for y in years} if param != "build_cap" else None
            if s is None:
                continue
            for y, v in s.items():
                out[fieldname][name, y] = v
    rows("power_kind_parameters.csv", horizon, ids)   # checked here; its rows reach the sources as copies
    kinds = _group(facts_from(rows("power_kind_supply.csv", horizon, ids), ("kind", "year")), "kind")
    for (kind, param), facts in kinds.items():
        s = _series(facts, years, errors)
        if s:
            for y, v in s.items():
                out["power_kind_cap_gw"][kind, y] = v
    return out


def _assemble_money(rows, errors: list[InputError], years: tuple[int, ...], scalar: dict[str, Fact]) -> dict[str, Any]:
    """Revenue, equity, vendor financing, debt limits and the money scalars, as Scenario fields."""
    horizon = (years[0], years[-1])
    grouped = _group(facts_from(rows("finance.csv", horizon), ("year",)))
    revenue: dict[int, float] = {}
    points = {f.keys["year"]: f.value for f in grouped.get(("revenue",), []) if f.keys.get("year") is not None}
    growth = grouped.get(("revenue_growth",), [])
    if points:
        last = max(points)
        revenue = interpolate(points, [y for y in years if y <= last])
        for y in years:
            if y > last:
                revenue[y] = points[last] * (1.0 + (growth[0].value if growth else 0.0)) ** (y - last)
    flows = {}
    for param in ("equity", "vendor_financing"):
        flows[param] = {}
        for f in grouped.get((param,), []):
            if f.keys.get("year") is None:
                errors.append(InputError(f.file, f.row, "year", f"the year '{param}' is received", "an empty cell"))
            else:
                flows[param][f.keys["year"]] = f.value
    debt = grouped.get(("debt_limit",), [])
    debt_limit = (_series(debt, years, errors) or {}) if debt else {}

    def scalar_value(key: str, default: float) -> float:
        return scalar[key].value if key in scalar else default

    return {"revenue_bnusd": revenue, "equity_bnusd": flows["equity"], "vendor_financing_bnusd": flows["vendor_financing"],
            "debt_limit_bnusd": debt_limit, "interest_rate": scalar_value("interest_rate", 0.0),
            "revenue_to_compute": scalar_value("revenue_to_compute", 1.0),
            "opening_cash_bnusd": scalar_value("opening_cash", 0.0), "cash_floor_bnusd": scalar_value("cash_floor", 0.0),
            "funding_on": bool(scalar_value("funding", 0.0) >= 0.5)}


# ----------------------------------------------------------------------------
# Many variants of one scenario (sweeps): read the files once
# ----------------------------------------------------------------------------
@dataclass(frozen=True)
class BaseInputs:
    """A scenario's raw inputs, read once: the catalogue and the raw tables after the scenario file.

    :func:`load_variant` turns it, ``--set`` assignments and a target into the
    Scenario :func:`load_scenario` would give, without re-reading any file (a
    sweep loads thousands of variants). Everything in it is immutable and
    picklable, so it can be shipped to worker processes once.

    Keep :func:`read_base_inputs` and :func:`load_variant` in step with
    :func:`load_scenario`: ``tests/test_sweep.py`` checks that both give equal
    Scenarios.
    """

    inputs_dir: str
    scenario: str | None
    catalogue: Catalogue
    tables: dict[str, RawTable]
    overrides: tuple[Override, ...]
    name: str
    description: str
    input_files: dict[str, str]


def read_base_inputs(inputs_dir: Path = DEFAULT_INPUTS, scenario: str | None = None) -> BaseInputs:
    """Read the files of a scenario once (the part of :func:`load_scenario` that touches the disk).

    Raises
    ------
    InputErrors
        If a file cannot be read or the scenario file is wrong, as :func:`load_scenario` would.
    """
    inputs_dir = Path(inputs_dir)
    errors: list[InputError] = []
    if not inputs_dir.is_dir():
        raise InputErrors([InputError("command line", "--inputs", "--inputs", "a folder of input files",
                                      f"{display_path(inputs_dir)!r} (no such folder)")])
    catalogue, tables, overrides, extra_files, description = _read_files(inputs_dir, scenario, errors)
    if errors:
        raise InputErrors(errors)
    return BaseInputs(str(inputs_dir), scenario, catalogue, dict(tables), tuple(overrides), scenario or "base",
                      description, input_hashes(inputs_dir, extra_files))


def load_variant(base: BaseInputs, sets: Iterable[str] = (), target: TargetSpec = TargetSpec()) -> Scenario:
    """The Scenario :func:`load_scenario` gives for ``base``'s files plus ``sets`` and ``target``.

    Raises
    ------
    InputErrors
        With every problem found (a bad assignment, a value out of range, ...).
    """
    errors: list[InputError] = []
    target_value = _read_target(target, errors)
    tables = dict(base.tables)          # apply_set replaces entries; the RawTables themselves are immutable
    overrides = list(base.overrides)
    for assignment in sets:
        try:
            overrides.append(apply_set(tables, base.catalogue, assignment))
        except InputError as exc:
            errors.append(exc)
    basis = getattr(target, "basis", "it")
    if basis not in ("it", "facility"):
        errors.append(InputError("command line", "--target-basis", "--target-basis", "it or facility", repr(basis)))
    scen = _assemble(tables, base.catalogue, errors, base.name, base.description, target_value, target.year, basis)
    errors.extend(non_finite_problems(scen))   # derived figures (growth, ratios) may overflow
    if errors:
        raise InputErrors(errors)
    assert scen is not None
    return replace(scen, overrides=tuple(overrides), input_files=dict(base.input_files))


def non_finite_problems(s: Scenario | None) -> list[InputError]:
    """A problem for every magnitude of ``s`` that is not finite (a safety net under the row checks).

    Rows are checked one by one; a figure derived from several (a supply cap grown for years, a
    compute-per-watt ratio) can still overflow. Downstream trusts that nothing is NaN or infinite.
    """
    out: list[InputError] = []

    def walk(x: Any, where: str) -> None:
        if isinstance(x, bool) or x is None or isinstance(x, str):
            return
        if isinstance(x, float) and not math.isfinite(x):
            out.append(InputError("inputs", where, where.split("[")[0].split(".")[-1],
                                  "a finite figure after conversion and derivation", repr(x)))
        elif isinstance(x, dict):
            values = x.values()
            if all(type(v) is float for v in values) and all(map(math.isfinite, values)):
                return          # a table of finite floats (most of a Scenario): nothing to name, no paths built
            for k, v in x.items():
                walk(v, f"{where}[{k!r}]")
        elif isinstance(x, (tuple, list)):
            for i, v in enumerate(x):
                walk(v, f"{where}[{i}]")
        elif hasattr(x, "__dataclass_fields__"):
            for name in x.__dataclass_fields__:
                walk(getattr(x, name), f"{where}.{name}" if where else name)

    if s is not None:
        walk(s, "")
    return out[:20]
