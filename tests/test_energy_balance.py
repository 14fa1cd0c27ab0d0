"""Energy balance: every TWh used is delivered by the existing grid or a source in service in its region."""
from __future__ import annotations

import pandas as pd
import pytest

from model.cli import main
from model.scenario import TargetSpec, load_scenario
from model.solution import to_dataset
from model.solve import solve_plan
from toy import SRC2, default_tables, q, write_inputs

HOURS = 8760.0


def included_power_toy(**price) -> dict:
    """Toy: 2 GW of an all-in lease (power included) needed by 2027; grid 1 GW; gas dearer than the grid.

    PUE 1 and utilisation 100 %, so each GW of IT uses 8.76 TWh a year. The
    grid can deliver 1 GW x 8760 h = 8.76 TWh; 2 GW use 17.52 TWh, so gas
    (90 USD/MWh, 400 kg/MWh, against the grid's 60 USD/MWh and 300 kg/MWh)
    must deliver the other 8.76 TWh although no TWh of it is billed to the plan.
    """
    t = default_tables()
    t["scalars"][1] = q("utilisation", 100, "percent")
    t["region_parameters"] = [
        {"region": "R", "year": "", **q("grid_power", 1, "GW")},
        {"region": "R", "year": "", **q("pue", 1.0, "dimensionless")},
        {"region": "R", "year": "", **q("electricity_price", 60, "USD/MWh")},
        {"region": "R", "year": "", **q("grid_emissions", 300, "kg/MWh")},
    ]
    t["offers"] = [{**t["offers"][1], "energy": "included"}]
    t["offer_parameters"] = [r for r in t["offer_parameters"] if r["offer"] == "rent"]
    t["opening_stock"] = [{**t["opening_stock"][0], "offer": "rent"}]
    t["power_sources"] = [{"power_source": "gas-r", "region": "R", "kind": "gas", "first_year": 2025,
                           "description": "toy gas", **SRC2}]
    t["power_source_parameters"] = [
        {"power_source": "gas-r", "year": "", **q(p, v, u)} for p, v, u in (
            ("build_cap", 10, "GW/a"), ("capex", 1e9, "USD/GW"), ("lifetime", 20, "a"),
            ("energy_price", price.get("gas", 90), "USD/MWh"), ("emissions_factor", 400, "kg/MWh"))]
    return t


def test_energy_of_an_all_in_lease_forces_a_built_source_to_dispatch(tmp_path):
    s = load_scenario(write_inputs(tmp_path / "in", **included_power_toy()), target=TargetSpec("2GW", 2027))
    o = solve_plan(s)
    assert o.status == "optimal"
    ds = to_dataset(s, o)
    y = 2027
    assert float(ds["it_power_gw"].sel(region="R", year=y)) == pytest.approx(2.0)
    assert float(ds["power_in_service_gw"].sel(power_source="gas-r", year=y)) == pytest.approx(1.0)
    assert float(ds["energy_twh"].sel(region="R", year=y)) == pytest.approx(2 * HOURS / 1000)
    # the grid gives all it can (8.76 TWh, the cheaper source); gas the rest (8.76 TWh)
    assert float(ds["grid_energy_twh"].sel(region="R", year=y)) == pytest.approx(HOURS / 1000)
    assert float(ds["source_energy_twh"].sel(power_source="gas-r", year=y)) == pytest.approx(HOURS / 1000)
    assert float(ds["host_paid_energy_twh"].sel(region="R", year=y)) == pytest.approx(2 * HOURS / 1000)
    # emissions follow the dispatch: 8.76 TWh x 0.3 Mt/TWh from the grid, 8.76 x 0.4 from gas
    assert float(ds["grid_emissions_mt"].sel(region="R", year=y)) == pytest.approx(8.76 * 0.3)
    assert float(ds["source_emissions_mt"].sel(power_source="gas-r", year=y)) == pytest.approx(8.76 * 0.4)
    # the host pays the grid price for its energy; the plan pays only gas's premium over it: 8.76 TWh x 30 USD/MWh
    assert float(ds["cost_usd"].sel(cost_part="energy", year=y)) == pytest.approx(8.76e6 * 30)


def test_grid_energy_never_exceeds_what_the_grid_can_deliver(tmp_path):
    # the same toy with gas as cheap as nothing: gas delivers as much as it can, the grid at most 8.76 TWh
    s = load_scenario(write_inputs(tmp_path / "in", **included_power_toy(gas=0)), target=TargetSpec("2GW", 2027))
    o = solve_plan(s)
    ds = to_dataset(s, o)
    for y in s.years:
        grid = float(ds["grid_energy_twh"].sel(region="R", year=y))
        assert grid <= float(ds["grid_power_gw"].sel(region="R", year=y)) * HOURS / 1000 + 1e-9
        gas = float(ds["source_energy_twh"].sel(power_source="gas-r", year=y))
        assert gas <= float(ds["power_in_service_gw"].sel(power_source="gas-r", year=y)) * HOURS / 1000 + 1e-9
        assert grid + gas == pytest.approx(float(ds["energy_twh"].sel(region="R", year=y)), abs=1e-9)


