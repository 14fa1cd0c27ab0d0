"""One story of why: what stops more capacity, from the reach duals grouped by family.

:func:`what_stops` is the only place that decides it; the terminal, the page, ``summary.json``
(``what_stops``) and the README all show its answer.

The reach duals are the duals of the largest-reachable problem: GW (or EFLOP/s) of the largest reachable
figure in the target year per unit of each binding limit. They are the right measure whatever the status:
a plan held at its maximum has cost duals valid only for vanishing moves (a limit that stops more capacity
shows there as trillions of USD per GW), so a missed plan never shows them.

Families are compared on one yardstick: the reach one percent more room in every binding limit of the
family would add (dual x the limit's level x 1 %, summed over the family's binding rows); each family also
names its limit with the largest effect, with its dual per unit.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

from model import fmt

#: Constraint component -> family of limits.
FAMILY_OF = {
    "vendor_supply_cap": "chip supply", "build_cap": "chip supply", "cumulative_cap": "chip supply",
    "ramp": "chip supply",
    "grid_power": "power", "power_build_cap": "power", "power_cumulative_cap": "power",
    "power_kind_supply_cap": "power", "grid_energy_cap": "power", "source_energy_cap": "power",
    "commitment": "deals and tranches", "deal_minimum_gw": "deals and tranches",
    "deal_maximum_gw": "deals and tranches", "deal_minimum_spend": "deals and tranches",
    "deal_maximum_spend": "deals and tranches",
    "funding_balance": "money", "debt_limit": "money",
    "portfolio_share_rule": "portfolio",
}
#: What each family is, in words.
FAMILY_WORDS = {
    "chip supply": "chip vendors' supply and what each offer (site, host) can add a year",
    "power": "grid connections, power build-out and its equipment, energy",
    "deals and tranches": "deal minimums and dated deliveries the plan must take (and deal maximums)",
    "money": "cash each year and the debt limit",
    "portfolio": "shares of a vendor, host or kind of chip",
}
#: Basis of the duals, as said in the summary.
BASIS = ("reach duals: GW of the largest reachable capacity in the target year per unit of each binding limit "
         "(the duals of the largest-reachable problem; a missed plan's cost duals, valid only for vanishing "
         "moves of a plan held at its maximum, are not shown)")
STEP = 0.01


def _index_text(index: Any) -> str:
    if index is None:
        return ""
    return ",".join(str(i) for i in index) if isinstance(index, tuple) else str(index)


def row_levels(m: Any, names: Iterable[str]) -> dict[str, float]:
    """Each named constraint's level (its bound, in model units) in built model ``m``.

    A row written with every term on one side (bound 0) gets the size of its activity instead
    (half the sum of its terms' absolute values at the plan), so a 1 % move means the same there.
    """
    from pyomo.core.expr.numvalue import value
    from pyomo.environ import Constraint
    from pyomo.repn import generate_standard_repn

    wanted = set(names)
    out: dict[str, float] = {}
    if m is None or not wanted:
        return out
    for con in m.component_data_objects(Constraint, active=None):
        comp = con.parent_component()
        key = f"{comp.local_name}[{_index_text(con.index())}]"
        if key not in wanted:
            continue
        bound = con.upper if con.upper is not None else con.lower
        level = abs(float(value(bound))) if bound is not None else 0.0
        if level < 1e-9:
            repn = generate_standard_repn(con.body, compute_values=True)
            level = 0.5 * sum(abs(float(c) * float(v.value or 0.0)) for c, v in zip(repn.linear_coefs, repn.linear_vars))
        out[key] = level
    return out


def per_unit_text(pu: Mapping[str, Any]) -> str:
    """A reach dual in words: ``1.14 GW/GW``, ``0.0089 GW per billion USD``."""
    v, unit = float(pu.get("value") or 0.0), str(pu.get("unit") or "")
    if unit.endswith("/USD"):
        return f"{fmt.sig(v * 1e9)} {unit[:-4]} per billion USD"
    return f"{fmt.sig(v)} {unit}"


def _per_unit(b: Mapping[str, Any]) -> tuple[float, str]:
    sp = b.get("shadow_price") or {}
    return float(sp.get("value") or 0.0), str(sp.get("unit") or "")


def what_stops(limits: Sequence[Mapping[str, Any]], levels: Mapping[str, float], unit: str = "GW",
               basis: str = BASIS) -> dict[str, Any]:
    """What stops more, by family, in order of effect (the one answer terminal, page and summary show).

    Parameters
    ----------
    limits : sequence of mappings
        The reach duals as ``Binding.as_json()`` gives them: ``name``, ``constraint``,
        ``shadow_price`` {value, unit} in ``unit`` per unit of the limit (``GW/GW``, ``GW/USD``, ...).
    levels : mapping
        Each constraint's level in model units (:func:`row_levels`; money in billion USD).
    unit : str
        The reach's unit (``GW`` or ``EFLOP/s``).

    Returns
    -------
    dict
        ``families``: per family its words, the effect of 1 % more room in all its binding limits
        (``effect``, in ``unit``), the number of binding limits and the sum of their duals per unit,
        and its three largest limits; ``sentence``: the story in plain words; ``basis``.
    """
    fams: dict[str, dict[str, Any]] = {}
    step = f"{STEP:.0%} more room in each binding limit".replace("%", " %")
    if not levels:        # no built model to read the limits' levels from (the live page's warm solves)
        step = "one unit more room in each binding limit (GW, or a billion USD)"
    for b in limits:
        comp = str(b.get("constraint", "")).split("[", 1)[0]
        fam = FAMILY_OF.get(comp)
        if fam is None:                       # targets and milestones are not limits on reach
            continue
        per, per_unit = _per_unit(b)
        level = float(levels.get(str(b.get("constraint")), 0.0)) * (1e9 if per_unit.endswith("/USD") else 1.0)
        effect = (abs(per) * level * STEP if levels
                  else abs(per) * (1e9 if per_unit.endswith("/USD") else 1.0))
        f = fams.setdefault(fam, {"family": fam, "words": FAMILY_WORDS[fam], "effect": 0.0, "binding": 0,
                                  "per_unit": {}, "limits": []})
        f["effect"] += effect
        f["binding"] += 1
        f["per_unit"][per_unit] = f["per_unit"].get(per_unit, 0.0) + abs(per)
        f["limits"].append({"name": b.get("name"), "constraint": b.get("constraint"),
                            "per_unit": {"value": abs(per), "unit": per_unit}, "effect": effect,
                            "meaning": b.get("meaning", "")})
    ordered = sorted(fams.values(), key=lambda f: -f["effect"])
    for f in ordered:
        f["limits"] = sorted(f["limits"], key=lambda x: -x["effect"])[:3]
        f["per_unit"] = [{"value": v, "unit": u} for u, v in sorted(f["per_unit"].items())]
        f["effect"] = {"value": f["effect"], "unit": unit}
    return {"families": ordered, "unit": unit, "basis": basis, "step": step, "sentence": story(ordered, unit, step)}


def story(families: Sequence[Mapping[str, Any]], unit: str = "GW",
          step: str = "1 % more room in each binding limit") -> str:
    """``What stops more: money (...), then chip supply (...)`` from :func:`what_stops`'s families."""
    if not families:
        return "Nothing stops more: no limit on the largest reachable figure binds."
    parts = []
    for f in families[:3]:
        top = f["limits"][0] if f["limits"] else None
        lead = (f"; most of all {top['name']} ({per_unit_text(top['per_unit'])})"
                if top else "")
        room = step.removesuffix(" in each binding limit")
        parts.append(f"{f['family']} ({f['binding']} binding limit{'s' if f['binding'] != 1 else ''}: {room} "
                     f"in all of them adds {fmt.sig(f['effect']['value'])} {unit}{lead})")
    return "What stops more: " + ", then ".join(parts) + "."


def reach_limits(s: Any, time_limit: float | None = None) -> tuple[float | None, list[dict[str, Any]], dict[str, float]]:
    """Solve the largest-reachable problem of ``s``: (largest reachable, its duals as JSON, their levels).

    For a plan whose target is met (its own solve gave cost duals only). None and empties when it
    cannot be solved.
    """
    from pyomo.environ import value

    from model.build import build_model
    from model.concerns.targets import add_largest_reachable
    from model.solve import explain_duals, make_solver, solve_model

    m = build_model(s)
    add_largest_reachable(m, s)
    opt = make_solver(time_limit)
    status, _ = solve_model(opt, m)
    if status != "optimal":
        return None, [], {}
    unit = "GW" if s.main_target.kind == "power" else "EFLOP/s"
    limits = [b.as_json() for b in explain_duals(s, opt.get_duals(), unit)]
    return float(value(m.reachable)), limits, row_levels(m, [b["constraint"] for b in limits])


def what_stops_lines(summary: Mapping[str, Any], top: int = 3) -> list[str]:
    """The terminal's "What stops more" block from ``summary['what_stops']``."""
    ws = summary.get("what_stops")
    if not isinstance(ws, Mapping):
        return []
    unit = ws.get("unit", "GW")
    lines = [f"\nWhat stops more (reach duals: {unit} of the largest reachable figure per unit of each limit; "
             f"families ranked by what {ws.get('step', '1 % more room in each binding limit')} adds):"]
    for f in (ws.get("families") or [])[:top + 2]:
        lines.append(f"  - {f['family']}: {fmt.sig(f['effect']['value'])} {unit} from {f['binding']} binding "
                     f"limit{'s' if f['binding'] != 1 else ''} ({f['words']})")
        for x in f["limits"][:top]:
            lines.append(f"      {x['name']}: {per_unit_text(x['per_unit'])}")
    if len(lines) == 1:
        lines.append("  no limit on the largest reachable figure binds")
    return lines
