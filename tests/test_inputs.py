"""Bad input gets a clear error naming file, row and field; every problem is reported at once."""
from __future__ import annotations

import pytest

from model.errors import InputErrors
from model.scenario import TargetSpec, load_scenario
from toy import SRC, SRC2, deal, default_tables, q, term, write_inputs


def errors_of(folder, **kw) -> list:
    with pytest.raises(InputErrors) as exc:
        load_scenario(folder, **kw)
    return exc.value.errors


def one_error(tmp_path, **tables):
    errs = errors_of(write_inputs(tmp_path / "in", **tables))
    assert len(errs) >= 1
    return errs[0], "\n".join(str(e) for e in errs)


def with_row(stem: str, index: int, **changes):
    rows = [dict(r) for r in default_tables()[stem]]
    rows[index].update(changes)
    return {stem: rows}


@pytest.mark.parametrize("stem, index, changes, file, line, field, words", [
    ("region_parameters", 0, {"unit": "GWh"}, "region_parameters.csv", 2, "unit", "power"),
    ("offer_parameters", 0, {"unit": "USD/GW/a"}, "offer_parameters.csv", 2, "unit", "money per power"),
    ("offer_parameters", 0, {"unit": ""}, "offer_parameters.csv", 2, "unit", "empty"),
    ("offer_parameters", 0, {"value": "ten"}, "offer_parameters.csv", 2, "value", "'ten'"),
    ("offer_parameters", 0, {"value": "nan"}, "offer_parameters.csv", 2, "value", "finite"),
    ("offer_parameters", 0, {"value": ""}, "offer_parameters.csv", 2, "value", "empty"),
    ("offer_parameters", 0, {"value": "-5e9"}, "offer_parameters.csv", 2, "value", "at least 0"),
    ("scalars", 0, {"value": "120"}, "scalars.csv", 2, "value", "at most 50"),
    ("region_parameters", 1, {"value": "0.9"}, "region_parameters.csv", 3, "value", "at least 1"),
    ("offers", 0, {"region": "Atlantis"}, "offers.csv", 2, "region", "Atlantis"),
    ("offers", 0, {"vendor": "nobody"}, "offers.csv", 2, "vendor", "nobody"),
    ("offers", 0, {"first_year": "2150"}, "offers.csv", 2, "first_year", "between 1990 and 2100"),
    ("region_parameters", 0, {"year": "2050"}, "region_parameters.csv", 2, "year", "horizon"),
    ("offers", 0, {"contract": "borrow"}, "offers.csv", 2, "contract", "purchase, lease"),
    ("offer_parameters", 0, {"offer": "ghost"}, "offer_parameters.csv", 2, "offer", "ghost"),
    ("offer_parameters", 0, {"parameter": "capx"}, "offer_parameters.csv", 2, "parameter", "capx"),
    ("offer_parameters", 0, {"source": ""}, "offer_parameters.csv", 2, "source", "empty"),
    ("offer_parameters", 0, {"date": "last year"}, "offer_parameters.csv", 2, "date", "last year"),
    ("families", 0, {"kind": "FPGA"}, "families.csv", 2, "kind", "FPGA"),
    ("region_parameters", 0, {"year": "1800"}, "region_parameters.csv", 2, "year", "1800"),
    ("targets", 0, {"unit": "GWh"}, "targets.csv", 2, "unit", "energy"),
    ("vendor_supply", 0, {"unit": "GW"}, "vendor_supply.csv", 2, "unit", "power per time"),
])
def test_loader_names_file_line_and_field(tmp_path, stem, index, changes, file, line, field, words):
    err, all_text = one_error(tmp_path, **with_row(stem, index, **changes))
    assert err.file.endswith(file)
    assert err.row == line
    assert err.field == field
    assert words.lower() in str(err).lower()


