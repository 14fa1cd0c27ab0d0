"""Reading the input CSVs as rows that remember their file and line; the schema of every file."""
from __future__ import annotations

import csv
import hashlib
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterable

from model.errors import InputError
from model.inputs.memo import MEMOS, kept_on

PROVENANCE = ("source", "date")


DATE_PATTERN = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


CONFIDENCE = {"P", "N", "A", "D", "S", "Seed", "assumption"}


CONTRACTS = ("purchase", "lease")


POWER_KINDS = ("grid", "gas", "nuclear", "solar_storage")


ENERGY_BILLING = ("billed", "included")   # billed: the plan pays for power; included: in the lease price


KINDS = ("GPU", "TPU", "ASIC")


DEAL_STATUSES = ("signed", "active", "announced", "loi", "cancelled")


SCOPE_KEYS = ("offer", "vendor", "family", "kind", "host", "region", "contract")


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
    FileSchema("calibration.csv", ("figure", "measure", "scope", "first_year", "last_year", "value", "unit",
                                   "ratio_low", "ratio_high", "reconcile") + _P, ("figure",),
               years={"first_year": "any", "last_year": "any"}, optional_file=True),
    FileSchema("portfolio.csv", ("rule", "scope", "first_year", "last_year") + ("value", "unit") + _P, ("rule", "scope", "first_year"),
               years={"first_year": "required", "last_year": "required"}, choices={"rule": ("max_share", "min_share")}),
]}


ENTITY_KEY = {"vendors.csv": "vendor", "hosts.csv": "host", "regions.csv": "region",
              "families.csv": "family", "offers.csv": "offer", "deals.csv": "deal",
              "power_sources.csv": "power_source"}


DEPENDENTS: dict[str, list[tuple[str, str]]] = {
    "offers.csv": [("offer_parameters.csv", "offer"), ("opening_stock.csv", "offer")],
    "deals.csv": [("deal_terms.csv", "deal")],
    "families.csv": [("generations.csv", "family")],
    "regions.csv": [("region_parameters.csv", "region"), ("power_sources.csv", "region")],
    "power_sources.csv": [("power_source_parameters.csv", "power_source")],
}


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


@dataclass(frozen=True)
class Step:
    """How a ``--set`` made a table from another: ``parent``'s rows without those at ``dropped`` (sorted
    positions), then ``added`` new rows appended; ``touched`` names the parameters of the rows dropped and added.
    """

    parent: RawTable
    dropped: tuple[int, ...]
    added: int
    touched: frozenset[str]


#: The step that made each table a ``--set`` made (by table object), while kept answers are on: the checks of a
#: sweep case's changed table read it to work on the rows that changed only (:func:`step_of`).
_STEPS: dict[int, tuple[RawTable, Step]] = {}
MEMOS.append(_STEPS)


def record_step(table: RawTable, step: Step) -> None:
    """Remember that ``step`` made ``table`` (nothing is kept while kept answers are off)."""
    if kept_on():
        if len(_STEPS) > 256:
            _STEPS.clear()
        _STEPS[id(table)] = (table, step)


def step_of(table: RawTable) -> Step | None:
    """The step that made ``table`` from another (``None``: read from a file, or not recorded)."""
    hit = _STEPS.get(id(table))
    return hit[1] if hit is not None and hit[0] is table else None


def ancestor_with_same(table: RawTable, parameter: str) -> RawTable:
    """The earliest table ``table`` was made from by steps that neither dropped nor added a row of ``parameter``:
    its rows of ``parameter`` are the very rows ``table`` holds, in the same order."""
    step = step_of(table)
    while step is not None and parameter not in step.touched:
        table = step.parent
        step = step_of(table)
    return table


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


#: Input files read outside the schema-checked tables (hashed with them, so verify sees them change).
UNCHECKED_INPUTS = ("money_flows.csv",)


def input_hashes(inputs_dir: Path, extra: Iterable[Path] = ()) -> dict[str, str]:
    """sha256 of every input file (and any scenario file used), by display path.

    ``money_flows.csv`` is included: the stochastic sets' money flows are read from it.
    """
    paths = sorted({*(inputs_dir / n for n in (*SCHEMAS, *UNCHECKED_INPUTS)), inputs_dir / "parameters.yaml",
                    *extra})
    out = {}
    for p in paths:
        if p.exists():
            out[display_path(p)] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out
