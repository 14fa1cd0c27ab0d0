"""Sweeps: the fast path equals separate runs, resume finishes exactly what is missing, bad options are refused."""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import model.sweep as sweep
from model.cli import main as run_py
from model.fastsolve import HighsPlan, ParamSource, check_plan_matches, compile_plan, scenario_difference
from model.scenario import TargetSpec, load_scenario, load_variant, read_base_inputs
from model.sensitivity import analyse, morris_design, morris_table
from model.solve import solve_plan
from toy import default_tables, q, write_inputs

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


@pytest.fixture
def toy_energy(tmp_path: Path) -> Path:
    """Toy with energy costs and a grid that binds: PUE, prices and the target all move the answer."""
    t = default_tables()
    t["region_parameters"] = [
        {"region": "R", "year": "", **q("grid_power", 4, "GW")},
        {"region": "R", "year": "", **q("pue", 1.2, "dimensionless")},
        {"region": "R", "year": "", **q("electricity_price", 50, "USD/MWh")},
    ]
    t["offer_parameters"].append({"offer": "buy", "year": "", **q("build_cap", 1, "GW/a")})
    return write_inputs(tmp_path / "inputs", **t)


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
    texts = ("electricity_price=60:120USD/MWh", "pue=1.1:1.3", "supply_growth.nvidia=20:40%",
             "target=200:2000GW", "deal_minimum.amd_instinct=3:6GW")
    varies = [sweep.parse_vary(t, base.catalogue) for t in texts]
    cases = [{"electricity_price": 60.0, "pue": 1.1, "supply_growth.nvidia": 20.0, "target": 200.0,
              "deal_minimum.amd_instinct": 3.0},
             {"electricity_price": 95.0, "pue": 1.27, "supply_growth.nvidia": 33.0, "target": 240.0,
              "deal_minimum.amd_instinct": 5.5},
             {"electricity_price": 120.0, "pue": 1.3, "supply_growth.nvidia": 40.0, "target": 2000.0,
              "deal_minimum.amd_instinct": 6.0}]
    # without the default debt limit, so that the smaller targets are met (with it the base reaches ~86 GW)
    prep = sweep.prepare(base, ["debt_limit=none"], TargetSpec("250GW"), "grid", varies, cases)
    return base, prep, cases


def test_patched_case_scenarios_equal_the_loaders(base_sweep):
    base, prep, cases = base_sweep
    assert prep.fast and not prep.notes
    assert set(prep.patched_keys) == {"electricity_price", "pue", "supply_growth.nvidia", "target",
                                      "deal_minimum.amd_instinct"}
    deriver = prep.job.deriver
    for case in cases + [{**cases[1], "supply_growth.nvidia": 27.3, "pue": 1.13}]:
        patched, how = deriver.derive(case)
        assert how == "patched"
        assert scenario_difference(patched, deriver.exact(case)) == ""


def test_resolve_after_param_change_equals_fresh_build(base_sweep):
    base, prep, cases = base_sweep
    runner = sweep.CaseRunner(prep.job)
    results = runner.run_chunk(list(enumerate(cases)))
    assert {r.status for r in results} >= {"optimal", "target_missed"}
    for r, case in zip(results, cases):
        o = solve_plan(prep.job.deriver.exact(case))
        assert r.status == o.status
        assert r.figures["total_cost"] == pytest.approx(o.objective_bnusd * 1e9, rel=1e-6)
        if o.max_reachable is not None:
            assert r.figures["max_reachable"] == pytest.approx(o.max_reachable, rel=1e-6)


def test_pushed_params_give_the_lp_of_a_fresh_build(base_sweep):
    base, prep, cases = base_sweep
    scenarios = [prep.job.deriver.exact(c) for c in cases[1:]]
    assert check_plan_matches(prep.job.plan, scenarios) == ""


def test_compiled_plan_resolves_a_toy_exactly(toy_energy):
    ref = load_scenario(toy_energy, target=TargetSpec("2GW"))
    new = load_scenario(toy_energy, sets=["pue=1.5", "electricity_price=80USD/MWh"], target=TargetSpec("2.5GW"))
    names = ("pue", "energy_twh_per_gw", "grid_energy_price", "target_gw")
    plan = HighsPlan(compile_plan(ref, names))
    plan.set_params(plan.param_vector(ParamSource(plan.a.param_names)(new)))
    got = plan.solve_min_cost()
    assert got.status == "optimal"
    assert got.objective_bnusd == pytest.approx(solve_plan(new).objective_bnusd, rel=1e-9)


def test_fast_path_refuses_a_solution_that_breaks_a_constraint(toy_energy, monkeypatch):
    ref = load_scenario(toy_energy, target=TargetSpec("2GW"))
    plan = HighsPlan(compile_plan(ref, ("target_gw",)))
    assert plan.solve_min_cost().status == "optimal"
    x = plan.col_values()
    assert plan.worst_violation() < 1e-9                     # HiGHS's answer holds every row and bound
    broken = x.copy()
    broken[int(np.argmax(x))] += 5.0                         # 5 GW more of one column breaks its accounting row
    assert plan.worst_violation(broken) > 1.0
    monkeypatch.setattr(HighsPlan, "worst_violation", lambda self, x=None: 0.5)
    assert plan.solve_min_cost().status == "solver_error"    # and such a plan is refused, not reported
    assert "breaks a constraint" in plan.check_message


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
def test_resume_finishes_exactly_the_missing_cases(toy_energy, tmp_path, monkeypatch):
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
    assert sweep.main(["--resume", "cut", "--results", str(tmp_path / "r"), "--no-progress", "--workers", "1"]) == 0
    assert sorted(ran) == sorted(set(range(9)) - set(saved))
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
    args = ["--inputs", str(toy_energy), "--vary", "target=1:4GW", "--vary", "electricity_price=20:90USD/MWh",
            "--method", "grid", "--steps", "3", "--chunk-size", "2", "--results", str(tmp_path / "r")]
    assert run_sweep(*args, "--name", "serial") == 0
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cl:
        assert run_sweep(*args, "--scheduler", cl.scheduler_address, "--name", "dask") == 0
    assert_same_figures(figures(tmp_path / "r" / "dask"), figures(tmp_path / "r" / "serial"), rel=0)
    with xr.open_dataset(tmp_path / "r" / "dask" / "solution.nc") as a, \
            xr.open_dataset(tmp_path / "r" / "serial" / "solution.nc") as b:
        np.testing.assert_array_equal(a["in_service_gw"].values, b["in_service_gw"].values)
