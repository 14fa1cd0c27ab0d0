"""Lifetimes and lead times are whole years: a fraction is refused naming where it came from, never rounded."""
from __future__ import annotations

import pytest
import yaml

from model.errors import InputErrors
from model.scenario import load_scenario
from toy import SRC, SRC2, default_tables, q, write_inputs


def with_gas(**lead) -> dict:
    t = default_tables()
    t["power_sources"] = [{"power_source": "gas-r", "region": "R", "kind": "gas", "first_year": 2025,
                           "description": "toy gas", **SRC2}]
    t["power_source_parameters"] = [{"power_source": "gas-r", "year": "",
                                     **q("lead_time", lead.get("value", 1), lead.get("unit", "a"))},
                                    {"power_source": "gas-r", "year": "", **q("build_cap", 1, "GW/a")}]
    return t


def problems(exc: pytest.ExceptionInfo) -> str:
    return "\n".join(str(e) for e in exc.value.errors)


@pytest.mark.parametrize("value, unit", [(2.5, "a"), (3.5, "a"), (30, "month")])
def test_fractional_lifetime_in_a_csv_row_is_refused_naming_file_and_line(tmp_path, value, unit):
    t = default_tables()
    t["offer_parameters"][1] = {"offer": "buy", "year": "", **q("lifetime", value, unit)}
    with pytest.raises(InputErrors) as exc:
        load_scenario(write_inputs(tmp_path / "in", **t))
    e = exc.value.errors[0]
    assert e.file.endswith("offer_parameters.csv") and e.row == 3 and e.field == "value"
    years = value / 12 if unit == "month" else value
    assert "whole number of years for 'lifetime'" in str(e) and f"{years:g} a" in str(e)


def test_fractional_lead_time_in_a_csv_row_is_refused(tmp_path):
    with pytest.raises(InputErrors) as exc:
        load_scenario(write_inputs(tmp_path / "in", **with_gas(value=30, unit="month")))
    e = exc.value.errors[0]
    assert e.file.endswith("power_source_parameters.csv") and e.row == 2
    assert "whole number of years for 'lead_time'" in str(e) and "2.5 a" in str(e)


@pytest.mark.parametrize("assignment, key", [("lifetime=2.5a", "lifetime"), ("lifetime.buy=3.5a", "lifetime"),
                                             ("lead_time.gas-r=30month", "lead_time")])
def test_fractional_set_is_refused_naming_the_set_key(tmp_path, assignment, key):
    with pytest.raises(InputErrors) as exc:
        load_scenario(write_inputs(tmp_path / "in", **with_gas()), sets=[assignment])
    text = problems(exc)
    assert f"--set {assignment}" in text and f"whole number of years for '{key}'" in text


def test_fractional_lifetime_in_a_scenario_file_is_refused_naming_the_file(tmp_path):
    folder = write_inputs(tmp_path / "in")
    (folder / "scenarios" / "halfyear.yaml").write_text(yaml.safe_dump({
        "description": "toy", "set": {"lifetime.buy": {"value": "2.5 a", "source": "assumption: toy"}}}))
    with pytest.raises(InputErrors) as exc:
        load_scenario(folder, scenario="halfyear")
    text = problems(exc)
    assert "halfyear.yaml" in text and "whole number of years for 'lifetime'" in text


def test_whole_years_in_other_units_are_kept(tmp_path):
    s = load_scenario(write_inputs(tmp_path / "in", **with_gas(value=24, unit="month")), sets=["lifetime.buy=4a"])
    assert s.power_lead_time_yr["gas-r"] == 2 and s.lifetime_yr["buy"] == 4

