"""Sweep designs and sensitivity analyses: pure functions on arrays and tables.

Designs say which values each case gets; analyses say which inputs move the
headline figures. Nothing here solves a model, so every function can be
tested on a synthetic function.

Designs (each returns a list of cases, one ``{key: value}`` dict per case,
values in each key's own unit):

* :func:`grid_design` -- every combination of ``steps`` evenly spaced values;
* :func:`oat_design` -- the base case, then one key at a time from low to
  high with the others at the base data (a tornado chart's cases);
* :func:`montecarlo_design` -- independent draws from each key's distribution;
* :func:`sobol_design` -- Saltelli's scheme (SALib) for first-order and total
  Sobol indices, ``N (k + 2)`` cases;
* :func:`morris_design` -- Morris's elementary effects (SALib), ``N (k + 1)`` cases.

Analyses: :func:`tornado_table`, :func:`sobol_table`, :func:`morris_table`,
:func:`correlation_table`; plots: :func:`plot_tornado`, :func:`plot_sobol`,
:func:`plot_morris`, :func:`plot_distributions`, :func:`plot_effects`,
:func:`plot_fan`.
"""
from __future__ import annotations

import itertools
import math
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from model import charts

Case = dict[str, float]

#: Distributions a Monte Carlo sweep accepts, and the numbers each needs.
DISTRIBUTIONS: dict[str, tuple[str, ...]] = {
    "uniform": ("low", "high"),
    "triangular": ("low", "mode", "high"),
    "normal": ("mean", "sd"),
    "lognormal": ("median", "sigma"),
}


@dataclass(frozen=True)
class Distribution:
    """One key's distribution, its numbers in the key's unit (``lognormal``: median and log-space sigma)."""

    kind: str
    params: dict[str, float]

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        p = self.params
        if self.kind == "uniform":
            return rng.uniform(p["low"], p["high"], n)
        if self.kind == "triangular":
            if p["low"] == p["high"]:
                return np.full(n, p["low"])
            return rng.triangular(p["low"], p["mode"], p["high"], n)
        if self.kind == "normal":
            return rng.normal(p["mean"], p["sd"], n)
        if self.kind == "lognormal":
            return rng.lognormal(math.log(p["median"]), p["sigma"], n)
        raise ValueError(f"unknown distribution {self.kind!r}")

    def quantile(self, q: float) -> float:
        """The value below which a share ``q`` of draws fall."""
        from statistics import NormalDist

        p = self.params
        if self.kind == "uniform":
            return p["low"] + q * (p["high"] - p["low"])
        if self.kind == "triangular":
            lo, mode, hi = p["low"], p["mode"], p["high"]
            if hi == lo:
                return lo
            c = (mode - lo) / (hi - lo)
            if q <= c:
                return lo + math.sqrt(q * (hi - lo) * (mode - lo))
            return hi - math.sqrt((1.0 - q) * (hi - lo) * (hi - mode))
        if self.kind == "normal":
            return NormalDist(p["mean"], p["sd"]).inv_cdf(q)
        return p["median"] * math.exp(p["sigma"] * NormalDist().inv_cdf(q))

    def problems(self) -> list[str]:
        """What is wrong with the numbers (empty when they make a distribution)."""
        p, out = self.params, []
        if self.kind == "uniform" and p["low"] > p["high"]:
            out.append(f"low ({p['low']:g}) above high ({p['high']:g})")
        if self.kind == "triangular" and not p["low"] <= p["mode"] <= p["high"]:
            out.append(f"low <= mode <= high (found {p['low']:g}, {p['mode']:g}, {p['high']:g})")
        if self.kind == "normal" and not p["sd"] > 0:
            out.append(f"a positive sd (found {p['sd']:g})")
        if self.kind == "lognormal" and not (p["median"] > 0 and p["sigma"] > 0):
            out.append(f"a positive median and sigma (found {p['median']:g}, {p['sigma']:g})")
        return out


# ----------------------------------------------------------------------------
# Designs
# ----------------------------------------------------------------------------
def grid_design(bounds: Mapping[str, tuple[float, float]], steps: int) -> list[Case]:
    """Every combination of ``steps`` evenly spaced values from low to high (the last key varies fastest)."""
    axes = [np.linspace(lo, hi, steps) if steps > 1 else np.array([lo]) for lo, hi in bounds.values()]
    return [dict(zip(bounds, map(float, combo))) for combo in itertools.product(*axes)]


def oat_design(bounds: Mapping[str, tuple[float, float]], steps: int = 2) -> list[Case]:
    """The base case (no key set), then each key alone at ``steps`` values from low to high."""
    cases: list[Case] = [{}]
    for key, (lo, hi) in bounds.items():
        cases += [{key: float(v)} for v in np.linspace(lo, hi, max(steps, 2))]
    return cases


