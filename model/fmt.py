"""Numbers with units as a person reads them: one module for the terminal and every page.

Every figure a person sees goes through :func:`quantity` (or :func:`figure`
for a summary's ``{"value", "unit"}``), so the same number reads the same on
the terminal, the plan report, the comparison, the sweep, the stochastic
and the alternatives pages:

- money in words: ``7.3 trillion USD``, ``38.8 billion USD/GW``, ``132,000 USD/GW``;
- compute with an SI prefix: ``1.6 ZFLOP/s`` (never ``1.6e+21`` or ``10²¹``);
- power below 1 GW in MW; years as ``4 years``;
- shares as percent (:func:`percent`);
- no NaN, no infinity and no e-notation: a missing or non-finite value is
  said in words (``not reached``, ``n/a``).

Labels: :func:`label` turns a summary key (``capacity_by_vendor.amd``) into
words (``AMD capacity``) with the display names of vendors, hosts and regions.
"""
from __future__ import annotations

import math
import re
from typing import Any, Mapping

#: Prefixes for compute (FLOP/s, FLOP) and energy, largest first.
_SI = ((1e30, "Q"), (1e27, "R"), (1e24, "Y"), (1e21, "Z"), (1e18, "E"), (1e15, "P"), (1e12, "T"), (1e9, "G"),
       (1e6, "M"), (1e3, "k"))
_MONEY = ((1e12, "trillion"), (1e9, "billion"), (1e6, "million"))
_YEAR_UNITS = {"a", "yr", "year", "years"}
_SHARE_UNITS = {"dimensionless", "", "1", "fraction"}
#: An end of a range with no answer (the inputs there give no plan), in words.
NO_PLAN_END = "no plan"


def sig(v: float, digits: int = 3) -> str:
    """``v`` to ``digits`` significant figures, thousands separators, no trailing zeros, never e-notation.

    A value too small for a few decimals is never shown as 0: it is written out
    (``0.00000000007``), or as a power of ten below 1e-15 (``7 x 10^-18``).

    >>> sig(1597.3), sig(0.58479), sig(-132400.0), sig(2.0), sig(1e-12), sig(1597.3, 4)
    ('1,600', '0.585', '-132,000', '2', '0.000000000001', '1,597')
    >>> sig(7e-11), sig(3.12e-18), sig(0.0)
    ('0.00000000007', '3.12 x 10^-18', '0')
    """
    if not math.isfinite(v):
        return "n/a"
    if v == 0:
        return "0"
    if abs(v) < 1e-15:
        exponent = int(math.floor(math.log10(abs(v))))
        return f"{sig(v / 10 ** exponent, digits)} x 10^{exponent}"
    if abs(v) >= 10 ** digits:
        return f"{round(v, -int(math.floor(math.log10(abs(v)))) + digits - 1):,.0f}"
    decimals = max(0, digits - 1 - int(math.floor(math.log10(abs(v)))))
    decimals = min(decimals, 18)
    text = f"{v:,.{decimals}f}"
    text = text.rstrip("0").rstrip(".") if "." in text else text
    return "0" if text in ("-0", "0", "") else text


_POWERS = {3: "thousand", 6: "million", 9: "billion", 12: "trillion"}
#: A number in e-notation (``300e9``, ``1e+23``, ``7E-11``) and the unit after it, if money or compute.
_E_NUMBER = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)[eE]([-+]?\d+)"
                       r"(?:( ?)((?:bn)?USD(?:/[A-Za-z]+)?|[kMGTPEZY]?FLOP/s|[kMGTPEZY]?FLOP)(?![\w/])|(?!\w|\.\d))")
#: A float with the noise of binary arithmetic in it (``1.2000000000000002``, ``2.9999999999999996``).
_LONG_FLOAT = re.compile(r"(?<![\w.])(\d+\.\d*[1-9](?:0{6,}|9{6,})\d{1,3})(?!\w|\.\d)")
_URL = re.compile(r"https?://\S+")


