"""Every plan that alternatives and stochastic report goes through the post-solve check (model/checks.py);
progressive hedging says when it stopped at its iteration limit instead of calling its plan optimal."""
from __future__ import annotations

import json

import pytest
import yaml
from pyomo.environ import Var

import model.alternatives as alt_mod
import model.stochastic as st_mod
import model.stochastic_cli as st_cli
from model.scenario import TargetSpec, load_scenario
from model.ph import progressive_hedging
from model.stochastic import extensive_form, load_futures
from test_stochastic import toy_with_two_futures
from toy import SRC, default_tables, q, write_inputs


def corrupting(real_solve, when=lambda m: True):
    """A _solve that returns HiGHS's answer with one variable pushed below its bound (a wrong plan)."""
    def solve(opt, m):
        status, res = real_solve(opt, m)
        if status == "optimal" and when(m):
            var = next(v for v in m.component_data_objects(Var, descend_into=True) if v.value and v.lb == 0)
            var.set_value(-1.0, skip_validation=True)
        return status, res
    return solve


def capped_toy(tmp_path):
    tables = default_tables()
    tables["offer_parameters"].append({"offer": "buy", "year": "", **q("build_cap", 3, "GW/a")})
    return load_scenario(write_inputs(tmp_path / "in", **tables), target=TargetSpec("4GW"))


def test_alternatives_check_every_plan_and_record_the_check(tmp_path):
    from model.checks import check_plan
    from model.solve import solve_plan

    s = capped_toy(tmp_path)
    r = alt_mod.generate_alternatives(s, slack=0.25, count=4)
    assert r.status == "optimal" and r.check is not None and r.check.passed
    rows = check_plan(solve_plan(s).model, s).rows
    # the least-cost plan's rows, and each candidate's rows with the cost budget row
    assert r.check.rows == rows + r.candidates * (rows + 1) and r.candidates >= 2


def test_alternatives_refuse_a_wrong_plan_as_a_solver_error(tmp_path, monkeypatch):
    # the third plan HiGHS returns is wrong: the run is refused, naming it
    calls = {"n": 0}

    def third(m):
        calls["n"] += 1
        return calls["n"] == 3

    monkeypatch.setattr(alt_mod, "_solve", corrupting(alt_mod._solve, third))
    r = alt_mod.generate_alternatives(capped_toy(tmp_path), slack=0.25, count=4)
    assert r.status == "solver_error" and not r.alternatives
    assert "refused" in r.message and "plan '" in r.message and "at least 0" in r.message


def test_alternatives_cli_exits_4_on_a_wrong_plan(tmp_path, monkeypatch, capsys):
    tables = default_tables()
    folder = write_inputs(tmp_path / "in", **tables)
    monkeypatch.setattr(alt_mod, "_solve", corrupting(alt_mod._solve))
    code = alt_mod.main(["--inputs", str(folder), "--target", "2GW", "--results", str(tmp_path / "r"),
                         "--name", "a", "--no-plots"])
    assert code == 4 and "refused" in capsys.readouterr().err
    assert not (tmp_path / "r" / "a").exists()


def test_stochastic_checks_the_extensive_form_per_future(tmp_path):
    spec = load_futures(toy_with_two_futures(tmp_path, "10e9 USD/GW"), tmp_path / "in", target=TargetSpec("2GW"))
    rp = extensive_form(spec)
    assert rp.status == "optimal" and rp.check.passed and rp.check.rows > 0


def test_stochastic_refuses_a_wrong_extensive_form_plan(tmp_path, monkeypatch, capsys):
    path = toy_with_two_futures(tmp_path, "10e9 USD/GW")
    monkeypatch.setattr(st_mod, "_solve", corrupting(st_mod._solve, lambda m: hasattr(m, "future")))
    spec = load_futures(path, tmp_path / "in", target=TargetSpec("2GW"))
    rp = extensive_form(spec)
    assert rp.status == "solver_error" and "future '" in rp.message and "refused" in rp.message
    code = st_cli.main(["--inputs", str(tmp_path / "in"), "--futures", str(path), "--target", "2GW",
                        "--results", str(tmp_path / "r"), "--name", "s", "--no-plots"])
    assert code == 4 and "refused" in capsys.readouterr().err and not (tmp_path / "r" / "s").exists()


def test_stochastic_refuses_a_wrong_plan_for_one_future_alone(tmp_path, monkeypatch):
    path = toy_with_two_futures(tmp_path, "10e9 USD/GW")
    monkeypatch.setattr(st_mod, "_solve", corrupting(st_mod._solve, lambda m: not hasattr(m, "future")))
    spec = load_futures(path, tmp_path / "in", target=TargetSpec("2GW"))
    with pytest.raises(RuntimeError, match="planned alone: the plan HiGHS returned breaks"):
        st_mod.plan_under_uncertainty(spec)


def test_progressive_hedging_at_its_iteration_limit_is_not_called_converged(tmp_path):
    spec = load_futures(toy_with_two_futures(tmp_path, "10e9 USD/GW"), tmp_path / "in", target=TargetSpec("2GW"))
    stopped = progressive_hedging(spec, iterations=1, threshold=1e-12)
    assert stopped["status"] == "iteration_limit" and stopped["iterations"] <= 1
    assert "stopped at the iteration limit (1 iterations)" in stopped["message"] and "gap" in stopped["message"]
    assert "converged in" not in stopped["message"] and stopped["check"]["passed"]


def test_stochastic_cli_with_ph_at_its_limit_reports_it_and_exits_4(tmp_path, monkeypatch, capsys):
    path = toy_with_two_futures(tmp_path, "10e9 USD/GW")
    real = st_cli.progressive_hedging
    monkeypatch.setattr(st_cli, "progressive_hedging", lambda spec: real(spec, iterations=1, threshold=1e-12))
    code = st_cli.main(["--inputs", str(tmp_path / "in"), "--futures", str(path), "--target", "2GW", "--method", "ph",
                        "--results", str(tmp_path / "r"), "--name", "s", "--no-plots"])
    out = capsys.readouterr().out
    assert code == 4 and "stopped at the iteration limit" in out
    summ = json.loads((tmp_path / "r" / "s" / "summary.json").read_text())
    assert summ["status"] == "iteration_limit" and summ["progressive_hedging"]["status"] == "iteration_limit"
    assert summ["message"].startswith("progressive hedging stopped at the iteration limit")

