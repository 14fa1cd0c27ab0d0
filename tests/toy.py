"""Small, hand-solvable input folders for tests.

``write_inputs(folder, **tables)`` writes a complete inputs folder: the
project's ``parameters.yaml`` plus toy CSVs. Any table can be replaced by
passing its rows (a list of dicts, header taken from the first row) under
the file's stem, e.g. ``offers=[...]``; ``extra_rows`` appends to a table.

The default toy: years 2025-2027, one region (R) with ample grid, one vendor
(acme) with family acme-gpu, two offers:

- ``buy``: purchase, capex 10 bnUSD/GW, lifetime 5 a, no fixed cost;
- ``rent``: lease at 3 bnUSD/GW/a, lifetime 5 a.

Discount rate 0, electricity price 0 (so only capital and leases cost),
target 2 GW in 2027. With a 0 % discount rate and a 5-year life, ``buy``
costs 10/5 = 2 bnUSD per GW per year in service, ``rent`` 3.
"""
from __future__ import annotations

import csv
import shutil
from pathlib import Path
from typing import Any

PROJECT_INPUTS = Path(__file__).resolve().parent.parent / "inputs"
SRC = {"source": "assumption: toy test data", "date": "2026-11-23", "confidence": "assumption"}
SRC2 = {"source": "assumption: toy test data", "date": "2026-11-23"}


def q(parameter: str, value: Any, unit: str, **keys: Any) -> dict[str, Any]:
    return {**keys, "parameter": parameter, "value": value, "unit": unit, **SRC}


def default_tables() -> dict[str, list[dict[str, Any]]]:
    return {
        "horizon": [{"parameter": p, "value": v, "unit": "year", **SRC}
                    for p, v in (("first_year", 2025), ("last_year", 2027), ("default_target_year", 2027))],
        "scalars": [q("discount_rate", 0, "percent"), q("utilisation", 50, "percent"),
                    q("hours_per_year", 8760, "h"), q("default_target", 2, "GW")],
        "vendors": [{"vendor": "acme", "name": "Acme", **SRC2}],
        "hosts": [{"host": "self", "name": "Self-build", **SRC2}, {"host": "cloud", "name": "Cloud", **SRC2}],
        "regions": [{"region": "R", "name": "Region R", **SRC2}],
        "families": [{"family": "acme-gpu", "kind": "GPU", "vendor": "acme", "name": "Acme GPU", **SRC2}],
        "generations": [
            {"family": "acme-gpu", "generation": "g1", "year": 2020, **q("it_power_per_chip", 1000, "W")},
            {"family": "acme-gpu", "generation": "g1", "year": 2020, **q("flops_per_chip", 1e15, "FLOP/s")},
        ],
        "region_parameters": [
            {"region": "R", "year": "", **q("grid_power", 100, "GW")},
            {"region": "R", "year": "", **q("pue", 1.0, "dimensionless")},
            {"region": "R", "year": "", **q("electricity_price", 0, "USD/MWh")},
        ],
        "offers": [
            {"offer": "buy", "vendor": "acme", "family": "acme-gpu", "host": "self", "region": "R",
             "contract": "purchase", "first_year": 2025, "description": "toy purchase", **SRC2},
            {"offer": "rent", "vendor": "acme", "family": "acme-gpu", "host": "cloud", "region": "R",
             "contract": "lease", "first_year": 2025, "description": "toy lease", **SRC2},
        ],
        "offer_parameters": [
            {"offer": "buy", "year": "", **q("capex", 10e9, "USD/GW")},
            {"offer": "buy", "year": "", **q("lifetime", 5, "a")},
            {"offer": "rent", "year": "", **q("lease_price", 3e9, "USD/GW/a")},
            {"offer": "rent", "year": "", **q("lifetime", 5, "a")},
        ],
        "vendor_supply": [{"vendor": "acme", "year": 2025, **q("supply_cap", 100, "GW/a")}],
        "opening_stock": [{"offer": "buy", "vintage": 2024, "value": 0, "unit": "GW", **SRC}],
        "targets": [{"year": 2025, **q("minimum_in_service", 0, "GW")}],
        "deals": [],
        "deal_terms": [],
        "portfolio": [],
    }


HEADERS = {
    "deals": ["deal", "counterparty", "status", "first_year", "last_year", "scope", "description",
              "source", "date", "confidence"],
    "deal_terms": ["deal", "parameter", "value", "unit", "source", "date", "confidence"],
    "portfolio": ["rule", "scope", "first_year", "last_year", "value", "unit", "source", "date", "confidence"],
}


def write_table(path: Path, rows: list[dict[str, Any]], header: list[str] | None = None) -> None:
    header = header or (list(rows[0]) if rows else [])
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=header)
        w.writeheader()
        for r in rows:
            w.writerow(r)


def write_inputs(folder: Path, extra_rows: dict[str, list[dict[str, Any]]] | None = None,
                 **tables: list[dict[str, Any]]) -> Path:
    """Write a toy inputs folder; returns it."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(PROJECT_INPUTS / "parameters.yaml", folder / "parameters.yaml")
    (folder / "scenarios").mkdir(exist_ok=True)
    data = default_tables()
    data.update(tables)
    for stem, rows in (extra_rows or {}).items():
        data[stem] = data[stem] + rows
    for stem, rows in data.items():
        write_table(folder / f"{stem}.csv", rows, HEADERS.get(stem))
    return folder


def deal(name: str, scope: str, first: int, last: int, status: str = "active") -> dict[str, Any]:
    return {"deal": name, "counterparty": name.title(), "status": status, "first_year": first, "last_year": last,
            "scope": scope, "description": "toy deal", **SRC}


def term(name: str, parameter: str, value: Any, unit: str) -> dict[str, Any]:
    return {"deal": name, "parameter": parameter, "value": value, "unit": unit, **SRC}


def rng(file: str, parameter: str, label: str, low: Any, high: Any, unit: str, select: str = "",
        set_key: str = "", reason: str = "toy range") -> dict[str, Any]:
    """One row of ``ranges.csv`` (columns in the file's order): ``ranges=[rng(...), ...]``."""
    return {"file": file, "select": select, "parameter": parameter, "label": label, "low": low, "high": high,
            "unit": unit, "set_key": set_key, "reason": reason, **SRC}