def montecarlo_design(distributions: Mapping[str, Distribution], samples: int, seed: int) -> list[Case]:
    """``samples`` independent draws; the keys are drawn in order from one seeded generator."""
    rng = np.random.default_rng(seed)
    columns = {key: d.sample(rng, samples) for key, d in distributions.items()}
    return [{key: float(columns[key][i]) for key in distributions} for i in range(samples)]


def salib_problem(bounds: Mapping[str, tuple[float, float]]) -> dict[str, Any]:
    return {"num_vars": len(bounds), "names": list(bounds), "bounds": [list(b) for b in bounds.values()]}


def sobol_design(bounds: Mapping[str, tuple[float, float]], samples: int, seed: int) -> list[Case]:
    """Saltelli's sampling for first-order and total Sobol indices: ``samples * (k + 2)`` cases.

    ``samples`` should be a power of two (the Sobol sequence's balance
    properties hold only then); :func:`sobol_note` says so in a sentence
    (SALib's own UserWarning is not let through).
    """
    from SALib.sample import sobol as sobol_sample

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*power of 2", category=UserWarning)
        x = sobol_sample.sample(salib_problem(bounds), samples, calc_second_order=False, seed=seed)
    return [dict(zip(bounds, map(float, row))) for row in x]


def sobol_note(samples: int) -> str:
    """A sentence when ``samples`` is not a power of two ('' when it is).

    Examples
    --------
    >>> sobol_note(64)
    ''
    >>> sobol_note(100)[:52]
    '--samples 100 is not a power of 2: the Sobol sequence'
    """
    if samples >= 1 and samples & (samples - 1) == 0:
        return ""
    lower = 1 << (samples.bit_length() - 1)
    return (f"--samples {samples} is not a power of 2: the Sobol sequence is balanced only for powers of 2, so "
            f"the indices converge more slowly (use {lower} or {lower * 2})")


def morris_note(levels: int) -> str:
    """A sentence when ``levels`` is odd ('' when even): SALib's Morris design is then biased.

    Examples
    --------
    >>> morris_note(4)
    ''
    """
    if levels % 2 == 0:
        return ""
    return (f"--levels {levels} is odd: Morris's trajectories then sample the levels unevenly (biased); "
            f"use {levels - 1} or {levels + 1}")


def morris_design(bounds: Mapping[str, tuple[float, float]], trajectories: int, seed: int,
                  levels: int = 4) -> list[Case]:
    """Morris's one-at-a-time trajectories on a ``levels`` grid: ``trajectories * (k + 1)`` cases."""
    from SALib.sample import morris as morris_sample

    with warnings.catch_warnings():           # an odd number of levels: morris_note says so in a sentence
        warnings.filterwarnings("ignore", message="num_levels should be an even number", category=UserWarning)
        x = morris_sample.sample(salib_problem(bounds), trajectories, num_levels=levels, seed=seed)
    return [dict(zip(bounds, map(float, row))) for row in x]


# ----------------------------------------------------------------------------
# Analyses
# ----------------------------------------------------------------------------
def tornado_table(cases: Sequence[Case], figures: Mapping[str, np.ndarray], units: Mapping[str, str],
                  input_units: Mapping[str, str]) -> pd.DataFrame:
    """One row per (figure, key): the figure at the base case and at the key's lowest and highest value.

    ``cases[0]`` must be the base case (:func:`oat_design`). ``swing`` is
    ``|at_high - at_low|``; rows are sorted by it within each figure, so the
    first rows are the inputs that move the figure most.
    """
    rows = []
    keys = list(dict.fromkeys(k for c in cases[1:] for k in c))
    for fig, values in figures.items():
        base = float(values[0])
        for key in keys:
            idx = [i for i, c in enumerate(cases) if set(c) == {key}]
            lo_i = min(idx, key=lambda i: cases[i][key])
            hi_i = max(idx, key=lambda i: cases[i][key])
            lo, hi = float(values[lo_i]), float(values[hi_i])
            rows.append({"figure": fig, "unit": units[fig], "key": key, "input_unit": input_units.get(key, ""),
                         "low_value": cases[lo_i][key], "high_value": cases[hi_i][key], "base": base,
                         "at_low": lo, "at_high": hi,
                         "swing": abs(hi - lo) if math.isfinite(lo) and math.isfinite(hi) else math.nan,
                         "low_case": lo_i, "high_case": hi_i})
    out = pd.DataFrame(rows, columns=["figure", "unit", "key", "input_unit", "low_value", "high_value", "base",
                                      "at_low", "at_high", "swing", "low_case", "high_case"])
    if len(out):
        order = {name: i for i, name in enumerate(figures)}
        out = out.assign(_order=out["figure"].map(order)).sort_values(
            ["_order", "swing"], ascending=[True, False], na_position="last", kind="stable").drop(columns="_order")
    return out.reset_index(drop=True)


