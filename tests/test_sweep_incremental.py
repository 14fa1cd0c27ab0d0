"""A sweep case's validation is the loader's, kept per unchanged input: same answers, same refusals, same messages.

The loader keeps each rule's answer for the very same input objects (``model/inputs/memo.py``), so a
sweep case re-checks only the rows its ``--set`` assignments made. The property: for random
assignments (valid and invalid values, wrong units, out of range, unknown keys and names), the sweep's
path (:func:`load_variant` on the base read once, its memos warm from the base and the earlier examples)
and a full :func:`load_scenario` from the files with nothing kept (:func:`model.inputs.memo.nothing_kept`,
which leaves the sweep path's kept answers in place) give equal Scenarios or equal problems, in the
same order.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from model.errors import InputErrors
from model.inputs import memo
from model.scenario import DEFAULT_INPUTS, TargetSpec, load_scenario, load_variant, read_base_inputs

BASE = read_base_inputs()
load_variant(BASE, [], TargetSpec("60GW"))     # the base's answers kept: every example's sweep path starts warm

#: key -> members its ``.NAME`` may take (a real one, and one no table holds)
_ENTITY_FILES = {"region": ("regions.csv", "region"), "vendor": ("vendors.csv", "vendor"),
                 "offer": ("offers.csv", "offer"), "deal": ("deals.csv", "deal"),
                 "power_source": ("power_sources.csv", "power_source"),
                 "commitment": ("commitments.csv", "commitment")}


def _members(qualifier: str | None) -> list[str]:
    if qualifier is None:
        return [""]
    file, column = _ENTITY_FILES[qualifier]
    names = [r.get(column) for r in BASE.tables[file].rows] if file in BASE.tables else []
    return [""] + names[:4] + ["atlantis"]


def _wrong_units(key: str) -> list[str]:
    return ["%", "", "GW", "USD/MWh", "gw", "a", "month", "furlong"]


def _valid_value(key: str, x: float) -> str:
    """A value ``key`` accepts, from ``x`` in [0, 1] (cross-row rules may still refuse it: a minimum above a
    maximum)."""
    spec = BASE.catalogue.settable[key]
    param = BASE.catalogue.parameters[spec.parameter]
    unit = param.alternatives[0][1]
    if spec.mode == "scale":
        return f"{2 * x:.3g}"
    if spec.mode == "switch":
        return "on" if x > 0.5 else "off"
    if spec.mode == "shift":
        return f"{round(4 * x) - 2}a"
    if spec.mode == "edit":
        return f"{10 * x:.3g}GW"
    low = param.minimum if param.minimum is not None else 0.0
    high = param.maximum if param.maximum is not None else low + 100.0
    value = low + x * (high - low)
    if unit == "a":
        return f"{round(value) if x < 0.8 else value + 0.5:g}a"      # a fraction of a year is refused
    return f"{value:.4g}" + ("" if unit == "dimensionless" else unit)


@st.composite
def assignments(draw) -> str:
    """One ``--set`` text: mostly a value the key accepts; else a wrong unit, number, key or name."""
    keys = sorted(BASE.catalogue.settable)
    key = draw(st.sampled_from(keys))
    spec = BASE.catalogue.settable[key]
    member = draw(st.sampled_from(_members(spec.qualifier)))
    if draw(st.integers(0, 3)):          # three in four: a value the key itself accepts
        value = _valid_value(key, draw(st.floats(0, 1)))
    else:
        number = draw(st.one_of(
            st.sampled_from(["-1", "-0.3", "1e400", "nan", "abc", "", "none", "2.5"]),
            st.floats(min_value=-5, max_value=2000, allow_nan=False).map(lambda x: f"{x:.4g}")))
        value = number if number in ("none", "") else number + draw(st.sampled_from(_wrong_units(key)))
        key = draw(st.sampled_from([key, key, key + "_typo"]))
    return f"{key}.{member}={value}" if member else f"{key}={value}"


def outcome(load) -> tuple[str, object]:
    """("ok", Scenario) or ("refused", its problems in order, as InputErrors and as the text run.py prints)."""
    try:
        return "ok", load()
    except InputErrors as exc:
        return "refused", (list(exc.errors), [str(e) for e in exc.errors])


@settings(max_examples=40, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(sets=st.lists(assignments(), min_size=1, max_size=3),
       target=st.sampled_from([None, "60GW", "55 GW", "-5GW", "60gw", "1e9GW", "100 ZFLOP/s"]))
def test_incremental_validation_accepts_and_refuses_as_the_full_loader(sets, target):
    spec = TargetSpec(target)
    incremental = outcome(lambda: load_variant(BASE, sets, spec))
    with memo.nothing_kept():      # a full load: every table parsed, every rule worked out, nothing kept
        full = outcome(lambda: load_scenario(sets=sets, target=spec))
    assert incremental[0] == full[0], (sets, target, incremental[1] if incremental[0] == "refused" else full[1])
    assert incremental[1] == full[1]


def test_a_case_rechecks_only_the_rows_its_assignments_made(tmp_path):
    """Every rule runs on every case, but a rule whose input rows are the base's own is not worked out again."""
    import shutil

    from model.inputs.memo import MEMOS
    from model.inputs.table_checks import CheckedTables
    from model.inputs.values import _ROW_CHECKS

    checked = next(m for m in MEMOS if isinstance(m, CheckedTables))

    def rows_checked() -> int:          # in a table checked in full (each row's check kept) or derived from its base
        return _ROW_CHECKS.misses + checked.rows_checked

    # without the world allocation: a PUE change would otherwise re-solve the world and read the files again
    folder = tmp_path / "inputs"
    shutil.copytree(DEFAULT_INPUTS, folder, ignore=shutil.ignore_patterns("world_allocation.csv"))
    base = read_base_inputs(folder)
    load_variant(base, ["pue=1.2"], TargetSpec("60GW"))     # the base's rows checked (and kept) once
    before = rows_checked()
    s = load_variant(base, ["pue=1.17"], TargetSpec("60GW"))
    regions = len(base.tables["regions.csv"].rows)
    assert rows_checked() - before == regions              # one new pue row per region, nothing else re-checked
    assert all(v == pytest.approx(1.17) for v in s.pue.values())


