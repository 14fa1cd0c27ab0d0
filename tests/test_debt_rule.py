"""Money follows its stated rule (issue 21, item 3): a debt limit stated as a multiple of revenue holds in
every year, a terminal rule bounds the last year's debt, and interest is reported as a share of revenue."""
from __future__ import annotations

import json

import pytest

from model.cli import main
from model.errors import InputError, InputErrors
from model.scenario import load_scenario
from model.solve import solve_plan
from toy import default_tables, q, write_inputs


def toy_with_multiple(folder, multiple=2.0, terminal=None, interest=10, extra=(), early=False):
    """3 GW to buy at 10 bnUSD/GW by 2027; revenue 1, 2 bnUSD/a in 2025-26, then +50 % a year: debt must carry it."""
    tables = default_tables()
    tables["scalars"][0] = q("discount_rate", 10, "percent")
    tables["scalars"][3] = q("default_target", 3, "GW")
    tables["scalars"] += [q("interest_rate", interest, "percent"), q("funding", 1, "dimensionless")]
    tables["finance"] = [{"year": 2025, **q("revenue", 1e9, "USD/a")}, {"year": 2026, **q("revenue", 2e9, "USD/a")},
                         {"year": "", **q("revenue_growth", 50, "percent")},
                         {"year": "", **q("debt_limit_multiple", multiple, "dimensionless")}]
    if terminal is not None:
        tables["finance"].append({"year": "", **q("terminal_debt_growth", terminal, "dimensionless")})
    tables["finance"] += list(extra)
    if early:                                        # 3 GW already in 2026: debt from 2026 on, interest in 2027
        tables["targets"] = [{"year": 2026, **q("minimum_in_service", 3, "GW")}]
    return write_inputs(folder, **tables)


def test_the_limit_is_the_multiple_times_each_years_revenue_growth_included(tmp_path):
    s = load_scenario(toy_with_multiple(tmp_path / "in", multiple=8))
    assert s.revenue_bnusd == pytest.approx({2025: 1.0, 2026: 2.0, 2027: 3.0})       # 2027 grown by 50 %
    assert s.debt_limit_bnusd == pytest.approx({2025: 8.0, 2026: 16.0, 2027: 24.0})


def test_the_base_limit_is_8x_revenue_in_every_year():
    s = load_scenario()
    assert set(s.debt_limit_bnusd) == set(s.years)
    for y in s.years:
        assert s.debt_limit_bnusd[y] == pytest.approx(8.0 * s.revenue_bnusd[y], rel=1e-12), y


def test_a_binding_limit_holds_exactly_at_the_multiple(tmp_path):
    # the plan buys 3 GW for 30 bnUSD in 2025 (the cheapest: buy at once) but may owe only 2x revenue
    s = load_scenario(toy_with_multiple(tmp_path / "in", multiple=2))
    o = solve_plan(s)
    assert o.status == "optimal", o.message
    debt = o.model.debt_end_bnusd.extract_values()
    for y in s.years:
        assert debt[y] <= 2.0 * s.revenue_bnusd[y] * (1 + 1e-9) + 1e-9
    binding = {b.constraint for b in o.binding}
    held = [y for y in s.years if f"debt_limit[{y}]" in binding]
    assert held, "the limit binds in some year"
    for y in held:
        assert debt[y] == pytest.approx(2.0 * s.revenue_bnusd[y], rel=1e-7)


def test_usd_and_multiple_forms_together_are_refused(tmp_path):
    folder = toy_with_multiple(tmp_path / "in", extra=[{"year": 2025, **q("debt_limit", 5e9, "USD")}])
    with pytest.raises((InputError, InputErrors), match="debt_limit_multiple"):
        load_scenario(folder)


