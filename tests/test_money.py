"""Money counted once: nominal discounting at the cost of capital, borrowing charged only for its spread,
what is owed after the horizon valued, and a named default debt limit (issue 11, item 3)."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from model.cli import main
from model.scenario import TargetSpec, load_scenario
from model.solve import solve_plan
from toy import default_tables, q, write_inputs

INPUTS = Path(__file__).resolve().parent.parent / "inputs"


def toy_with_money(folder: Path, interest: float, discount: float = 10, cash_floor: float = 0,
                   funding_rows: bool = True) -> Path:
    """The toy with little revenue, so that the plan must borrow to buy its 2 GW."""
    tables = default_tables()
    tables["scalars"][0] = q("discount_rate", discount, "percent")
    tables["scalars"] += [q("interest_rate", interest, "percent"), q("funding", 1, "dimensionless"),
                          q("cash_floor", cash_floor, "USD"), q("opening_cash", 0, "USD")]
    if funding_rows:
        tables["finance"] = [{"year": 2025, **q("revenue", 1e9, "USD/a")}]
    return write_inputs(folder, **tables)


def cost(folder: Path, *sets: str) -> float:
    o = solve_plan(load_scenario(folder, sets=sets))
    assert o.status == "optimal", o.message
    return o.objective_bnusd


def test_borrowing_at_the_discount_rate_costs_the_same_as_funding_off_on_a_toy(tmp_path):
    folder = toy_with_money(tmp_path / "in", interest=10)
    s = load_scenario(folder)
    o = solve_plan(s)
    assert s.funding_on and max(o.model.debt_end_bnusd.extract_values().values()) > 1.0   # it does borrow
    assert o.objective_bnusd == pytest.approx(cost(folder, "funding=off"), rel=1e-9)


def test_borrowing_at_the_discount_rate_costs_the_same_as_funding_off_on_the_base():
    # the case: 20 GW by 2030, interest at the 8 % discount rate, no debt limit (was 1,521 vs 1,367 bn)
    target = TargetSpec("20GW", 2030)
    # the same shares of the world for both (re-solved, each run's world would differ: a money identity of one LP)
    on = solve_plan(load_scenario(sets=["interest_rate=8%", "debt_limit=none"], target=target, world_allocation=False))
    off = solve_plan(load_scenario(sets=["funding=off"], target=target, world_allocation=False))
    assert on.status == off.status == "optimal"
    assert max(on.model.debt_end_bnusd.extract_values().values()) > 1.0
    assert on.objective_bnusd == pytest.approx(off.objective_bnusd, rel=1e-7)


def test_interest_above_the_discount_rate_costs_its_spread_and_no_more(tmp_path):
    neutral = cost(toy_with_money(tmp_path / "a", interest=10))
    dear = cost(toy_with_money(tmp_path / "b", interest=14))
    cheap = cost(toy_with_money(tmp_path / "c", interest=6))
    assert dear > neutral + 1e-6
    assert cheap == pytest.approx(neutral, rel=1e-9)         # a rate below r is no gain (else: borrow without end)
    s = load_scenario(tmp_path / "b")
    o = solve_plan(s)
    debt = o.model.debt_end_bnusd.extract_values()
    spread = 0.04
    # financing part: spread x debt at the start of each year, discounted; plus the spread for a year on what is
    # still owed at the end (repaid the year after the horizon), discounted from the last year
    expect = sum(spread * debt[y - 1] * 1.1 ** -(y - 2025) for y in (2026, 2027))
    expect += spread / 1.1 * debt[2027] * 1.1 ** -2
    assert dear - neutral == pytest.approx(expect, rel=1e-6)


def test_a_lease_is_charged_for_its_whole_term_even_after_the_horizon(tmp_path):
    # only rent can be built (buy capped at 0): 2 GW from 2027 for 5 a at 3 bnUSD/GW/a, 10 % discount,
    # paid 2027..2031, valued in 2025
    rows = default_tables()["offer_parameters"] + [{"offer": "buy", "year": "", **q("cumulative_cap", 0, "GW")}]
    tables = default_tables()
    tables["scalars"][0] = q("discount_rate", 10, "percent")
    folder = write_inputs(tmp_path / "in", offer_parameters=rows, scalars=tables["scalars"])
    o = solve_plan(load_scenario(folder))
    assert o.objective_bnusd == pytest.approx(2 * 3 * sum(1.1 ** -(y - 2025) for y in range(2027, 2032)), rel=1e-9)


def test_debt_limit_none_lifts_the_default_limit():
    assert load_scenario().debt_limit_bnusd                       # the base caps debt
    assert load_scenario(sets=["debt_limit=none"]).debt_limit_bnusd == {}


def test_the_default_debt_limit_is_one_named_multiple_of_revenue():
    with (INPUTS / "finance.csv").open() as f:
        rows = [r for r in csv.DictReader(line for line in f if not line.startswith("#"))
                if r["parameter"] in ("debt_limit", "debt_limit_multiple", "terminal_debt_growth")]
    assert {r["parameter"] for r in rows} == {"debt_limit_multiple", "terminal_debt_growth"}  # one form, no USD rows
    assert all(r["source"].startswith("assumption:") for r in rows)


def test_the_discount_rate_is_documented_as_nominal():
    text = (INPUTS / "parameters.yaml").read_text()
    assert "Nominal discount rate" in text and "Real discount rate" not in text


def test_funding_stays_on_without_revenue_rows_and_says_so(tmp_path):
    folder = toy_with_money(tmp_path / "in", interest=10, funding_rows=False)
    s = load_scenario(folder)
    assert s.funding_on and not s.revenue_bnusd
    assert main(["--inputs", str(folder), "--results", str(tmp_path / "r"), "--name", "x", "--no-plots",
                 "--no-ranking"]) == 0
    summ = json.loads((tmp_path / "r" / "x" / "summary.json").read_text())
    assert summ["funding_gap"]["funding_constraint"] == "on"
    assert "no revenue rows" in summ["funding_gap"]["note"]


def test_funding_gap_counts_the_cash_floor(tmp_path):
    gaps = []
    for floor in (0, 5e9):
        folder = toy_with_money(tmp_path / f"in{floor:g}", interest=10, cash_floor=floor)
        # with the funding constraint off the plan does not depend on the floor; the gap still counts it
        assert main(["--inputs", str(folder), "--results", str(tmp_path / "r"), "--name", f"f{floor:g}",
                     "--no-plots", "--no-ranking", "--set", "funding=off"]) == 0
        gaps.append(json.loads((tmp_path / "r" / f"f{floor:g}" / "summary.json").read_text())["funding_gap"])
    assert gaps[0]["value"] > 0
    assert gaps[1]["value"] - gaps[0]["value"] == pytest.approx(5e9, rel=1e-6)


def test_summary_gives_peak_debt_all_in_capex_and_the_reach_when_the_target_is_met(tmp_path):
    folder = toy_with_money(tmp_path / "in", interest=10)
    assert main(["--inputs", str(folder), "--results", str(tmp_path / "r"), "--name", "x", "--no-plots",
                 "--no-ranking"]) == 0
    summ = json.loads((tmp_path / "r" / "x" / "summary.json").read_text())
    assert summ["status"] == "optimal"
    assert summ["max_reachable"] == {"value": pytest.approx(100.0), "unit": "GW"}      # the toy's grid: 100 GW
    assert summ["all_in_capex_per_gw"]["value"] == pytest.approx(10e9) and summ["all_in_capex_per_gw"]["basis"]
    assert summ["all_in_capex_per_gw"]["unit"] == "USD/GW" and "basis" in summ["cost_per_gw"]
    debt = {int(y): f["value"] for y, f in summ["debt"].items()}
    assert summ["debt_peak"]["value"] == pytest.approx(max(debt.values()))
    assert summ["debt_peak"]["year"] == max(debt, key=debt.get) and summ["debt_peak"]["limit"] is None
    assert summ["target_binds"]["value"] is True
    assert "assumptions_ranked" not in summ                      # --no-ranking
