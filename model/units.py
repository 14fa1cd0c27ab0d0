"""The project's one pint registry and the helpers that convert at the edge.

Everything that enters the model is converted here to a canonical magnitude
(a plain float in a fixed unit); everything that leaves gets its unit back.
The Pyomo model itself never sees a unit.

Canonical units inside the model (``MODEL_UNITS``) are chosen so that the
linear program is well scaled: GW for power, billion USD for money,
EFLOP/s (1e18 FLOP/s) for compute, TWh for energy and years for time.
Result sets report money in USD and compute in FLOP/s.
"""
from __future__ import annotations

import re
import tokenize
from functools import lru_cache
from pathlib import Path

import pint

_DEFINITIONS = Path(__file__).with_name("units_definitions.txt")

ureg = pint.UnitRegistry(autoconvert_offset_to_baseunit=True)
ureg.load_definitions(str(_DEFINITIONS))
pint.set_application_registry(ureg)
Q_ = ureg.Quantity

#: Units the model's plain floats are in, by what they measure.
MODEL_UNITS: dict[str, str] = {
    "power": "GW",
    "power_per_year": "GW/a",
    "money": "bnUSD",
    "compute": "EFLOP/s",
    "energy": "TWh",
    "time": "a",
}

POWER = ureg.Unit("GW").dimensionality
COMPUTE = ureg.Unit("FLOP/s").dimensionality
MONEY = ureg.Unit("USD").dimensionality


#: Longest text read as a quantity. pint's tokenizer takes time that grows with the square of a
#: number's length (measured: 10,000 digits 4 s, 40,000 about a minute), so longer texts are
#: refused before parsing; a real quantity ("2.5e23 FLOP/s", "90 USD/(MW*h)") is a few dozen characters.
MAX_QUANTITY_CHARS = 100


#: An exponent operator and what follows it. pint evaluates ``10**10**10`` with Python's whole numbers, which
#: takes unbounded time; an exponent must be a short plain number (``m**2``, ``s^-1``), at most two per text.
_EXPONENT = re.compile(r"\*\*|\^")
_SHORT_EXPONENT = re.compile(r"\s*[-+]?\d{1,2}(\.\d{1,2})?(?![\d.])(?!\s*(\*\*|\^))")
MAX_EXPONENTS = 2
#: What pint's parser raises for text that is not a quantity (besides its own unit errors): the tokenizer's
#: TokenError ('abc('), SyntaxError, AssertionError from its expression tree ('1 GW +'), arithmetic ('1/0'),
#: TypeError for units that cannot be added ('1 GW - 2 USD'), ValueError for a malformed number.
PARSER_ERRORS = (tokenize.TokenError, SyntaxError, AssertionError, ArithmeticError, TypeError, ValueError,
                  AttributeError, IndexError, KeyError)


def exponent_problem(text: str) -> str:
    """What is wrong with the exponents of ``text`` (``""`` when nothing), checked before pint evaluates it.

    Examples
    --------
    >>> exponent_problem("90 USD/(MW*h)"), exponent_problem("1 m**2")
    ('', '')
    >>> exponent_problem("10**10**10")
    "an exponent of at most two digits (10**10**10 would take unbounded time), found '**10**10'"
    """
    found = list(_EXPONENT.finditer(text))
    if len(found) > MAX_EXPONENTS:
        return f"at most {MAX_EXPONENTS} exponents ('**' or '^'), found {len(found)}"
    for m in found:
        if not _SHORT_EXPONENT.match(text, m.end()):
            return (f"an exponent of at most two digits ({text.strip()[:40]} would take unbounded time), "
                    f"found {text[m.start():m.start() + 12]!r}")
    return ""


#: Unit names typed in the wrong case, and how they are written (pint's names are case-sensitive: 'mw' is no unit,
#: and 'mW' is a milliwatt).
UNIT_CASE = {u.lower(): u for u in ("W", "kW", "MW", "GW", "TW", "Wh", "kWh", "MWh", "GWh", "TWh", "USD", "bnUSD",
                                    "FLOP", "TFLOP", "PFLOP", "EFLOP", "ZFLOP", "YFLOP")}
_NUMBER_AND_UNIT = re.compile(r"\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([A-Za-z%][A-Za-z%/*() ]*?)\s*")


def unit_case_fix(text: str) -> str:
    """``text`` with unit names in the right case (``"40 usd/mwh"`` -> ``"40USD/MWh"``), or ``""`` when case is
    not what is wrong (no such unit in any case, or the text already reads).

    Examples
    --------
    >>> unit_case_fix("40 usd/MWh"), unit_case_fix("250 gw"), unit_case_fix("250GW"), unit_case_fix("3 parsecs")
    ('40USD/MWh', '250GW', '', '')
    """
    m = _NUMBER_AND_UNIT.fullmatch(str(text))
    if not m or len(str(text)) > MAX_QUANTITY_CHARS:
        return ""
    number, unit = m.groups()
    try:
        parse_quantity(text)
        return ""                 # it reads as typed ('1 mW' is a milliwatt): case is not the problem
    except UnitParseError:
        pass                      # it does not read: try the unit names in their right case

    def fixed_word(w: re.Match) -> str:
        word = w.group(0)
        right = UNIT_CASE.get(word.lower())
        return right if right is not None and word != right else word

    fixed = re.sub(r"[A-Za-z]+", fixed_word, unit).replace(" ", "")
    if fixed == unit.replace(" ", ""):
        return ""
    try:
        parse_quantity(f"{number} {fixed}")
    except UnitParseError:
        return ""
    return f"{number}{fixed}"


