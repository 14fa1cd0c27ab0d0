"""Money held to its stated rule, read out: revenue, the debt limit and interest per year, the rule in words.

summary.json gets, beside ``debt``:

- ``revenue``: the revenue path the model used (USD/a per year, growth after the last row included);
- ``debt_limit``: the limit per year (USD; absent years have none);
- ``interest``: interest paid in cash per year (USD/a, ``interest_rate`` x debt at the start of the year);
- ``interest_share``: interest / revenue per year (dimensionless);
- ``interest_flag``: the stated share above which interest is flagged, and ``flagged``, the years above it;
- ``debt_rule``: the limit and the terminal rule in words.
"""
from __future__ import annotations

from typing import Any

import xarray as xr

from model.scenario import Scenario
from model.units import quantity_json


def debt_rule_words(s: Scenario) -> str:
    """The debt limit and the terminal rule as the inputs state them, in one sentence."""
    if not s.funding_on:
        return "no funding constraint (--set funding=off): debt is not modelled"
    if s.debt_limit_multiple:
        ks = sorted(set(round(k, 6) for k in s.debt_limit_multiple.values()))
        shown = f"{ks[0]:g}x" if len(ks) == 1 else f"{ks[0]:g}x..{ks[-1]:g}x"
        limit = (f"debt at the end of each year at most {shown} that year's revenue (the revenue path the model "
                 "uses, growth after the last revenue row included)")
    elif s.debt_limit_bnusd:
        limit = "debt at the end of each year at most the USD limit of inputs/finance.csv (interpolated between rows)"
    else:
        limit = "no debt limit"
    if s.terminal_debt_growth is None:
        terminal = "no terminal rule"
    elif abs(s.terminal_debt_growth) < 1e-12:
        terminal = f"no new net debt in {s.last_year} (debt at its end at most that of {s.last_year - 1})"
    else:
        terminal = (f"debt at the end of {s.last_year} at most {1.0 + s.terminal_debt_growth:g}x that of "
                    f"{s.last_year - 1}")
    return f"{limit}; {terminal}; interest at {s.interest_rate:.1%} a year on the debt at the start of each year"


def interest_by_year(s: Scenario, ds: xr.Dataset) -> dict[int, float]:
    """Interest paid in cash per year (USD): interest_rate x debt at the end of the year before (0 in the first)."""
    years = [int(y) for y in ds.year.values]
    debt = dict(zip(years, (float(v) for v in ds["debt_usd"].values)))
    return {y: (s.interest_rate * debt[y - 1] if (y - 1) in debt else 0.0) for y in years}


def money_figures(s: Scenario, ds: xr.Dataset) -> dict[str, Any]:
    """``revenue``, ``debt_limit``, ``interest``, ``interest_share`` and ``debt_rule`` for summary.json."""
    years = [int(y) for y in ds.year.values]
    interest = interest_by_year(s, ds)
    out: dict[str, Any] = {
        "revenue": {str(y): quantity_json(s.revenue_bnusd.get(y, 0.0) * 1e9, "USD/a") for y in years},
        "debt_limit": {str(y): quantity_json(s.debt_limit_bnusd[y] * 1e9, "USD")
                       for y in years if y in s.debt_limit_bnusd},
        "interest": {str(y): quantity_json(interest[y], "USD/a") for y in years},
        "debt_rule": debt_rule_words(s),
    }
    shares = {y: interest[y] / (s.revenue_bnusd[y] * 1e9) for y in years if s.revenue_bnusd.get(y, 0.0) > 0}
    flag = s.interest_share_flag
    out["interest_share"] = {str(y): quantity_json(v, "") for y, v in shares.items()}
    out["interest_flag"] = {"value": flag, "unit": "",
                            "flagged": [y for y, v in shares.items() if flag is not None and v > flag],
                            "basis": "interest paid in cash in the year / that year's revenue, flagged above this share "
                                     "(interest_share_flag in inputs/finance.csv)"}
    return out


def money_lines(summary: dict[str, Any]) -> list[str]:
    """Terminal lines: the debt rule, and the years whose interest passes the stated share of revenue."""
    lines = []
    if summary.get("debt_rule"):
        lines.append(f"  Debt rule: {summary['debt_rule']}")
    flag = summary.get("interest_flag") or {}
    flagged = flag.get("flagged") or []
    if flagged:
        values = {y: f["value"] for y, f in (summary.get("interest_share") or {}).items()}
        worst = max(flagged, key=lambda y: values[str(y)])
        lines.append(f"  WARNING: interest passes {flag['value']:.0%} of revenue in "
                     f"{', '.join(str(y) for y in flagged)} ({values[str(worst)]:.0%} in {worst}): "
                     "more than operations can pay (interest_share_flag in inputs/finance.csv)")
    return lines
