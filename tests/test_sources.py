"""The base data say where their numbers come from.

Every default row of ``inputs/*.csv`` has a ``source``: an original publication
(URL or publisher) or ``assumption: <reason>``. At most 40 % of the rows may be
assumptions, and no row may cite the team's facts sheet (``facts.md`` /
``facts §N``), which is not in the repository: a reader could not follow it.
A sourced row names its original publication; a secondary site (``SECONDARY_SITES``) may carry it,
never alone (at most 5 % of sourced rows), and every deal, site, delivery and stock GW states its basis.
"""
from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
import yaml

INPUTS = Path(__file__).resolve().parent.parent / "inputs"
MAX_ASSUMPTION_SHARE = 0.40
FACTS_SHEET = re.compile(r"facts\.md|facts\s*§", re.IGNORECASE)


def data_rows(path: Path) -> list[dict[str, str]]:
    """The rows of one input CSV (comment and blank lines skipped, as the loader does)."""
    lines = [line for line in path.read_text(encoding="utf-8-sig").splitlines()
             if line.strip() and not line.lstrip().startswith("#")]
    return list(csv.DictReader(lines))


def is_assumption(row: dict[str, str]) -> bool:
    source = (row.get("source") or "").strip()
    return not source or source.lower().startswith("assumption")


def count_assumptions(folder: Path) -> tuple[int, int, dict[str, tuple[int, int]]]:
    """(assumption rows, all rows, per file (assumptions, rows)) over ``folder/*.csv``."""
    per_file = {}
    for path in sorted(folder.glob("*.csv")):
        rows = data_rows(path)
        if rows and "source" not in rows[0]:
            continue        # presentation, not data: display_names.csv has no source column by design
        per_file[path.name] = (sum(is_assumption(r) for r in rows), len(rows))
    return sum(a for a, _ in per_file.values()), sum(n for _, n in per_file.values()), per_file


def test_counter_sees_assumption_and_sourced_rows(tmp_path):
    (tmp_path / "a.csv").write_text("# a comment\nkey,value,source\n"
                                    "x,1,assumption: no public figure\ny,2,https://example.org/report\n"
                                    "z,3,\n", encoding="utf-8")
    assert count_assumptions(tmp_path)[:2] == (2, 3)


def test_at_most_40_percent_of_default_rows_are_assumptions():
    assumed, total, per_file = count_assumptions(INPUTS)
    detail = ", ".join(f"{name} {a}/{n}" for name, (a, n) in per_file.items())
    assert total > 0
    assert assumed / total <= MAX_ASSUMPTION_SHARE, (
        f"{assumed} of {total} rows ({assumed / total:.0%}) are assumptions, more than "
        f"{MAX_ASSUMPTION_SHARE:.0%}: {detail}")


@pytest.mark.parametrize("path", sorted(INPUTS.glob("*.csv")), ids=lambda p: p.name)
def test_no_row_cites_the_facts_sheet_instead_of_the_publication(path):
    bad = [(i, r.get("source", "")) for i, r in enumerate(data_rows(path), start=2)
           if FACTS_SHEET.search(" ".join(v or "" for v in r.values()))]
    assert not bad, f"{path.name}: rows cite the facts sheet, not the original publication: {bad[:5]}"


# --- Sources a reader can follow (issue 21): a secondary site may carry a figure, never alone. ---

