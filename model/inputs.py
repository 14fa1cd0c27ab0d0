"""Read the input tables, apply scenario overrides, validate, convert units.

Data flows one way: ``inputs/*.csv`` are read as raw text rows (each row
remembers the file and line it came from), scenario files and ``--set``
options edit those raw rows, and only then is every row validated and
converted to the model's canonical magnitudes. Validation therefore covers
overridden values exactly as it covers the base data, and an error always
names where the bad value came from.

Every problem found is collected; :class:`~model.errors.InputErrors` is raised
once with all of them.
"""
from __future__ import annotations

import csv
import datetime as _dt
import hashlib
import math
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any, Iterable

import yaml

from model.errors import InputError, InputErrors
from model.units import Q_, UnitParseError, conversion_factor, describe, parse_quantity, unit_parts, ureg

PROVENANCE = ("source", "date")
_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
CONFIDENCE = {"P", "N", "A", "D", "S", "Seed", "assumption"}
CONTRACTS = ("purchase", "lease")
POWER_KINDS = ("grid", "gas", "nuclear", "solar_storage")
ENERGY_BILLING = ("billed", "included")   # billed: the plan pays for power; included: in the lease price
KINDS = ("GPU", "TPU", "ASIC")
DEAL_STATUSES = ("signed", "active", "announced", "loi", "cancelled")
SCOPE_KEYS = ("offer", "vendor", "family", "kind", "host", "region", "contract")


# ----------------------------------------------------------------------------
# The parameter catalogue
# ----------------------------------------------------------------------------
@dataclass(frozen=True)
class ParameterSpec:
    """One entry of ``inputs/parameters.yaml``.

    ``alternatives`` pairs each allowed dimensionality with the model unit a
    value of that dimension is converted to (``[("[power]", "GW")]``).
    """

    name: str
    file: str
    alternatives: tuple[tuple[Any, str], ...]
    minimum: float | None
    maximum: float | None
    default: float | None
    default_source: str
    description: str
    in_file: str = ""       # the name rows use in the `parameter` column (default: ``name``)

    @property
    def row_name(self) -> str:
        return self.in_file or self.name

    @property
    def expected(self) -> str:
        """Plain words for the allowed units, e.g. ``a power (e.g. GW)``."""
        from model.units import dimension_name

        parts = ["a plain number (unit 'dimensionless' or '%')" if ureg.Unit(u).dimensionless
                 else f"{_article(dimension_name(ureg.Unit(u)))} (e.g. {u})" for _, u in self.alternatives]
        return " or ".join(parts)


def _article(name: str) -> str:
    return name if name.startswith("a ") else f"a {name}"


@dataclass(frozen=True)
class Settable:
    """A key ``--set KEY[.NAME]=VALUE`` accepts."""

    key: str
    parameter: str
    qualifier: str | None
    mode: str  # "set" or "scale"
    also: tuple[str, ...] = ()   # scale: further parameters of the same file scaled with it


@dataclass(frozen=True)
class Catalogue:
    parameters: dict[str, ParameterSpec]
    settable: dict[str, Settable]

    def for_file(self, file: str) -> dict[str, ParameterSpec]:
        """The parameters a file may hold, by the name its rows use."""
        return {p.row_name: p for p in self.parameters.values() if p.file == file}


def load_catalogue(path: Path) -> Catalogue:
    """Read ``parameters.yaml`` into a :class:`Catalogue`."""
    try:
        # libyaml's safe loader when present: the same documents, ~10x faster (the catalogue is read on every load)
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except (OSError, UnicodeDecodeError) as exc:
        raise InputErrors([InputError(display_path(path), 1, "-", "a readable YAML catalogue", str(exc))]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputErrors([InputError(display_path(path), mark.line + 1 if mark else 1, "-",
                                      "a readable YAML catalogue (valid YAML)", str(exc).splitlines()[0])]) from None
    problems = _catalogue_problems(raw, display_path(path))
    if problems:
        raise InputErrors(problems)
    params: dict[str, ParameterSpec] = {}
    for name, entry in (raw.get("parameters") or {}).items():
        dims = [d.strip() for d in str(entry["dimension"]).split(" or ")]
        units = [u.strip() for u in str(entry["unit"]).split(" or ")]
        alternatives = tuple(
            ((ureg.Unit("dimensionless").dimensionality if d == "dimensionless" else ureg.get_dimensionality(d)), u)
            for d, u in zip(dims, units)
        )
        params[name] = ParameterSpec(
            name=name,
            file=entry["file"],
            alternatives=alternatives,
            minimum=entry.get("min"),
            maximum=entry.get("max"),
            default=entry.get("default"),
            default_source=entry.get("default_source", ""),
            description=entry.get("description", ""),
            in_file=entry.get("name_in_file", ""),
        )
    settable = {
        key: Settable(key, v["parameter"], v.get("qualifier"), v.get("mode", "set"), tuple(v.get("also") or ()))
        for key, v in (raw.get("settable") or {}).items()
    }
    return Catalogue(params, settable)


def _catalogue_problems(raw: Any, shown: str) -> list[InputError]:
    """Check the shape of ``parameters.yaml`` before it is read, so a malformed entry is named, not a traceback.

    Every ``parameters`` entry needs ``file``, ``dimension`` and ``unit`` (with as
    many units as dimensions, each dimension known to pint); every ``settable``
    entry needs a ``parameter`` that the catalogue defines.
    """
    if not isinstance(raw, dict):
        return [InputError(shown, 1, "-", "a mapping with 'parameters' and 'settable'", type(raw).__name__)]
    out: list[InputError] = []
    params = raw.get("parameters") or {}
    if not isinstance(params, dict):
        return [InputError(shown, "parameters", "parameters", "a mapping of parameter name: entry",
                           type(params).__name__)]
    for name, entry in params.items():
        where = f"parameters.{name}"
        if not isinstance(entry, dict):
            out.append(InputError(shown, where, str(name), "a mapping with file, dimension and unit",
                                  type(entry).__name__))
            continue
        missing = [k for k in ("file", "dimension", "unit") if not entry.get(k)]
        if missing:
            out.append(InputError(shown, where, missing[0], "a value", "none"))
            continue
        dims = [d.strip() for d in str(entry["dimension"]).split(" or ")]
        units = [u.strip() for u in str(entry["unit"]).split(" or ")]
        if len(dims) != len(units):
            out.append(InputError(shown, where, "unit", f"one unit per dimension ({len(dims)})", repr(entry["unit"])))
            continue
        for d, u in zip(dims, units):
            try:
                dim = ureg.Unit("dimensionless").dimensionality if d == "dimensionless" else ureg.get_dimensionality(d)
                if ureg.Unit(u).dimensionality != dim:
                    raise ValueError(f"{u} is not {d}")
            except Exception as exc:  # pint raises several types for bad text
                out.append(InputError(shown, where, "dimension", "a pint dimension and a unit of it",
                                      f"{d} / {u} ({type(exc).__name__}: {exc})"))
        for k in ("min", "max", "default"):
            v = entry.get(k)
            if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v)):
                out.append(InputError(shown, where, k, "a finite number or nothing", repr(v)))
    settable = raw.get("settable") or {}
    if not isinstance(settable, dict):
        return out + [InputError(shown, "settable", "settable", "a mapping of key: entry", type(settable).__name__)]
    for key, entry in settable.items():
        if not isinstance(entry, dict) or entry.get("parameter") not in params:
            out.append(InputError(shown, f"settable.{key}", "parameter", "the name of a parameter in 'parameters'",
                                  repr(entry.get("parameter") if isinstance(entry, dict) else entry)))
            continue
        for extra in entry.get("also") or ():
            if extra not in params or params[extra].get("file") != params[entry["parameter"]].get("file"):
                out.append(InputError(shown, f"settable.{key}", "also",
                                      f"parameters of {params[entry['parameter']].get('file')} in 'parameters'",
                                      repr(extra)))
    return out