def test_duplicate_keys_are_refused_with_both_lines(tmp_path):
    rows = default_tables()["offer_parameters"]
    err, _ = one_error(tmp_path, offer_parameters=rows + [dict(rows[0], value="12e9")])
    assert err.field == "offer, year, parameter" and "duplicate of line 2" in str(err)


def test_missing_and_extra_columns_are_refused(tmp_path):
    rows = [{k: v for k, v in r.items() if k != "unit"} for r in default_tables()["scalars"]]
    err, _ = one_error(tmp_path, scalars=rows)
    assert err.file.endswith("scalars.csv") and err.row == 1 and err.field == "unit"
    rows = [dict(r, colour="blue") for r in default_tables()["vendors"]]
    err, _ = one_error(tmp_path, vendors=rows)
    assert err.field == "colour" and "extra column" in str(err)


def test_a_deal_whose_minimum_exceeds_its_maximum_is_refused(tmp_path):
    err, _ = one_error(tmp_path, deals=[deal("d", "all", 2025, 2027)],
                       deal_terms=[term("d", "minimum", 5, "GW"), term("d", "maximum", 4, "GW")])
    assert err.file.endswith("deal_terms.csv") and "no larger than the maximum" in str(err)


def test_a_window_that_ends_before_it_starts_is_refused(tmp_path):
    err, _ = one_error(tmp_path, deals=[deal("d", "all", 2027, 2025)])
    assert err.field == "last_year" and "not before its start" in str(err)


def test_a_scope_that_selects_nothing_is_refused(tmp_path):
    err, _ = one_error(tmp_path, deals=[deal("d", "host=nowhere", 2025, 2027)])
    assert err.field == "scope" and "at least one offer" in str(err)


def test_every_problem_is_reported_in_one_pass(tmp_path):
    tables = with_row("offer_parameters", 0, unit="kg")
    tables.update(with_row("region_parameters", 1, value="0.5"))
    tables.update(with_row("offers", 1, host="mars"))
    errs = errors_of(write_inputs(tmp_path / "in", **tables))
    files = {e.file.rsplit("/", 1)[-1] for e in errs}
    assert {"offer_parameters.csv", "region_parameters.csv", "offers.csv"} <= files


def test_unreadable_or_missing_file_is_named(tmp_path):
    folder = write_inputs(tmp_path / "in")
    (folder / "hosts.csv").unlink()
    errs = errors_of(folder)
    assert any(e.file.endswith("hosts.csv") and "no such file" in str(e) for e in errs)


@pytest.mark.parametrize("assignment, field, words", [
    ("colour=blue", "colour", "one of"),
    ("pue=1.3 GW", "unit", "dimensionless"),
    ("pue=0.8", "value", "at least 1"),
    ("discount_rate=80%", "value", "at most 50 percent"),
    ("electricity_price=90 USD", "unit", "money per energy"),
    ("pue.Atlantis=1.2", "pue.Atlantis", "region"),
    ("supply_scale=-1", "supply_scale", "non-negative"),
    ("pue", "pue", "KEY=VALUE"),
])
def test_set_refuses_unknown_keys_wrong_dimensions_and_ranges(toy, assignment, field, words):
    errs = errors_of(toy, sets=[assignment])
    assert errs[0].field == field
    assert f"--set {assignment}" in str(errs[0])
    assert words.lower() in str(errs[0]).lower()


