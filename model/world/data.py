"""Loading the world: a Scenario per buyer and the shared caps, read once.

``inputs/buyers.csv`` names the buyers: exactly one ``default`` (the buyer of the top-level files),
``named`` buyers and exactly one ``rest_of_world``. Each non-default buyer has a folder
``inputs/buyers/<buyer>/`` with the buyer-scoped tables (:data:`BUYER_SCOPED`) in the formats of the
top-level files of the same names; a missing file is empty, except ``offers.csv``. Everything else is
world-level and shared. ``inputs/buyer_parameters.csv`` gives each buyer's announced capacity, the
value of a GW-year of it and its capex guidance (reported only).

The shared caps are read once from the default buyer's (world-level) tables with every share set to
1 (``buyer_share.V=1`` for vendors with ``world_output`` rows, ``grid_share.R=1`` for regions with
``regional_power`` rows), so they pass the loader's checks exactly as a single run's do:

    world_output[v, y]      = world_output rows of vendor_supply.csv (grown as there)           GW/a
    regional_firm[r, y]     = sum_c regional_power[c, y] x capacity_credit[c]                   GW
    kind_cap[k, y]          = power_kind_supply.csv world_supply_cap rows (supply_cap where none)  GW/a
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterable

from pint import DimensionalityError

from model.assemble.series import interpolate
from model.errors import InputError, InputErrors
from model.inputs.allocation import BUYER_SCOPED
from model.inputs import SCHEMAS, FileSchema, RawTable, display_path, expand_kind_defaults, read_table
from model.scenario import DEFAULT_INPUTS, BaseInputs, Scenario, apply_changes, load_variant, read_base_inputs
from model.units import UnitParseError, describe, parse_quantity

#: Tables each buyer has of its own (inputs/buyers/<buyer>/NAME, same format as inputs/NAME).

ROLES = ("default", "named", "rest_of_world")

BUYERS_SCHEMA = FileSchema("buyers.csv", ("buyer", "name", "role", "source", "date"), ("buyer",),
                           optional=("note", "confidence"), choices={"role": ROLES})

BUYER_PARAMETERS_SCHEMA = FileSchema("buyer_parameters.csv",
                                     ("buyer", "year", "parameter", "value", "unit", "source", "date"),
                                     ("buyer", "year", "parameter"), optional=("note", "confidence"))

#: parameter -> (model unit the value is converted to, expected words, factor from that unit to the model's)
BUYER_PARAMETERS = {
    "announced_capacity": ("GW", "a power (e.g. 5 GW)", 1.0),
    "value_of_capacity": ("USD/GW/year", "a value per GW-year (e.g. 2e10 USD/GW/a)", 1e-9),
    "capex_guidance": ("USD/year", "money per year (e.g. 7e10 USD/a)", 1e-9),
}

#: --set keys the world run reads itself (the loader's catalogue does not know them).
WORLD_KEYS = ("buyer_demand_scale", "buyer_value_scale")


@dataclass(frozen=True)
class Buyer:
    """One buyer: its id, display name and role (default, named, rest_of_world)."""

    buyer: str
    name: str
    role: str


@dataclass(frozen=True)
class WorldInputs:
    """Every buyer's Scenario and the shared caps, in model units (GW, GW/a, billion USD).

    ``announced_gw[b, y]`` is scaled by ``buyer_demand_scale``; ``value_bnusd_per_gw_yr[b, y]`` is the
    buyer's willingness to pay for a GW-year of its announced capacity (billion USD/GW/a).
    """

    name: str
    buyers: dict[str, Buyer]
    default: str
    scenarios: dict[str, Scenario]
    years: tuple[int, ...]
    world_output_gw: dict[tuple[str, int], float]
    regional_firm_gw: dict[tuple[str, int], float]
    kind_cap_gw: dict[tuple[str, int], float]
    announced_gw: dict[tuple[str, int], float]
    value_bnusd_per_gw_yr: dict[tuple[str, int], float]
    capex_guidance_bnusd: dict[tuple[str, int], float] = field(default_factory=dict)
    history_last_year: int | None = None
    history_supply_free: bool = False    # True: no shared supply row in history years (as the single-buyer model)
    sets: tuple[str, ...] = ()
    input_files: dict[str, str] = field(default_factory=dict)

    def discount_factor(self, year: int) -> float:
        """The default buyer's discount factor (1 + r)^-(y - first year), dimensionless."""
        return self.scenarios[self.default].discount_factor(year)

    def name_of(self, buyer: str) -> str:
        return self.buyers[buyer].name


