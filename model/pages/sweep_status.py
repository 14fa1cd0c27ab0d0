"""What a sweep's cases say before any chart: how many have no plan and why, and which figures are flat.

Split from :mod:`model.pages.sweep` to keep each module short; ``sw`` is its ``Sweep`` (the cases as one frame).
"""
from __future__ import annotations

import re
from typing import Any

import numpy as np

from model import fmt

FIGURES = {"total_cost": "Total discounted cost", "capacity_in_service": "IT capacity in service (target year)",
           "compute_in_service": "Compute in service (target year)", "facility_power": "Facility power (target year)",
           "energy": "Energy (target year)", "max_reachable": "Largest reachable",
           "marginal_cost_of_target": "Marginal cost of the target"}


#: Statuses without a plan, in words.
NO_PLAN = {"infeasible": "the inputs contradict each other", "time_limit": "the solver stopped at its time limit",
           "solver_error": "the solver failed", "unbounded": "the problem is unbounded", "error": "the case failed",
           "input_error": "the case's inputs are refused"}


def failure_sentences(sw: Any, shown: int = 3) -> list[str]:
    """Why the cases without a plan have none: counts by status and the commonest reasons, in words."""
    failed = sw.frame[~(sw.met | sw.missed)] if "status" in sw.frame else sw.frame.iloc[0:0]
    if failed.empty:
        return []
    out = []
    for status, group in failed.groupby("status", sort=False):
        word = NO_PLAN.get(str(status), fmt.words(str(status)).lower())
        reasons: dict[str, list[str]] = {}
        for msg in group.get("message", []):
            msg = str(msg) if isinstance(msg, str) else ""
            if msg:
                reasons.setdefault(re.sub(r"\d[\d.,]*", "#", msg), []).append(msg)
        common = sorted(reasons.values(), key=len, reverse=True)[:shown]
        text = f"{len(group)} case{'s' if len(group) != 1 else ''} without a plan because {word}"
        if common:
            text += ": " + "; ".join(f"{m[0].rstrip('.')}" + (f" ({len(m)} cases alike)" if len(m) > 1 else "")
                                     for m in common)
        out.append(text + ". The pictures and tables below use the cases with a plan only.")
    return out


def flat_figures(sw: Any) -> list[str]:
    """Figures that are the same in every case with a plan (said in words; never drawn as a flat chart)."""
    out = []
    cap_name = "capacity_in_service" if sw.kind == "power" else "compute_in_service"
    for name in (cap_name, "total_cost"):
        vals = sw.fig(name)
        if len(vals) >= 2 and np.allclose(vals, vals[0], rtol=1e-6, atol=1e-9):
            unit = sw.figure_units.get(name, "")
            out.append(f"{FIGURES.get(name, fmt.words(name)).split(' (')[0]} is {fmt.quantity(float(vals[0]), unit)} "
                       f"in every case with a plan ({len(vals)} cases), so it is not drawn.")
    return out


def varies(values: np.ndarray) -> bool:
    return len(values) >= 2 and not np.allclose(values, values[0], rtol=1e-6, atol=1e-9)
