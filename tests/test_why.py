"""One story of why (issue 21, item 2): :func:`model.why.what_stops` names what stops more from the reach
duals, by family, in order of effect; a missed plan shows no cost duals of the plan held at its maximum."""
from __future__ import annotations

import json

import pytest

from model.cli import main
from model.why import story, what_stops
from toy import default_tables, q, write_inputs


def _run(tmp_path, folder, *args, name="x"):
    code = main(["--inputs", str(folder), "--results", str(tmp_path / "r"), "--name", name, "--no-plots",
                 "--no-ranking", *args])
    return code, json.loads((tmp_path / "r" / name / "summary.json").read_text())


def test_what_stops_names_power_first_when_the_grid_holds_the_reach(tmp_path):
    # the toy's grid gives 100 GW and chips are ample (100 GW/a): one GW more grid is one GW more reach
    code, s = _run(tmp_path, write_inputs(tmp_path / "in"), "--target", "500GW")
    assert code == 3
    ws = s["what_stops"]
    first = ws["families"][0]
    assert first["family"] == "power" and first["binding"] >= 1
    assert first["limits"][0]["per_unit"] == {"value": pytest.approx(1.0), "unit": "GW/GW"}
    # 1 % more of the 100 GW grid holds 1 GW more
    assert first["effect"] == {"value": pytest.approx(1.0), "unit": "GW"}
    assert ws["sentence"].startswith("What stops more: power")


def test_what_stops_names_chip_supply_first_when_the_vendor_cap_holds_the_reach(tmp_path):
    # supply 1 GW/a each year: 3 GW by 2027, far below the 100 GW grid
    tables = default_tables()
    tables["vendor_supply"] = [{"vendor": "acme", "year": 2025, **q("supply_cap", 1, "GW/a")}]
    code, s = _run(tmp_path, write_inputs(tmp_path / "in", **tables), "--target", "500GW")
    assert code == 3 and s["max_reachable"]["value"] == pytest.approx(3.0)
    fams = [f["family"] for f in s["what_stops"]["families"]]
    assert fams[0] == "chip supply" and "power" not in fams


def test_a_met_plan_gets_what_stops_from_the_reach_duals_too(tmp_path):
    code, s = _run(tmp_path, write_inputs(tmp_path / "in"))
    assert code == 0 and s["binding"]                   # a met plan keeps its cost duals
    assert s["what_stops"]["families"][0]["family"] == "power"


def test_a_missed_plan_shows_no_cost_dual_of_the_plan_held_at_its_maximum(tmp_path, capsys):
    code, s = _run(tmp_path, write_inputs(tmp_path / "in"), "--target", "500GW")
    out = capsys.readouterr().out
    assert code == 3
    assert s["binding"] == [] and "not shown" in s["binding_note"]
    assert all(not b["shadow_price"]["unit"].startswith("USD/") for b in s.get("limits_on_reach", []))
    assert "Binding limits (" not in out and "would lower the total cost" not in out
    assert "trillion USD/GW" not in out and "USD per USD" not in out    # no cost dual, in any unit
    assert "What stops more" in out and "power: 1 GW from" in out
    binding_csv = (tmp_path / "r" / "x" / "tables" / "binding.csv").read_text()
    assert "total cost" not in binding_csv


def test_families_are_ordered_by_the_reach_one_percent_more_room_gives():
    limits = [{"name": "debt limit 2031", "constraint": "debt_limit[2031]",
               "shadow_price": {"value": 1e-11, "unit": "GW/USD"}},
              {"name": "AMD supply cap 2030", "constraint": "vendor_supply_cap[amd,2030]",
               "shadow_price": {"value": 1.0, "unit": "GW/GW"}},
              {"name": "target 2033", "constraint": "target_capacity[2033]",
               "shadow_price": {"value": 5.0, "unit": "GW/GW"}}]
    # 1 % of a 3,000 bnUSD debt limit x 1e-11 GW/USD = 0.3 GW; 1 % of a 5 GW cap x 1 GW/GW = 0.05 GW
    ws = what_stops(limits, {"debt_limit[2031]": 3000.0, "vendor_supply_cap[amd,2030]": 5.0})
    assert [f["family"] for f in ws["families"]] == ["money", "chip supply"]
    assert ws["families"][0]["effect"]["value"] == pytest.approx(0.3)
    assert "0.01 GW per billion USD" in ws["sentence"]
    assert story([]).startswith("Nothing stops more")
    # without levels (no built model, as on the live page) families are ordered by one unit more room
    plain = what_stops(limits, {})
    assert [f["family"] for f in plain["families"]] == ["chip supply", "money"] and "one unit" in plain["step"]
