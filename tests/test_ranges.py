"""Plausible ranges as data (issue 21, item 1): ``inputs/ranges.csv`` covers every assumption-marked or
derived row, is validated like the other inputs, and moves its rows through the override path; the
headline carries the range those inputs give, one at a time and jointly."""
from __future__ import annotations

import json
import shutil

import pytest

from model.cli import main
from model.errors import InputErrors
from model.inputs.ranges import OUT_OF_SCOPE_FILES, WORLD_ONLY, change_for, check_ranges, in_scope
from model.scenario import DEFAULT_INPUTS, TargetSpec, read_base_inputs
from toy import default_tables, q, rng, write_inputs

#: Confidence marks of the rows that must carry a range (or a stated reason to be left out).
RANGED_MARKS = ("assumption", "D")


def test_every_assumption_or_derived_row_has_a_range_or_a_reason_to_be_excluded():
    # the tables a run uses: after inputs/world_allocation.csv replaced the buyer_share rows (the loader's
    # "covers nothing" check looks at the same tables); rows outside the single-buyer LP are out of scope
    base = read_base_inputs(DEFAULT_INPUTS, None)
    ranges = check_ranges(DEFAULT_INPUTS)
    missing = []
    for file, table in base.tables.items():
        if "confidence" not in table.columns:
            continue
        for row in table.rows:
            if not in_scope(file, row):
                continue
            if row.get("confidence") in RANGED_MARKS and not any(r.covers(file, row) for r in ranges):
                missing.append(f"{file} line {row.row}: {row.get('parameter') or ''} {dict(row.values)}"[:160])
    assert not missing, f"{len(missing)} rows without a range in inputs/ranges.csv:\n" + "\n".join(missing[:20])
    excluded = [r for r in ranges if r.excluded]
    assert excluded and all(r.reason.lower().startswith("excluded:") and len(r.reason) > 20 for r in excluded)
    # the inputs the issue names are ranged: revenue growth, the debt limit, the US-Other grid build cap,
    # ASIC growth, the horizon's end, the rates
    labels = {r.label for r in ranges if not r.excluded}
    assert {"revenue growth after 2030", "debt limit", "US-Other grid build cap", "ASIC output growth",
            "end of the horizon", "discount rate", "interest rate on borrowing",
            "revenue share for compute"} <= labels


def _aws_allocation(folder):
    """A world allocation for AWS alone (shares of 0.5 and 1 by year) written into ``folder``."""
    src = "python run.py world --write-allocation on inputs of 2026-12-02"
    rows = [f"vendor,aws,{y},{0.5 if y < 2030 else 1.0},dimensionless,{src}" for y in range(2025, 2036)]
    (folder / "world_allocation.csv").write_text("kind,name,year,share,unit,source\n" + "\n".join(rows) + "\n")


@pytest.mark.parametrize("allocated", [False, True])
def test_shares_are_ranged_as_a_run_reads_them_and_held_to_all_of_it(tmp_path, allocated):
    folder = tmp_path / "in"        # without the shipped allocation: the buyer_share rows decide
    shutil.copytree(DEFAULT_INPUTS, folder, ignore=shutil.ignore_patterns("world_allocation.csv"))
    if allocated:       # the tables a run uses: the allocation's rows replace the buyer_share rows
        _aws_allocation(folder)
    base = read_base_inputs(folder, None)
    ranges = check_ranges(folder)
    aws = next(r for r in ranges if r.key == "vendor_supply:buyer_share[vendor=aws]")
    rows = aws.rows(base.tables)
    assert rows and all(r.file.endswith("world_allocation.csv") == allocated for r in rows)
    assert len(rows) == (11 if allocated else 1)
    sets, doc = change_for(aws, 1.3, base.tables)
    new = [float(e["values"]["value"]) for e in doc["replace"]]
    cap = [100.0 if r.get("unit") == "percent" else 1.0 for r in rows]
    assert sets == [] and new == pytest.approx([min(c, 1.3 * float(r.get("value"))) for c, r in zip(cap, rows)])
    if allocated:       # 1 x 1.3 is held to 1; 0.5 x 1.3 moves
        assert sorted(set(new)) == pytest.approx([0.65, 1.0])
    texas = next(r for r in ranges if r.key == "region_parameters:buyer_share[region=US-Texas]")
    held = [float(e["values"]["value"]) for e in change_for(texas, 1.3, base.tables)[1]["replace"]]
    assert max(held) <= 100.0
    # no range names a row outside the single-buyer LP; the scope's files and rows exist (it is not vacuous)
    assert not any(r.file in OUT_OF_SCOPE_FILES for r in ranges)
    assert all(any(not in_scope(f, row) for row in base.tables[f].rows) for f in OUT_OF_SCOPE_FILES)
    for file, parameter in WORLD_ONLY:
        assert any(row.get("parameter") == parameter for row in base.tables[file].rows)
        assert not any(r.file == file and r.parameter == parameter for r in ranges)


def test_a_range_naming_an_input_that_does_not_exist_is_refused_with_file_line_and_field(tmp_path, capsys):
    folder = write_inputs(tmp_path / "in", ranges=[
        rng("offer_parameters.csv", "capex", "capex", 0.8, 1.2, "x"),
        rng("offer_parameters.csv", "no_such_parameter", "nothing", 0.8, 1.2, "x"),
        rng("scalars.csv", "discount_rate", "discount rate", 9, 3, "percent"),
        rng("nofile.csv", "x", "x", 1, 2, "x")])
    code = main(["--inputs", str(folder), "--results", str(tmp_path / "r"), "--name", "x", "--no-plots"])
    err = capsys.readouterr().err
    assert code == 2 and not (tmp_path / "r" / "x").exists()
    assert "ranges.csv, line 3, field 'parameter'" in err and "no such row" in err
    assert "ranges.csv, line 4, field 'high'" in err and "line 5, field 'file'" in err
    assert main(["check", "--inputs", str(folder)]) == 2


