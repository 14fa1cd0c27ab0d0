"""Sweeps: the fast path equals separate runs, resume finishes exactly what is missing, bad options are refused."""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import model.sweep.cli as sweep
from model.cli import main as run_py
from model.build import param_values
from model.errors import InputErrors
from model.fastsolve import HighsPlan, ParamSource, compile_plan, lp_difference, plan_readout
from model.scenario import TargetSpec, load_scenario, load_variant, read_base_inputs
from model.sensitivity import analyse, morris_design, morris_table
from model.solve import solve_plan
from toy import deal, default_tables, q, term, write_inputs

FIGURES = ("total_cost", "capacity_in_service", "facility_power", "energy", "max_reachable")


def run_sweep(*args: str) -> int:
    return sweep.main(["--no-progress", "--no-plots", *args])


def figures(result_set: Path) -> pd.DataFrame:
    """case x figure (headline figures only) with the status."""
    s = pd.read_csv(result_set / "summary.csv")
    wide = s[s["group"].isna()].pivot(index="case", columns="figure", values="value")
    return pd.read_csv(result_set / "status.csv").set_index("case")[["status", "path", "inputs"]].join(wide)


def assert_same_figures(a: pd.DataFrame, b: pd.DataFrame, rel: float = 1e-9) -> None:
    assert list(a["status"]) == list(b["status"])
    for col in FIGURES:
        np.testing.assert_allclose(a[col].to_numpy(float), b[col].to_numpy(float), rtol=rel, atol=1e-9)


def energy_tables() -> dict:
    """The toy's tables with energy costs and a grid that binds: PUE, prices and the target all move the answer."""
    t = default_tables()
    t["region_parameters"] = [
        {"region": "R", "year": "", **q("grid_power", 4, "GW")},
        {"region": "R", "year": "", **q("pue", 1.2, "dimensionless")},
        {"region": "R", "year": "", **q("electricity_price", 50, "USD/MWh")},
    ]
    t["offer_parameters"].append({"offer": "buy", "year": "", **q("build_cap", 1, "GW/a")})
    return t


@pytest.fixture
def toy_energy(tmp_path: Path) -> Path:
    """Toy with energy costs and a grid that binds (:func:`energy_tables`)."""
    return write_inputs(tmp_path / "inputs", **energy_tables())


# ----------------------------------------------------------------------------
# The sweep equals separate runs
# ----------------------------------------------------------------------------
def test_sweep_of_three_cases_equals_three_separate_runs(toy_energy, tmp_path):
    # oat over one key: the base case, then the price low and high -- three cases
    assert run_sweep("--inputs", str(toy_energy), "--target", "2GW", "--vary", "electricity_price=20:100USD/MWh",
                     "--method", "oat", "--results", str(tmp_path / "r"), "--name", "s") == 0
    got = figures(tmp_path / "r" / "s")
    assert len(got) == 3 and set(got["path"]) == {"fast"}
    for case, sets in enumerate(([], ["--set", "electricity_price=20USD/MWh"], ["--set", "electricity_price=100USD/MWh"])):
        name = f"run{case}"
        code = run_py(["--inputs", str(toy_energy), "--target", "2GW", *sets, "--results", str(tmp_path / "r"),
                       "--name", name, "--no-plots"])
        assert code == 0
        one = json.loads((tmp_path / "r" / name / "summary.json").read_text())
        row = got.loc[case]
        assert row["status"] == one["status"]
        assert row["total_cost"] == pytest.approx(one["total_cost"]["value"], rel=1e-9)
        assert row["capacity_in_service"] == pytest.approx(one["capacity_in_service"]["2027"]["value"], rel=1e-9)
        assert row["facility_power"] == pytest.approx(one["facility_power"]["value"], rel=1e-9)
        assert row["energy"] == pytest.approx(one["energy"]["value"], rel=1e-9)


def test_missed_and_contradictory_cases_are_kept_with_status_and_largest_reachable(toy_energy, tmp_path):
    # grid 4 GW / PUE 1.2: 3.33 GW of IT at most; 5 GW is missed; a PUE of 3 with a 2 GW deal minimum contradicts
    assert run_sweep("--inputs", str(toy_energy), "--vary", "target=1:5GW", "--vary", "pue=1.2:1.8",
                     "--method", "grid", "--steps", "3", "--results", str(tmp_path / "r"), "--name", "g") == 0
    got = figures(tmp_path / "r" / "g")
    assert len(got) == 9 and "target_missed" in set(got["status"])
    cases = pd.read_csv(tmp_path / "r" / "g" / "cases.csv").pivot(index="case", columns="key", values="value")
    for case, row in got.iterrows():
        s = load_scenario(toy_energy, sets=[f"pue={float(cases.loc[case, 'pue'])!r}"],
                          target=TargetSpec(f"{float(cases.loc[case, 'target'])!r} GW"))
        o = solve_plan(s)
        assert row["status"] == o.status
        assert row["total_cost"] == pytest.approx(o.objective_bnusd * 1e9, rel=1e-9)
        if o.max_reachable is not None:
            assert row["max_reachable"] == pytest.approx(o.max_reachable, rel=1e-9)
        else:
            assert math.isnan(row["max_reachable"])


