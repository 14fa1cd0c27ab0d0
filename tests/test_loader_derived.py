"""The sweep path's cheaper steps give exactly what the plain steps give.

A changed table is checked from its clean base (only the rows that differ); the grid sources' prices are
filled in after the energy family; the slots' polynomials are multiplied column by column; a set-mode
assignment drops rows through an index; the non-finite net reads tables in C; a chunk runs with the
long-lived heap frozen. Each is compared here with the plain way, including where the cheap way must give up.
"""
from __future__ import annotations

import gc
import shutil
from dataclasses import replace
from types import MappingProxyType

import numpy as np
import pytest

from model.errors import InputErrors
from model.inputs import SCHEMAS, RawRow
from model.inputs import memo
from model.inputs.memo import MEMOS
from model.inputs.table_checks import CheckedTables
from model.inputs.values import check_rows
from model.scenario import DEFAULT_INPUTS, TargetSpec, load_scenario, load_variant, read_base_inputs


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """The default inputs without the world allocation (a PUE change would re-solve the world otherwise)."""
    folder = tmp_path_factory.mktemp("derived") / "inputs"
    shutil.copytree(DEFAULT_INPUTS, folder, ignore=shutil.ignore_patterns("world_allocation.csv"))
    b = read_base_inputs(folder)
    load_variant(b, [], TargetSpec("60GW"))          # the base's tables checked in full, clean: the relatives
    return b


def _checked_tables() -> CheckedTables:
    return next(m for m in MEMOS if isinstance(m, CheckedTables))


def _region_check(b, table):
    """check_rows of a region_parameters table as the loader calls it, with its problems."""
    ids = {"regions.csv": frozenset(r.get("region") for r in b.tables["regions.csv"].rows)}
    problems: list = []
    rows = check_rows(table, SCHEMAS["region_parameters.csv"], b.catalogue, ids, (2025, 2035), problems)
    return rows, problems


def test_a_changed_table_is_derived_from_its_base_and_equals_the_full_check(base):
    ct = _checked_tables()
    before = ct.derived_tables
    s = load_variant(base, ["pue=1.17", "electricity_price=95 USD/MWh"], TargetSpec("60GW"))
    assert ct.derived_tables > before                 # the region table was derived, not checked in full
    with memo.nothing_kept():
        full = load_scenario(base.inputs_dir, sets=["pue=1.17", "electricity_price=95 USD/MWh"],
                             target=TargetSpec("60GW"))
    assert s == replace(full, display_names=s.display_names)


def test_a_duplicate_key_in_a_derived_table_gets_the_full_checks_words(base):
    """A row that repeats a kept row's key: the derivation gives up, and the full check names the duplicate."""
    table = base.tables["region_parameters.csv"]
    _region_check(base, table)                        # the base table: a clean relative
    copy = RawRow(dict(table.rows[3].values), "scenario x", "add 1")    # same key as line of rows[3], new object
    changed = replace(table, rows=table.rows + (copy,))
    rows, problems = _region_check(base, changed)
    with memo.nothing_kept():
        full_rows, full_problems = _region_check(base, changed)
    assert problems == full_problems and len(problems) == 1
    assert "duplicate" in problems[0].found and rows == full_rows


def test_the_same_row_object_twice_is_a_duplicate_as_in_the_full_check(base):
    table = base.tables["region_parameters.csv"]
    _region_check(base, table)
    twice = replace(table, rows=table.rows + (table.rows[5],))
    _, problems = _region_check(base, twice)
    with memo.nothing_kept():
        _, full_problems = _region_check(base, twice)
    assert problems == full_problems and len(problems) == 1 and "duplicate" in problems[0].found