def sobol_table(bounds: Mapping[str, tuple[float, float]], figures: Mapping[str, np.ndarray],
                units: Mapping[str, str], seed: int, conf_level: float = 0.95) -> pd.DataFrame:
    """First-order (S1) and total (ST) Sobol indices with their confidence intervals, per figure and key.

    A figure with a missing value in any case (a case without a plan) gets
    NaN indices and a note: Sobol's estimators need every case.
    """
    from SALib.analyze import sobol

    problem = salib_problem(bounds)
    rows = []
    for fig, y in figures.items():
        si, note = _indices(y, len(bounds), ("S1", "S1_conf", "ST", "ST_conf"), lambda y: sobol.analyze(
            problem, y, calc_second_order=False, conf_level=conf_level, seed=seed, print_to_console=False))
        for j, key in enumerate(bounds):
            rows.append({"figure": fig, "unit": units[fig], "key": key, "S1": float(si["S1"][j]),
                         "S1_conf": float(si["S1_conf"][j]), "ST": float(si["ST"][j]),
                         "ST_conf": float(si["ST_conf"][j]), "note": note})
    return pd.DataFrame(rows, columns=["figure", "unit", "key", "S1", "S1_conf", "ST", "ST_conf", "note"])


def morris_table(bounds: Mapping[str, tuple[float, float]], x: np.ndarray, figures: Mapping[str, np.ndarray],
                 units: Mapping[str, str], seed: int, levels: int = 4) -> pd.DataFrame:
    """Morris's mu, mu* (mean absolute elementary effect), sigma and mu*'s confidence interval."""
    from SALib.analyze import morris

    problem = salib_problem(bounds)
    rows = []
    for fig, y in figures.items():
        si, note = _indices(y, len(bounds), ("mu", "mu_star", "sigma", "mu_star_conf"), lambda y: morris.analyze(
            problem, np.asarray(x, dtype=float), y, num_levels=levels, seed=seed, print_to_console=False))
        for j, key in enumerate(bounds):
            rows.append({"figure": fig, "unit": units[fig], "key": key, "mu": float(si["mu"][j]),
                         "mu_star": float(si["mu_star"][j]), "sigma": float(si["sigma"][j]),
                         "mu_star_conf": float(si["mu_star_conf"][j]), "note": note})
    return pd.DataFrame(rows, columns=["figure", "unit", "key", "mu", "mu_star", "sigma", "mu_star_conf", "note"])


def _indices(y: Sequence[float], n_keys: int, names: Sequence[str],
             analyse: Callable[[np.ndarray], Mapping[str, Sequence[float]]]) -> tuple[Mapping, str]:
    """SALib indices of one figure, or NaN (cases without the figure) / zeros (a flat figure) with a note."""
    y = np.asarray(y, dtype=float)
    if not np.all(np.isfinite(y)):
        return {k: [math.nan] * n_keys for k in names}, f"{int(np.sum(~np.isfinite(y)))} cases without this figure"
    if _flat(y):
        return {k: [0.0] * n_keys for k in names}, "the figure does not change (within a billionth of its size)"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return analyse(y), ""


def _flat(y: np.ndarray) -> bool:
    """All values equal but for solver round-off (indices of round-off are noise, not sensitivity)."""
    return float(np.ptp(y)) <= 1e-9 * max(float(np.max(np.abs(y))), 1e-300)


def correlation_table(x: Mapping[str, np.ndarray], figures: Mapping[str, np.ndarray],
                      units: Mapping[str, str]) -> pd.DataFrame:
    """Spearman rank correlation of each figure with each input, over the cases that have the figure."""
    rows = []
    for fig, y in figures.items():
        y = np.asarray(y, dtype=float)
        ok = np.isfinite(y)
        for key, xs in x.items():
            xs = np.asarray(xs, dtype=float)
            both = ok & np.isfinite(xs)
            rho = math.nan
            if both.sum() >= 3 and np.ptp(xs[both]) > 0 and not _flat(y[both]):
                rho = float(pd.Series(xs[both]).rank().corr(pd.Series(y[both]).rank()))
            rows.append({"figure": fig, "unit": units[fig], "key": key, "spearman": rho, "cases": int(both.sum())})
    return pd.DataFrame(rows, columns=["figure", "unit", "key", "spearman", "cases"])


