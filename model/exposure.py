"""Who holds the risk: payments to each counterparty, and what the buyer cannot pay when money falls short.

Counterparties
    The money the plan pays for an offer goes to the counterparty of the
    first deal (inputs/deals.csv order) whose scope covers the offer;
    otherwise capex goes to the offer's vendor (vendors.csv name) and lease
    and fixed payments to its host (hosts.csv name). Energy and power-source
    payments go to "power suppliers", interest to "lenders".

Committed payments (by year)
    payments[c, y] = capex[o, y] * build_gw[o, y] + (lease[o, y] + fixed[o, y]) * in_service_gw[o, y]
    summed over the offers o paid to c (billion USD, nominal), in each
    future's plan; ``committed`` is their probability-weighted sum over the
    futures (the first stage is the same in every future).

Unpaid (the rule)
    Money in year y = revenue share for compute + equity + vendor financing
    (Scenario.funding_bnusd; borrowing is not counted: it is what someone
    else would have to carry). Cash left over carries forward:

        short[y] = max(0, pay[y] - money[y] - carry[y-1])
        carry[y] = max(0, carry[y-1] + money[y] - pay[y])

    and each year's shortfall is split pro rata over that year's payments:
    unpaid[c] = sum_y short[y] * pay[c, y] / pay[y]. Per counterparty:
    the expected unpaid over the futures and the CVaR at ``alpha`` (the mean
    of the worst 1 - alpha of futures by probability).
"""
from __future__ import annotations

import math
from typing import Any, Mapping

from pyomo.environ import value

POWER, LENDERS = "power suppliers", "lenders"


def counterparties(s: Any) -> dict[str, tuple[str, str]]:
    """offer -> (who gets its capex, who gets its lease and fixed payments)."""
    out = {}
    for o, info in s.offers.items():
        deal = next((d for d in s.deals if o in d.offers), None)
        if deal is not None:
            out[o] = (deal.counterparty, deal.counterparty)
        else:
            out[o] = (s.vendors.get(info.vendor, info.vendor), s.hosts.get(info.host, info.host))
    return out


def _v(x: Any) -> float:
    try:
        return float(value(x, exception=False) or 0.0)
    except (TypeError, ValueError):
        return 0.0


def payments(block: Any, s: Any) -> dict[str, dict[int, float]]:
    """counterparty -> year -> billion USD paid in one future's solved plan (nominal)."""
    who = counterparties(s)
    out: dict[str, dict[int, float]] = {}

    def add(c: str, y: int, x: float) -> None:
        if abs(x) > 1e-12:
            out.setdefault(c, {})
            out[c][y] = out[c].get(y, 0.0) + x

    for o in s.offers:
        capex_to, lease_to = who[o]
        for y in s.years:
            if (o, y) in block.OFFER_YEARS:
                add(capex_to, y, _v(block.capex_bnusd_per_gw[o, y]) * _v(block.build_gw[o, y]))
            add(lease_to, y, (_v(block.lease_bnusd_per_gw_yr[o, y]) + _v(block.fixed_bnusd_per_gw_yr[o, y]))
                * _v(block.in_service_gw[o, y]))
    for y in s.years:
        power = sum(_v(getattr(block, name)[y]) for name in ("energy_cost_bnusd", "power_capex_cash_bnusd",
                                                               "power_fixed_cash_bnusd") if hasattr(block, name))
        add(POWER, y, power)
        if hasattr(block, "financing_cost_bnusd"):
            add(LENDERS, y, _v(block.financing_cost_bnusd[y]))
    return out


def money_in(s: Any) -> dict[int, float]:
    """Money for compute per year before borrowing (billion USD): revenue share + equity + vendor financing."""
    return {y: float(s.funding_bnusd(y)) for y in s.years}


def unpaid(pay: Mapping[str, Mapping[int, float]], money: Mapping[int, float]) -> dict[str, float]:
    """What each counterparty is not paid under the module's rule (billion USD).

    >>> unpaid({"A": {2025: 6.0}, "B": {2025: 2.0, 2026: 4.0}}, {2025: 4.0, 2026: 5.0})
    {'A': 3.0, 'B': 1.0}
    """
    years = sorted({y for by in pay.values() for y in by} | set(money))
    out = {c: 0.0 for c in pay}
    carry = 0.0
    for y in years:
        total = sum(by.get(y, 0.0) for by in pay.values())
        have = money.get(y, 0.0) + carry
        short = max(0.0, total - have)
        carry = max(0.0, have - total)
        if short > 0 and total > 0:
            for c, by in pay.items():
                out[c] += short * by.get(y, 0.0) / total
    return out


def cvar_of(values: Mapping[str, float], prob: Mapping[str, float], alpha: float) -> float:
    """CVaR_alpha of a discrete distribution: the probability-weighted mean of its worst (1 - alpha) tail."""
    order = sorted(values, key=lambda n: -values[n])
    tail, acc, total = 1.0 - alpha, 0.0, 0.0
    for n in order:
        take = min(prob[n], tail - acc)
        if take <= 0:
            break
        total += take * values[n]
        acc += take
    return total / tail if tail > 0 else max(values.values())