def test_power_table_energy_used_is_the_sum_of_energy_by_source(tmp_path):
    folder = write_inputs(tmp_path / "in", **included_power_toy())
    code = main(["--inputs", str(folder), "--target", "2GW", "--year", "2027", "--results", str(tmp_path / "r"),
                 "--name", "toy", "--no-plots"])
    assert code == 0
    assert_energy_by_source_adds_up(pd.read_csv(tmp_path / "r" / "toy" / "tables" / "power.csv"), 8.76)


def assert_energy_by_source_adds_up(power: pd.DataFrame, hours_twh: float) -> None:
    """Per region and year: energy = sum of energy_by_source; the grid within grid power x hours."""
    region = power[power.source.isna() | (power.source == "")].pivot_table(
        index=["region", "year"], columns="variable", values="value")
    by_source = power[power.variable == "energy_by_source"].groupby(["region", "year"])["value"].sum()
    by_source = by_source.reindex(region.index, fill_value=0.0)
    assert (region["energy"] - by_source).abs().max() <= 1e-6 * max(1.0, region["energy"].abs().max())
    grid = power[(power.variable == "energy_by_source") & (power.source == "existing grid")].set_index(
        ["region", "year"])["value"].reindex(region.index, fill_value=0.0)
    assert (grid <= region["grid_power"] * hours_twh + 1e-6).all()
    assert (grid - region["grid_energy"]).abs().max() <= 1e-9


def test_existing_grid_delivers_first_when_a_new_interconnection_costs_the_same(tmp_path):
    # 2 GW at 50 % utilisation use 8.76 TWh: exactly what the existing 1 GW grid can deliver. The new
    # interconnection (built for firm power, same price and emission factor as the grid) delivers nothing.
    t = included_power_toy()
    t["scalars"][1] = q("utilisation", 50, "percent")
    t["power_sources"] = [{**t["power_sources"][0], "power_source": "grid-r", "kind": "grid"}]
    t["power_source_parameters"] = [{"power_source": "grid-r", "year": "", **q(p, v, u)} for p, v, u in (
        ("build_cap", 10, "GW/a"), ("capex", 1e9, "USD/GW"), ("lifetime", 20, "a"))]
    s = load_scenario(write_inputs(tmp_path / "in", **t), target=TargetSpec("2GW", 2027))
    ds = to_dataset(s, solve_plan(s))
    assert float(ds["power_in_service_gw"].sel(power_source="grid-r", year=2027)) == pytest.approx(1.0)
    assert float(ds["grid_energy_twh"].sel(region="R", year=2027)) == pytest.approx(8.76)
    assert float(ds["source_energy_twh"].sel(power_source="grid-r", year=2027)) == pytest.approx(0.0, abs=1e-9)
    assert float(ds["grid_emissions_mt"].sel(region="R", year=2027)) == pytest.approx(8.76 * 0.3)
    # any split the LP may return between the two is read out the same way
    from model.concerns.power import existing_grid_first

    grid, source = [[0.0, 0.0, 2.0]], {("grid-r", 2027): 6.76}
    existing_grid_first(s, grid, source)
    assert grid[0][2] == pytest.approx(8.76) and source["grid-r", 2027] == pytest.approx(0.0, abs=1e-12)
    grid, source = [[0.0, 0.0, 1.0]], {("grid-r", 2027): 9.0}          # 10 TWh: the grid's 8.76, then 1.24
    existing_grid_first(s, grid, source)
    assert grid[0][2] == pytest.approx(8.76) and source["grid-r", 2027] == pytest.approx(1.24)


def test_the_energy_readout_check_names_what_does_not_balance(tmp_path):
    from model.checks import energy_readout_problems

    s = load_scenario(write_inputs(tmp_path / "in", **included_power_toy()), target=TargetSpec("2GW", 2027))
    ds = to_dataset(s, solve_plan(s))
    assert energy_readout_problems(s, ds) == []
    broken = ds.copy(deep=True)
    broken["grid_energy_twh"].loc[dict(region="R", year=2027)] = 9.76          # 1 TWh more than the grid can give
    problems = energy_readout_problems(s, broken)
    assert any(p.startswith("energy in R 2027: 17.52 TWh used, 18.52 TWh delivered") for p in problems)
    assert any(p.startswith("grid energy in R 2027: 9.76 TWh above the 8.76 TWh") for p in problems)
    broken = ds.copy(deep=True)
    broken["source_energy_twh"].loc[dict(power_source="gas-r", year=2027)] = 9.0
    assert any(p.startswith("energy from gas-r 2027: 9 TWh above the 8.76 TWh") for p in energy_readout_problems(s, broken))