@pytest.mark.parametrize("assignment, expected, found", [
    ("pue=0.9", "'pue' of at least 1", "'0.9'"),                       # one row per region: once, not per region
    ("discount_rate=5GW", "a plain number (unit 'dimensionless' or '%') for 'discount_rate'",    # a scalar
     "'5.0 GW' (power)"),
    ("utilisation=1.5", "'utilisation' of at most 1", "'1.5'"),
    ("discount_rate=120%", "'discount_rate' of at most 50 percent", "'120%'"),
    ("pue=abc", "a value for 'pue': a plain number (unit 'dimensionless' or '%')", "'abc'"),
])
def test_a_bad_set_value_is_one_problem_naming_the_key_in_plain_words(tmp_path, assignment, expected, found):
    """A --set value the parameter refuses is reported once, under its --set, and nothing else.

    Before: ``--set pue=0.9`` gave the same problem once per region, a refused scalar added
    "scalars.csv line 1 ... expected a row for 'discount_rate'", and messages read
    "expected a plain number (dimensionless) (e.g. dimensionless)" or "found 0.9 dimensionless".
    """
    regions = [{"region": r, "name": f"Region {r}", **SRC2} for r in ("R", "S", "T")]
    rows = default_tables()["region_parameters"] + [
        {"region": r, "year": "", **q(p, v, u)} for r in ("S", "T")
        for p, v, u in (("grid_power", 100, "GW"), ("pue", 1.0, "dimensionless"), ("electricity_price", 0, "USD/MWh"))]
    folder = write_inputs(tmp_path / "in", regions=regions, region_parameters=rows)
    field = "unit" if "GW" in assignment else "pue" if "abc" in assignment else "value"
    errs = errors_of(folder, sets=[assignment])
    assert [str(e) for e in errs] == [f"command line, --set {assignment}, field '{field}': "
                                      f"expected {expected}, found {found}"]
    assert "(dimensionless) (e.g." not in str(errs[0]) and "dimensionless, found" not in str(errs[0])


def test_set_overrides_apply_with_units(toy):
    s = load_scenario(toy, sets=["pue=1.25", "discount_rate=8%", "electricity_price=90USD/MWh",
                                 "supply_scale.acme=0.5"])
    assert s.pue["R", 2026] == 1.25 and s.discount_rate == pytest.approx(0.08)
    assert s.electricity_price_bnusd_per_twh["R", 2025] == pytest.approx(0.09)
    assert s.supply_cap_gw["acme", 2025] == pytest.approx(50)
    assert [o.target for o in s.overrides] == ["pue", "discount_rate", "electricity_price", "supply_scale.acme"]


def test_scenario_file_overrides_and_unknown_scenario(toy):
    (toy / "scenarios" / "cheap.yaml").write_text(
        "description: cheaper leases\n"
        "set:\n  pue: {value: 1.1, source: 'assumption: test'}\n"
        "replace:\n  - file: offer_parameters.csv\n    where: {offer: rent, parameter: lease_price}\n"
        "    values: {value: 1e9}\n    source: 'assumption: test'\n")
    s = load_scenario(toy, scenario="cheap")
    assert s.pue["R", 2025] == 1.1 and s.lease_bnusd_per_gw_yr["rent", 2025] == pytest.approx(1.0)
    assert s.name == "cheap" and any(k.endswith("cheap.yaml") for k in s.input_files)
    errs = errors_of(toy, scenario="nope")
    assert errs[0].field == "--scenario" and "cheap" in str(errs[0])


def test_malformed_scenario_yaml_is_refused_with_its_line(toy):
    (toy / "scenarios" / "bad.yaml").write_text("description: x\nset:\n  pue: [1.2\n")
    errs = errors_of(toy, scenario="bad")
    assert errs[0].file.endswith("bad.yaml") and "valid YAML" in str(errs[0])


def test_target_year_outside_the_horizon_is_refused(toy):
    errs = errors_of(toy, target=TargetSpec("2GW", 2040))
    assert errs[0].field == "--year"


def test_assumptions_must_give_a_reason(tmp_path):
    err, _ = one_error(tmp_path, **with_row("offer_parameters", 0, source="assumption:"))
    assert err.field == "source"


def test_a_refused_scalar_row_is_not_also_reported_missing(tmp_path):
    rows = [dict(r) for r in default_tables()["scalars"]]
    rows[1].update(value=120)      # utilisation 120 percent
    errs = errors_of(write_inputs(tmp_path / "in", scalars=rows))
    assert [(e.file.split("/")[-1], e.row, e.field) for e in errs] == [("scalars.csv", 3, "value")], errs
