"""Pages a reader trusts at a glance (issue 24), on every kind of page, in headless Chromium at 1400 and 800 px.

One toy whose ids look like the real ones (``self-acme-north_buy``, ``acme_take_or_pay``, ``US-North_1``) is
run as every kind of set: a plan that meets its target, one that misses it, a max-capacity plan, a comparison,
grid, one-at-a-time and Monte Carlo sweeps, a stochastic plan, alternatives, and the live page. Each page is
rendered once per width and checked for everything at once:

- no input id in the visible text (names from ``display_names.csv``, or the id in words);
- no horizontal scrolling of the page;
- every chart's smallest text at least 11 px as displayed (``model.charts`` records it in the PNG);
- one colour per company on every page (``inputs/colours.csv``).
"""
from __future__ import annotations

import base64
import io
import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

from model.charts import recorded
from model.cli import main
from model.colours import colour
from test_report import browser  # noqa: F401  (the headless Chromium fixture)
from toy import SRC, default_tables, deal, q, term, write_inputs

ROOT = Path(__file__).resolve().parent.parent
REGION, BUY, RENT, DEAL = "US-North_1", "self-acme-north_buy", "cloud-acme-north_rent", "acme_take_or_pay"
IDS = (REGION, BUY, RENT, DEAL, "after_horizon", "solar_storage")
#: Words that show an id or a Python value leaked into the page.
LEAKS = ("least cost (least cost)", "('", "')")
MIN_TEXT_PX = 11.0


def _renamed(rows: list[dict], column: str, old: str, new: str) -> list[dict]:
    return [{**r, column: new} if r.get(column) == old else r for r in rows]


def _tables() -> dict[str, list[dict]]:
    t = default_tables()
    for stem in ("offers", "offer_parameters", "opening_stock"):
        t[stem] = _renamed(_renamed(t[stem], "offer", "buy", BUY), "offer", "rent", RENT)
    for stem in ("regions", "region_parameters", "offers"):
        t[stem] = _renamed(t[stem], "region", "R", REGION)
    t["region_parameters"] = [{"region": REGION, "year": "", **q("grid_power", 4, "GW")},
                              {"region": REGION, "year": "", **q("pue", 1.2, "dimensionless")},
                              {"region": REGION, "year": "", **q("electricity_price", 50, "USD/MWh")}]
    t["offer_parameters"].append({"offer": BUY, "year": "", **q("build_cap", 1, "GW/a")})
    t["deals"] = [deal(DEAL, f"offer={RENT}", 2025, 2027)]
    t["deal_terms"] = [term(DEAL, "minimum", 0.5, "GW")]
    return t


def _futures(folder: Path) -> Path:
    doc = {"first_stage_last_year": 2026, "penalty": "10e9 USD/GW", "futures": [
        {"name": "chips on time", "probability": 0.5},
        {"name": "chips late", "probability": 0.5, "source": "assumption: toy",
         "add": [{"file": "vendor_supply.csv", "rows": [
             {"vendor": "acme", "year": 2026, "parameter": "supply_cap", "value": 100, "unit": "GW/a", **SRC},
             {"vendor": "acme", "year": 2027, "parameter": "supply_cap", "value": 0, "unit": "GW/a", **SRC}]}]}]}
    path = folder / "futures.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


@pytest.fixture(scope="module")
def toy(tmp_path_factory) -> Path:
    folder = write_inputs(tmp_path_factory.mktemp("readable") / "in", **_tables())
    (folder / "display_names.csv").write_text(   # the rent offer has no row: it is shown in words
        f"kind,id,name\noffer,{BUY},Acme bought in the north\ndeal,{DEAL},Acme take-or-pay\n"
        f"region,{REGION},the north\ncost_part,after_horizon,owed after the horizon\n")
    return folder


