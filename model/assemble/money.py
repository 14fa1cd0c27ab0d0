"""Revenue, equity, vendor financing, borrowing and debt limits (table family of the loader)."""
from __future__ import annotations

from typing import Any

from model.assemble.series import group_facts, interpolate, yearly_series
from model.errors import InputError
from model.inputs import Fact, facts_from


def revenue_path(points: dict[int, float], growth: dict[int, float], years: tuple[int, ...]) -> dict[int, float]:
    """Revenue per year (billion USD/a): interpolated between the given years, then grown year by year.

        revenue[y] = revenue[y - 1] * (1 + growth[y])      for y after the last given year

    ``growth`` is the yearly growth path (dimensionless; a year without an entry grows at 0).

    Examples
    --------
    >>> revenue_path({2025: 10.0, 2027: 30.0}, {2028: 0.5, 2029: 0.25}, (2025, 2026, 2027, 2028, 2029))
    {2025: 10.0, 2026: 20.0, 2027: 30.0, 2028: 45.0, 2029: 56.25}
    """
    if not points:
        return {}
    last = max(points)
    out = interpolate(points, [y for y in years if y <= last])
    prev = points[last]
    for y in years:
        if y > last:
            prev = prev * (1.0 + growth.get(y, 0.0))
            out[y] = prev
    return out


def debt_limits(multiple: dict[int, float], usd: dict[int, float],
                revenue: dict[int, float]) -> dict[int, float]:
    """The debt limit per year (billion USD): the multiple x that year's revenue, or the USD row.

        debt_limit[y] = debt_limit_multiple[y] * revenue[y]     (a multiple given)
        debt_limit[y] = debt_limit_usd[y]                       (otherwise)

    The multiple applies to each year's own revenue (including the growth after the last revenue row),
    so a limit stated as "8x revenue" is 8x in every year, never a USD figure interpolated between years.
    """
    if multiple:
        return {y: k * revenue.get(y, 0.0) for y, k in multiple.items()}
    return dict(usd)


def _debt_limit_rows(grouped: dict, years: tuple[int, ...], errors: list[InputError]) -> tuple[dict, dict]:
    """The multiple and USD forms of the debt limit; both in one file is refused (one form states the rule)."""
    mult_rows = grouped.get(("debt_limit_multiple",), [])
    usd_rows = grouped.get(("debt_limit",), [])
    if mult_rows and usd_rows:
        f = usd_rows[0]
        errors.append(InputError(f.file, f.row, "parameter",
                                 "either debt_limit_multiple rows (x revenue) or debt_limit rows (USD), not both",
                                 f"both (debt_limit_multiple in {mult_rows[0].file} line {mult_rows[0].row})"))
        return {}, {}
    multiple = dict(yearly_series(mult_rows, years, errors) or {}) if mult_rows else {}   # a copy: series are shared
    usd = dict(yearly_series(usd_rows, years, errors) or {}) if usd_rows else {}
    return multiple, usd


def _scalar_row(grouped: dict, name: str, errors: list[InputError]) -> float | None:
    """A finance.csv row given once for the whole horizon (empty year), or None when absent."""
    facts = grouped.get((name,), [])
    for f in facts:
        if f.keys.get("year") is not None:
            errors.append(InputError(f.file, f.row, "year", f"an empty year for '{name}' (one value for the horizon)",
                                     str(f.keys["year"])))
            return None
    return facts[0].value if facts else None


def assemble_money(rows, errors: list[InputError], years: tuple[int, ...], scalar: dict[str, Fact]) -> dict[str, Any]:
    """Revenue, equity, vendor financing, debt limits and the money scalars, as Scenario fields."""
    horizon = (years[0], years[-1])
    grouped = group_facts(facts_from(rows("finance.csv", horizon), ("year",)))
    points = {f.keys["year"]: f.value for f in grouped.get(("revenue",), []) if f.keys.get("year") is not None}
    growth_rows = grouped.get(("revenue_growth",), [])
    growth = dict(yearly_series(growth_rows, years, errors) or {}) if growth_rows else {}   # a copy: shared
    revenue = revenue_path(points, growth, years)
    flows = {}
    for param in ("equity", "vendor_financing"):
        flows[param] = {}
        for f in grouped.get((param,), []):
            if f.keys.get("year") is None:
                errors.append(InputError(f.file, f.row, "year", f"the year '{param}' is received", "an empty cell"))
            else:
                flows[param][f.keys["year"]] = f.value
    multiple, usd = _debt_limit_rows(grouped, years, errors)

    def scalar_value(key: str, default: float) -> float:
        return scalar[key].value if key in scalar else default

    return {"revenue_bnusd": revenue, "revenue_growth": growth,
            "equity_bnusd": flows["equity"], "vendor_financing_bnusd": flows["vendor_financing"],
            "debt_limit_bnusd": debt_limits(multiple, usd, revenue), "debt_limit_multiple": multiple,
            "terminal_debt_growth": _scalar_row(grouped, "terminal_debt_growth", errors),
            "interest_share_flag": _scalar_row(grouped, "interest_share_flag", errors),
            "interest_rate": scalar_value("interest_rate", 0.0),
            "revenue_to_compute": scalar_value("revenue_to_compute", 1.0),
            "opening_cash_bnusd": scalar_value("opening_cash", 0.0), "cash_floor_bnusd": scalar_value("cash_floor", 0.0),
            "funding_on": bool(scalar_value("funding", 0.0) >= 0.5)}
