"""The decomposition's master (model/decompose_master.py) and the decomposition where the first stage matters."""
from __future__ import annotations

import numpy as np
import pytest
import yaml

from model.decompose import decompose, first_stage_box
from model.decompose_master import Master
from model.futures_sampling import sample_futures
from model.scenario import TargetSpec
from model.stochastic import extensive_form
from toy import write_inputs


def v_master() -> Master:
    """One future, one first-stage GW in [0, 10]: theta >= x and theta >= 4 - x (min 2 at x = 2)."""
    m = Master(np.array([1.0]), np.array([-100.0]), np.array([0.0]), np.array([10.0]))
    m.add_cut(0, 0.0, np.array([1.0]), np.array([0]), np.array([0.0]))        # theta >= 0 + 1 (x - 0)
    m.add_cut(0, 4.0, np.array([-1.0]), np.array([0]), np.array([0.0]))       # theta >= 4 - 1 (x - 0)
    return m


def test_master_bound_is_the_minimum_of_the_cut_model():
    b = v_master().bound()
    assert b.ok and b.value == pytest.approx(2.0) and b.x[0] == pytest.approx(2.0)


def test_projection_is_the_nearest_point_at_the_level_and_an_unreachable_level_says_infeasible():
    m = v_master()
    p = m.project(np.array([10.0]), 3.0)            # {x : max(x, 4 - x) <= 3} = [1, 3]; nearest 10 is 3
    assert p.ok and p.x[0] == pytest.approx(3.0) and p.value <= 3.0 + 1e-9
    low = m.project(np.array([10.0]), 1.0)          # below the model's minimum (2): no point reaches it
    assert not low.ok and low.status == "Infeasible"


def test_a_cut_idle_for_age_iterations_is_dropped_from_both_lps_and_the_bound_and_projection_stay():
    m = v_master()
    m.add_cut(0, -50.0, np.array([0.0]), np.array([0]), np.array([0.0]))     # theta >= -50: never binds
    assert m.lp.getNumRow() == 3 and m.near.getNumRow() == 1 + 2 + 3
    for _ in range(2):                                   # two iterations: the V's cuts bind, the flat one not
        assert m.bound().value == pytest.approx(2.0)
        assert m.project(np.array([10.0]), 3.0).x[0] == pytest.approx(3.0)
        assert m.prune(age=2) == 0                       # idle 1, then 2: not yet over the age
    m.bound()
    m.project(np.array([10.0]), 3.0)
    assert m.prune(age=2) == 1 and m.dropped == 1        # idle 3 > 2: dropped
    assert m.lp.getNumRow() == 2 and m.near.getNumRow() == 1 + 2 + 2
    b = m.bound()
    assert b.ok and b.value == pytest.approx(2.0) and b.x[0] == pytest.approx(2.0)
    p = m.project(np.array([10.0]), 3.0)
    assert p.ok and p.x[0] == pytest.approx(3.0)
    assert not m.project(np.array([10.0]), 1.0).ok       # the V still says no point reaches 1
    assert m.prune(age=2) == 0                           # the V's cuts are in use: kept


def test_a_negligible_cut_coefficient_is_dropped_without_cutting_off_the_optimum():
    m = Master(np.array([1.0]), np.array([0.0]), np.array([0.0, 0.0]), np.array([10.0, 10.0]))
    # theta >= 5 - 1e3 * x0 + 1e-10 * x1 (scaled by 1e3: the x1 coefficient falls to 1e-13 and is dropped)
    m.add_cut(0, 5.0, np.array([-1e3, 1e-10]), np.array([0, 1]), np.array([0.0, 0.0]))
    b = m.bound()
    # the true minimum over the box is 0 (theta >= ws = 0); the dropped term may only lower the cut
    assert b.ok and b.value == pytest.approx(0.0, abs=1e-9)
    assert m.coef_min >= 1e-9 and m.coef_max == pytest.approx(1.0)


def test_first_stage_box_is_where_every_future_that_has_a_key_allows_it():
    keys = [("build", "a", 2026), ("build", "b", 2026), ("power", "g", 2026), ("build", "c", 2026)]
    where = {"x": ("x", np.array([0, 1, 3]), np.array([0.0, 1.0, 0.0]), np.array([2.0, 1.0, 1.0])),   # b fixed: 1
             "y": ("y", np.array([1, 2, 3]), np.array([0.5, 0.0, 2.0]), np.array([3.0, np.inf, 3.0]))}
    lo, hi = first_stage_box(keys, where)
    # a: only x has it; b: [1, 1] and [0.5, 3] meet at 1; g: unbounded -> 1e3; c: [0, 1] and [2, 3] do not
    # meet, so slack is unavoidable and the union [0, 3] is kept
    assert lo.tolist() == [0.0, 1.0, 0.0, 0.0] and hi.tolist() == [2.0, 1.0, 1e3, 3.0]