@pytest.fixture(scope="module")
def pages(toy, tmp_path_factory) -> dict[str, Path]:
    """Every kind of static page, from the toy (a few seconds each)."""
    r = tmp_path_factory.mktemp("readable-sets")
    i = ["--inputs", str(toy), "--results", str(r)]
    sweep = ["sweep", "--no-progress", *i, "--workers", "1"]
    runs = {
        "plan met": (["--target", "2GW", "--name", "met", *i], 0, "met/report.html"),
        "plan missed": (["--target", "3.5GW", "--name", "missed", *i], 3, "missed/report.html"),
        "max capacity": (["--objective", "max-capacity", "--year", "2027", "--name", "most", *i], 0,
                         "most/report.html"),
        "sweep grid": ([*sweep, "--target", "3GW", "--vary", "pue=1.1:1.6", "--vary",
                        "electricity_price=20:100USD/MWh", "--method", "grid", "--steps", "3", "--name", "grid"], 0,
                       "grid/report.html"),
        "sweep one at a time": ([*sweep, "--target", "3GW", "--vary", "pue=1.1:1.6", "--vary",
                                 f"deal_minimum.{DEAL}=0.2:1GW", "--method", "oat", "--name", "oat"], 0,
                                "oat/report.html"),
        "sweep Monte Carlo": ([*sweep, "--target", "3GW", "--vary", "pue=1.1:1.6", "--method", "montecarlo",
                               "--samples", "12", "--seed", "3", "--name", "mc"], 0, "mc/report.html"),
        "stochastic": (["stochastic", *i, "--target", "2GW", "--futures", str(_futures(toy)), "--name", "stoch"], 0,
                       "stoch/report.html"),
        "alternatives": (["alternatives", *i, "--target", "2GW", "--slack", "20%", "--name", "alt"], 0,
                         "alt/report.html"),
    }
    out = {}
    for kind, (args, code, page) in runs.items():
        assert main(args) == code, kind
        out[kind] = r / page
    assert main(["compare", str(r / "met"), str(r / "missed"), "--results", str(r), "--out", "cmp"]) == 0
    out["compare"] = r / "cmp" / "compare.html"
    return out


@pytest.fixture(scope="module")
def live(toy, tmp_path_factory):
    """``run.py serve`` on the toy (2 GW by 2027); yields its URL."""
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.Popen([sys.executable, "run.py", "serve", "--inputs", str(toy), "--port", "0", "--target",
                             "2GW", "--year", "2027", "--results", str(tmp_path_factory.mktemp("live"))],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url, lines, deadline = None, [], time.monotonic() + 120
    while time.monotonic() < deadline and url is None:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        m = re.search(r"(http://127\.0\.0\.1:\d+)/", line)
        url = m.group(1) if m else None
    if url is None:
        proc.kill()
        pytest.fail("run.py serve did not start:\n" + "".join(lines))
    threading.Thread(target=proc.stdout.read, daemon=True).start()
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def _visible_text(drv) -> str:
    """The page's text as a reader sees it, less code a reader copies (command lines, hashes)."""
    return drv.execute_script(
        "const b = document.body.cloneNode(true);"
        "b.querySelectorAll('code, .mono, script, style').forEach(e => e.remove());"
        "document.documentElement.appendChild(b); b.style.position = 'absolute'; b.style.left = '-99999px';"
        "const t = b.innerText; b.remove(); return t;")


def _id_problems(text: str) -> list[str]:
    found = [i for i in IDS if re.search(r"(?<![\w-])" + re.escape(i) + r"(?![\w-])", text)]
    return found + [w for w in LEAKS if w in text]


def _pngs(html: str) -> list[bytes]:
    return [base64.b64decode(s) for s in re.findall(r"src=['\"]data:image/png;base64,([^'\"]+)", html)]


def _has_colour(png: bytes, hexa: str, tol: int = 6) -> bool:
    """Whether the PNG has pixels of ``hexa`` (or of it at the plots' 95 % opacity over white)."""
    import numpy as np
    from PIL import Image

    rgb = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=int)
    want = np.array([int(hexa[i:i + 2], 16) for i in (1, 3, 5)])
    for c in (want, 0.95 * want + 0.05 * 255):
        if (np.abs(rgb - c).max(axis=2) <= tol).any():
            return True
    return False


def test_every_page_names_instead_of_ids_fits_800_and_1400_px_and_its_charts_read(browser, pages):  # noqa: F811
    problems = []
    for kind, page in pages.items():
        html = page.read_text()
        pngs = _pngs(html)
        marks = [recorded(p) for p in pngs]
        problems += [f"{kind}: chart {i} was not saved by model.charts" for i, m in enumerate(marks)
                     if "min_text_px" not in m]
        for width in (1400, 800):
            browser.set_window_size(width, 1000)
            browser.get(page.resolve().as_uri())
            scroll = browser.execute_script("return document.documentElement.scrollWidth")
            if scroll > width:
                problems.append(f"{kind} at {width} px: the page scrolls sideways ({scroll} px wide)")
            shown = browser.execute_script(
                "return Array.from(document.images).map(i => [i.clientWidth, i.naturalWidth])")
            assert len(shown) == len(pngs), kind
            for (client, natural), m in zip(shown, marks):
                px = float(m.get("min_text_px", 0)) * client / max(natural, 1)
                if px < MIN_TEXT_PX:
                    problems.append(f"{kind} at {width} px: chart text {px:.1f} px (< {MIN_TEXT_PX})")
            text = _visible_text(browser)
            problems += [f"{kind} at {width} px shows {w!r}" for w in _id_problems(text)]
    assert not problems, "\n".join(problems)