def test_structural_key_falls_back_to_fresh_builds_and_stays_right(toy_energy, tmp_path):
    # a lifetime changes which vintages are in service (the model's shape): no shortcut may be taken
    assert run_sweep("--inputs", str(toy_energy), "--target", "2GW", "--vary", "lifetime.buy=1:3a",
                     "--method", "grid", "--steps", "3", "--results", str(tmp_path / "r"), "--name", "life") == 0
    got = figures(tmp_path / "r" / "life")
    assert set(got["path"]) == {"rebuild"} and set(got["inputs"]) == {"loader"}
    for case, life in enumerate((1, 2, 3)):
        o = solve_plan(load_scenario(toy_energy, sets=[f"lifetime.buy={life}a"], target=TargetSpec("2GW")))
        assert got.loc[case, "total_cost"] == pytest.approx(o.objective_bnusd * 1e9, rel=1e-9)
    manifest = json.loads((tmp_path / "r" / "life" / "manifest.json").read_text())
    assert manifest["fast_path"]["on"] is False and manifest["fast_path"]["notes"]


# ----------------------------------------------------------------------------
# The fast path, piece by piece, on the base data
# ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def base_sweep():
    """The base data prepared for five keys (deal sizes, vendor growth, the target among them), three cases.

    The last case's target (2000 GW) cannot be met, so the largest-reachable path is exercised too.
    """
    base = read_base_inputs()
    texts = ("electricity_price=60:120USD/MWh", "pue=1.1:1.25", "supply_growth.nvidia=20:40%",
             "target=50:2000GW", "deal_minimum.amd_instinct=3:6GW")
    varies = [sweep.parse_vary(t, base.catalogue) for t in texts]
    cases = [{"electricity_price": 60.0, "pue": 1.1, "supply_growth.nvidia": 20.0, "target": 60.0,
              "deal_minimum.amd_instinct": 3.0},
             {"electricity_price": 95.0, "pue": 1.22, "supply_growth.nvidia": 33.0, "target": 90.0,
              "deal_minimum.amd_instinct": 5.5},
             {"electricity_price": 120.0, "pue": 1.15, "supply_growth.nvidia": 40.0, "target": 2000.0,
              "deal_minimum.amd_instinct": 6.0}]
    # without the default debt limit, so that the smaller targets are met (with it the base reaches ~80 GW);
    # at PUE 1.25 everywhere the signed deals can no longer be powered (infeasible), so the cases stay below
    prep = sweep.prepare(base, ["debt_limit=none"], TargetSpec("250GW"), "grid", varies, cases,
                         resolve_world=True)      # each case's shares from its own world, as run.py's
    return base, prep, cases


def test_every_case_gets_the_loaders_scenario(base_sweep):
    base, prep, cases = base_sweep
    assert prep.fast and not prep.notes
    deriver = prep.job.deriver
    for case in cases + [{**cases[1], "supply_growth.nvidia": 27.3, "pue": 1.13}]:
        s, how = deriver.derive(case)
        sets, target = deriver.loader_inputs(case)
        # run.py's Scenario, the world re-solved where the case changes what every buyer reads (PUE, growth)
        assert how == "loader" and s == load_scenario(sets=sets, target=target)


def test_resolve_after_param_change_equals_fresh_build(base_sweep):
    base, prep, cases = base_sweep
    runner = sweep.CaseRunner(prep.job)
    results = runner.run_chunk(list(enumerate(cases)))
    assert {r.status for r in results} >= {"optimal", "target_missed"}
    assert {r.path for r in results} == {"fast", "fast+reach"} and not any(r.note for r in results)
    for r, case in zip(results, cases):
        o = solve_plan(prep.job.deriver.exact(case))
        assert r.status == o.status
        assert r.figures["total_cost"] == pytest.approx(o.objective_bnusd * 1e9, rel=1e-6)
        if o.max_reachable is not None:
            assert r.figures["max_reachable"] == pytest.approx(o.max_reachable, rel=1e-6)


def test_pushed_params_give_the_plan_and_cost_of_a_fresh_build(base_sweep):
    # the expectation is computed without the fast path: a fresh build and solve of each case (run.py's path)
    base, prep, cases = base_sweep
    plan = HighsPlan(prep.job.plan)
    names = prep.job.plan.param_names
    for case in (cases[0], {**cases[0], "pue": 1.2, "electricity_price": 80.0, "supply_growth.nvidia": 30.0}):
        s = prep.job.deriver.exact(case)
        plan.set_params(plan.param_vector(param_values(s)))
        got = plan.solve_min_cost()
        o = solve_plan(s)
        assert got.status == o.status == "optimal"
        assert got.objective_bnusd == pytest.approx(o.objective_bnusd, rel=1e-9)
        ins, _ = plan_readout(prep.job.plan, got.col_value)
        expected = np.array([[o.model.in_service_gw[a, y].value for y in s.years] for a in s.offers])
        np.testing.assert_allclose(ins.sum(axis=0), expected.sum(axis=0), rtol=1e-6, atol=1e-6)
        assert names and set(names) <= set(param_values(s))