def read_buyers(inputs_dir: Path, errors: list[InputError]) -> dict[str, Buyer]:
    """``buyers.csv``: every buyer with its role; exactly one ``default`` and one ``rest_of_world``."""
    table = read_table(inputs_dir / "buyers.csv", BUYERS_SCHEMA, errors)
    if table is None:
        return {}
    out: dict[str, Buyer] = {}
    for r in table.rows:
        b, role = r.get("buyer"), r.get("role")
        if not b:
            errors.append(InputError(r.file, r.row, "buyer", "a buyer id", "an empty cell"))
        elif b in out:
            errors.append(InputError(r.file, r.row, "buyer", "each buyer once", f"{b!r} again"))
        elif role not in ROLES:
            errors.append(InputError(r.file, r.row, "role", " or ".join(ROLES), repr(role)))
        else:
            if not r.get("source") or not r.get("date"):
                errors.append(InputError(r.file, r.row, "source" if not r.get("source") else "date",
                                         "a source and a date", "an empty cell"))
            out[b] = Buyer(b, r.get("name") or b, role)
    for role in ("default", "rest_of_world"):
        n = sum(1 for x in out.values() if x.role == role)
        if out and n != 1:
            errors.append(InputError(table.file, 1, "role", f"exactly one buyer with role '{role}'", f"{n}"))
    return out


def _parameter_value(r, errors: list[InputError]) -> tuple[str, float] | None:
    """(parameter, value in model units) of one buyer_parameters.csv row, or None (problem appended)."""
    param = r.get("parameter")
    if param not in BUYER_PARAMETERS:
        errors.append(InputError(r.file, r.row, "parameter", "one of " + ", ".join(BUYER_PARAMETERS), repr(param)))
        return None
    unit, words, factor = BUYER_PARAMETERS[param]
    try:
        q = parse_quantity(f"{r.get('value')} {r.get('unit')}")
        value = float(q.to(unit).magnitude) * factor
    except UnitParseError:
        errors.append(InputError(r.file, r.row, "value", f"a number with a unit: {words}",
                                 f"{r.get('value')!r} {r.get('unit')!r}"))
        return None
    except DimensionalityError:
        errors.append(InputError(r.file, r.row, "unit", words, describe(q)))
        return None
    if not value >= 0 or value == float("inf"):
        errors.append(InputError(r.file, r.row, "value", "a finite, non-negative figure", repr(r.get("value"))))
        return None
    return param, value


def read_buyer_parameters(inputs_dir: Path, buyers: dict[str, Buyer], years: tuple[int, ...],
                          errors: list[InputError]) -> dict[str, dict[tuple[str, int], float]]:
    """``buyer_parameters.csv`` as parameter -> {(buyer, year): value}, each interpolated over ``years``.

    An empty year is every year; given years are interpolated and held flat outside (as elsewhere).
    Every buyer needs ``announced_capacity`` and ``value_of_capacity`` rows.
    """
    table = read_table(inputs_dir / "buyer_parameters.csv", BUYER_PARAMETERS_SCHEMA, errors)
    if table is None:
        return {}
    points: dict[tuple[str, str], dict[int | None, float]] = {}
    first_row: dict[tuple[str, str], tuple[str, int | str]] = {}
    for r in table.rows:
        b = r.get("buyer")
        if b not in buyers:
            errors.append(InputError(r.file, r.row, "buyer", "a buyer of buyers.csv (" + ", ".join(buyers) + ")",
                                     repr(b)))
            continue
        year: int | None = None
        if r.get("year"):
            try:
                year = int(r.get("year"))
            except ValueError:
                errors.append(InputError(r.file, r.row, "year", "a calendar year or an empty cell", repr(r.get("year"))))
                continue
        if not r.get("source") or not r.get("date"):
            errors.append(InputError(r.file, r.row, "source" if not r.get("source") else "date",
                                     "a source and a date", "an empty cell"))
        got = _parameter_value(r, errors)
        if got is None:
            continue
        key = (b, got[0])
        if None in points.get(key, {}) or (year is None and points.get(key)):
            errors.append(InputError(r.file, r.row, "year", f"either one row with an empty year for '{got[0]}' "
                                     "or rows for given years", "both"))
            continue
        points.setdefault(key, {})[year] = got[1]
        first_row.setdefault(key, (r.file, r.row))
    out: dict[str, dict[tuple[str, int], float]] = {p: {} for p in BUYER_PARAMETERS}
    for (b, param), pts in points.items():
        series = {y: pts[None] for y in years} if None in pts else interpolate(pts, years)  # type: ignore[arg-type]
        for y, v in series.items():
            out[param][b, y] = v
    for b in buyers:
        for param in ("announced_capacity", "value_of_capacity"):
            if (b, param) not in points:
                errors.append(InputError(table.file, 1, "parameter", f"a '{param}' row for buyer {b}", "none"))
    return out


