from __future__ import annotations

import pickle

import pytest

from model.errors import InputError, InputErrors
from model.scenario import parse_target
from model.units import Q_, parse_quantity, ureg


@pytest.mark.parametrize("text, value, kind", [
    ("250GW", 250.0, "power"),
    ("250 GW", 250.0, "power"),
    ("250000 MW", 250.0, "power"),
    ("5e29 FLOP/s", 5e11, "compute"),      # model works in EFLOP/s
    ("500 EFLOP/s", 500.0, "compute"),
])
def test_target_accepts_power_or_compute_by_dimension(text, value, kind):
    got_value, got_kind = parse_target(text)
    assert got_kind == kind
    assert got_value == pytest.approx(value)


@pytest.mark.parametrize("text, found", [
    ("250GWh", "energy"), ("250", "dimensionless"), ("250 USD", "money"), ("abc", "abc"), ("", "empty"),
    ("-5 GW", "-5 GW"),
])
def test_target_refuses_other_dimensions_naming_the_option(text, found):
    with pytest.raises(InputError) as exc:
        parse_target(text)
    msg = str(exc.value)
    assert "--target" in msg and "power" in msg and "compute rate" in msg
    assert found.lower() in msg.lower()


def test_quantities_round_trip_through_model_units():
    price = parse_quantity("90 USD/MWh")
    in_model = price.to("bnUSD/TWh").magnitude            # 0.09 billion USD per TWh
    assert in_model == pytest.approx(0.09)
    assert Q_(in_model, "bnUSD/TWh").to("USD/MWh").magnitude == pytest.approx(90.0)
    assert parse_quantity("8%").to("").magnitude == pytest.approx(0.08)
    assert (Q_(1, "GW") * Q_(8760, "h")).to("TWh").magnitude == pytest.approx(8.76)


def test_flop_is_its_own_dimension_not_a_frequency():
    assert parse_quantity("1 FLOP/s").dimensionality != ureg.Unit("1/s").dimensionality


def test_errors_survive_pickling_for_worker_processes():
    e = InputError("inputs/offers.csv", 7, "unit", "a power unit (e.g. GW)", "'kg'")
    again = pickle.loads(pickle.dumps(e))
    assert str(again) == str(e) == ("inputs/offers.csv, line 7, field 'unit': expected a power unit (e.g. GW), "
                                    "found 'kg'")
    many = pickle.loads(pickle.dumps(InputErrors([e, e])))
    assert len(many.errors) == 2 and "2 problems" in str(many)
