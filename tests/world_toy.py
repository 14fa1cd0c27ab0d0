"""A small, hand-solvable world for tests: the toy inputs of ``tests/toy.py`` plus buyers.

``write_world(folder, ...)`` writes a complete inputs folder: one vendor (acme) whose world output is
shared, one region (R) whose firm grid power is shared, the default buyer ``a`` (top-level files) and
the rest of the world ``b`` (``buyers/b/``). Each buyer has one offer ``buy``: purchase at 10 bnUSD/GW,
lifetime 5 a, discount rate 0, so a GW bought costs 10 bnUSD in present value whatever the year
(its annuities after the horizon are charged too). PUE 1, electricity free.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.toy import SRC, SRC2, q, write_inputs, write_table

BUY = [{"offer": "buy", "vendor": "acme", "family": "acme-gpu", "host": "self", "region": "R",
        "contract": "purchase", "first_year": 2025, "description": "toy purchase", **SRC2}]
BUY_PARAMETERS = [{"offer": "buy", "year": "", **q("capex", 10e9, "USD/GW")},
                  {"offer": "buy", "year": "", **q("lifetime", 5, "a")}]


def write_world(folder: Path, last_year: int = 2025, output_gw: float = 1.5, grid_gw: float = 100.0,
                announced: dict[str, Any] | None = None, value: dict[str, Any] | None = None,
                extra_buyers: tuple[str, ...] = ()) -> Path:
    """Write the toy world; ``announced`` and ``value`` map buyer -> GW and bnUSD/GW/a (every year)."""
    announced = announced or {"a": 1.0, "b": 1.0}
    value = value or {"a": 30.0, "b": 20.0}
    horizon = [{"parameter": p, "value": v, "unit": "year", **SRC}
               for p, v in (("first_year", 2025), ("last_year", last_year), ("default_target_year", last_year))]
    write_inputs(folder, horizon=horizon, offers=BUY, offer_parameters=BUY_PARAMETERS,
                 scalars=[q("discount_rate", 0, "percent"), q("utilisation", 50, "percent"),
                          q("hours_per_year", 8760, "h"), q("default_target", 0.5, "GW")],
                 vendor_supply=[{"vendor": "acme", "year": 2025, **q("world_output", output_gw, "GW/a")},
                                {"vendor": "acme", "year": "", **q("buyer_share", 50, "percent")}],
                 region_parameters=[
                     {"region": "R", "component": "grid", "year": 2025, **q("regional_power", grid_gw, "GW")},
                     {"region": "R", "component": "grid", "year": "", **q("buyer_share", 50, "percent")},
                     {"region": "R", "component": "", "year": "", **q("pue", 1.0, "dimensionless")},
                     {"region": "R", "component": "", "year": "", **q("electricity_price", 0, "USD/MWh")}])
    buyers = ["a", "b", *extra_buyers]
    roles = {"a": "default", "b": "rest_of_world"}
    write_table(folder / "buyers.csv", [{"buyer": x, "name": f"Buyer {x.upper()}", "role": roles.get(x, "named"),
                                         **SRC} for x in buyers])
    rows = []
    for x in buyers:
        rows.append({"buyer": x, "year": "", **q("announced_capacity", announced.get(x, 1.0), "GW")})
        rows.append({"buyer": x, "year": "", **q("value_of_capacity", value.get(x, 20.0) * 1e9, "USD/GW/a")})
    write_table(folder / "buyer_parameters.csv", rows)
    for x in buyers[1:]:
        (folder / "buyers" / x).mkdir(parents=True, exist_ok=True)
        write_table(folder / "buyers" / x / "offers.csv", BUY)
        write_table(folder / "buyers" / x / "offer_parameters.csv", BUY_PARAMETERS)
    return folder