def test_a_bad_new_row_gets_the_full_checks_problems(base):
    table = base.tables["region_parameters.csv"]
    _region_check(base, table)
    bad = RawRow({**table.rows[0].values, "parameter": "pue", "value": "1.2", "unit": "GW", "region": "US-East",
                  "year": "2030"}, "scenario x", "add 2")
    changed = replace(table, rows=table.rows[1:] + (bad,))
    rows, problems = _region_check(base, changed)
    with memo.nothing_kept():
        full_rows, full_problems = _region_check(base, changed)
    assert problems == full_problems and problems and rows == full_rows


def test_grid_sources_take_their_regions_price_after_the_energy_family(base):
    s = load_variant(base, ["electricity_price=123 USD/MWh"], TargetSpec("60GW"))
    grid = [p for p, src in s.power_sources.items() if src.kind == "grid"]
    assert grid
    own_rows = {r.get("power_source") for r in base.tables["power_source_parameters.csv"].rows
                if r.get("parameter") == "energy_price"}
    fed = [p for p in grid if p not in own_rows]
    assert fed, "a grid source without its own energy_price rows"
    for p in fed:
        region = s.power_sources[p].region
        for y in s.years:
            assert s.source_energy_price_bnusd_per_twh[p, y] == s.electricity_price_bnusd_per_twh[region, y]
            assert s.source_energy_price_bnusd_per_twh[p, y] == pytest.approx(0.123)      # bn USD/TWh
    # the kept energy answer is not changed by the fill: another price gives its own figures
    t = load_variant(base, ["electricity_price=50 USD/MWh"], TargetSpec("60GW"))
    assert t.source_energy_price_bnusd_per_twh[fed[0], s.years[0]] == pytest.approx(0.05)
    assert s.source_energy_price_bnusd_per_twh[fed[0], s.years[0]] == pytest.approx(0.123)
    assert list(t.source_energy_price_bnusd_per_twh) == list(s.source_energy_price_bnusd_per_twh)   # key order


def test_polynomials_column_by_column_equal_numpy_prod_exactly():
    from model.fastsolve.polynomial import evaluate_slots

    rng = np.random.default_rng(7)
    for degree in (0, 1, 2, 3):
        n_params, n_mono, n_slots = 40, 500, 120
        p = np.append(rng.normal(size=n_params) * 10 ** rng.uniform(-3, 3, size=n_params), 1.0)
        fac = rng.integers(0, n_params + 1, size=(n_mono, degree))
        coef = rng.normal(size=n_mono)
        slot = rng.integers(0, n_slots, size=n_mono)
        plain = np.bincount(slot, weights=coef * np.prod(p[fac], axis=1) if degree else coef, minlength=n_slots)
        assert np.array_equal(evaluate_slots(slot, coef, fac, n_slots, p), plain)
    assert np.array_equal(evaluate_slots(np.array([], dtype=np.int64), np.array([]), np.zeros((0, 2), dtype=np.int64),
                                         3, np.ones(1)), np.zeros(3))


def test_set_mode_drops_the_rows_the_plain_filter_drops(base):
    from model.inputs.overrides import _dropped_positions, _kept_rows

    table = base.tables["region_parameters.csv"]
    regions = sorted({r.get("region") for r in table.rows})
    for parameters, qualifier, members in [({"pue"}, None, []), ({"pue"}, "region", regions[:3]),
                                           ({"buyer_share", "capacity_credit"}, "region", regions[-2:]),
                                           ({"no_such"}, None, []), ({"pue"}, "region", ["atlantis"])]:
        plain = tuple(r for r in table.rows if not (r.get("parameter") in parameters
                                                    and (qualifier is None or r.get(qualifier) in members)))
        assert _kept_rows(table, _dropped_positions(table, parameters, qualifier, members)) == plain


