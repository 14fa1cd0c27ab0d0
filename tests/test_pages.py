"""Pages of every kind of result set, the formatting module and the colours file.

Each of the five kinds of set (plan, compare, sweep, stochastic, alternatives)
is built from the toy inputs of ``toy.py`` and its page loaded in a real
headless Chromium (skipped without one, failed on CI; see test_report.py):
it needs no network, its visible text has no NaN, no e-notation and no
Python internals, it opens with its verdict sentence, and screenshots at
1400 px and 800 px wide are written (to ``$PAGE_SHOTS_DIR`` when set, else a
temporary folder) and are not blank.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from model import fmt
from model.cli import main
from model.colours import COLOURS_FILE, colour, colours, read_colours
from model.errors import InputErrors
from model.pages import plan as plan_page
from test_report import browser  # noqa: F401  (the headless Chromium fixture)
from toy import SRC, default_tables, q, write_inputs

E_NOTATION = re.compile(r"\d[eE][+-]?\d")
INTERNALS = ("NaN", "nan ", "np.float64", "None", "{'", "dict_", "inf ", "Infinity", "undefined")


# ----------------------------------------------------------------------------
# Numbers
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("value", [1e-7, 3.2e-4, 0.58479, 1.0, 12.5, 999.9, 1597.3, 2.5e5, 7.31e12, 1.597e24, 3e31,
                                   -1.324e5, float("nan"), float("inf"), None])
@pytest.mark.parametrize("unit", ["USD", "USD/GW", "GW", "TWh", "FLOP/s", "a", "dimensionless", "USD/USD", "Mt/a"])
def test_every_number_reads_without_e_notation_or_nan(value, unit):
    text = fmt.quantity(value, unit, missing="not reached")
    assert not E_NOTATION.search(text), text
    assert "nan" not in text.lower() and "inf" not in text.lower(), text


def test_numbers_are_in_the_units_a_reader_expects():
    assert fmt.quantity(7.3e12, "USD") == "7.3 trillion USD"
    assert fmt.quantity(3.88e10, "USD/GW") == "38.8 billion USD/GW"
    assert fmt.quantity(1.6e21, "FLOP/s") == "1.6 ZFLOP/s"
    assert fmt.quantity(1.597e24, "FLOP/s") == "1,600 ZFLOP/s"
    assert fmt.quantity(4, "a") == "4 years" and fmt.quantity(1, "a") == "1 year"
    assert fmt.quantity(-1.324e5, "USD/GW") == "-132,000 USD/GW"
    assert fmt.quantity(0.5848, "USD/USD") == "0.585 USD per USD"
    assert fmt.quantity(float("nan"), "GW", missing="not reached") == "not reached"
    assert fmt.percent(-0.52, signed=True) == "-52 %"
    assert fmt.years_span([2032, 2033]) == "2032-33" and fmt.years_span([2028, 2030, 2031]) == "2028, 2030-31"


def test_summary_keys_become_labels_not_raw_keys():
    names = {"vendor": {"amd": "AMD"}, "host": {"self-build": "Self-build"}}
    assert fmt.label("capacity_by_vendor.amd", names) == "AMD capacity"
    assert fmt.label("capacity_by_host.self-build", names) == "Self-build capacity"
    assert fmt.label("total_cost") == "Total discounted cost"
    assert fmt.label("some_new_key") == "Some new key"


def test_the_terminal_uses_the_same_formatting_as_the_pages():
    from model.fmt import figure as _fmt, shadow_price as shadow_text

    assert _fmt({"value": 7.29e12, "unit": "USD"}) == fmt.quantity(7.29e12, "USD") == "7.29 trillion USD"
    assert shadow_text({"value": -2.55e10, "unit": "USD/GW"}) == "-25.5 billion USD/GW"


# ----------------------------------------------------------------------------
# Colours
# ----------------------------------------------------------------------------
def _hue(hex_colour: str) -> float:
    import colorsys

    r, g, b = (int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5))
    return colorsys.rgb_to_hsv(r, g, b)[0] * 360


def test_every_colour_in_the_file_is_distinct_and_sourced():
    table = read_colours(COLOURS_FILE)
    assert len(set(table.values())) == len(table)
    rows = (COLOURS_FILE.read_text().splitlines())[1:]
    assert all(row.split(",", 3)[3].strip() for row in rows)


def test_a_host_that_is_also_a_vendor_keeps_its_colour():
    assert colour("vendor", "aws") == colour("host", "aws")
    assert colour("vendor", "google") == colour("host", "google-cloud")
    assert colour("vendor", "cerebras") == colour("host", "cerebras")


def test_amd_and_broadcom_are_clearly_different_hues():
    d = abs(_hue(colour("vendor", "amd")) - _hue(colour("vendor", "broadcom")))
    assert min(d, 360 - d) > 60


def test_the_same_name_gets_the_same_colour_in_two_runs_with_different_orders():
    names = ["oracle", "microsoft", "newcomer-cloud", "stargate", "another-host"]
    code = ("import json, sys; from model.colours import colours; "
            "print(json.dumps(colours('host', json.loads(sys.argv[1]))))")
    runs = []
    for order, seed in ((names, "1"), (names[::-1], "2")):
        out = subprocess.run([sys.executable, "-c", code, json.dumps(order)], capture_output=True, text=True,
                             check=True, env={**os.environ, "PYTHONHASHSEED": seed}).stdout
        runs.append(json.loads(out))
    assert runs[0] == runs[1] == colours("host", names)


def test_a_bad_colours_file_names_line_and_field(tmp_path):
    f = tmp_path / "colours.csv"
    f.write_text("kind,name,colour,source\nvendor,acme,red,assumption: x\nplanet,mars,#ff0000,\n")
    with pytest.raises(InputErrors) as err:
        read_colours(f)
    text = str(err.value)
    assert "line 2, field 'colour'" in text and "line 3, field 'kind'" in text and "line 3, field 'source'" in text


# ----------------------------------------------------------------------------
# Plan page pieces
# ----------------------------------------------------------------------------
def _limit(name, constraint, value, unit="USD/GW"):
    return {"name": name, "constraint": constraint, "shadow_price": {"value": value, "unit": unit},
            "meaning": f"about {name}"}


def test_two_limits_that_read_alike_get_what_differs_in_their_label():
    rows = plan_page.binding_frame([
        _limit("Stargate sites / NVIDIA GPU / US-Ohio build cap 2031", "build_cap[ports-pike-ohio,2031]", -3e10),
        _limit("Stargate sites / NVIDIA GPU / US-Ohio build cap 2031", "build_cap[stargate-ohio,2031]", -2e10),
        _limit("AWS supply cap 2033", "vendor_supply_cap[aws,2033]", -1e10)], ["US-Ohio"], {})
    labels = [r["label"] for r in rows]
    assert len(set(labels)) == 3
    assert "ports-pike-ohio" in labels[0] and "stargate-ohio" in labels[1] and labels[2] == "AWS supply cap 2033"


def test_limits_roll_up_by_family_region_and_year():
    regions = [f"R{i}" for i in range(10)]
    limits = [_limit(f"grid and power built in {r} {y}", f"grid_power[{r},{y}]", -1e10 * (i + 1))
              for i, r in enumerate(regions) for y in (2032, 2033)]
    rows = plan_page.binding_frame(limits, regions, {})
    assert plan_page.rollup_sentences(rows, 10)[0] == "grid connection binds in all 10 regions in 2032-33 (20 limits)"


def test_money_verdict_names_the_borrowing_and_the_missing_debt_limit():
    s = {"debt": {"2030": {"value": 1e12, "unit": "USD"}, "2033": {"value": 8.3e12, "unit": "USD"}}}
    assert plan_page.money_verdict(s, {}) == ("It needs 8.3 trillion USD of borrowing by 2033 (the most debt "
                                              "outstanding in any year); no debt limit set.")
    s = {"debt_peak": {"value": 2e12, "unit": "USD", "year": 2031}, "debt_limit": {"value": 3e12, "unit": "USD"}}
    assert "2 trillion USD of borrowing by 2031" in plan_page.money_verdict(s, {})
    assert "within a debt limit of 3 trillion USD" in plan_page.money_verdict(s, {})


def test_energy_comparison_reads_as_times_a_country():
    s = {"target_year": 2033, "energy": {"value": 1868, "unit": "TWh"},
         "energy_comparison": "1,868 TWh in 2033 is 2.0x global data centres 2030 (945 TWh); 3.6x germany 2024 "
                              "(512 TWh); 4.4x us data centres 2030 (426 TWh)"}
    text = plan_page.energy_sentence(s)
    assert text.startswith("It uses 1,870 TWh of electricity in 2033: 3.6× Germany's use in 2024 (512 TWh)")
    assert "US data centres" in text


# ----------------------------------------------------------------------------
# The five kinds of set, built from toy inputs
# ----------------------------------------------------------------------------
def _futures_file(folder: Path) -> Path:
    doc = {"first_stage_last_year": 2026, "penalty": "10e9 USD/GW", "futures": [
        {"name": "on time", "probability": 0.5},
        {"name": "late", "probability": 0.5, "source": "assumption: toy",
         "add": [{"file": "vendor_supply.csv", "rows": [
             {"vendor": "acme", "year": 2026, "parameter": "supply_cap", "value": 100, "unit": "GW/a", **SRC},
             {"vendor": "acme", "year": 2027, "parameter": "supply_cap", "value": 0, "unit": "GW/a", **SRC}]}]}]}
    path = folder / "futures.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


@pytest.fixture(scope="module")
def sets(tmp_path_factory) -> dict[str, Path]:
    """One small set of each kind (toy inputs; a few seconds each)."""
    tmp = tmp_path_factory.mktemp("pages")
    folder = write_inputs(tmp / "in")
    t = default_tables()
    t["region_parameters"] = [{"region": "R", "year": "", **q("grid_power", 4, "GW")},
                              {"region": "R", "year": "", **q("pue", 1.2, "dimensionless")},
                              {"region": "R", "year": "", **q("electricity_price", 50, "USD/MWh")}]
    t["offer_parameters"].append({"offer": "buy", "year": "", **q("build_cap", 1, "GW/a")})
    energy = write_inputs(tmp / "energy", **t)
    r = tmp / "r"
    out = {}
    assert main(["--inputs", str(folder), "--target", "2GW", "--results", str(r), "--name", "plan"]) == 0
    out["plan"] = r / "plan" / "report.html"
    assert main(["--inputs", str(energy), "--target", "3.5GW", "--results", str(r), "--name", "missed"]) == 3
    assert main(["compare", str(r / "plan"), str(r / "missed"), "--results", str(r), "--out", "cmp"]) == 0
    out["compare"] = r / "cmp" / "compare.html"
    assert main(["sweep", "--no-progress", "--inputs", str(energy), "--target", "3GW", "--vary", "pue=1.1:1.6",
                 "--vary", "electricity_price=20:100USD/MWh", "--method", "grid", "--steps", "3", "--workers", "1",
                 "--results", str(r), "--name", "sweep"]) == 0
    out["sweep"] = r / "sweep" / "report.html"
    assert main(["stochastic", "--inputs", str(folder), "--target", "2GW", "--futures", str(_futures_file(folder)),
                 "--results", str(r), "--name", "stoch"]) == 0
    out["stochastic"] = r / "stoch" / "report.html"
    assert main(["alternatives", "--inputs", str(folder), "--target", "2GW", "--slack", "20%", "--results", str(r),
                 "--name", "alt"]) == 0
    out["alternatives"] = r / "alt" / "report.html"
    return out


#: Words each kind's verdict sentence must hold.
VERDICT = {"plan": "The plan holds 2 GW", "compare": "missed against plan", "sweep": "cases meet the 3GW target",
           "stochastic": "Across 2 futures the hedged plan costs", "alternatives": "within 20 % of the least cost"}


def test_every_kind_of_set_writes_a_self_contained_page(sets):
    for kind, page in sets.items():
        html = page.read_text()
        sources = re.findall(r"\bsrc=['\"]([^'\"]*)", html)
        assert all(s.startswith("data:image/png;base64,") for s in sources), kind
        assert "<script" not in html and "<link" not in html and "@import" not in html and "url(" not in html, kind
        assert VERDICT[kind] in html, (kind, VERDICT[kind])


def test_the_sweep_page_keeps_met_and_missed_cases_apart_and_has_a_heat_map(sets):
    html = sets["sweep"].read_text()
    assert "reaches only" in html and "does not change the capacity" in html
    assert "Electricity price (USD/MWh)" in html          # units in the case table's header
    assert (sets["sweep"].parent / "plots" / "heatmap.png").stat().st_size > 5000
    assert (sets["sweep"].parent / "plots" / "distributions_met_missed.png").exists()


def test_the_stochastic_page_says_what_vss_evpi_and_cvar_mean(sets):
    html = sets["stochastic"].read_text()
    for words in ("Value of the stochastic solution", "Expected value of perfect information", "CVaR",
                  "Chance of missing the target"):
        assert words in html
    assert (sets["stochastic"].parent / "plots" / "cost_by_future.png").exists()


def test_the_plan_page_shows_keys_added_later_when_present(sets, tmp_path):
    folder = tmp_path / "set"
    shutil.copytree(sets["plan"].parent, folder)
    summary = json.loads((folder / "summary.json").read_text())
    summary.update({
        "all_in_capex_per_gw": {"value": 4.1e10, "unit": "USD/GW", "basis": "purchase, power and fit-out per GW"},
        "debt_peak": {"value": 3.2e9, "unit": "USD", "year": 2027},
        "target_binds": {"value": True},
        "calibration": {"value": [{"figure": "capacity 2025", "value": 1.9, "reference": 2.0, "unit": "GW",
                                   "ratio": 0.95, "tolerance": {"low": 0.9, "high": 1.1}, "verdict": "within",
                                   "reconcile": "", "source": "https://example.org/c"}], "unit": ""},
        "assumptions_ranked": {"value": [{"key": "pue", "label": "PUE", "low": 1.1, "high": 1.5, "unit": "",
                                          "cost_low": 3e9, "cost_high": 5e9, "capacity_low": 2, "capacity_high": 2,
                                          "swing": 2e9, "swing_unit": "USD"}], "unit": ""}})
    (folder / "summary.json").write_text(json.dumps(summary))
    html = plan_page.render(folder)
    assert "All-in capital cost per GW" in html and "41 billion USD/GW" in html
    assert "purchase, power and fit-out per GW" in html
    assert "3.2 billion USD of borrowing by 2027" in html
    assert "Read before quoting" in html and "PUE" in html and "https://example.org/c" in html
    assert "target_binds" not in html and "Target binds" in html


def _visible_text_problems(text: str) -> list[str]:
    found = [m.group(0) for m in E_NOTATION.finditer(text)]
    found += [w for w in INTERNALS if w in text]
    return found


@pytest.mark.parametrize("kind", ["plan", "compare", "sweep", "stochastic", "alternatives"])
def test_page_renders_in_headless_chromium_without_network_and_opens_with_its_verdict(browser, sets, kind,  # noqa: F811
                                                                                       tmp_path):
    shots = Path(os.environ.get("PAGE_SHOTS_DIR") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    for width in (1400, 800):
        browser.set_window_size(width, 900)
        browser.get(sets[kind].resolve().as_uri())
        resources = browser.execute_script(
            "return performance.getEntriesByType('resource').map(e => e.name)")
        assert all(r.startswith("data:") for r in resources), resources      # nothing fetched
        images = browser.execute_script(
            "return Array.from(document.images).map(i => i.complete && i.naturalWidth > 0)")
        assert images and all(images), kind
        text = browser.find_element("tag name", "body").text
        assert not _visible_text_problems(text), (kind, _visible_text_problems(text))
        first = browser.execute_script(
            "const v = document.getElementById('verdict'); const r = v.getBoundingClientRect();"
            "return [r.top, r.bottom, window.innerHeight, v.innerText]")
        assert 0 <= first[0] < first[2] and VERDICT[kind] in first[3], (kind, first)
        assert browser.execute_script("return document.documentElement.scrollWidth") <= width + 2, kind
        top = shots / f"{kind}_{width}_first_screen.png"
        browser.save_screenshot(str(top))
        height = min(browser.execute_script("return document.documentElement.scrollHeight"), 12000)
        browser.set_window_size(width, height)
        full = shots / f"{kind}_{width}_full.png"
        browser.save_screenshot(str(full))
        assert top.stat().st_size > 20_000 and full.stat().st_size > 40_000, kind


def test_reference_labels_on_the_energy_plot_never_overlap():
    from model.report_energy import _label_positions

    values = [945.0, 512.0, 426.0, 415.0, 176.0]
    ys = _label_positions(values, 60.0)
    assert all(a - b >= 60.0 - 1e-9 for a, b in zip(ys, ys[1:]))
    assert ys[0] == 945.0 and ys[1] == 512.0      # labels that do not crowd stay at their line


def test_the_hedge_picture_shows_vendor_host_and_region_hedges(tmp_path):
    from model.pages.stochastic import hedge_plot

    hedge = [{"dimension": "host", "key": "stargate", "difference": {"value": -0.3, "unit": "GW"}},
             {"dimension": "region", "key": "US-Texas", "difference": {"value": -0.3, "unit": "GW"}}]
    png = hedge_plot(hedge, {"host": {"stargate": "Stargate sites"}}, 2027, tmp_path)
    assert png is not None and len(png) > 5000


def test_a_target_that_does_not_bind_is_said_on_the_first_screen():
    s = {"status": "optimal", "target": {"value": 1.0, "unit": "GW"}, "target_year": 2027,
         "total_cost": {"value": 45e9, "unit": "USD"},
         "target_binds": {"value": False, "unit": "",
                          "note": "the target does not bind: 3.0 GW in service in 2027 against a target of 1.0 GW"}}
    v = plan_page.plan_verdict(s, [], [], {})
    assert any(m.startswith("The target does not bind: 3.0 GW in service") for m in v["more"])
    s["target_binds"]["value"] = True
    assert not any("does not bind" in m for m in plan_page.plan_verdict(s, [], [], {})["more"])
