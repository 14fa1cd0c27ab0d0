"""Which cases a sweep runs (grid, one-at-a-time, Monte Carlo, Sobol, Morris) and how they are chunked."""
from __future__ import annotations

import math
from typing import Mapping, Sequence

from model.sensitivity import Distribution, grid_design, montecarlo_design, morris_design, oat_design, sobol_design
from model.sweep.keys import SweepUsageError, Vary

METHODS = ("grid", "oat", "montecarlo", "sobol", "morris")


def design(method: str, varies: Sequence[Vary], steps: int | None, samples: int | None, seed: int,
           levels: int) -> list[dict[str, float]]:
    """The cases of a sweep (key -> value in the key's unit), in the order they run."""
    bounds = {v.key: (v.low, v.high) for v in varies}
    if method in ("sobol", "morris"):
        try:
            import SALib  # noqa: F401
        except ImportError:
            raise SweepUsageError(f"--method {method} needs SALib: python -m pip install -e '.[sweep]'") from None
    if method == "grid":
        return grid_design(bounds, steps or 5)
    if method == "oat":
        return oat_design(bounds, steps or 2)
    if method == "montecarlo":
        dists = {v.key: v.distribution or Distribution("uniform", {"low": v.low, "high": v.high}) for v in varies}
        return montecarlo_design(dists, samples or 100, seed)
    if method == "sobol":
        return sobol_design(bounds, samples or 64, seed)
    if method == "morris":
        return morris_design(bounds, samples or 10, seed, levels)
    raise SweepUsageError(f"--method: expected one of {', '.join(METHODS)}, found {method!r}")


def chunk_size_for(n_cases: int) -> int:
    """Cases per chunk: depends only on the number of cases, so results never depend on the worker count."""
    return int(min(256, max(8, math.ceil(n_cases / 64))))


def chunks_of(cases: Sequence[Mapping[str, float]], size: int) -> list[list[tuple[int, dict[str, float]]]]:
    """Fixed chunks ``[0, size)``, ``[size, 2 size)``, ...: the unit of work, checkpoint and resume."""
    indexed = [(i, dict(c)) for i, c in enumerate(cases)]
    return [indexed[i:i + size] for i in range(0, len(indexed), size)]
