"""Numbers as a person reads them, notes printed where promised, hints where a user slips."""
from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

from model.cli import HELP_EXAMPLES, main

E_NOTATION = re.compile(r"\d[eE][+-]?\d")


@pytest.mark.parametrize("value, shown", [(7e-11, "0.00000000007"), (3.12e-18, "3.12 x 10^-18"),
                                          (1e-12, "0.000000000001"), (0.0, "0"), (1597.3, "1,600")])
def test_sig_never_prints_a_small_value_as_zero_nor_in_e_notation(value, shown):
    from model.fmt import sig

    assert sig(value) == shown


def test_verify_shows_money_without_e_notation():
    from model.verify import _short

    assert _short(4.076561298e12, "USD") == "4,076,561,298,000 USD"


def test_a_compute_target_is_named_without_e_notation():
    from model.records import main_target_rows

    rows = main_target_rows(200_000.0, "compute", 2030, (2030, 2031))
    assert rows[0].label == "target 200 ZFLOP/s by 2030" and not E_NOTATION.search(rows[0].label)


def test_scenario_descriptions_say_money_in_words(capsys):
    assert main(["scenarios", "--long"]) == 0
    out = capsys.readouterr().out
    assert not re.search(r"\d+(\.\d+)?e\d+ USD", out) and "billion USD" in out


def test_a_target_and_its_unit_as_two_words_get_a_hint(capsys):
    assert main(["--target", "250", "GW"]) == 2
    assert "--target 250GW" in capsys.readouterr().err


def test_a_mistyped_set_key_gets_the_closest_one(capsys):
    assert main(["check", "--set", "peu=1.2"]) == 2
    assert "did you mean 'pue'?" in capsys.readouterr().err


def test_help_examples_sweep_a_range_the_base_can_hold():
    assert not any("1.1:1.5" in e for e in HELP_EXAMPLES)
    assert any(e.startswith("run.py sweep --target 60GW") for e in HELP_EXAMPLES)


def test_vss_not_finite_prints_its_note_and_the_penalty_is_labelled(capsys):
    from model.stochastic_cli import print_answer

    rp = SimpleNamespace(expected_cost_bnusd=26_600.0, cvar_bnusd=27_000.0, cost_by_future={"a": 26_600.0},
                         shortfall_by_future={"a": 170.0})
    rep = SimpleNamespace(rp=rp, miss_probability=1.0, expected_shortfall=170.0, vss_bnusd=None, evpi_bnusd=0.0,
                          differences=[], note="the expected-value plan's first stage cannot be carried into every "
                                               "future")
    spec = SimpleNamespace(futures=[SimpleNamespace(name="a", probability=1.0)], penalty_unit="GW",
                           penalty_bnusd=100.0)
    print_answer(SimpleNamespace(alpha=0.9, method="extensive"), spec, rep, {}, False)
    out = capsys.readouterr().out
    assert "VSS: not finite (see the note below)" in out
    assert "Note: the expected-value plan's first stage cannot be carried" in out
    assert "include the miss penalty, 100 billion USD per GW short a year" in out


def test_default_names_are_plain_folder_names_whatever_the_scenario_is_called():
    from model.resultdir import check_name
    from model.results import default_name

    target = SimpleNamespace(kind="power", value=80.0, basis="it", main=True, year=2033)
    for scenario in ("sample 1", "a/b c", "ünïcode", ".hidden"):
        s = SimpleNamespace(name=scenario, main_target=target, targets=[target])
        check_name(default_name(s))          # raises for a name that is not one plain folder name


def _plan_name(kind: str, value: float) -> str:
    import datetime as dt

    from model.results import default_name

    target = SimpleNamespace(kind=kind, value=value, basis="it", main=True, year=2030)
    s = SimpleNamespace(name="base", main_target=target, targets=[target])
    return default_name(s, now=dt.datetime(2026, 12, 3, 7, 0, 0))


