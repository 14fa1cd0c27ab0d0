"""``report.html``: self-contained, and rendered by a real browser (headless Chromium).

The browser tests need Chromium and its driver (Debian packages ``chromium`` and
``chromium-driver``, installed by ``.ci/run``) and the ``selenium`` package
(the ``test`` extra). Where any of them is missing they are skipped, saying
which; CI has all three.
"""
from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

import pytest

from model.cli import main
from toy import default_tables, deal, term, write_inputs

BROWSER_FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--window-size=1280,1600")


def _browser_paths() -> tuple[str | None, str | None]:
    binary = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)),
                  None)
    return binary, shutil.which("chromedriver")


def _no_browser(reason: str) -> None:
    """Skip, saying why; on CI (``CI=true``) fail instead: CI must render the report in a real browser."""
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"CI must have a headless browser, but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser():
    """A headless Chromium driven by selenium, with a fresh profile; skipped (saying why) without one."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        _no_browser("selenium is not installed (pip install -e '.[test]')")
    binary, driver = _browser_paths()
    if binary is None or driver is None:
        _no_browser("no headless browser: install the Debian packages chromium and chromium-driver "
                    "(apt-get install -y chromium chromium-driver; .ci/run does)")
    profile = tempfile.mkdtemp(prefix="report-test-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in (*BROWSER_FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    drv = webdriver.Chrome(service=Service(driver), options=options)
    try:
        yield drv
    finally:
        drv.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _scenario_toy(tmp_path: Path) -> Path:
    folder = write_inputs(tmp_path / "inputs")
    (folder / "scenarios" / "cool.yaml").write_text(
        "description: Cooler halls\n"
        "set:\n  pue: {value: '1.1', source: 'assumption: liquid cooling, https://example.org/pue'}\n")
    return folder


@pytest.fixture(scope="module")
def report_set(tmp_path_factory) -> Path:
    """A toy result set with plots and report.html, run under a scenario with one override."""
    tmp = tmp_path_factory.mktemp("report")
    folder = _scenario_toy(tmp)
    assert main(["--inputs", str(folder), "--scenario", "cool", "--target", "2GW", "--results", str(tmp / "r"),
                 "--name", "toy"]) == 0
    return tmp / "r" / "toy"


def test_report_is_self_contained_with_inline_images_and_no_scripts(report_set):
    page = (report_set / "report.html").read_text()
    sources = re.findall(r"\bsrc=['\"]([^'\"]*)", page)
    assert len(sources) >= 4 and all(s.startswith("data:image/png;base64,") for s in sources)
    assert "<script" not in page and "<link" not in page and "@import" not in page
    assert "url(" not in page  # no external fonts or backgrounds


def test_report_states_status_target_cost_overrides_and_provenance(report_set):
    page = (report_set / "report.html").read_text()
    assert "Target met" in page and "optimal" in page
    assert "2 GW" in page and "from 2027" in page
    assert "Total discounted cost" in page and "4 billion USD" in page
    assert "Inputs that differ from the base data" in page and ">pue<" in page
    assert "https://example.org/pue" in page                 # the override's source, linked
    assert "--scenario cool" in page and "offers.csv" in page  # command line and input hashes


def test_report_of_a_missed_target_names_the_largest_reachable_figure(tmp_path):
    tables = default_tables()
    tables["vendor_supply"] = [{**tables["vendor_supply"][0], "value": 1}]
    folder = write_inputs(tmp_path / "in", **tables)
    assert main(["--inputs", str(folder), "--target", "100GW", "--results", str(tmp_path / "r"),
                 "--name", "m"]) == 3
    page = (tmp_path / "r" / "m" / "report.html").read_text()
    assert "Target missed" in page and "Largest reachable" in page and "3 GW" in page
    assert "What stops more: chip supply" in page and "Acme supply cap" in page     # model.why's story
    assert "would lower the total cost" not in page                                  # no cost dual of the held plan


def test_report_of_contradictory_inputs_has_no_plan_but_says_what_must_give(tmp_path):
    folder = write_inputs(tmp_path / "in", deals=[deal("big", "vendor=acme", 2025, 2027)],
                          deal_terms=[term("big", "minimum", 500, "GW")])
    assert main(["--inputs", str(folder), "--results", str(tmp_path / "r"), "--name", "x"]) == 3
    page = (tmp_path / "r" / "x" / "report.html").read_text()
    assert "Inputs contradict each other" in page and "would have to" in page
    assert "no plan" in page


def test_report_renders_in_headless_chromium_with_every_image_loaded(browser, report_set):
    browser.get((report_set / "report.html").resolve().as_uri())
    images = browser.execute_script(
        "return Array.from(document.images).map(i => [i.alt, i.complete, i.naturalWidth, i.naturalHeight])")
    assert len(images) >= 4
    assert all(complete and width > 0 and height > 0 for _, complete, width, height in images), images
    text = browser.find_element("tag name", "body").text
    assert "Target met" in text and "optimal" in text
    assert "TARGET" in text.upper() and "2 GW" in text
    assert "TOTAL DISCOUNTED COST" in text.upper() and "4 billion USD" in text
    assert browser.execute_script("return document.querySelectorAll('.card').length") >= 4


def test_compare_page_renders_in_headless_chromium_with_every_image_loaded(browser, report_set, tmp_path):
    assert main(["compare", str(report_set), str(report_set), "--results", str(tmp_path / "c"),
                 "--out", "same"]) == 0
    browser.get((tmp_path / "c" / "same" / "compare.html").resolve().as_uri())
    images = browser.execute_script("return Array.from(document.images).map(i => i.complete && i.naturalWidth)")
    assert len(images) == 3 and all(images), images
    assert "Headline figures" in browser.find_element("tag name", "body").text


def test_more_figures_leaves_out_what_other_sections_show_such_as_the_supply_shares():
    """The Shares, Why and Read-before-quoting sections show these; 'More figures' once dumped them as
    ~230 rows of dotted keys ('Supply share: vendor (AMD.by year.2025)')."""
    from model.pages.plan import more_blocks

    summary = {"target_year": 2033, "emissions": {"value": 223.0, "unit": "Mt/a"},
               "supply_share": {"vendor": {"amd": {"basis": "world run", "unit": "dimensionless",
                                                   "by_year": {"2033": 1.0}}}},
               "what_stops": {"unit": "GW", "sentence": "money first", "families": []},
               "headline_range": {"value": 85.2, "low": 68.8, "high": 117.0, "unit": "GW"},
               "binding_note": "cost duals hold only for vanishing moves"}
    shown = [row["cells"][0]["text"] for row in more_blocks(summary, {})[0]["table"]["rows"]]
    assert shown == ["Emissions"], shown
