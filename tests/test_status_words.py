"""Status words that mean one thing: ``target_missed`` only for a missed target; a missed deal minimum has its own."""
from __future__ import annotations

import contextlib
import io
import json

import pytest

from model.cli import main
from test_foresight import lead_time_toy
from toy import deal, term, write_inputs


@pytest.fixture
def deal_toy(tmp_path):
    """The lead-time toy without gas and a 1 GW deal minimum in 2027: a look-ahead of 1 a orders the grid too late.

    The target (0 GW) is held whatever happens; only the deal's minimum falls short (by 1 GW).
    """
    t = lead_time_toy(gas=False)
    t.update(deals=[deal("cloudco", "host=cloud", 2027, 2027)], deal_terms=[term("cloudco", "minimum", 1, "GW")])
    return write_inputs(tmp_path / "in", **t)


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


def test_a_missed_deal_minimum_is_not_called_a_missed_target(deal_toy, tmp_path):
    code, out, _ = run("--inputs", str(deal_toy), "--target", "0GW", "--year", "2027", "--foresight", "myopic",
                       "--look-ahead", "1", "--results", str(tmp_path / "r"), "--name", "d", "--no-ranking")
    summ = json.loads((tmp_path / "r" / "d" / "summary.json").read_text())
    assert code == 3 and summ["status"] == "commitment_missed"
    assert "deal minimum" in summ["message"] and "Cloudco deal minimum" in summ["message"]
    assert "target" not in summ["message"].split(":")[0]           # the lead-in names the deal, not a target
    assert "Status: commitment_missed" in out
    page = (tmp_path / "r" / "d" / "report.html").read_text()
    assert "a deal minimum or tranche missed" in page and "Target missed" not in page


def test_a_missed_target_is_still_target_missed(tmp_path):
    folder = write_inputs(tmp_path / "in", **lead_time_toy(gas=False))
    code, _, _ = run("--inputs", str(folder), "--target", "2GW", "--year", "2027", "--foresight", "myopic",
                     "--look-ahead", "1", "--results", str(tmp_path / "r"), "--name", "t", "--no-plots", "--no-ranking")
    summ = json.loads((tmp_path / "r" / "t" / "summary.json").read_text())
    assert code == 3 and summ["status"] == "target_missed" and "misses a target" in summ["message"]


def test_a_max_capacity_run_never_speaks_of_a_target_it_was_not_given(toy_capped, tmp_path):
    code, out, _ = run("--inputs", str(toy_capped), "--objective", "max-capacity", "--year", "2027",
                       "--results", str(tmp_path / "r"), "--name", "m", "--no-plots", "--no-ranking")
    assert code == 0
    assert "asked" not in out and "Target:" not in out and "Objective: the most" in out
    assert "Reachable in 2027: at most" in out and "no target was given" in out