def test_compiled_plan_resolves_a_toy_exactly(toy_energy):
    ref = load_scenario(toy_energy, target=TargetSpec("2GW"))
    new = load_scenario(toy_energy, sets=["pue=1.5", "electricity_price=80USD/MWh"], target=TargetSpec("2.5GW"))
    names = ("pue", "energy_twh_per_gw", "grid_energy_price", "target_gw")
    plan = HighsPlan(compile_plan(ref, names))
    plan.set_params(plan.param_vector(ParamSource(plan.a.param_names)(new)))
    got = plan.solve_min_cost()
    assert got.status == "optimal"
    assert got.objective_bnusd == pytest.approx(solve_plan(new).objective_bnusd, rel=1e-9)


def test_worst_violation_measures_a_broken_row(toy_energy):
    ref = load_scenario(toy_energy, target=TargetSpec("2GW"))
    plan = HighsPlan(compile_plan(ref, ("target_gw",)))
    assert plan.solve_min_cost().status == "optimal"
    x = plan.col_values()
    assert plan.worst_violation() < 1e-9                     # HiGHS's answer holds every row and bound
    broken = x.copy()
    broken[int(np.argmax(x))] += 5.0                         # 5 GW more of one column breaks its accounting row
    assert plan.worst_violation(broken) > 1.0



def test_the_lp_each_answer_is_checked_on_is_the_lp_highs_holds(toy_energy):
    """The check's own copy of the LP (model/fastsolve/mirror.py) follows every coefficient and bound pushed:
    after a case's push it has the same entries and bounds as the LP read back from HiGHS, and a reset puts
    the reference back."""
    from model.fastsolve.lp import lp_arrays_of

    ref = load_scenario(toy_energy, target=TargetSpec("2GW"))
    new = load_scenario(toy_energy, sets=["pue=1.5", "electricity_price=80USD/MWh"], target=TargetSpec("2.5GW"))
    plan = HighsPlan(compile_plan(ref, ("pue", "energy_twh_per_gw", "grid_energy_price", "target_gw")))

    def mirrored(plan):
        m = plan.mirror
        held = lp_arrays_of(plan.h)
        order = np.argsort(m.cols, kind="stable")
        start = np.searchsorted(m.cols[order], np.arange(m.num_col + 1))
        return {**held, "a_start": start, "a_index": m.rows[order], "a_value": m.value[order], "a_rowwise": False,
                "row_lower": m.row_lower, "row_upper": m.row_upper, "col_lower": m.col_lower,
                "col_upper": m.col_upper}

    plan.set_params(plan.param_vector(ParamSource(plan.a.param_names)(new)))
    assert plan.mirror.value.tolist() != HighsPlan(plan.a).mirror.value.tolist()     # the push moved entries
    assert lp_difference(mirrored(plan), lp_arrays_of(plan.h)) == ""
    plan.reset()
    assert lp_difference(mirrored(plan), lp_arrays_of(plan.h)) == ""
    assert plan.solve_min_cost().status == "optimal"
    broken = plan.col_values().copy()
    broken[int(np.argmax(broken))] += 5.0
    assert plan.worst_violation(broken) > 1.0


@pytest.fixture
def toy_power(tmp_path: Path) -> Path:
    """toy_energy with opening stock and two power sources: gas (capex, a year's lead time) and a take-or-pay PPA.

    So every power and cost Param has rows, and each reads a different set of inputs.
    """
    t = energy_tables()
    t["opening_stock"] = [{**t["opening_stock"][0], "value": 0.5}]
    t["power_sources"] = [{"power_source": p, "region": "R", "kind": kind, "first_year": 2025, "description": p,
                           "source": "assumption: toy test data", "date": "2026-11-23"}
                          for p, kind in (("gas-r", "gas"), ("ppa-r", "nuclear"))]
    t["power_source_parameters"] = [{"power_source": p, "year": "", **q(name, v, unit)} for p, name, v, unit in (
        ("gas-r", "build_cap", 10, "GW/a"), ("gas-r", "capex", 1, "bnUSD/GW"), ("gas-r", "lifetime", 20, "a"),
        ("gas-r", "energy_price", 90, "USD/MWh"), ("gas-r", "lead_time", 1, "a"),
        ("ppa-r", "fixed_cost", 0.5, "bnUSD/GW/a"), ("ppa-r", "lifetime", 20, "a"),
        ("ppa-r", "energy_price", 0, "USD/MWh"), ("ppa-r", "capacity_credit", 0.9, "dimensionless"))]
    return write_inputs(tmp_path / "inputs", **t)


def assert_same_params(got: dict[str, dict], expected: dict[str, dict]) -> None:
    """Equal Params, in the same order, each with its keys in the same order."""
    assert got == expected
    assert list(got) == list(expected)
    assert {p: list(v) for p, v in got.items()} == {p: list(v) for p, v in expected.items()}


ANNUITIES = ["after_horizon_annuity", "after_horizon_opening_gw", "power_after_horizon_annuity",
             "take_or_pay_after_horizon_annuity"]


