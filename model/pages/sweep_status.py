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


def failure_sentences(sw: Any, shown: int = 4) -> list[str]:
    """Why the cases without a plan have none, in one sentence per status: how many, and the limits their
    messages name most often (each with the number of cases naming it)."""
    failed = sw.frame[~(sw.met | sw.missed)] if "status" in sw.frame else sw.frame.iloc[0:0]
    if failed.empty:
        return []
    out = []
    for status, group in failed.groupby("status", sort=False):
        word = NO_PLAN.get(str(status), fmt.words(str(status)).lower())
        named: dict[str, int] = {}
        plain: dict[str, int] = {}
        for msg in group.get("message", []):
            msg = str(msg) if isinstance(msg, str) else ""
            limits = list(dict.fromkeys(re.findall(r"'([^']+)'", msg)))
            for lim in limits:
                named[lim] = named.get(lim, 0) + 1
            if msg and not limits:
                key = re.sub(r"\d[\d.,]*", "#", msg)
                plain[key] = plain.get(key, 0) + 1
        text = f"{len(group)} case{'s' if len(group) != 1 else ''} without a plan because {word}"
        if named:
            top = sorted(named.items(), key=lambda kv: -kv[1])[:shown]
            text += ("; the limits that would have to give: "
                     + "; ".join(f"{lim} ({n} case{'s' if n != 1 else ''})" for lim, n in top)
                     + (f" and {len(named) - shown} more" if len(named) > shown else ""))
        elif plain:
            text += ": " + "; ".join(k.rstrip(".") for k, _ in sorted(plain.items(), key=lambda kv: -kv[1])[:2])
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