def _e_number(m: re.Match) -> str:
    mantissa, exponent, unit = m.group(1), int(m.group(2)), m.group(4)
    v = float(f"{mantissa}e{exponent}")
    digits = max(3, len(mantissa.replace(".", "").lstrip("0")))
    if unit:
        if unit.startswith("bn"):
            v, unit = v * 1e9, unit[2:]
        return quantity(v, unit, digits)
    if abs(v) >= 1e15:
        e = int(math.floor(math.log10(abs(v))))
        return f"{sig(v / 10 ** e, digits)} x 10^{e}"
    for scale, word in _MONEY[:-1] + ((1e6, "million"),):
        if abs(v) >= scale:
            return f"{sig(v / scale, digits)} {word}"
    return sig(v, digits)


def plain_numbers(text: str) -> str:
    """Numbers in e-notation and float noise written as a person reads them (scenario descriptions, sources,
    notes): money and compute with their unit as :func:`quantity` says them, other large numbers in words or as
    a power of ten, small ones written out. Web addresses are left as they are.

    >>> plain_numbers("Oracle about 4.5 GW (300e9 USD); Citi's 163e9 USD; 1.5e12 USD; 2e23 FLOP/s")
    "Oracle about 4.5 GW (300 billion USD); Citi's 163 billion USD; 1.5 trillion USD; 200 ZFLOP/s"
    >>> plain_numbers("1e+23 FLOP/s, 37.9e9 USD/GW, 7e-11 USD per FLOP/s, 2.5e6 people, 1e+23, PUE 1.2000000000000002.")
    '100 ZFLOP/s, 37.9 billion USD/GW, 0.00000000007 USD per FLOP/s, 2.5 million people, 1 x 10^23, PUE 1.2.'
    >>> plain_numbers("https://example.com/10e9-deal says 10e9 USD on 2025-11-06")
    'https://example.com/10e9-deal says 10 billion USD on 2025-11-06'
    """
    def plain(part: str) -> str:
        part = _E_NUMBER.sub(_e_number, part)
        return _LONG_FLOAT.sub(lambda m: f"{float(m.group(1)):.12g}", part)

    text = str(text)
    out, last = [], 0
    for url in _URL.finditer(text):
        out += [plain(text[last:url.start()]), url.group(0)]
        last = url.end()
    return "".join(out + [plain(text[last:])])


def is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def quantity(value: Any, unit: str = "", digits: int = 3, missing: str = "n/a") -> str:
    """One number with its unit, in the unit a reader expects.

    Parameters
    ----------
    value : number or None
        The magnitude in ``unit``; ``None``, NaN and infinity are said as ``missing``.
    unit : str
        The unit as the result set writes it (``USD``, ``USD/GW``, ``GW``, ``TWh``, ``FLOP/s``, ``a``, ...).
    digits : int
        Significant figures (default 3).
    missing : str
        Words for a value that is not there (default ``n/a``; e.g. ``not reached``).

    Examples
    --------
    >>> quantity(7.31e12, "USD"), quantity(3.88e10, "USD/GW"), quantity(1.597e21, "FLOP/s")
    ('7.31 trillion USD', '38.8 billion USD/GW', '1.6 ZFLOP/s')
    >>> quantity(1.597e24, "FLOP/s")
    '1,600 ZFLOP/s'
    >>> quantity(4, "a"), quantity(0.25, "GW"), quantity(float("nan"), "GW", missing="not reached")
    ('4 years', '250 MW', 'not reached')
    >>> quantity(1.04e-11, "GW/USD")
    '0.0104 GW per billion USD'
    """
    if not is_number(value):
        return missing if value is None else f"{value} {unit}".strip()
    v = float(value)
    if not math.isfinite(v):
        return missing
    unit = str(unit or "").strip()
    if unit == "USD" or (unit.startswith("USD/") and unit != "USD/USD"):
        for scale, word in _MONEY:
            if abs(v) >= scale:
                return f"{sig(v / scale, digits)} {word} {unit}"
        return f"{sig(v, digits)} {unit}"
    if unit in ("FLOP/s", "FLOP"):
        for scale, prefix in _SI[3:]:     # up to Z: "1,600 ZFLOP/s" reads better than yotta
            if abs(v) >= scale:
                return f"{sig(v / scale, digits)} {prefix}{unit}"
        return f"{sig(v, digits)} {unit}"
    if unit.endswith("FLOP/s") and unit[:-6] in {p for _, p in _SI}:
        scale = next(s for s, p in _SI if p == unit[:-6])
        return quantity(v * scale, "FLOP/s", digits, missing)
    if unit == "GW" and 0 < abs(v) < 1:
        return f"{sig(v * 1e3, digits)} MW"
    if unit in _YEAR_UNITS:
        text = sig(v, digits)
        return f"{text} year" if text == "1" else f"{text} years"
    if unit in ("percent", "%"):
        return f"{sig(v, digits)} %"
    if unit in _SHARE_UNITS:
        return sig(v, digits)
    if unit == "USD/USD":
        return f"{sig(v, digits)} USD per USD"
    if unit.endswith("/USD") and "USD" not in unit[:-4]:     # GW per USD: per billion USD, as the terminal says it
        return f"{sig(v * 1e9, digits)} {unit[:-4]} per billion USD"
    if unit == "tCO2" or unit == "t":
        for scale, word in ((1e9, "billion"), (1e6, "million")):
            if abs(v) >= scale:
                return f"{sig(v / scale, digits)} {word} t" + (" CO2" if unit == "tCO2" else "")
    return f"{sig(v, digits)} {unit}".strip()


