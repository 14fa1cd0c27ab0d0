"""The world run's buyer data (issue 20) keep the schema agreed with the world LP.

``inputs/buyers.csv`` names the buyers (one default, the named ones, one rest of the world);
``inputs/buyer_parameters.csv`` gives each its announced capacity and value of capacity; each
non-default buyer has a folder ``inputs/buyers/<buyer>/`` whose tables have exactly the columns of
the top-level files of the same names and reference only the world's vendors, families, hosts and
regions. These are file-level checks of the shipped data; the loader of the folders is the world
run's own code.
"""
from __future__ import annotations

import csv
from pathlib import Path

import pytest

from model.inputs.tables import SCHEMAS

INPUTS = Path(__file__).resolve().parent.parent / "inputs"
BUYERS_DIR = INPUTS / "buyers"
REQUIRED_NAMED = {"anthropic", "meta", "xai", "microsoft", "google", "amazon"}
BUYER_PARAMETERS = {"announced_capacity": "GW", "value_of_capacity": "USD/GW/a", "capex_guidance": "USD/a"}
FOLDER_FILES = ("offers.csv", "offer_parameters.csv", "opening_stock.csv", "deals.csv", "deal_terms.csv",
                "commitments.csv", "finance.csv", "targets.csv", "power_sources.csv",
                "power_source_parameters.csv")
PROVENANCE = ("source", "date", "confidence")


def rows(path: Path) -> list[dict[str, str]]:
    lines = [line for line in path.read_text(encoding="utf-8-sig").splitlines()
             if line.strip() and not line.lstrip().startswith("#")]
    return list(csv.DictReader(lines))


def header(path: Path) -> list[str]:
    lines = [line for line in path.read_text(encoding="utf-8-sig").splitlines()
             if line.strip() and not line.lstrip().startswith("#")]
    return next(csv.reader(lines[:1]))


def ids(name: str, key: str) -> set[str]:
    return {r[key] for r in rows(INPUTS / name)}


BUYERS = rows(INPUTS / "buyers.csv")
NON_DEFAULT = sorted(r["buyer"] for r in BUYERS if r["role"] != "default")
FOLDERS = sorted(p.name for p in BUYERS_DIR.iterdir() if p.is_dir())


def test_every_folder_is_a_non_default_buyer():
    assert FOLDERS and set(FOLDERS) <= set(NON_DEFAULT)


def test_buyers_have_one_default_the_named_ones_and_one_rest_of_world():
    roles = {r["buyer"]: r["role"] for r in BUYERS}
    assert header(INPUTS / "buyers.csv") == ["buyer", "name", "role", "source", "date", "confidence", "note"]
    assert len(roles) == len(BUYERS), "a buyer id appears twice"
    assert [b for b, role in roles.items() if role == "default"] == ["openai"]
    assert [b for b, role in roles.items() if role == "rest_of_world"] == ["rest-of-world"]
    assert REQUIRED_NAMED <= {b for b, role in roles.items() if role == "named"}
    assert set(roles.values()) <= {"default", "named", "rest_of_world"}
    assert all(r["source"].strip() and r["date"].strip() for r in BUYERS)


def test_every_buyer_has_announced_capacity_and_value_in_known_units():
    params = rows(INPUTS / "buyer_parameters.csv")
    assert header(INPUTS / "buyer_parameters.csv") == ["buyer", "year", "parameter", "value", "unit", "source",
                                                       "date", "confidence", "note"]
    buyers = {r["buyer"] for r in BUYERS}
    for i, r in enumerate(params, start=2):
        assert r["buyer"] in buyers, f"buyer_parameters.csv row {i}: unknown buyer {r['buyer']!r}"
        assert BUYER_PARAMETERS.get(r["parameter"]) == r["unit"], f"row {i}: {r['parameter']} in {r['unit']}"
        assert float(r["value"]) >= 0 and r["source"].strip(), f"row {i}"
    for b in buyers:
        have = {r["parameter"] for r in params if r["buyer"] == b}
        assert {"announced_capacity", "value_of_capacity"} <= have, f"{b} lacks {have}"
    keys = [(r["buyer"], r["year"], r["parameter"]) for r in params]
    assert len(keys) == len(set(keys)), "a (buyer, year, parameter) appears twice"


