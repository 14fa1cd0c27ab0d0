"""What the page draws: headline figures and series by vendor, host and region, from a solved plan."""
from __future__ import annotations

from typing import Any

from model.serve.warm import WarmPlan


def series(s: Any, ins: Any) -> dict[str, Any]:
    """What the page draws over the years, from capacity in service by offer and year (GW): capacity by
    vendor, host and region, facility power (IT x PUE) and energy (as :func:`model.concerns.power.report`)."""
    import numpy as np

    years = [int(y) for y in s.years]
    out: dict[str, Any] = {"years": years}
    if ins is None:
        return out
    from model.colours import colour
    from model.names import name as display, scenario_names

    ins = np.asarray(ins, dtype=float)
    offers = list(s.offers.values())
    shown = scenario_names(s)                # the names and colours of every other page (model.names, colours)
    for attr, name in (("vendor", "vendor"), ("host", "host"), ("region", "region")):
        keys = list(dict.fromkeys(getattr(o, attr) for o in offers))
        index = np.array([keys.index(getattr(o, attr)) for o in offers])
        total = np.zeros((len(keys), len(years)))
        np.add.at(total, index, ins)
        rows = []
        for k, vals in zip(keys, total.tolist()):
            if max(abs(v) for v in vals) > 1e-9:
                rows.append({"name": display(attr, str(k), shown), "id": str(k), "colour": colour(attr, str(k)),
                             "values": [max(0.0, v) for v in vals]})
        out[f"capacity_by_{name}"] = {"unit": "GW", "rows": rows}
    it = _it_by_region(s, ins)
    regions = list(s.regions)
    pue = np.array([[s.pue[r, y] for y in s.years] for r in regions])
    per_gw = np.array([[s.energy_twh_per_gw(r, y) for y in s.years] for r in regions])
    out["facility_power"] = {"unit": "GW", "values": (it * pue).sum(axis=0).tolist()}
    out["energy"] = {"unit": "TWh", "values": (it * per_gw).sum(axis=0).tolist()}
    return out


def _it_by_region(s: Any, ins: Any) -> Any:
    import numpy as np

    regions = list(s.regions)
    it = np.zeros((len(regions), len(s.years)))
    np.add.at(it, np.array([regions.index(o.region) for o in s.offers.values()]), ins)
    return it


def page_figures(s: Any, outcome: Any, plan: WarmPlan, x: Any) -> dict[str, Any]:
    """The figures the page shows, from the least-cost LP's column values, with summary.json's keys and units.

    The formulas are those of :func:`model.results.summary` over
    :func:`model.solution.to_dataset`: capacity in service is the
    ``in_service_gw`` columns, facility power IT x PUE, energy IT x the
    region's TWh per GW, the total cost the objective; binding limits are the
    same sentences. Figures that need the cost read-out (energy cost,
    emissions, spending, funding) are left to ``figures="summary"``.
    """
    import numpy as np

    from model.results import MISSED_COST_DUALS, figure, shown_cost_duals

    t = s.main_target
    ty = min(y.year for y in s.targets if y.main)
    out: dict[str, Any] = {
        "status": outcome.status, "message": outcome.message, "scenario": s.name,
        "target": figure(t.value, "GW") if t.kind == "power" else figure(t.value * 1e18, "FLOP/s"),
        "target_year": ty,
        "objective": "min-cost" if outcome.status != "optimal" or outcome.max_reachable is None else "max-capacity",
    }
    if outcome.max_reachable is not None:
        out["max_reachable"] = (figure(outcome.max_reachable, "GW") if t.kind == "power"
                                else figure(outcome.max_reachable * 1e18, "FLOP/s"))
    if outcome.conflicts:
        out["conflicts"] = outcome.conflicts
    if x is None or not outcome.has_plan:
        out["binding"] = []
        out["series"] = series(s, None)
        return out
    ins = np.asarray(x)[plan.cost.a.ins_cols]
    j = list(s.years).index(ty)
    out["total_cost"] = figure(outcome.objective_bnusd * 1e9, "USD")
    out["capacity_in_service"] = {str(y): figure(float(v), "GW") for y, v in zip(s.years, ins.sum(axis=0))}
    for key, attr in (("capacity_by_vendor", "vendor"), ("capacity_by_host", "host"),
                      ("capacity_by_region", "region")):
        got: dict[str, float] = {}
        for o, v in zip(s.offers.values(), ins[:, j].tolist()):
            got[getattr(o, attr)] = got.get(getattr(o, attr), 0.0) + v
        out[key] = {k: figure(v, "GW") for k, v in sorted(got.items())}
    sr = series(s, ins)
    out["facility_power"] = figure(sr["facility_power"]["values"][j], "GW")
    out["energy"] = figure(sr["energy"]["values"][j], "TWh")
    out["binding"] = [b.as_json() for b in shown_cost_duals(outcome)]     # none for a missed plan, as run.py
    if outcome.status == "target_missed":
        out["binding_note"] = MISSED_COST_DUALS
    if outcome.reach_binding:
        out["limits_on_reach"] = [b.as_json() for b in outcome.reach_binding]
    out["series"] = sr
    return out