#: Below this share of its table's scale a figure is the solver's round-off and is shown as 0 (the share the
#: post-solve check allows a constraint, ``model/checks.py``).
ROUND_OFF = 1e-6


def table_scale(values: Any) -> float:
    """The largest magnitude among ``values`` that are finite numbers (0 when there is none).

    >>> table_scale([85.2, None, float("nan"), -91.0, "n/a"])
    91.0
    """
    return max((abs(float(v)) for v in values if is_number(v) and math.isfinite(float(v))), default=0.0)


def settled(value: Any, scale: float, rel: float = ROUND_OFF) -> Any:
    """``value``, or 0.0 where it is round-off: ``|value| <= rel x max(1, |scale|)`` in the value's unit.

    A swing of 0.000000121 MW beside a headline of 85 GW is solver noise, not a finding; anything else
    (None, NaN, words) is returned as it is, for :func:`quantity` to say.

    >>> settled(1.21e-10, 85.2), settled(0.05, 85.2), settled(None, 85.2)
    (0.0, 0.05, None)
    """
    if not is_number(value) or not math.isfinite(float(value)):
        return value
    return 0.0 if abs(float(value)) <= rel * max(1.0, abs(float(scale))) else value


def figure(fig: Any, digits: int = 3, missing: str = "n/a") -> str:
    """A summary figure ``{"value": ..., "unit": ...}`` as words; anything else as ``missing``."""
    if isinstance(fig, Mapping) and "value" in fig:
        return quantity(fig.get("value"), str(fig.get("unit", "")), digits, missing)
    return missing


def percent(share: Any, digits: int = 2, signed: bool = False, missing: str = "n/a") -> str:
    """A share (0.25) as ``25 %``; ``signed`` puts a + on gains.

    >>> percent(0.2512), percent(-0.52, signed=True), percent(0.05, signed=True)
    ('25 %', '-52 %', '+5 %')
    """
    if not is_number(share) or not math.isfinite(float(share)):
        return missing
    text = sig(100 * float(share), digits)
    return f"{'+' if signed and share > 0 else ''}{text} %"


def span(low: Any, high: Any, unit: str = "", digits: int = 3, missing: str = "n/a") -> str:
    """A range with the unit said once when both ends share it: ``7.06 to 7.52 trillion USD``; an end that is
    not there is said as ``missing``.

    >>> span(7.06e12, 7.52e12, "USD"), span(5e8, 2e9, "USD"), span(85.2, None, "GW", missing="no plan")
    ('7.06 to 7.52 trillion USD', '500 million USD to 2 billion USD', '85.2 GW to no plan')
    """
    lo, hi = quantity(low, unit, digits, missing), quantity(high, unit, digits, missing)
    if lo == hi:
        return lo
    lo_num, _, lo_unit = lo.partition(" ")
    hi_num, _, hi_unit = hi.partition(" ")
    return f"{lo_num} to {hi}" if lo_unit == hi_unit and lo_unit else f"{lo} to {hi}"


