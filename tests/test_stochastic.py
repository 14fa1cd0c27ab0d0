"""Two-stage stochastic planning and near-optimal alternatives on hand-solvable toys."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from model.alternatives import generate_alternatives
from model.errors import InputErrors
from model.scenario import TargetSpec, load_scenario
from model.solve import solve_plan
from model.ph import progressive_hedging
from model.stochastic import extensive_form, load_futures, plan_under_uncertainty
from toy import SRC, default_tables, q, write_inputs

# Toy: years 2025-2027, target 2 GW in 2027, 0 % discount. buy: 2 bnUSD/GW/a in service (a fixed cost, so
# nothing is owed after the horizon; its price is next to nothing), rent: 3 bnUSD/GW/a over a 5 a term.
# Future "late" (supply stops in 2027) forces building in 2026 (first stage) or missing the target.
YEARLY_BUY = [{"offer": "buy", "year": "", **q("capex", 1e-6, "USD/GW")},
              {"offer": "buy", "year": "", **q("fixed_cost", 2e9, "USD/GW/a")},
              {"offer": "buy", "year": "", **q("lifetime", 5, "a")},
              {"offer": "rent", "year": "", **q("lease_price", 3e9, "USD/GW/a")},
              {"offer": "rent", "year": "", **q("lifetime", 5, "a")}]


def toy_with_two_futures(tmp_path: Path, penalty: str, p_late: float = 0.5) -> Path:
    folder = write_inputs(tmp_path / "in", offer_parameters=YEARLY_BUY)
    doc = {
        "first_stage_last_year": 2026,
        "penalty": penalty,
        "futures": [
            {"name": "on time", "probability": 1.0 - p_late},
            {"name": "late", "probability": p_late, "source": "assumption: toy",
             "add": [{"file": "vendor_supply.csv", "rows": [
                 {"vendor": "acme", "year": 2026, "parameter": "supply_cap", "value": 100, "unit": "GW/a", **SRC},
                 {"vendor": "acme", "year": 2027, "parameter": "supply_cap", "value": 0, "unit": "GW/a", **SRC}]}]},
        ],
    }
    path = folder / "futures.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def first_stage_gw(result) -> float:
    return sum(result.first_stage_build.values())


def test_with_one_future_the_stochastic_plan_is_the_deterministic_one(tmp_path):
    folder = write_inputs(tmp_path / "in")
    path = folder / "one.yaml"
    path.write_text(yaml.safe_dump({"first_stage_last_year": 2026, "penalty": "1e12 USD/GW",
                                    "futures": [{"name": "only", "probability": 1.0}]}))
    spec = load_futures(path, folder, target=TargetSpec("2GW"))
    rp = extensive_form(spec)
    det = solve_plan(load_scenario(folder, target=TargetSpec("2GW")))
    assert rp.expected_cost_bnusd == pytest.approx(det.objective_bnusd, rel=1e-9)
    assert rp.shortfall_by_future["only"] == pytest.approx(0.0, abs=1e-9)


def test_high_penalty_hedges_by_building_in_the_first_stage(tmp_path):
    # x GW built in 2026 costs 4 x; the rest: on time 2 per GW, late 10 per GW missed.
    # E = 4x + 0.5*2(2-x) + 0.5*10(2-x) = 12 - 2x  ->  x = 2, E = 8.
    spec = load_futures(toy_with_two_futures(tmp_path, "10e9 USD/GW"), tmp_path / "in", target=TargetSpec("2GW"))
    rep = plan_under_uncertainty(spec)
    assert first_stage_gw(rep.rp) == pytest.approx(2.0)
    assert rep.rp.expected_cost_bnusd == pytest.approx(8.0)
    # expected-value plan (for "on time", the first listed of equal probability): x = 0 -> EEV = 0.5*4 + 0.5*20
    assert rep.eev_bnusd == pytest.approx(12.0)
    assert rep.vss_bnusd == pytest.approx(4.0)
    # wait and see: on time 4, late 8 (build in 2026) -> 6; EVPI = 8 - 6
    assert rep.ws_bnusd == pytest.approx(6.0) and rep.evpi_bnusd == pytest.approx(2.0)
    assert rep.miss_probability == pytest.approx(0.0)


def test_low_penalty_accepts_the_risk_of_missing(tmp_path):
    # penalty 2: E = 4x + 0.5*2(2-x) + 0.5*2(2-x) = 4 + 2x -> x = 0, the late future misses 2 GW
    spec = load_futures(toy_with_two_futures(tmp_path, "2e9 USD/GW"), tmp_path / "in", target=TargetSpec("2GW"))
    rep = plan_under_uncertainty(spec)
    assert first_stage_gw(rep.rp) == pytest.approx(0.0)
    assert rep.miss_probability == pytest.approx(0.5)
    assert rep.rp.shortfall_by_future["late"] == pytest.approx(2.0)
    assert rep.vss_bnusd >= -1e-9 and rep.evpi_bnusd >= -1e-9


@pytest.mark.parametrize("penalty, p_late", [("3e9 USD/GW", 0.2), ("10e9 USD/GW", 0.8), ("5e9 USD/GW", 0.5)])
def test_vss_and_evpi_are_never_negative(tmp_path, penalty, p_late):
    spec = load_futures(toy_with_two_futures(tmp_path, penalty, p_late), tmp_path / "in", target=TargetSpec("2GW"))
    rep = plan_under_uncertainty(spec)
    assert rep.vss_bnusd >= -1e-7 and rep.evpi_bnusd >= -1e-7


def test_cvar_weights_the_bad_future(tmp_path):
    # penalty 5 per GW missed; x GW bought in 2026 (first stage) cost 4 x.
    #   on time: 4x + 2(2 - x) = 4 + 2x;   late: 4x + 5(2 - x) = 10 - x
    #   risk-neutral E = 7 + x/2  ->  x = 0 (E = 7, CVaR_0.5 = the late future's 10)
    #   CVaR_0.5 with two futures of p = 0.5 is the dearer one: max(4 + 2x, 10 - x) is least at x = 2 (8 = 8)
    spec = load_futures(toy_with_two_futures(tmp_path, "5e9 USD/GW"), tmp_path / "in", target=TargetSpec("2GW"))
    neutral = extensive_form(spec)
    averse = extensive_form(spec, risk="cvar", alpha=0.5, weight=1.0)
    assert first_stage_gw(neutral) == pytest.approx(0.0, abs=1e-6)
    assert neutral.expected_cost_bnusd == pytest.approx(7.0) and neutral.cvar_bnusd == pytest.approx(10.0)
    assert first_stage_gw(averse) == pytest.approx(2.0)
    assert averse.cvar_bnusd == pytest.approx(8.0) and averse.expected_cost_bnusd == pytest.approx(8.0)
    assert averse.cost_by_future == pytest.approx({"on time": 8.0, "late": 8.0})


def test_compute_target_takes_its_penalty_per_flops(tmp_path):
    # 1 GW of the toy's chips (1 kW, 1e15 FLOP/s each) is 1e21 FLOP/s = 1000 EFLOP/s, so 1e7 USD per EFLOP/s
    # is the 10e9 USD/GW of the power case: the same hedge (x = 2 GW, expected cost 8 billion USD)
    spec = load_futures(toy_with_two_futures(tmp_path, "1e7 USD/(EFLOP/s)"), tmp_path / "in",
                        target=TargetSpec("2000 EFLOP/s", 2027))
    assert spec.penalty_unit == "EFLOP/s" and spec.penalty_bnusd == pytest.approx(0.01)
    rep = plan_under_uncertainty(spec)
    assert first_stage_gw(rep.rp) == pytest.approx(2.0)
    assert rep.rp.expected_cost_bnusd == pytest.approx(8.0)
    # a low penalty (2e6 USD per EFLOP/s = 2e9 USD/GW) accepts the miss: 2000 EFLOP/s short in the late future
    low = load_futures(toy_with_two_futures(tmp_path / "low", "2e6 USD/(EFLOP/s)"), tmp_path / "low" / "in",
                       target=TargetSpec("2000 EFLOP/s", 2027))
    assert extensive_form(low).shortfall_by_future["late"] == pytest.approx(2000.0)


@pytest.mark.parametrize("target, penalty, words", [
    (TargetSpec("2000 EFLOP/s", 2027), "10e9 USD/GW", "per FLOP/s"),
    (TargetSpec("2GW"), "1e7 USD/(EFLOP/s)", "per GW"),
])
def test_a_penalty_in_the_other_targets_unit_is_refused_saying_why(tmp_path, target, penalty, words):
    with pytest.raises(InputErrors) as exc:
        load_futures(toy_with_two_futures(tmp_path, penalty), tmp_path / "in", target=target)
    e = exc.value.errors[0]
    assert e.field == "penalty" and words in str(e) and "target is" in str(e)


def test_stochastic_cli_prints_shortfalls_with_units(tmp_path, capsys):
    from model.stochastic_cli import main

    path = toy_with_two_futures(tmp_path, "2e9 USD/GW")
    code = main(["--inputs", str(tmp_path / "in"), "--futures", str(path), "--target", "2GW",
                 "--results", str(tmp_path / "r"), "--name", "st", "--no-plots"])
    out = capsys.readouterr().out
    assert code == 0
    assert "target missed by 2.00 GW" in out and "expected shortfall 1.00 GW" in out


def test_vss_and_evpi_stay_risk_neutral_under_a_cvar_objective(tmp_path):
    spec = load_futures(toy_with_two_futures(tmp_path, "3e9 USD/GW"), tmp_path / "in", target=TargetSpec("2GW"))
    neutral = plan_under_uncertainty(spec)
    averse = plan_under_uncertainty(spec, risk="cvar", alpha=0.5, weight=1.0)
    assert averse.vss_bnusd == pytest.approx(neutral.vss_bnusd) and averse.evpi_bnusd == pytest.approx(neutral.evpi_bnusd)
    assert averse.vss_bnusd >= -1e-9 and averse.evpi_bnusd >= -1e-9


def test_events_combine_into_all_futures_with_product_probabilities(tmp_path):
    folder = write_inputs(tmp_path / "in")
    path = folder / "events.yaml"
    path.write_text(yaml.safe_dump({"first_stage_last_year": 2026, "penalty": "10e9 USD/GW", "events": [
        {"name": "dear power", "probability": 0.2, "source": "assumption: toy", "set": {"pue": 1.5}},
        {"name": "short supply", "probability": 0.5, "source": "assumption: toy", "set": {"supply_scale": 0.01}}]}))
    spec = load_futures(path, folder, target=TargetSpec("2GW"))
    probs = {f.name: f.probability for f in spec.futures}
    assert probs == pytest.approx({"none of the events": 0.4, "short supply": 0.4, "dear power": 0.1,
                                   "dear power + short supply": 0.1})
    assert spec.futures[3].scenario.pue["R", 2025] == 1.5


@pytest.mark.parametrize("doc, field", [
    ({"first_stage_last_year": 2026, "penalty": "1e9 USD/GW", "futures": [{"name": "a", "probability": 0.4}]},
     "probability"),
    ({"first_stage_last_year": 2026, "penalty": "1e9 USD", "futures": [{"name": "a", "probability": 1}]}, "penalty"),
    ({"first_stage_last_year": 2040, "penalty": "1e9 USD/GW", "futures": [{"name": "a", "probability": 1}]},
     "first_stage_last_year"),
    ({"first_stage_last_year": 2026, "penalty": "1e9 USD/GW",
      "futures": [{"name": "a", "probability": 1, "source": "x", "set": {"pue": "2 GW"}}]}, "unit"),
])
def test_bad_futures_files_are_refused_naming_the_entry(tmp_path, doc, field):
    folder = write_inputs(tmp_path / "in")
    path = folder / "bad.yaml"
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(InputErrors) as exc:
        load_futures(path, folder)
    assert exc.value.errors[0].field == field
    assert "bad.yaml" in str(exc.value)


def test_progressive_hedging_agrees_with_the_extensive_form(tmp_path):
    spec = load_futures(toy_with_two_futures(tmp_path, "10e9 USD/GW"), tmp_path / "in", target=TargetSpec("2GW"))
    ef = extensive_form(spec)
    ph = progressive_hedging(spec, iterations=300)
    assert ph["status"] == "converged" and ph["message"].startswith("progressive hedging converged in")
    assert ph["expected_cost_bnusd"] == pytest.approx(ef.expected_cost_bnusd, rel=2e-3)
    assert sum(v for k, v in ph["first_stage"].items()) == pytest.approx(first_stage_gw(ef), abs=2e-2)


def test_alternatives_stay_within_the_slack_and_differ(tmp_path):
    tables = default_tables()
    tables["offer_parameters"].append({"offer": "buy", "year": "", **q("build_cap", 3, "GW/a")})
    s = load_scenario(write_inputs(tmp_path / "in", **tables), target=TargetSpec("4GW"))
    r = generate_alternatives(s, slack=0.25, count=4)
    assert r.status == "optimal" and r.alternatives[0].name == "least cost"
    assert r.least_cost_bnusd == pytest.approx(solve_plan(s).objective_bnusd)
    for a in r.alternatives:
        assert a.cost_bnusd <= 1.25 * r.least_cost_bnusd + 1e-7
        assert sum(a.by_host_gw.values()) >= 4 - 1e-6
    mixes = [tuple(round(v, 6) for v in a.by_host_gw.values()) for a in r.alternatives]
    assert len(set(mixes)) == len(mixes) and len(mixes) >= 2


def test_the_terminal_hedge_names_hosts_vendors_and_regions(capsys):
    """The hedge lines read 'capacity of host Self-build', not the id 'self-build' (as the page does)."""
    from types import SimpleNamespace as NS

    from model.stochastic_cli import print_answer

    s = NS(display_names={"region": {"US-Other": "rest of the US"}}, vendors={"amd": "AMD"},
           hosts={"self-build": "Self-build", "google-cloud": "Google Cloud"})
    spec = NS(futures=[NS(name="only", probability=1.0, scenario=s)], penalty_unit="GW", penalty_bnusd=100.0)
    rep = NS(rp=NS(expected_cost_bnusd=3000.0, cvar_bnusd=3000.0, shortfall_by_future={"only": 0.0},
                   cost_by_future={"only": 3000.0}),
             miss_probability=0.0, expected_shortfall=0.0, vss_bnusd=1.0, evpi_bnusd=1.0, note="",
             differences=[{"meaning": m} for m in ("more capacity of host self-build built by 2027 (+0.43 GW)",
                                                   "less capacity of host google-cloud built by 2027 (-0.30 GW)",
                                                   "more capacity of vendor amd built by 2027 (+0.63 GW)",
                                                   "more capacity of region US-Other built by 2027 (+0.43 GW)")])
    print_answer(NS(alpha=0.9, method="extensive"), spec, rep, {}, False)
    hedge = [line for line in capsys.readouterr().out.splitlines() if "hedge:" in line]
    assert hedge == ["  hedge: more capacity of host Self-build built by 2027 (+0.43 GW)",
                     "  hedge: less capacity of host Google Cloud built by 2027 (-0.30 GW)",
                     "  hedge: more capacity of vendor AMD built by 2027 (+0.63 GW)",
                     "  hedge: more capacity of region rest of the US built by 2027 (+0.43 GW)"]


def test_a_decomposition_page_claims_no_met_target_and_no_figure_it_did_not_compute(tmp_path):
    """The decomposition reports no shortfall per future, VSS, EVPI or CVaR: its page says so, never 'target met'
    (250 GW out of reach in every future read 'it meets the target in every future') or 'not finite'."""
    import json
    import re

    from model.pages.stochastic import render

    summary = {"status": "converged", "method": "decompose", "first_stage_last_year": 2027,
               "expected_cost": {"value": 3.07e13, "unit": "USD"},
               "penalty": {"value": 1e11, "unit": "USD/GW/a"},
               "cost_by_future": {f"sample {i}": {"value": 3.0e13 + i * 1e11, "unit": "USD", "probability": 0.5}
                                  for i in (1, 2)}}
    (tmp_path / "summary.json").write_text(json.dumps(summary))
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", render(tmp_path, {})))
    assert "target met" not in text and "met in every future" not in text and "not finite" not in text, text
    assert "whether it meets the target in each future is not computed by this method" in text
