"""History and dated deliveries are data: inputs/commitments.csv (issue 11, item 1)."""
from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from model.errors import InputErrors
from model.scenario import TargetSpec, load_scenario
from model.solve import solve_plan
from toy import SRC, deal, default_tables, q, term, write_inputs

INPUTS = Path(__file__).resolve().parent.parent / "inputs"


def tranche(name: str, kind: str, scope: str, first: int, last: int, bound: str, value: float, unit: str = "GW",
            deal_name: str = "") -> dict:
    return {"commitment": name, "kind": kind, "scope": scope, "first_year": first, "last_year": last,
            "bound": bound, "value": value, "unit": unit, "deal": deal_name, **SRC}


def plan(folder: Path, *sets: str, target: str | None = None):
    s = load_scenario(folder, sets=sets, target=TargetSpec(target))
    return s, solve_plan(s)


def built(outcome, offer: str | None = None, year: int | None = None) -> float:
    return sum(v or 0.0 for (o, y), v in outcome.model.build_gw.extract_values().items()
               if (offer is None or o == offer) and (year is None or y == year))


def test_history_fixes_what_was_built_and_is_not_a_priced_limit(tmp_path):
    folder = write_inputs(tmp_path / "in", commitments=[tranche("history_2025", "history", "all", 2025, 2025,
                                                                 "exactly", 1.5)],
                          targets=[{"year": 2025, **q("minimum_in_service", 1.5, "GW")}])
    s, o = plan(folder)
    assert o.status == "optimal"
    assert built(o, year=2025) == pytest.approx(1.5)
    assert s.history_last_year == 2025
    assert not any("history" in b.name or "milestone" in b.name for b in o.binding)
    assert not hasattr(o.model, "milestone_capacity")          # a milestone in a past year is not a decision


def test_a_scheduled_tranche_is_a_floor_that_set_moves_or_drops(tmp_path):
    rows = [tranche("rent_2026", "scheduled", "offer=rent", 2026, 2026, "at_least", 1.5)]
    folder = write_inputs(tmp_path / "in", commitments=rows)
    _, free = plan(write_inputs(tmp_path / "free"))
    assert built(free, "rent") == pytest.approx(0.0)            # rent costs more than buying (tests/toy.py)
    _, o = plan(folder)
    assert built(o, "rent", 2026) == pytest.approx(1.5)
    assert any(b.name == "scheduled delivery rent_2026 (2026)" and b.shadow_price > 0 for b in o.binding)
    s, late = plan(folder, "commitment_delay.rent_2026=1a")
    assert (s.commitments[0].first_year, s.commitments[0].last_year) == (2027, 2027)
    assert built(late, "rent", 2026) == pytest.approx(0.0) and built(late, "rent", 2027) == pytest.approx(1.5)
    _, dropped = plan(folder, "commitment.rent_2026=0GW")
    assert built(dropped, "rent") == pytest.approx(0.0)
    s, gone = plan(folder, "commitment_delay=5a")                # moved past the horizon: no longer binds
    assert s.commitments == () and built(gone, "rent") == pytest.approx(0.0)


def test_a_stop_caps_an_offer_after_its_deal(tmp_path):
    folder = write_inputs(tmp_path / "in", commitments=[tranche("no_more_buy", "stop", "offer=buy", 2025, 2027,
                                                                "at_most", 0.5)])
    _, o = plan(folder)
    assert built(o, "buy") == pytest.approx(0.5) and built(o, "rent") == pytest.approx(1.5)
    assert any(b.name == "end of offer no_more_buy (2025-2027)" for b in o.binding)


def test_a_usd_tranche_is_money_paid_to_its_offers(tmp_path):
    # 9e9 USD paid to rent within 2026..2027 at 3 bnUSD/GW/a: 3 GW-years of rent
    folder = write_inputs(tmp_path / "in", commitments=[tranche("rent_money", "scheduled", "offer=rent", 2026, 2027,
                                                                "at_least", 9e9, "USD")])
    s, o = plan(folder)
    years = o.model.in_service_gw.extract_values()
    assert 3 * sum(years[("rent", y)] for y in (2026, 2027)) == pytest.approx(9.0, rel=1e-6)


def test_a_tranche_of_a_deal_that_is_not_binding_is_not_enforced(tmp_path):
    rows = [tranche("rent_2026", "scheduled", "offer=rent", 2026, 2026, "at_least", 1.5, deal_name="cloudco")]
    for status, expect in (("active", 1.5), ("loi", 0.0)):
        folder = write_inputs(tmp_path / status, commitments=rows, deals=[deal("cloudco", "host=cloud", 2025, 2027,
                                                                               status=status)],
                              deal_terms=[term("cloudco", "maximum", 5, "GW")])
        _, o = plan(folder)
        assert built(o, "rent", 2026) == pytest.approx(expect), status


@pytest.mark.parametrize("row, field, expected", [
    (tranche("h", "history", "all", 2025, 2025, "at_least", 1), "bound", "exactly for a history row"),
    (tranche("h", "someday", "all", 2025, 2025, "at_least", 1), "kind", "one of history, scheduled, stop"),
    (tranche("h", "scheduled", "offer=nope", 2026, 2026, "at_least", 1), "scope", "a scope that selects"),
    (tranche("h", "scheduled", "all", 2027, 2026, "at_least", 1), "last_year", "a year not before 2027"),
    (tranche("h", "scheduled", "all", 2026, 2026, "at_least", 1, "TWh"), "unit", "a power"),
    (tranche("h", "scheduled", "all", 2026, 2026, "at_least", -1), "value", "at least 0"),
])
def test_bad_commitment_rows_are_refused_naming_line_and_field(tmp_path, row, field, expected):
    folder = write_inputs(tmp_path / "in", commitments=[row])
    with pytest.raises(InputErrors) as exc:
        load_scenario(folder)
    text = str(exc.value)
    assert "commitments.csv, line 2" in text and f"field '{field}'" in text and expected in text


