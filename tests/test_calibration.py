"""Calibration that flags (issue 21, item 4): each row of inputs/calibration.csv gets the plan's figure, a
ratio, its tolerance and a verdict; rows outside lead, and the terminal and page name them."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd
import pytest

from model.cli import main
from model.errors import InputErrors
from model.scenario import load_scenario
from toy import SRC, write_inputs

INPUTS = Path(__file__).resolve().parent.parent / "inputs"


def ref(figure, measure, value, unit, low, high, first=2027, last=2027, scope=""):
    return {"figure": figure, "measure": measure, "scope": scope, "first_year": first, "last_year": last,
            "value": value, "unit": unit, "ratio_low": low, "ratio_high": high,
            "reconcile": f"reconcile {figure}", **SRC}


def run_toy(tmp_path, rows, capsys=None):
    # the default toy: 2 GW bought in 2027 at 10 bnUSD/GW (no debt, nothing else spent)
    folder = write_inputs(tmp_path / "in", calibration=rows)
    assert main(["--inputs", str(folder), "--results", str(tmp_path / "r"), "--name", "x", "--no-ranking"]) == 0
    return json.loads((tmp_path / "r" / "x" / "summary.json").read_text()), folder


def test_each_row_gets_value_ratio_tolerance_and_verdict_and_misses_lead(tmp_path, capsys):
    summ, _ = run_toy(tmp_path, [ref("capacity 2027", "capacity", 2, "GW", 0.9, 1.1),
                                 ref("spending 2025-2027", "spending", 8e9, "USD", 0.8, 1.25, first=2025),
                                 ref("capacity 2027 in MW", "capacity", 4000, "MW", 0.9, 1.1)])
    rows = summ["calibration"]["value"]
    assert [r["figure"] for r in rows] == ["spending 2025-2027", "capacity 2027 in MW", "capacity 2027"]
    spend, big, cap = rows              # 2.5x misses 1.25x by a factor 2, more than 0.5x misses 0.9x (1.8)
    assert set(cap) >= {"value", "reference", "unit", "ratio", "tolerance", "verdict", "reconcile"}
    assert cap["value"] == pytest.approx(2.0) and cap["ratio"] == pytest.approx(1.0) and cap["verdict"] == "within"
    assert spend["value"] == pytest.approx(20e9) and spend["ratio"] == pytest.approx(2.5)
    assert spend["verdict"] == "outside" and spend["tolerance"] == {"low": 0.8, "high": 1.25}
    assert big["reference"] == pytest.approx(4.0) and big["ratio"] == pytest.approx(0.5) and big["verdict"] == "outside"
    assert summ["calibration"]["outside"] == 2
    out = capsys.readouterr().out
    assert "Calibration: 2 of 3 rows outside their tolerance" in out
    assert "spending 2025-2027: the plan's 20 billion USD is 2.5x 8 billion USD" in out
    assert "to reconcile: reconcile spending 2025-2027" in out
    html = (tmp_path / "r" / "x" / "report.html").read_text()
    section = html[html.index("Calibration: the plan against reported figures"):]
    assert section.index("spending 2025-2027") < section.index("capacity 2027<")   # outside first on the page
    assert "reconcile spending 2025-2027" in section and "2 of 3 figures are outside their tolerance" in section


def test_vendor_share_is_built_over_world_output_in_the_peak_year(tmp_path):
    rows = [ref("share of {vendor}'s output ({year})", "vendor_share", "", "GW/a", 0, 0.5, first=2025, scope="each")]
    folder = write_inputs(tmp_path / "in", calibration=rows, vendor_supply=[
        {"vendor": "acme", "year": 2025, "parameter": "world_output", "value": 4, "unit": "GW/a", **SRC},
        {"vendor": "acme", "year": 2025, "parameter": "buyer_share", "value": 100, "unit": "percent", **SRC}])
    assert main(["--inputs", str(folder), "--results", str(tmp_path / "r"), "--name", "x", "--no-ranking",
                 "--no-plots"]) == 0
    row = json.loads((tmp_path / "r" / "x" / "summary.json").read_text())["calibration"]["value"][0]
    cap = pd.read_csv(tmp_path / "r" / "x" / "tables" / "capacity.csv")
    built = cap[cap.variable == "build"].groupby("year")["value"].sum()
    # the toy builds its 2 GW in one year, of 4 GW/a world output: half of it, at the edge of the band
    assert built.max() == pytest.approx(2.0) and row["figure"] == f"share of Acme's output ({built.idxmax()})"
    assert row["value"] == pytest.approx(2.0) and row["reference"] == pytest.approx(4.0)
    assert row["ratio"] == pytest.approx(0.5) and row["verdict"] == "within"


@pytest.mark.parametrize("change, field", [({"measure": "weight"}, "measure"), ({"unit": "kg"}, "unit"),
                                           ({"ratio_high": "lots"}, "ratio_high"), ({"ratio_high": 0.5}, "ratio_high")])
def test_bad_calibration_rows_are_refused_naming_file_line_and_field(tmp_path, change, field):
    folder = write_inputs(tmp_path / "in", calibration=[{**ref("capacity 2027", "capacity", 2, "GW", 0.9, 1.1),
                                                         **change}])
    with pytest.raises(InputErrors) as exc:
        load_scenario(folder)
    e = exc.value.errors[0]
    assert e.file.endswith("calibration.csv") and e.row == 2 and e.field == field


def test_the_shipped_rows_cover_the_issue_and_are_sourced():
    with (INPUTS / "calibration.csv").open() as f:
        rows = list(csv.DictReader(line for line in f if not line.startswith("#")))
    measures = {(r["measure"], r["scope"], r["last_year"]) for r in rows}
    assert {("capacity", "", "2026"), ("capacity", "", "2027"), ("debt", "", "2029"), ("energy", "world", "2030"),
            ("energy", "US", "2030"), ("energy", "US", "2028"), ("spending", "", "2030"),
            ("vendor_share", "each", "2035")} <= measures
    assert all(r["source"] and r["reconcile"] for r in rows)
    assert {float(r["value"]) for r in rows if r["measure"] == "energy"} >= {945.0, 426.0, 580.0}
    assert {float(r["value"]) for r in rows if r["measure"] == "spending"} >= {21.1e9, 600e9, 1.4e12}