def test_announced_capacity_never_falls_and_rest_of_world_values_least():
    params = rows(INPUTS / "buyer_parameters.csv")
    for b in {r["buyer"] for r in BUYERS}:
        series = sorted((int(r["year"]), float(r["value"])) for r in params
                        if r["buyer"] == b and r["parameter"] == "announced_capacity" and r["year"])
        assert all(a[1] <= c[1] for a, c in zip(series, series[1:])), f"{b}: {series}"
    value = {r["buyer"]: float(r["value"]) for r in params if r["parameter"] == "value_of_capacity"}
    assert all(value["rest-of-world"] < v for b, v in value.items() if b != "rest-of-world")


@pytest.mark.parametrize("buyer", FOLDERS)
def test_buyer_folder_matches_the_top_level_formats(buyer):
    folder = BUYERS_DIR / buyer
    assert (folder / "offers.csv").is_file(), f"{folder} has no offers.csv"
    for path in sorted(folder.glob("*.csv")):
        assert path.name in FOLDER_FILES, f"{path}: not one of the buyer-scoped tables"
        schema = SCHEMAS[path.name]
        mine = set(header(path))
        assert set(schema.required) <= mine <= set(schema.required) | set(schema.optional), (
            f"{path}: columns {sorted(mine)}, the loader reads {schema.required} + optional {schema.optional}")
        assert all(r[c].strip() for r in rows(path) for c in PROVENANCE if c in r), f"{path}: a row without provenance"


@pytest.mark.parametrize("buyer", FOLDERS)
def test_buyer_offers_reference_the_worlds_entities(buyer):
    folder = BUYERS_DIR / buyer
    world = {"vendor": ids("vendors.csv", "vendor"), "family": ids("families.csv", "family"),
             "host": ids("hosts.csv", "host"), "region": ids("regions.csv", "region")}
    family_vendor = {r["family"]: r["vendor"] for r in rows(INPUTS / "families.csv")}
    top_offers = ids("offers.csv", "offer")
    offers = rows(folder / "offers.csv")
    for r in offers:
        for key, known in world.items():
            assert r[key] in known, f"{folder / 'offers.csv'} offer {r['offer']}: {key} {r[key]!r} not in the world"
        assert family_vendor[r["family"]] == r["vendor"], f"offer {r['offer']}: family of another vendor"
        assert r["offer"].startswith(buyer) and r["offer"] not in top_offers, f"offer id {r['offer']} not buyer-scoped"
    names = {r["offer"] for r in offers}
    for name in ("offer_parameters.csv", "opening_stock.csv"):
        if (folder / name).is_file():
            assert {r["offer"] for r in rows(folder / name)} <= names, f"{folder / name}: unknown offer"
    if (folder / "deal_terms.csv").is_file():
        assert {r["deal"] for r in rows(folder / "deal_terms.csv")} <= {r["deal"] for r in rows(folder / "deals.csv")}
    if (folder / "power_sources.csv").is_file():
        sources = rows(folder / "power_sources.csv")
        assert {r["region"] for r in sources} <= world["region"]
        if (folder / "power_source_parameters.csv").is_file():
            assert ({r["power_source"] for r in rows(folder / "power_source_parameters.csv")}
                    <= {r["power_source"] for r in sources})


def test_world_ids_stay_unique_across_buyers():
    """An offer, deal, commitment or power source id names one thing in the whole world."""
    for name, key in (("offers.csv", "offer"), ("deals.csv", "deal"), ("commitments.csv", "commitment"),
                      ("power_sources.csv", "power_source")):
        seen = [r[key] for r in rows(INPUTS / name)]
        for b in NON_DEFAULT:
            if (BUYERS_DIR / b / name).is_file():
                seen += [r[key] for r in rows(BUYERS_DIR / b / name)]
        assert len(seen) == len(set(seen)), f"{name}: an id appears twice across buyers"


