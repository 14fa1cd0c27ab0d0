"""Our own bugs are never reported as "HiGHS failed"; real HiGHS failures still are."""
from __future__ import annotations

import pickle

import pytest
from pyomo.environ import Constraint, Param

import model.solve as solve_mod
from model.cli import main
from model.scenario import TargetSpec, load_scenario
from model.solve import ModelCodeError, solve_plan


def test_exception_while_handing_our_model_to_highs_is_a_model_code_error(toy, monkeypatch):
    real_build = solve_mod.build_model

    def broken_build(s):
        m = real_build(s)
        m.no_value = Param(mutable=True)                   # a Param left without a value: our bug
        first = next(iter(m.build_gw))
        m.broken_row = Constraint(expr=m.no_value * m.build_gw[first] <= 1.0)
        return m

    monkeypatch.setattr(solve_mod, "build_model", broken_build)
    with pytest.raises(ModelCodeError) as exc:
        solve_plan(load_scenario(toy, target=TargetSpec("2GW")))
    text = str(exc.value)
    assert "internal error in the model code, not a solver failure" in text and "HiGHS" not in text
    assert "no_value" in text


def test_exception_after_the_solve_names_our_function(toy, monkeypatch):
    def broken(*_a, **_k):
        raise KeyError("a missing limit label")

    monkeypatch.setattr(solve_mod, "explain_duals", broken)
    with pytest.raises(ModelCodeError) as exc:
        solve_plan(load_scenario(toy, target=TargetSpec("2GW")))
    assert "model/solve.py" in exc.value.where and "KeyError" in str(exc.value)
    again = pickle.loads(pickle.dumps(exc.value))            # survives worker processes
    assert str(again) == str(exc.value)


def test_cli_exits_4_with_a_distinct_message_for_our_bug(toy, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(solve_mod, "explain_duals", lambda *a, **k: 1 / 0)
    code = main(["--inputs", str(toy), "--target", "2GW", "--results", str(tmp_path), "--name", "x", "--no-plots"])
    err = capsys.readouterr().err
    assert code == 4
    assert "internal error in the model code" in err and "ZeroDivisionError" in err and "HiGHS failed" not in err
    assert not (tmp_path / "x").exists()


def test_a_real_highs_failure_is_still_a_solver_error(toy, monkeypatch):
    import highspy

    def fail(self, *a, **k):
        raise RuntimeError("HiGHS ran out of memory")

    monkeypatch.setattr(highspy.Highs, "run", fail)
    o = solve_plan(load_scenario(toy, target=TargetSpec("2GW")))
    assert o.status == "solver_error" and o.message.startswith("HiGHS failed") and "out of memory" in o.message
