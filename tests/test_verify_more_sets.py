"""``run.py verify`` re-runs comparison sets and world sweeps too, and refuses their malformed manifests (exit 2)."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from model.cli_common import dispatch
from toy import write_inputs


def verify(path: Path, capsys, *options: str) -> tuple[int, str, str]:
    from model.verify import main as verify_main

    capsys.readouterr()
    code = verify_main([str(path), *options])
    out = capsys.readouterr()
    return code, out.out, out.err


def craft(result_set: Path, **changes) -> None:
    man = json.loads((result_set / "manifest.json").read_text())
    man.update(changes)
    (result_set / "manifest.json").write_text(json.dumps(man))


def refused(code: int, err: str, *words: str) -> bool:
    return code == 2 and all(w in err for w in words) and "Traceback" not in err and len(err) < 2000


# ----------------------------------------------------------------------------
# Comparison sets
# ----------------------------------------------------------------------------
@pytest.fixture
def comparison(tmp_path) -> Path:
    """Two plans of the toy (one at a higher PUE) and their comparison, all by the CLI, in one project."""
    folder = write_inputs(tmp_path / "inputs")
    res = tmp_path / "results"
    for name, extra in (("a", []), ("b", ["--set", "pue=1.3"])):
        assert dispatch(["--inputs", str(folder), "--target", "2GW", "--results", str(res), "--name", name,
                         "--no-plots", *extra]) == 0
    assert dispatch(["compare", str(res / "a"), str(res / "b"), "--results", str(res), "--out", "ab",
                     "--no-plots"]) == 0
    return res / "ab"


def test_a_comparison_records_the_hashes_of_the_files_it_read(comparison):
    man = json.loads((comparison / "manifest.json").read_text())
    assert man["kind"] == "comparison" and man["cwd"]
    for record in man["sets"]:
        assert {"summary.json", "manifest.json", "tables/costs.csv"} <= set(record["files_sha256"])


def test_verify_redoes_a_comparison_and_sees_a_tampered_figure(comparison, capsys):
    code, out, err = verify(comparison, capsys)
    assert code == 0, err
    assert "run.py compare " in out and "figures match" in out
    assert "all 18 files the comparison read are unchanged" in out
    assert "the sources themselves are not re-solved" in out.lower()
    head = pd.read_csv(comparison / "tables" / "headline.csv")
    row = head.index[(head["key"] == "facility_power") & (head["set"] == "b")][0]
    head.loc[row, "value"] *= 1.01
    head.to_csv(comparison / "tables" / "headline.csv", index=False)
    code, out, _ = verify(comparison, capsys)
    assert code == 1 and "DIFFER (1 of" in out and "headline[facility_power | b].value" in out


def test_verify_says_which_source_set_changed_since_the_comparison(comparison, capsys):
    source = comparison.parent / "b"
    summ = json.loads((source / "summary.json").read_text())
    summ["total_cost"]["value"] *= 2
    (source / "summary.json").write_text(json.dumps(summ))
    code, out, _ = verify(comparison, capsys)
    assert code == 1
    assert "Source sets changed since the comparison (1 of" in out and "summary.json" in out and "changed" in out
    assert "headline[total_cost | b].value" in out and "1 file(s) of the source sets changed" in out


def test_verify_sources_also_re_solves_each_source_set(comparison, capsys):
    code, out, err = verify(comparison, capsys, "--sources")
    assert code == 0, err
    assert out.count("Re-running: run.py ") == 3 and "Source sets: 2 of 2 match when re-solved" in out


@pytest.mark.parametrize("change, words", [
    (lambda man, res: {"command_line": [*man["command_line"], "--time-limit", "5"]},
     ["an option verify re-runs for a 'compare' set", "'--time-limit'"]),
    (lambda man, res: {"command_line": ["run.py", "compare", "/etc", str(res / "b"), "--out", "x"]},
     ["a source set inside the project", "'/etc'"]),
    (lambda man, res: {"command_line": ["run.py", "compare", str(res / "a"), "--out", "x"]},
     ["two or more sets a 'compare' command line compares"]),
    (lambda man, res: {"command_line": ["run.py", "compare", str(res / "a"), str(res / "ab"), "--out", "x"]},
     ["a source set other than the set being verified"]),
    (lambda man, res: {"command_line": ["run.py", "compare", *[str(res / "a")] * 60]}, ["at most 50 sets"]),
    (lambda man, res: {"kind": "plan"}, ["field 'kind'", "'comparison'"]),
    (lambda man, res: {"command_line": ["run.py", "--target", "2GW"]}, ["field 'kind'"]),
    (lambda man, res: {"kind": None, "command_line": ["run.py", "world", "--rule", "value"]},
     ["a command line of the kind of set it sits in", "a world command line"]),
    (lambda man, res: {"sets": man["sets"][:1]}, ["field 'sets'", "a list of 2 records"]),
    (lambda man, res: {"sets": [man["sets"][1], man["sets"][0]]}, ["field 'sets[0].path'"]),
    (lambda man, res: {"sets": [{**man["sets"][0], "files_sha256": {"../../../etc/passwd": "0" * 64}},
                                man["sets"][1]]},
     ["field 'sets[0].files_sha256'", "files a comparison reads"]),
    (lambda man, res: {"sets": [{**man["sets"][0], "files_sha256": [1, 2]}, man["sets"][1]]},
     ["field 'sets[0].files_sha256'", "a mapping of file to sha256"]),
    (lambda man, res: {"command_line": ["run.py", "compare"] + ["x"] * 2000}, ["at most 1000 words"]),
], ids=["foreign-option", "source-outside", "one-source", "itself-as-source", "too-many-sources",
        "kind-plan", "plan-command-line", "world-command-line", "sets-short", "sets-reordered",
        "hash-outside-set", "hashes-not-a-mapping", "endless-command-line"])
def test_verify_refuses_a_malformed_comparison_manifest_with_exit_2(comparison, capsys, change, words):
    man = json.loads((comparison / "manifest.json").read_text())
    craft(comparison, **change(man, comparison.parent))
    code, _, err = verify(comparison, capsys)
    assert refused(code, err, *words), err


def test_verify_refuses_a_comparison_whose_source_cannot_be_read(comparison, capsys):
    (comparison.parent / "a" / "summary.json").write_text("[" * 100_000)
    code, _, err = verify(comparison, capsys)
    assert refused(code, err, "a source set that verify can read", "nested at most 64 deep")


def test_verify_refuses_sources_for_a_set_that_is_not_a_comparison(comparison, capsys):
    code, _, err = verify(comparison.parent / "a", capsys, "--sources")
    assert refused(code, err, "--sources verifies a comparison's source sets")


# ----------------------------------------------------------------------------
# World sweeps
# ----------------------------------------------------------------------------
@pytest.fixture
def world_sweep(tmp_path) -> Path:
    """A world sweep of two cases (another buyer's demand at 0.5 and 3 times), by the CLI."""
    from world_toy import write_world

    folder = write_world(tmp_path / "in", output_gw=1.5)
    assert dispatch(["sweep", "--world", "--inputs", str(folder), "--vary", "buyer_demand_scale.b=0.5:3",
                     "--steps", "2", "--results", str(tmp_path / "res"), "--name", "s", "--no-plots"]) == 0
    return tmp_path / "res" / "s"


def test_a_world_sweep_records_its_inputs_and_their_hashes(world_sweep):
    man = json.loads((world_sweep / "manifest.json").read_text())
    assert man["kind"] == "world-sweep" and man["cwd"] and Path(man["inputs_dir"]).is_dir()
    assert any(k.endswith("parameters.yaml") for k in man["input_files"]) and len(man["input_files"]) >= 10


def test_verify_re_runs_a_world_sweep_case_by_case_and_sees_a_tampered_case(world_sweep, capsys):
    code, out, err = verify(world_sweep, capsys)
    assert code == 0, err
    assert "run.py sweep --world " in out and "--steps=2" in out and "figures match" in out
    assert "case 0.default_in_service_gw" in out and "Inputs: all 0 files" not in out
    cases = pd.read_csv(world_sweep / "cases.csv")
    cases.loc[1, "world_in_service_gw"] += 0.1
    cases.to_csv(world_sweep / "cases.csv", index=False)
    code, out, _ = verify(world_sweep, capsys)
    assert code == 1 and "case 1.world_in_service_gw" in out and "DIFFER (1 of" in out


def test_verify_sees_a_world_sweep_whose_inputs_changed(world_sweep, capsys):
    man = json.loads((world_sweep / "manifest.json").read_text())
    params = next(Path(k) for k in man["input_files"] if k.endswith("parameters.yaml"))
    params.write_text(params.read_text() + "\n# edited since\n")
    code, out, err = verify(world_sweep, capsys)
    assert code == 0, err       # a comment changes no figure, but the file's sha256
    assert "Inputs changed since the run (1 of" in out and "parameters.yaml" in out


def test_verify_re_runs_a_world_sweep_of_an_older_version_that_recorded_no_inputs(world_sweep, capsys):
    man = json.loads((world_sweep / "manifest.json").read_text())
    (world_sweep / "manifest.json").write_text(json.dumps({k: man[k] for k in ("kind", "command_line", "created")}))
    code, out, err = verify(world_sweep, capsys)
    assert code == 0, err
    assert "records no sha256 of its input files" in out and "figures match" in out


@pytest.mark.parametrize("change, words", [
    (lambda argv: [*argv, "--workers", "2"], ["an option verify re-runs for a 'world-sweep' set", "'--workers'"]),
    (lambda argv: [("100000" if a == "2" else a) for a in argv], ["--steps a whole number from 2 to 1000"]),
    (lambda argv: [*argv, "--year", "99999"], ["--year a whole number from 1900 to 2200"]),
    (lambda argv: [*argv, "--rule", "greedy"], ["--rule one of value, pro-rata"]),
    (lambda argv: [*argv, "--scenario", "../../etc/x"], ["--scenario a plain name"]),
    (lambda argv: [*argv, "--inputs", "/etc"], ["field 'command_line'", "--inputs naming the recorded inputs"]),
    (lambda argv: [a for a in argv if a != "--world"], ["field 'kind'", "command line (sweep)", "'world-sweep'"]),
    (lambda argv: ["run.py", "world-sweep", *argv[3:]], ["a command line of one of the kinds"]),
], ids=["unknown-option", "steps-out-of-bounds", "year-out-of-bounds", "bad-rule", "scenario-path",
        "inputs-elsewhere", "plain-sweep", "made-up-command"])
def test_verify_refuses_a_malformed_world_sweep_command_line_with_exit_2(world_sweep, capsys, change, words):
    argv = json.loads((world_sweep / "manifest.json").read_text())["command_line"]
    craft(world_sweep, command_line=change(argv))
    code, _, err = verify(world_sweep, capsys)
    assert refused(code, err, *words), err


@pytest.mark.parametrize("changes, words", [
    ({"kind": "comparison"}, ["field 'kind'", "'world-sweep'"]),
    ({"inputs_dir": "/etc"}, ["field 'command_line'", "--inputs naming the recorded inputs folder /etc"]),
    ({"inputs_dir": "/etc", "command_line": ["run.py", "sweep", "--world", "--vary", "buyer_demand_scale.b=0.5:3"]},
     ["field 'inputs_dir'", "an inputs folder inside the project"]),
    ({"inputs_dir": 5}, ["field 'inputs_dir'", "a folder name"]),
    ({"cwd": ["x"]}, ["field 'cwd'", "a folder name"]),
    ({"input_files": {"/etc/passwd": "0" * 64}}, ["field 'inputs_sha256'", "inside the inputs folder"]),
    ({"input_files": "everything"}, ["field 'inputs_sha256'", "a mapping of input file to sha256"]),
    ({"command_line": "run.py sweep --world"}, ["field 'command_line'", "a list of words"]),
], ids=["kind-mismatch", "inputs-disagree", "inputs-outside", "inputs-not-text", "cwd-not-text", "hash-outside-inputs",
        "hashes-not-a-mapping", "command-line-not-a-list"])
def test_verify_refuses_a_malformed_world_sweep_manifest_with_exit_2(world_sweep, capsys, changes, words):
    craft(world_sweep, **changes)
    code, _, err = verify(world_sweep, capsys)
    assert refused(code, err, *words), err


def test_a_world_sweep_refuses_a_whole_number_outside_its_bound(tmp_path, capsys):
    from world_toy import write_world

    folder = write_world(tmp_path / "in")
    code = dispatch(["sweep", "--world", "--inputs", str(folder), "--vary", "buyer_demand_scale.b=0.5:3",
                     "--steps", "1", "--results", str(tmp_path / "res"), "--name", "s"])
    assert code == 2 and "--steps: expected a whole number from 2 to 1000, found 1" in capsys.readouterr().err
    assert not (tmp_path / "res").exists()


# ----------------------------------------------------------------------------
# Documented sweep options the allow-list lacked
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("extra", [["--resolve-world"], ["--scheduler", "tcp://127.0.0.1:8786"]],
                         ids=["resolve-world", "scheduler"])
def test_verify_re_runs_a_sweep_made_with_a_documented_option(tmp_path, capsys, extra):
    folder = write_inputs(tmp_path / "in")
    assert dispatch(["sweep", "--inputs", str(folder), "--target", "2GW", "--vary", "pue=1.1:1.3", "--method", "oat",
                     "--results", str(tmp_path / "res"), "--name", "s", "--no-plots", "--no-progress"]) == 0
    sweep = tmp_path / "res" / "s"
    argv = json.loads((sweep / "manifest.json").read_text())["command_line"]
    craft(sweep, command_line=[*argv, *extra])     # the toy has no world: these change no figure
    code, out, err = verify(sweep, capsys)
    assert code == 0, err
    assert "figures match" in out and ("--resolve-world" in out) == (extra == ["--resolve-world"])
    assert "--scheduler" not in out and "tcp://" not in out     # the cases run in one local process
