"""Revenue, equity, vendor financing, borrowing and debt limits (table family of the loader)."""
from __future__ import annotations

from typing import Any

from model.assemble.series import group_facts, interpolate, yearly_series
from model.errors import InputError
from model.inputs import Fact, facts_from


def assemble_money(rows, errors: list[InputError], years: tuple[int, ...], scalar: dict[str, Fact]) -> dict[str, Any]:
    """Revenue, equity, vendor financing, debt limits and the money scalars, as Scenario fields."""
    horizon = (years[0], years[-1])
    grouped = group_facts(facts_from(rows("finance.csv", horizon), ("year",)))
    revenue: dict[int, float] = {}
    points = {f.keys["year"]: f.value for f in grouped.get(("revenue",), []) if f.keys.get("year") is not None}
    growth = grouped.get(("revenue_growth",), [])
    if points:
        last = max(points)
        revenue = interpolate(points, [y for y in years if y <= last])
        for y in years:
            if y > last:
                revenue[y] = points[last] * (1.0 + (growth[0].value if growth else 0.0)) ** (y - last)
    flows = {}
    for param in ("equity", "vendor_financing"):
        flows[param] = {}
        for f in grouped.get((param,), []):
            if f.keys.get("year") is None:
                errors.append(InputError(f.file, f.row, "year", f"the year '{param}' is received", "an empty cell"))
            else:
                flows[param][f.keys["year"]] = f.value
    debt = grouped.get(("debt_limit",), [])
    debt_limit = (yearly_series(debt, years, errors) or {}) if debt else {}

    def scalar_value(key: str, default: float) -> float:
        return scalar[key].value if key in scalar else default

    return {"revenue_bnusd": revenue, "equity_bnusd": flows["equity"], "vendor_financing_bnusd": flows["vendor_financing"],
            "debt_limit_bnusd": debt_limit, "interest_rate": scalar_value("interest_rate", 0.0),
            "revenue_to_compute": scalar_value("revenue_to_compute", 1.0),
            "opening_cash_bnusd": scalar_value("opening_cash", 0.0), "cash_floor_bnusd": scalar_value("cash_floor", 0.0),
            "funding_on": bool(scalar_value("funding", 0.0) >= 0.5)}
