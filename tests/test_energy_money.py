"""Energy and money: power sources with lead times, energy by source, emissions, funding."""
from __future__ import annotations

import pytest
from pyomo.environ import value

from model.errors import InputErrors
from model.scenario import TargetSpec, load_scenario
from model.solution import to_dataset
from model.solve import solve_plan
from model.units import Q_
from toy import SRC, SRC2, default_tables, q, write_inputs


def long_toy(**changes):
    """Toy over 2025-2031 with a small grid (1 GW) in region R."""
    t = default_tables()
    t["horizon"][1]["value"] = 2031
    t["horizon"][2]["value"] = 2031
    t["region_parameters"][0] = {"region": "R", "year": "", **q("grid_power", 1, "GW")}
    t.update(changes)
    return t


def source(name="gas-r", kind="gas", first_year=2025):
    return {"power_source": name, "region": "R", "kind": kind, "first_year": first_year,
            "description": "toy source", **SRC2}


def sp(name, parameter, value_, unit, year=""):
    return {"power_source": name, "year": year, **q(parameter, value_, unit)}


def test_power_decided_in_the_first_year_serves_only_after_its_lead_time(tmp_path):
    # grid 1 GW; gas with a 3-year lead time can serve from 2028 at the earliest
    tables = long_toy(power_sources=[source()],
                      power_source_parameters=[sp("gas-r", "lead_time", 3, "a"), sp("gas-r", "build_cap", 10, "GW/a"),
                                               sp("gas-r", "capex", 1e9, "USD/GW")])
    folder = write_inputs(tmp_path / "in", **tables)
    s = load_scenario(folder, target=TargetSpec("5GW", 2027))
    assert s.power_build_years("gas-r")[0] == 2028
    o = solve_plan(s)
    assert o.status == "target_missed" and o.max_reachable == pytest.approx(1.0)   # only the grid by 2027
    assert any("on-site gas in R" in b.name or "grid" in b.name for b in o.reach_binding)
    o2 = solve_plan(load_scenario(folder, target=TargetSpec("5GW", 2028)))
    assert o2.status == "optimal"
    built = {k: v for k, v in o2.model.power_build_gw.extract_values().items() if v and v > 1e-9}
    assert min(y for (_, y) in built) >= 2028 and sum(built.values()) == pytest.approx(4.0)


def test_binding_lead_time_is_named_with_the_lead_time(tmp_path):
    tables = long_toy(power_sources=[source("grid-r", "grid")],
                      power_source_parameters=[sp("grid-r", "lead_time", 5, "a"), sp("grid-r", "build_cap", 1, "GW/a")])
    o = solve_plan(load_scenario(write_inputs(tmp_path / "in", **tables), target=TargetSpec("10GW", 2031)))
    assert o.status == "target_missed"
    assert any(b.name == "grid in R 2030 (lead time 5 a)" for b in o.reach_binding)


def test_energy_is_gw_times_pue_times_utilisation_times_hours(tmp_path):
    tables = default_tables()
    tables["region_parameters"][1] = {"region": "R", "year": "", **q("pue", 1.3, "dimensionless")}
    s = load_scenario(write_inputs(tmp_path / "in", **tables), target=TargetSpec("2GW"))
    ds = to_dataset(s, solve_plan(s))
    it = Q_(float(ds["it_power_gw"].sel(year=2027).sum()), "GW")
    expected = (it * 1.3 * 0.5 * Q_(8760, "h")).to("TWh")
    assert float(ds["energy_twh"].sel(year=2027).sum()) == pytest.approx(expected.magnitude, rel=1e-9)


def test_take_or_pay_power_contract_is_paid_whether_used_or_not(tmp_path):
    # a nuclear PPA: 0.5 bnUSD/GW/a fixed, forced by a 1 GW cumulative minimum via the target on facility power
    tables = long_toy(
        power_sources=[source("ppa-r", "nuclear")],
        power_source_parameters=[sp("ppa-r", "fixed_cost", 0.5e9, "USD/GW/a"), sp("ppa-r", "build_cap", 1, "GW/a"),
                                 sp("ppa-r", "lifetime", 20, "a")])
    tables["region_parameters"][0] = {"region": "R", "year": "", **q("grid_power", 0, "GW")}
    tables["opening_stock"] = [{"offer": "buy", "vintage": 2024, "value": 0, "unit": "GW", **SRC}]
    tables["targets"] = [{"year": 2025, **q("minimum_in_service", 0, "GW")}]
    s = load_scenario(write_inputs(tmp_path / "in", **tables), target=TargetSpec("1GW", 2031))
    o = solve_plan(s)
    ds = to_dataset(s, o)
    in_service = ds["power_in_service_gw"].sel(power_source="ppa-r")
    paid = ds["cost_usd"].sel(cost_part="power").values
    assert paid == pytest.approx(in_service.values * 0.5e9)          # paid on capacity, energy used or not
    assert float(in_service.sel(year=2031)) == pytest.approx(1.0)