def test_decomposition_agrees_with_the_extensive_form_where_the_first_stage_matters(tmp_path):
    """Eight sampled toy futures whose supply in 2026-2027 and capex differ, a dear miss: what is built by
    2026 must hedge the futures with little supply in 2027."""
    folder = write_inputs(tmp_path / "in")
    path = folder / "sampled.yaml"
    path.write_text(yaml.safe_dump({"first_stage_last_year": 2026, "penalty": "100e9 USD/GW", "distributions": {
        "capex_scale.buy": {"distribution": "uniform", "low": 0.5, "high": 1.5},
        "supply_scale.acme": {"distribution": "uniform", "low": 0.3, "high": 1.2}}}, sort_keys=False))
    spec = sample_futures(path, 8, 2, folder, target=TargetSpec("2GW"))
    ef = extensive_form(spec)
    r = decompose(spec, processes=1, iterations=60)
    assert r.status == "converged" and r.gap <= 1e-4
    assert r.lower_bound_bnusd <= ef.expected_cost_bnusd + 1e-6
    assert r.expected_cost_bnusd == pytest.approx(ef.expected_cost_bnusd, rel=2e-4)
    assert {"master_s", "subproblems_s"} <= r.timings.keys()


def test_decomposition_on_dask_workers_gives_the_answer_of_local_processes(tmp_path):
    pytest.importorskip("distributed")
    from distributed import Client, LocalCluster

    from model.decompose import union_key_list
    from model.decompose_dask import DaskPool
    from model.stochastic import load_futures
    from test_stochastic_scale import differing_structure

    spec = load_futures(differing_structure(tmp_path, tension=True), tmp_path / "in", target=TargetSpec("2GW"))
    local = decompose(spec, processes=2)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        pool = DaskPool(spec, union_key_list(spec), client)
        assert pool.processes == 2
        on_dask = decompose(spec, pool=pool)
    assert on_dask.status == local.status == "converged"
    assert on_dask.iterations == local.iterations
    assert on_dask.expected_cost_bnusd == pytest.approx(local.expected_cost_bnusd, rel=1e-12)
    assert on_dask.first_stage == pytest.approx(local.first_stage, abs=1e-9)


def test_scheduler_without_the_decomposition_is_refused_and_nothing_written(tmp_path, capsys):
    import model.stochastic_cli as st_cli

    folder = write_inputs(tmp_path / "in")
    path = folder / "f.yaml"
    path.write_text(yaml.safe_dump({"first_stage_last_year": 2026, "penalty": "10e9 USD/GW",
                                    "futures": [{"name": "a", "probability": 1.0}]}))
    code = st_cli.main(["--inputs", str(folder), "--futures", str(path), "--target", "2GW", "--scheduler",
                        "tcp://127.0.0.1:1", "--results", str(tmp_path / "r")])
    assert code == 2 and "--scheduler: only with --method decompose" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_an_interrupted_decomposition_resumes_from_its_saved_iterations(tmp_path):
    from model.decompose import union_key_list
    from model.decompose_checkpoint import Checkpoint, CheckpointMismatch
    from model.stochastic import load_futures
    from test_stochastic_scale import differing_structure

    spec = load_futures(differing_structure(tmp_path, tension=True), tmp_path / "in", target=TargetSpec("2GW"))
    names, keys = [f.name for f in spec.futures], union_key_list(spec)
    whole = decompose(spec)
    assert whole.iterations >= 2
    folder = tmp_path / ".d.partial"
    cut_short = decompose(spec, iterations=1, checkpoint=Checkpoint(folder, names, keys))     # "interrupted"
    assert cut_short.status == "iteration_limit" and len(list(folder.glob("it-*.npz"))) == 1
    resumed = decompose(spec, checkpoint=Checkpoint(folder, names, keys))
    assert resumed.status == "converged" and resumed.iterations == whole.iterations
    assert resumed.expected_cost_bnusd == pytest.approx(whole.expected_cost_bnusd, rel=1e-9)
    assert len(list(folder.glob("it-*.npz"))) == whole.iterations
    with pytest.raises(CheckpointMismatch, match="other futures"):
        Checkpoint(folder, names[::-1], keys)


def test_stochastic_cli_resumes_an_interrupted_decomposition_and_refuses_to_overwrite_it(tmp_path, capsys):
    import json

    import model.stochastic_cli as st_cli
    from model.decompose import union_key_list
    from model.decompose_checkpoint import Checkpoint, partial_dir
    from model.stochastic import load_futures
    from test_stochastic_scale import differing_structure

    path = differing_structure(tmp_path, tension=True)
    spec = load_futures(path, tmp_path / "in", target=TargetSpec("2GW"))
    whole = decompose(spec)
    folder = partial_dir(tmp_path / "r", "d")
    decompose(spec, iterations=1, checkpoint=Checkpoint(folder, [f.name for f in spec.futures], union_key_list(spec)))
    args = ["--inputs", str(tmp_path / "in"), "--futures", str(path), "--target", "2GW", "--method", "decompose",
            "--results", str(tmp_path / "r"), "--name", "d"]
    assert st_cli.main(args) == 2 and "add --resume" in capsys.readouterr().err
    assert st_cli.main(args + ["--resume"]) == 0, capsys.readouterr().err
    summ = json.loads((tmp_path / "r" / "d" / "summary.json").read_text())
    assert summ["iterations"] == whole.iterations and not folder.exists()
    assert summ["expected_cost"]["value"] == pytest.approx(whole.expected_cost_bnusd * 1e9, rel=1e-9)