def test_a_range_moves_its_rows_through_the_loader_which_refuses_a_value_out_of_range(tmp_path):
    from model.headline_range import load
    from model.build import param_values

    folder = write_inputs(tmp_path / "in", ranges=[rng("region_parameters.csv", "pue", "PUE", 1.1, 5, "dimensionless")])
    base = read_base_inputs(folder, None)
    r = check_ranges(folder)[0]
    sets, doc = change_for(r, 1.1, base.tables)
    assert sets == [] and doc["replace"][0]["values"] == {"value": "1.1", "unit": "dimensionless"}
    s = load(base, [], TargetSpec(), [change_for(r, 1.0, base.tables)], {})
    ref = param_values(s.scenario)
    ok = load(base, [], TargetSpec(), [change_for(r, 1.1, base.tables)], ref)
    assert ok.scenario is not None and ok.changed >= {"pue"}
    bad = load(base, [], TargetSpec(), [change_for(r, 5, base.tables)], ref)
    assert bad.scenario is None and "refused by the loader" in bad.refused and "pue" in bad.refused


def _run(tmp_path, folder, *args, name="x"):
    code = main(["--inputs", str(folder), "--results", str(tmp_path / "r"), "--name", name, "--no-plots", *args])
    return code, json.loads((tmp_path / "r" / name / "summary.json").read_text())


def toy_ranges():
    return [rng("region_parameters.csv", "grid_power", "grid power", 0.8, 1.2, "x", set_key="grid_power_scale"),
            rng("offer_parameters.csv", "capex", "capex", 0.8, 1.2, "x", select="offer=buy"),
            rng("region_parameters.csv", "electricity_price", "electricity price", 0.5, 2, "x")]


def test_a_missed_target_carries_the_reach_range_of_its_inputs_one_at_a_time_and_jointly(tmp_path, capsys):
    # the toy's grid gives 100 GW: 0.8..1.2x of it moves the reach 80..120 GW; capex moves only the cost;
    # the electricity price is 0, so 0.5..2x of it moves nothing and is dropped
    code, s = _run(tmp_path, write_inputs(tmp_path / "in", ranges=toy_ranges()), "--target", "500GW")
    assert code == 3
    hr = s["headline_range"]
    assert hr["unit"] == "GW" and hr["value"] == pytest.approx(100.0)
    assert (hr["low"], hr["high"]) == (pytest.approx(80.0), pytest.approx(120.0))
    assert hr["one_at_a_time"]["low"] == pytest.approx(80.0)
    assert hr["jointly"]["cases"] == 48 and hr["jointly"]["solved"] == 48
    assert 80.0 - 1e-6 <= hr["jointly"]["low"] <= hr["jointly"]["high"] <= 120.0 + 1e-6
    assert [i["label"] for i in hr["inputs"]] == ["grid power", "capex"]
    assert hr["inputs"][0]["swing"] == pytest.approx(40.0) and hr["inputs"][1]["swing"] == pytest.approx(0.0)
    rows = s["assumptions_ranked"]["value"]
    capex = next(r for r in rows if r["label"] == "capex")
    assert capex["cost_high"] > capex["cost_low"] and capex["swing_cost"] > 0     # ranked for cost too
    assert s["assumptions_ranked"]["dropped"] == 1
    by_cost = s["assumptions_ranked"]["by_other_objective"]       # more grid: a larger plan, a larger cost
    assert [o["label"] for o in by_cost] == ["grid power", "capex"] and by_cost[0]["unit"] == "USD"
    out = capsys.readouterr().out
    assert "Most for the total cost: grid power" in out
    assert "at most 100 GW (80-120 GW over the inputs below) can be held" in out


def test_a_met_target_carries_the_cost_range_and_no_ranking_says_it_skipped(tmp_path, capsys):
    folder = write_inputs(tmp_path / "in", ranges=toy_ranges())
    code, s = _run(tmp_path, folder)
    assert code == 0
    hr = s["headline_range"]
    # 2 GW bought at 10 bnUSD/GW: capex 0.8..1.2x gives 16..24 bnUSD
    assert hr["unit"] == "USD" and (hr["low"], hr["high"]) == (pytest.approx(16e9), pytest.approx(24e9))
    assert hr["inputs"][0]["label"] == "capex"
    assert "Total cost: 20 billion USD (16-24 billion USD over the inputs below)" in capsys.readouterr().out
    code, s = _run(tmp_path, folder, "--no-ranking", name="y")
    assert s["headline_range"]["note"] == "not computed: --no-ranking" and "assumptions_ranked" not in s


def test_the_same_inputs_give_the_same_range_and_ranking(tmp_path):
    folder = write_inputs(tmp_path / "in", ranges=toy_ranges())
    _, a = _run(tmp_path, folder, "--target", "500GW", name="a")
    _, b = _run(tmp_path, folder, "--target", "500GW", name="b")
    assert a["headline_range"] == b["headline_range"] and a["assumptions_ranked"] == b["assumptions_ranked"]
    manifest = json.loads((tmp_path / "r" / "a" / "manifest.json").read_text())
    assert "range_s" in json.dumps(manifest)            # the time it took is in the manifest, not the summary