def test_pages_lead_with_the_finding_in_words(pages):
    html = {k: p.read_text() for k, p in pages.items()}
    text = {k: re.sub(r"<[^>]+>", " ", h) for k, h in html.items()}
    first = {k: re.sub(r"<[^>]+>", " ", re.search(r"<section id=\"verdict\".*?</section>", h, re.S).group(0))
             for k, h in html.items()}                                  # the verdict: the page's first words
    assert "is the ceiling" in first["plan met"]                                      # the ceiling, met or not
    assert "Maximised" in first["max capacity"] and "Target met" not in first["max capacity"]
    assert "What changed: target: met 2 GW, missed 3.5 GW" in first["compare"]
    assert re.search(r"[+-][\d.]+ (GW|billion USD|million USD)", first["compare"])  # differences in units
    for kind in ("sweep grid", "sweep one at a time", "sweep Monte Carlo"):
        assert re.search(r"\d+ of \d+ cases|All \d+ cases|No case of the \d+", first[kind]), kind
    assert "exposed" in first["stochastic"] or "Nobody is left unpaid" in first["stochastic"]
    assert "no plan" not in first["sweep grid"] or "because" in first["sweep grid"]     # why, when some fail


def test_each_company_has_one_colour_on_every_kind_of_page(pages, live):
    """The host colours of inputs/colours.csv in the plan's, the comparison's and the live page's pictures."""
    host_colours = {h: colour("host", h) for h in ("self", "cloud")}
    plan_hosts = (pages["plan met"].parent / "plots" / "capacity_by_host.png").read_bytes()
    diff = pages["compare"].parent / "plots" / "difference.png"
    req = urllib.request.Request(live + "/api/solve", data=json.dumps(
        {"target": "2GW", "year": 2027, "detail": True, "figures": "page"}).encode(),
        headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=120) as r:
        rows = json.loads(r.read())["series"]["capacity_by_host"]["rows"]
    live_colours = {row["id"]: row["colour"] for row in rows}
    for host, hexa in host_colours.items():
        assert _has_colour(plan_hosts, hexa), ("plan", host, hexa)
        assert live_colours.get(host, hexa) == hexa, ("live page", host)
    assert live_colours and {row["name"] for row in rows} <= {"Self-build", "Cloud"}
    if diff.exists():
        assert any(_has_colour(diff.read_bytes(), h) for h in host_colours.values())


def test_the_live_page_fits_800_px_reads_at_11_px_and_names_instead_of_ids(browser, live):  # noqa: F811
    problems = []
    for width in (1400, 800):
        browser.set_window_size(width, 1000)
        browser.get(live + "/")
        deadline = time.monotonic() + 120
        while browser.execute_script("return document.body.dataset.updates") == "0":
            assert time.monotonic() < deadline, "the live page did not show a plan"
            time.sleep(0.1)
        scroll = browser.execute_script("return document.documentElement.scrollWidth")
        if scroll > width:
            problems.append(f"live page at {width} px scrolls sideways ({scroll} px)")
        smallest = browser.execute_script(
            "return Math.min(...Array.from(document.querySelectorAll('svg text')).map(t => {"
            "const s = t.ownerSVGElement, vb = s.viewBox.baseVal;"
            "return parseFloat(getComputedStyle(t).fontSize) * s.getBoundingClientRect().width / (vb.width || 1)}))")
        if smallest < MIN_TEXT_PX:
            problems.append(f"live page at {width} px: chart text {smallest:.1f} px")
        verdict = browser.find_element("id", "verdict")
        if verdict.rect["x"] + verdict.rect["width"] > width:
            problems.append(f"live page at {width} px cuts its verdict")
        problems += [f"live page shows {w!r}" for w in _id_problems(_visible_text(browser))]
        ticks = browser.execute_script(
            "return Array.from(document.querySelectorAll('#chart-vendor svg text')).map(t => t.textContent)")
        odd = [t for t in ticks if re.fullmatch(r"[\d.,]+", t) and not re.fullmatch(r"\d{4}", t)
               and float(t.replace(",", "")) % 0.5]
        if odd:
            problems.append(f"live page axis ticks not round: {odd}")
    assert not problems, "\n".join(problems)


def test_a_chart_with_small_text_is_saved_with_its_text_raised_to_read_at_800_px():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from PIL import Image

    from model.charts import NARROW_COLUMN_PX, png_bytes

    fig, ax = plt.subplots(figsize=(11, 3))              # 1210 px wide: shown at 750 px in an 800 px window
    ax.plot([0, 1], [0, 1])
    ax.set_xlabel("tiny", fontsize=6)
    ax.set_title("a title far too long for a figure this narrow " * 3, fontsize=7)
    png = png_bytes(fig)
    width = Image.open(io.BytesIO(png)).size[0]
    shown = float(recorded(png)["min_text_px"]) * min(1.0, NARROW_COLUMN_PX / width)
    assert shown >= MIN_TEXT_PX
    assert float(recorded(png)["overflow_px"]) > 0 and width > 1210     # the image grew to hold the title
