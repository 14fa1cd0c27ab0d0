"""Deal risk at scale: sampled futures with an SAA interval, PH on futures of differing structure, exposure."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

import model.stochastic as st_mod
import model.stochastic_cli as st_cli
from model.errors import InputErrors
from model.futures_sampling import sample_futures, saa_confidence
from model.scenario import TargetSpec
from model.ph import progressive_hedging
from model.stochastic import extensive_form, load_futures
from toy import SRC, write_inputs

# Toy (tests/toy.py): 2025-2027, target 2 GW in 2027, 0 % discount; buy 2 bnUSD/GW/a, rent 3 bnUSD/GW/a.


def sampled_file(folder: Path, distributions: dict, penalty: str = "10e9 USD/GW") -> Path:
    path = folder / "sampled.yaml"
    path.write_text(yaml.safe_dump({"first_stage_last_year": 2026, "penalty": penalty,
                                    "distributions": distributions}, sort_keys=False))
    return path


CAPEX = {"capex_scale.buy": {"distribution": "uniform", "low": 0.5, "high": 1.5}}


def test_sampling_is_reproducible_with_a_seed_and_changes_with_it(tmp_path):
    folder = write_inputs(tmp_path / "in")
    path = sampled_file(folder, CAPEX)
    a = sample_futures(path, 6, 7, folder, target=TargetSpec("2GW"))
    b = sample_futures(path, 6, 7, folder, target=TargetSpec("2GW"))
    c = sample_futures(path, 6, 8, folder, target=TargetSpec("2GW"))
    draws = lambda spec: [f.scenario.overrides[-1].source for f in spec.futures]   # noqa: E731
    assert draws(a) == draws(b) and draws(a) != draws(c)
    assert len(a.futures) == 6 and all(f.probability == pytest.approx(1 / 6) for f in a.futures)
    factors = [float(f.scenario.overrides[-1].source.split("=")[1]) for f in a.futures]
    assert all(0.5 <= x <= 1.5 for x in factors)
    # the expected-value future is the draw nearest the median (1.0)
    nearest = min(range(6), key=lambda i: abs(factors[i] - 1.0))
    assert a.expected == f"sample {nearest + 1}"


@pytest.mark.parametrize("entry, field", [
    ({"distribution": "uniform", "low": 2, "high": 1}, "uniform"),
    ({"distribution": "gamma", "low": 1, "high": 2}, "distribution"),
    ({"distribution": "normal", "mean": 1}, "sd"),
])
def test_bad_distributions_are_refused_naming_the_key(tmp_path, entry, field):
    folder = write_inputs(tmp_path / "in")
    path = sampled_file(folder, {"capex_scale.buy": entry})
    with pytest.raises(InputErrors) as exc:
        sample_futures(path, 4, 0, folder, target=TargetSpec("2GW"))
    e = exc.value.errors[0]
    assert e.row == "capex_scale.buy" and e.field == field and "sampled.yaml" in str(e.file)


def test_bad_sample_on_the_command_line_exits_2_and_writes_nothing(tmp_path, capsys):
    folder = write_inputs(tmp_path / "in")
    path = sampled_file(folder, {"capex_scale.nosuch": {"distribution": "uniform", "low": 1, "high": 2}})
    code = st_cli.main(["--inputs", str(folder), "--futures", str(path), "--target", "2GW", "--sample", "4",
                        "--results", str(tmp_path / "r"), "--no-plots"])
    err = capsys.readouterr().err
    assert code == 2 and "capex_scale.nosuch" in err and not (tmp_path / "r").exists()


def test_sample_of_a_listed_futures_file_is_refused(tmp_path):
    folder = write_inputs(tmp_path / "in")
    path = folder / "listed.yaml"
    path.write_text(yaml.safe_dump({"first_stage_last_year": 2026, "penalty": "1e9 USD/GW",
                                    "futures": [{"name": "only", "probability": 1.0}]}))
    with pytest.raises(InputErrors) as exc:
        sample_futures(path, 4, 0, folder, target=TargetSpec("2GW"))
    assert exc.value.errors[0].field == "distributions"


def test_saa_interval_is_zero_wide_when_every_future_is_the_same_and_brackets_the_batches(tmp_path):
    folder = write_inputs(tmp_path / "in")
    # a degenerate distribution: every draw is capex x 1; each batch's SAA optimum is the deterministic 2 GW x
    # 2 bnUSD/GW/a... bought in 2026 or 2027 (0 % discount): buy 2 GW, 10 bnUSD/GW over 5 a = 2 per GW-year
    path = sampled_file(folder, {"capex_scale.buy": {"distribution": "triangular", "low": 1, "mode": 1, "high": 1}})
    spec = sample_futures(path, 8, 0, folder, target=TargetSpec("2GW"))
    ci = saa_confidence(spec)
    assert ci["batches"] == 4 and ci["batch_size"] == 2
    assert ci["half_width"] == pytest.approx(0.0, abs=1e-9)
    assert ci["mean"] == pytest.approx(extensive_form(spec).expected_cost_bnusd, rel=1e-9)
    spread = sample_futures(sampled_file(folder, CAPEX), 8, 0, folder, target=TargetSpec("2GW"))
    ci2 = saa_confidence(spread)
    assert ci2["half_width"] > 0 and ci2["low"] <= min(ci2["costs"]) + ci2["half_width"] * 10
    assert ci2["low"] < ci2["mean"] < ci2["high"]


def differing_structure(tmp_path: Path, tension: bool = False) -> Path:
    """Two futures: 'late' has no lease offer and no supply in 2027; the first-stage keys differ.

    ``tension``: 'on time' also has no supply in 2026, so the futures want different first stages
    (late: build in 2026; on time: cannot) and PH needs more than one iteration to agree.
    """
    folder = write_inputs(tmp_path / "in")
    path = folder / "differ.yaml"
    on_time = {"name": "on time", "probability": 0.5}
    if tension:
        on_time.update({"source": "assumption: toy", "add": [{"file": "vendor_supply.csv", "rows": [
            {"vendor": "acme", "year": 2026, "parameter": "supply_cap", "value": 0, "unit": "GW/a", **SRC}]}]})
    penalty = "100e9 USD/GW" if tension else "10e9 USD/GW"      # dear enough that 'late' wants to build early
    path.write_text(yaml.safe_dump({"first_stage_last_year": 2026, "penalty": penalty, "futures": [
        on_time,
        {"name": "late", "probability": 0.5, "source": "assumption: toy",
         "drop": [{"file": "offers.csv", "where": {"offer": "rent"}, "source": "assumption: toy"}],
         "add": [{"file": "vendor_supply.csv", "rows": [
             {"vendor": "acme", "year": 2026, "parameter": "supply_cap", "value": 100, "unit": "GW/a", **SRC},
             {"vendor": "acme", "year": 2027, "parameter": "supply_cap", "value": 0, "unit": "GW/a", **SRC}]}]}]}))
    return path


def test_ph_on_futures_of_differing_structure_agrees_with_the_extensive_form(tmp_path):
    spec = load_futures(differing_structure(tmp_path), tmp_path / "in", target=TargetSpec("2GW"))
    assert st_mod.ph_suitability(spec)            # the old rule would have refused these futures
    ef = extensive_form(spec)
    ph = progressive_hedging(spec, iterations=300)
    assert ph["stand_ins"] > 0
    assert ph["status"] == "converged" and ph["message"].startswith("progressive hedging converged in")
    assert ph["expected_cost_bnusd"] == pytest.approx(ef.expected_cost_bnusd, rel=2e-3)
    # a real gap: the lower bound lies below the plan's cost and close to it
    assert ph["bound_bnusd"] <= ph["expected_cost_bnusd"] + 1e-6
    assert ph["gap"] == pytest.approx(0.0, abs=5e-3) and "gap" in ph["message"]
    assert ph["bound_bnusd"] <= ef.expected_cost_bnusd + 1e-6


def test_ph_stop_at_the_limit_is_reported_with_its_gap(tmp_path):
    spec = load_futures(differing_structure(tmp_path, tension=True), tmp_path / "in", target=TargetSpec("2GW"))
    ph = progressive_hedging(spec, iterations=1, threshold=1e-12)
    assert ph["status"] == "iteration_limit" and "optimal" not in ph["message"].replace("not proven optimal", "")
    assert ph["message"].startswith("progressive hedging stopped at the iteration limit (1 iterations), gap")
    assert ph["bound_bnusd"] <= extensive_form(spec).expected_cost_bnusd + 1e-6


def test_stochastic_cli_with_ph_accepts_futures_of_differing_structure(tmp_path, capsys):
    path = differing_structure(tmp_path)
    code = st_cli.main(["--inputs", str(tmp_path / "in"), "--futures", str(path), "--target", "2GW", "--method", "ph",
                        "--results", str(tmp_path / "r"), "--name", "s", "--no-plots"])
    assert code == 0, capsys.readouterr().err
    summ = json.loads((tmp_path / "r" / "s" / "summary.json").read_text())
    assert summ["progressive_hedging"]["status"] == "converged"
    assert summ["progressive_hedging"]["expected_cost_bnusd"] == pytest.approx(summ["expected_cost"]["value"] / 1e9,
                                                                               rel=2e-3)


# ----------------------------------------------------------------------------
# Exposure: who is left unpaid
# ----------------------------------------------------------------------------
PAY = {"A": {2025: 6.0}, "B": {2025: 2.0, 2026: 4.0}}      # billion USD owed to each counterparty by year


def test_unpaid_is_the_yearly_shortfall_split_pro_rata_with_cash_carried_forward():
    from model.exposure import unpaid

    # 2025: 8 owed, 4 in -> 4 short, A 6/8, B 2/8; 2026: 4 owed, 5 in -> paid
    assert unpaid(PAY, {2025: 4.0, 2026: 5.0}) == pytest.approx({"A": 3.0, "B": 1.0})
    # 2025: 10 in, 2 left over; 2026: 2 + 1 = 3 against 4 owed -> B short by 1
    assert unpaid(PAY, {2025: 10.0, 2026: 1.0}) == pytest.approx({"A": 0.0, "B": 1.0})
    assert unpaid(PAY, {2025: 8.0, 2026: 4.0}) == pytest.approx({"A": 0.0, "B": 0.0})


@pytest.mark.parametrize("alpha, cvar_a, cvar_b", [(0.5, 3.0, 1.0), (0.9, 3.0, 1.0), (0.0, 1.5, 0.5)])
def test_expected_and_cvar_unpaid_over_futures(alpha, cvar_a, cvar_b):
    from model.exposure import exposure, most_exposed

    e = exposure({"good": PAY, "bad": PAY}, {"good": {2025: 8.0, 2026: 4.0}, "bad": {2025: 4.0, 2026: 5.0}},
                 {"good": 0.5, "bad": 0.5}, alpha)
    assert e["A"]["committed"] == {"value": pytest.approx(6e9), "unit": "USD"}
    assert e["B"]["by_year"]["2026"]["value"] == pytest.approx(4e9)
    assert e["A"]["unpaid_expected"]["value"] == pytest.approx(1.5e9) and e["A"]["unpaid_expected"]["unit"] == "USD"
    assert e["B"]["unpaid_expected"]["value"] == pytest.approx(0.5e9)
    assert e["A"]["unpaid_cvar"]["value"] == pytest.approx(cvar_a * 1e9)
    assert e["B"]["unpaid_cvar"]["value"] == pytest.approx(cvar_b * 1e9)
    assert most_exposed(e, 1) == ["A"]


def test_counterparty_is_the_deal_first_then_vendor_for_capex_and_host_for_leases(tmp_path):
    from model.exposure import counterparties
    from model.scenario import load_scenario
    from toy import deal, term

    folder = write_inputs(tmp_path / "in", deals=[deal("bigco", "offer=rent", 2025, 2027)],
                          deal_terms=[term("bigco", "minimum", 0, "GW")])
    s = load_scenario(folder, target=TargetSpec("2GW"))
    who = counterparties(s)
    assert who["buy"] == ("Acme", "Self-build") and who["rent"] == ("Bigco", "Bigco")


def test_stochastic_set_has_exposure_with_units_and_the_page_shows_it(tmp_path, capsys):
    from test_stochastic import toy_with_two_futures

    path = toy_with_two_futures(tmp_path, "10e9 USD/GW")
    code = st_cli.main(["--inputs", str(tmp_path / "in"), "--futures", str(path), "--target", "2GW",
                        "--results", str(tmp_path / "r"), "--name", "s"])
    assert code == 0, capsys.readouterr().err
    summ = json.loads((tmp_path / "r" / "s" / "summary.json").read_text())
    exp = summ["exposure"]
    # the toy's purchase is priced as a yearly fixed cost (2e9 USD/GW/a, no capex), paid to its host, self-build
    assert set(exp) == {"Self-build"}
    for key in ("committed", "unpaid_expected", "unpaid_cvar"):
        assert exp["Self-build"][key]["unit"] == "USD"
    # the toy has no revenue or funding: everything owed is unpaid, in every future
    got = exp["Self-build"]
    assert got["unpaid_expected"]["value"] == pytest.approx(got["committed"]["value"], rel=1e-9)
    # the hedge builds 2 GW in 2026: 2 GW x 2e9 USD/GW/a x 2 a (2026, 2027)
    assert got["committed"]["value"] == pytest.approx(8e9, rel=1e-6)
    html = (tmp_path / "r" / "s" / "report.html").read_text()
    assert "Who holds the risk" in html and "Money flows" in html and "Self-build" in html
    import re

    html = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]*", "", html)
    assert not re.search(r"\bnan\b", html, re.IGNORECASE) and not re.search(r"\d[eE][+-]\d", html)


# ----------------------------------------------------------------------------
# Decomposition on processes
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("processes", [1, 2])
def test_decomposition_agrees_with_the_extensive_form_on_futures_of_differing_structure(tmp_path, processes):
    from model.decompose import decompose

    spec = load_futures(differing_structure(tmp_path), tmp_path / "in", target=TargetSpec("2GW"))
    ef = extensive_form(spec)
    r = decompose(spec, processes=processes)
    assert r.status == "converged" and r.message.startswith("the decomposition converged in")
    assert r.expected_cost_bnusd == pytest.approx(ef.expected_cost_bnusd, rel=1e-6)
    assert r.lower_bound_bnusd <= ef.expected_cost_bnusd + 1e-6
    assert sum(v for k, v in r.first_stage.items() if k[0] == "build") == pytest.approx(first_stage(ef), abs=1e-6)
    assert r.cost_by_future.keys() == {"on time", "late"}


def first_stage(result) -> float:
    return sum(result.first_stage_build.values())


def test_decomposition_stop_at_the_limit_is_reported_with_its_gap(tmp_path):
    from model.decompose import decompose

    spec = load_futures(differing_structure(tmp_path, tension=True), tmp_path / "in", target=TargetSpec("2GW"))
    r = decompose(spec, iterations=1)
    assert r.status == "iteration_limit"
    assert r.message.startswith("the decomposition stopped at the iteration limit (1 iterations), gap")
    assert r.lower_bound_bnusd <= extensive_form(spec).expected_cost_bnusd + 1e-6


def test_stochastic_cli_decomposes_sampled_futures_on_two_processes(tmp_path, capsys):
    folder = write_inputs(tmp_path / "in")
    path = sampled_file(folder, CAPEX)
    code = st_cli.main(["--inputs", str(folder), "--futures", str(path), "--target", "2GW", "--sample", "6",
                        "--seed", "3", "--method", "decompose", "--processes", "2", "--results", str(tmp_path / "r"),
                        "--name", "d"])
    assert code == 0, capsys.readouterr().err
    summ = json.loads((tmp_path / "r" / "d" / "summary.json").read_text())
    assert summ["status"] == "converged" and summ["processes"] == 2 and len(summ["cost_by_future"]) == 6
    assert sum(summ["build"]["futures_by_path"].values()) == 6 and summ["cuts"]["added"] >= 6
    assert summ["expected_cost"]["unit"] == "USD" and summ["lower_bound"]["value"] <= summ["expected_cost"]["value"] + 1
    ci = summ["confidence_interval"]
    assert ci["low"]["value"] <= summ["expected_cost"]["value"] <= ci["high"]["value"]
    assert (tmp_path / "r" / "d" / "report.html").is_file()


def test_sampled_cli_reports_the_saa_interval(tmp_path, capsys):
    folder = write_inputs(tmp_path / "in")
    path = sampled_file(folder, CAPEX)
    code = st_cli.main(["--inputs", str(folder), "--futures", str(path), "--target", "2GW", "--sample", "8",
                        "--seed", "1", "--results", str(tmp_path / "r"), "--name", "s", "--no-plots"])
    assert code == 0, capsys.readouterr().err
    summ = json.loads((tmp_path / "r" / "s" / "summary.json").read_text())
    ci = summ["confidence_interval"]
    assert summ["sampled"] == {"futures": 8, "seed": 1} and ci["batches"] == 4 and ci["low"]["unit"] == "USD"
    assert ci["low"]["value"] < ci["high"]["value"]