# ----------------------------------------------------------------------------
# File schemas (declarative: one place says what each file must hold)
# ----------------------------------------------------------------------------
@dataclass(frozen=True)
class FileSchema:
    """What one input file must hold.

    ``key`` columns identify a row (duplicates are refused); ``references``
    map a column to the entity file whose ids it must name; ``years`` say
    which columns hold calendar years and whether they may be empty.
    """

    name: str
    required: tuple[str, ...]
    key: tuple[str, ...]
    optional: tuple[str, ...] = ("note",)
    quantity: bool = False
    references: dict[str, str] = field(default_factory=dict)
    years: dict[str, str] = field(default_factory=dict)  # column -> "required" | "optional" | "vintage"
    choices: dict[str, tuple[str, ...]] = field(default_factory=dict)
    optional_file: bool = False   # absent file = no rows (energy and money inputs came later)
    parameters_of: str = ""       # take the parameters of this file (default: its own)


_Q = ("parameter", "value", "unit")
_P = ("source", "date", "confidence")

SCHEMAS: dict[str, FileSchema] = {s.name: s for s in [
    FileSchema("horizon.csv", ("parameter", "value", "unit") + _P, ("parameter",)),
    FileSchema("scalars.csv", _Q + _P, ("parameter",), quantity=True),
    FileSchema("vendors.csv", ("vendor", "name") + PROVENANCE, ("vendor",), optional=("note", "confidence")),
    FileSchema("hosts.csv", ("host", "name") + PROVENANCE, ("host",), optional=("note", "confidence")),
    FileSchema("regions.csv", ("region", "name") + PROVENANCE, ("region",), optional=("note", "confidence")),
    FileSchema("families.csv", ("family", "kind", "vendor", "name") + PROVENANCE, ("family",),
               optional=("note", "confidence"), references={"vendor": "vendors.csv"}, choices={"kind": KINDS}),
    FileSchema("generations.csv", ("family", "generation", "year") + _Q + _P, ("family", "generation", "parameter"),
               quantity=True, references={"family": "families.csv"}, years={"year": "any"}),
    FileSchema("region_parameters.csv", ("region", "year") + _Q + _P, ("region", "component", "year", "parameter"),
               optional=("note", "component"), quantity=True, references={"region": "regions.csv"}, years={"year": "optional"}),
    FileSchema("offers.csv", ("offer", "vendor", "family", "host", "region", "contract", "first_year",
                              "description") + PROVENANCE, ("offer",), optional=("note", "confidence", "energy"),
               references={"vendor": "vendors.csv", "family": "families.csv", "host": "hosts.csv",
                           "region": "regions.csv"},
               years={"first_year": "any"}, choices={"contract": CONTRACTS, "energy": ENERGY_BILLING}),
    FileSchema("offer_parameters.csv", ("offer", "year") + _Q + _P, ("offer", "year", "parameter"),
               quantity=True, references={"offer": "offers.csv"}, years={"year": "optional"}),
    FileSchema("vendor_supply.csv", ("vendor", "year") + _Q + _P, ("vendor", "year", "parameter"),
               quantity=True, references={"vendor": "vendors.csv"}, years={"year": "optional"}),
    FileSchema("opening_stock.csv", ("offer", "vintage", "value", "unit") + _P, ("offer", "vintage"),
               references={"offer": "offers.csv"}, years={"vintage": "vintage"}),
    FileSchema("commitments.csv", ("commitment", "kind", "scope", "first_year", "last_year", "bound", "value", "unit")
               + _P, ("commitment",), optional=("note", "deal"),
               years={"first_year": "any", "last_year": "any"},
               choices={"kind": ("history", "scheduled", "stop"), "bound": ("at_least", "exactly", "at_most")},
               optional_file=True),
    FileSchema("targets.csv", ("year",) + _Q + _P, ("year", "parameter"), quantity=True,
               years={"year": "required"}),
    FileSchema("deals.csv", ("deal", "counterparty", "status", "first_year", "last_year", "scope",
                             "description") + _P, ("deal",),
               years={"first_year": "any", "last_year": "any"}, choices={"status": DEAL_STATUSES}),
    FileSchema("deal_terms.csv", ("deal",) + _Q + _P, ("deal", "parameter", "unit"), quantity=True,
               references={"deal": "deals.csv"}),
    FileSchema("power_sources.csv", ("power_source", "region", "kind", "first_year", "description") + PROVENANCE,
               ("power_source",), optional=("note", "confidence"), references={"region": "regions.csv"},
               years={"first_year": "any"}, choices={"kind": POWER_KINDS}, optional_file=True),
    FileSchema("power_source_parameters.csv", ("power_source", "year") + _Q + _P, ("power_source", "year", "parameter"),
               quantity=True, references={"power_source": "power_sources.csv"}, years={"year": "optional"},
               optional_file=True),
    FileSchema("power_kind_parameters.csv", ("kind", "year") + _Q + _P, ("kind", "year", "parameter"), quantity=True,
               years={"year": "optional"}, choices={"kind": POWER_KINDS}, optional_file=True,
               parameters_of="power_source_parameters.csv"),
    FileSchema("power_kind_supply.csv", ("kind", "year") + _Q + _P, ("kind", "year", "parameter"), quantity=True,
               years={"year": "optional"}, choices={"kind": POWER_KINDS}, optional_file=True),
    FileSchema("finance.csv", ("year",) + _Q + _P, ("year", "parameter"), quantity=True, years={"year": "optional"},
               optional_file=True),
    FileSchema("reference_energy.csv", ("reference", "value", "unit") + _P, ("reference",), optional_file=True),
    FileSchema("portfolio.csv", ("rule", "scope", "first_year", "last_year") + ("value", "unit") + _P, ("rule", "scope", "first_year"),
               years={"first_year": "required", "last_year": "required"}, choices={"rule": ("max_share", "min_share")}),
]}

