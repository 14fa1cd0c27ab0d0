"""``run.py compare``: alignment by key, units, the inputs that differ, refusals, never overwriting."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from model.cli import main


def solve(inputs: Path, results: Path, name: str, *extra: str) -> Path:
    """A small result set of the toy inputs (no plots: fast)."""
    assert main(["--inputs", str(inputs), "--results", str(results), "--name", name, "--no-plots", *extra]) == 0
    return results / name


def compare(*args: str) -> int:
    return main(["compare", *args])


def fake_set(folder: Path, summary: dict, manifest: dict | None = None) -> Path:
    """A result set written by hand (as an older or foreign version might have)."""
    folder.mkdir(parents=True)
    (folder / "summary.json").write_text(json.dumps(summary))
    if manifest is not None:
        (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


def fig(value: float, unit: str) -> dict:
    return {"value": value, "unit": unit}


def test_compare_of_a_set_with_itself_shows_no_differences(toy, tmp_path, capsys):
    rs = solve(toy, tmp_path / "r", "a")
    capsys.readouterr()
    assert compare(str(rs), str(rs), "--results", str(tmp_path / "c"), "--out", "self", "--no-plots") == 0
    out = capsys.readouterr().out
    assert "no differences" in out
    assert "identical in every set" in out
    assert "none in any set" in out
    head = pd.read_csv(tmp_path / "c" / "self" / "tables" / "headline.csv")
    assert set(head["set"]) == {"a", "a (2)"}
    assert (head["difference"].dropna() == 0).all()
    assert head["note"].isna().all()
    assert (tmp_path / "c" / "self" / "compare.html").exists()


def test_compare_of_two_scenarios_lists_exactly_the_overridden_inputs(toy, tmp_path, capsys):
    (toy / "scenarios" / "cool.yaml").write_text(
        "description: cooler halls\n"
        "set:\n  pue: {value: '1.1', source: 'assumption: liquid cooling'}\n")
    (toy / "scenarios" / "cheap-money.yaml").write_text(
        "description: cheaper money, no leases\n"
        "set:\n  discount_rate: {value: '5%', source: 'assumption: cheaper capital'}\n"
        "drop:\n  - {file: offers.csv, where: {offer: rent}, source: 'assumption: no cloud lease'}\n")
    shared = ("--set", "utilisation=60%")   # the same in both: not a difference
    a = solve(toy, tmp_path / "r", "cool", "--scenario", "cool", *shared)
    b = solve(toy, tmp_path / "r", "cheap", "--scenario", "cheap-money", *shared)
    capsys.readouterr()
    assert compare(str(a), str(b), "--results", str(tmp_path / "c"), "--out", "x", "--no-plots") == 0
    out = capsys.readouterr().out
    over = pd.read_csv(tmp_path / "c" / "x" / "tables" / "overrides.csv")
    assert set(over.loc[over["differs"], "key"]) == {"pue", "discount_rate", "offers.csv[offer=rent]"}
    assert set(over.loc[~over["differs"], "key"]) == {"utilisation"}
    row = over[(over["key"] == "discount_rate") & (over["set"] == "cheap")].iloc[0]
    assert (row["value"], row["unit"]) == ("5", "%")
    assert over[(over["key"] == "discount_rate") & (over["set"] == "cool")].iloc[0]["value"] == "(base data)"
    for key in ("pue", "discount_rate", "offers.csv[offer=rent]"):
        assert key in out
    files = pd.read_csv(tmp_path / "c" / "x" / "tables" / "inputs.csv")
    assert set(files.loc[files["differs"], "file"]) == {"scenarios/cool.yaml", "scenarios/cheap-money.yaml"}


def test_compare_converts_compatible_units_and_flags_incompatible_ones(tmp_path, capsys):
    a = fake_set(tmp_path / "A", {"status": "optimal", "target": fig(250, "GW"), "target_year": 2033,
                                  "facility_power": fig(300, "GW"), "energy": fig(1866, "TWh")})
    b = fake_set(tmp_path / "B", {"status": "optimal", "target": fig(250_000, "MW"), "target_year": 2033,
                                  "facility_power": fig(330_000, "MW"), "energy": fig(1866, "GW")})
    assert compare(str(a), str(b), "--results", str(tmp_path / "c"), "--out", "u", "--no-plots") == 0
    out = capsys.readouterr().out
    head = pd.read_csv(tmp_path / "c" / "u" / "tables" / "headline.csv").set_index(["key", "set"])
    assert head.loc[("target", "B"), "value"] == pytest.approx(250.0)
    assert head.loc[("target", "B"), "unit"] == "GW" and head.loc[("target", "B"), "difference"] == 0
    assert head.loc[("target", "B"), "note"] == "converted from MW"
    assert head.loc[("facility_power", "B"), "difference"] == pytest.approx(30.0)
    assert head.loc[("facility_power", "B"), "difference_pct"] == pytest.approx(10.0)
    assert head.loc[("energy", "B"), "note"].startswith("incompatible unit")
    assert pd.isna(head.loc[("energy", "B"), "difference"])
    assert "330 (+30, +10.0%)" in out and "(!)" in out and "incompatible unit" in out


def test_compare_aligns_breakdowns_by_member_not_position(tmp_path):
    a = fake_set(tmp_path / "A", {"status": "optimal",
                                  "capacity_by_vendor": {"acme": fig(2, "GW"), "zeta": fig(1, "GW")}})
    b = fake_set(tmp_path / "B", {"status": "optimal",
                                  "capacity_by_vendor": {"zeta": fig(1000, "MW"), "new": fig(0.5, "GW")}})
    assert compare(str(a), str(b), "--results", str(tmp_path / "c"), "--out", "m", "--no-plots") == 0
    head = pd.read_csv(tmp_path / "c" / "m" / "tables" / "headline.csv").set_index(["key", "set"])
    assert head.loc[("capacity_by_vendor.zeta", "B"), "difference"] == 0
    assert head.loc[("capacity_by_vendor.acme", "B"), "note"] == "absent (counted as 0)"
    assert head.loc[("capacity_by_vendor.acme", "B"), "difference"] == pytest.approx(-2.0)
    assert head.loc[("capacity_by_vendor.new", "A"), "value"] == 0


def test_older_result_set_missing_keys_are_named_by_key_and_set(tmp_path, capsys):
    a = fake_set(tmp_path / "new", {"status": "optimal", "total_cost": fig(5e9, "USD"), "energy": fig(10, "TWh"),
                                    "cost_by_part": {"capital": fig(5e9, "USD")}})
    b = fake_set(tmp_path / "old", {"status": "optimal", "total_cost": fig(6e9, "USD")},
                 {"version": "0.0.9", "inputs_sha256": {}})
    assert compare(str(a), str(b), "--results", str(tmp_path / "c"), "--out", "o", "--no-plots") == 0
    out = capsys.readouterr().out
    assert "old lacks energy used, cost by part" in out and "version 0.0.9" in out     # in words, not keys
    missing = pd.read_csv(tmp_path / "c" / "o" / "tables" / "missing.csv")
    assert set(zip(missing["key"], missing["set"])) == {("energy", "old"), ("cost_by_part", "old")}


@pytest.mark.parametrize("damage", ["no folder", "no summary", "corrupt summary", "corrupt manifest",
                                    "summary is a list"])
def test_missing_or_corrupt_result_set_is_refused_naming_the_path(toy, tmp_path, capsys, damage):
    good = solve(toy, tmp_path / "r", "good")
    bad = tmp_path / "r" / "bad"
    if damage != "no folder":
        bad.mkdir()
    if damage == "corrupt summary":
        (bad / "summary.json").write_text('{"status": "optimal", ')
    elif damage == "corrupt manifest":
        (bad / "summary.json").write_text('{"status": "optimal"}')
        (bad / "manifest.json").write_text("not json")
    elif damage == "summary is a list":
        (bad / "summary.json").write_text("[1, 2]")
    capsys.readouterr()
    assert compare(str(good), str(bad), "--results", str(tmp_path / "c"), "--no-plots") == 2
    err = capsys.readouterr().err
    assert str(bad) in err
    assert not (tmp_path / "c").exists() or not any((tmp_path / "c").iterdir())


def test_compare_needs_two_sets(toy, tmp_path, capsys):
    rs = solve(toy, tmp_path / "r", "a")
    assert compare(str(rs), "--results", str(tmp_path / "c")) == 2
    assert "two or more" in capsys.readouterr().err


def test_comparison_set_is_never_overwritten(toy, tmp_path, capsys):
    rs = solve(toy, tmp_path / "r", "a")
    args = (str(rs), str(rs), "--results", str(tmp_path / "c"), "--out", "same", "--no-plots")
    assert compare(*args) == 0
    page = tmp_path / "c" / "same" / "compare.html"
    before = page.read_bytes()
    capsys.readouterr()
    assert compare(*args) == 2
    assert "exists already" in capsys.readouterr().err
    assert page.read_bytes() == before
    assert not list((tmp_path / "c").glob(".tmp-*"))


def test_comparison_set_has_long_tables_with_a_set_column_and_side_by_side_plots(toy, toy_capped, tmp_path):
    a = solve(toy, tmp_path / "r", "free")
    b = solve(toy_capped, tmp_path / "r", "capped")
    assert compare(str(a), str(b), "--results", str(tmp_path / "c"), "--out", "p") == 0
    out = tmp_path / "c" / "p"
    cap = pd.read_csv(out / "tables" / "capacity_by_vendor.csv")
    assert list(cap.columns[:2]) == ["set", "vendor"] and set(cap["set"]) == {"free", "capped"}
    for name in ("headline", "inputs", "overrides", "missing", "binding", "power", "costs", "spending"):
        assert "set" in pd.read_csv(out / "tables" / f"{name}.csv").columns, name
    for png in ("capacity_by_vendor.png", "power.png", "cost.png"):
        assert (out / "plots" / png).stat().st_size > 1000, png
    html = (out / "compare.html").read_text()
    assert html.count("src='data:image/png;base64,") == 3 and "<script" not in html
    man = json.loads((out / "manifest.json").read_text())
    assert [s["label"] for s in man["sets"]] == ["free", "capped"] and man["reference"] == "free"


def _with_shares(summary: dict, nvidia: float) -> dict:
    shares = {"vendor": {v: {"basis": "world run", "unit": "dimensionless", "by_year": {"2033": s}}
                         for v, s in (("amd", 1.0), ("nvidia", nvidia))},
              "region": {r: {"basis": "world run", "unit": "dimensionless", "by_year": {"2033": 0.5}}
                         for r in ("US-Texas", "US-Ohio", "World-Other")}}
    return {"status": "optimal", "target": fig(60, "GW"), "target_year": 2033, "supply_share": shares, **summary}


def test_the_compare_headline_opens_with_the_figures_that_matter_and_says_shares_apart(tmp_path, capsys):
    a = fake_set(tmp_path / "A", _with_shares({"total_cost": fig(2.78e12, "USD"), "facility_power": fig(72, "GW"),
                                               "interest_share": {"2033": fig(0.35, "")}}, 0.0))
    b = fake_set(tmp_path / "B", _with_shares({"total_cost": fig(2.71e12, "USD"), "facility_power": fig(70, "GW"),
                                               "interest_share": {"2033": fig(0.3, "")}}, 0.4123))
    assert compare(str(a), str(b), "--results", str(tmp_path / "c"), "--out", "s", "--no-plots") == 0
    out = capsys.readouterr().out
    table = out.split("Headline figures", 1)[1].split("\n\n", 1)[0].splitlines()[3:]
    assert [line.split("  ")[0] for line in table[:4]] == ["Status", "Target", "Total discounted cost",
                                                            "Facility power"], table
    assert "supply_share" not in out and not any("share" in line.lower() and "world" in line.lower()
                                                  for line in table)
    assert "Interest as a share of revenue 2033" in out and "-5 points" in out and "0.35" not in out
    shares = out.split("Shares of the world's supply", 1)[1]
    assert "1 of 5 differ" in shares and "NVIDIA (chips)" in shares and "41 %" in shares and "0 %" in shares
    head = pd.read_csv(tmp_path / "c" / "s" / "tables" / "headline.csv")      # the file keeps every share
    assert (head["key"] == "supply_share.vendor.nvidia.by_year.2033").any()


def test_an_overridden_share_reads_in_percent_on_the_terminal_and_the_page(tmp_path, capsys):
    share = {"action": "set", "target": "buyer_share.nvidia", "detail": "0.4123", "origin": "--set",
             "source": "command line"}
    a = fake_set(tmp_path / "A", {"status": "optimal"}, {"overrides": []})
    b = fake_set(tmp_path / "B", {"status": "optimal"}, {"overrides": [share]})
    assert compare(str(a), str(b), "--results", str(tmp_path / "c"), "--out", "o") == 0
    out = capsys.readouterr().out
    assert "41.23 %" in out and "0.4123" not in out.split("Overrides that differ", 1)[1]
    assert "41.23 %" in (tmp_path / "c" / "o" / "compare.html").read_text()
