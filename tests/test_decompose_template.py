"""The decomposition's futures built from one compiled template per structure (model/decompose_template.py)."""
from __future__ import annotations

import functools

import numpy as np
import pytest
import yaml

import model.decompose_template as dt
from model.build import param_values
from model.decompose import decompose
from model.fastsolve import fresh_lp, lp_difference
from model.futures_sampling import sample_futures
from model.scenario import TargetSpec
from toy import write_inputs


def toy_futures(tmp_path, n: int = 8):
    """``n`` sampled toy futures whose capex and supply differ (numbers only: one structure)."""
    folder = write_inputs(tmp_path / "in")
    path = folder / "sampled.yaml"
    path.write_text(yaml.safe_dump({"first_stage_last_year": 2026, "penalty": "100e9 USD/GW", "distributions": {
        "capex_scale.buy": {"distribution": "uniform", "low": 0.5, "high": 1.5},
        "supply_scale.acme": {"distribution": "uniform", "low": 0.3, "high": 1.2}}}, sort_keys=False))
    return sample_futures(path, n, 2, folder, target=TargetSpec("2GW"))


def fresh(s, penalty):
    return fresh_lp(s, build=functools.partial(dt.future_model, penalty=penalty))


def test_every_futures_lp_from_the_template_equals_its_own_pyomo_build(tmp_path):
    spec = toy_futures(tmp_path)
    values = [param_values(f.scenario) for f in spec.futures]
    names = sorted(dt.varying_params(values))
    assert "supply_cap_gw" in names
    template = dt.compile_template(spec.futures[0].scenario, names, spec.penalty_bnusd)
    for f, vals in zip(spec.futures, values):
        mine = template.arrays(template.param_vector(vals))
        assert lp_difference(mine, fresh(f.scenario, spec.penalty_bnusd)) == ""
    # and the check sees a difference: another future's Params give another LP
    other = template.arrays(template.param_vector(values[1]))
    assert lp_difference(other, fresh(spec.futures[2].scenario, spec.penalty_bnusd)) != ""


def test_real_futures_of_several_structures_each_get_their_own_template_and_match_a_fresh_build():
    """Sampled futures of the shipped inputs: the grid lead time changes which power build years exist."""
    from bench.stochastic import futures

    spec = futures(10)
    scen = [f.scenario for f in spec.futures]
    values = [param_values(s) for s in scen]
    names = sorted(dt.varying_params(values))
    keys = [dt.structure_key(v, names) for v in values]
    assert len(set(keys)) >= 2                       # more than one model shape among the futures
    made, notes = dt.future_lps(scen, spec.penalty_bnusd)
    got = dict(made)
    assert notes == [] and sorted(got) == list(range(10))
    templated = [i for i, flp in got.items() if flp.path == dt.TEMPLATE]
    assert templated                                 # at least one group big enough for a template
    for i in templated[-3:]:                         # the LP HiGHS is given equals the fresh build's
        assert lp_difference(arrays_of(got[i].lp), fresh(scen[i], spec.penalty_bnusd)) == ""


def arrays_of(lp):
    """A HighsLp as arrays, read back from a HiGHS instance holding it."""
    import highspy

    from model.fastsolve import lp_arrays_of

    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.passModel(lp)
    return lp_arrays_of(h)


def test_decomposition_with_templates_gives_the_answer_of_a_pyomo_build_per_future(tmp_path):
    spec = toy_futures(tmp_path)
    fast = decompose(spec, iterations=200, gap=1e-7)
    slow = decompose(spec, iterations=200, gap=1e-7, use_templates=False)
    assert fast.build_paths == {"template": 8} and slow.build_paths == {"pyomo": 8}
    assert fast.status == slow.status == "converged"
    assert fast.expected_cost_bnusd == pytest.approx(slow.expected_cost_bnusd, rel=2e-7)
    assert sum(fast.first_stage.values()) == pytest.approx(sum(slow.first_stage.values()), abs=1e-5)
    assert fast.cost_by_future == pytest.approx(slow.cost_by_future, rel=1e-5)


def test_a_template_whose_lp_differs_from_the_fresh_build_is_not_used(tmp_path, monkeypatch):
    """A wrongly compiled template (one cost off) is caught on the probe and its futures built by Pyomo."""
    spec = toy_futures(tmp_path, 6)
    real = dt.Template.arrays

    def one_cost_off(self, p):
        out = real(self, p)
        out["col_cost"] = out["col_cost"].copy()
        out["col_cost"][int(np.flatnonzero(out["col_cost"])[0])] *= 1.001
        return out

    monkeypatch.setattr(dt.Template, "arrays", one_cost_off)
    r = decompose(spec, iterations=200)
    assert r.build_paths == {"pyomo": 6} and r.status == "converged"
    assert len(r.build_notes) == 1 and "col_cost" in r.build_notes[0] and "built by Pyomo" in r.build_notes[0]