def test_buyer_data_are_mostly_sourced():
    """The 40 % ceiling of tests/test_sources.py, over the buyer files (it counts top-level files only)."""
    paths = [INPUTS / "buyers.csv", INPUTS / "buyer_parameters.csv"] + sorted(BUYERS_DIR.glob("*/*.csv"))
    all_rows = [r for p in paths for r in rows(p)]
    assumed = [r for r in all_rows if (r.get("source") or "").strip().lower().startswith("assumption")
               or not (r.get("source") or "").strip()]
    assert len(assumed) <= 0.4 * len(all_rows), f"{len(assumed)} of {len(all_rows)} buyer rows are assumptions"
    assert not [r for r in all_rows if "facts.md" in (r.get("source") or "").lower()]


def test_every_non_default_buyer_has_a_folder():
    assert FOLDERS == NON_DEFAULT


def _in_scope(offer: dict[str, str], scope: str, families: dict[str, dict[str, str]]) -> bool:
    attrs = {**offer, "kind": families[offer["family"]]["kind"]}
    return scope.strip() == "all" or all(attrs.get(k.strip()) in v.split("|")
                                         for k, v in (term.split("=", 1) for term in scope.split("&")))


def test_the_2025_history_of_every_buyer_fits_in_the_worlds_2025_output():
    """History is data the world run must honour: per vendor, what the buyers report adding in 2025 cannot exceed
    what the vendor made in 2025 (a scope over several vendors is not attributed and left out)."""
    families = {r["family"]: r for r in rows(INPUTS / "families.csv")}
    world = {r["vendor"]: float(r["value"]) for r in rows(INPUTS / "vendor_supply.csv")
             if r["parameter"] == "world_output" and r["year"] == "2025"}
    used: dict[str, float] = {}
    folders = [(INPUTS / "offers.csv", INPUTS / "commitments.csv")] + [
        (BUYERS_DIR / b / "offers.csv", BUYERS_DIR / b / "commitments.csv") for b in FOLDERS]
    for offers_path, commitments_path in folders:
        if not commitments_path.is_file():
            continue
        offers = [o for o in rows(offers_path) if int(o["first_year"]) <= 2025]
        for c in rows(commitments_path):
            if c["kind"] != "history" or c["unit"] != "GW":
                continue
            vendors = {o["vendor"] for o in offers if _in_scope(o, c["scope"], families)}
            assert vendors, f"{commitments_path}: history {c['commitment']} covers no offer available in 2025"
            if len(vendors) == 1:
                v = vendors.pop()
                used[v] = used.get(v, 0.0) + float(c["value"])
    assert used, "no single-vendor history to check"
    for v, gw in used.items():
        assert gw <= world[v] + 1e-9, f"2025 history of {v}: {gw:.3f} GW against a world output of {world[v]} GW"


def test_kind_caps_of_the_plan_and_of_the_world_are_read_apart():
    """power_kind_supply.csv: supply_cap (this plan's share) binds the single-buyer run; world_supply_cap (all
    buyers) is handed to the world run and never tightens or loosens the single buyer's cap."""
    from model.scenario import load_scenario
    s = load_scenario()
    caps = {(r["kind"], r["parameter"]): float(r["value"]) for r in rows(INPUTS / "power_kind_supply.csv") if not r["year"]}
    for (kind, param), value in caps.items():
        got = (s.power_kind_cap_gw if param == "supply_cap" else s.power_kind_world_cap_gw)[kind, 2030]
        assert got == pytest.approx(value), (kind, param)
    assert all(s.power_kind_world_cap_gw[k] >= s.power_kind_cap_gw[k] for k in s.power_kind_cap_gw)
