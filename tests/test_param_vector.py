"""The Param vector of a compiled plan: one function for sweeps and the decomposition's templates."""
from types import SimpleNamespace

import numpy as np
import pytest

from model.fastsolve import IndexChanged
from model.fastsolve.lp import param_vector

ARRAYS = SimpleNamespace(param_names=("supply_cap_gw", "price_usd"), param_keys=((("a", 2030), ("a", 2031)), (("x",),)),
                         param_start=np.array([0, 2]), ref_params=np.zeros(3))


def test_values_land_in_their_slots():
    p = param_vector(ARRAYS, {"supply_cap_gw": {("a", 2031): 2.0, ("a", 2030): 1.0}, "price_usd": {("x",): 7.0}})
    assert p.tolist() == [1.0, 2.0, 7.0]


def test_an_index_of_another_length_is_named():
    with pytest.raises(IndexChanged, match=r"^Param supply_cap_gw: 1 values for an index of 2$"):
        param_vector(ARRAYS, {"supply_cap_gw": {("a", 2030): 1.0}, "price_usd": {("x",): 7.0}})


def test_a_missing_key_is_named():
    with pytest.raises(IndexChanged, match=r"^Param price_usd: no value for index \('x',\)$"):
        param_vector(ARRAYS, {"supply_cap_gw": {("a", 2030): 1.0, ("a", 2031): 2.0}, "price_usd": {("y",): 7.0}})


def test_values_in_key_order_and_out_of_it_land_alike():
    """Read in one pass when the dict's keys come in the index's order, key by key otherwise: the same vector."""
    in_order = {"supply_cap_gw": {("a", 2030): 1.5, ("a", 2031): 2.5}, "price_usd": {("x",): 7}}
    shuffled = {"supply_cap_gw": {("a", 2031): 2.5, ("a", 2030): 1.5}, "price_usd": {("x",): 7}}
    assert param_vector(ARRAYS, in_order).tolist() == param_vector(ARRAYS, shuffled).tolist() == [1.5, 2.5, 7.0]


def test_the_same_key_objects_in_another_order_are_read_key_by_key():
    """The order confirmed by identity is the order of the key objects: the same objects shuffled are not taken as
    in order, and each value still lands in its own slot."""
    a, b = ("a", 2030), ("a", 2031)
    first = param_vector(ARRAYS, {"supply_cap_gw": {a: 1.0, b: 2.0}, "price_usd": {("x",): 7.0}})
    again = param_vector(ARRAYS, {"supply_cap_gw": {a: 3.0, b: 4.0}, "price_usd": {("x",): 8.0}})
    flipped = param_vector(ARRAYS, {"supply_cap_gw": {b: 6.0, a: 5.0}, "price_usd": {("x",): 9.0}})
    assert (first.tolist(), again.tolist(), flipped.tolist()) == ([1.0, 2.0, 7.0], [3.0, 4.0, 8.0], [5.0, 6.0, 9.0])
