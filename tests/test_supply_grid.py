"""Supply and grid from world and regional figures times this plan's share; power-source kind defaults."""
from __future__ import annotations

import pytest

from model.errors import InputErrors
from model.scenario import TargetSpec, load_scenario
from model.solve import solve_plan
from toy import SRC2, default_tables, q, write_inputs


def supply_rows(*rows):
    return [{"vendor": "acme", "year": y, **q(p, v, u)} for y, p, v, u in rows]


def region_rows(*rows):
    """(component, year, parameter, value, unit) rows for region R, with pue 1 and a zero price."""
    base = [{"region": "R", "component": "", "year": "", **q("pue", 1.0, "dimensionless")},
            {"region": "R", "component": "", "year": "", **q("electricity_price", 0, "USD/MWh")}]
    return base + [{"region": "R", "component": c, "year": y, **q(p, v, u)} for c, y, p, v, u in rows]


# -- vendor supply -------------------------------------------------------------------------------
def test_supply_is_world_output_times_buyer_share_and_world_output_grows_after_its_last_year(tmp_path):
    tables = default_tables()
    tables["vendor_supply"] = supply_rows((2025, "world_output", 10, "GW/a"), (2026, "world_output", 20, "GW/a"),
                                          ("", "supply_growth", 50, "percent"), ("", "buyer_share", 10, "percent"))
    s = load_scenario(write_inputs(tmp_path / "in", **tables))
    # 10 x 10 %, 20 x 10 %, then 20 x 1.5 x 10 %
    assert [s.supply_cap_gw["acme", y] for y in s.years] == pytest.approx([1.0, 2.0, 3.0])


def test_buyer_share_given_by_year_is_interpolated_and_held(tmp_path):
    tables = default_tables()
    tables["vendor_supply"] = supply_rows((2025, "world_output", 10, "GW/a"), (2025, "buyer_share", 10, "percent"),
                                          (2026, "buyer_share", 30, "percent"))
    s = load_scenario(write_inputs(tmp_path / "in", **tables))
    assert [s.supply_cap_gw["acme", y] for y in s.years] == pytest.approx([1.0, 3.0, 3.0])


def test_world_supply_binds_the_plan_through_the_share(tmp_path):
    tables = default_tables()
    tables["vendor_supply"] = supply_rows((2025, "world_output", 4, "GW/a"), ("", "buyer_share", 25, "percent"))
    s = load_scenario(write_inputs(tmp_path / "in", **tables), target=TargetSpec("10GW"))
    o = solve_plan(s)
    assert o.status == "target_missed"
    assert o.max_reachable == pytest.approx(3.0)          # 1 GW a year (4 x 25 %) over 2025-2027


@pytest.mark.parametrize("key, expected", [
    (None, [1.0, 2.0, 4.0]),                              # world 10, 20, 40 x 10 %
    ("supply_scale.acme=0.5", [0.5, 1.0, 2.0]),           # scales world_output as it scaled supply_cap
    ("world_supply_scale=2", [2.0, 4.0, 8.0]),
    ("buyer_share.acme=20%", [2.0, 4.0, 8.0]),
])
def test_set_keys_reach_the_world_supply_rows(tmp_path, key, expected):
    tables = default_tables()
    tables["vendor_supply"] = supply_rows((2025, "world_output", 10, "GW/a"), ("", "supply_growth", 100, "percent"),
                                          ("", "buyer_share", 10, "percent"))
    s = load_scenario(write_inputs(tmp_path / "in", **tables), sets=[key] if key else [])
    assert [s.supply_cap_gw["acme", y] for y in s.years] == pytest.approx(expected)


def test_loader_refuses_a_vendor_with_both_supply_forms_naming_the_row(tmp_path):
    tables = default_tables()
    tables["vendor_supply"] = supply_rows((2025, "supply_cap", 1, "GW/a"), (2025, "world_output", 10, "GW/a"),
                                          ("", "buyer_share", 10, "percent"))
    with pytest.raises(InputErrors, match=r"vendor_supply.csv, line 3, field 'parameter': expected either supply_cap"):
        load_scenario(write_inputs(tmp_path / "in", **tables))


def test_loader_refuses_world_output_without_a_buyer_share(tmp_path):
    tables = default_tables()
    tables["vendor_supply"] = supply_rows((2025, "world_output", 10, "GW/a"))
    with pytest.raises(InputErrors, match=r"line 2, field 'parameter': expected a 'buyer_share' row for vendor acme"):
        load_scenario(write_inputs(tmp_path / "in", **tables))


def test_loader_refuses_a_share_above_100_percent(tmp_path):
    tables = default_tables()
    tables["vendor_supply"] = supply_rows((2025, "world_output", 10, "GW/a"), ("", "buyer_share", 120, "percent"))
    with pytest.raises(InputErrors, match=r"line 3, field 'value': expected 'buyer_share' of at most 100 percent"):
        load_scenario(write_inputs(tmp_path / "in", **tables))


# -- regional firm power -------------------------------------------------------------------------
def test_grid_power_sums_regional_figures_times_share_times_capacity_credit(tmp_path):
    tables = default_tables()
    tables["region_parameters"] = region_rows(
        ("utility", 2025, "regional_power", 10, "GW"), ("utility", "", "regional_power_growth", 5, "GW/a"),
        ("utility", "", "buyer_share", 20, "percent"),
        ("solar", "", "regional_power", 8, "GW"), ("solar", "", "buyer_share", 50, "percent"),
        ("solar", "", "capacity_credit", 0.25, "dimensionless"))
    s = load_scenario(write_inputs(tmp_path / "in", **tables))
    # utility: (10, 15, 20) x 0.2 = (2, 3, 4); solar: 8 x 0.5 x 0.25 = 1 every year
    assert [s.grid_power_gw["R", y] for y in s.years] == pytest.approx([3.0, 4.0, 5.0])