def test_a_table_a_set_made_finds_each_parameters_rows_where_its_own_rows_hold_them(base):
    """Positions worked out from the parent's (less the dropped, plus the added) equal those read from the rows,
    through a chain of --set assignments on the same tables, and the tables equal the plain filter's."""
    from model.inputs.overrides import _Positions, _positions, apply_set

    tables = dict(base.tables)
    chain = ["pue=1.15", "electricity_price=80 USD/MWh", "pue.US-Texas=1.3", "pue=1.12", "grid_power_scale=1.1", "electricity_price.US-Ohio=70 USD/MWh",
             "supply_growth.nvidia=30 %", "supply_growth=20 %", "deal_minimum.amd_instinct=4 GW"]
    for assignment in chain:
        before = tables[{"pue": "region_parameters.csv", "electricity_price": "region_parameters.csv",
                         "grid_power_scale": "region_parameters.csv", "supply_growth": "vendor_supply.csv",
                         "deal_minimum": "deal_terms.csv"}[assignment.split("=")[0].split(".")[0]]]
        apply_set(tables, base.catalogue, assignment)
        for file in ("region_parameters.csv", "vendor_supply.csv", "deal_terms.csv"):
            table = tables[file]
            plain = _Positions(table)
            for name in {r.get("parameter") for r in table.rows} | {"no_such"}:
                assert _positions(table).of(name) == plain.of(name), (assignment, file, name)
        assert before is not None
    assert [r.get("value") for r in tables["region_parameters.csv"].rows
            if r.get("parameter") == "pue" and r.get("region") == "US-Texas"] == ["1.12"]


@pytest.mark.parametrize("values, bad", [
    ({"a": 1.0, "b": 2.0}, []),
    ({"a": 1.0, "b": float("nan")}, ["b"]),
    ({"a": float("inf"), "b": -float("inf")}, ["a", "b"]),
    ({"a": 1e308, "b": 1e308}, []),                  # finite each, their sum is not: nothing to report
    ({"a": 1, "b": True, "c": 2.5}, []),
    ({"a": (1.0, float("nan"))}, ["a"]),
])
def test_the_non_finite_net_names_exactly_the_non_finite_entries(values, bad):
    from model.scenario import _non_finite

    found = _non_finite(values, "field", [])
    assert sorted(e.row.split("[")[1].strip("'\"]") for e in found) == bad


def test_a_chunk_leaves_the_heap_unfrozen_even_when_a_case_fails():
    from model.sweep.runner import long_lived_frozen

    assert gc.get_freeze_count() == 0
    with pytest.raises(RuntimeError):
        with long_lived_frozen():
            assert gc.get_freeze_count() > 0
            raise RuntimeError("a case failed")
    assert gc.get_freeze_count() == 0


def test_a_refused_case_after_a_derived_one_is_refused_as_run_py_refuses_it(base):
    load_variant(base, ["pue=1.3"], TargetSpec("60GW"))
    with pytest.raises(InputErrors) as derived:
        load_variant(base, ["pue=0.5"], TargetSpec("60GW"))
    with memo.nothing_kept(), pytest.raises(InputErrors) as full:
        load_scenario(base.inputs_dir, sets=["pue=0.5"], target=TargetSpec("60GW"))
    assert [str(e) for e in derived.value.errors] == [str(e) for e in full.value.errors]


@pytest.mark.parametrize("sets", [[], ["pue=1.31"], ["electricity_price.Norway=70 USD/MWh", "pue=1.2"],
                                  ["grid_share=0.3"], ["grid_power_scale=1.5"], ["grid_share.UAE=0.5", "pue.Norway=1.4"]])
def test_region_figures_one_by_one_equal_the_region_by_region_answer(base, sets, monkeypatch):
    """Each region figure worked out alone (and kept) equals the region-by-region answer, values and key order."""
    import model.assemble.core as core

    used = core._REGION_FIGURES.hits + core._REGION_FIGURES.misses
    s = load_variant(base, sets, TargetSpec("60GW"))
    if sets:                     # (the base's region family is kept whole: no figure is asked for)
        assert core._REGION_FIGURES.hits + core._REGION_FIGURES.misses == used + len(core.REGION_FIGURES)
    with monkeypatch.context() as m, memo.nothing_kept():
        m.setattr(core, "region_figures", lambda *a, **k: None)        # region by region, nothing kept
        full = load_variant(base, sets, TargetSpec("60GW"))
    for name in ("grid_power_gw", "pue", "electricity_price_bnusd_per_twh", "grid_emissions_t_per_mwh"):
        assert getattr(s, name) == getattr(full, name), name
        assert list(getattr(s, name)) == list(getattr(full, name)), name


