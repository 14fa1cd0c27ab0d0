"""The page's controls: every settable input with its unit and range from ``inputs/parameters.yaml``."""
from __future__ import annotations

from typing import Any

from model.names import name, replacements, scenario_names

#: key -> (label, unit shown, factor from the catalogue's unit to the unit shown, unit sent, slider window
#: in the unit shown or None for the catalogue's range, step)
CONTROL_KEYS: dict[str, tuple[str, str, float, str, tuple[float, float] | None, float]] = {
    "pue": ("PUE", "", 1.0, "", (1.0, 2.0), 0.01),
    "electricity_price": ("Electricity price", "USD/MWh", 1000.0, "USD/MWh", (0.0, 300.0), 1.0),
    "supply_scale": ("Supply scale", "x", 1.0, "", (0.0, 2.0), 0.05),
    "deal_minimum": ("Deal minimum", "GW", 1.0, "GW", None, 0.1),
    "deal_maximum": ("Deal maximum", "GW", 1.0, "GW", None, 0.1),
    "lead_time": ("Power lead time", "years", 1.0, "year", None, 1.0),
    "capex_scale": ("Capital cost scale", "x", 1.0, "", (0.0, 2.0), 0.05),
    "discount_rate": ("Discount rate", "%", 100.0, "%", None, 0.5),
}


def _catalogue_range(catalogue: Any, key: str, factor: float) -> tuple[float | None, float | None]:
    spec = catalogue.parameters[catalogue.settable[key].parameter]
    lo = None if spec.minimum is None else spec.minimum * factor
    hi = None if spec.maximum is None else spec.maximum * factor
    if catalogue.settable[key].mode == "scale":
        return 0.0, None
    return lo, hi


def _range_text(lo: float | None, hi: float | None, unit: str) -> str:
    def f(v: float) -> str:
        from model.fmt import sig

        return sig(v, 6) if abs(v) < 1e6 else f"{v:,.0f}"
    u = f" {unit}" if unit else ""
    if lo is not None and hi is not None:
        return f"{f(lo)} to {f(hi)}{u}"
    if lo is not None:
        return f"at least {f(lo)}{u}"
    return f"at most {f(hi)}{u}" if hi is not None else "any"


def rival_buyers(inputs_dir: Any) -> dict[str, str]:
    """The world's other buyers (id -> name) when the inputs ship a world allocation, else none."""
    from pathlib import Path

    from model.inputs.allocation import ALLOCATION_FILE, allocation_header
    from model.world.data import read_buyers

    if allocation_header(Path(inputs_dir) / ALLOCATION_FILE) is None:
        return {}
    errors: list = []
    buyers = read_buyers(Path(inputs_dir), errors)
    return {} if errors else {b: x.name for b, x in buyers.items() if x.role != "default"}


def controls(s: Any, catalogue: Any, rivals: dict[str, str] | None = None) -> dict[str, Any]:
    """The page's controls for scenario ``s``: each key with its members, unit, range and starting value.

    ``rivals`` (:func:`rival_buyers`): a control per other buyer of the world scaling its announced plan
    (``buyer_demand_scale.B``); moving one re-solves the world and gives this buyer its new shares."""
    import statistics

    ty = min(x.year for x in s.targets if x.main)
    out: list[dict[str, Any]] = []

    def add(key: str, member: str | None, member_label: str, start: float) -> None:
        label, unit, factor, send_unit, window, step = CONTROL_KEYS[key]
        lo, hi = _catalogue_range(catalogue, key, factor)
        if window is None:
            window = (lo if lo is not None else 0.0, hi if hi is not None else max(2 * start, 10.0))
        w_lo, w_hi = window
        w_hi = max(w_hi, start)
        out.append({"key": key if member is None else f"{key}.{member}", "base": key, "label": label,
                    "member": member_label, "unit": unit, "send_unit": send_unit,
                    "min": lo, "max": hi, "range": _range_text(lo, hi, unit) + " (inputs/parameters.yaml)",
                    "slider": [w_lo, w_hi, step], "start": round(start / step) * step})

    regions = list(s.regions)
    shown = scenario_names(s)               # names, not ids (model.names), as on every other page
    pues = [s.pue[r, ty] for r in regions if (r, ty) in s.pue]
    add("pue", None, "all regions", statistics.fmean(pues) if pues else 1.2)
    prices = [s.electricity_price_bnusd_per_twh[r, ty] * 1000 for r in regions
              if (r, ty) in s.electricity_price_bnusd_per_twh]
    add("electricity_price", None, "all regions", statistics.fmean(prices) if prices else 60.0)
    for r in regions:
        add("pue", r, name("region", r, shown), s.pue.get((r, ty), 1.2))
    for r in regions:
        add("electricity_price", r, name("region", r, shown),
            s.electricity_price_bnusd_per_twh.get((r, ty), 0.06) * 1000)
    for v in s.vendors:
        add("supply_scale", v, s.vendors[v], 1.0)
    for d in s.deals:
        for key, gw, bn in (("deal_minimum", d.min_gw, d.min_bnusd), ("deal_maximum", d.max_gw, d.max_bnusd)):
            add(key, d.name, shown.get("deal", {}).get(d.name) or _deal_label(d), gw if gw is not None else 0.0)
            if bn is not None:                      # a deal in money: its control in billion USD
                out[-1].update(unit="billion USD", send_unit="bnUSD", start=round(bn), range="at least 0 billion "
                               "USD (inputs/parameters.yaml)", slider=[0.0, max(2 * bn, 10.0), 1.0])
    leads = [v for v in s.power_lead_time_yr.values()]
    add("lead_time", None, "every power source", statistics.fmean(leads) if leads else 0.0)
    for p, info in s.power_sources.items():
        add("lead_time", p, name("power_source", p, shown),
            s.power_lead_time_yr.get(p, 0))
    add("capex_scale", None, "every offer", 1.0)
    add("discount_rate", None, "", s.discount_rate * 100)
    for b, buyer_name in (rivals or {}).items():
        out.append({"key": f"buyer_demand_scale.{b}", "base": "buyer_demand_scale",
                    "label": "Another buyer's announced plan", "member": buyer_name, "unit": "x", "send_unit": "",
                    "min": 0.0, "max": None, "range": "at least 0: a factor on its announced capacity "
                    "(inputs/buyer_parameters.csv); the world is re-solved and this buyer gets its new shares",
                    "slider": [0.0, 3.0, 0.1], "start": 1.0})
    t = s.main_target
    return {"controls": out, "years": list(s.years), "target": {
        "value": t.value if t.kind == "power" else t.value, "unit": "GW" if t.kind == "power" else "EFLOP/s",
        "year": ty, "slider": [0.0, max(2 * t.value, 10.0), 1.0]},
        "funding": "on" if s.funding_on else "off", "scenario": s.name,
        "names": {"cost_part": shown.get("cost_part", {}), "replace": replacements(shown)}}


def _short(text: str, fallback: str) -> str:
    head = str(text).split(":")[0].split("(")[0].strip()
    return head or fallback


def _deal_label(d: Any) -> str:
    return _short(d.description, d.name) if d.description else d.name.replace("_", " ")
