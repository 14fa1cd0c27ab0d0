"""The answer an analyst can quote (issue 11, items 4-6 and 8): all-in capex per GW, calibration, the
assumptions ranked, the largest reachable figure always, and whether the target binds."""
from __future__ import annotations

import json
import math
import re

import pytest

from model.cli import main
from toy import SRC, deal, rng, term, write_inputs


def ranges():
    """The toy's ranges: capex of the purchase and the grid, 0.8..1.2x each (``inputs/ranges.csv``)."""
    return [rng("offer_parameters.csv", "capex", "capex of buy", 0.8, 1.2, "x", set_key="capex_scale.buy"),
            rng("region_parameters.csv", "grid_power", "grid of R", 0.8, 1.2, "x", set_key="grid_power_scale.R")]


def run(tmp_path, folder, *args, name="x"):
    code = main(["--inputs", str(folder), "--results", str(tmp_path / "r"), "--name", name, *args])
    return code, json.loads((tmp_path / "r" / name / "summary.json").read_text())


def test_the_assumptions_are_ranked_by_how_much_they_move_the_cost(tmp_path, capsys):
    # toy: 2 GW bought at 10 bnUSD/GW; capex 0.8..1.2x moves the cost 16..24 bnUSD: the largest swing
    code, s = run(tmp_path, write_inputs(tmp_path / "in", ranges=ranges()), "--no-plots")
    assert code == 0
    ranked = s["assumptions_ranked"]
    assert ranked["headline"] == "total cost"
    rows = ranked["value"]
    assert rows[0]["key"] == "capex_scale.buy"
    assert rows[0]["cost_low"] == pytest.approx(16e9) and rows[0]["cost_high"] == pytest.approx(24e9)
    assert rows[0]["swing"] == pytest.approx(8e9) and rows[0]["swing_unit"] == "USD"
    swings = [r["swing"] for r in rows if r["swing"] is not None]
    assert swings == sorted(swings, reverse=True)
    assert "Read before quoting" in capsys.readouterr().out


def test_the_ranking_measures_reachable_capacity_when_the_target_is_missed(tmp_path):
    # the toy's grid gives 100 GW; 0.8..1.2x of it moves the reach 80..120 GW
    code, s = run(tmp_path, write_inputs(tmp_path / "in", ranges=ranges()), "--no-plots", "--target", "500GW")
    assert code == 3
    ranked = s["assumptions_ranked"]
    assert ranked["headline"] == "largest reachable capacity"
    top = ranked["value"][0]
    assert top["key"] == "grid_power_scale.R" and top["swing_unit"] == "GW"
    assert (top["capacity_low"], top["capacity_high"]) == (pytest.approx(80.0), pytest.approx(120.0))


def test_a_target_that_does_not_bind_is_said_to_in_summary_and_terminal(tmp_path, capsys):
    # a deal forces 3 GW of rent while the target asks 1 GW: the deal drives the plan
    folder = write_inputs(tmp_path / "in", deals=[deal("cloudco", "host=cloud", 2025, 2027)],
                          deal_terms=[term("cloudco", "minimum", 3, "GW")])
    code, s = run(tmp_path, folder, "--no-plots", "--no-ranking", "--target", "1GW")
    assert code == 0
    assert s["target_binds"]["value"] is False and "does not bind" in s["target_binds"]["note"]
    assert s["max_reachable"]["value"] == pytest.approx(100.0)
    out = capsys.readouterr().out
    assert "the target does not bind" in out and "at most 100 GW can be held" in out


def test_calibration_and_all_in_capex_are_in_the_summary_and_the_report(tmp_path):
    row = {"figure": "capacity 2027", "measure": "capacity", "scope": "", "first_year": 2027, "last_year": 2027,
           "value": 2, "unit": "GW", "ratio_low": 0.9, "ratio_high": 1.1, "reconcile": "none needed", **SRC}
    code, s = run(tmp_path, write_inputs(tmp_path / "in", calibration=[row]), "--no-ranking")
    assert code == 0
    (cal,) = s["calibration"]["value"]          # the rules of the rows: tests/test_calibration.py
    assert cal["verdict"] == "within" and cal["ratio"] == pytest.approx(1.0) and math.isfinite(cal["value"])
    assert s["all_in_capex_per_gw"]["value"] == pytest.approx(10e9)       # the toy's capex, no power built
    html = (tmp_path / "r" / "x" / "report.html").read_text()
    assert "Read before quoting" in html and "Calibration: the plan against reported figures" in html
    assert "All-in capital cost per GW" in html and "Cost per GW" in html
    section = html[html.index('id="quote"'):html.index("</section>", html.index('id="quote"'))]
    assert "all_in_capex_per_gw" not in html and not re.search(r"\bnan\b", section.lower())
