"""``run.py verify`` re-runs every set run.py writes, refuses what it must not run, and hashes every input read."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from model.cli import main
from model.cli_common import dispatch
from test_stochastic import toy_with_two_futures
from toy import write_inputs


def verify(path: Path, capsys) -> tuple[int, str, str]:
    from model.verify import main as verify_main

    code = verify_main([str(path)])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def plan_set(tmp_path) -> Path:
    """A plan made with --no-ranking (its project is tmp_path, where the inputs are)."""
    folder = write_inputs(tmp_path / "inputs")
    assert main(["--target", "2GW", "--inputs", str(folder), "--results", str(tmp_path / "results"),
                 "--name", "p", "--no-plots", "--no-ranking"]) == 0
    return tmp_path / "results" / "p"


def craft(result_set: Path, **changes) -> None:
    man = json.loads((result_set / "manifest.json").read_text())
    man.update(changes)
    (result_set / "manifest.json").write_text(json.dumps(man))


def test_verify_re_runs_a_set_made_with_no_ranking(plan_set, capsys):
    code, out, err = verify(plan_set, capsys)
    assert code == 0, err
    assert "figures match" in out


@pytest.mark.parametrize("option, value, words", [
    ("--processes", "100000", "from 1 to 64"), ("--sample", "0", "from 1 to 10000"),
    ("--iterations", "1000000", "from 1 to 10000"), ("--seed", "-1", "from 0 to"),
])
def test_verify_refuses_a_whole_number_outside_its_stated_bound(plan_set, capsys, option, value, words):
    craft(plan_set, command_line=["run.py", "stochastic", "--target", "2GW", "--futures", "futures.yaml",
                                  option, value])
    code, _, err = verify(plan_set, capsys)
    assert code == 2 and option in err and words in err and "Traceback" not in err


def test_the_stochastic_cli_refuses_a_whole_number_outside_its_bound(tmp_path, capsys):
    futures = toy_with_two_futures(tmp_path, "10e9 USD/GW")
    code = dispatch(["stochastic", "--target", "2GW", "--futures", str(futures), "--inputs", str(tmp_path / "in"),
                     "--results", str(tmp_path / "r"), "--method", "decompose", "--processes", "100000"])
    assert code == 2 and "--processes: expected a whole number from 1 to 64" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("text, words", [
    ("[" * 200_000, "nested at most 64 deep"),
    ('{"a": ' * 100 + "1" + "}" * 100, "nested at most 64 deep"),
    ("{not json", "cannot be read"),
    ("[1, 2]", "not a JSON object"),
], ids=["deep-list", "deep-object", "malformed", "not-an-object"])
def test_verify_refuses_malformed_or_deeply_nested_manifests_with_exit_2(plan_set, capsys, text, words):
    (plan_set / "manifest.json").write_text(text)
    code, _, err = verify(plan_set, capsys)
    assert code == 2 and words in err and "Traceback" not in err and len(err) < 1000


def test_verify_refuses_an_oversized_manifest_without_reading_it(plan_set, capsys, monkeypatch):
    import model.verify_checks

    monkeypatch.setattr(model.verify_checks, "MAX_JSON_BYTES", 10_000)
    (plan_set / "manifest.json").write_text('{"pad": "' + "x" * 20_000 + '"}')
    code, _, err = verify(plan_set, capsys)
    assert code == 2 and "expected at most 10000 bytes" in err


def test_verify_refuses_a_manifest_whose_kind_does_not_match_its_set(plan_set, capsys):
    craft(plan_set, command="stochastic")
    code, _, err = verify(plan_set, capsys)
    assert code == 2 and "field 'command'" in err
    craft(plan_set, command=None, command_line=["run.py", "alternatives", "--target", "2GW", "--count", "2"])
    code, _, err = verify(plan_set, capsys)
    assert code == 2 and "a run set" in err and "alternatives command line" in err


def test_a_decomposed_set_records_and_verify_compares_its_input_hashes(tmp_path, capsys):
    futures = toy_with_two_futures(tmp_path, "10e9 USD/GW")
    code = dispatch(["stochastic", "--target", "2GW", "--futures", str(futures), "--inputs", str(tmp_path / "in"),
                     "--results", str(tmp_path / "r"), "--name", "dec", "--method", "decompose", "--no-plots"])
    capsys.readouterr()
    assert code == 0
    man = json.loads((tmp_path / "r" / "dec" / "manifest.json").read_text())
    assert any(k.endswith("parameters.yaml") for k in man["inputs_sha256"])
    from model.verify import compare_inputs

    checks = compare_inputs(man, tmp_path / "in", tmp_path / "r" / "dec")
    assert len(checks) >= 10 and all(c.state == "unchanged" for c in checks)


def test_money_flows_are_read_from_the_inputs_folder_and_hashed(tmp_path):
    from model.exposure import money_flows_path, read_money_flows
    from model.scenario import load_scenario

    folder = write_inputs(tmp_path / "inputs")
    shutil.copy(Path(__file__).resolve().parent.parent / "inputs" / "money_flows.csv", folder / "money_flows.csv")
    lines = (folder / "money_flows.csv").read_text().splitlines()
    header = next(i for i, ln in enumerate(lines) if ln.startswith("flow,"))
    (folder / "money_flows.csv").write_text("\n".join(lines[:header + 2]) + "\n")      # one flow only
    s = load_scenario(folder)
    assert any(k.endswith("money_flows.csv") for k in s.input_files)
    assert money_flows_path(s).resolve() == (folder / "money_flows.csv").resolve()
    assert len(read_money_flows((), money_flows_path(s))) == 1


# ----------------------------------------------------------------------------
# Every kind of set run.py writes: replan and world sets are re-run too
# ----------------------------------------------------------------------------
@pytest.fixture
def replan_set(tmp_path) -> Path:
    """A plan (tmp_path/results/src) and its replan from 2027 with dearer capex (tmp_path/results/rp), by the CLI."""
    from test_foresight import lead_time_toy

    folder = write_inputs(tmp_path / "in", **lead_time_toy())
    res = tmp_path / "results"
    assert dispatch(["--inputs", str(folder), "--target", "2GW", "--year", "2027", "--name", "src",
                     "--results", str(res), "--no-plots"]) == 0
    assert dispatch(["replan", str(res / "src"), "--from", "2027", "--set", "capex_scale=2", "--name", "rp",
                     "--results", str(res), "--no-plots"]) == 0
    return res / "rp"


def tamper_total_cost(result_set: Path) -> None:
    summ = json.loads((result_set / "summary.json").read_text())
    summ["total_cost"]["value"] *= 1.01
    (result_set / "summary.json").write_text(json.dumps(summ))


def test_verify_re_runs_a_replan_set_and_sees_a_tampered_figure(replan_set, capsys):
    code, out, err = verify(replan_set, capsys)
    assert code == 0, err
    assert "run.py replan " in out and "--from=2027" in out and "figures match" in out
    tamper_total_cost(replan_set)
    code, out, _ = verify(replan_set, capsys)
    assert code == 1 and "DIFFER" in out and "total_cost" in out


def test_verify_re_runs_a_world_set_and_sees_a_tampered_figure(tmp_path, capsys):
    from world_toy import write_world

    folder = write_world(tmp_path / "in", last_year=2027, output_gw=1.0, grid_gw=1.5)
    assert dispatch(["world", "--inputs", str(folder), "--results", str(tmp_path / "res"), "--name", "w",
                     "--no-plots"]) == 0
    world = tmp_path / "res" / "w"
    assert json.loads((world / "manifest.json").read_text())["command_line"][:2] == ["run.py", "world"]
    code, out, err = verify(world, capsys)
    assert code == 0, err
    assert "run.py world " in out and "figures match" in out and "Inputs: all 0 files" not in out
    summ = json.loads((world / "summary.json").read_text())
    summ["status"] = "infeasible"
    (world / "summary.json").write_text(json.dumps(summ))
    code, out, _ = verify(world, capsys)
    assert code == 1 and "DIFFER" in out


@pytest.mark.parametrize("change, words", [
    (lambda argv, src: [a for a in argv if a != str(src)], "the set a 'replan' command line starts from"),
    (lambda argv, src: [("/etc" if a == str(src) else a) for a in argv], "a source set inside the project"),
    (lambda argv, src: [*argv, str(src)], "options of a 'replan' command line"),
    (lambda argv, src: [("99999" if a == "2027" else a) for a in argv], "--from a whole number from 1900 to 2200"),
    (lambda argv, src: [*argv, "--rule", "value"], "an option verify re-runs for a 'replan' set"),
], ids=["no-source", "outside", "two-sources", "from-out-of-bounds", "foreign-option"])
def test_verify_refuses_a_malformed_replan_command_line_with_exit_2(replan_set, capsys, change, words):
    src = replan_set.parent / "src"
    argv = json.loads((replan_set / "manifest.json").read_text())["command_line"]
    craft(replan_set, command_line=change(argv, src))
    code, _, err = verify(replan_set, capsys)
    assert code == 2 and words in err and "Traceback" not in err and len(err) < 1000


def test_verify_refuses_a_replan_whose_source_cannot_be_read_or_whose_record_disagrees(replan_set, capsys):
    src = replan_set.parent / "src"
    (src / "manifest.json").write_text("[" * 100_000)
    code, _, err = verify(replan_set, capsys)
    assert code == 2 and "a source set that verify can read" in err and "nested at most 64 deep" in err
    man = json.loads((replan_set / "manifest.json").read_text())
    craft(replan_set, command_line=["run.py", "--target", "2GW"])      # a plan's command line, a replan's record
    code, _, err = verify(replan_set, capsys)
    assert code == 2 and "field 'replan'" in err and man["replan"]


def test_verify_re_runs_a_sweep_case_by_case_and_sees_a_tampered_case(tmp_path, capsys):
    folder = write_inputs(tmp_path / "in")
    assert dispatch(["sweep", "--inputs", str(folder), "--target", "2GW", "--vary", "pue=1.1:1.3", "--method",
                     "montecarlo", "--samples", "3", "--seed", "3", "--results", str(tmp_path / "res"), "--name", "mc",
                     "--no-plots", "--no-progress", "--workers", "2"]) == 0
    sweep = tmp_path / "res" / "mc"
    capsys.readouterr()
    code, out, err = verify(sweep, capsys)
    assert code == 0, err
    assert "run.py sweep " in out and "--workers=1" in out and "figures match" in out and "case 0.total_cost" in out
    import pandas as pd

    summary = pd.read_csv(sweep / "summary.csv")
    row = summary.index[(summary["case"] == 2) & (summary["figure"] == "total_cost")][0]
    summary.loc[row, "value"] *= 1.01
    summary.to_csv(sweep / "summary.csv", index=False)
    code, out, _ = verify(sweep, capsys)
    assert code == 1 and "case 2.total_cost" in out and "DIFFER (1 of" in out


def test_verify_refuses_a_sweep_set_whose_tables_cannot_be_read(tmp_path, capsys):
    folder = write_inputs(tmp_path / "in")
    assert dispatch(["sweep", "--inputs", str(folder), "--target", "2GW", "--vary", "pue=1.1:1.3", "--method", "oat",
                     "--results", str(tmp_path / "res"), "--name", "s", "--no-plots", "--no-progress"]) == 0
    sweep = tmp_path / "res" / "s"
    (sweep / "summary.csv").write_text("nothing,of,use\n1,2,3\n")
    capsys.readouterr()
    code, _, err = verify(sweep, capsys)
    assert code == 2 and "summary.csv: expected the columns" in err and "Traceback" not in err


def test_replan_refuses_a_deeply_nested_source_manifest_with_exit_2(replan_set, capsys):
    src = replan_set.parent / "src"
    (src / "manifest.json").write_text("[" * 200_000)
    code = dispatch(["replan", str(src), "--from", "2027", "--results", str(replan_set.parent), "--name", "again"])
    err = capsys.readouterr().err
    assert code == 2 and "nested at most 64 deep" in err and "Traceback" not in err and len(err) < 1000