def test_emissions_are_energy_by_source_times_its_factor(tmp_path):
    tables = long_toy(power_sources=[source()],
                      power_source_parameters=[sp("gas-r", "build_cap", 10, "GW/a"),
                                               sp("gas-r", "energy_price", 30, "USD/MWh"),
                                               sp("gas-r", "emissions_factor", 436, "kg/MWh")])
    tables["region_parameters"] += [{"region": "R", "year": "", **q("grid_emissions", 333, "kg/MWh")}]
    tables["region_parameters"][2] = {"region": "R", "year": "", **q("electricity_price", 60, "USD/MWh")}
    s = load_scenario(write_inputs(tmp_path / "in", **tables), target=TargetSpec("3GW", 2031))
    ds = to_dataset(s, solve_plan(s))
    gas = ds["source_energy_twh"].sel(power_source="gas-r")
    grid = ds["grid_energy_twh"].sum("region")
    assert float(gas.sum()) > 0        # gas is cheaper than the grid once built
    assert ds["source_emissions_mt"].sel(power_source="gas-r").values == pytest.approx(gas.values * 0.436)
    assert ds["grid_emissions_mt"].sum("region").values == pytest.approx(grid.values * 0.333)
    # energy balance: every billed TWh comes from the grid or the source
    assert (gas + grid).values == pytest.approx(ds["energy_twh"].sum("region").values)


def fin(parameter, value_, unit, year=""):
    return {"year": year, **q(parameter, value_, unit)}


def test_funding_limit_binds_and_is_named_funding_year(tmp_path):
    # only 4 bnUSD of revenue a year, no borrowing allowed: the 2 bnUSD/GW/a annuity plan needs 10 bnUSD/GW upfront
    tables = default_tables()
    tables["scalars"] += [q("funding", 1, "dimensionless"), q("revenue_to_compute", 100, "percent")]
    tables["finance"] = [fin("revenue", 4e9, "USD/a", 2025), fin("debt_limit", 0, "USD")]
    s = load_scenario(write_inputs(tmp_path / "in", **tables), target=TargetSpec("2GW"))
    assert s.funding_on
    o = solve_plan(s)
    assert o.status == "optimal"
    builds = {k: v for k, v in o.model.build_gw.extract_values().items() if v and v > 1e-9}
    # buying 2 GW in 2027 needs 20 bnUSD in one year; 12 bnUSD of cumulative funding forces renting part
    assert builds.get(("rent", 2027), 0) > 0
    assert any(b.name.startswith("funding ") for b in o.binding)
    off = solve_plan(load_scenario(write_inputs(tmp_path / "in2", **tables), sets=["funding=off"],
                                   target=TargetSpec("2GW")))
    assert off.objective_bnusd < o.objective_bnusd - 1e-6       # dropping the constraint lowers the cost


