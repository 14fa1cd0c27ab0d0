"""parse_quantity reads a plain number and a unit without pint's parser, giving exactly what pint gives.

The sweep reads a ``--set`` value or a target per case; pint's expression parser was most of
that cost. The shortcut must be invisible: same magnitude (value and int/float type), same units,
and every text it does not take is read by pint as before (errors included).
"""
from __future__ import annotations

import pint
from hypothesis import given, settings
from hypothesis import strategies as st

from model.units import UnitParseError, _number_and_unit, parse_quantity, ureg

UNITS = ["GW", "MW", "USD/MWh", "USD / MWh", "GW/a", "bnUSD", "a", "month", "percent", "dimensionless",
         "FLOP/s", "EFLOP/s", "USD/(MW*h)", "GW*2", "GW*2/2", "GW**2", "degC", "dB", "e GW", "GW * 2 - 1 GW",
         "a^-1", "furlong", "gw", "GW a", "%", ""]
NUMBERS = st.one_of(st.sampled_from(["0", "-0", "-0.0", "1", "+5", "007", "5.", ".5", "1e3", "1E-3", "1e400", "nan",
                                     "inf", "1_000", "12345678901234567890123", "-2.5"]),
                    st.floats(allow_nan=False, allow_infinity=False).map(repr),
                    st.integers(-10**6, 10**6).map(str))


def pint_only(text: str):
    """parse_quantity as it read every text before the shortcut: pint's parser, a bare number made dimensionless."""
    q = ureg.Quantity(text.strip().replace("%", " percent"))
    return q if isinstance(q, pint.Quantity) else ureg.Quantity(q, "dimensionless")


def reading(parse, text: str):
    try:
        q = parse(text)
    except (UnitParseError, Exception) as exc:      # pint raises many kinds; only "refused" matters here
        return ("refused", type(exc).__name__ if not isinstance(exc, UnitParseError) else "UnitParseError")
    return (type(q.magnitude).__name__, repr(q.magnitude), str(q.units))


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(number=NUMBERS, unit=st.sampled_from(UNITS), space=st.sampled_from([" ", "", "  "]))
def test_the_shortcut_reads_as_pint_reads(number, unit, space):
    text = f"{number}{space}{unit}"
    if len(text) > 100:
        return
    quick = _number_and_unit(text.strip().replace("%", " percent"))
    if quick is None:
        return              # pint reads it (parse_quantity falls through): nothing to compare
    assert reading(lambda t: quick, text) == reading(pint_only, text), text
    assert reading(parse_quantity, text) == reading(pint_only, text), text


def test_the_shortcut_takes_the_sweeps_texts_and_leaves_sums_and_offsets_to_pint():
    assert _number_and_unit("90.7092974820154 USD/MWh") is not None        # what a sweep writes per case
    assert _number_and_unit("60.123 GW") is not None
    for text in ("3 GW * 2 - 1 GW", "5 degC", "5 dB", "2 GW/2", "80GW", "nan GW", "007 GW"):
        assert _number_and_unit(text) is None, text
    assert parse_quantity("3 GW * 2 - 1 GW").magnitude == 5
