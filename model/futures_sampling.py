"""Futures by sampling: ``run.py stochastic --futures FILE --sample N --seed S``.

A sampled futures file has the stage split and penalty of any futures file
and, instead of ``futures`` or ``events``, ``distributions``: the same
per-key format as a Monte Carlo sweep's ``--distributions`` file (uniform,
triangular, normal, lognormal, with units; ``model.sweep.parse_distributions``
validates it), inline or as a path relative to the futures file::

    first_stage_last_year: 2027
    penalty: 100e9 USD/GW
    distributions:
      supply_scale.nvidia: {distribution: triangular, low: 0.7, mode: 1.0, high: 1.2}
      revenue_scale: {distribution: lognormal, median: 1.0, sigma: 0.3}

N futures are drawn independently (one seeded generator, the keys in file
order, as a Monte Carlo sweep draws them), each with probability 1/N; draws
of keys counted in whole years (lead_time, lifetime) are rounded to the
nearest year, so such a key changes the futures' structure; each is
the scenario plus ``--set KEY=VALUE`` for its draws, validated like any input.
The expected-value future (for VSS) is the draw nearest the median of every
key (distance in units of each key's 1 %..99 % range).

Confidence interval (sample-average approximation, SAA): the N futures are
split into B batches of N/B (independent replications); each batch's
risk-neutral SAA is solved alone, and the interval is
``mean(z_b) +- t_{0.975, B-1} * sd(z_b) / sqrt(B)``: a 95 % interval for the
expected optimal cost of an SAA of N/B futures. Its expectation lies below
the true optimal expected cost (SAA is optimistic), so the full-N plan's
expected cost lying inside the interval and a narrow interval both say N was
enough; a wide one says draw more. mpi-sppy's ``confidence_intervals``
(MMW) needs the problem as a module with scenario and sample-tree creators
and fresh samples per replication; this plain batch-means version reuses the
N futures already drawn.
"""
from __future__ import annotations

import dataclasses
import math
import tempfile
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import yaml

from model.errors import InputError, InputErrors
from model.scenario import DEFAULT_INPUTS, TargetSpec, load_variant, read_base_inputs
from model.stochastic import Future, FuturesSpec, extensive_form, penalty_of, read_futures_doc


#: Keys the plan counts in whole years: their draws are rounded to the nearest whole year.
WHOLE_YEARS = ("lead_time", "lifetime")


def has_distributions(path: Path) -> bool:
    """Whether a futures file is a sampled one (has ``distributions``); False when unreadable."""
    try:
        doc = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return False     # not a sampled file: the plain futures reader then names the file and what is wrong
    return isinstance(doc, dict) and "distributions" in doc


def read_distributions(doc: dict, path: Path, shown: str, catalogue: Any) -> list:
    """The file's distributions as sweep ``Vary`` rows (each with its ``Distribution``).

    Raises
    ------
    InputErrors
        Naming the futures file (or the distributions file) and the key of every problem.
    """
    from model.sweep import parse_distributions

    raw = doc.get("distributions")
    if isinstance(raw, str):
        target = (Path(path).parent / raw)
        if not target.is_file():
            raise InputErrors([InputError(shown, "distributions", "distributions",
                                          "a distributions mapping or a file next to the futures file",
                                          f"{raw!r} (no such file)")])
        return parse_distributions(target, catalogue)
    if not isinstance(raw, dict) or not raw:
        raise InputErrors([InputError(shown, "distributions", "distributions",
                                      "a mapping of key: {distribution: ..., ...} (as for a Monte Carlo sweep)",
                                      repr(raw))])
    with tempfile.TemporaryDirectory() as tmp:
        f = Path(tmp) / "distributions.yaml"
        f.write_text(yaml.safe_dump(raw, sort_keys=False))
        try:
            return parse_distributions(f, catalogue)
        except InputErrors as exc:
            raise InputErrors([dataclasses.replace(e, file=f"{shown}, distributions") if str(e.file) == str(f)
                               else e for e in exc.errors]) from None