def exposure(pay_by_future: Mapping[str, Mapping[str, Mapping[int, float]]],
             money_by_future: Mapping[str, Mapping[int, float]], prob: Mapping[str, float],
             alpha: float = 0.9) -> dict[str, dict[str, Any]]:
    """summary.json's ``exposure``: ``{counterparty: {committed, unpaid_expected, unpaid_cvar, ...}}`` in USD.

    ``committed`` is the expected total payment, ``by_year`` its yearly split,
    ``share_of_revenue`` the committed total over the expected revenue over
    the horizon is left to the caller (it needs revenue, not money in).
    """
    names = list(pay_by_future)
    cps = sorted({c for p in pay_by_future.values() for c in p})
    unpaid_by_future = {n: unpaid(pay_by_future[n], money_by_future[n]) for n in names}
    out: dict[str, dict[str, Any]] = {}
    for c in cps:
        years = sorted({y for n in names for y in pay_by_future[n].get(c, {})})
        by_year = {y: sum(prob[n] * pay_by_future[n].get(c, {}).get(y, 0.0) for n in names) for y in years}
        u = {n: unpaid_by_future[n].get(c, 0.0) for n in names}
        out[c] = {"committed": {"value": sum(by_year.values()) * 1e9, "unit": "USD"},
                  "by_year": {str(y): {"value": v * 1e9, "unit": "USD"} for y, v in by_year.items()},
                  "unpaid_expected": {"value": sum(prob[n] * u[n] for n in names) * 1e9, "unit": "USD"},
                  "unpaid_cvar": {"value": cvar_of(u, prob, alpha) * 1e9, "unit": "USD", "alpha": alpha}}
    return out


def with_revenue_share(exp: dict[str, dict[str, Any]], revenue_bnusd: float) -> dict[str, dict[str, Any]]:
    """Add each counterparty's committed total as a share of the buyer's expected revenue over the horizon."""
    for c, row in exp.items():
        share = row["committed"]["value"] / (revenue_bnusd * 1e9) if revenue_bnusd > 0 else math.nan
        row["share_of_revenue"] = ({"value": share, "unit": "dimensionless"} if math.isfinite(share) else None)
    return exp


def most_exposed(exp: Mapping[str, Mapping[str, Any]], n: int = 3) -> list[str]:
    """The counterparties with the largest expected unpaid amount (then the largest CVaR, then committed)."""
    key = lambda c: (-exp[c]["unpaid_expected"]["value"], -exp[c]["unpaid_cvar"]["value"],   # noqa: E731
                     -exp[c]["committed"]["value"])
    return sorted(exp, key=key)[:n]


def summary_keys(spec: Any, rp: Any, alpha: float) -> dict[str, Any]:
    """``exposure`` (by counterparty) and ``money_flows`` (into and out of the buyer) for summary.json."""
    prob = {f.name: f.probability for f in spec.futures}
    scen = {f.name: f.scenario for f in spec.futures}
    money = {n: money_in(scen[n]) for n in prob}
    exp = exposure(rp.payments_by_future, money, prob, alpha)
    revenue = sum(p * sum(scen[n].revenue_bnusd.get(y, 0.0) for y in scen[n].years) for n, p in prob.items())
    exp = with_revenue_share(exp, revenue)
    first = spec.futures[0].scenario
    flows = [{"from": "revenue", "to": "buyer", "kind": "revenue",
              "value": {"value": revenue * 1e9, "unit": "USD"}, "source": "the futures' revenue (finance.csv)"}]
    flows += [dict(r, to="buyer") if r.get("to") is None else r
              for r in read_money_flows(first.years, money_flows_path(first))]
    total_pay = sum(row["committed"]["value"] for row in exp.values())
    inflow = sum(f["value"]["value"] for f in flows if f["to"] == "buyer" and f["kind"] in ("revenue", "equity",
                                                                                             "vendor_financing"))
    if total_pay > inflow:
        flows.append({"from": "borrowing or unpaid", "to": "buyer", "kind": "gap",
                      "value": {"value": total_pay - inflow, "unit": "USD"},
                      "source": "expected payments beyond revenue and the listed investments"})
    flows += [{"from": "buyer", "to": c, "kind": "payments", "value": row["committed"],
               "source": "the hedged plan's expected payments"} for c, row in exp.items()]
    return {"exposure": exp, "most_exposed": most_exposed(exp), "money_flows": flows,
            "exposure_rule": ("unpaid: each year's payments beyond revenue share, equity and vendor financing "
                              "(cash carried forward, borrowing not counted), split pro rata over that year's "
                              "payments; expected and CVaR over the futures")}


MONEY_FLOWS_FILE = "money_flows.csv"


def money_flows_path(s: Any) -> Any:
    """``money_flows.csv`` of the inputs folder ``s`` was read from (``--inputs``), else the project's."""
    from pathlib import Path

    from model.scenario import DEFAULT_INPUTS

    folders = [Path(k).parent for k in getattr(s, "input_files", {}) if Path(k).name == "parameters.yaml"]
    return (folders[0] if folders else Path(DEFAULT_INPUTS)) / MONEY_FLOWS_FILE


def read_money_flows(years: Any = (), path: Any = None) -> list[dict[str, Any]]:
    """Equity and vendor-financing loops into the buyer from ``inputs/money_flows.csv`` (USD), within ``years``."""
    import csv
    from pathlib import Path

    from model.scenario import DEFAULT_INPUTS
    from model.units import parse_quantity

    path = Path(path) if path is not None else Path(DEFAULT_INPUTS) / MONEY_FLOWS_FILE
    if not path.is_file():
        return []
    lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip() and not ln.startswith("#")]
    out = []
    for r in csv.DictReader(lines):
        if years and r.get("year") and int(r["year"]) not in set(years):
            continue
        q = parse_quantity(f"{r['value']} {r['unit']}").to("USD")
        out.append({"from": r["from"], "to": r.get("to") or None, "kind": r["kind"], "year": int(r["year"]),
                    "value": {"value": float(q.magnitude), "unit": "USD"}, "what": r.get("what", ""),
                    "source": r["source"]})
    return out