def test_regional_firm_power_binds_capacity_through_pue(tmp_path):
    tables = default_tables()
    tables["region_parameters"] = region_rows(("site", "", "regional_power", 12, "GW"),
                                              ("site", "", "buyer_share", 50, "percent"),
                                              ("site", "", "capacity_credit", 0.5, "dimensionless"))
    tables["region_parameters"][0] = {"region": "R", "component": "", "year": "", **q("pue", 1.5, "dimensionless")}
    s = load_scenario(write_inputs(tmp_path / "in", **tables), target=TargetSpec("10GW"))
    o = solve_plan(s)
    assert o.max_reachable == pytest.approx(2.0)          # 12 x 0.5 x 0.5 = 3 GW facility / 1.5


def test_grid_share_set_applies_to_every_component_and_grid_power_scale_to_the_figures(tmp_path):
    tables = default_tables()
    tables["region_parameters"] = region_rows(
        ("a", "", "regional_power", 10, "GW"), ("a", "", "buyer_share", 10, "percent"),
        ("b", 2025, "regional_power", 4, "GW"), ("b", "", "regional_power_growth", 2, "GW/a"),
        ("b", "", "buyer_share", 50, "percent"))
    folder = write_inputs(tmp_path / "in", **tables)
    shared = load_scenario(folder, sets=["grid_share.R=25%"])
    assert [shared.grid_power_gw["R", y] for y in shared.years] == pytest.approx([3.5, 4.0, 4.5])
    scaled = load_scenario(folder, sets=["grid_power_scale=2"])
    assert [scaled.grid_power_gw["R", y] for y in scaled.years] == pytest.approx([6.0, 8.0, 10.0])   # (1 + 2, 1 + 3, 1 + 4) x 2


def test_loader_refuses_grid_power_and_regional_power_in_one_region(tmp_path):
    tables = default_tables()
    tables["region_parameters"] = region_rows(("site", "", "regional_power", 1, "GW"),
                                              ("site", "", "buyer_share", 100, "percent"),
                                              ("", "", "grid_power", 1, "GW"))
    with pytest.raises(InputErrors, match=r"region_parameters.csv, line 6, field 'parameter': expected either grid_power"):
        load_scenario(write_inputs(tmp_path / "in", **tables))


def test_loader_refuses_a_share_for_a_component_without_a_regional_figure(tmp_path):
    tables = default_tables()
    tables["region_parameters"] = region_rows(("site", "", "regional_power", 1, "GW"),
                                              ("site", "", "buyer_share", 100, "percent"),
                                              ("typo", "", "buyer_share", 50, "percent"))
    with pytest.raises(InputErrors, match=r"line 6, field 'component': expected a component of region R"):
        load_scenario(write_inputs(tmp_path / "in", **tables))


def test_loader_refuses_a_component_on_pue(tmp_path):
    tables = default_tables()
    tables["region_parameters"] = region_rows()
    tables["region_parameters"][0]["component"] = "site"
    tables["region_parameters"].append({"region": "R", "component": "", "year": "", **q("grid_power", 5, "GW")})
    with pytest.raises(InputErrors, match=r"line 2, field 'component': expected an empty component for 'pue'"):
        load_scenario(write_inputs(tmp_path / "in", **tables))


# -- power-source kind defaults --------------------------------------------------------------------
def kind_toy(tmp_path, own=(), kind_rows=(("lead_time", 3, "a"), ("capex", 1e9, "USD/GW"))):
    tables = default_tables()
    tables["power_sources"] = [{"power_source": n, "region": "R", "kind": "gas", "first_year": 2025,
                                "description": "toy", **SRC2} for n in ("gas-1", "gas-2")]
    tables["power_source_parameters"] = [{"power_source": n, "year": "", **q(p, v, u)} for n, p, v, u in own] or \
        [{"power_source": "gas-1", "year": "", **q("build_cap", 1, "GW/a")}]
    tables["power_kind_parameters"] = [{"kind": "gas", "year": "", **q(p, v, u)} for p, v, u in kind_rows]
    return write_inputs(tmp_path / "in", **tables)


def test_kind_defaults_reach_every_source_of_the_kind_and_a_source_row_wins(tmp_path):
    s = load_scenario(kind_toy(tmp_path, own=[("gas-2", "lead_time", 1, "a")]))
    assert s.power_lead_time_yr == {"gas-1": 3, "gas-2": 1}
    assert s.power_capex_bnusd_per_gw["gas-1", 2026] == s.power_capex_bnusd_per_gw["gas-2", 2026] == pytest.approx(1.0)


def test_set_overrides_a_kind_default_for_one_source(tmp_path):
    s = load_scenario(kind_toy(tmp_path), sets=["lead_time.gas-1=0a"])
    assert s.power_lead_time_yr == {"gas-1": 0, "gas-2": 3}


def test_a_bad_kind_default_is_reported_in_the_kind_file(tmp_path):
    with pytest.raises(InputErrors, match=r"power_kind_parameters.csv, line 2, field 'unit'"):
        load_scenario(kind_toy(tmp_path, kind_rows=(("lead_time", 3, "GW"),)))


def test_a_refused_share_is_reported_once_not_again_as_missing(tmp_path):
    tables = default_tables()
    tables["vendor_supply"] = supply_rows((2025, "world_output", 10, "GW/a"), ("", "buyer_share", 10, "percent"))
    with pytest.raises(InputErrors) as err:
        load_scenario(write_inputs(tmp_path / "in", **tables), sets=["buyer_share.acme=130%"])
    assert len(err.value.errors) == 1 and "at most 100 percent" in str(err.value.errors[0])