@pytest.mark.parametrize("sets, target, worked_out", [
    ((), "2GW", []),
    (("pue=1.5",), "2GW", ["pue", "energy_twh_per_gw"]),
    (("electricity_price=80USD/MWh",), "2GW", ["grid_energy_price"]),
    (("electricity_price=80USD/MWh", "pue=1.3"), "2GW", ["pue", "energy_twh_per_gw", "grid_energy_price"]),
    ((), "2.5GW", ["target_gw", "milestone_gw", "target_eflops", "milestone_eflops"]),   # the targets concern, whole
    (("capex_scale=0.8",), "2GW", ["capex_bnusd_per_gw"]),                  # the offers' capex only
    (("lifetime.buy=4a",), "2GW", ["capital_recovery_factor", "after_horizon_annuity", "after_horizon_opening_gw"]),
    (("discount_rate=12%",), "2GW", ["discount_factor", "capital_recovery_factor", *ANNUITIES, "power_crf"]),
    (("lead_time.gas-r=0a",), "2GW", ["power_after_horizon_annuity", "take_or_pay_after_horizon_annuity",
                                      "power_build_cap_gw", "power_capex_bnusd_per_gw"]),
], ids=["same", "pue", "price", "price+pue", "target", "capex", "lifetime", "discount_rate", "lead_time"])
def test_a_case_s_params_rework_only_the_params_whose_fields_it_moved(toy_power, sets, target, worked_out):
    """KeptParams (model/fastsolve/reads.py) gives exactly model.build.param_values for every case, in the same
    order, and works out again only the Params that read a field the case changed (a PUE case: pue and
    energy_twh_per_gw, not the grid's index or any cost; a target case: no power or cost Param)."""
    from model.fastsolve.reads import KeptParams

    ref = load_scenario(toy_power, target=TargetSpec("2GW"))
    kept = KeptParams(ref)
    case = load_scenario(toy_power, sets=list(sets), target=TargetSpec(target))
    got = kept(case)
    assert_same_params(got, param_values(case))
    assert kept.to_work_out(case) == worked_out
    assert kept.worked_out == len(worked_out)
    if worked_out:
        assert got != param_values(ref)                # the case's own Params, not the reference's


@pytest.mark.parametrize("field, value, worked_out, changed", [
    # read through a cached property (Scenario._opening_by_offer) by one Param only
    ("opening_gw", {("buy", 2024): 1.5}, ["after_horizon_opening_gw"], {"after_horizon_opening_gw"}),
    # read through a method (Scenario.energy_twh_per_gw) by one Param only
    ("hours_per_year", 8784.0, ["energy_twh_per_gw"], {"energy_twh_per_gw"}),
    # read by a helper (take_or_pay_sources): a PPA with a capex is no longer take-or-pay
    ("power_capex_bnusd_per_gw", {("gas-r", 2026): 1.0, ("gas-r", 2027): 1.0, ("ppa-r", 2025): 2.0},
     ["take_or_pay_after_horizon_annuity", "power_capex_bnusd_per_gw"],
     {"take_or_pay_after_horizon_annuity", "power_capex_bnusd_per_gw"}),
], ids=["cached_property", "method", "helper"])
def test_a_param_whose_field_moved_is_never_kept_from_the_reference(toy_power, field, value, worked_out, changed):
    """A Scenario crafted with one field changed: the Params that read it get the case's values (which differ
    from the reference's), every other Param is the reference's, and the whole equals param_values."""
    import dataclasses

    from model.fastsolve.reads import KeptParams

    ref = load_scenario(toy_power, target=TargetSpec("2GW"))
    kept, before = KeptParams(ref), param_values(ref)
    case = dataclasses.replace(ref, **{field: value})
    got = kept(case)
    assert kept.to_work_out(case) == worked_out
    assert {p for p in got if got[p] != before[p]} == changed
    assert_same_params(got, param_values(case))
    assert all(got[p] is kept(ref)[p] for p in got if p not in worked_out)     # the others are kept, not redone


@pytest.fixture
def toy_runner(toy_energy):
    """A prepared sweep over the toy's PUE (only the Params PUE moves are mutable in its compiled plan)."""
    base = read_base_inputs(toy_energy)
    varies = [sweep.parse_vary("pue=1.1:1.3", base.catalogue)]
    cases = [{"pue": 1.1}, {"pue": 1.3}]
    prep = sweep.prepare(base, [], TargetSpec("2GW"), "grid", varies, cases)
    assert prep.fast and "grid_energy_price" not in prep.mutable
    return base, prep


def test_a_case_that_moves_a_param_frozen_in_the_plan_is_rebuilt_and_says_so(toy_runner):
    # the electricity price was not moved by any preparation load, so the compiled plan holds it as plain data;
    # a case whose scenario moves it must not be solved against that stale LP
    base, prep = toy_runner
    s = load_variant(base, ["pue=1.2", "electricity_price=90USD/MWh"], TargetSpec("2GW"))
    out = sweep.CaseRunner(prep.job)._solve(0, s)
    o = solve_plan(s)
    assert out.path == "rebuild" and "grid_energy_price" in out.note
    assert out.figures["total_cost"] == pytest.approx(o.objective_bnusd * 1e9, rel=1e-9)