def test_the_shipped_commitments_are_sourced_and_the_base_starts_from_reported_stock():
    with (INPUTS / "commitments.csv").open() as f:
        rows = list(csv.DictReader(line for line in f if not line.startswith("#")))
    assert {"history_2025", "abilene_2026", "amd_first_gw", "stargate_uae_2026", "cerebras_2026",
            "michigan_2028", "ports_pike_2032"} <= {r["commitment"] for r in rows}
    for r in rows:
        assert r["unit"] and r["date"] and r["confidence"], r["commitment"]
        assert re.search(r"https?://|\b[\w-]+\.(com|org|institute|news|ai|net)\b", r["source"]) \
            or r["source"].startswith("assumption:"), r["commitment"]
        assert "facts" not in r["source"].lower(), r["commitment"]
    s = load_scenario()
    assert s.history_last_year == 2025
    assert sum(s.opening_in_service_gw(o, 2025) for o in s.offers) == pytest.approx(0.6)   # end-2024 stock
    hist = next(c for c in s.commitments if c.name == "history_2025")
    assert hist.bound == "exactly" and hist.value == pytest.approx(1.3)                   # 1.9 - 0.6 GW


@pytest.mark.parametrize("scenario", ["base", "announced-2025", "nvidia-restructured", "energy-constrained",
                                      "asic-push", "funding-constrained"])
def test_every_shipped_scenario_gives_a_plan_with_the_dated_deliveries(scenario):
    # a scenario that contradicts a scheduled tranche must move or drop it (e.g. the slow grid drops Saline's)
    o = solve_plan(load_scenario(scenario=scenario))
    assert o.status in ("optimal", "target_missed"), o.message


def test_rent_on_the_opening_stock_does_not_count_towards_a_new_deals_money(tmp_path):
    # 1 GW of rent in service from before the horizon pays 3 bnUSD/a, 9 over 2025..2027; a deal of 6e9 USD
    # of new capacity still needs 2 GW-years of new rent (the opening stock's rent was an earlier contract)
    folder = write_inputs(tmp_path / "in", opening_stock=[{"offer": "rent", "vintage": 2024, "value": 1,
                                                           "unit": "GW", **SRC}],
                          deals=[deal("cloudco", "host=cloud", 2025, 2027)],
                          deal_terms=[term("cloudco", "minimum", 6e9, "USD")])
    s, o = plan(folder, target="0GW")
    ins = o.model.in_service_gw.extract_values()
    new = sum(ins[("rent", y)] - s.opening_in_service_gw("rent", y) for y in (2025, 2026, 2027))
    assert new == pytest.approx(2.0, rel=1e-6)


def test_contradictory_tranches_are_named_and_history_is_not_relaxed(tmp_path):
    # build caps of 0.5 GW/a for buy and rent alike; a tranche asks for 3 GW of rent in 2026: the diagnosis
    # names what must give, never history
    rows = default_tables()["offer_parameters"] + [{"offer": o, "year": "", **q("build_cap", 0.5, "GW/a")}
                                                   for o in ("buy", "rent")]
    folder = write_inputs(tmp_path / "in", offer_parameters=rows,
                          commitments=[tranche("history_2025", "history", "all", 2025, 2025, "exactly", 1.0),
                                       tranche("rent_2026", "scheduled", "offer=rent", 2026, 2026, "at_least", 3)])
    _, o = plan(folder, target="0GW")
    assert o.status == "infeasible"
    names = " ".join(c["name"] for c in o.conflicts)
    assert ("rent_2026" in names or "build cap 2026" in names) and "history" not in names and "2025" not in names


def test_history_beyond_a_past_years_caps_is_reported_not_a_crash(tmp_path):
    # 1 GW of history in 2025 against 0.4 + 0.4 GW/a of caps: the caps of a past year are not limits to relax
    rows = default_tables()["offer_parameters"] + [{"offer": o, "year": "", **q("build_cap", 0.4, "GW/a")}
                                                   for o in ("buy", "rent")]
    folder = write_inputs(tmp_path / "in", offer_parameters=rows,
                          commitments=[tranche("history_2025", "history", "all", 2025, 2025, "exactly", 1.0)])
    _, o = plan(folder, target="0GW")
    assert o.status == "infeasible" and o.model is None


def test_a_lower_supply_figure_cannot_contradict_reported_history():
    # history is data: NVIDIA's 2025 supply scaled to half cannot undo the 1.3 GW delivered in 2025 (before the
    # fix the run was "infeasible: no single limit could be named"); later years are still capped
    s = load_scenario(sets=["supply_scale.nvidia=0.5"])
    o = solve_plan(s)
    assert o.status in ("optimal", "target_missed"), o.message
    built = o.model.build_gw.extract_values()
    nvidia = [k for k in built if s.offers[k[0]].vendor == "nvidia"]
    later = s.history_last_year + 1
    assert sum(built[k] for k in nvidia if k[1] == later) <= s.supply_cap_gw[("nvidia", later)] + 1e-6
