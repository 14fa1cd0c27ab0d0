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
    assert "Largest reachable: 6 GW" in out and "infeasible" not in out.lower()


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


# ----------------------------------------------------------------------------
# What a new user meets: --help, typos, labels (issue 12, items 9 and 10)
# ----------------------------------------------------------------------------
EVERY_COMMAND = ("run", "check", "scenarios", "compare", "sweep", "verify", "stochastic", "alternatives")


def test_help_lists_every_command_with_one_line_each(capsys):
    assert run("--help") == 0
    out = capsys.readouterr().out
    lines = {ln.split()[0]: ln for ln in out.splitlines() if ln.startswith("    ") and ln.split()}
    for name in EVERY_COMMAND:
        assert name in lines and len(lines[name].split()) > 2, f"{name} is not listed with a line of help:\n{out}"
    assert "--target" in out and "--objective" in out   # and the default command's options
    assert "5e29" not in out                             # the old, unreachable compute example


@pytest.mark.parametrize("argv, said", [
    (["sweeep"], "unknown command 'sweeep'; did you mean 'sweep'?"),
    (["comapre", "results/a", "results/b"], "unknown command 'comapre'; did you mean 'compare'?"),
    (["--traget", "250GW"], "unknown option '--traget'; did you mean '--target'?"),
    (["check", "--sceanrio", "base"], "unknown option '--sceanrio'; did you mean '--scenario'?"),
    (["sweep", "--vray", "pue=1.1:1.3"], "unknown option '--vray'; did you mean '--vary'?"),
    (["alternatives", "--slak", "5%"], "unknown option '--slak'; did you mean '--slack'?"),
    (["--objective", "max-capcity"], "invalid choice 'max-capcity'; did you mean 'max-capacity'?"),
    (["--year", "2030", "sweep"], "a command must be the first word"),
])
def test_a_mistyped_command_or_option_is_refused_with_the_closest_name(argv, said, tmp_path, capsys):
    assert run(*argv, "--results", str(tmp_path / "r")) == 2
    assert said in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_no_command_module_imports_model_cli_back():
    """compare, sweep, verify, stochastic, alternatives (and later commands) import model.cli_common instead."""
    import ast

    root = Path(__file__).resolve().parent.parent / "model"
    offenders = []
    for path in sorted(root.rglob("*.py")):
        if path.name == "cli.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module or ""] + [f"{node.module}.{a.name}" for a in node.names]
                     if isinstance(node, ast.ImportFrom) else [])
            if any(n == "model.cli" or n.startswith("model.cli.") for n in names):
                offenders.append(f"{path.relative_to(root.parent)}:{node.lineno}")
    assert not offenders, offenders


def test_max_capacity_says_what_it_maximises_not_the_target_it_ignores(toy_capped, tmp_path, capsys):
    assert run("--inputs", str(toy_capped), "--objective", "max-capacity", "--results", str(tmp_path / "r")) == 0
    out = capsys.readouterr().out
    assert "Objective: the most accelerator IT capacity in service by 2027" in out
    assert "Target:" not in out
    (folder,) = (tmp_path / "r").iterdir()
    assert "_most-capacity-2027_" in folder.name, folder.name
    assert "2GW" not in folder.name


def test_facility_basis_shows_in_the_output_and_the_folder_name(toy, tmp_path, capsys):
    assert run("--inputs", str(toy), "--target", "2GW", "--target-basis", "facility",
               "--results", str(tmp_path / "r"), "--no-plots") == 0
    assert "Target: 2 GW of facility power (IT x PUE) from 2027" in capsys.readouterr().out
    (folder,) = (tmp_path / "r").iterdir()
    assert "_2GW-facility-2027_" in folder.name, folder.name
    assert run("--inputs", str(toy), "--target", "2GW", "--results", str(tmp_path / "it"), "--no-plots") == 0
    assert "Target: 2 GW of accelerator IT capacity from 2027" in capsys.readouterr().out
    (folder,) = (tmp_path / "it").iterdir()
    assert "_2GW-2027_" in folder.name and "facility" not in folder.name


def test_compare_of_a_plan_and_a_stochastic_set_says_so_and_compares_what_they_share(toy, tmp_path, capsys):
    import yaml

    futures = toy / "futures.yaml"
    futures.write_text(yaml.safe_dump({"first_stage_last_year": 2026, "penalty": "1e12 USD/GW",
                                       "futures": [{"name": "only", "probability": 1.0}]}))
    r = tmp_path / "r"
    assert run("--inputs", str(toy), "--target", "2GW", "--results", str(r), "--name", "plan", "--no-plots") == 0
    assert run("stochastic", "--inputs", str(toy), "--target", "2GW", "--futures", str(futures),
               "--results", str(r), "--name", "futures", "--no-plots") == 0
    capsys.readouterr()
    assert run("compare", str(r / "plan"), str(r / "futures"), "--results", str(tmp_path / "c"), "--out", "x",
               "--no-plots") == 0
    out = capsys.readouterr().out
    assert out.startswith(f"Note: {r / 'plan'} is a plan and {r / 'futures'} a stochastic set: "
                          "only the figures both have are compared"), out[:300]
    headline = pd.read_csv(tmp_path / "c" / "x" / "tables" / "headline.csv")
    assert "missing" not in set(headline["note"].dropna())            # not "every figure missing"
    assert set(headline["key"]) == {"status"}                         # the one figure both kinds have
    assert "only a plan has it" in out and "only a stochastic set has it" in out
    assert "is a plan and" in (tmp_path / "c" / "x" / "compare.html").read_text()
    # a sweep is refused as a sweep, not as 'not a result set'
    sweep = tmp_path / "r" / "sw"
    sweep.mkdir()
    (sweep / "cases.csv").write_text("case\n0\n")
    assert run("compare", str(r / "plan"), str(sweep), "--results", str(tmp_path / "c")) == 2
    assert f"{sweep} is a sweep" in capsys.readouterr().err


@pytest.mark.parametrize("assignment, key, right", [
    ("electricity_price=40 usd/MWh", "electricity_price", "electricity_price=40USD/MWh"),
    ("electricity_price=40usd/mwh", "electricity_price", "electricity_price=40USD/MWh"),
    ("commitment=1.2 mw", "commitment", "commitment=1.2MW"),
    ("debt_limit=5 bnusd", "debt_limit", "debt_limit=5bnUSD"),
])
def test_a_set_value_in_the_wrong_unit_case_names_the_key_quotes_the_value_and_says_the_case(assignment, key, right):
    proc = subprocess.run([sys.executable, str(RUN), "check", "--set", assignment], capture_output=True, text=True,
                          timeout=120)
    value = assignment.split("=", 1)[1]
    assert proc.returncode == 2, proc.stderr
    assert f"field '{key}'" in proc.stderr and repr(value) in proc.stderr
    assert f"(units are case-sensitive: write {right})" in proc.stderr and "Traceback" not in proc.stderr


def test_no_case_hint_where_the_right_case_would_still_be_refused(capsys):
    """pue takes a plain number: '1.2 MW' would be refused too, so no hint leads there."""
    assert main(["check", "--set", "pue=1.2 mw"]) == 2
    err = capsys.readouterr().err
    assert "field 'pue'" in err and "'1.2 mw'" in err and "case-sensitive" not in err