def test_a_wrongly_patched_lp_is_caught_and_the_case_rebuilt(toy_runner, monkeypatch):
    # a push that forgets what it pushes: HiGHS holds the reference's LP, the answer holds that LP's rows, and
    # only a check against the case's own model can see that the plan is not the case's
    base, prep = toy_runner
    monkeypatch.setattr(HighsPlan, "set_params", lambda self, p: None)
    s = load_variant(base, ["pue=1.3"], TargetSpec("2GW"))
    out = sweep.CaseRunner(prep.job)._solve(0, s)
    o = solve_plan(s)
    assert out.path == "rebuild" and "check against the case's own model" in out.note
    assert out.figures["total_cost"] == pytest.approx(o.objective_bnusd * 1e9, rel=1e-9)
    assert out.figures["facility_power"] == pytest.approx(2.0 * 1.3, rel=1e-6)


def test_a_case_breaking_a_rule_between_values_is_refused_as_run_py_refuses_it(tmp_path):
    t = default_tables()
    folder = write_inputs(tmp_path / "in", deals=[deal("d", "all", 2025, 2027)],
                          deal_terms=[term("d", "minimum", 1, "GW"), term("d", "maximum", 5, "GW")])
    dists = tmp_path / "d.yaml"
    dists.write_text("deal_minimum.d: {distribution: uniform, low: 1, high: 3, unit: GW}\n"
                     "deal_maximum.d: {distribution: uniform, low: 1.5, high: 3.5, unit: GW}\n")
    assert run_sweep("--inputs", str(folder), "--method", "montecarlo", "--distributions", str(dists),
                     "--samples", "40", "--seed", "3", "--results", str(tmp_path / "r"), "--name", "mc") == 0
    got = figures(tmp_path / "r" / "mc")
    cases = pd.read_csv(tmp_path / "r" / "mc" / "cases.csv").pivot(index="case", columns="key", values="value")
    status = pd.read_csv(tmp_path / "r" / "mc" / "status.csv").set_index("case")
    crossed = cases["deal_minimum.d"] > cases["deal_maximum.d"]
    assert crossed.any() and (~crossed).any()
    for case in cases.index:
        sets = [f"deal_minimum.d={float(cases.loc[case, 'deal_minimum.d'])!r} GW",
                f"deal_maximum.d={float(cases.loc[case, 'deal_maximum.d'])!r} GW"]
        if crossed[case]:
            with pytest.raises(InputErrors, match="no larger than the maximum"):
                load_scenario(folder, sets=sets)
            assert got.loc[case, "status"] == "input_error"
            assert "no larger than the maximum" in status.loc[case, "message"]
        else:
            o = solve_plan(load_scenario(folder, sets=sets))
            assert got.loc[case, "status"] == o.status
            assert got.loc[case, "total_cost"] == pytest.approx(o.objective_bnusd * 1e9, rel=1e-9)


def test_load_variant_equals_load_scenario(toy_energy):
    sets = ["pue=1.3", "electricity_price=70USD/MWh", "capex_scale.buy=1.1"]
    base = read_base_inputs(toy_energy)
    assert load_variant(base, sets, TargetSpec("3GW")) == load_scenario(toy_energy, sets=sets,
                                                                         target=TargetSpec("3GW"))


# ----------------------------------------------------------------------------
# Sensitivity analyses on synthetic functions
# ----------------------------------------------------------------------------
def test_sobol_puts_nearly_all_the_index_on_the_only_input_that_matters():
    table = analyse(lambda x: 4.0 * x[:, 1] + 1e-3 * x[:, 0] * x[:, 2], {"a": (0, 1), "b": (0, 1), "c": (0, 1)},
                    256, seed=3).set_index("key")
    assert table.loc["b", "S1"] > 0.98 and table.loc["b", "ST"] > 0.98
    assert table.loc["a", "ST"] < 0.01 and table.loc["c", "ST"] < 0.01
    assert (table["S1_conf"] >= 0).all()


def test_morris_ranks_the_input_that_matters_first():
    bounds = {"a": (0.0, 1.0), "b": (0.0, 1.0)}
    cases = morris_design(bounds, 10, seed=1)
    x = np.array([[c["a"], c["b"]] for c in cases])
    t = morris_table(bounds, x, {"y": 10 * x[:, 0] + 0.1 * x[:, 1]}, {"y": ""}, seed=1).set_index("key")
    assert t.loc["a", "mu_star"] == pytest.approx(10, rel=1e-6) and t.loc["b", "mu_star"] == pytest.approx(0.1)