def test_a_kept_answer_brings_its_problems_again(tmp_path):
    """A base row the loader refuses is refused on every case, the same way, though its check is not redone."""
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from toy import q, write_inputs

    from model.inputs.values import _ROW_CHECKS

    # a grid emissions factor in GW: refused, naming the row; in the table a pue assignment changes
    folder = write_inputs(tmp_path / "inputs", extra_rows={"region_parameters": [
        {"region": "R", "year": 2026, **q("grid_emissions", 10, "GW")}]})
    base = read_base_inputs(folder)
    first = outcome(lambda: load_variant(base, ["pue=1.1"]))
    hits = _ROW_CHECKS.hits
    second = outcome(lambda: load_variant(base, ["pue=1.2"]))
    assert _ROW_CHECKS.hits > hits                       # the refused row's check was kept, not redone
    with memo.nothing_kept():
        full = outcome(lambda: load_scenario(folder, sets=["pue=1.2"]))
    assert first[0] == second[0] == full[0] == "refused"
    assert second == full and first == second
    assert any("region_parameters.csv" in m and "grid_emissions" in m for m in second[1][1]), second


@st.composite
def futures(draw) -> dict:
    """One future in the scenario-file form (as a futures file gives it): deals' statuses replaced, rows dropped."""
    src = "assumption: a future drawn by the test"
    deals = _members("deal")[1:-1]
    offers = _members("offer")[1:-1]
    doc: dict = {"source": src}
    if draw(st.booleans()):
        doc["replace"] = [{"file": "deals.csv", "where": {"deal": draw(st.sampled_from(deals))},
                           "values": {"status": draw(st.sampled_from(["signed", "announced", "loi", "cancelled",
                                                                     "maybe"]))}}]
    if draw(st.booleans()):
        file, names, column = draw(st.sampled_from([("offers.csv", offers, "offer"), ("deals.csv", deals, "deal")]))
        doc["drop"] = [{"file": file, "where": {column: draw(st.sampled_from(names + ["atlantis"]))}}]
    return doc


@settings(max_examples=25, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(future=futures(), sets=st.lists(assignments(), max_size=2))
def test_incremental_validation_of_futures_is_the_full_loaders(future, sets):
    """Futures change entity tables (a dropped offer takes its rows along): the kept answers must not leak."""
    extra = [("future 1", "test futures", future)]
    spec = TargetSpec("60GW")
    incremental = outcome(lambda: load_variant(BASE, sets, spec, extra))
    with memo.nothing_kept():
        full = outcome(lambda: load_scenario(sets=sets, target=spec, extra=extra))
    assert incremental[0] == full[0], (future, sets, incremental[1] if incremental[0] == "refused" else full[1])
    assert incremental[1] == full[1]