def test_a_region_figure_with_a_problem_is_refused_region_by_region(base, monkeypatch):
    """A problem in one figure: the answer and its problems, in order, are the region-by-region path's."""
    import model.assemble.core as core

    table = base.tables["region_parameters.csv"]
    pue_rows = [r for r in table.rows if r.get("parameter") == "pue"]
    assert pue_rows
    dated = RawRow({**pue_rows[0].values, "year": "2030"}, "scenario x", "add 3")   # an all-years row and a dated one
    grid = [r for r in table.rows if r.get("parameter") == "regional_power"]
    both = RawRow({**grid[0].values, "parameter": "grid_power", "component": "", "unit": "GW", "value": "3"},
                  "scenario x", "add 4")                                            # grid_power and regional_power
    tables = dict(base.tables)
    tables["region_parameters.csv"] = replace(table, rows=table.rows + (dated, both))
    b = replace(base, tables=tables)
    with pytest.raises(InputErrors) as fast:
        load_variant(b, [], TargetSpec("60GW"))
    with monkeypatch.context() as m, memo.nothing_kept(), pytest.raises(InputErrors) as full:
        m.setattr(core, "region_figures", lambda *a, **k: None)
        load_variant(b, [], TargetSpec("60GW"))
    assert [str(e) for e in fast.value.errors] == [str(e) for e in full.value.errors]
    assert len(fast.value.errors) >= 2


def test_a_value_and_a_provenance_kept_clean_never_hide_a_refusal(base):
    """parse_value keeps clean answers per (value, unit, spec) and check_provenance its clean texts: the same texts
    under another spec, or a refused text, are still refused, with the row's own file and line."""
    from dataclasses import replace as dc_replace

    from model.inputs.values import check_provenance, parse_value

    spec = base.catalogue.parameters["pue"]
    strict = dc_replace(spec, maximum=1.1)
    good = RawRow({"value": "1.2", "unit": "dimensionless", "source": "s", "date": "2026"}, "a.csv", 3)
    assert parse_value(good, spec, []) == parse_value(good, spec, []) == (1.2, parse_value(good, spec, [])[1])
    problems: list = []
    assert parse_value(RawRow(good.values, "b.csv", 7), strict, problems) is None
    assert [(p.file, p.row, p.field) for p in problems] == [("b.csv", 7, "value")]
    for _ in range(2):                      # refused twice: a refusal is never kept as clean
        problems = []
        check_provenance(RawRow({"source": "assumption: ok", "date": "May"}, "c.csv", 9), problems)
        assert [(p.file, p.row, p.field) for p in problems] == [("c.csv", 9, "source"), ("c.csv", 9, "date")]
    problems = []
    check_provenance(good, problems)
    check_provenance(good, problems)
    assert problems == []


