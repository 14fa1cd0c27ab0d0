"""The command line as a user meets it: exit codes, result sets, refusals."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import xarray as xr

from model.cli import main
from toy import default_tables, q, write_inputs

RUN = Path(__file__).resolve().parent.parent / "run.py"


def run(*args: str) -> int:
    return main(list(args))


def test_solved_run_writes_a_complete_result_set(toy_capped, tmp_path, capsys):
    code = run("--inputs", str(toy_capped), "--target", "2GW", "--results", str(tmp_path / "r"), "--name", "a")
    assert code == 0
    out = capsys.readouterr().out
    assert "Status: optimal" in out and "Acme" in out and "Cloud" in out and "Self-build" in out
    rs = tmp_path / "r" / "a"
    for f in ("manifest.json", "summary.json", "solution.nc", "report.html", "plots/capacity_by_vendor.png",
              "tables/capacity.csv", "tables/binding.csv"):
        assert (rs / f).exists(), f
    summary = json.loads((rs / "summary.json").read_text())
    assert summary["status"] == "optimal"
    assert summary["target"] == {"value": 2.0, "unit": "GW"} and summary["target_year"] == 2027
    # buy 10 bnUSD/GW charged in full (rent: 3 bnUSD/GW/a over its 5 a term = 15): 2 GW bought = 20 bnUSD
    assert summary["total_cost"] == {"value": pytest.approx(20e9), "unit": "USD"}
    assert summary["capacity_in_service"]["2027"]["value"] == pytest.approx(2.0)
    assert summary["capacity_by_host"] == {"cloud": {"value": pytest.approx(0.0), "unit": "GW"},
                                           "self": {"value": pytest.approx(2.0), "unit": "GW"}}
    assert summary["facility_power"]["unit"] == "GW"
    assert {b["name"] for b in summary["binding"]} >= {"target 2 GW by 2027 (in service 2027)"}
    assert all(set(b["shadow_price"]) == {"value", "unit"} for b in summary["binding"])
    man = json.loads((rs / "manifest.json").read_text())
    assert man["status"] == "optimal" and man["solver"]["name"] == "HiGHS"
    assert any(k.endswith("offers.csv") for k in man["inputs_sha256"])
    assert "--target" in man["command_line"]
    ds = xr.open_dataset(rs / "solution.nc")
    assert ds["in_service_gw"].attrs["units"] == "GW" and ds.attrs["status"] == "optimal"
    assert ds.attrs["objective_usd"] == pytest.approx(20e9)
    ds.close()
    cap = pd.read_csv(rs / "tables" / "capacity.csv")
    assert set(cap["unit"]) == {"GW"}
    assert not list((tmp_path / "r").glob(".tmp-*"))


def test_existing_result_set_is_never_overwritten(toy, tmp_path, capsys):
    args = ("--inputs", str(toy), "--results", str(tmp_path / "r"), "--name", "same")
    assert run(*args) == 0
    before = (tmp_path / "r" / "same" / "summary.json").read_bytes()
    assert run(*args, "--target", "1GW") == 2
    assert "exists already" in capsys.readouterr().err
    assert (tmp_path / "r" / "same" / "summary.json").read_bytes() == before


@pytest.mark.parametrize("target", ["250GWh", "250", "250 USD", "abc"])
def test_bad_target_exits_2_before_solving_and_writes_nothing(toy, tmp_path, capsys, target):
    assert run("--inputs", str(toy), "--target", target, "--results", str(tmp_path / "r")) == 2
    err = capsys.readouterr().err
    assert "--target" in err and "power" in err and "compute rate" in err
    assert not (tmp_path / "r").exists()


def test_missed_target_exits_3_with_a_result_set_that_explains_it(tmp_path, capsys):
    tables = default_tables()
    tables["vendor_supply"] = [{"vendor": "acme", "year": 2025, **q("supply_cap", 2, "GW/a")}]
    folder = write_inputs(tmp_path / "in", **tables)
    code = run("--inputs", str(folder), "--target", "2000GW", "--results", str(tmp_path / "r"), "--name", "m")
    assert code == 3
    s = json.loads((tmp_path / "r" / "m" / "summary.json").read_text())
    assert s["status"] == "target_missed"
    assert s["max_reachable"] == {"value": pytest.approx(6.0), "unit": "GW"}
    assert any("Acme supply cap" in b["name"] for b in s["limits_on_reach"])
    out = capsys.readouterr().out
    assert "Largest reachable: 6.00 GW" in out and "infeasible" not in out.lower()


def test_bad_set_exits_2_naming_the_key(toy, tmp_path, capsys):
    assert run("--inputs", str(toy), "--set", "pue=3GW", "--results", str(tmp_path / "r")) == 2
    err = capsys.readouterr().err
    assert "--set pue=3GW" in err and "dimensionless" in err


def test_check_lists_every_problem_and_scenarios_lists_names(tmp_path, capsys):
    rows = [dict(r) for r in default_tables()["offer_parameters"]]
    rows[0]["unit"] = "kg"
    rows[2]["value"] = "-1"
    folder = write_inputs(tmp_path / "in", offer_parameters=rows)
    assert run("check", "--inputs", str(folder)) == 2
    err = capsys.readouterr().err
    assert "2 problems" in err and "line 2" in err and "line 4" in err
    (folder / "scenarios" / "demo.yaml").write_text("description: A demo scenario\n")
    assert run("scenarios", "--inputs", str(folder)) == 0
    assert "demo" in capsys.readouterr().out


def test_run_py_works_as_a_script_from_any_folder(toy, tmp_path):
    proc = subprocess.run([sys.executable, str(RUN), "--inputs", str(toy), "--target", "1000 MW",
                           "--name", "script", "--no-plots"], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "results" / "script" / "summary.json").exists()