# ----------------------------------------------------------------------------
# Resume, failures, bad options
# ----------------------------------------------------------------------------
def test_resume_finishes_exactly_the_missing_cases(toy_energy, tmp_path, monkeypatch, capsys):
    args = ["--inputs", str(toy_energy), "--vary", "target=1:3GW", "--vary", "electricity_price=20:80USD/MWh",
            "--method", "grid", "--steps", "3", "--chunk-size", "2", "--results", str(tmp_path / "r")]
    assert run_sweep(*args, "--name", "whole") == 0
    save = sweep.save_chunk
    saved: list[int] = []

    def interrupt_after_two(folder, results):
        save(folder, results)
        saved.extend(r.case for r in results)
        if len(saved) >= 4:
            raise KeyboardInterrupt

    monkeypatch.setattr(sweep, "save_chunk", interrupt_after_two)
    assert run_sweep(*args, "--name", "cut") == 130
    assert not (tmp_path / "r" / "cut").exists() and (tmp_path / "r" / ".cut.partial").is_dir()
    monkeypatch.setattr(sweep, "save_chunk", save)
    ran: list[int] = []
    run_chunk = sweep.run_chunk

    def recording(job, cases):
        ran.extend(i for i, _ in cases)
        return run_chunk(job, cases)

    monkeypatch.setattr(sweep, "run_chunk", recording)
    capsys.readouterr()
    assert sweep.main(["--resume", "cut", "--results", str(tmp_path / "r"), "--no-progress", "--workers", "1"]) == 0
    assert sorted(ran) == sorted(set(range(9)) - set(saved))
    assert f"resuming cut: {9 - len(saved)} of 9 cases left" in capsys.readouterr().err
    assert not (tmp_path / "r" / ".cut.partial").exists()
    assert_same_figures(figures(tmp_path / "r" / "cut"), figures(tmp_path / "r" / "whole"), rel=0)


def test_case_that_fails_is_recorded_and_the_sweep_goes_on(toy_energy, tmp_path):
    dists = tmp_path / "d.yaml"
    dists.write_text("pue: {distribution: normal, mean: 1.05, sd: 0.1}\n"
                     "target: {distribution: uniform, low: 1, high: 2, unit: GW}\n")
    assert run_sweep("--inputs", str(toy_energy), "--method", "montecarlo", "--distributions", str(dists),
                     "--samples", "20", "--seed", "5", "--results", str(tmp_path / "r"), "--name", "mc") == 0
    got = figures(tmp_path / "r" / "mc")
    assert len(got) == 20
    failed = got[got["status"] == "input_error"]
    assert 0 < len(failed) < 20 and set(got["status"]) <= {"optimal", "input_error"}
    assert pd.read_csv(tmp_path / "r" / "mc" / "status.csv").set_index("case").loc[failed.index[0], "message"] \
        .count("pue") >= 1
    manifest = json.loads((tmp_path / "r" / "mc" / "manifest.json").read_text())
    assert manifest["seed"] == 5 and manifest["method"] == "montecarlo"


@pytest.mark.parametrize("vary, words", [
    ("nonsense=1:2", "unknown key 'nonsense'"),
    ("electricity_price=1:2GW", "money per energy"),
    ("pue=1.5:1.1", "above HIGH"),
    ("pue=1.1", "LOW:HIGH"),
    ("pue.Mars=1.1:1.2", "Mars"),
    ("pue=0.5:1.2", "refused by the loader"),
    ("target=1:2TWh", "power"),
])
def test_bad_vary_is_refused_before_any_case_runs(toy, tmp_path, monkeypatch, capsys, vary, words):
    def must_not_run(*a, **k):
        raise AssertionError("a case ran")

    monkeypatch.setattr(sweep, "run_chunk", must_not_run)
    monkeypatch.setattr(sweep, "compile_plan", must_not_run)
    assert run_sweep("--inputs", str(toy), "--vary", vary, "--results", str(tmp_path / "r")) == 2
    err = capsys.readouterr().err
    assert f"--vary {vary}" in err and words in err
    assert not (tmp_path / "r").exists() or not any((tmp_path / "r").iterdir())


def test_bad_distributions_file_names_the_key_and_field(toy, tmp_path, capsys):
    dists = tmp_path / "d.yaml"
    dists.write_text("pue: {distribution: triangular, low: 1.2, mode: 1.1, high: 1.5}\n"
                     "electricity_price: {distribution: gamma, a: 2}\n")
    assert run_sweep("--inputs", str(toy), "--method", "montecarlo", "--distributions", str(dists),
                     "--results", str(tmp_path / "r")) == 2
    err = capsys.readouterr().err
    assert "pue" in err and "mode" in err and "electricity_price" in err and "distribution" in err