ENTITY_KEY = {"vendors.csv": "vendor", "hosts.csv": "host", "regions.csv": "region",
              "families.csv": "family", "offers.csv": "offer", "deals.csv": "deal",
              "power_sources.csv": "power_source"}

# Where dropping an entity must also drop the rows that refer to it.
DEPENDENTS: dict[str, list[tuple[str, str]]] = {
    "offers.csv": [("offer_parameters.csv", "offer"), ("opening_stock.csv", "offer")],
    "deals.csv": [("deal_terms.csv", "deal")],
    "families.csv": [("generations.csv", "family")],
    "regions.csv": [("region_parameters.csv", "region"), ("power_sources.csv", "region")],
    "power_sources.csv": [("power_source_parameters.csv", "power_source")],
}


# ----------------------------------------------------------------------------
# Raw tables: text rows that remember where they came from
# ----------------------------------------------------------------------------
@dataclass(frozen=True)
class RawRow:
    """A row as text, with its origin (file and line, or scenario entry)."""

    values: dict[str, str]
    file: str
    row: int | str

    def get(self, column: str) -> str:
        return self.values.get(column, "").strip()


@dataclass(frozen=True)
class RawTable:
    file: str
    columns: tuple[str, ...]
    rows: tuple[RawRow, ...]


def display_path(path: Path) -> str:
    """A path as the user should see it: relative to the working directory if possible."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def read_table(path: Path, schema: FileSchema, errors: list[InputError]) -> RawTable | None:
    """Read one CSV as text rows, checking the header against ``schema``.

    Comment lines (starting with ``#``) and blank lines are skipped; line
    numbers count every physical line, so they match an editor's.
    """
    shown = display_path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")  # -sig: a byte-order mark (Excel's CSV UTF-8) is not a column
    except FileNotFoundError:
        errors.append(InputError(shown, 0, "-", "a CSV file", "no such file"))
        return None
    except (OSError, UnicodeDecodeError) as exc:
        errors.append(InputError(shown, 0, "-", "a readable UTF-8 CSV file", f"{type(exc).__name__}: {exc}"))
        return None
    lines = [(i + 1, line) for i, line in enumerate(text.splitlines())
             if line.strip() and not line.lstrip().startswith("#")]
    if not lines:
        errors.append(InputError(shown, 1, "-", "a header line", "an empty file"))
        return None
    header_line, header_text = lines[0]
    header = [h.strip() for h in next(csv.reader([header_text]))]
    allowed = set(schema.required) | set(schema.optional)
    ok = True
    for col in schema.required:
        if col not in header:
            errors.append(InputError(shown, header_line, col, f"a column named '{col}'", "no such column"))
            ok = False
    for col in header:
        if col not in allowed:
            errors.append(InputError(shown, header_line, col or "(empty)",
                                     f"only the columns {', '.join(schema.required)}"
                                     + (f" (optional: {', '.join(schema.optional)})" if schema.optional else ""),
                                     f"an extra column '{col}'"))
            ok = False
    if len(set(header)) != len(header):
        errors.append(InputError(shown, header_line, "-", "each column once", f"repeated columns in {header}"))
        ok = False
    if not ok:
        return None
    rows = []
    for number, line in lines[1:]:
        cells = next(csv.reader([line]))
        if len(cells) != len(header):
            errors.append(InputError(shown, number, "-", f"{len(header)} comma-separated fields",
                                     f"{len(cells)} fields"))
            continue
        rows.append(RawRow({h: c.strip() for h, c in zip(header, cells)}, shown, number))
    return RawTable(shown, tuple(header), tuple(rows))


def read_raw_tables(inputs_dir: Path, errors: list[InputError]) -> dict[str, RawTable]:
    """Read every file in :data:`SCHEMAS` from ``inputs_dir``."""
    tables = {}
    for name, schema in SCHEMAS.items():
        if schema.optional_file and not (inputs_dir / name).exists():
            tables[name] = RawTable(display_path(inputs_dir / name), schema.required, ())
            continue
        table = read_table(inputs_dir / name, schema, errors)
        if table is not None:
            tables[name] = table
    return tables


def expand_kind_defaults(tables: dict[str, RawTable]) -> None:
    """Copy the rows of ``power_kind_parameters.csv`` to every power source of that kind that has no row
    of the parameter in ``power_source_parameters.csv`` (in place, before any override).

    A kind row is a default: one sourced figure (e.g. the gas price) for every source of the kind.
    The copies keep the kind file's name and line, so a bad value is reported where it was written;
    ``--set`` and scenario files then see one row per source, as before.
    """
    kinds, params = tables.get("power_kind_parameters.csv"), tables.get("power_source_parameters.csv")
    sources = tables.get("power_sources.csv")
    if kinds is None or params is None or sources is None or not kinds.rows:
        return
    have = {(r.get("power_source"), r.get("parameter")) for r in params.rows}
    added = []
    for src in sources.rows:
        name, kind = src.get("power_source"), src.get("kind")
        for r in kinds.rows:
            if r.get("kind") == kind and (name, r.get("parameter")) not in have:
                vals = {c: r.values.get(c, "") for c in params.columns if c != "power_source"}
                added.append(RawRow({"power_source": name, **vals}, r.file, r.row))
    tables["power_source_parameters.csv"] = replace(params, rows=params.rows + tuple(added))


def input_hashes(inputs_dir: Path, extra: Iterable[Path] = ()) -> dict[str, str]:
    """sha256 of every input file (and any scenario file used), by display path."""
    paths = sorted({*(inputs_dir / n for n in SCHEMAS), inputs_dir / "parameters.yaml", *extra})
    out = {}
    for p in paths:
        if p.exists():
            out[display_path(p)] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


# ----------------------------------------------------------------------------
# Overrides: scenario files and --set, applied to raw rows
# ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Override:
    """One change on top of the base data, as recorded in the manifest."""

    origin: str      # "scenario NAME" or "--set"
    action: str      # set | scale | switch | replace | drop | add
    target: str      # key or file
    detail: str
    source: str


def _matches(row: RawRow, where: dict[str, Any]) -> bool:
    return all(row.get(k) == str(v).strip() for k, v in where.items())


def _drop_rows(tables: dict[str, RawTable], file: str, where: dict[str, Any]) -> int:
    table = tables[file]
    kept = tuple(r for r in table.rows if not _matches(r, where))
    dropped = [r for r in table.rows if _matches(r, where)]
    tables[file] = replace(table, rows=kept)
    if file in ENTITY_KEY:
        key = ENTITY_KEY[file]
        gone = {r.get(key) for r in dropped}
        for dep_file, dep_col in DEPENDENTS.get(file, []):
            if dep_file in tables:
                dep = tables[dep_file]
                tables[dep_file] = replace(dep, rows=tuple(r for r in dep.rows if r.get(dep_col) not in gone))
    return len(dropped)


def _fmt(x: float) -> str:
    return repr(float(x))


def apply_set(tables: dict[str, RawTable], catalogue: Catalogue, assignment: str,
              origin: str = "command line", row: str | None = None) -> Override:
    """Apply one ``KEY[.NAME]=VALUE`` assignment to the raw tables (in place).

    Raises
    ------
    InputError
        For an unknown key or member, a missing ``=``, a scale factor that
        is not a non-negative plain number, or a value the parameter refuses
        (wrong dimension, out of range): checked once here, naming the key,
        rather than once for each row the value would become.
    """
    where = row or f"--set {assignment}"
    if "=" not in assignment:
        raise InputError(origin, where, assignment or "--set", "KEY=VALUE (e.g. pue=1.2)", repr(assignment))
    key, value = (s.strip() for s in assignment.split("=", 1))
    base, _, member = key.partition(".")
    if base not in catalogue.settable:
        raise InputError(origin, where, key or "KEY", "one of " + ", ".join(sorted(catalogue.settable)), repr(key))
    spec = catalogue.settable[base]
    param = catalogue.parameters[spec.parameter]
    file = param.file
    if file not in tables:
        raise InputError(origin, where, key, f"the file {file} to be readable", "it could not be read")
    if spec.mode in ("edit", "shift"):
        return _apply_row_edit(tables, spec, key, member, value, origin, where)
    if spec.mode == "set" and value.lower() == "none" and spec.parameter in LIFTABLE:
        tables[file] = replace(tables[file], rows=tuple(r for r in tables[file].rows
                                                        if r.get("parameter") != param.row_name))
        return Override(origin, "set", key, "none (no limit)", where)
    members: list[str] = []
    if spec.qualifier:
        entity_file = {"region": "regions.csv", "vendor": "vendors.csv", "offer": "offers.csv",
                       "deal": "deals.csv", "power_source": "power_sources.csv"}[spec.qualifier]
        entity_key = ENTITY_KEY[entity_file]
        all_members = [r.get(entity_key) for r in tables.get(entity_file, RawTable("", (), ())).rows]
        if member:
            if member not in all_members:
                raise InputError(origin, where, key, f"a {spec.qualifier} after '{base}.' (one of "
                                 + ", ".join(all_members) + ")", repr(member))
            members = [member]
        else:
            members = all_members
    elif member:
        raise InputError(origin, where, key, f"'{base}' without a qualifier (it applies everywhere)", repr(key))
    table = tables[file]
    if spec.mode == "scale":
        try:
            factor = parse_quantity(value)
        except UnitParseError:
            raise InputError(origin, where, key, "a plain non-negative number (a factor)", repr(value)) from None
        if factor.dimensionality != ureg.Unit("dimensionless").dimensionality or factor.to("").magnitude < 0:
            raise InputError(origin, where, key, "a plain non-negative number (a factor)",
                             repr(value) if factor.dimensionless else describe(factor))
        f = float(factor.to("").magnitude)
        names = {param.row_name, *(catalogue.parameters[a].row_name for a in spec.also)}
        new_rows = []
        for r in table.rows:
            hit = r.get("parameter") in names and (not members or r.get(spec.qualifier) in members)
            if hit:
                try:
                    scaled = _fmt(float(r.get("value")) * f)
                except ValueError:
                    scaled = r.get("value")  # left for validation to report
                vals = dict(r.values, value=scaled)
                vals["source"] = f"{r.get('source')} x {f} ({where})"
                new_rows.append(RawRow(vals, r.file, r.row))
            else:
                new_rows.append(r)
        tables[file] = replace(table, rows=tuple(new_rows))
        return Override(origin, "scale", key, f"x {f}", where)
    # mode "set": one row for all years, per member
    if spec.mode == "switch":
        words = {"on": "1", "true": "1", "yes": "1", "1": "1", "off": "0", "false": "0", "no": "0", "0": "0"}
        if value.lower() not in words:
            raise InputError(origin, where, key, "on or off", repr(value))
        value = words[value.lower()]
    try:
        q = parse_quantity(value)
        num, unit = _fmt(q.magnitude), f"{q.units:~}" if not q.dimensionless else str(q.units)
    except UnitParseError:
        num, unit = value, ""
    # Check the value once, here, naming the key: the rows it becomes (one per region, vendor, ...)
    # would each report the same problem, and a refused scalar would look like a missing row.
    problems: list[InputError] = []
    parse_value(RawRow({"value": num, "unit": unit}, origin, where), param, problems)
    if problems:   # the value as typed, or its dimension when that is what is wrong
        wrong_unit = problems[0].field == "unit"
        found = (problems[0].found if wrong_unit and unit not in ("", "dimensionless")
                 else f"{value!r} (a plain number, no unit)" if wrong_unit and unit else repr(value))
        raise InputError(origin, where, problems[0].field, problems[0].expected, found)
    kept = tuple(r for r in table.rows if not (r.get("parameter") == param.row_name
                                               and (not members or r.get(spec.qualifier) in members)))
    today = _dt.date.today().isoformat()
    added = []
    for m in (members or [None]):
        vals = {c: "" for c in table.columns}
        vals.update(parameter=param.row_name, value=num, unit=unit, source=f"{origin}: {where}",
                    date=today, confidence="assumption")
        if m is not None:
            vals[spec.qualifier] = m
        added.append(RawRow(vals, origin, where))
    tables[file] = replace(table, rows=kept + tuple(added))
    return Override(origin, spec.mode, key, value, where)


#: Parameters whose absence means "no limit": ``--set KEY=none`` drops their rows.
LIFTABLE = ("debt_limit",)


def _apply_row_edit(tables: dict[str, RawTable], spec: Settable, key: str, member: str, value: str,
                    origin: str, where: str) -> Override:
    """``--set commitment[.NAME]=5GW`` (mode edit: a tranche's size) or ``commitment_delay[.NAME]=1a`` (mode shift).

    Edits the matching rows of the qualifier's file in place, keeping their other columns (scope, years,
    bound). A shift moves first and last year later (negative: earlier) by whole years; a tranche moved
    out of the horizon no longer binds.

    Raises
    ------
    InputError
        For an unknown member, or a shift that is not a whole number of years.
    """
    file = f"{spec.qualifier}s.csv"
    table = tables[file]
    names = [r.get(spec.qualifier) for r in table.rows]
    if member and member not in names:
        raise InputError(origin, where, key, f"a {spec.qualifier} after '{key.partition('.')[0]}.' (one of "
                         + ", ".join(names) + ")", repr(member))
    if spec.mode == "shift":
        try:
            q = parse_quantity(value)
            shift = float(q.to("a").magnitude)
        except Exception:
            raise InputError(origin, where, key, "a whole number of years (e.g. 1a, -1a)", repr(value)) from None
        if shift != int(shift):
            raise InputError(origin, where, key, "a whole number of years (e.g. 1a, -1a)", repr(value))
    else:
        try:
            q = parse_quantity(value)
            num, unit = _fmt(q.magnitude), f"{q.units:~}" if not q.dimensionless else ""
        except UnitParseError:
            num, unit = value, ""   # validation reports it with the row's origin
    rows = []
    for r in table.rows:
        if not member or r.get(spec.qualifier) == member:
            vals = dict(r.values)
            if spec.mode == "shift":
                for col in ("first_year", "last_year"):
                    try:
                        vals[col] = str(int(float(vals[col])) + int(shift))
                    except ValueError:
                        pass   # validation reports the bad year
            else:
                vals.update(value=num, unit=unit)
            vals["source"] = f"{r.get('source')}; {origin}: {where}"
            r = RawRow(vals, r.file, r.row)
        rows.append(r)
    tables[file] = replace(table, rows=tuple(rows))
    return Override(origin, spec.mode, key, value, where)


def apply_scenario_file(tables: dict[str, RawTable], catalogue: Catalogue, path: Path) -> list[Override]:
    """Apply a scenario YAML (``set``, ``replace``, ``drop``, ``add``) to the raw tables in place."""
    shown = display_path(path)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError) as exc:
        raise InputErrors([InputError(shown, 1, "-", "a readable UTF-8 scenario file", str(exc))]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        raise InputErrors([InputError(shown, line, "-", "valid YAML", str(exc).splitlines()[0])]) from None
    if not isinstance(doc, dict):
        raise InputErrors([InputError(shown, 1, "-", "a mapping with description/set/replace/drop/add",
                                      type(doc).__name__)])
    return apply_scenario_doc(tables, catalogue, doc, shown, path.stem)


def apply_scenario_doc(tables: dict[str, RawTable], catalogue: Catalogue, doc: dict, shown: str, name: str,
                       default_source: str = "", extra_keys: tuple[str, ...] = ()) -> list[Override]:
    """Apply overrides given as a mapping (a scenario file's content, or one future of a futures file).

    ``shown`` names where the mapping came from in error messages; entries
    without a ``source`` take ``default_source`` (an error if that is empty).
    """
    errors: list[InputError] = []
    done: list[Override] = []
    unknown = set(doc) - {"description", "set", "replace", "drop", "add", "sources", "notes", *extra_keys}
    for k in sorted(unknown):
        errors.append(InputError(shown, k, k, "one of description, set, replace, drop, add", repr(k)))
    for section, shape in (("set", dict), ("replace", list), ("drop", list), ("add", list)):
        if doc.get(section) is not None and not isinstance(doc[section], shape):
            errors.append(InputError(shown, section, section, "a mapping of KEY: value" if shape is dict
                                     else "a list of entries (each starting with '- ')", type(doc[section]).__name__))
            doc = {**doc, section: None}
    for key, entry in (doc.get("set") or {}).items():
        where = f"set.{key}"
        if isinstance(entry, dict):
            value, source = entry.get("value"), entry.get("source", "") or default_source
        else:
            value, source = entry, default_source
        if not str(source).strip():
            errors.append(InputError(shown, where, "source", "a reason or citation for the change", "none"))
        try:
            o = apply_set(tables, catalogue, f"{key}={value}", origin=shown, row=where)
            done.append(replace(o, origin=f"scenario {name}", source=str(source)))
        except InputError as exc:
            errors.append(exc)
    for action in ("replace", "drop", "add"):
        for i, entry in enumerate(doc.get(action) or []):
            where = f"{action}[{i}]"
            if not isinstance(entry, dict):
                errors.append(InputError(shown, where, action, "a mapping with file and where/rows", repr(entry)))
                continue
            file = entry.get("file")
            source = str(entry.get("source", "") or default_source).strip()
            if file not in SCHEMAS:
                errors.append(InputError(shown, where, "file", "one of " + ", ".join(SCHEMAS), repr(file)))
                continue
            if file not in tables:
                continue  # its own read error is already reported
            if not source:
                errors.append(InputError(shown, where, "source", "a reason or citation for the change", "none"))
            if action in ("replace", "drop"):
                cond = entry.get("where") or {}
                if not isinstance(cond, dict) or not cond:
                    errors.append(InputError(shown, where, "where", "a mapping of column: value", repr(cond)))
                    continue
                bad = [c for c in cond if c not in tables[file].columns]
                if bad:
                    errors.append(InputError(shown, where, "where", f"columns of {file}", repr(bad)))
                    continue
                hits = [r for r in tables[file].rows if _matches(r, cond)]
                if not hits:
                    errors.append(InputError(shown, where, "where", f"a condition matching rows of {file}",
                                             f"no row matches {cond}"))
                    continue
                if action == "drop":
                    _drop_rows(tables, file, cond)
                    done.append(Override(f"scenario {name}", "drop", file, str(cond), source))
                else:
                    values = entry.get("values") or {}
                    bad = [c for c in values if c not in tables[file].columns]
                    if not isinstance(values, dict) or not values or bad:
                        errors.append(InputError(shown, where, "values", f"a mapping of columns of {file}",
                                                 repr(values)))
                        continue
                    table = tables[file]
                    new_rows = []
                    for r in table.rows:
                        if _matches(r, cond):
                            vals = dict(r.values, **{k: str(v) for k, v in values.items()})
                            vals["source"] = f"scenario {name}: {source}" if "source" not in values else vals["source"]
                            new_rows.append(RawRow(vals, shown, where))
                        else:
                            new_rows.append(r)
                    tables[file] = replace(table, rows=tuple(new_rows))
                    done.append(Override(f"scenario {name}", "replace", file, f"{cond} -> {values}", source))
            else:
                rows = entry.get("rows") or []
                if not isinstance(rows, list):
                    errors.append(InputError(shown, where, "rows", "a list of rows (mappings of column: value)",
                                             type(rows).__name__))
                    continue
                table = tables[file]
                added = []
                for j, row in enumerate(rows):
                    if not isinstance(row, dict):
                        errors.append(InputError(shown, f"{where}.rows[{j}]", "-", "a mapping of column: value",
                                                 repr(row)))
                        continue
                    bad = [c for c in row if c not in table.columns]
                    if bad:
                        errors.append(InputError(shown, f"{where}.rows[{j}]", bad[0], f"columns of {file}",
                                                 repr(bad[0])))
                        continue
                    vals = {c: "" for c in table.columns}
                    vals.update({k: ("" if v is None else str(v)) for k, v in row.items()})
                    if not vals.get("source"):
                        vals["source"] = f"scenario {name}: {source}"
                    added.append(RawRow(vals, shown, f"{where}.rows[{j}]"))
                tables[file] = replace(table, rows=table.rows + tuple(added))
                done.append(Override(f"scenario {name}", "add", file, f"{len(added)} rows", source))
    if errors:
        raise InputErrors(errors)
    return done


# ----------------------------------------------------------------------------
# Validation of rows: provenance, years, references, quantities
# ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Fact:
    """A validated quantity row: its key columns, parameter, value in model units."""

    keys: dict[str, Any]
    parameter: str
    value: float
    unit: str          # the model unit the value is in
    file: str
    row: int | str


def parse_value(row: RawRow, spec: ParameterSpec, errors: list[InputError],
                value_col: str = "value", unit_col: str = "unit") -> tuple[float, str] | None:
    """Check one row's value and unit against ``spec``; return (model value, model unit)."""
    text, unit_text = row.get(value_col), row.get(unit_col)
    if text == "":
        errors.append(InputError(row.file, row.row, value_col, f"a number for '{spec.row_name}'", "an empty cell"))
        return None
    try:
        number = float(text)
    except ValueError:
        errors.append(InputError(row.file, row.row, value_col, f"a number for '{spec.row_name}'", repr(text)))
        return None
    if not math.isfinite(number):
        errors.append(InputError(row.file, row.row, value_col, f"a finite number for '{spec.row_name}'", repr(text)))
        return None
    if unit_text == "":
        errors.append(InputError(row.file, row.row, unit_col, f"a unit for '{spec.row_name}': {spec.expected}",
                                 "an empty cell"))
        return None
    try:
        magnitude, units, dimensionality = unit_parts(unit_text)   # parsed once per text and process
    except UnitParseError:
        errors.append(InputError(row.file, row.row, unit_col, f"a unit for '{spec.row_name}': {spec.expected}",
                                 repr(unit_text)))
        return None
    if magnitude != 1:  # a number in the unit cell ('0 GW', 'nan GW') would rescale the value silently
        errors.append(InputError(row.file, row.row, unit_col, f"a unit without a number for '{spec.row_name}': "
                                 f"{spec.expected}", repr(unit_text)))
        return None
    for dim, model_unit in spec.alternatives:
        if dimensionality == dim:
            factor = conversion_factor(units, model_unit)
            value = number * factor if factor is not None else float(Q_(number, units).to(model_unit).magnitude)
            if not math.isfinite(value):  # e.g. 1e308 TW overflows in GW
                errors.append(InputError(row.file, row.row, value_col,
                                         f"'{spec.row_name}' that is finite in {model_unit}", _as_given(text, unit_text)))
                return None
            if spec.minimum is not None and value < spec.minimum - 1e-12:
                errors.append(InputError(row.file, row.row, value_col,
                                         f"'{spec.row_name}' of at least {_in_units(spec.minimum, model_unit, unit_text)}",
                                         _as_given(text, unit_text)))
                return None
            if spec.maximum is not None and value > spec.maximum + 1e-12:
                errors.append(InputError(row.file, row.row, value_col,
                                         f"'{spec.row_name}' of at most {_in_units(spec.maximum, model_unit, unit_text)}",
                                         _as_given(text, unit_text)))
                return None
            return value, model_unit
    errors.append(InputError(row.file, row.row, unit_col, f"{spec.expected} for '{spec.row_name}'",
                             describe(Q_(number, units))))
    return None


def _as_given(text: str, unit_text: str) -> str:
    """A value as the user gave it, without the word 'dimensionless' after a plain number."""
    return text if unit_text in ("", "dimensionless") else f"{text} {unit_text}"


def _in_units(value: float, model_unit: str, user_unit: str) -> str:
    if ureg.Unit(model_unit).dimensionless and user_unit in ("", "dimensionless"):
        return f"{value:g}"
    try:
        q = Q_(value, model_unit).to(parse_quantity(f"1 {user_unit}").units)
        return f"{q.magnitude:g} {user_unit}"
    except Exception:
        return f"{value:g} {model_unit}"


def check_provenance(row: RawRow, errors: list[InputError]) -> None:
    """Every row needs a source (or ``assumption: reason``) and a date."""
    src = row.get("source")
    if not src:
        errors.append(InputError(row.file, row.row, "source", "a citation or 'assumption: <reason>'", "an empty cell"))
    elif src.lower().startswith("assumption") and len(src.split(":", 1)[-1].strip()) < 5:
        errors.append(InputError(row.file, row.row, "source", "'assumption: <the reason>'", repr(src)))
    date = row.get("date")
    if not date:
        errors.append(InputError(row.file, row.row, "date", "a date YYYY, YYYY-MM or YYYY-MM-DD", "an empty cell"))
    elif not _DATE.match(date):
        errors.append(InputError(row.file, row.row, "date", "a date YYYY, YYYY-MM or YYYY-MM-DD", repr(date)))
    conf = row.values.get("confidence")
    if conf is not None and conf.strip() and conf.strip() not in CONFIDENCE:
        errors.append(InputError(row.file, row.row, "confidence", "one of " + ", ".join(sorted(CONFIDENCE)),
                                 repr(conf)))


def parse_year(row: RawRow, column: str, mode: str, horizon: tuple[int, int] | None,
               errors: list[InputError]) -> int | None:
    """Read a calendar-year column. ``mode``: required, optional, any, vintage."""
    text = row.get(column)
    if text == "":
        if mode != "optional":
            errors.append(InputError(row.file, row.row, column, "a calendar year (e.g. 2030)", "an empty cell"))
        return None
    try:
        as_float = float(text)
        year = int(as_float)
        if year != as_float:
            raise ValueError
    except (ValueError, OverflowError):  # OverflowError: 'inf', '1e400'
        errors.append(InputError(row.file, row.row, column, "a calendar year (e.g. 2030)", repr(text)))
        return None
    if not 1990 <= year <= 2100:
        errors.append(InputError(row.file, row.row, column, "a calendar year between 1990 and 2100", repr(text)))
        return None
    if horizon is not None:
        first, last = horizon
        if mode in ("required", "optional") and not first <= year <= last:
            errors.append(InputError(row.file, row.row, column,
                                     f"a year within the planning horizon {first}..{last}", repr(text)))
            return None
        if mode == "vintage" and year > first:
            errors.append(InputError(row.file, row.row, column,
                                     f"a vintage no later than the first planning year {first}", repr(text)))
            return None
    return year


class _CheckedTables:
    """The result of :func:`check_rows` for the last tables checked, reused when the very same table comes again.

    ``check_rows`` is a pure function of its arguments (the table's rows are
    immutable text); a sweep loads every case, and a case changes only the
    few tables its ``--set`` assignments touch (``apply_set`` makes new
    tables, the others are the same objects). So a table checked before, with
    the same schema, catalogue, ids and horizon, gets the same good rows and
    the same problems again: nothing is skipped, the identical check is not
    redone. Keys hold the objects themselves (compared by identity), so a
    reused ``id`` can never match a different table. The rows are shared
    between loads, so they are read-only mappings.
    """

    def __init__(self, size: int = 128) -> None:
        import threading
        from collections import OrderedDict

        self.size = size
        self.entries: "OrderedDict[tuple, tuple]" = OrderedDict()
        self.lock = threading.Lock()

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def checked(table, schema, catalogue, ids, horizon, errors):
            key = (id(table), id(schema), id(catalogue), horizon,
                   tuple(sorted((k, frozenset(v)) for k, v in ids.items())))
            with self.lock:
                hit = self.entries.get(key)
                if hit is not None and hit[0] is table and hit[1] is schema and hit[2] is catalogue:
                    self.entries.move_to_end(key)
                    errors.extend(hit[4])
                    return list(hit[3])
            mine: list[InputError] = []
            rows = tuple(MappingProxyType(r) for r in fn(table, schema, catalogue, ids, horizon, mine))  # read-only
            errors.extend(mine)
            with self.lock:
                self.entries[key] = (table, schema, catalogue, rows, tuple(mine))
                while len(self.entries) > self.size:
                    self.entries.popitem(last=False)
            return list(rows)

        return checked


@_CheckedTables()
def check_rows(table: RawTable, schema: FileSchema, catalogue: Catalogue,
               ids: dict[str, set[str]], horizon: tuple[int, int] | None,
               errors: list[InputError]) -> list[dict[str, Any]]:
    """Validate every row of one table; return the good rows as parsed dicts.

    Each returned dict holds the text columns, parsed years (int or None), and,
    for quantity tables, ``_value`` / ``_unit`` in model units. ``_file`` and
    ``_row`` keep the origin.
    """
    params = catalogue.for_file(schema.parameters_of or schema.name)
    seen: dict[tuple, int | str] = {}
    out = []
    for row in table.rows:
        n_before = len(errors)
        check_provenance(row, errors)
        parsed: dict[str, Any] = {c: row.get(c) for c in table.columns}
        for col in schema.key + schema.required:
            if col in schema.years or col in PROVENANCE or col in ("value", "unit", "confidence", "description",
                                                                  "name", "scope", "component"):
                continue
            if row.get(col) == "":
                errors.append(InputError(row.file, row.row, col, f"a value for '{col}'", "an empty cell"))
        for col, mode in schema.years.items():
            parsed[col] = parse_year(row, col, mode, horizon, errors)
        for col, entity in schema.references.items():
            v = row.get(col)
            if v and entity in ids and v not in ids[entity]:
                errors.append(InputError(row.file, row.row, col,
                                         f"a {col} defined in {entity} (one of {', '.join(sorted(ids[entity]))})",
                                         repr(v)))
        for col, allowed in schema.choices.items():
            v = row.get(col)
            if v and v not in allowed:
                errors.append(InputError(row.file, row.row, col, "one of " + ", ".join(allowed), repr(v)))
        if schema.quantity:
            pname = row.get("parameter")
            if pname not in params:
                errors.append(InputError(row.file, row.row, "parameter",
                                         f"a parameter of {schema.name} (one of {', '.join(sorted(params))})",
                                         repr(pname)))
            else:
                got = parse_value(row, params[pname], errors)
                if got:
                    parsed["_value"], parsed["_unit"] = got
        key = tuple(row.get(c) for c in schema.key)
        if key in seen:
            first = seen[key]
            errors.append(InputError(row.file, row.row, ", ".join(schema.key),
                                     f"each ({', '.join(schema.key)}) once",
                                     f"a duplicate of line {first}: {key}" if isinstance(first, int)
                                     else f"a duplicate of {first}: {key}"))
        else:
            seen[key] = row.row
        if len(errors) == n_before:
            parsed["_file"], parsed["_row"] = row.file, row.row
            out.append(parsed)
    return out


def facts_from(rows: list[dict[str, Any]], key_cols: Iterable[str]) -> list[Fact]:
    """Turn checked quantity rows into :class:`Fact` records."""
    return [Fact({c: r.get(c) for c in key_cols}, r["parameter"], r["_value"], r["_unit"], r["_file"], r["_row"])
            for r in rows]


def parse_scope(text: str) -> dict[str, tuple[str, ...]]:
    """Read a scope selector (``vendor=amd&host=oracle|microsoft``, or ``all``).

    Raises
    ------
    ValueError
        If a term is not ``key=value`` or names an unknown key.
    """
    text = text.strip()
    if text in ("all", "*"):
        return {}
    terms: dict[str, tuple[str, ...]] = {}
    for term in text.split("&"):
        key, eq, vals = term.partition("=")
        key = key.strip()
        if not eq or key not in SCOPE_KEYS or not vals.strip():
            raise ValueError(term)
        terms[key] = tuple(v.strip() for v in vals.split("|") if v.strip())
    return terms