#: Sites that retell others' reporting (aggregators, mirrors, republishers, blogs). A row that cites one of
#: them must also name the original publication; ``secondary only: <site>`` marks a row whose original
#: could not be found (it still counts as resting on the secondary site alone).
SECONDARY_SITES = (
    "coinalertnews.com", "particle.news", "smbom.com", "news.az", "altcoinbeat.com", "bharathorizon.com",
    "itiger.com", "ainvest.com", "cdomagazine.tech", "centerconsulting.com", "news.anyfans.com",
    "newszone.arammon.com", "getaibook.com", "3dtested.com", "gogoai.xin", "news.superex.com", "compux.net",
    "lowdown.today", "thedailyscout.com", "beleevid.com", "rtowww.com", "deepquarry.substack.com", "ktbb.com",
    "nasdaq.com", "the-decoder.com", "newsbytesapp.com", "compute.institute", "introl.com", "twojepc.pl",
    "newsmax.com", "techbuzz.ai", "longportapp.com", "trendarabul.com", "ai-blogs.org", "aigazine.com",
    "fool.com", "build.inc", "enkiai.com", "renewafi.com", "megaproject.com", "public compilation",
    "secondary only",
)
#: Names that identify an original publication: a news organisation or research group that published the
#: figure itself, or a company's own document (release, blog post, filing, earnings call). A company's bare
#: name is not enough (OpenAI, AMD, NVIDIA ... are the subjects of most rows), its document or domain is.
ORIGINAL_PUBLISHERS = re.compile(
    r"\b(Reuters|Bloomberg|WSJ|Wall Street Journal|Financial Times|FT|The Information|CNBC|TechCrunch|"
    r"Business Insider|Tom's Hardware|DatacenterDynamics|datacenterdynamics\.com|Utility ?Dive|utilitydive\.com|"
    r"E&E News|eenews\.net|Latitude Media|latitudemedia\.com|RTO Insider|channelnewsasia\.com|CNA|"
    r"FOX 2 Detroit|fox2detroit\.com|WPR|Albuquerque Journal|abqjournal\.com|MEED|meed\.com|The National|"
    r"thenationalnews\.com|Mercom|mercomindia\.com|IEEE Spectrum|pv magazine|WOWO|wowo\.com|"
    r"Epoch AI|epoch\.ai|epoch-research|LBNL|Berkeley Lab|IEA|EIA|eia\.gov|EPA|eGRID|ENTSO-E|IPCC|"
    r"TrendForce|SemiWiki|Citi|Rabobank|rabobank\.com|Lazard|Wood Mackenzie|Uptime Institute|Dallas Fed|NOAA|"
    r"RAND|JLL|ERCOT|PJM|Michigan PSC|PUCO|AEP Ohio|aepohio\.com|Dominion|Constellation|Masdar|EWEC|"
    r"NVIDIA GTC|AMD Advancing AI|on X|Statista|statista\.com|Cushman & Wakefield|CBRE|Bundesnetzagentur|"
    r"openai\.com|nvidianews\.nvidia\.com|nvidia\.com|ir\.amd\.com|amd\.com|broadcom\.com|aboutamazon\.com|"
    r"blogs\.microsoft\.com|cerebras\.ai|oracle\.com|sec\.gov|energy\.gov|prnewswire|"
    r"S-1|10-K|8-K|earnings call|press release|(OpenAI|NVIDIA|AMD|Broadcom|Amazon|AWS|Microsoft|Oracle|"
    r"Cerebras|SoftBank|Nscale|Aker|Google|Meta|Talen|Kairos|Oklo|TerraPower|Vistra|Crusoe|IREN|DOE|Commerce)(/[A-Za-z]+)*"
    r"('s)? (release|blog|announcement|post|filing|statement|keynote))\b")
MAX_SECONDARY_ONLY_SHARE = 0.05


def cites_secondary(source: str) -> bool:
    """True if the text cites a site on the secondary list (or says ``secondary only``)."""
    text = source.lower()
    return any(site in text for site in SECONDARY_SITES)


def names_original(source: str) -> bool:
    """True if the text names an original publication (publisher, research group or primary document)."""
    return bool(ORIGINAL_PUBLISHERS.search(source))


def rests_on_secondary_alone(row: dict[str, str]) -> bool:
    """A sourced row that cites a secondary site and names no original publication."""
    source = row.get("source") or ""
    return not is_assumption(row) and cites_secondary(source) and not names_original(source)