def unit_case_hint(text: str, key: str = "") -> str:
    """``" (units are case-sensitive: write pue=1.2MW)"`` when case is what is wrong with ``text``, else ``""``."""
    fixed = unit_case_fix(text)
    return f" (units are case-sensitive: write {key + '=' if key else ''}{fixed})" if fixed else ""


def quoted_prefix(text: str, n: int = 24) -> str:
    """``text`` quoted, cut to ``n`` characters with its length said when longer (for error messages)."""
    text = str(text)
    return repr(text) if len(text) <= n else f"{text[:n]!r}... ({len(text)} characters)"


class UnitParseError(ValueError):
    """A text could not be read as a quantity with the expected dimension."""

    def __init__(self, text: str, expected: str, found: str) -> None:
        super().__init__(text, expected, found)
        self.text, self.expected, self.found = text, expected, found

    def __str__(self) -> str:
        return f"expected {self.expected}, found {self.found}"


def parse_quantity(text: str) -> pint.Quantity:
    """Read ``text`` (e.g. ``"250GW"``, ``"90 USD/MWh"``, ``"8%"``) as a quantity.

    Raises
    ------
    UnitParseError
        If the text is empty, longer than :data:`MAX_QUANTITY_CHARS` (refused before
        parsing, quoting its start), not a number with a unit, or names an unknown unit.
    """
    cleaned = str(text).strip()
    if not cleaned:
        raise UnitParseError(text, "a number with a unit", "an empty value")
    if len(cleaned) > MAX_QUANTITY_CHARS:
        raise UnitParseError(text, f"a number with a unit of at most {MAX_QUANTITY_CHARS} characters",
                             quoted_prefix(cleaned))
    exponents = exponent_problem(cleaned)
    if exponents:
        raise UnitParseError(text, "a number with a unit", f"{text!r}: it needs {exponents}")
    cleaned = cleaned.replace("%", " percent")
    quick = _number_and_unit(cleaned)
    if quick is not None:
        return quick
    try:
        q = ureg.Quantity(cleaned)
    except (pint.errors.UndefinedUnitError, pint.errors.DefinitionSyntaxError) as exc:
        raise UnitParseError(text, "a number with a unit", f"{text!r} ({exc})") from None
    except PARSER_ERRORS as exc:     # not a quantity: said with what pint's parser stumbled on
        why = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        raise UnitParseError(text, "a number with a unit", f"{text!r} ({why[:120]})") from None
    if not isinstance(q, pint.Quantity):  # a bare number parses to int/float
        q = ureg.Quantity(q, "dimensionless")
    if isinstance(q.magnitude, int) and q.magnitude.bit_length() > 1024:    # beyond any float: '(99**99)**99'
        raise UnitParseError(text, "a number with a unit below 1e308", f"{quoted_prefix(text)} (a whole number "
                             f"of {q.magnitude.bit_length()} bits)")
    return q


#: A plain number, then (after a space) a unit text starting with a letter: ``90.7 USD/MWh``, ``1.2``, ``5e3 MW``.
#: No leading zeros (pint's tokenizer refuses ``007``), no ``nan``/``inf``, no sign apart from the number's.
_NUMBER_UNIT = re.compile(r"([+-]?(?:(?:0|[1-9][0-9]*)(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)(?:\s+([A-Za-z].*))?")


def _number_and_unit(cleaned: str) -> pint.Quantity | None:
    """``cleaned`` read without pint's expression parser when it is a plain number and a unit, else None.

    pint's parser is the main cost of reading a ``--set`` value or a target (a sweep reads one per
    case). The number is read as pint reads it (an int unless it has a point or an exponent) and
    multiplied by the unit text's quantity ``1 <unit>``, parsed once per text (:func:`_unit_one`):
    the same magnitude, type and units pint gives, as long as that quantity's magnitude is exactly 1
    and its unit multiplicative (no degC, no dB) and the unit text has no sum in it (a product of units
    with magnitude 1 is linear in the number). Anything else (or any doubt) goes to pint.
    """
    m = _NUMBER_UNIT.fullmatch(cleaned)
    if m is None:
        return None
    text, unit_text = m.group(1), m.group(2)
    if unit_text is not None and ("+" in unit_text or "-" in unit_text):
        return None          # a sum ('GW*2 - 1 GW') is not linear in the number: pint reads it
    number = float(text) if any(c in text for c in ".eE") else int(text)
    if unit_text is None:
        return ureg.Quantity(number, "dimensionless")      # as pint gives a bare number, made a quantity
    try:
        one = _unit_one(unit_text.strip())
    except Exception:  # noqa: BLE001 -- not a unit alone ('e GW' is one in pint, '2e GW' no number)
        return None
    if one is None:
        return None
    return ureg.Quantity(number * one.magnitude, one._units)     # number * one, without pint's arithmetic