def test_a_compute_target_run_is_named_with_an_si_prefix_not_e_notation():
    assert _plan_name("compute", 200_000.0) == "base_200ZFLOPs-2030_20261203T070000"     # 200 ZFLOP/s (EFLOP/s)
    assert _plan_name("compute", 200_000.00000000003) == "base_200ZFLOPs-2030_20261203T070000"  # as parsed
    assert _plan_name("compute", 0.5) == "base_500PFLOPs-2030_20261203T070000"
    assert not E_NOTATION.search(_plan_name("compute", 1e-9)) and not E_NOTATION.search(_plan_name("power", 1e-5))


@pytest.mark.parametrize("kind, a, b", [("compute", 200_000.0, 200_100.0), ("compute", 200_000.0, 200_000.001),
                                        ("power", 250.0, 250.0000001)])
def test_two_different_targets_never_share_a_folder_name(kind, a, b):
    assert _plan_name(kind, a) != _plan_name(kind, b)


def _visible_text(html_text: str) -> str:
    """What a reader sees of a page: no scripts, styles, pictures or tags."""
    import html

    text = re.sub(r"<script.*?</script>|<style.*?</style>|<img[^>]*>", "", html_text, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", text)))


def test_a_scenario_description_and_sources_reach_the_report_page_without_e_notation(tmp_path):
    """The description's ``1e+23 FLOP/s``, ``300e9 USD``, ``7e-11`` and float noise read as a person says them."""
    import yaml
    from toy import write_inputs

    folder = write_inputs(tmp_path / "in")
    (folder / "scenarios" / "big.yaml").write_text(yaml.safe_dump({
        "description": "A world of 1e+23 FLOP/s by 2030, 300e9 USD of deals, a capex of 3.79e10 USD/GW, a PUE of "
                       "1.2000000000000002 and 7e-11 USD per FLOP/s (https://example.com/10e9-deal).",
        "set": {"pue": {"value": "1.2", "source": "assumption: toy, 1.4e12 USD of commitments"}}}))
    assert main(["--inputs", str(folder), "--scenario", "big", "--target", "2GW", "--name", "p",
                 "--results", str(tmp_path / "res")]) == 0
    seen = _visible_text((tmp_path / "res" / "p" / "report.html").read_text())
    assert "A world of 100 ZFLOP/s by 2030, 300 billion USD of deals, a capex of 37.9 billion USD/GW, a PUE of 1.2 " \
           "and 0.00000000007 USD per FLOP/s" in seen
    assert "1.4 trillion USD of commitments" in seen
    assert not re.search(r"(?<![\w/.-])\d+(\.\d+)?[eE][+-]?\d+(?![\w-])", seen), \
        re.findall(r".{40}\d[eE][+-]?\d.{20}", seen)
    assert "1.2000000000000002" not in seen


@pytest.mark.parametrize("call, words", [
    (lambda: __import__("model.why", fromlist=["x"]).per_unit_text({"value": 1.234e-5, "unit": "GW/GW"}),
     "0.0000123 GW/GW"),
    (lambda: __import__("model.solve", fromlist=["x"])._money(1.234e6), "1,230 trillion USD"),
    (lambda: __import__("model.headline_range", fromlist=["x"])._value_text(SimpleNamespace(unit="USD/GW"), 3.79e10),
     "37.9 billion USD/GW"),
])
def test_terminal_figures_never_fall_into_e_notation(call, words):
    text = call()
    assert text == words and not E_NOTATION.search(text), text


def test_a_ranged_calendar_year_reads_as_a_year_not_as_thousands_of_years():
    """``horizon.csv`` ``last_year`` (unit ``year``) ranges 2035..2037: shown as years, not '2,035 years'."""
    from model.headline_range import _value_text

    assert [_value_text(SimpleNamespace(unit="year"), x) for x in (2035.0, 2037)] == ["2035", "2037"]
    assert _value_text(SimpleNamespace(unit="+a"), 1.0) == "+1 year"           # a duration keeps its unit


def test_sweep_sensitivity_tables_count_cases_exactly_and_show_round_off_as_zero(tmp_path):
    """1,024 cases read '1,024' (not '1,000'); a Sobol index of 2.3e-16 reads '0'; a flat figure's note has no 1e-9."""
    from model.pages.sweep import sensitivity_blocks
    from model.sensitivity import _indices

    (tmp_path / "sobol.csv").write_text(
        "figure,unit,key,S1,S1_conf,ST,ST_conf,note\n"
        "facility_power,GW,pue,1.0,0.14,1.0,0.12,\n"
        "facility_power,GW,capex_scale,2.3e-16,1.5e-15,6e-29,6.1e-29,\n")
    (tmp_path / "correlations.csv").write_text("figure,unit,key,spearman,cases\ntotal_cost,USD,pue,0.013,1024\n")
    blocks = sensitivity_blocks(tmp_path, SimpleNamespace(key_units={}))
    cells = [[c["text"] for c in row["cells"]] for b in blocks if b.get("kind") == "table"
             for row in b["table"]["rows"]]
    assert cells[1][1:] == ["0", "0", "0", "0"], cells
    assert cells[2][1:] == ["0.013", "1,024"], cells
    _, note = _indices([5.0] * 8, 2, ("S1",), lambda y: {})
    assert not E_NOTATION.search(note) and "1e-9" not in note, note


def _ranked_row(label: str, swing: float, cap_low: float, cap_high: float | None) -> dict:
    return {"key": label, "label": label, "low_text": "500 MW", "high_text": "1.5 GW", "cost_low": 3.94e12,
            "cost_high": 3.95e12, "capacity_low": cap_low, "capacity_high": cap_high, "capacity_unit": "GW",
            "swing": swing, "swing_unit": "GW"}


def test_a_headline_range_swing_of_solver_round_off_reads_0_on_page_and_terminal():
    """A swing of 1.2e-10 GW beside a headline of 85 GW is noise: it reads "0 GW", not "0.000000121 MW"."""
    from model.headline_range import ranking_lines
    from model.pages.plan import quote_blocks

    rows = [_ranked_row("revenue growth", 22.4, 68.8, 91.2), _ranked_row("first racks", 1.2099e-10, 85.19, None),
            _ranked_row("a small real swing", 0.0097, 85.19, 85.1997)]
    summary = {"assumptions_ranked": {"value": rows, "headline": "largest reachable capacity"},
               "headline_range": {"jointly": {"inputs": 2, "solved": 48}}}
    page = str(quote_blocks(summary))
    terminal = "\n".join(ranking_lines(summary))
    for text in (page, terminal):
        assert "0.000000121" not in text and "0.00000012" not in text
        assert "9.7 MW" in text                                   # a real swing is still shown
    assert "'text': '0 GW'" in page
    assert "first racks (500 MW .. 1.5 GW): 0 GW" in terminal
    assert "85.2 GW to no plan" in page and "reach 85.2 GW to no plan" in terminal       # an end without a plan
    assert "n/a" not in page and "n/a" not in terminal


def test_settled_keeps_figures_and_zeroes_round_off_relative_to_the_tables_scale():
    from model.fmt import settled, table_scale

    assert settled(1.2e-10, table_scale([85.2, None, 68.8])) == 0.0
    assert settled(-3e6, 4e12) == 0.0 and settled(5e7, 4e12) == 5e7     # 3 million USD of 4 trillion is noise
    assert settled(2e-7, 0.0) == 0.0 and settled(2e-6, 0.0) == 2e-6      # below 1 the tolerance is absolute
    assert settled(None, 1.0) is None and settled("n/a", 1.0) == "n/a"


def test_the_plan_page_shows_shares_in_percent_with_names_never_as_raw_fractions():
    from model.pages.plan import input_blocks, more_blocks

    summary = {"status": "optimal", "target_year": 2033,
               "interest_share": {"2032": {"value": 0.41, "unit": ""}, "2033": {"value": 0.5399667, "unit": ""}},
               "interest_flag": {"value": 0.3, "unit": "", "flagged": [2033], "basis": "interest / revenue"},
               "revenue": {"2033": {"value": 4.69e11, "unit": "USD/a"}}}
    more = str(more_blocks(summary, {}))
    assert "Interest as a share of revenue 2033" in more and "'54 %'" in more and "'30 %'" in more
    assert not re.search(r"'0\.\d+'|interest_share|interest_flag", more), more
    manifest = {"overrides": [{"action": "set", "target": "buyer_share.nvidia", "detail": "0.4123",
                               "origin": "--set", "source": "command line"}]}
    inputs = str(input_blocks(manifest))
    assert "41.23 %" in inputs and "'0.4123'" not in inputs


def test_a_shadow_price_per_usd_reads_per_billion_usd_not_with_eleven_zeros():
    from model.fmt import quantity
    from model.pages.plan import _limit_rows

    row = {"label": "funding 2035", "meaning": "1 billion USD more of 'funding 2035' would raise ... by 0.0104 GW",
           "value": 1.04e-11, "unit": "GW/USD"}
    text = str(_limit_rows([row]))
    assert "0.0104 GW per billion USD" in text and "0.0000000000104" not in text
    assert quantity(-3.43e-12, "GW/USD") == "-0.00343 GW per billion USD"


def test_every_family_of_binding_limit_the_base_meets_reads_in_words():
    from model.pages.plan import rollup

    limits = [{"family": f, "unit": "USD/GW", "region": "", "year": None, "value": 1e11, "who": ""}
              for f in ("commitment", "terminal_debt", "vendor_supply_cap")]
    words = [r["core"] for r in rollup(limits, 13)]
    assert words == ["scheduled deliveries and tranche caps bind", "terminal debt rule binds",
                     "vendor supply binds"], words


def test_a_ranged_share_reads_in_percent_and_a_pue_stays_a_plain_number():
    from model.headline_range import _value_text
    from model.inputs.ranges import InputRange

    def ranged(parameter: str, low: float, high: float) -> InputRange:
        return InputRange(1, "x.csv", (), parameter, parameter, low, high, "dimensionless", "", "", "")

    assert [_value_text(ranged("terminal_debt_growth", 0.0, 0.1), x) for x in (0.0, 0.1)] == ["0 %", "10 %"]
    assert _value_text(ranged("capacity_credit", 0.08, 0.2), 0.08) == "8 %"
    assert _value_text(ranged("pue", 1.2, 1.4), 1.2) == "1.2"


def test_the_provenance_says_timings_in_words_not_their_keys():
    from model.pages import provenance_rows

    rows = dict((r[0], r[1]) for r in provenance_rows({"timings_s": {"reach_solve": 0.03, "range_one_at_a_time": 14.5,
                                                                      "range_cpu": 17.0}}))
    assert rows["timings"] == "reach solve 0.03 s, range one at a time 14.5 s, range CPU 17 s"


def test_a_compute_target_as_typed_names_its_folder_with_the_digits_typed():
    from model.results import default_name
    from model.scenario import TargetSpec, load_scenario

    s = load_scenario(target=TargetSpec("200 ZFLOP/s", 2030))
    assert default_name(s).startswith("base_200ZFLOPs-2030_"), default_name(s)


def test_more_figures_say_a_figures_year_and_gas_in_its_label_not_as_rows_of_their_own():
    from model.pages.plan import more_blocks

    summary = {"target_year": 2033, "energy_cost": {"value": 2.38e10, "unit": "USD/a", "year": 2033},
               "emissions": {"value": 223.0, "unit": "Mt/a", "year": 2033, "gas": "CO2"}}
    rows = [[c["text"] for c in r["cells"]] for r in more_blocks(summary, {})[0]["table"]["rows"]]
    assert rows == [["Energy cost 2033", "23.8 billion USD/a"], ["Emissions (CO2) 2033", "223 Mt/a"]], rows