def test_setting_the_limit_in_usd_replaces_the_multiple_and_none_lifts_both(tmp_path):
    folder = toy_with_multiple(tmp_path / "in", multiple=2)
    s = load_scenario(folder, sets=["debt_limit=5bnUSD"])
    assert s.debt_limit_multiple == {} and s.debt_limit_bnusd == pytest.approx({y: 5.0 for y in s.years})
    assert load_scenario(folder, sets=["debt_limit=none"]).debt_limit_bnusd == {}
    scaled = load_scenario(folder, sets=["debt_limit_scale=0.5"])
    assert scaled.debt_limit_bnusd == pytest.approx({2025: 1.0, 2026: 2.0, 2027: 3.0})


def test_the_terminal_rule_stops_net_borrowing_in_the_last_year(tmp_path):
    free = solve_plan(load_scenario(toy_with_multiple(tmp_path / "a", multiple=20)))
    held = solve_plan(load_scenario(toy_with_multiple(tmp_path / "b", multiple=20, terminal=0)))
    assert free.status == held.status == "optimal"
    d_free, d_held = free.model.debt_end_bnusd.extract_values(), held.model.debt_end_bnusd.extract_values()
    assert d_free[2027] > d_free[2026] + 1e-6               # without the rule the last year borrows more
    assert d_held[2027] <= d_held[2026] + 1e-7
    assert held.objective_bnusd >= free.objective_bnusd - 1e-9


def test_summary_gives_revenue_limit_interest_share_and_the_rule_in_words(tmp_path):
    folder = toy_with_multiple(tmp_path / "in", multiple=20, early=True,
                               extra=[{"year": "", **q("interest_share_flag", 0.3, "dimensionless")}])
    assert main(["--inputs", str(folder), "--results", str(tmp_path / "r"), "--name", "x", "--no-plots",
                 "--no-ranking"]) == 0
    summ = json.loads((tmp_path / "r" / "x" / "summary.json").read_text())
    assert summ["revenue"]["2027"] == {"value": pytest.approx(3e9), "unit": "USD/a"}
    assert summ["debt_limit"]["2026"]["value"] == pytest.approx(40e9)
    assert "20x that year's revenue" in summ["debt_rule"]
    debt = {int(y): f["value"] for y, f in summ["debt"].items()}
    share = {int(y): f["value"] for y, f in summ["interest_share"].items()}
    assert share[2027] == pytest.approx(0.1 * debt[2026] / 3e9, rel=1e-9)
    assert debt[2026] > 20.0e9 and share[2027] > 0.3      # ~27 bnUSD owed on 3 bnUSD of revenue
    assert summ["interest_flag"]["flagged"] == [2027] and summ["interest_flag"]["value"] == 0.3


def test_base_revenue_growth_converges_to_its_long_run_rate_rather_than_compounding_one_rate():
    s = load_scenario()
    growth = [s.revenue_growth[y] for y in range(2031, 2036)]
    assert growth == pytest.approx([0.20, 0.1875, 0.175, 0.1625, 0.15])     # linear from 20 % to the 15 % long run
    for y in range(2031, 2036):
        assert s.revenue_bnusd[y] == pytest.approx(s.revenue_bnusd[y - 1] * (1 + s.revenue_growth[y]), rel=1e-12)
    assert s.revenue_bnusd[2035] < 280.0 * 1.2 ** 5                           # below one rate compounded


def test_a_growth_path_by_year_is_used_and_one_mixed_with_an_all_years_row_is_refused(tmp_path):
    folder = toy_with_multiple(tmp_path / "in", extra=[{"year": 2027, **q("revenue_growth", 10, "percent")}])
    with pytest.raises(InputErrors, match="revenue_growth"):           # 50 % for all years and 10 % in 2027
        load_scenario(folder)
    text = (folder / "finance.csv").read_text().replace(",revenue_growth,50,", "2025,revenue_growth,30,")
    (folder / "finance.csv").write_text(text)
    s = load_scenario(folder)                                  # a path: 30 % in 2025 to 10 % in 2027
    assert s.revenue_bnusd[2027] == pytest.approx(2.0 * 1.1)
