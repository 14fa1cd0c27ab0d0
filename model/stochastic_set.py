"""The stochastic result set: its summary.json figures, its files and plot, and shortfalls in words.

Written by ``run.py stochastic`` (:mod:`model.stochastic_cli`) from the futures and the
plan of :mod:`model.stochastic`; the page is rendered from the set by
:mod:`model.pages.stochastic`.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd

from model import charts
from model.stochastic import FuturesSpec, StochasticReport, StochasticResult

def _fig(v: float | None, unit: str = "USD") -> dict | None:
    return None if v is None or not math.isfinite(v) else {"value": v * (1e9 if unit == "USD" else 1.0), "unit": unit}


def summary(spec: FuturesSpec, rep: StochasticReport, risk: str | None, alpha: float, weight: float) -> dict:
    rp = rep.rp
    kind = spec.futures[0].scenario.main_target.kind
    return {
        "status": rp.status, "message": rp.message, "futures_file": spec.source_file,
        "first_stage_last_year": spec.first_stage_last_year,
        "penalty": ({"value": spec.penalty_bnusd * 1e9, "unit": "USD/GW"} if spec.penalty_unit == "GW"
                    else {"value": spec.penalty_bnusd * 1e9 / 1e18, "unit": "USD/(FLOP/s)"}),
        "risk": {"measure": risk or "expected cost", "alpha": alpha if risk else None, "weight": weight if risk else 0.0},
        "expected_cost": _fig(rp.expected_cost_bnusd),
        "cvar": {**_fig(rp.cvar_bnusd), "alpha": alpha},
        "cost_by_future": {n: {**_fig(c), "probability": f.probability}
                           for f in spec.futures for n, c in rp.cost_by_future.items() if n == f.name},
        "miss_probability": {"value": rep.miss_probability, "unit": "dimensionless"},
        "expected_shortfall": {"value": rep.expected_shortfall, "unit": "GW" if kind == "power" else "EFLOP/s"},
        "shortfall_by_future": {n: {"value": v, "unit": "GW" if kind == "power" else "EFLOP/s"}
                                for n, v in rp.shortfall_by_future.items()},
        "expected_value_future": spec.expected,
        "eev": _fig(rep.eev_bnusd), "wait_and_see": _fig(rep.ws_bnusd),
        "vss": _fig(rep.vss_bnusd), "evpi": _fig(rep.evpi_bnusd),
        "hedge": rep.differences, "note": rep.note,
        "size": rp.size,
        **_exposure_keys(spec, rp, alpha),
    }


def _exposure_keys(spec: FuturesSpec, rp: StochasticResult, alpha: float) -> dict:
    """summary.json's ``exposure`` and ``money_flows`` (model/exposure.py); empty without payments."""
    from model.exposure import summary_keys

    return summary_keys(spec, rp, alpha) if rp.payments_by_future else {}


def write(root: Path, name: str, spec: FuturesSpec, rep: StochasticReport, summ: dict, argv: list[str],
          plots: bool = True) -> Path:
    from model import pages
    from model.results import new_result_dir, package_versions

    with new_result_dir(root, name) as tmp:
        (tmp / "summary.json").write_text(json.dumps(summ, indent=2) + "\n")
        (tmp / "tables").mkdir()
        rows = [{"future": n, "probability": p.probability, "cost": c * 1e9, "unit": "USD",
                 "shortfall": rep.rp.shortfall_by_future[n]}
                for p in spec.futures for n, c in rep.rp.cost_by_future.items() if n == p.name]
        pd.DataFrame(rows).to_csv(tmp / "tables" / "futures.csv", index=False)
        pd.DataFrame([{"offer": o, "year": y, "hedged": v, "expected_value_plan": rep.ev_first_build.get((o, y), 0.0),
                       "unit": "GW"} for (o, y), v in sorted(rep.rp.first_stage_build.items())]
                     ).to_csv(tmp / "tables" / "first_stage.csv", index=False)
        builds = [{"future": n, "offer": o, "year": y, "value": v, "unit": "GW"}
                  for n, b in rep.rp.builds_by_future.items() for (o, y), v in sorted(b.items())]
        pd.DataFrame(builds).to_csv(tmp / "tables" / "builds_by_future.csv", index=False)
        manifest = {"tool": "compute-energy-plan", "command": "stochastic", "command_line": argv,
                    "futures": [{"name": f.name, "probability": f.probability,
                                 "overrides": [o.__dict__ for o in f.scenario.overrides],
                                 "inputs_sha256": f.scenario.input_files} for f in spec.futures],
                    "timings_s": rep.rp.timings, "versions": package_versions(),
                    "solver": {"check": rep.rp.check.as_json() if rep.rp.check is not None else None}}
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str) + "\n")
        if plots:
            (tmp / "plots").mkdir()
            _plot(spec, rep, tmp / "plots")
        pages.write("stochastic", tmp, "report.html")
    return root / name


def _plot(spec: FuturesSpec, rep: StochasticReport, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [f.name for f in spec.futures]
    costs = [rep.rp.cost_by_future[n] / 1e3 for n in names]
    fig, axes = plt.subplots(1, 2, figsize=(12, 0.4 * len(names) + 2.5))
    axes[0].barh(range(len(names)), costs, color=["#c44e52" if rep.rp.shortfall_by_future[n] > 1e-6 else "#4c72b0"
                                                   for n in names])
    axes[0].set_yticks(range(len(names)), [f"{n} (p={f.probability:.2f})" for n, f in zip(names, spec.futures)],
                       fontsize=8)
    axes[0].invert_yaxis()
    axes[0].axvline(rep.rp.expected_cost_bnusd / 1e3, color="black", ls="--", lw=1, label="expected")
    axes[0].set_xlabel("discounted cost incl. penalties (trillion USD); red: target missed")
    axes[0].legend(frameon=False, fontsize=8)
    diffs = [d for d in rep.differences if d["dimension"] in ("kind", "power")][:10]
    if diffs:
        axes[1].barh(range(len(diffs)), [d["difference"]["value"] for d in diffs], color="#55a868")
        axes[1].set_yticks(range(len(diffs)), [f"{d['dimension']}: {d['key']}" for d in diffs], fontsize=8)
        axes[1].invert_yaxis()
        axes[1].set_xlabel(f"hedged minus expected-value plan, built by {spec.first_stage_last_year} (GW)")
    else:
        axes[1].text(0.5, 0.5, "the hedged first stage equals the expected-value plan's", ha="center",
                     transform=axes[1].transAxes)
    fig.tight_layout()
    charts.save(fig, out / "futures.png")


def shortfall_text(value_: float, unit: str) -> str:
    """A shortfall with its unit (GW for a power target, EFLOP/s = 1e18 FLOP/s for a compute target).

    Examples
    --------
    >>> shortfall_text(2.0, "GW")
    '2.00 GW'
    >>> shortfall_text(1234.5, "EFLOP/s")
    '1,234.50 EFLOP/s'
    """
    return f"{value_:,.2f} {unit}"