def test_borrowing_bridges_a_gap_at_its_interest(tmp_path):
    # Hand-solved: only the purchase (10 bnUSD/GW, paid when built), 1 bnUSD of funding a year, 10 % interest,
    # 2 GW needed from 2026. Buying both GW in 2026 needs 20 bnUSD against 2 funded by then: 18 borrowed in 2026
    # (earlier buying costs more annuity and interest), so 2027 pays 10 % x 18 = 1.8 bnUSD of interest, which
    # itself is borrowed (0.8 beyond 2027's funding). No interest in 2025 or 2026: no debt before 2026.
    tables = default_tables()
    tables["offers"] = [r for r in tables["offers"] if r["offer"] == "buy"]
    tables["offer_parameters"] = [r for r in tables["offer_parameters"] if r["offer"] == "buy"]
    tables["scalars"] += [q("funding", 1, "dimensionless"), q("interest_rate", 10, "percent"),
                          q("revenue_to_compute", 100, "percent")]
    tables["finance"] = [fin("revenue", 1e9, "USD/a", 2025)]
    s = load_scenario(write_inputs(tmp_path / "in", **tables), target=TargetSpec("2GW", 2026))
    o = solve_plan(s)
    assert o.status == "optimal"
    ds = to_dataset(s, o)
    spending, funding = ds["spending_usd"], ds["funding_usd"]
    interest = ds["cost_usd"].sel(cost_part="financing")
    assert interest.sel(year=2025) == pytest.approx(0.0, abs=1e-3) and interest.sel(year=2026) == pytest.approx(0.0, abs=1e-3)
    assert float(interest.sel(year=2027)) == pytest.approx(1.8e9, rel=1e-6)
    assert float(ds["debt_usd"].sel(year=2026)) == pytest.approx(18e9, rel=1e-6)
    assert float(spending.sel(year=2026)) == pytest.approx(20e9, rel=1e-6)
    # cash from outside: what was spent over the horizon came from funding and debt still owed
    assert float(funding.sum()) == pytest.approx(3e9, rel=1e-9)
    cash_end = float(funding.sum() + ds["debt_usd"].sel(year=2027) - spending.sum())
    assert cash_end >= -1e-3 and float(ds["debt_usd"].sel(year=2027)) >= 18.8e9 * (1 - 1e-6)


@pytest.mark.parametrize("row, field, words", [
    (sp("gas-r", "lead_time", -2, "a"), "value", "at least 0"),
    (sp("gas-r", "lead_time", 2, "GW"), "unit", "time"),
    (sp("gas-r", "build_cap", 2, "GWh"), "unit", "power per time"),
    (sp("gas-r", "capacity_credit", 140, "percent"), "value", "at most 100"),
    (sp("gas-r", "energy_price", 30, "USD"), "unit", "money per energy"),
])
def test_bad_power_source_inputs_are_refused_naming_file_row_field(tmp_path, row, field, words):
    tables = long_toy(power_sources=[source()], power_source_parameters=[row])
    with pytest.raises(InputErrors) as exc:
        load_scenario(write_inputs(tmp_path / "in", **tables))
    e = exc.value.errors[0]
    assert e.file.endswith("power_source_parameters.csv") and e.row == 2 and e.field == field
    assert words in str(e)


def test_set_funding_off_and_on_words(toy):
    s = load_scenario(toy, sets=["funding=off"])
    assert not s.funding_on
    with pytest.raises(InputErrors) as exc:
        load_scenario(toy, sets=["funding=maybe"])
    assert "on or off" in str(exc.value)


def test_take_or_pay_payments_after_the_horizon_are_valued_in_after_horizon(tmp_path):
    # the same PPA (0.5 bnUSD/GW/a, 20-year term) over 2025-2031, no grid, capacity free to buy: the plan must
    # contract 1 GW of power for the 1 GW of 2031 and contracts it in 2031, the cheapest year. The contract's 19
    # years after 2031 are owed: 0.5 bnUSD x 1 GW x A(19) at 10 %, in 2031; nothing else is owed after it.
    tables = long_toy(
        power_sources=[source("ppa-r", "nuclear")],
        power_source_parameters=[sp("ppa-r", "fixed_cost", 0.5e9, "USD/GW/a"), sp("ppa-r", "build_cap", 1, "GW/a"),
                                 sp("ppa-r", "lifetime", 20, "a")])
    tables["region_parameters"][0] = {"region": "R", "year": "", **q("grid_power", 0, "GW")}
    tables["scalars"][0] = q("discount_rate", 10, "percent")
    tables["offer_parameters"][0] = {"offer": "buy", "year": "", **q("capex", 1, "USD/GW")}   # ~free
    s = load_scenario(write_inputs(tmp_path / "in", **tables), target=TargetSpec("1GW", 2031))
    ds = to_dataset(s, solve_plan(s))
    built = ds["power_build_gw"].sel(power_source="ppa-r")
    assert float(built.sel(year=2031)) == pytest.approx(1.0) and float(built.sum()) == pytest.approx(1.0)
    annuity = sum(1.1 ** -k for k in range(1, 20))                    # 19 years after 2031, valued in 2031
    after = ds["cost_usd"].sel(cost_part="after_horizon")
    assert float(after.sel(year=2031)) == pytest.approx(0.5e9 * annuity, rel=1e-8)      # 4.18 bnUSD
    assert float(after.sel(year=slice(2025, 2030)).sum()) == 0.0
