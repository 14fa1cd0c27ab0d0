"""Display names (``inputs/display_names.csv``, ``model/names.py``): one name per id, checked by the loader."""
from __future__ import annotations

import re

import pytest

from model import names
from model.cli import main
from model.concerns.costs import PARTS
from model.errors import InputErrors
from model.pages import humanise_html
from model.scenario import load_scenario
from toy import write_inputs


def test_the_project_names_every_offer_deal_tranche_region_source_and_cost_part():
    s = load_scenario()
    shown = s.display_names
    assert set(shown["offer"]) == set(s.offers)
    assert set(shown["deal"]) == {d.name for d in s.deals}
    assert set(shown["commitment"]) == {c.name for c in s.commitments}
    assert set(shown["region"]) == set(s.regions)
    assert set(shown["power_source"]) == set(s.power_sources)
    assert set(shown["cost_part"]) == set(PARTS) == set(names.COST_PARTS)
    every = [n for kind in names.KINDS for n in shown[kind].values()]
    assert all(n and "_" not in n for n in every)


def test_an_unlisted_id_is_shown_in_words_never_with_underscores():
    assert names.name("deal", "aws_by_2026", {}) == "aws by 2026"
    assert names.name("power_source", "nuclear-other", {"power_source": {}}) == "nuclear other"
    assert names.name("deal", "amd_instinct", {"deal": {"amd_instinct": "AMD Instinct deal"}}) == "AMD Instinct deal"


def test_ids_in_free_text_become_names_but_not_inside_longer_ids_or_code():
    shown = {"deal": {"amd_instinct": "AMD Instinct deal", "coreweave": "CoreWeave deal"},
             "host": {"coreweave": "CoreWeave"}, "vendor": {"amd": "AMD"},
             "cost_part": {"energy": "energy", "after_horizon": "owed after the horizon"},
             "region": {"US-Texas": "Texas"}}
    words = names.humaniser(shown)
    assert words("AMD deal minimum (amd_instinct, 2026-2030)") == "AMD deal minimum (AMD Instinct deal, 2026-2030)"
    assert words("host coreweave, grid in US-Texas") == "host CoreWeave, grid in Texas"   # a host before a deal
    assert words("amd_instinct_2 and US-Texas-2 stay") == "amd_instinct_2 and US-Texas-2 stay"
    assert words("energy and after_horizon") == "energy and owed after the horizon"
    html = humanise_html("<p>amd_instinct</p><code>--set deal_minimum.amd_instinct=1GW</code>", shown)
    assert html == "<p>AMD Instinct deal</p><code>--set deal_minimum.amd_instinct=1GW</code>"


def test_a_name_for_an_id_no_input_defines_is_refused_naming_file_and_line(tmp_path, capsys):
    folder = write_inputs(tmp_path / "in")
    (folder / "display_names.csv").write_text("kind,id,name\noffer,buy,Buying\ndeal,no_such_deal,Ghost\n"
                                              "planet,R,Mars\noffer,rent,\n")
    with pytest.raises(InputErrors) as err:
        names.read_display_names(folder)
    text = str(err.value)
    assert "display_names.csv, line 3, field 'id'" in text and "'no_such_deal'" in text
    assert "line 4, field 'kind'" in text and "line 5, field 'name'" in text
    assert main(["--inputs", str(folder), "--target", "2GW", "--results", str(tmp_path / "r"), "--name", "x"]) == 2
    assert "no_such_deal" in capsys.readouterr().err
    assert not (tmp_path / "r" / "x").exists()


def test_a_plan_set_writes_the_names_its_pages_read(tmp_path):
    folder = write_inputs(tmp_path / "in")
    (folder / "display_names.csv").write_text("kind,id,name\noffer,buy,Buying outright\nregion,R,The region\n")
    assert main(["--inputs", str(folder), "--target", "2GW", "--results", str(tmp_path / "r"), "--name", "x"]) == 0
    written = names.read_names_csv(tmp_path / "r" / "x" / "tables" / "names.csv")
    assert written["offer"]["buy"] == "Buying outright" and written["region"]["R"] == "The region"
    assert written["vendor"]["acme"] == "Acme"


def test_the_terminal_share_table_shows_vendor_and_region_names_not_ids():
    from model.pages.shares import share_blocks
    from model.supply_share import terminal_lines

    summary = {"supply_share": {
        "vendor": {"amd": {"basis": "world run", "by_year": {"2033": 1.0}}},
        "region": {"US-Texas": {"basis": "world run", "by_year": {"2033": 0.31}},
                   "World-Other": {"basis": "world run", "by_year": {"2033": 0.0}}}}}
    shown = {"vendor": {"amd": "AMD"}, "region": {"US-Texas": "Texas"}}
    text = "\n".join(terminal_lines(summary, 2033, shown))
    assert "AMD" in text and "Texas" in text and "World Other" in text       # an unnamed id in words
    assert not re.search(r"\b(amd|US-Texas|World-Other)\b", text)
    page = str(share_blocks(summary, shown, 2033))
    assert "AMD" in page and "Texas" in page and "World-Other" not in page


def _explicit_names(file: str, id_column: str, name_column: str = "name", kind: str | None = None) -> dict[str, str]:
    """``{id: name}`` as written in a shipped input file (no fallback to the id in words)."""
    import csv

    from model.names import PROJECT_INPUTS

    with (PROJECT_INPUTS / file).open(encoding="utf-8") as f:
        rows = csv.DictReader(line for line in f if not line.startswith("#"))
        return {r[id_column]: (r[name_column] or "").strip() for r in rows
                if r.get(id_column) and (kind is None or r.get("kind") == kind)}


@pytest.mark.parametrize("kind, file, column", [("region", "regions.csv", "region"), ("offer", "offers.csv", "offer"),
                                                ("power_source", "power_sources.csv", "power_source"),
                                                ("deal", "deals.csv", "deal"),
                                                ("commitment", "commitments.csv", "commitment")])
def test_every_shipped_region_offer_source_deal_and_tranche_has_a_display_name_of_its_own(kind, file, column):
    """No id of inputs/ falls back to its id in words (``World-Other`` -> ``World Other``)."""
    ids = set(_explicit_names(file, column, column))
    named = {i for i, n in _explicit_names("display_names.csv", "id", kind=kind).items() if n}
    assert ids and not ids - named, f"no display name in inputs/display_names.csv for {kind} {sorted(ids - named)}"


@pytest.mark.parametrize("file, column", [("vendors.csv", "vendor"), ("hosts.csv", "host"),
                                          ("families.csv", "family")])
def test_every_shipped_vendor_host_and_family_has_a_name(file, column):
    shown = _explicit_names(file, column)
    assert shown and all(shown.values()), f"{file}: no name for {sorted(i for i, n in shown.items() if not n)}"


def test_power_built_figures_are_labelled_with_the_power_sources_names():
    from model.fmt import label

    shown = {"power_source": {"grid-world-other": "new grid, rest of the world"}}
    assert label("power_built.grid-world-other", shown) == "Power built: new grid, rest of the world"


def test_a_tranche_cap_reads_once_as_the_end_of_an_offer():
    """A cap's limit is 'end of offer NAME': its name must not say 'end of' again ('end of offer end of Cerebras')."""
    shown = names.project_names()
    caps = [c for c in load_scenario().commitments if c.bound == "at_most"]
    assert caps
    for c in caps:
        label = names.humanise(f"end of offer {c.name} ({c.first_year}-{c.last_year})", shown)
        assert "end of offer end of" not in label and c.name not in label, label