def signed(value: float, unit: str = "", digits: int = 3) -> str:
    """A difference with its sign: ``+12.5 GW``, ``-1.2 trillion USD``."""
    text = quantity(value, unit, digits)
    return text if text.startswith("-") or not is_number(value) or value <= 0 else "+" + text


def shadow_price(price: Mapping[str, Any]) -> str:
    """A shadow price as a person reads it: ``-25.5 billion USD/GW``, ``0.585 USD per USD``."""
    return quantity(price.get("value"), str(price.get("unit", "")))


def years_span(years: list[int]) -> str:
    """``[2032, 2033]`` -> ``2032-33``; ``[2031]`` -> ``2031``; gaps listed: ``2028, 2030-31``."""
    ys = sorted({int(y) for y in years})
    if not ys:
        return ""
    runs, start, prev = [], ys[0], ys[0]
    for y in ys[1:] + [None]:
        if y is not None and y == prev + 1:
            prev = y
            continue
        if start == prev:
            runs.append(str(start))
        else:
            end = str(prev)
            runs.append(f"{start}-{end[2:] if end[:2] == str(start)[:2] else end}")
        if y is not None:
            start = prev = y
    return ", ".join(runs)


# ----------------------------------------------------------------------------
# Labels for summary keys
# ----------------------------------------------------------------------------
#: Words for the summary keys a reader meets (dotted breakdowns are built from the parent's entry).
LABELS = {
    "status": "Status", "target": "Target", "target_year": "Target year", "max_reachable": "Largest reachable",
    "total_cost": "Total discounted cost", "capacity_in_service": "IT capacity in service",
    "compute_in_service": "Compute in service", "facility_power": "Facility power", "energy": "Energy used",
    "energy_cost": "Energy cost", "emissions": "Emissions", "power_built": "Power built",
    "energy_comparison": "Energy against references", "spending": "Spending", "funding": "Funding before borrowing",
    "debt": "Debt", "funding_gap": "Largest funding gap", "cost_per_gw": "Cost per GW",
    "all_in_capex_per_gw": "All-in capital cost per GW", "debt_peak": "Peak debt", "target_binds": "Target binds",
    "capacity_by_vendor": "capacity", "capacity_by_host": "capacity", "capacity_by_region": "capacity",
    "capacity_by_kind": "capacity", "cost_by_part": "cost", "power_built_by_kind": "power built",
    "scenario": "Scenario", "objective": "Objective", "message": "Message", "total_cost_basis": "Cost basis",
    "expected_cost": "Expected cost", "cvar": "CVaR", "vss": "Value of the stochastic solution",
    "evpi": "Expected value of perfect information", "miss_probability": "Chance of missing the target",
    "expected_shortfall": "Expected shortfall", "least_cost": "Least cost", "slack": "Cost slack",
    "marginal_cost_of_target": "Marginal cost of the target",
    "capacity_added": "Capacity added", "revenue": "Revenue", "debt_limit": "Debt limit", "interest": "Interest",
    "debt_rule": "Debt rule", "interest_share": "Interest as a share of revenue",
    "interest_flag": "Interest flagged above this share of revenue", "supply_share": "Share of the world's supply",
}
#: Summary figures that are shares of a whole (written as plain fractions, unit ""): shown in % (:func:`percent`).
SHARE_FIGURES = ("interest_share", "interest_flag", "supply_share")


def is_share_figure(key: str) -> bool:
    """Whether a (dotted) summary key is a share, to be read in %: ``interest_share.2033`` is, ``debt`` is not."""
    return str(key).split(".", 1)[0] in SHARE_FIGURES
#: Parents whose members are named companies or places: ``capacity_by_vendor.amd`` -> ``AMD capacity``.
_MEMBER_FIRST = {"capacity_by_vendor": "vendor", "capacity_by_host": "host", "capacity_by_region": "region",
                 "capacity_by_kind": "kind", "cost_by_part": "part", "power_built_by_kind": "kind",
                 "power_built": "power_source", "energy_comparison": "reference"}