@lru_cache(maxsize=1024)
def _unit_one(unit_text: str) -> pint.Quantity | None:
    """pint's ``1 <unit_text>`` when its magnitude is exactly 1 and the unit multiplicative, else None."""
    q = ureg.Quantity(f"1 {unit_text}")
    if not isinstance(q, pint.Quantity) or q.magnitude != 1 or not getattr(q, "_is_multiplicative", False):
        return None
    if q.dimensionality == ureg.Unit("kelvin").dimensionality:
        return None
    return q


@lru_cache(maxsize=1024)
def unit_cell_text(units: pint.Unit) -> str:
    """``units`` as an input row's unit cell holds it: pint's short form (``GW``, ``USD / MWh``), or
    ``dimensionless``; worked out once per unit (pint's formatter costs more than the rest of a ``--set``)."""
    return f"{units:~}" if not units.dimensionless else str(units)


#: What reading a text as a quantity and converting it may raise: not a quantity, or the wrong dimension.
QUANTITY_ERRORS = (UnitParseError, pint.errors.DimensionalityError)


@lru_cache(maxsize=4096)
def unit_cell(text: str) -> pint.Quantity:
    """The unit cell of an input row (``"USD/MWh"``, ``"%"``) as the quantity ``1 <unit>``, parsed once per text.

    The loader reads the same few dozen unit texts in hundreds of cells per
    load (and a sweep loads every case): pint's parser is the loader's main
    cost, so each text is parsed once per process. The result is shared:
    callers must not change it.

    Raises
    ------
    UnitParseError
        As :func:`parse_quantity` (a refused text is not cached).
    """
    return parse_quantity("1 percent" if text == "%" else f"1 {text}")


@lru_cache(maxsize=4096)
def unit_parts(text: str) -> tuple[float, pint.Unit, object]:
    """(magnitude, units, dimensionality) of :func:`unit_cell`'s quantity, computed once per text."""
    q = unit_cell(text)
    return float(q.magnitude), q.units, q.dimensionality


@lru_cache(maxsize=4096)
def conversion_factor(units: pint.Unit, model_unit: str) -> float | None:
    """The factor from ``units`` to ``model_unit`` (``x units == x * factor model_unit``), or None.

    None when the conversion is not a plain factor (an offset unit such as
    degC); the caller then converts with pint.
    """
    one, two = (float(Q_(x, units).to(model_unit).magnitude) for x in (1.0, 2.0))
    return one if two == 2.0 * one else None


@lru_cache(maxsize=1024)
def dimensionality_of(units: pint.Unit) -> object:
    """``units.dimensionality``, worked out once per unit (pint rebuilds it on every read)."""
    return units.dimensionality


def magnitude_in(q: pint.Quantity, model_unit: str) -> float:
    """``float(q.to(model_unit).magnitude)``: with the unit's factor (:func:`conversion_factor`, once per unit)
    when the conversion is a plain factor, as the loader converts every cell; through pint otherwise."""
    factor = conversion_factor(q.units, model_unit)
    return float(q.magnitude) * factor if factor is not None else float(q.to(model_unit).magnitude)


def dimension_name(q: pint.Quantity | pint.Unit) -> str:
    """A readable name for the dimension of ``q`` ("power", "energy", ...)."""
    dim = q.dimensionality
    names = {
        ureg.Unit("GW").dimensionality: "power",
        ureg.Unit("TWh").dimensionality: "energy",
        ureg.Unit("USD").dimensionality: "money",
        ureg.Unit("FLOP/s").dimensionality: "compute rate",
        ureg.Unit("a").dimensionality: "time",
        ureg.Unit("dimensionless").dimensionality: "a plain number (dimensionless)",
        ureg.Unit("USD/GW").dimensionality: "money per power",
        ureg.Unit("USD/GW/a").dimensionality: "money per power per time",
        ureg.Unit("USD/MWh").dimensionality: "money per energy",
        ureg.Unit("GW/a").dimensionality: "power per time",
    }
    return names.get(dim, str(dim))


def describe(q: pint.Quantity) -> str:
    """``q`` with its dimension, for error messages: ``'250 GWh' (energy)``."""
    return f"'{q:~P}' ({dimension_name(q)})"


def to_magnitude(q: pint.Quantity, unit: str) -> float:
    """Convert ``q`` to ``unit`` and return the plain float."""
    return float(q.to(unit).magnitude)


def quantity_json(value: float, unit: str) -> dict[str, object]:
    """The JSON form every figure leaves the tool in: ``{"value": v, "unit": u}``."""
    return {"value": float(value), "unit": unit}