# ----------------------------------------------------------------------------
# Result set, parallel runs
# ----------------------------------------------------------------------------
def test_result_set_has_a_case_dimension_and_a_self_contained_report(toy_energy, tmp_path):
    assert sweep.main(["--no-progress", "--inputs", str(toy_energy), "--vary", "target=1:3GW", "--vary", "pue=1.1:1.4",
                       "--method", "oat", "--results", str(tmp_path / "r"), "--name", "t"]) == 0
    out = tmp_path / "r" / "t"
    for f in ("cases.csv", "summary.csv", "status.csv", "solution.nc", "oat.csv", "report.html", "manifest.json",
              "plots/tornado.png"):
        assert (out / f).exists(), f
    with xr.open_dataset(out / "solution.nc") as ds:
        assert ds["in_service_gw"].dims == ("case", "offer", "year") and ds.sizes["case"] == 5
        assert ds["total_cost"].attrs["units"] == "USD"
    cases = pd.read_csv(out / "cases.csv")
    assert set(cases["unit"]) == {"GW", "dimensionless"} and set(cases["origin"]) == {"swept", "base data"}
    page = (out / "report.html").read_text()
    assert "data:image/png;base64," in page and "src='http" not in page and 'src="http' not in page
    oat = pd.read_csv(out / "oat.csv")
    assert set(oat["key"]) == {"target", "pue"} and {"at_low", "at_high", "swing"} <= set(oat.columns)
    manifest = json.loads((out / "manifest.json").read_text())
    assert {"command_line", "keys", "seed", "method", "inputs_sha256", "versions"} <= set(manifest)


def test_local_processes_give_the_serial_results(toy_energy, tmp_path):
    args = ["--inputs", str(toy_energy), "--vary", "target=1:4GW", "--vary", "pue=1.1:1.6", "--method", "grid",
            "--steps", "4", "--chunk-size", "3", "--results", str(tmp_path / "r")]
    assert run_sweep(*args, "--workers", "1", "--name", "one") == 0
    assert run_sweep(*args, "--workers", "2", "--name", "two") == 0
    assert_same_figures(figures(tmp_path / "r" / "two"), figures(tmp_path / "r" / "one"), rel=0)


def test_dask_cluster_gives_the_serial_results_case_for_case(toy_energy, tmp_path):
    distributed = pytest.importorskip("distributed")
    import dask

    # generous connect timeouts: on a loaded machine the workers' start-up and handshakes take seconds
    stack = dask.config.set({"distributed.comm.timeouts.connect": "120s", "distributed.comm.timeouts.tcp": "120s"})
    args = ["--inputs", str(toy_energy), "--vary", "target=1:4GW", "--vary", "electricity_price=20:90USD/MWh",
            "--method", "grid", "--steps", "3", "--chunk-size", "2", "--results", str(tmp_path / "r")]
    assert run_sweep(*args, "--name", "serial") == 0
    with stack, distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                         timeout="120s") as cl:
        assert run_sweep(*args, "--scheduler", cl.scheduler_address, "--name", "dask") == 0
    assert_same_figures(figures(tmp_path / "r" / "dask"), figures(tmp_path / "r" / "serial"), rel=0)
    with xr.open_dataset(tmp_path / "r" / "dask" / "solution.nc") as a, \
            xr.open_dataset(tmp_path / "r" / "serial" / "solution.nc") as b:
        np.testing.assert_array_equal(a["in_service_gw"].values, b["in_service_gw"].values)


# ----------------------------------------------------------------------------
# Silent behaviour and labels
# ----------------------------------------------------------------------------
def test_a_sweep_where_no_case_solves_exits_4_and_says_so(toy_energy, tmp_path, monkeypatch, capsys):
    def crash(self, case, s):
        raise RuntimeError("a bug in our own solve code")

    monkeypatch.setattr(sweep.CaseRunner, "_solve", crash)
    code = run_sweep("--inputs", str(toy_energy), "--vary", "pue=1.1:1.3", "--steps", "2", "--results",
                     str(tmp_path / "r"), "--name", "dead")
    err = capsys.readouterr().err
    assert code == 4 and "no case was solved: error 2" in err and "a bug in our own solve code" in err
    status = pd.read_csv(tmp_path / "r" / "dead" / "status.csv")
    assert set(status["status"]) == {"error"}


def test_a_sweep_where_some_case_solves_exits_0(toy_energy, tmp_path, monkeypatch):
    real = sweep.CaseRunner._solve

    def crash_first(self, case, s):
        if case == 0:
            raise RuntimeError("a bug in our own solve code")
        return real(self, case, s)

    monkeypatch.setattr(sweep.CaseRunner, "_solve", crash_first)
    assert run_sweep("--inputs", str(toy_energy), "--vary", "pue=1.1:1.3", "--steps", "2", "--results",
                     str(tmp_path / "r"), "--name", "half") == 0


def test_distribution_values_may_carry_units_and_are_converted(toy):
    from model.inputs import load_catalogue

    catalogue = load_catalogue(toy / "parameters.yaml")
    dists = toy / "d.yaml"
    dists.write_text("electricity_price: {distribution: triangular, low: 0.05 USD/kWh, mode: 80 USD/MWh, "
                     "high: 120, unit: USD/MWh}\n"
                     "supply_growth: {distribution: uniform, low: 20%, high: 40%}\n"
                     "target: {distribution: lognormal, median: 2000 MW, sigma: 0.1}\n")
    got = {v.key: v for v in sweep.parse_distributions(dists, catalogue)}
    assert got["electricity_price"].distribution.params == pytest.approx({"low": 50, "mode": 80, "high": 120})
    assert got["electricity_price"].unit == "USD/MWh"
    assert got["supply_growth"].distribution.params == pytest.approx({"low": 20, "high": 40})
    assert got["supply_growth"].to_canonical == pytest.approx(0.01)
    assert got["target"].distribution.params == pytest.approx({"median": 2000, "sigma": 0.1})
    assert got["target"].to_canonical == pytest.approx(1e-3)              # MW -> GW


