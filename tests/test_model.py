"""The linear program on toy cases small enough to solve by hand."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pyomo.environ import value

from model.scenario import TargetSpec, load_scenario
from model.solution import to_dataset
from model.solve import solve_plan
from toy import SRC, deal, default_tables, q, term, write_inputs


def plan(inputs: Path, target: str | None = None, year: int | None = None, sets=(), objective="min-cost"):
    s = load_scenario(inputs, sets=sets, target=TargetSpec(target, year))
    return s, solve_plan(s, objective)


def builds(outcome) -> dict:
    return {k: round(v, 6) for k, v in outcome.model.build_gw.extract_values().items() if v and v > 1e-9}


def by_offer(outcome) -> dict:
    out: dict = {}
    for (o, _), v in builds(outcome).items():
        out[o] = round(out.get(o, 0.0) + v, 6)
    return out


def test_cheapest_offer_is_used_when_nothing_binds(toy):
    # buy: 10 bnUSD/GW, charged in full (its annuities after the horizon too); rent: 3 bnUSD/GW/a over its
    # 5 a term = 15 bnUSD/GW. At 0 % the year does not matter.
    s, o = plan(toy)
    assert o.status == "optimal"
    assert by_offer(o) == {"buy": 2.0}
    assert o.objective_bnusd == pytest.approx(20.0)


def test_build_cap_pushes_the_rest_to_the_next_cheapest_option(tmp_path):
    # buy may add 1 GW in all (10 bnUSD); the second GW is rented for its 5 a term (15 bnUSD).
    rows = default_tables()["offer_parameters"] + [{"offer": "buy", "year": "", **q("cumulative_cap", 1, "GW")}]
    s, o = plan(write_inputs(tmp_path / "in", offer_parameters=rows))
    assert by_offer(o) == {"buy": 1.0, "rent": 1.0}
    assert o.objective_bnusd == pytest.approx(25.0)
    shadow = {b.constraint: b.shadow_price for b in o.binding}
    assert shadow["target_capacity[2027]"] == pytest.approx(15e9)     # the marginal GW is rented
    assert shadow["cumulative_cap[buy]"] == pytest.approx(-5e9)       # one more GW of cap saves 15 - 10


def test_discounting_and_annuities_match_hand_calculation(tmp_path):
    # 10 % discount, 5 a life, payments from the build year on: CRF = 0.1 / (1.1 (1 - 1.1^-5)) = 0.239816;
    # built 2027 (the latest, cheapest year): one annuity in the horizon, four after it (valued in 2027),
    # all discounted to 2025 = the price at 1/1.1^2.
    tables = default_tables()
    tables["scalars"][0] = q("discount_rate", 10, "percent")
    s, o = plan(write_inputs(tmp_path / "in", **tables))
    crf = 0.1 / (1.1 * (1 - 1.1 ** -5))
    in_horizon = 2 * 10 * crf / 1.1 ** 2
    assert builds(o) == {("buy", 2027): 2.0}
    assert o.objective_bnusd == pytest.approx(in_horizon * (1 + sum(1.1 ** -k for k in range(1, 5))), rel=1e-6)
    assert o.objective_bnusd == pytest.approx(2 * 10 / 1.1 ** 2, rel=1e-6)


def test_capacity_retires_after_its_lifetime_and_accounting_holds(tmp_path):
    tables = default_tables()
    tables["horizon"][1]["value"] = 2031
    tables["offer_parameters"][1] = {"offer": "buy", "year": "", **q("lifetime", 2, "a")}
    tables["targets"] = [{"year": y, **q("minimum_in_service", 1, "GW")} for y in range(2025, 2032)]
    tables["opening_stock"] = [{"offer": "buy", "vintage": 2024, "value": 0.5, "unit": "GW", **SRC}]
    s, o = plan(write_inputs(tmp_path / "in", **tables), target="1GW", year=2031)
    ds = to_dataset(s, o)
    built, ins, ret = (ds[v].sum("offer").values for v in ("build_gw", "in_service_gw", "retired_gw"))
    # in service = opening within its life + builds within their life
    for j, y in enumerate(s.years):
        expected = (0.5 if 2024 <= y < 2026 else 0.0) + sum(
            float(ds["build_gw"].sel(offer="buy", year=v)) for v in s.years if v <= y < v + 2) + sum(
            float(ds["build_gw"].sel(offer="rent", year=v)) for v in s.years if v <= y < v + 5)
        assert ins[j] == pytest.approx(expected, abs=1e-9)
    # capacity added minus retired equals the change in service
    assert np.allclose(np.diff(ins), built[1:] - ret[1:], atol=1e-9)
    assert (ins >= 1 - 1e-9).all()


def test_total_cost_equals_the_sum_of_its_discounted_parts(tmp_path):
    tables = default_tables()
    tables["scalars"][0] = q("discount_rate", 7, "percent")
    tables["region_parameters"][2] = {"region": "R", "year": "", **q("electricity_price", 80, "USD/MWh")}
    tables["offer_parameters"].append({"offer": "buy", "year": "", **q("fixed_cost", 0.9e9, "USD/GW/a")})
    tables["offer_parameters"].append({"offer": "buy", "year": "", **q("build_cap", 0.7, "GW/a")})
    s, o = plan(write_inputs(tmp_path / "in", **tables), target="3GW", year=2026)
    ds = to_dataset(s, o)
    parts = ds["discounted_cost_usd"].sum().item()
    assert parts == pytest.approx(o.objective_bnusd * 1e9, rel=1e-9)
    # energy: GW x PUE x utilisation x 8760 h x price
    energy_2027 = ds["in_service_gw"].sel(year=2027).sum().item() * 1.0 * 0.5 * 8760 * 80 * 1e3
    assert ds["cost_usd"].sel(cost_part="energy", year=2027).item() == pytest.approx(energy_2027, rel=1e-9)


@pytest.mark.parametrize("low, high", [(1, 2), (2, 5), (5, 30)])
def test_a_higher_target_never_costs_less(toy_capped, low, high):
    _, a = plan(toy_capped, target=f"{low}GW")
    _, b = plan(toy_capped, target=f"{high}GW")
    assert b.objective_bnusd >= a.objective_bnusd - 1e-9


def test_vendor_supply_cap_binds_and_is_named(tmp_path):
    tables = default_tables()
    tables["scalars"][0] = q("discount_rate", 10, "percent")
    tables["vendor_supply"] = [{"vendor": "acme", "year": 2025, **q("supply_cap", 1, "GW/a")}]
    s, o = plan(write_inputs(tmp_path / "in", **tables), target="2GW")
    # only 1 GW a year: 2026 and 2027 builds; paying later is cheaper, so the 2027 cap binds
    assert sum(builds(o).values()) == pytest.approx(2.0)
    assert any(b.name == "Acme supply cap 2027" and b.shadow_price < 0 for b in o.binding)


def test_supply_cap_grows_after_the_last_year_given(tmp_path):
    tables = default_tables()
    tables["vendor_supply"] = [{"vendor": "acme", "year": 2025, **q("supply_cap", 1, "GW/a")},
                               {"vendor": "acme", "year": "", **q("supply_growth", 100, "percent")}]
    s = load_scenario(write_inputs(tmp_path / "in", **tables))
    assert [s.supply_cap_gw["acme", y] for y in s.years] == [1.0, 2.0, 4.0]


def test_grid_power_limits_it_capacity_through_pue(tmp_path):
    tables = default_tables()
    tables["region_parameters"][0] = {"region": "R", "year": "", **q("grid_power", 6, "GW")}
    tables["region_parameters"][1] = {"region": "R", "year": "", **q("pue", 1.5, "dimensionless")}
    s, o = plan(write_inputs(tmp_path / "in", **tables), target="10GW")
    assert o.status == "target_missed"
    assert o.max_reachable == pytest.approx(4.0)            # 6 GW facility / 1.5
    assert any(b.name == "grid in R 2027" for b in o.reach_binding)


def test_deal_minimum_in_gw_forces_capacity_from_its_scope(tmp_path):
    s, o = plan(write_inputs(tmp_path / "in", deals=[deal("cloudco", "host=cloud", 2025, 2027)],
                             deal_terms=[term("cloudco", "minimum", 1.5, "GW")]), target="2GW")
    b = builds(o)
    assert sum(v for (off, _), v in b.items() if off == "rent") == pytest.approx(1.5)
    assert any("Cloudco deal minimum" in x.name for x in o.binding)


def test_deal_minimum_in_usd_is_take_or_pay_spending(tmp_path):
    # rent costs 3 bnUSD/GW/a; 6e9 USD within 2025-2027 forces 2 GW-years of rent.
    s, o = plan(write_inputs(tmp_path / "in", deals=[deal("cloudco", "host=cloud", 2025, 2027)],
                             deal_terms=[term("cloudco", "minimum", 6e9, "USD")]), target="0GW")
    ds = to_dataset(s, o)
    rent_years = ds["in_service_gw"].sel(offer="rent").sum().item()
    assert rent_years * 3e9 == pytest.approx(6e9, rel=1e-6)


def test_loi_deal_caps_but_does_not_force(tmp_path):
    s, o = plan(write_inputs(tmp_path / "in", deals=[deal("acme", "vendor=acme", 2025, 2027, status="loi")],
                             deal_terms=[term("acme", "minimum", 1, "GW"), term("acme", "maximum", 1.5, "GW")]),
                target="0GW")
    assert builds(o) == {}
    _, o2 = plan(write_inputs(tmp_path / "in2", deals=[deal("acme", "vendor=acme", 2025, 2027, status="loi")],
                              deal_terms=[term("acme", "maximum", 1.5, "GW")]), target="2GW")
    assert o2.status == "target_missed" and o2.max_reachable == pytest.approx(1.5)


def test_max_share_rule_limits_one_host(tmp_path):
    rule = {"rule": "max_share", "scope": "host=self", "first_year": 2027, "last_year": 2027,
            "value": 25, "unit": "percent", **SRC}
    s, o = plan(write_inputs(tmp_path / "in", portfolio=[rule]), target="4GW")
    b = by_offer(o)
    assert b["buy"] == pytest.approx(1.0) and b["rent"] == pytest.approx(3.0)


def test_compute_target_uses_flops_per_gw_of_each_vintage(tmp_path):
    # 1e15 FLOP/s per 1000 W chip = 1e21 FLOP/s per GW = 1000 EFLOP/s per GW
    s, o = plan(write_inputs(tmp_path / "in"), target="3000 EFLOP/s")
    assert sum(builds(o).values()) == pytest.approx(3.0)


def test_missed_target_reports_largest_reachable_and_least_cost_plan(toy_capped, tmp_path):
    tables = default_tables()
    tables["vendor_supply"] = [{"vendor": "acme", "year": 2025, **q("supply_cap", 2, "GW/a")}]
    s, o = plan(write_inputs(tmp_path / "in", **tables), target="100GW")
    assert o.status == "target_missed"
    assert o.max_reachable == pytest.approx(6.0)             # 2 GW/a over three years, none retires
    assert sum(builds(o).values()) == pytest.approx(6.0, rel=1e-5)
    assert {b.name for b in o.reach_binding} >= {"Acme supply cap 2025", "Acme supply cap 2026", "Acme supply cap 2027"}


def test_contradictory_inputs_are_named_not_called_infeasible(tmp_path):
    # a deal needs 5 GW from the cloud but the vendor can only deliver 1 GW a year
    tables = default_tables()
    tables["vendor_supply"] = [{"vendor": "acme", "year": 2025, **q("supply_cap", 1, "GW/a")}]
    tables["deals"] = [deal("cloudco", "host=cloud", 2025, 2027)]
    tables["deal_terms"] = [term("cloudco", "minimum", 5, "GW")]
    s, o = plan(write_inputs(tmp_path / "in", **tables), target="1GW")
    assert o.status == "infeasible"
    assert o.conflicts and any("Cloudco deal minimum" in c["name"] or "supply cap" in c["name"]
                               for c in o.conflicts)
    assert sum(c["relaxation"]["value"] for c in o.conflicts) == pytest.approx(2.0)


def test_max_capacity_objective_returns_the_most_and_its_cheapest_plan(tmp_path):
    tables = default_tables()
    tables["vendor_supply"] = [{"vendor": "acme", "year": 2025, **q("supply_cap", 2, "GW/a")}]
    s, o = plan(write_inputs(tmp_path / "in", **tables), objective="max-capacity")
    assert o.status == "optimal" and o.max_reachable == pytest.approx(6.0)


def test_mutable_param_resolve_equals_fresh_build(toy_capped):
    from model.build import build_model
    from model.solve import make_solver

    s = load_scenario(toy_capped)
    m = build_model(s, mutable={"target_gw"})
    opt = make_solver()
    opt.solve(m)
    m.target_gw[2027] = 3.0
    res = opt.solve(m)
    res.solution_loader.load_vars()
    _, fresh = plan(toy_capped, target="3GW")
    assert value(m.total_cost) == pytest.approx(fresh.objective_bnusd)


def test_pushing_a_new_scenarios_params_into_a_built_model_equals_a_fresh_build(tmp_path):
    from model.build import SWEEPABLE_PARAMS, build_model, set_param_values
    from model.solve import make_solver

    tables = default_tables()
    tables["scalars"][0] = q("discount_rate", 5, "percent")
    tables["region_parameters"][2] = {"region": "R", "year": "", **q("electricity_price", 50, "USD/MWh")}
    tables["offer_parameters"].append({"offer": "buy", "year": "", **q("build_cap", 1, "GW/a")})
    folder = write_inputs(tmp_path / "in", **tables)
    base = load_scenario(folder, target=TargetSpec("3GW"))
    m = build_model(base, mutable=SWEEPABLE_PARAMS)
    opt = make_solver()
    opt.solve(m)
    changed = load_scenario(folder, sets=["pue=1.4", "discount_rate=9%", "electricity_price=120USD/MWh",
                                          "capex_scale=1.3"], target=TargetSpec("3GW"))
    set_param_values(m, changed, SWEEPABLE_PARAMS)
    opt.solve(m).solution_loader.load_vars()
    fresh = solve_plan(changed)
    assert value(m.total_cost) == pytest.approx(fresh.objective_bnusd, rel=1e-9)