def buyer_tables(base: BaseInputs, folder: Path, errors: list[InputError]) -> dict[str, RawTable]:
    """The default buyer's tables with the buyer-scoped ones read from ``folder`` (missing = empty)."""
    tables = dict(base.tables)
    if not folder.is_dir():
        errors.append(InputError(display_path(folder), 0, "-", "a folder with the buyer's offers.csv",
                                 "no such folder"))
        return tables
    for name in BUYER_SCOPED:
        path = folder / name
        if path.exists() or name == "offers.csv":
            table = read_table(path, SCHEMAS[name], errors)
            if table is not None:
                tables[name] = table
        else:
            tables[name] = RawTable(display_path(path), SCHEMAS[name].required, ())
    expand_kind_defaults(tables)
    return tables


def _split_sets(sets: Iterable[str], base: BaseInputs, buyers: dict[str, Buyer],
                errors: list[InputError]) -> tuple[list[str], list[str], dict[str, dict[str, float]]]:
    """Split ``--set`` into (world-level keys for every buyer, buyer-scoped keys for the default buyer,
    world keys {key: {buyer: factor}})."""
    shared, default_only = [], []
    world: dict[str, dict[str, float]] = {k: {} for k in WORLD_KEYS}
    for a in sets:
        key, _, value = a.partition("=")
        name, _, member = key.strip().partition(".")
        if name in WORLD_KEYS:
            if member not in buyers:
                errors.append(InputError("command line", f"--set {a}", key, f"{name}.BUYER with BUYER one of "
                                         + ", ".join(buyers), repr(member)))
                continue
            try:
                f = float(value)
            except ValueError:
                f = -1.0
            if not f >= 0 or f == float("inf"):
                errors.append(InputError("command line", f"--set {a}", key, "a non-negative plain number",
                                         repr(value)))
                continue
            world[name][member] = f
            continue
        spec = base.catalogue.settable.get(name)
        param = base.catalogue.parameters.get(spec.parameter) if spec else None
        (default_only if param is not None and param.file in BUYER_SCOPED else shared).append(a)
    return shared, default_only, world


def _shared_members(base: BaseInputs) -> tuple[list[str], list[str]]:
    """Vendors with world_output rows and regions with regional_power rows: the shared caps."""
    vendors = sorted({r.get("vendor") for r in base.tables["vendor_supply.csv"].rows
                      if r.get("parameter") == "world_output"})
    regions = sorted({r.get("region") for r in base.tables["region_parameters.csv"].rows
                      if r.get("parameter") == "regional_power"})
    return vendors, regions


def _load(base: BaseInputs, sets: list[str], errors: list[InputError]) -> Scenario | None:
    try:
        return load_variant(base, sets, world_allocation=False)   # the world is where the allocation comes from
    except InputErrors as exc:
        errors.extend(exc.errors)
        return None