def count_secondary_only(folder: Path) -> tuple[int, int, list[str]]:
    """(rows resting on a secondary site alone, sourced rows, ``file:line`` of each) over ``folder/*.csv``."""
    alone, sourced = [], 0
    for path in sorted(folder.glob("*.csv")):
        lines = path.read_text(encoding="utf-8-sig").splitlines()
        data_lines = [i for i, line in enumerate(lines, start=1)
                      if line.strip() and not line.lstrip().startswith("#")][1:]
        for line_no, row in zip(data_lines, data_rows(path)):
            if is_assumption(row):
                continue
            sourced += 1
            if rests_on_secondary_alone(row):
                alone.append(f"{path.name}:{line_no}")
    return len(alone), sourced, alone


@pytest.mark.parametrize("source, alone", [
    ("https://coinalertnews.com/news/2026/01/15/openai-cerebras-10-billion-chip-deal", True),
    ("secondary only: coinalertnews.com (the original could not be found)", True),
    ("WSJ via https://www.cdomagazine.tech/aiml/openai-signs-300b-cloud-deal-with-oracle", False),
    ("OpenAI release 'AWS and OpenAI announce ...', 2025-11-03; https://particle.news/story/x", False),
    ("OpenAI's 6 GW deal (https://www.nasdaq.com/articles/openai-deploy-6-gigawatts-amd-gpus)", True),
    ("EIA Electric Power Annual, https://www.eia.gov/electricity/annual/secrev-map.php", False),
])
def test_a_secondary_site_counts_only_when_no_original_is_named(source, alone):
    assert rests_on_secondary_alone({"source": source}) is alone


def test_at_most_5_percent_of_sourced_rows_rest_on_a_secondary_site_alone():
    alone, sourced, where = count_secondary_only(INPUTS)
    assert sourced > 0
    assert alone / sourced <= MAX_SECONDARY_ONLY_SHARE, (
        f"{alone} of {sourced} sourced rows ({alone / sourced:.0%}) cite only a secondary site "
        f"(SECONDARY_SITES) without naming the original publication: {', '.join(where)}")


def yaml_sources(node) -> list[str]:
    """Every ``source`` string in a scenario or futures document, at any depth."""
    if isinstance(node, dict):
        return [s for k, v in node.items()
                for s in ([v] if k == "source" and isinstance(v, str) else yaml_sources(v))]
    if isinstance(node, list):
        return [s for v in node for s in yaml_sources(v)]
    return []


def test_scenario_and_futures_sources_name_their_original_too():
    """The same rule holds for the sources in ``scenarios/*.yaml`` and ``futures/*.yaml``."""
    paths = sorted(INPUTS.glob("scenarios/*.yaml")) + sorted(INPUTS.glob("futures/*.yaml"))
    sourced = [(p.name, s) for p in paths for s in yaml_sources(yaml.safe_load(p.read_text(encoding="utf-8")))
               if not s.strip().lower().startswith("assumption")]
    alone = [(name, s[:80]) for name, s in sourced if cites_secondary(s) and not names_original(s)]
    assert sourced
    assert len(alone) / len(sourced) <= MAX_SECONDARY_ONLY_SHARE, alone


#: Files whose GW rows are deal, site or delivery figures: each must say on which basis it counts them.
BASIS_FILES = ("deal_terms.csv", "commitments.csv", "opening_stock.csv", "targets.csv", "offer_parameters.csv")


def test_every_deal_and_site_gw_states_its_basis():
    """A deal or site GW is IT capacity (what the model counts); one the source gives as facility power is
    converted with the region's PUE, and the row says so (``basis: ...``). Regional power rows are facility power
    by definition (inputs/README.md)."""
    missing = [f"{name}: {next(iter(row.values()))} {row.get('parameter', '')}"
               for name in BASIS_FILES for row in data_rows(INPUTS / name)
               if row.get("unit") == "GW" and "basis:" not in (row.get("source") or "") + (row.get("note") or "")]
    assert not missing, f"GW rows without a stated basis (IT capacity, or facility power converted): {missing}"