def test_the_power_params_made_in_c_equal_the_plain_comprehensions(base):
    """pue, energy per GW and the two energy prices, made with dict.fromkeys/update and one array, hold the plain
    comprehension's values in its key order, also where a table misses keys or holds keys outside the index."""
    from model.concerns import power

    s = load_variant(base, ["pue=1.137", "electricity_price=71.3 USD/MWh"], TargetSpec("60GW"))
    r0, y0 = next(iter(s.regions)), s.years[0]
    partial = {k: v for k, v in s.pue.items() if k != (r0, y0)}
    odd = replace(s, pue={**partial, ("atlantis", y0): 1.5},
                  electricity_price_bnusd_per_twh={**s.electricity_price_bnusd_per_twh, ("atlantis", y0): 0.2},
                  source_energy_price_bnusd_per_twh={})
    for case in (s, odd):
        plain = {
            "pue": {(r, y): case.pue.get((r, y), 1.0) for r in case.regions for y in case.years},
            "grid_energy_price": {(r, y): case.electricity_price_bnusd_per_twh.get((r, y), 0.0)
                                  for r in case.regions for y in case.years},
            "source_energy_price": {(p, y): case.source_energy_price_bnusd_per_twh.get((p, y), 0.0)
                                    for p in case.power_sources for y in case.years},
        }
        for name, want in plain.items():
            got = getattr(power, name)(case)
            assert list(got.items()) == list(want.items()), name
    per_gw = power.energy_twh_per_gw(s)
    assert list(per_gw.items()) == [((r, y), s.energy_twh_per_gw(r, y)) for r in s.regions for y in s.years]
    with pytest.raises(KeyError):            # a region-year without a PUE: as Scenario.energy_twh_per_gw refuses
        power.energy_twh_per_gw(replace(s, pue=partial))


def test_the_non_finite_net_gives_for_kept_fields_what_a_fresh_walk_gives(base):
    """A field holding the very object (or a new tuple of the very records) the last Scenario held is not walked
    again; a field with a new object is, so a NaN put into a copy is found, and with nothing kept the answers agree."""
    from model.inputs.memo import nothing_kept
    from model.scenario import non_finite_problems

    s = load_variant(base, [], TargetSpec("60GW"))
    r0 = next(iter(s.pue))
    bad_deal = replace(s.deals[0], min_gw=float("nan"))
    cases = [s, replace(s, pue={**s.pue, r0: float("nan")}), replace(s, deals=tuple(s.deals)), s,
             replace(s, deals=(bad_deal,) + tuple(s.deals[1:])), replace(s, deals=tuple(s.deals))]
    kept = [[(p.row, p.found) for p in non_finite_problems(c)] for c in cases]
    with nothing_kept():
        fresh = [[(p.row, p.found) for p in non_finite_problems(c)] for c in cases]
    assert kept == fresh
    assert kept[0] == kept[2] == kept[3] == kept[5] == []
    assert kept[1] and all("pue" in str(row) for row, _ in kept[1])
    assert kept[4] == [("deals[0].min_gw", "nan")]


def test_the_share_table_read_through_unchanged_ancestors_equals_a_fresh_read():
    """A table a --set made without touching a buyer_share row stands for its parent's share rows; sets that do
    touch them (buyer_share, grid_share) are read again. Each step's share table equals one worked out afresh."""
    from model.inputs.allocation import share_table
    from model.inputs.memo import nothing_kept
    from model.inputs.overrides import apply_set
    from model.inputs.tables import ancestor_with_same

    b = read_base_inputs()                   # with the world's allocation: share rows in both tables
    years = tuple(range(2026, 2036))
    tables = dict(b.tables)
    seen = []
    for assignment in ["pue=1.15", "buyer_share.nvidia=30 %", "electricity_price=80 USD/MWh",
                       "grid_share.US-Texas=25 %", "pue=1.2", "supply_growth.nvidia=30 %"]:
        apply_set(tables, b.catalogue, assignment)
        got = share_table(tables, years)
        with nothing_kept():
            want = share_table(tables, years)
        assert got == want, assignment
        seen.append(got)
    assert seen[1]["vendor"] != seen[0]["vendor"] and seen[3]["region"] != seen[2]["region"]
    assert seen[1]["vendor"]["nvidia"]["by_year"]["2030"] == pytest.approx(0.30)
    region = tables["region_parameters.csv"]
    assert ancestor_with_same(region, "buyer_share") is not region       # the last pue set left the shares alone
    assert ancestor_with_same(region, "pue") is region


