"""The Solution: an xarray Dataset of the plan, every variable with its unit."""
from __future__ import annotations

import json

import numpy as np
import xarray as xr

from model import __version__
from model.checks import energy_readout_problems
from model.concerns import capacity, costs, power
from model.scenario import Scenario
from model.solve import Outcome


def offer_coords(s: Scenario) -> dict[str, tuple[str, list[str]]]:
    """Attributes of each offer as coordinates along ``offer``, so plans group by vendor, host, ..."""
    offers = list(s.offers.values())
    return {
        "vendor": ("offer", [o.vendor for o in offers]),
        "family": ("offer", [o.family for o in offers]),
        "kind": ("offer", [o.kind for o in offers]),
        "host": ("offer", [o.host for o in offers]),
        "offer_region": ("offer", [o.region for o in offers]),
        "contract": ("offer", [o.contract for o in offers]),
    }


def to_dataset(s: Scenario, outcome: Outcome) -> xr.Dataset:
    """Read the plan out of the solved model into one Dataset with units in attrs.

    For a run without a plan (infeasible inputs, solver failure) the Dataset
    holds only the attributes.
    """
    attrs = {
        "scenario": s.name,
        "status": outcome.status,
        "message": outcome.message,
        "objective_usd": float(outcome.objective_bnusd * 1e9) if outcome.objective_bnusd is not None else np.nan,
        "target": float(s.main_target.value if s.main_target.kind == "power" else s.main_target.value * 1e18),
        "target_unit": "GW" if s.main_target.kind == "power" else "FLOP/s",
        "target_year": int(min(t.year for t in s.targets if t.main)),
        "input_sha256": json.dumps(s.input_files, sort_keys=True),
        "model_version": __version__,
        "Conventions": "CF-1.8",
    }
    if not outcome.has_plan or outcome.model is None:
        return xr.Dataset(attrs=attrs)
    m = outcome.model
    cap = capacity.report(m, s).assign_coords(offer=list(s.offers), year=list(s.years), **offer_coords(s))
    pw = power.report(m, s)
    problems = energy_readout_problems(s, pw)
    if problems:     # the read-out must balance like the LP: anything else is a bug in it
        raise RuntimeError("the energy read-out does not balance: " + "; ".join(problems[:3]))
    pw = pw.assign_coords(region=list(s.regions), year=list(s.years))
    cs = costs.report(m, s).assign_coords(year=list(s.years))
    compute = np.zeros((len(s.offers), len(s.years)))
    for i, (o, info) in enumerate(s.offers.items()):
        for j, y in enumerate(s.years):
            built = sum(float(cap["build_gw"].values[i, s.years.index(v)]) * s.eflops_per_gw[info.family, v]
                        for v in s.years if v <= y < v + s.lifetime_yr[o] and v >= info.first_year)
            compute[i, j] = (built + s.opening_in_service_eflops(o, y)) * 1e18
    ds = xr.merge([cap, pw, cs], compat="no_conflicts", join="outer", combine_attrs="override")
    ds["compute_flops"] = (("offer", "year"), compute, {"units": "FLOP/s", "long_name": "dense FP8 compute in service"})
    ds.attrs.update(attrs)
    return ds