def load_world(inputs_dir: Path = DEFAULT_INPUTS, scenario: str | None = None, sets: Iterable[str] = (),
               extra: Iterable[tuple[str, str, dict]] = ()) -> WorldInputs:
    """Read every buyer and the shared caps; validate everything (all problems at once).

    ``extra`` are overrides in the scenario-file form (a future, a range's change), applied after the
    scenario file as :func:`model.scenario.load_scenario` applies them: to the top-level tables, so a
    change to a file every buyer reads reaches every buyer and a change to a buyer-scoped file reaches
    the default buyer only (the other buyers' own files replace those).

    ``--set`` keys of world-level files apply to every buyer; keys of buyer-scoped files
    (:data:`BUYER_SCOPED`) to the default buyer only; ``buyer_demand_scale.B=F`` scales buyer B's
    announced capacity and ``buyer_value_scale.B=F`` its value of capacity.

    Raises
    ------
    InputErrors
        Every problem, each naming its file (a buyer's own file for its rows), row and field.
    """
    inputs_dir = Path(inputs_dir)
    sets = tuple(sets)
    base = read_base_inputs(inputs_dir, scenario)
    errors: list[InputError] = []
    base = _with_extra(base, list(extra), errors)
    buyers = read_buyers(inputs_dir, errors)
    shared, default_only, world_keys = _split_sets(sets, base, buyers, errors)
    vendors, regions = _shared_members(base)
    caps = _load(base, shared + [f"buyer_share.{v}=1" for v in vendors] + [f"grid_share.{r}=1" for r in regions],
                 errors)
    scenarios: dict[str, Scenario] = {}
    default = next((b for b, x in buyers.items() if x.role == "default"), "")
    for b, buyer in buyers.items():
        if b == default:
            s = _load(base, shared + default_only, errors)
        else:
            tables = buyer_tables(base, inputs_dir / "buyers" / b, errors)
            s = _load(replace(base, tables=tables), shared, errors)
        if s is not None:
            scenarios[b] = replace(s, name=f"{base.name}: {buyer.name}")
    years = caps.years if caps is not None else ()
    params = read_buyer_parameters(inputs_dir, buyers, years, errors)
    if errors or caps is None:
        raise InputErrors(errors)
    ordered = {default: buyers[default], **{b: x for b, x in buyers.items() if b != default}}
    demand, worth = world_keys["buyer_demand_scale"], world_keys["buyer_value_scale"]
    histories = [s.history_last_year for s in scenarios.values() if s.history_last_year is not None]
    files = dict(base.input_files)
    for extra in ("buyers.csv", "buyer_parameters.csv"):
        files.update(_hash(inputs_dir / extra))
    for b in buyers:
        for name in BUYER_SCOPED:
            files.update(_hash(inputs_dir / "buyers" / b / name))
    return WorldInputs(
        name=base.name, buyers=ordered, default=default, scenarios={b: scenarios[b] for b in ordered}, years=years,
        world_output_gw={k: v for k, v in caps.supply_cap_gw.items() if k[0] in vendors},
        regional_firm_gw={k: v for k, v in caps.grid_power_gw.items() if k[0] in regions},
        kind_cap_gw={**caps.power_kind_cap_gw, **caps.power_kind_world_cap_gw},   # world_supply_cap rows first
        announced_gw={k: v * demand.get(k[0], 1.0) for k, v in params["announced_capacity"].items()},
        value_bnusd_per_gw_yr={k: v * worth.get(k[0], 1.0) for k, v in params["value_of_capacity"].items()},
        capex_guidance_bnusd=dict(params["capex_guidance"]),
        history_last_year=max(histories) if histories else None, sets=sets, input_files=files)


def _with_extra(base: BaseInputs, extra: list[tuple[str, str, dict]], errors: list[InputError]) -> BaseInputs:
    """``base`` with overrides in the scenario-file form applied to its tables (problems appended)."""
    if not extra:
        return base
    tables = dict(base.tables)
    overrides = list(base.overrides) + apply_changes(tables, base.catalogue, extra, (), errors)
    return replace(base, tables=tables, overrides=tuple(overrides))


def _hash(path: Path) -> dict[str, str]:
    import hashlib

    return {display_path(path): hashlib.sha256(path.read_bytes()).hexdigest()} if path.exists() else {}


def world_of_one(s: Scenario, value_bnusd_per_gw_yr: float = 0.0, buyer: str = "default") -> WorldInputs:
    """A world of one buyer whose shared caps are the buyer's own caps (its world_output x share).

    Every vendor cap, every grid row and every kind cap becomes a shared cap of the same size, so the
    world plan with the buyer's targets kept and no value is the single-buyer least-cost plan (the
    consistency anchor of tests/test_world.py).
    """
    return WorldInputs(
        name=s.name, buyers={buyer: Buyer(buyer, buyer, "default")}, default=buyer, scenarios={buyer: s},
        years=s.years, world_output_gw=dict(s.supply_cap_gw), regional_firm_gw=dict(s.grid_power_gw),
        kind_cap_gw=dict(s.power_kind_cap_gw), announced_gw={(buyer, y): 0.0 for y in s.years},
        value_bnusd_per_gw_yr={(buyer, y): value_bnusd_per_gw_yr for y in s.years},
        history_last_year=s.history_last_year, history_supply_free=True)