def test_a_table_made_by_set_steps_checks_its_new_rows_only_and_equals_the_full_check(base):
    """Through --set steps (the sweep's way) the changed table is worked out from the steps: only the rows the
    steps added and kept are checked, a row added then dropped is not, and the Scenario equals the full check's."""
    ct = _checked_tables()
    regions = len(base.tables["regions.csv"].rows)
    sets = ["pue=1.17", "electricity_price=95 USD/MWh", "pue=1.19", "supply_growth.nvidia=31 %"]
    load_variant(base, sets[:1], TargetSpec("60GW"))       # warm: the base tables are the clean relatives
    before, steps_before = ct.rows_checked, ct.from_steps
    s = load_variant(base, sets, TargetSpec("60GW"))
    assert ct.rows_checked - before == 2 * regions + 1      # price and the second pue per region, one nvidia row
    assert ct.from_steps - steps_before == 2                # the region and the vendor table, from their steps
    with memo.nothing_kept():
        full = load_scenario(base.inputs_dir, sets=sets, target=TargetSpec("60GW"))
    assert s == replace(full, display_names=s.display_names)
    assert all(v == 1.19 for v in s.pue.values())


def test_a_step_whose_new_row_repeats_a_kept_key_gets_the_full_checks_words(base):
    """A recorded step adding a row with a kept row's key, and a step that does not give the table's rows: the
    derivation gives up on both, and the answers are the full check's."""
    from model.inputs.tables import Step, record_step

    table = base.tables["region_parameters.csv"]
    _region_check(base, table)
    copy = RawRow(dict(table.rows[3].values), "scenario x", "add 1")
    dup = replace(table, rows=table.rows + (copy,))
    record_step(dup, Step(table, (), 1, frozenset({copy.get("parameter")})))
    first = RawRow(dict(table.rows[0].values), "scenario x", "add 2")
    lying = replace(table, rows=table.rows[1:] + (first,))
    record_step(lying, Step(table, (), 1, frozenset({first.get("parameter")})))     # does not say rows[0] went
    for changed in (dup, lying):
        rows, problems = _region_check(base, changed)
        with memo.nothing_kept():
            full_rows, full_problems = _region_check(base, changed)
        assert problems == full_problems and rows == full_rows
    assert len(_region_check(base, dup)[1]) == 1 and _region_check(base, lying)[1] == []


def test_kept_bounds_give_the_excess_of_the_plain_formula_bit_for_bit():
    """The mirror's bounds keep their masks and scales as they change; the check's number is the plain formula's,
    with infinite bounds and values, NaN and changed entries."""
    from model.fastsolve.mirror import Bounds, excess

    rng = np.random.default_rng(3)
    lo, hi = rng.normal(size=50) * 10, rng.normal(size=50) * 10 + 15
    lo[::7], hi[::5] = -np.inf, np.inf
    kept = Bounds(lo, hi)
    for trial in range(20):
        at = rng.choice(50, size=5, replace=False)
        lo[at], hi[at] = rng.normal(size=5) * 100, np.where(rng.random(5) < 0.3, np.inf, rng.normal(size=5) * 100 + 50)
        kept.set(at, lo, hi)
        v = rng.normal(size=50) * 30
        v[trial % 50] = [np.inf, -np.inf, np.nan, 0.0][trial % 4]
        a, b = kept.excess(v), excess(v, lo, hi)
        assert a == b or (np.isnan(a) and np.isnan(b))


def test_facts_are_kept_per_row_and_equal_those_made_afresh(base):
    """facts_from gives the very Fact again for the very row (found in C), a new Fact for a new row in its place,
    and the same facts as with nothing kept."""
    from model.inputs.values import facts_from

    rows, problems = _region_check(base, base.tables["region_parameters.csv"])
    assert not problems
    cols = ("region", "year", "component")
    first = facts_from(rows, cols)
    again = facts_from(list(rows), cols)
    assert all(a is b for a, b in zip(first, again)) and len(first) == len(rows)
    changed = list(rows)
    changed[5] = MappingProxyType(dict(rows[5]))            # the same content, another row object
    third = facts_from(changed, cols)
    assert third[5] is not first[5] and third[5] == first[5]
    assert all(third[i] is first[i] for i in range(len(rows)) if i != 5)
    with memo.nothing_kept():
        assert facts_from(changed, cols) == third