def sample_futures(path: Path, n: int, seed: int, inputs_dir: Path = DEFAULT_INPUTS, scenario: str | None = None,
                   sets: Sequence[str] = (), target: TargetSpec = TargetSpec()) -> FuturesSpec:
    """Draw ``n`` equiprobable futures from the file's distributions (reproducible with ``seed``).

    Raises
    ------
    InputErrors
        For a file without distributions, a bad distribution (naming the key),
        ``n`` below 1, or a draw the loader refuses (naming the future and key).
    """
    from model.inputs.tables import display_path
    from model.sensitivity import montecarlo_design

    shown = display_path(Path(path))
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise InputErrors([InputError("command line", "--sample", "--sample", "a whole number of futures >= 1",
                                      repr(n))])
    doc = read_futures_doc(path, shown, "a mapping with distributions")
    if "distributions" not in doc:
        raise InputErrors([InputError(shown, "distributions", "distributions",
                                      "distributions to sample with --sample (the Monte Carlo format)",
                                      "none (a file of listed futures or events takes no --sample)")])
    for other in ("futures", "events"):
        if other in doc:
            raise InputErrors([InputError(shown, other, other, "either distributions (sampled) or " + other,
                                          "both")])
    # futures plan on the deals' own shares, as model.stochastic's listed futures do
    base = read_base_inputs(inputs_dir, scenario, [])
    varies = read_distributions(doc, Path(path), shown, base.catalogue)
    stage = doc.get("first_stage_last_year")
    if not isinstance(stage, int) or isinstance(stage, bool):
        raise InputErrors([InputError(shown, "first_stage_last_year", "first_stage_last_year",
                                      "a calendar year (the last year decided now)", repr(stage))])
    draws = montecarlo_design({v.key: v.distribution for v in varies}, n, seed)
    units = {v.key: v.unit for v in varies}
    futures, errors = [], []
    for i, case in enumerate(draws):
        name = f"sample {i + 1}"
        case_sets = list(sets)
        case_target = target
        for key, x in case.items():
            if key.partition(".")[0] in WHOLE_YEARS:
                x = float(round(x))
            text = f"{float(x)!r} {units[key]}".strip()
            if key == "target":
                case_target = dataclasses.replace(target, text=text)
            else:
                case_sets.append(f"{key}={text}")
        try:
            s = load_variant(base, case_sets, case_target, world_allocation=False)
        except InputErrors as exc:
            errors.extend(InputError(shown, f"future '{name}' (seed {seed})", e.field, e.expected, e.found)
                          for e in exc.errors)
            if len(errors) > 20:
                break
            continue
        futures.append(Future(name, 1.0 / n, dataclasses.replace(s, name=name)))
    if errors:
        raise InputErrors(errors)
    penalty, penalty_unit = penalty_of(doc.get("penalty"), futures[0].scenario.main_target.kind, shown)
    years = futures[0].scenario.years
    if not years[0] <= stage <= years[-1]:
        raise InputErrors([InputError(shown, "first_stage_last_year", "first_stage_last_year",
                                      f"a year within the horizon {years[0]}..{years[-1]}", repr(stage))])
    return FuturesSpec(tuple(futures), stage, penalty, median_future(draws, varies), shown, penalty_unit)


def median_future(draws: list[dict[str, float]], varies: list) -> str:
    """The name of the draw nearest every key's median (each key scaled by its 1 %..99 % range)."""
    def dist(case: dict[str, float]) -> float:
        return sum(((case[v.key] - v.distribution.quantile(0.5)) / max(v.high - v.low, 1e-12)) ** 2 for v in varies)

    best = min(range(len(draws)), key=lambda i: dist(draws[i]))
    return f"sample {best + 1}"


def saa_confidence(spec: FuturesSpec, batches: int | None = None, level: float = 0.95,
                   time_limit: float | None = None) -> dict[str, Any]:
    """The batch-means SAA confidence interval for the optimal expected cost (billion USD inside).

    The futures are split in order into ``batches`` groups of equal size (the
    remainder dropped); each group's risk-neutral extensive form is solved
    alone. Returns ``{"low", "high", "mean", "sd", "batches", "batch_size",
    "level", "half_width", "costs"}`` with costs in billion USD, or
    ``{"batches": 0, "reason": ...}`` when fewer than 4 futures leave no two
    batches of two.
    """
    from scipy import stats

    n = len(spec.futures)
    b = batches if batches is not None else min(10, n // 2)
    if b < 2 or n // b < 2:
        return {"batches": 0, "reason": f"{n} futures are too few for two batches of two (need at least 4)"}
    size = n // b
    costs = []
    for k in range(b):
        group = spec.futures[k * size:(k + 1) * size]
        sub = dataclasses.replace(spec, futures=tuple(dataclasses.replace(f, probability=1.0 / size) for f in group),
                                  expected=group[0].name)
        r = extensive_form(sub, None, time_limit=time_limit)
        if r.status != "optimal":
            raise RuntimeError(f"SAA batch {k + 1} of {b}: {r.message}")
        costs.append(float(r.expected_cost_bnusd))
    mean = float(np.mean(costs))
    sd = float(np.std(costs, ddof=1))
    half = float(stats.t.ppf(0.5 + level / 2, b - 1)) * sd / math.sqrt(b)
    return {"mean": mean, "sd": sd, "low": mean - half, "high": mean + half, "half_width": half,
            "batches": b, "batch_size": size, "level": level, "costs": costs}


def confidence_summary(ci: dict[str, Any], expected_bnusd: float | None) -> dict[str, Any]:
    """The interval for summary.json, in USD, with one sentence on whether N was enough."""
    if not ci.get("batches"):
        return {"method": "batch means over independent SAA replications", "note": ci.get("reason", "")}
    usd = lambda v: {"value": v * 1e9, "unit": "USD"}   # noqa: E731
    rel = ci["half_width"] / max(abs(ci["mean"]), 1e-12)
    inside = expected_bnusd is not None and ci["low"] <= expected_bnusd <= ci["high"]
    note = (f"{ci['level']:.0%} interval from {ci['batches']} batches of {ci['batch_size']} futures: half-width "
            f"{rel:.2%} of the mean; " + ("the full sample's expected cost lies inside it" if inside else
                                           "the full sample's expected cost lies outside it (batches of "
                                           f"{ci['batch_size']} are optimistic)")
            + ("; more futures would narrow it" if rel > 0.01 else "; the sample is large enough for 1 %"))
    return {"method": "batch means over independent SAA replications (Mak, Morton and Wood 1999)",
            "level": ci["level"], "low": usd(ci["low"]), "high": usd(ci["high"]), "mean": usd(ci["mean"]),
            "half_width": usd(ci["half_width"]), "relative_half_width": {"value": rel, "unit": "dimensionless"},
            "batches": ci["batches"], "batch_size": ci["batch_size"], "note": note}