_SMALL = {"it": "IT", "gw": "GW", "usd": "USD", "twh": "TWh", "pue": "PUE", "cvar": "CVaR", "co2": "CO2",
          "us": "US", "uae": "UAE", "flop": "FLOP"}


def words(key: str) -> str:
    """``capacity_by_vendor`` -> ``Capacity by vendor`` (known abbreviations kept upright)."""
    parts = [_SMALL.get(w.lower(), w) for w in re.split(r"[_\s]+", str(key).strip()) if w]
    if not parts:
        return ""
    first = parts[0]
    parts[0] = first if first in _SMALL.values() else first[:1].upper() + first[1:]
    return " ".join(parts)


def label(key: str, names: Mapping[str, Mapping[str, str]] | None = None) -> str:
    """A summary key (possibly dotted) in words.

    ``names`` maps a dimension (``vendor``, ``host``, ``region``) to display
    names by id.

    >>> label("capacity_by_vendor.amd", {"vendor": {"amd": "AMD"}})
    'AMD capacity'
    >>> label("capacity_in_service.2033"), label("funding_gap.year"), label("total_cost")
    ('IT capacity in service 2033', 'Largest funding gap: year', 'Total discounted cost')
    """
    names = names or {}
    key = str(key)
    parent, _, rest = key.partition(".")
    if not rest:
        return LABELS.get(key, words(key))
    member, _, field = rest.partition(".")
    base = LABELS.get(parent, words(parent))
    if parent in _MEMBER_FIRST:
        dim = _MEMBER_FIRST[parent]
        who = names.get(dim, {}).get(member) or words(member.replace("-", " ")) if dim != "region" else \
            names.get(dim, {}).get(member, member)
        text = f"{who} {base}" if base[:1].islower() else f"{base}: {who}"
    elif re.fullmatch(r"\d{4}", member):
        text = f"{base} {member}"
    else:
        w = words(member)
        w = w if w.split(" ")[0] in _SMALL.values() else w[:1].lower() + w[1:]
        text = f"{base}: {w}" if member not in ("value",) else base
    return f"{text} ({words(field).lower()})" if field else text


#: Assumption keys whose values are shares (shown in %), not factors.
_SHARE_KEYS = ("discount_rate", "interest_rate", "revenue_to_compute", "utilisation", "buyer_share", "grid_share",
               "grid_capacity_credit", "capacity_credit", "terminal_debt_growth")


def is_share_key(key: str) -> bool:
    """Whether an input key or parameter (``buyer_share.nvidia``, ``capacity_credit``) is a share, read in %."""
    return str(key).split(".")[0] in _SHARE_KEYS


def override_value(key: str, value: Any, unit: str = "") -> str:
    """An override's value as typed, a share key's plain fraction in % (``buyer_share.nvidia`` 0.4123: ``41.23 %``).

    >>> override_value("buyer_share.nvidia", "0.4123"), override_value("pue", "1.3"), override_value("pue", "x", "")
    ('41.23 %', '1.3', 'x')
    """
    if str(key).split(".")[0] in _SHARE_KEYS and not unit:
        try:
            return percent(float(str(value)), 4)
        except ValueError:
            return str(value)
    return str(value)


def assumption_range(key: str, low: Any, high: Any, unit: str = "") -> str:
    """An assumption's low-to-high range with its unit: a quantity in its unit, a rate in %, a scale as a factor.

    >>> assumption_range("discount_rate", 0.06, 0.1), assumption_range("supply_scale.amd", 0.8, 1.2)
    ('6 % to 10 %', '× 0.8 to × 1.2')
    """
    if unit:
        return f"{quantity(low, unit)} to {quantity(high, unit)}"
    if str(key).split(".")[0] in _SHARE_KEYS:
        return f"{percent(low, 3)} to {percent(high, 3)}"
    if is_number(low) and is_number(high):
        return f"× {sig(float(low), 3)} to × {sig(float(high), 3)}"
    return f"{low} to {high}"