def test_a_region_figure_of_one_all_years_row_equals_its_yearly_series(base):
    """A region whose figure is one row for all years fills every year with its value, in year order, as the
    yearly series does; a region with dated rows still goes through the series (interpolated)."""
    from model.assemble.core import region_figure_into
    from model.assemble.series import yearly_series
    from model.inputs.values import Fact

    years = (2026, 2027, 2028, 2029)
    spec = base.catalogue.parameters["pue"]
    one = [Fact({"region": "r", "year": None, "component": None}, "pue", 1.23, "", "f.csv", 3)]
    dated = [Fact({"region": "q", "year": 2027, "component": None}, "pue", 1.1, "", "f.csv", 4),
             Fact({"region": "q", "year": 2029, "component": None}, "pue", 1.3, "", "f.csv", 5)]
    out: dict = {}
    region_figure_into(out, "pue", "r", one, None, spec, years, {}, {}, [])
    region_figure_into(out, "pue", "q", dated, None, spec, years, {}, {}, [])
    want = {("r", y): v for y, v in yearly_series(one, years, []).items()}
    want.update({("q", y): v for y, v in yearly_series(dated, years, []).items()})
    assert list(out.items()) == list(want.items())
    assert out[("q", 2028)] == pytest.approx(1.2)


def test_a_base_table_with_a_problem_that_a_set_mends_is_checked_once_and_the_cases_load(base):
    """A base table refused in full is not checked again for every table made from it; a --set that replaces the
    bad row gives a case that loads, equal to the full check's; one that does not is refused with its words."""
    from model.inputs.tables import Step, record_step

    ct = _checked_tables()
    table = base.tables["region_parameters.csv"]
    at = next(i for i, r in enumerate(table.rows) if r.get("parameter") == "pue")
    bad = RawRow({**table.rows[at].values, "value": "-3"}, table.rows[at].file, table.rows[at].row)
    root = replace(table, rows=table.rows[:at] + (bad,) + table.rows[at + 1:])
    fixed_row = RawRow(dict(table.rows[at].values), "command line", "--set pue")
    answers = []
    for _ in range(3):
        mended = replace(root, rows=root.rows[:at] + root.rows[at + 1:] + (fixed_row,))
        record_step(mended, Step(root, (at,), 1, frozenset({"pue"})))
        before = ct.full_checks
        answers.append((_region_check(base, mended), ct.full_checks - before))
    with memo.nothing_kept():
        want = _region_check(base, mended)
    assert all(a == want for a, _ in answers) and want[1] == []
    assert [n for _, n in answers][1:] == [0, 0]        # the refused root is not checked in full again


def test_shares_of_a_world_re_solved_for_a_run_state_the_inputs_date_not_today(tmp_path, monkeypatch):
    """The allocation rows a run's re-solved world gives say "inputs of" the latest source date of the rows the
    world read (as --write-allocation writes it), not the day the run was made."""
    from types import SimpleNamespace

    from model.inputs import allocation

    dated = tmp_path / "rows.csv"
    dated.write_text("parameter,value,date\na,1,2024-05-01\nb,2,2026-09-30\nc,3,2025\n", encoding="utf-8")
    world = SimpleNamespace(input_files={str(dated): "0" * 64})
    outcome = SimpleNamespace(model=object(), status="optimal", message="")
    rows_given = lambda w, o, date: [{"kind": "vendor", "name": "nvidia", "year": 2030, "share": 0.5, "date": date}]
    monkeypatch.setattr(allocation, "_WORLD_SOLVER", [(lambda *args: (world, outcome), rows_given)])
    (row,) = allocation._resolve(tmp_path, None, (), (), "value")
    assert row.get("source").endswith("on inputs of 2026-09-30") and row.get("date") == "2026-09-30"