def analyse(model: Callable[[np.ndarray], np.ndarray], bounds: Mapping[str, tuple[float, float]], samples: int,
            seed: int) -> pd.DataFrame:
    """Sobol indices of a plain function ``model(x) -> y`` (rows of x are cases): the analysis alone, no LP."""
    cases = sobol_design(bounds, samples, seed)
    x = np.array([[c[k] for k in bounds] for c in cases])
    return sobol_table(bounds, {"y": model(x)}, {"y": ""}, seed)


# ----------------------------------------------------------------------------
# Plots
# ----------------------------------------------------------------------------
def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _scale(unit: str) -> tuple[float, str]:
    """A readable scale for a unit: USD in billions, FLOP/s in EFLOP/s."""
    if unit == "USD":
        return 1e-9, "billion USD"
    if unit == "FLOP/s":
        return 1e-18, "EFLOP/s"
    if unit.startswith("USD/"):
        return 1e-9, f"billion {unit}"
    return 1.0, unit


def plot_tornado(table: pd.DataFrame, out: Path, labels: Mapping[str, str] | None = None) -> Path | None:
    """Bars from the figure at each key's low value to its high value, around the base case, per figure."""
    if table.empty:
        return None
    plt = _plt()
    figs = list(dict.fromkeys(table["figure"]))
    fig, axes = plt.subplots(1, len(figs), figsize=(5.5 * len(figs), 0.45 * table["key"].nunique() + 1.8),
                             squeeze=False)
    for ax, name in zip(axes[0], figs):
        t = table[table["figure"] == name].iloc[::-1]
        k, unit = _scale(t["unit"].iloc[0])
        base = t["base"].iloc[0] * k
        for i, (_, r) in enumerate(t.iterrows()):
            lo, hi = r["at_low"] * k, r["at_high"] * k
            if math.isfinite(lo):
                ax.barh(i, lo - base, left=base, color="#4c72b0", height=0.6)
            if math.isfinite(hi):
                ax.barh(i, hi - base, left=base, color="#dd8452", height=0.6)
        ax.axvline(base, color="black", lw=1)
        ax.set_yticks(range(len(t)), [f"{(labels or {}).get(r['key'], r['key'])}\n"
                                      f"{r['low_value']:g} .. {r['high_value']:g} {r['input_unit']}".strip()
                                      for _, r in t.iterrows()], fontsize=8)
        ax.set_xlabel(f"{name.replace('_', ' ')} ({unit})")
        ax.grid(alpha=0.3, axis="x")
    axes[0][0].set_title("blue: key at its low value, orange: at its high value; line: base", fontsize=8, loc="left")
    fig.tight_layout()
    path = out / "tornado.png"
    charts.save(fig, path)
    return path


def plot_sobol(table: pd.DataFrame, out: Path) -> Path | None:
    """First-order and total Sobol indices with their confidence intervals, per figure."""
    if table.empty:
        return None
    plt = _plt()
    figs = list(dict.fromkeys(table["figure"]))
    fig, axes = plt.subplots(1, len(figs), figsize=(5 * len(figs), 0.4 * table["key"].nunique() + 2), squeeze=False)
    for ax, name in zip(axes[0], figs):
        t = table[table["figure"] == name]
        y = np.arange(len(t))
        ax.barh(y - 0.2, t["S1"], 0.4, xerr=t["S1_conf"], label="first order S1", color="#4c72b0")
        ax.barh(y + 0.2, t["ST"], 0.4, xerr=t["ST_conf"], label="total ST", color="#dd8452")
        ax.set_yticks(y, t["key"], fontsize=8)
        ax.invert_yaxis()
        ax.set_xlim(left=min(0.0, float(np.nanmin(np.r_[t["S1"].values, 0.0]))))
        ax.set_title(name.replace("_", " "))
        ax.grid(alpha=0.3, axis="x")
    axes[0][0].legend(fontsize=8, frameon=False)
    fig.tight_layout()
    path = out / "sobol.png"
    charts.save(fig, path)
    return path