@pytest.mark.parametrize("entry, field, found", [
    ("{distribution: normal, mean: 60 GW, sd: 5}", "mean", "'60 GW' (power)"),
    ("{distribution: normal, mean: 60, sd: 5, unit: GW}", "unit", "'GW' (power)"),
    ("{distribution: normal, mean: 60 USD/MWh, sd: 5 GW}", "sd", "'5 GW' (power)"),
])
def test_a_distribution_value_of_the_wrong_dimension_gets_a_clean_message(toy, entry, field, found):
    from model.inputs import load_catalogue

    dists = toy / "d.yaml"
    dists.write_text(f"electricity_price: {entry}\n")
    with pytest.raises(InputErrors) as exc:
        sweep.parse_distributions(dists, load_catalogue(toy / "parameters.yaml"))
    (problem,) = exc.value.errors
    assert problem.field == field and problem.found == found
    assert "money per energy" in problem.expected and "expected" not in problem.found


def test_lp_differences_print_plain_numbers():
    a = {"num_row": 1, "num_col": 1, "sense": 1, "offset": 0.0, "col_cost": np.array([1.0]),
         "col_lower": np.array([0.0]), "col_upper": np.array([np.inf]), "row_lower": np.array([1.0]),
         "row_upper": np.array([np.inf]), "a_start": np.array([0, 1]), "a_index": np.array([0]),
         "a_value": np.array([1.0])}
    b = {**a, "row_lower": np.array([1.25])}
    text = lp_difference(a, b)
    assert text == "row_lower[0]: 1 vs 1.25 (model units)" and "np." not in text


def test_sobol_with_samples_not_a_power_of_two_says_so_in_a_sentence(toy_energy, tmp_path, capsys):
    pytest.importorskip("SALib")
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert run_sweep("--inputs", str(toy_energy), "--vary", "pue=1.1:1.3", "--method", "sobol", "--samples",
                         "3", "--results", str(tmp_path / "r"), "--name", "s") == 0
    assert not [w for w in caught if "power of 2" in str(w.message)]
    assert "--samples 3 is not a power of 2" in capsys.readouterr().err


def test_morris_with_an_odd_number_of_levels_says_so_in_a_sentence(toy_energy, tmp_path, capsys):
    pytest.importorskip("SALib")
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert run_sweep("--inputs", str(toy_energy), "--vary", "pue=1.1:1.3", "--method", "morris", "--samples",
                         "2", "--levels", "3", "--results", str(tmp_path / "r"), "--name", "m") == 0
    assert not [w for w in caught if "num_levels" in str(w.message)]
    assert "--levels 3 is odd" in capsys.readouterr().err


def test_resume_refuses_a_name_with_a_path_before_reading_anything(tmp_path, capsys, monkeypatch):
    # '--resume /../secret' would read results/./../secret.partial/sweep.json (the folder is '.NAME.partial')
    (tmp_path / "r").mkdir()
    (tmp_path / "secret.partial").mkdir()
    (tmp_path / "secret.partial" / "sweep.json").write_text("not a sweep's state")
    real_read = Path.read_text

    def no_state_files(self, *a, **k):
        if self.name == "sweep.json":
            pytest.fail(f"{self} was read")
        return real_read(self, *a, **k)

    monkeypatch.setattr(Path, "read_text", no_state_files)
    monkeypatch.setattr(sweep, "load_chunks", lambda folder: pytest.fail("a file was read"))
    for name in ("/../secret", "../secret", "a/b", ".hidden", ".."):
        assert sweep.main(["--resume", name, "--results", str(tmp_path / "r")]) == 2
        assert "--resume" in capsys.readouterr().err


def test_every_load_of_a_sweep_reports_a_bad_row_again(tmp_path):
    # the loader reuses the check of a table it has seen (a sweep loads every case): the problems come back too
    rows = default_tables()["offer_parameters"]
    rows[0] = {**rows[0], "value": -1}                          # a negative capex in a table no --set touches
    base = read_base_inputs(write_inputs(tmp_path / "in", offer_parameters=rows))
    for pue in ("1.1", "1.2", "1.2"):
        with pytest.raises(InputErrors) as exc:
            load_variant(base, [f"pue={pue}"], TargetSpec("2GW"))
        assert [(e.file.rsplit("/", 1)[-1], e.row, e.field) for e in exc.value.errors] == \
            [("offer_parameters.csv", 2, "value")]


def test_loads_sharing_a_checked_table_give_equal_scenarios(toy_energy):
    base = read_base_inputs(toy_energy)
    first = load_variant(base, ["pue=1.3"], TargetSpec("2GW"))
    load_variant(base, ["pue=1.5", "electricity_price=70USD/MWh"], TargetSpec("3GW"))
    assert load_variant(base, ["pue=1.3"], TargetSpec("2GW")) == first == load_scenario(toy_energy, sets=["pue=1.3"],
                                                                                        target=TargetSpec("2GW"))
