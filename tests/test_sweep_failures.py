"""Sweep cases without a plan: told apart and explained as run.py explains them, fast where the warm model can."""
from __future__ import annotations

import pytest

import model.sweep.cli as sweep
from model.fastsolve import HighsPlan
from model.scenario import TargetSpec, read_base_inputs
from model.solve import solve_plan
from toy import deal, term, write_inputs

# Toy (tests/toy.py): one region with 100 GW of grid; a deal 'd' over every offer 2025-2027 whose minimum is
# swept: 10 GW is met, 150 GW and 300 GW need more power than the grid has (infeasible even without the target).
CASES = [{"deal_minimum.d": 10.0}, {"deal_minimum.d": 150.0}, {"deal_minimum.d": 300.0}]


@pytest.fixture
def contradicting(tmp_path):
    folder = write_inputs(tmp_path / "in", deals=[deal("d", "all", 2025, 2027)],
                          deal_terms=[term("d", "minimum", 1, "GW")])
    base = read_base_inputs(folder)
    varies = [sweep.parse_vary("deal_minimum.d=10:300GW", base.catalogue)]
    prep = sweep.prepare(base, [], TargetSpec("2GW"), "grid", varies, CASES)
    assert prep.fast
    return prep


def test_an_infeasible_case_is_explained_from_the_warm_model_as_run_py_explains_it(contradicting):
    results = sweep.CaseRunner(contradicting.job).run_chunk(list(enumerate(CASES)))
    for r, case in zip(results, CASES):
        o = solve_plan(contradicting.job.deriver.exact(case))     # run.py's path: build, solve, diagnose
        assert (r.status, r.message) == (o.status, o.message)
    assert [r.status for r in results] == ["optimal", "infeasible", "infeasible"]
    assert [r.path for r in results] == ["fast", "fast+diagnosis", "fast+diagnosis"]
    assert "would have to" in results[2].message


def test_solver_error_on_the_fast_path_falls_back_to_run_py_and_gets_its_status(contradicting, monkeypatch):
    # every re-solve of the warm HiGHS instances fails; run.py's path (a fresh Pyomo build) is untouched
    monkeypatch.setattr(HighsPlan, "run", lambda self: "solver_error")
    results = sweep.CaseRunner(contradicting.job).run_chunk(list(enumerate(CASES)))
    for r, case in zip(results, CASES):
        o = solve_plan(contradicting.job.deriver.exact(case))
        assert (r.status, r.message) == (o.status, o.message)
        assert r.path == "rebuild" and "solver_error" in r.note
    assert [r.status for r in results] == ["optimal", "infeasible", "infeasible"]