def plot_morris(table: pd.DataFrame, out: Path) -> Path | None:
    """mu* against sigma per key (far right: strong effect; high: non-linear or interacting)."""
    if table.empty:
        return None
    plt = _plt()
    figs = list(dict.fromkeys(table["figure"]))
    fig, axes = plt.subplots(1, len(figs), figsize=(5 * len(figs), 4), squeeze=False)
    for ax, name in zip(axes[0], figs):
        t = table[table["figure"] == name]
        k, unit = _scale(t["unit"].iloc[0])
        ax.scatter(t["mu_star"] * k, t["sigma"] * k, color="#c44e52")
        for _, r in t.iterrows():
            ax.annotate(r["key"], (r["mu_star"] * k, r["sigma"] * k), fontsize=8, xytext=(3, 3),
                        textcoords="offset points")
        ax.set_xlabel(f"mu* ({unit})")
        ax.set_ylabel(f"sigma ({unit})")
        ax.set_title(name.replace("_", " "))
        ax.grid(alpha=0.3)
    fig.tight_layout()
    path = out / "morris.png"
    charts.save(fig, path)
    return path


def plot_distributions(figures: Mapping[str, np.ndarray], units: Mapping[str, str], out: Path) -> Path | None:
    """Histograms of the headline figures over the cases that have them."""
    finite = {k: np.asarray(v, dtype=float)[np.isfinite(v)] for k, v in figures.items()}
    finite = {k: v for k, v in finite.items() if len(v)}
    if not finite:
        return None
    plt = _plt()
    fig, axes = plt.subplots(1, len(finite), figsize=(4.5 * len(finite), 3.6), squeeze=False)
    for ax, (name, v) in zip(axes[0], finite.items()):
        k, unit = _scale(units[name])
        lo, hi = float(np.min(v * k)), float(np.max(v * k))
        if hi - lo <= 1e-9 * max(abs(hi), 1.0):            # (nearly) one value: one bar around it
            pad = 0.01 * max(abs(hi), 1.0)
            lo, hi = lo - pad, hi + pad
        ax.hist(v * k, bins=min(40, max(5, int(math.sqrt(len(v))) * 2)), range=(lo, hi), color="#4c72b0",
                alpha=0.85)
        ax.axvline(float(np.median(v)) * k, color="black", lw=1, ls="--", label="median")
        ax.set_xlabel(f"{name.replace('_', ' ')} ({unit})")
        ax.set_ylabel("cases")
        ax.grid(alpha=0.3, axis="y")
    axes[0][0].legend(fontsize=8, frameon=False)
    fig.tight_layout()
    path = out / "distributions.png"
    charts.save(fig, path)
    return path


def plot_effects(x: Mapping[str, np.ndarray], y: np.ndarray, name: str, unit: str, status: Sequence[str],
                 out: Path, input_units: Mapping[str, str]) -> Path | None:
    """The figure against each input, one panel per key; cases whose target was missed in orange."""
    y = np.asarray(y, dtype=float)
    if not len(x) or not np.isfinite(y).any():
        return None
    plt = _plt()
    k, shown = _scale(unit)
    fig, axes = plt.subplots(1, len(x), figsize=(4 * len(x), 3.4), squeeze=False, sharey=True)
    missed = np.array([s != "optimal" for s in status])
    for ax, (key, xs) in zip(axes[0], x.items()):
        xs = np.asarray(xs, dtype=float)
        ax.scatter(xs[~missed], y[~missed] * k, s=10, color="#4c72b0", label="optimal")
        if missed.any():
            ax.scatter(xs[missed], y[missed] * k, s=10, color="#dd8452", label="target missed / other")
        ax.set_xlabel(f"{key} ({input_units.get(key) or 'dimensionless'})")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel(f"{name.replace('_', ' ')} ({shown})")
    axes[0][0].legend(fontsize=7, frameon=False)
    fig.tight_layout()
    path = out / f"effects_{name}.png"
    charts.save(fig, path)
    return path


def plot_fan(years: Sequence[int], capacity: np.ndarray, out: Path, target: tuple[float, int] | None = None) -> Path | None:
    """Median and 5-95 % band of the capacity in service per year over the cases (case x year, GW)."""
    capacity = np.asarray(capacity, dtype=float)
    ok = np.isfinite(capacity).all(axis=1)
    if not ok.any():
        return None
    plt = _plt()
    c = capacity[ok]
    fig, ax = plt.subplots(figsize=(8, 4))
    ax.fill_between(years, np.percentile(c, 5, axis=0), np.percentile(c, 95, axis=0), alpha=0.3,
                    color="#4c72b0", label="5-95 % of cases")
    ax.plot(years, np.median(c, axis=0), color="#4c72b0", lw=2, label="median")
    if target:
        ax.axhline(target[0], color="black", ls="--", lw=1)
        ax.axvline(target[1], color="black", ls=":", lw=1)
    ax.set_ylabel("GW (IT) in service")
    ax.set_title(f"Capacity in service over {int(ok.sum())} cases with a plan")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, frameon=False, loc="upper left")
    fig.tight_layout()
    path = out / "capacity_fan.png"
    charts.save(fig, path)
    return path
