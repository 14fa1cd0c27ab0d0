"""Sensitivity sweeps: one scenario re-solved for many values of a few inputs, gathered in one result set.

    python run.py sweep --target 250GW --vary electricity_price=60:120USD/MWh --vary pue=1.1:1.5 \\
        --method grid --steps 5
    python run.py sweep --vary target=200:300GW --vary supply_growth.nvidia=20:40% --method oat
    python run.py sweep --method montecarlo --distributions dists.yaml --samples 500 --seed 7
    python run.py sweep --vary pue=1.1:1.5 --vary capex_scale=0.8:1.2 --method sobol --samples 256
    python run.py sweep ... --workers 8               # local processes (default: every core)
    python run.py sweep ... --scheduler tcp://host:8786  # an existing Dask cluster
    python run.py sweep --resume NAME                 # finish an interrupted sweep

How a sweep runs
----------------
1. **Prepare (once, in this process).** Every ``--vary`` is checked before
   any case runs: the key must be a ``settable`` key of
   ``inputs/parameters.yaml`` (``KEY.NAME`` narrows it) or ``target``, the unit
   of the right dimension, low <= high, and the loader must accept both
   ends. Each key is loaded at three values to learn which Params the sweep
   moves; the model is built once with only those Params mutable and
   compiled into arrays (:func:`model.fastsolve.compile_plan`), and the LP
   after pushing new Params is proven equal to a fresh build's. If the proof
   fails (a key changes the model's shape), every case is built from
   scratch and the manifest says why.
2. **Solve (in chunks).** Cases go in chunks of fixed size to workers (this
   process, local processes, or Dask workers). Every case's Scenario comes
   from the loader, so it passes the validation run.py applies (a refused
   case is an ``input_error``). A worker builds its HiGHS instance from the
   arrays once and, per case, pushes the changed coefficients and re-solves
   warm; a case that moves a Param the compiled plan holds fixed, or whose
   answer fails :class:`model.fastsolve.ModelCheck` (its swept rows and cost
   recomputed from the case's own model), is built from scratch instead, and
   ``status.csv`` says why. A chunk starts from the reference LP and basis,
   so results do not depend on how many workers ran or in which order. A
   case whose target cannot be met is re-solved for the largest reachable
   figure (a second compiled plan); one whose inputs contradict each other
   is diagnosed with :func:`model.solve.solve_plan`. A case that fails is
   recorded with its error; the sweep goes on (and exits 4 if no case was
   solved).
3. **Keep and write.** Each finished chunk is written at once to
   ``results/.NAME.partial/`` (so Ctrl-C or a killed worker loses at most the
   chunks in flight; ``--resume NAME`` runs exactly the missing chunks). At
   the end one result set is written atomically to ``results/NAME``:
   ``cases.csv``, ``summary.csv``, ``status.csv``, ``solution.nc`` (with a
   ``case`` dimension), sensitivity tables, plots, ``report.html`` and
   ``manifest.json``.

Local processes use :class:`concurrent.futures.ProcessPoolExecutor`: it
starts in a fraction of a second and needs nothing running, whereas a Dask
``LocalCluster`` takes seconds to start; ``--scheduler`` sends the same
chunks to a Dask cluster the user started (``dask scheduler`` +
``dask worker``), which must be able to import this package.
"""
from __future__ import annotations

import argparse
import concurrent.futures as cf
import datetime as _dt
import json
import math
import os
import shutil
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from model.errors import InputError, InputErrors, ResultSetError
from model.fastsolve import (CaseDeriver, CaseSolve, HighsPlan, IndexChanged, ModelCheck, NotPolynomial, PlanArrays,
                             changed_params, check_plan_matches, compile_plan, plan_readout, target_kind)
from model.scenario import BaseInputs, Scenario, TargetSpec, load_variant, read_base_inputs
from model.sensitivity import (DISTRIBUTIONS, Distribution, correlation_table, grid_design, montecarlo_design,
                               morris_design, morris_note, morris_table, oat_design, sobol_design, sobol_note,
                               sobol_table, tornado_table)

from model.exitcodes import EXIT_INPUT, EXIT_INTERRUPT, EXIT_OK, EXIT_SOLVER, EXIT_WRITE

METHODS = ("grid", "oat", "montecarlo", "sobol", "morris")
#: Statuses that mean a case has a plan.
PLANNED = ("optimal", "target_missed")
#: Statuses counted as failures on the progress bar.
FAILED = ("error", "input_error", "solver_error", "time_limit", "unbounded")
#: Figures the sensitivity tables and plots analyse.
ANALYSED = ("total_cost", "capacity_in_service", "facility_power")


class SweepUsageError(ValueError):
    """A sweep option is wrong; the message names it. Nothing has run (exit code 2)."""


# ----------------------------------------------------------------------------
# Swept keys
# ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Vary:
    """One swept input: its key, the unit its values are in, and their range or distribution.

    ``low``/``high`` are in ``unit`` (for a distribution: the range its
    probes were taken over). ``to_canonical`` converts a value to the model's
    unit (``canonical_unit``).
    """

    key: str
    option: str
    unit: str
    canonical_unit: str
    to_canonical: float
    low: float
    high: float
    distribution: Distribution | None = None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"key": self.key, "unit": self.unit or "dimensionless", "option": self.option}
        if self.distribution is None:
            out.update(low=self.low, high=self.high)
        else:
            out.update(distribution=self.distribution.kind, **self.distribution.params)
        return out


def _unit_text(q: Any) -> str:
    """How a quantity's unit is written back for the loader ('' for a plain number)."""
    from model.units import ureg

    if q.units == ureg.dimensionless:
        return ""
    return f"{q.units:~C}"


def key_dimensions(key: str, catalogue: Any, option: str) -> list[tuple[Any, str]]:
    """The (dimensionality, model unit) pairs a key's values may have.

    Raises
    ------
    SweepUsageError
        For an unknown key, a qualifier on a key without one, or a switch.
    """
    from model.units import COMPUTE, POWER, ureg

    base, dot, member = key.partition(".")
    if base == "target":
        if dot:
            raise SweepUsageError(f"{option}: 'target' takes no '.NAME' qualifier")
        return [(POWER, "GW"), (COMPUTE, "EFLOP/s")]
    if base not in catalogue.settable:
        raise SweepUsageError(f"{option}: unknown key '{base}'; expected 'target' or one of "
                              + ", ".join(sorted(catalogue.settable)) + " (inputs/parameters.yaml, settable)")
    spec = catalogue.settable[base]
    if dot and not spec.qualifier:
        raise SweepUsageError(f"{option}: '{base}' takes no '.NAME' qualifier (it applies everywhere)")
    if dot and not member:
        raise SweepUsageError(f"{option}: expected a {spec.qualifier} after '{base}.'")
    if spec.mode == "scale":
        return [(ureg.Unit("dimensionless").dimensionality, "")]
    if spec.mode != "set":
        raise SweepUsageError(f"{option}: '{base}' is a {spec.mode} ({spec.mode} keys cannot be varied over a range)")
    return list(catalogue.parameters[spec.parameter].alternatives)


def _match_dimension(q: Any, dims: list[tuple[Any, str]], option: str, field_name: str = "unit") -> str:
    from model.units import describe, dimension_name, ureg

    for dim, unit in dims:
        if q.dimensionality == dim:
            return unit
    words = " or ".join(f"{dimension_name(ureg.Unit(u) if u else ureg.Unit('dimensionless'))} (e.g. {u or '1.2'})"
                        for _, u in dims)
    raise SweepUsageError(f"{option}: expected {words}, found {describe(q)}")


def _dimension_words(dims: list[tuple[Any, str]]) -> str:
    """``money per energy (e.g. USD/MWh)``: what a key's values may be measured in."""
    from model.units import dimension_name, ureg

    return " or ".join(f"{dimension_name(ureg.Unit(u) if u else ureg.Unit('dimensionless'))} (e.g. {u or '1.2'})"
                       for _, u in dims)


def parse_vary(text: str, catalogue: Any) -> Vary:
    """Read ``KEY=LOW:HIGH[UNIT]`` (``pue=1.1:1.5``, ``electricity_price=60:120USD/MWh``, ``target=200:300GW``).

    The unit may follow each number or only the last one (then both share it).

    Raises
    ------
    SweepUsageError
        Naming the option: bad syntax, unknown key, wrong dimension, low above high.
    """
    from model.units import Q_, UnitParseError, parse_quantity

    option = f"--vary {text}"
    if "=" not in text:
        raise SweepUsageError(f"{option}: expected KEY=LOW:HIGH[UNIT] (e.g. pue=1.1:1.5, "
                              "electricity_price=60:120USD/MWh, target=200:300GW)")
    key, rng = (x.strip() for x in text.split("=", 1))
    dims = key_dimensions(key, catalogue, option)
    if ":" not in rng:
        raise SweepUsageError(f"{option}: expected LOW:HIGH after '=' (e.g. {key}=1:2), found {rng!r}")
    low_text, high_text = (x.strip() for x in rng.split(":", 1))
    try:
        high = parse_quantity(high_text)
    except UnitParseError as exc:
        raise SweepUsageError(f"{option}: HIGH {exc}") from None
    try:
        low = Q_(float(low_text), high.units)
    except ValueError:
        try:
            low = parse_quantity(low_text)
        except UnitParseError as exc:
            raise SweepUsageError(f"{option}: LOW {exc}") from None
    canonical = _match_dimension(high, dims, option)
    if low.dimensionality != high.dimensionality:
        raise SweepUsageError(f"{option}: LOW and HIGH must have the same dimension")
    lo, hi = float(low.to(high.units).magnitude), float(high.magnitude)
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise SweepUsageError(f"{option}: expected finite numbers")
    if lo > hi:
        raise SweepUsageError(f"{option}: LOW ({lo:g}) is above HIGH ({hi:g})")
    factor = float(Q_(1.0, high.units).to(canonical or "dimensionless").magnitude)
    return Vary(key, option, _unit_text(high), canonical, factor, lo, hi)


def parse_distributions(path: Path, catalogue: Any) -> list[Vary]:
    """Read a Monte Carlo distributions file.

    One entry per key, e.g.::

        electricity_price: {distribution: triangular, low: 60, mode: 80, high: 120, unit: USD/MWh}
        pue: {distribution: normal, mean: 1.3, sd: 0.05}
        supply_growth.nvidia: {distribution: uniform, low: 20, high: 40, unit: percent}
        target: {distribution: lognormal, median: 250, sigma: 0.1, unit: GW}

    ``lognormal`` takes the median and the standard deviation of the
    logarithm (a plain number). ``unit`` may be left out for plain numbers.
    A value may carry its own unit (``mean: 60 USD/MWh``, ``low: 20%``): it
    is converted to the entry's ``unit`` (or, without one, to the unit of
    its first value that has one); a value of another dimension is refused.

    Raises
    ------
    InputErrors
        Naming the file, the key and the field of every problem.
    """
    import yaml

    from model.units import Q_, UnitParseError, dimension_name, parse_quantity, ureg

    shown = str(path)
    try:
        doc = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputErrors([InputError(shown, 1, "-", "a readable YAML file", str(exc))]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputErrors([InputError(shown, mark.line + 1 if mark else 1, "-", "valid YAML",
                                      str(exc).splitlines()[0])]) from None
    if not isinstance(doc, dict) or not doc:
        raise InputErrors([InputError(shown, 1, "-", "a mapping of key: {distribution: ..., ...}",
                                      type(doc).__name__)])
    errors: list[InputError] = []
    out: list[Vary] = []
    for key, entry in doc.items():
        key = str(key)
        option = f"{shown}, key {key}"
        if not isinstance(entry, dict):
            errors.append(InputError(shown, key, key, "a mapping with 'distribution' and its numbers", repr(entry)))
            continue
        kind = entry.get("distribution")
        if kind not in DISTRIBUTIONS:
            errors.append(InputError(shown, key, "distribution", "one of " + ", ".join(DISTRIBUTIONS), repr(kind)))
            continue
        try:
            dims = key_dimensions(key, catalogue, option)
        except SweepUsageError as exc:
            errors.append(InputError(shown, key, key, "a settable key or 'target'", str(exc).split(": ", 1)[-1]))
            continue
        unit_text = str(entry.get("unit", "") or "").strip()
        scaled = [n for n in DISTRIBUTIONS[kind] if not (kind == "lognormal" and n == "sigma")]  # sigma: log space
        unit_field, unit_shown = "unit", repr(unit_text)
        if not unit_text:               # no 'unit': the unit of the first value written with one ("60 USD/MWh")
            for name in scaled:
                v = entry.get(name)
                if isinstance(v, str):
                    try:
                        first = parse_quantity(v)
                    except UnitParseError:
                        continue
                    if first.units != ureg.dimensionless:
                        unit_text, unit_field, unit_shown = f"{first.units}", name, repr(v)
                        break
        words = _dimension_words(dims)
        try:
            q = parse_quantity(f"1 {unit_text}" if unit_text else "1")
        except UnitParseError:
            errors.append(InputError(shown, key, "unit", words, unit_shown))
            continue
        try:
            canonical = _match_dimension(q, dims, option)
        except SweepUsageError:
            errors.append(InputError(shown, key, unit_field, words, f"{unit_shown} ({dimension_name(q)})"))
            continue
        params: dict[str, float] = {}
        for name in DISTRIBUTIONS[kind]:
            v = entry.get(name)
            if isinstance(v, str) and name in scaled:
                try:
                    value_q = parse_quantity(v)
                except UnitParseError:
                    value_q = None
                if value_q is not None and value_q.units == ureg.dimensionless:
                    v = float(value_q.magnitude)         # a plain number: in the entry's unit
                elif value_q is not None and value_q.dimensionality == q.dimensionality:
                    v = float(value_q.to(q.units).magnitude)
                else:
                    found = repr(v) if value_q is None else f"{v!r} ({dimension_name(value_q)})"
                    errors.append(InputError(shown, key, name, f"a number or a value in {words}", found))
                    continue
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                errors.append(InputError(shown, key, name, f"a number for the {kind} distribution", repr(v)))
            else:
                params[name] = float(v)
        unknown = set(entry) - set(DISTRIBUTIONS[kind]) - {"distribution", "unit", "source", "note"}
        for name in sorted(unknown):
            errors.append(InputError(shown, key, name, f"only {', '.join(DISTRIBUTIONS[kind])}, unit, source, note",
                                     repr(name)))
        if len(params) < len(DISTRIBUTIONS[kind]):
            continue
        dist = Distribution(kind, params)
        for problem in dist.problems():
            errors.append(InputError(shown, key, kind, problem.split(" (")[0], problem))
        if dist.problems():
            continue
        unit = _unit_text(q)
        factor = float(Q_(1.0, q.units).to(canonical or "dimensionless").magnitude)
        out.append(Vary(key, option, unit, canonical, factor, dist.quantile(0.01), dist.quantile(0.99), dist))
    if errors:
        raise InputErrors(errors)
    return out


# ----------------------------------------------------------------------------
# The design: which cases
# ----------------------------------------------------------------------------
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


# ----------------------------------------------------------------------------
# The job a worker gets, and what it gives back
# ----------------------------------------------------------------------------
@dataclass(frozen=True)
class SweepJob:
    """Everything a worker needs (picklable; shipped once per worker)."""

    token: str
    deriver: CaseDeriver
    plan: PlanArrays | None                 # None: every case is built from scratch
    reach: PlanArrays | None
    time_limit: float | None
    vendors: tuple[str, ...]


@dataclass
class CaseResult:
    """One case's outcome: status, headline figures and its plan (offer x year, region x year arrays)."""

    case: int
    status: str
    message: str = ""
    inputs: str = ""                  # "loader": validated as run.py validates
    path: str = ""                    # "fast", "fast+reach", "rebuild", "diagnosis", "-"
    seconds: float = 0.0
    note: str = ""                    # why a case left the fast path (rebuilt from scratch)
    figures: dict[str, float] = field(default_factory=dict)
    in_service: np.ndarray | None = None
    build: np.ndarray | None = None
    facility: np.ndarray | None = None

    def as_json(self) -> dict[str, Any]:
        def arr(a: np.ndarray | None) -> Any:
            return None if a is None else np.asarray(a, dtype=float).tolist()

        return {"case": self.case, "status": self.status, "message": self.message, "inputs": self.inputs,
                "path": self.path, "seconds": self.seconds, "note": self.note, "figures": self.figures,
                "in_service": arr(self.in_service), "build": arr(self.build), "facility": arr(self.facility)}

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> "CaseResult":
        def arr(a: Any) -> np.ndarray | None:
            return None if a is None else np.asarray(a, dtype=float)

        return cls(int(d["case"]), d["status"], d.get("message", ""), d.get("inputs", ""), d.get("path", ""),
                   float(d.get("seconds", 0.0)), d.get("note", ""),
                   {k: float(v) for k, v in d.get("figures", {}).items()},
                   arr(d.get("in_service")), arr(d.get("build")), arr(d.get("facility")))


class CaseRunner:
    """Solves cases for one worker: one HiGHS instance for the plan, one for the largest reachable figure."""

    def __init__(self, job: SweepJob) -> None:
        self.job = job
        self.token = job.token
        self.plan = HighsPlan(job.plan, job.time_limit) if job.plan is not None else None
        self._reach: HighsPlan | None = None
        self._reach_fresh = False
        ref = job.deriver.reference
        from model.build import param_values

        self.ref_values = param_values(ref)         # what the compiled plan holds for every Param
        self.mutable = frozenset(job.plan.param_names) if job.plan is not None else frozenset()
        self._checks: dict[str, ModelCheck | str] = {}
        self.offers, self.years, self.regions = tuple(ref.offers), tuple(ref.years), tuple(ref.regions)
        self._region_of = np.array([self.regions.index(ref.offers[o].region) for o in self.offers])
        self._vendor_of = np.array([job.vendors.index(ref.offers[o].vendor) for o in self.offers])
        self._compute_cache: dict[int, tuple[np.ndarray, float]] = {}

    # -- chunks and cases ----------------------------------------------------
    def run_chunk(self, cases: Sequence[tuple[int, dict[str, float]]]) -> list[CaseResult]:
        """Solve a chunk from the reference state (so the answers do not depend on earlier chunks)."""
        if self.plan is not None:
            self.plan.reset()
        self._reach_fresh = False
        return [self.run_case(i, values) for i, values in cases]

    def run_case(self, case: int, values: Mapping[str, float]) -> CaseResult:
        t0 = time.perf_counter()
        try:
            s, how = self.job.deriver.derive(values)
        except InputErrors as exc:
            return CaseResult(case, "input_error", _one_line(exc), "loader", "-", time.perf_counter() - t0)
        except Exception as exc:  # a bug or an unexpected input: recorded, the sweep goes on
            return CaseResult(case, "error", f"{type(exc).__name__}: {exc}", "", "-", time.perf_counter() - t0)
        try:
            out = self._solve(case, s)
        except Exception as exc:
            out = CaseResult(case, "error", f"{type(exc).__name__}: {exc}", path="-")
        out.inputs = how
        out.seconds = time.perf_counter() - t0
        return out

    def _solve(self, case: int, s: Scenario) -> CaseResult:
        from model.build import param_values

        if self.plan is None:
            return self._rebuild(case, s)
        values = param_values(s)
        frozen = self.frozen_param(values)
        if frozen:
            return self._rebuild(case, s, f"Param {frozen} differs from the compiled plan's and is not mutable in "
                                          "it (the case moves it beyond the values probed before the sweep)")
        try:
            p = self.plan.param_vector(values)
        except IndexChanged as exc:
            return self._rebuild(case, s, str(exc))
        self.plan.set_params(p)
        r = self.plan.solve_min_cost()
        if r.status == "optimal":
            why = self.check("min-cost", values, r)
            if why:
                return self._rebuild(case, s, f"the fast path's plan fails the check against the case's own model: "
                                              f"{why}")
            return self._result(case, s, "optimal", "the target is met at least cost", "fast", r, self.job.plan)
        if r.status not in ("infeasible", "infeasible_or_unbounded"):
            return CaseResult(case, r.status, _status_message(r.status, self.job.time_limit), path="fast")
        if self.job.reach is None:
            return self._rebuild(case, s)
        reach = self._reach_plan()
        reach.set_params(reach.param_vector(values))
        rr = reach.solve_reach()
        if rr.status == "optimal":
            why = self.check("reach", values, rr)
            if why:
                return self._rebuild(case, s, f"the fast path's largest-reachable plan fails the check against the "
                                              f"case's own model: {why}")
            t = s.main_target
            unit = "GW" if t.kind == "power" else "EFLOP/s"
            msg = (f"the target of {t.value:g} {unit} cannot be met; the most that can be held is "
                   f"{rr.max_reachable:.4g} {unit}")
            return self._result(case, s, "target_missed", msg, "fast+reach", rr, self.job.reach)
        if rr.status in ("infeasible", "infeasible_or_unbounded"):
            out = self._rebuild(case, s)            # names the limits that contradict each other
            out.path = "diagnosis"
            return out
        return CaseResult(case, rr.status, _status_message(rr.status, self.job.time_limit), path="fast+reach")

    def _reach_plan(self) -> HighsPlan:
        if self._reach is None:
            self._reach = HighsPlan(self.job.reach, self.job.time_limit)
            self._reach_fresh = True
        if not self._reach_fresh:
            self._reach.reset()
            self._reach_fresh = True
        return self._reach

    def frozen_param(self, values: Mapping[str, Mapping]) -> str:
        """The first Param that is not mutable in the compiled plan yet differs from its value there ('' if none).

        Such a Param is frozen at the reference's values inside HiGHS: the fast
        path would solve a stale LP, so the case is built from scratch.
        """
        for name in sorted(set(values) | set(self.ref_values)):
            if name not in self.mutable and values.get(name) != self.ref_values.get(name):
                return name
        return ""

    def check(self, kind: str, values: Mapping[str, Mapping], r: CaseSolve) -> str:
        """:class:`model.fastsolve.ModelCheck` of a fast-path answer ('' when it holds)."""
        arrays = self.job.plan if kind == "min-cost" else self.job.reach
        if kind not in self._checks:
            try:
                self._checks[kind] = ModelCheck(self.job.deriver.reference, arrays)
            except Exception as exc:   # no check, no fast answer: every case is built from scratch
                self._checks[kind] = f"the check could not be set up ({type(exc).__name__}: {exc})"
        check = self._checks[kind]
        return check if isinstance(check, str) else check(values, r.col_value, r.objective_bnusd)

    def _rebuild(self, case: int, s: Scenario, note: str = "") -> CaseResult:
        from model.solve import solve_plan

        o = solve_plan(s, "min-cost", self.job.time_limit)
        if not o.has_plan or o.model is None:
            return CaseResult(case, o.status, o.message, path="rebuild", note=note)
        m = o.model
        ins_v, build_v = m.in_service_gw.extract_values(), m.build_gw.extract_values()
        ins = np.array([[float(ins_v.get((a, y)) or 0.0) for y in self.years] for a in self.offers])
        build = np.array([[float(build_v.get((a, y)) or 0.0) for y in self.years] for a in self.offers])
        dual = math.nan
        if o.status == "optimal":
            main = [b.shadow_price / 1e9 for b in o.binding
                    if b.constraint.startswith(("target_capacity[", "target_compute["))]
            dual = float(sum(main))
        r = CaseSolve(o.status, float(o.objective_bnusd), o.max_reachable if o.max_reachable is not None else math.nan,
                      None, dual)
        return self._figures(CaseResult(case, o.status, o.message, path="rebuild", note=note), s, r, ins, build)

    # -- read-out ------------------------------------------------------------
    def _result(self, case: int, s: Scenario, status: str, message: str, path: str, r: CaseSolve,
                arrays: PlanArrays) -> CaseResult:
        ins, build = plan_readout(arrays, r.col_value)
        return self._figures(CaseResult(case, status, message, path=path), s, r, ins, build)

    def _figures(self, out: CaseResult, s: Scenario, r: CaseSolve, ins: np.ndarray, build: np.ndarray) -> CaseResult:
        """Headline figures in the target year, as :func:`model.results.summary` states them."""
        years = self.years
        kind, ty, _ = target_kind(s)
        j = years.index(ty)
        ins = np.maximum(ins, 0.0)
        pue = np.array([[s.pue.get((reg, y), 1.0) for y in years] for reg in self.regions])
        per_gw = np.array([[s.energy_twh_per_gw(reg, y) for y in years] for reg in self.regions])
        it = np.zeros((len(self.regions), len(years)))
        np.add.at(it, self._region_of, ins)
        facility = it * pue
        weights, const = self._compute_weights(s, ty)
        fig = {
            "total_cost": r.objective_bnusd * 1e9,
            "capacity_in_service": float(ins[:, j].sum()),
            "compute_in_service": float((np.sum(weights * build) + const) * 1e18),
            "facility_power": float(facility[:, j].sum()),
            "energy": float(np.sum(it[:, j] * per_gw[:, j])),
            "max_reachable": (r.max_reachable if kind == "power" else r.max_reachable * 1e18),
            "marginal_cost_of_target": (r.target_dual * 1e9 if kind == "power" else r.target_dual * 1e9 / 1e18),
        }
        by_vendor = np.zeros(len(self.job.vendors))
        np.add.at(by_vendor, self._vendor_of, ins[:, j])
        for v, gw in zip(self.job.vendors, by_vendor):
            fig[f"capacity_by_vendor:{v}"] = float(gw)
        out.figures = fig
        out.in_service, out.build, out.facility = ins, build, facility
        return out

    def _compute_weights(self, s: Scenario, year: int) -> tuple[np.ndarray, float]:
        """EFLOP/s in service in ``year`` per GW built (offer x vintage) and from the opening stock.

        Kept for the reference's lifetimes and generations (what most cases share); computed afresh otherwise.
        """
        from model.concerns.common import active_vintages

        ref = self.job.deriver.reference
        shared = s.lifetime_yr == ref.lifetime_yr and s.eflops_per_gw == ref.eflops_per_gw \
            and s.opening_gw == ref.opening_gw
        if shared and year in self._compute_cache:
            return self._compute_cache[year]
        w = np.zeros((len(self.offers), len(self.years)))
        const = 0.0
        for i, (o, info) in enumerate(s.offers.items()):
            const += s.opening_in_service_eflops(o, year)
            for v in active_vintages(s, o, year):
                w[i, self.years.index(v)] = s.eflops_per_gw[info.family, v]
        if shared:
            self._compute_cache[year] = (w, const)
        return w, const


def _status_message(status: str, time_limit: float | None) -> str:
    if status == "time_limit":
        return f"HiGHS stopped at the time limit ({time_limit:g} s) without a proven optimum" if time_limit else \
            "HiGHS stopped at an iteration limit"
    if status == "unbounded":
        return "the problem is unbounded"
    return "HiGHS failed without a usable answer"


def _plain(x: float) -> str:
    """A number as people write it (``1.25``, not ``np.float64(1.25)`` or ``1.2500000000000002``)."""
    return f"{float(x):.6g}"


def _one_line(exc: BaseException) -> str:
    """An error as one line; the loader's repeated problems (one per region, say) said once."""
    if isinstance(exc, InputErrors):
        text = "; ".join(dict.fromkeys(str(e) for e in exc.errors))
    else:
        text = str(exc).replace("\n  - ", "; ").replace("\n", " ")
    return text[:1000]


# worker-side: one runner per worker thread, kept between chunks of the same sweep
_LOCAL = threading.local()


def run_chunk(job: SweepJob, cases: Sequence[tuple[int, dict[str, float]]]) -> list[CaseResult]:
    """Solve a chunk of cases in this worker, building the worker's HiGHS instances on its first chunk."""
    runner = getattr(_LOCAL, "runner", None)
    if runner is None or runner.token != job.token:
        runner = CaseRunner(job)
        _LOCAL.runner = runner
    return runner.run_chunk(cases)


def _init_process(job: SweepJob) -> None:
    _LOCAL.job = job


def _run_chunk_in_process(cases: Sequence[tuple[int, dict[str, float]]]) -> list[CaseResult]:
    return run_chunk(_LOCAL.job, cases)


# ----------------------------------------------------------------------------
# Preparing: probes, the compiled plan and its proof
# ----------------------------------------------------------------------------
@dataclass
class Prepared:
    """The job plus what preparation found (for the manifest and the report)."""

    job: SweepJob
    notes: list[str]
    mutable: list[str]
    fast: bool
    seconds: float


def prepare(base: BaseInputs, fixed_sets: Sequence[str], target: TargetSpec, method: str, varies: Sequence[Vary],
            cases: Sequence[Mapping[str, float]], time_limit: float | None = None, rebuild: bool = False,
            log: Callable[[str], None] = lambda _: None) -> Prepared:
    """Check every swept key against the loader, find the Params it moves, compile and prove the fast plan.

    Raises
    ------
    SweepUsageError
        When the loader refuses a key's low or high value (naming the option).
    """
    from model.build import SWEEPABLE_PARAMS

    t0 = time.perf_counter()
    notes: list[str] = []
    units = {v.key: v.unit for v in varies}
    factors = {v.key: v.to_canonical for v in varies}
    tmp = CaseDeriver(base, tuple(fixed_sets), target, units, factors, None, {})   # loads only

    def load(values: Mapping[str, float]) -> Scenario:
        return tmp.exact(values)

    if method == "oat":
        ref_values: dict[str, float] = {}
    elif method == "montecarlo":
        ref_values = {v.key: (v.distribution.quantile(0.5) if v.distribution else (v.low + v.high) / 2)
                      for v in varies}
    else:
        ref_values = {v.key: v.low for v in varies}
    try:
        reference = load(ref_values)
    except InputErrors as exc:
        for v in varies:                                         # whose value is refused?
            if v.key in ref_values:
                try:
                    load({v.key: ref_values[v.key]})
                except InputErrors as one:
                    raise SweepUsageError(f"{v.option}: {_plain(ref_values[v.key])} {v.unit} is refused by the "
                                          f"loader: {_one_line(one)}".replace("  ", " ")) from None
        raise SweepUsageError(f"the swept values together are refused by the loader: {_one_line(exc)}") from None
    log(f"reference case loaded ({time.perf_counter() - t0:.1f} s)")

    # each key at a few values: which Params the sweep moves (made mutable), and a proof of the compiled plan
    probes: dict[str, list[tuple[float, Scenario]]] = {}
    for v in varies:
        if v.distribution is not None:
            probes[v.key] = _probe_distribution(v, ref_values, reference, load)
            continue
        got: list[tuple[float, Scenario]] = []
        for x in _probe_points(v, ref_values):
            if v.key in ref_values and x == ref_values[v.key]:
                got.append((x, reference))
                continue
            try:
                got.append((x, load({**ref_values, v.key: x})))
            except InputErrors as exc:
                raise SweepUsageError(f"{v.option}: {_plain(x)} {v.unit} is refused by the loader: "
                                      f"{_one_line(exc)}".replace("  ", " ")) from None
        probes[v.key] = got
    log(f"each swept key loaded at 3 values ({time.perf_counter() - t0:.1f} s)")
    combos = [dict(cases[0]), dict(cases[-1])]
    for side in (0, -1):
        combo = {k: ps[side][0] for k, ps in probes.items() if ps}
        if combo and combo != ref_values:
            combos.append(combo)
    checked: list[Scenario] = []
    for case in list({json.dumps(c, sort_keys=True): c for c in combos}.values()):
        try:
            checked.append(tmp.exact(case))
        except InputErrors:
            continue
    deriver = CaseDeriver(base, tuple(fixed_sets), target, units, factors, reference, ref_values)

    # the fast plan: only the Params the keys move are mutable; prove the pushed LP equals a fresh build
    others = [s for ps in probes.values() for _, s in ps if s is not reference] + checked
    changed, reindexed = changed_params(reference, others)
    plan = reach = None
    if rebuild:
        notes.append("--rebuild: every case is loaded and built from scratch")
    elif reindexed:
        notes.append(f"the swept keys change the index of {', '.join(sorted(reindexed))}: every case is built "
                     "from scratch")
    elif changed - SWEEPABLE_PARAMS:
        notes.append(f"the swept keys change {', '.join(sorted(changed - SWEEPABLE_PARAMS))}, which cannot be "
                     "mutable: every case is built from scratch")
    else:
        try:
            plan = compile_plan(reference, changed, "min-cost", time_limit)
            # the combined cases move every key at once: a key that changes the model's shape shows there
            endpoints = checked or [s for key in probes for x, s in probes[key][::2] if s is not reference]
            diff = check_plan_matches(plan, endpoints, time_limit)
            if diff:
                notes.append(f"pushing a case's Params does not give a fresh build's LP ({diff}): the keys change "
                             "the model's structure, every case is built from scratch")
                plan = None
            else:
                reach = compile_plan(reference, changed, "reach", time_limit)
        except NotPolynomial as exc:
            notes.append(f"a coefficient is not a polynomial in the swept Params ({exc}): every case is built "
                         "from scratch")
            plan = None
    log(f"model built and compiled once, fast path {'proven' if plan else 'off'} ({time.perf_counter() - t0:.1f} s)")
    job = SweepJob(uuid.uuid4().hex, deriver, plan, reach, time_limit, tuple(reference.vendors))
    return Prepared(job, notes, sorted(changed), plan is not None, time.perf_counter() - t0)


def _probe_distribution(v: Vary, ref_values: Mapping[str, float], reference: Scenario,
                        load: Callable[[Mapping[str, float]], Scenario]) -> list[tuple[float, Scenario]]:
    """Probes of a distribution: its median and, on each side, the widest quantile the loader accepts.

    Cases drawn beyond the probed interval go through the loader one by one
    (and are recorded as input errors if it refuses them).
    """
    median = ref_values[v.key]
    out: list[tuple[float, Scenario]] = []
    for side in ((0.001, 0.01, 0.05, 0.1, 0.25), (0.999, 0.99, 0.95, 0.9, 0.75)):
        for q in side:
            x = v.distribution.quantile(q)
            if x == median:
                break
            try:
                out.append((x, load({**ref_values, v.key: x})))
                break
            except InputErrors:
                continue
    if len(out) < 2:
        return []
    return [out[0], (median, reference), out[1]]


def _probe_points(v: Vary, ref_values: Mapping[str, float]) -> list[float]:
    """Three values to load a key at: its ends and a middle one (the reference value if inside)."""
    lo, hi = v.low, v.high
    mid = ref_values.get(v.key, (lo + hi) / 2)
    if not lo < mid < hi:
        mid = (lo + hi) / 2
    return [lo, mid, hi]


# ----------------------------------------------------------------------------
# Running: serial, local processes, Dask
# ----------------------------------------------------------------------------
def chunks_of(cases: Sequence[Mapping[str, float]], size: int) -> list[list[tuple[int, dict[str, float]]]]:
    """Fixed chunks ``[0, size)``, ``[size, 2 size)``, ...: the unit of work, checkpoint and resume."""
    indexed = [(i, dict(c)) for i, c in enumerate(cases)]
    return [indexed[i:i + size] for i in range(0, len(indexed), size)]


def execute(job: SweepJob, chunks: Sequence[list[tuple[int, dict[str, float]]]], workers: int,
            scheduler: Any, on_done: Callable[[list[CaseResult]], None]) -> None:
    """Run ``chunks`` and hand each finished chunk's results to ``on_done`` (in completion order).

    ``scheduler``: None (this process or ``workers`` local processes), a Dask
    scheduler's address, or a connected ``distributed.Client``.

    Raises
    ------
    KeyboardInterrupt
        Passed on after cancelling what has not started.
    RuntimeError
        When a worker dies (the finished chunks have been handed over).
    """
    if not chunks:
        return
    if scheduler:
        _execute_dask(job, chunks, scheduler, on_done)
        return
    workers = max(1, min(workers, len(chunks)))
    if workers == 1:
        for chunk in chunks:
            on_done(run_chunk(job, chunk))
        return
    from concurrent.futures.process import BrokenProcessPool

    pool = cf.ProcessPoolExecutor(max_workers=workers, initializer=_init_process, initargs=(job,))
    futures = [pool.submit(_run_chunk_in_process, chunk) for chunk in chunks]
    try:
        for f in cf.as_completed(futures):
            on_done(f.result())
    except BrokenProcessPool:
        pool.shutdown(wait=False, cancel_futures=True)
        raise RuntimeError("a worker process died") from None
    except BaseException:
        started = list((getattr(pool, "_processes", None) or {}).values())   # the workers this pool started
        pool.shutdown(wait=False, cancel_futures=True)
        for p in started:
            p.terminate()
        raise
    pool.shutdown(wait=True)


def _execute_dask(job: SweepJob, chunks: Sequence[list[tuple[int, dict[str, float]]]], scheduler: Any,
                  on_done: Callable[[list[CaseResult]], None]) -> None:
    """Send the chunks to a Dask cluster: ``scheduler`` is its address, or a connected ``distributed.Client``."""
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise SweepUsageError("--scheduler needs Dask: python -m pip install -e '.[sweep]'") from None
    own = isinstance(scheduler, str)
    if own:
        try:
            client = Client(scheduler, timeout="30s")      # a loaded machine may take seconds to answer
        except Exception as exc:
            raise SweepUsageError(f"--scheduler {scheduler}: cannot connect ({type(exc).__name__}: {exc})") from None
    else:
        client = scheduler
    futures = []
    try:
        shared = client.scatter(job, broadcast=True, hash=False)
        futures = [client.submit(run_chunk, shared, chunk, pure=False, key=f"sweep-{job.token[:8]}-{chunk[0][0]}")
                   for chunk in chunks]
        for f in as_completed(futures):
            on_done(f.result())
    finally:
        if futures:
            client.cancel(futures)
        if own:
            client.close()


# ----------------------------------------------------------------------------
# Checkpoints and resume
# ----------------------------------------------------------------------------
def partial_dir(root: Path, name: str) -> Path:
    """Where an unfinished sweep keeps its finished chunks: ``results/.NAME.partial``."""
    return root / f".{name}.partial"


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def save_chunk(folder: Path, results: Sequence[CaseResult]) -> None:
    """Keep one finished chunk (written atomically: a chunk file is complete or absent)."""
    first = min(r.case for r in results)
    _write_atomic(folder / "chunks" / f"chunk-{first:07d}.json",
                  json.dumps([r.as_json() for r in results], allow_nan=True))


def load_chunks(folder: Path) -> dict[int, CaseResult]:
    """Every case finished so far, by case number."""
    out: dict[int, CaseResult] = {}
    for f in sorted((folder / "chunks").glob("chunk-*.json")):
        for d in json.loads(f.read_text()):
            r = CaseResult.from_json(d)
            out[r.case] = r
    return out


# ----------------------------------------------------------------------------
# Writing the result set
# ----------------------------------------------------------------------------
def figure_units(kind: str) -> dict[str, str]:
    """Units of the headline figures for a power or a compute target."""
    return {"total_cost": "USD", "capacity_in_service": "GW", "compute_in_service": "FLOP/s",
            "facility_power": "GW", "energy": "TWh", "max_reachable": "GW" if kind == "power" else "FLOP/s",
            "marginal_cost_of_target": "USD/GW" if kind == "power" else "USD/(FLOP/s)"}


def tables_of(results: Sequence[CaseResult], cases: Sequence[Mapping[str, float]], varies: Sequence[Vary],
              kind: str) -> dict[str, Any]:
    """cases.csv, summary.csv and status.csv as DataFrames (tidy, with units)."""
    import pandas as pd

    units = figure_units(kind)
    case_rows = []
    for i, c in enumerate(cases):
        for v in varies:
            case_rows.append({"case": i, "key": v.key, "value": c.get(v.key, math.nan),
                              "unit": v.unit or "dimensionless",
                              "origin": "swept" if v.key in c else "base data"})
    summary_rows, status_rows = [], []
    for r in results:
        status_rows.append({"case": r.case, "status": r.status, "message": r.message, "inputs": r.inputs,
                            "path": r.path, "note": r.note, "seconds": r.seconds})
        for name, value in r.figures.items():
            fig, _, group = name.partition(":")
            fig = "capacity_by_vendor" if fig == "capacity_by_vendor" else fig
            summary_rows.append({"case": r.case, "status": r.status, "figure": fig, "group": group,
                                 "value": value, "unit": units.get(fig, "GW")})
        if not r.figures:
            for fig, unit in units.items():
                summary_rows.append({"case": r.case, "status": r.status, "figure": fig, "group": "",
                                     "value": math.nan, "unit": unit})
    return {
        "cases": pd.DataFrame(case_rows, columns=["case", "key", "value", "unit", "origin"]),
        "summary": pd.DataFrame(summary_rows, columns=["case", "status", "figure", "group", "value", "unit"]),
        "status": pd.DataFrame(status_rows, columns=["case", "status", "message", "inputs", "path", "note",
                                                     "seconds"]),
    }


def dataset_of(results: Sequence[CaseResult], cases: Sequence[Mapping[str, float]], varies: Sequence[Vary],
               reference: Scenario, attrs: Mapping[str, Any]) -> Any:
    """``solution.nc``: the plans of every case along a ``case`` dimension, with units in attrs."""
    import xarray as xr

    from model.solution import offer_coords

    offers, years, regions = list(reference.offers), list(reference.years), list(reference.regions)
    n = len(results)
    kind = target_kind(reference)[0]
    units = figure_units(kind)
    ins = np.full((n, len(offers), len(years)), np.nan)
    build = np.full_like(ins, np.nan)
    fac = np.full((n, len(regions), len(years)), np.nan)
    figs = {k: np.full(n, np.nan) for k in units}
    for i, r in enumerate(results):
        if r.in_service is not None:
            ins[i], build[i], fac[i] = r.in_service, r.build, r.facility
        for k in units:
            figs[k][i] = r.figures.get(k, np.nan)
    data = {
        "in_service_gw": (("case", "offer", "year"), ins, {"units": "GW", "long_name": "IT capacity in service"}),
        "build_gw": (("case", "offer", "year"), build, {"units": "GW", "long_name": "IT capacity added in the year"}),
        "facility_power_gw": (("case", "region", "year"), fac, {"units": "GW", "long_name": "facility power (IT x PUE)"}),
        "status": (("case",), np.array([r.status for r in results], dtype=object), {"long_name": "solve status"}),
        "input_value": (("case", "input"), np.array([[c.get(v.key, np.nan) for v in varies] for c in cases],
                                                     dtype=float).reshape(n, len(varies)),
                        {"long_name": "swept input values (NaN: the base data); units in input_unit"}),
    }
    for k, u in units.items():
        data[k] = (("case",), figs[k], {"units": u, "long_name": k.replace("_", " ") + " (target year)"})
    ds = xr.Dataset(data, coords={"case": [r.case for r in results], "offer": offers, "year": years,
                                  "region": regions, "input": [v.key for v in varies],
                                  "input_unit": ("input", [v.unit or "dimensionless" for v in varies]),
                                  **offer_coords(reference)})
    ds.attrs.update({k: (json.dumps(v) if isinstance(v, (dict, list)) else v) for k, v in attrs.items()})
    return ds


def write_sweep_set(root: Path, name: str, *, method: str, varies: Sequence[Vary], cases: Sequence[Mapping[str, float]],
                    results: Sequence[CaseResult], reference: Scenario, manifest: dict[str, Any], seed: int,
                    levels: int, plots: bool = True) -> Path:
    """Write the sweep's result set into a temporary folder and rename it into place (never overwriting).

    Raises
    ------
    ResultSetError
        If ``root/name`` exists.
    """
    from model import __version__, pages
    from model.resultdir import new_result_dir

    final = Path(root) / name
    with new_result_dir(root, name) as tmp:
        kind, ty, _ = target_kind(reference)
        units = figure_units(kind)
        tabs = tables_of(results, cases, varies, kind)
        for tname, df in tabs.items():
            df.to_csv(tmp / f"{tname}.csv", index=False)
        attrs = {"scenario": reference.name, "method": method, "seed": seed, "target_year": ty,
                 "target_kind": kind, "input_sha256": reference.input_files, "model_version": __version__,
                 "Conventions": "CF-1.8"}
        ds = dataset_of(results, cases, varies, reference, attrs)
        ds.to_netcdf(tmp / "solution.nc")
        analysed = {k: np.array([r.figures.get(k, math.nan) for r in results]) for k in ANALYSED}
        input_units = {v.key: v.unit for v in varies}
        sens = sensitivity_tables(method, varies, cases, analysed, units, seed, levels)
        for tname, df in sens.items():
            df.to_csv(tmp / f"{tname}.csv", index=False)
        images: dict[str, Path] = {}
        if plots:
            (tmp / "plots").mkdir()
            images = sweep_plots(tmp / "plots", method, varies, cases, results, analysed, units, sens, input_units,
                                 reference)
            pages.write("sweep", tmp, "report.html", manifest=manifest)
        manifest = {**manifest, "files": sorted(p.name for p in tmp.iterdir()) + ["manifest.json"]}
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str) + "\n")
    return final


def sensitivity_tables(method: str, varies: Sequence[Vary], cases: Sequence[Mapping[str, float]],
                       analysed: Mapping[str, np.ndarray], units: Mapping[str, str], seed: int,
                       levels: int) -> dict[str, Any]:
    """The method's sensitivity tables: oat (tornado), sobol, morris; rank correlations for the others."""
    bounds = {v.key: (v.low, v.high) for v in varies}
    out: dict[str, Any] = {}
    if method == "oat":
        out["oat"] = tornado_table(cases, analysed, units, {v.key: v.unit for v in varies})
        return out
    if method == "sobol":
        out["sobol"] = sobol_table(bounds, analysed, units, seed)
    if method == "morris":
        x = np.array([[c[v.key] for v in varies] for c in cases], dtype=float)
        out["morris"] = morris_table(bounds, x, analysed, units, seed, levels)
    x = {v.key: np.array([c.get(v.key, np.nan) for c in cases], dtype=float) for v in varies}
    out["correlations"] = correlation_table(x, analysed, units)
    return out


def sweep_plots(folder: Path, method: str, varies: Sequence[Vary], cases: Sequence[Mapping[str, float]],
                results: Sequence[CaseResult], analysed: Mapping[str, np.ndarray], units: Mapping[str, str],
                sens: Mapping[str, Any], input_units: Mapping[str, str], reference: Scenario) -> dict[str, Path]:
    """The sweep's plots; returns title -> file."""
    from model.sensitivity import plot_distributions, plot_effects, plot_fan, plot_morris, plot_sobol, plot_tornado

    images: dict[str, Path] = {}

    def add(title: str, make: Callable[[], Path | None]) -> None:
        try:
            path = make()
        except Exception as exc:  # a plot must never cost the sweep its results
            print(f"  note: plot '{title}' failed: {type(exc).__name__}: {exc}", file=sys.stderr)
            return
        if path is not None:
            images[title] = path

    if "oat" in sens:
        add("Tornado: each input alone from low to high", lambda: plot_tornado(sens["oat"], folder))
    if "sobol" in sens:
        add("Sobol indices (first order and total, 95 % intervals)", lambda: plot_sobol(sens["sobol"], folder))
    if "morris" in sens:
        add("Morris screening (mu* and sigma)", lambda: plot_morris(sens["morris"], folder))
    add("Distributions of cost and capacity over the cases", lambda: plot_distributions(
        {k: analysed[k] for k in ("total_cost", "capacity_in_service")}, units, folder))
    if method != "oat":
        x = {v.key: np.array([c.get(v.key, np.nan) for c in cases], dtype=float) for v in varies}
        status = [r.status for r in results]
        add("Total cost against each input", lambda: plot_effects(
            x, analysed["total_cost"], "total_cost", units["total_cost"], status, folder, input_units))
        add("Capacity in service (target year) against each input", lambda: plot_effects(
            x, analysed["capacity_in_service"], "capacity_in_service", "GW", status, folder, input_units))
    cap = np.array([r.in_service.sum(axis=0) if r.in_service is not None else np.full(len(reference.years), np.nan)
                    for r in results])
    t = reference.main_target
    kind, ty, _ = target_kind(reference)
    add("Capacity in service by year over the cases",
        lambda: plot_fan(list(reference.years), cap, folder, (t.value, ty) if kind == "power" else None))
    return images


def write_sweep_report(folder: Path, manifest: Mapping[str, Any], tabs: Mapping[str, Any], sens: Mapping[str, Any],
                       images: Mapping[str, Path], varies: Sequence[Vary], units: Mapping[str, str]) -> Path:
    """A self-contained ``report.html``: what was swept, what moved the answer, every case's status."""
    import base64
    import html

    e = html.escape
    status = tabs["status"]
    counts = status["status"].value_counts().to_dict()
    head = [("Method", e(manifest["method"])), ("Cases", str(manifest["cases"])),
            ("Status", e(", ".join(f"{k}: {v}" for k, v in counts.items()))),
            ("Scenario", e(str(manifest["scenario"]))), ("Seed", str(manifest.get("seed"))),
            ("Fast path", e("on" if manifest["fast_path"]["on"] else "off") + e(
                " (cases solved: " + ", ".join(f"{k} {v}" for k, v in manifest["fast_path"]["paths"].items()) + ")")),
            ("Time", e(f"prepare {manifest['timings_s'].get('prepare_s', 0):.1f} s, solve "
                       f"{manifest['timings_s'].get('solve_s', 0):.1f} s"))]
    rows = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in head)
    keys = "".join(f"<tr><td>{e(v.key)}</td><td>{e(_range_text(v))}</td></tr>" for v in varies)
    parts = [f"<h1>Sweep: {e(manifest['method'])} over {len(varies)} input{'s' if len(varies) != 1 else ''}</h1>",
             f"<table class='kv'>{rows}</table>", "<h2>Inputs swept</h2>",
             f"<table><tr><th>key</th><th>values</th></tr>{keys}</table>"]
    for note in manifest["fast_path"].get("notes", []):
        parts.append(f"<p class='note'>{e(note)}</p>")
    for tname, df in sens.items():
        shown = df.copy()
        parts.append(f"<h2>{e(tname)}.csv</h2>" + shown.to_html(index=False, float_format=lambda x: f"{x:.4g}",
                                                                 border=0))
    for title, path in images.items():
        data = base64.b64encode(path.read_bytes()).decode()
        parts.append(f"<h2>{e(title)}</h2><img alt='{e(title)}' src='data:image/png;base64,{data}'>")
    bad = status[~status["status"].isin(PLANNED)]
    if len(bad):
        parts.append(f"<h2>Cases without a plan ({len(bad)})</h2>"
                     + bad.head(200).to_html(index=False, border=0, float_format=lambda x: f"{x:.3g}"))
    summ = tabs["summary"]
    main = summ[summ["group"] == ""].pivot_table(index="case", columns="figure", values="value", aggfunc="first")
    wide = tabs["cases"].pivot_table(index="case", columns="key", values="value", aggfunc="first").join(
        status.set_index("case")["status"]).join(main)
    parts.append(f"<h2>Cases (first {min(len(wide), 200)} of {len(wide)}; all in summary.csv)</h2>"
                 + wide.head(200).to_html(border=0, float_format=lambda x: f"{x:.4g}"))
    style = ("body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}"
             "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 7px;"
             "text-align:left;font-size:85%}img{max-width:100%}.note{color:#8a5a00}")
    page = (f"<!doctype html><html><head><meta charset='utf-8'><title>Sweep {e(manifest['method'])}</title>"
            f"<style>{style}</style></head><body>{''.join(parts)}</body></html>")
    out = folder / "report.html"
    out.write_text(page)
    return out


def _range_text(v: Vary) -> str:
    unit = f" {v.unit}" if v.unit else ""
    if v.distribution is None:
        return f"{v.low:g} .. {v.high:g}{unit}"
    params = ", ".join(f"{k} {x:g}" for k, x in v.distribution.params.items())
    return f"{v.distribution.kind} ({params}){unit}"


# ----------------------------------------------------------------------------
# The command
# ----------------------------------------------------------------------------
def parser() -> argparse.ArgumentParser:
    from model.cli_common import ArgumentParser  # says 'did you mean' for a mistyped option

    p = ArgumentParser(
        prog="run.py sweep",
        description="Re-solve one scenario for many values of a few inputs and gather the cases in one result set "
                    "(tornado, grid, Monte Carlo, Sobol and Morris sensitivity).",
        epilog="KEY is a settable key of inputs/parameters.yaml (KEY.NAME narrows it: pue.US-Texas, "
               "supply_growth.nvidia, deal_minimum.amd_instinct) or 'target'. Example: run.py sweep --target 250GW "
               "--vary electricity_price=60:120USD/MWh --vary pue=1.1:1.5 --method grid --steps 5")
    p.add_argument("--vary", action="append", default=[], metavar="KEY=LOW:HIGH[UNIT]",
                   help="an input to sweep and its range, e.g. pue=1.1:1.5, electricity_price=60:120USD/MWh, "
                        "supply_growth.nvidia=20:40%%, target=200:300GW (repeatable)")
    p.add_argument("--method", choices=METHODS, default="grid",
                   help="grid: every combination; oat: one at a time around the base (tornado); montecarlo: "
                        "draws from --distributions; sobol, morris: SALib designs and indices (default grid)")
    p.add_argument("--steps", type=int, help="values per key: grid (default 5), oat (default 2: low and high)")
    p.add_argument("--samples", type=int,
                   help="montecarlo: cases (default 100); sobol: base samples N, N (k+2) cases, a power of 2 "
                        "(default 64); morris: trajectories, N (k+1) cases (default 10)")
    p.add_argument("--levels", type=int, default=4, help="morris: grid levels (default 4)")
    p.add_argument("--distributions", type=Path, metavar="FILE",
                   help="montecarlo: YAML of per-key distributions (uniform, triangular, normal, lognormal, with units)")
    p.add_argument("--seed", type=int, default=1, help="random seed of montecarlo, sobol and morris designs (default 1)")
    p.add_argument("--target", help="the base target (as run.py --target)")
    p.add_argument("--year", type=int, help="the target year (as run.py --year)")
    p.add_argument("--target-basis", choices=("it", "facility"), default="it", help="as run.py --target-basis")
    p.add_argument("--scenario", help="apply inputs/scenarios/NAME.yaml on top of the base data")
    p.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                   help="an override every case shares (as run.py --set)")
    p.add_argument("--inputs", type=Path, default=None, help="inputs folder (default: the project's inputs/)")
    p.add_argument("--workers", type=int, default=None, help="local worker processes (default: every core)")
    p.add_argument("--scheduler", metavar="ADDRESS", help="send the cases to this Dask scheduler (tcp://host:8786)")
    p.add_argument("--chunk-size", type=int, default=None, help="cases per chunk (default: from the number of cases)")
    p.add_argument("--name", help="result set name under results/ (default: sweep-METHOD_SCENARIO_TIMESTAMP)")
    p.add_argument("--results", type=Path, default=Path("results"), help="folder for result sets (default results/)")
    p.add_argument("--resume", metavar="NAME", help="finish the interrupted sweep NAME (its options are reused)")
    p.add_argument("--time-limit", type=float, default=None, metavar="SECONDS", help="HiGHS time limit per solve")
    p.add_argument("--no-plots", action="store_true", help="skip plots and report.html")
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    p.add_argument("--rebuild", action="store_true",
                   help="load and build every case from scratch (the slow reference path; for checking)")
    return p


def _fail(msg: str, code: int = EXIT_INPUT) -> int:
    print(f"error: {msg}", file=sys.stderr)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    """``run.py sweep ...``; the exit code: 0 done (some case has an answer; each case's status is in
    status.csv), 1 the set could not be written, 2 bad options (nothing ran), 4 a worker failed or no case was
    solved (every case failed: the set is written with their errors), 130 interrupted (finished cases kept for
    ``--resume``)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    a = parser().parse_args(argv)
    if a.resume:
        from model.resultdir import check_name

        try:
            check_name(a.resume, "interrupted sweep", "--resume")      # before any file is read
        except ResultSetError as exc:
            return _fail(str(exc))
        folder = partial_dir(a.results, a.resume)
        state_file = folder / "sweep.json"
        if not state_file.exists():
            return _fail(f"--resume {a.resume}: no interrupted sweep at {folder}")
        try:
            state = json.loads(state_file.read_text())
            if not isinstance(state, dict) or not isinstance(state.get("argv"), list) or \
                    not isinstance(state.get("cases"), list):
                raise ValueError("not a sweep's state")
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            return _fail(f"--resume {a.resume}: {state_file} cannot be read ({exc}); start a new sweep")
        b = parser().parse_args(state["argv"])
        b.workers, b.scheduler, b.no_progress = a.workers, a.scheduler, a.no_progress or b.no_progress
        b.results, b.name = a.results, a.resume
        return _run(b, state["argv"], resume=state)
    return _run(a, argv)


def _run(a: argparse.Namespace, argv: list[str], resume: Mapping[str, Any] | None = None) -> int:
    from model.results import check_name, package_versions
    from model.scenario import DEFAULT_INPUTS

    t_start = time.perf_counter()
    for opt, val in (("--steps", a.steps), ("--samples", a.samples), ("--chunk-size", a.chunk_size),
                     ("--workers", a.workers)):
        if val is not None and val < 1:
            return _fail(f"{opt}: expected a positive whole number, found {val}")
    if a.steps is not None and a.method == "grid" and a.steps < 2:
        return _fail("--steps: a grid needs at least 2 values per key")
    if a.levels < 2:
        return _fail("--levels: expected at least 2")
    if a.time_limit is not None and a.time_limit <= 0:
        return _fail(f"--time-limit: expected a positive number of seconds, found {a.time_limit!r}")
    if a.distributions and a.method != "montecarlo":
        return _fail("--distributions is for --method montecarlo")
    inputs = a.inputs or DEFAULT_INPUTS
    target = TargetSpec(a.target, a.year, a.target_basis) if _has_basis() else TargetSpec(a.target, a.year)

    # read the files once; check the base case exactly as run.py would
    try:
        base = read_base_inputs(inputs, a.scenario)
        base_case = load_variant(base, a.sets, target)
    except (InputErrors, InputError) as exc:
        return _fail(str(exc))

    # every --vary checked before anything runs
    try:
        varies = [parse_vary(t, base.catalogue) for t in a.vary]
        if a.distributions:
            varies += parse_distributions(a.distributions, base.catalogue)
    except SweepUsageError as exc:
        return _fail(str(exc))
    except InputErrors as exc:
        return _fail(str(exc))
    if not varies:
        return _fail("nothing to sweep: give --vary KEY=LOW:HIGH (or --distributions FILE with --method montecarlo)")
    seen: set[str] = set()
    for v in varies:
        if v.key in seen:
            return _fail(f"{v.option}: {v.key} is swept twice")
        seen.add(v.key)
    if any(v.key == "target" and target_kind(base_case)[0] != ("power" if v.canonical_unit == "GW" else "compute")
           for v in varies):
        return _fail(next(v.option for v in varies if v.key == "target")
                     + ": the swept target must be of the same kind (power or compute) as the base target")

    if resume is not None:
        cases = [dict(c) for c in resume["cases"]]
        if resume.get("inputs_sha256") != base_case.input_files:
            return _fail(f"--resume {a.name}: the input files changed since the sweep started; start a new sweep")
        if resume.get("units") is not None and resume["units"] != {v.key: v.unit for v in varies}:
            return _fail(f"--resume {a.name}: the swept keys or their units changed since the sweep started "
                         f"(was {resume['units']}); start a new sweep")
    else:
        try:
            cases = design(a.method, varies, a.steps, a.samples, a.seed, a.levels)
        except SweepUsageError as exc:
            return _fail(str(exc))
        note = sobol_note(a.samples or 64) if a.method == "sobol" else morris_note(a.levels) \
            if a.method == "morris" else ""
        if note:
            print(f"  note: {note}", file=sys.stderr)
    name = a.name or f"sweep-{a.method}_{base_case.name}_{_dt.datetime.now().strftime('%Y%m%dT%H%M%S')}"
    try:
        check_name(name)
        if (a.results / name).exists():
            raise ResultSetError(f"result set {a.results / name} exists already; results are never overwritten. "
                                 "Choose another --name or remove the folder yourself.")
    except ResultSetError as exc:
        return _fail(str(exc))
    folder = partial_dir(a.results, name)
    if resume is None and folder.exists():
        return _fail(f"an interrupted sweep '{name}' is kept in {folder}: finish it with --resume {name}, "
                     "or remove that folder to start again")

    log = (lambda msg: print(f"  {msg}", file=sys.stderr, flush=True))
    print(f"Sweep ({a.method}): {len(cases)} cases over {', '.join(v.key for v in varies)}; preparing ...",
          file=sys.stderr, flush=True)
    try:
        prep = prepare(base, a.sets, target, a.method, varies, cases, a.time_limit, a.rebuild, log)
    except SweepUsageError as exc:
        return _fail(str(exc))
    for note in prep.notes:
        print(f"  note: {note}", file=sys.stderr)

    chunk = a.chunk_size or (resume or {}).get("chunk_size") or chunk_size_for(len(cases))
    if resume is None:
        (folder / "chunks").mkdir(parents=True)
        _write_atomic(folder / "sweep.json", json.dumps({
            "argv": argv, "cases": cases, "chunk_size": chunk, "inputs_sha256": base_case.input_files,
            "units": {v.key: v.unit for v in varies},
            "created": _dt.datetime.now().astimezone().isoformat(timespec="seconds")}, indent=1))
    done = load_chunks(folder)
    todo = [c for c in chunks_of(cases, chunk) if c[0][0] not in done]
    if resume is not None:
        print(f"resuming {name}: {sum(len(c) for c in todo)} of {len(cases)} cases left", file=sys.stderr, flush=True)
    workers = a.workers or os.cpu_count() or 1
    progress = _progress(len(cases), len(done), a.no_progress)
    failures = sum(r.status in FAILED for r in done.values())

    def on_done(results: list[CaseResult]) -> None:
        nonlocal failures
        save_chunk(folder, results)
        for r in results:
            done[r.case] = r
        failures += sum(r.status in FAILED for r in results)
        progress(len(results), failures)

    t_solve = time.perf_counter()
    try:
        execute(prep.job, todo, workers, a.scheduler, on_done)
    except KeyboardInterrupt:
        progress(0, failures, close=True)
        print(f"interrupted: {len(done)} of {len(cases)} cases are kept in {folder}; "
              f"finish with: run.py sweep --resume {name}", file=sys.stderr)
        return EXIT_INTERRUPT
    except SweepUsageError as exc:
        progress(0, failures, close=True)
        return _fail(str(exc))
    except Exception as exc:
        progress(0, failures, close=True)
        return _fail(f"{type(exc).__name__}: {exc}; {len(done)} of {len(cases)} cases are kept in {folder}; "
                     f"finish with: run.py sweep --resume {name}", EXIT_SOLVER)
    progress(0, failures, close=True)
    solve_s = time.perf_counter() - t_solve

    results = [done[i] for i in range(len(cases))]
    counts: dict[str, int] = {}
    for r in results:
        counts[r.status] = counts.get(r.status, 0) + 1
    paths: dict[str, int] = {}
    for r in results:
        paths[r.path] = paths.get(r.path, 0) + 1
    from model.solve import highs_version

    manifest = {
        "tool": "compute-energy-plan sweep", "created": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "command_line": ["run.py", "sweep", *argv], "method": a.method, "seed": a.seed,
        "steps": a.steps, "samples": a.samples, "levels": a.levels if a.method == "morris" else None,
        "keys": [v.as_json() for v in varies], "cases": len(cases), "status_counts": counts,
        "scenario": base_case.name, "fixed_overrides": list(a.sets),
        "target": {"text": a.target, "year": a.year, "kind": target_kind(base_case)[0],
                   "year_used": target_kind(base_case)[1]},
        "inputs_sha256": base_case.input_files,
        "fast_path": {"on": prep.fast, "mutable_params": prep.mutable, "notes": prep.notes, "paths": paths,
                      "inputs": "every case loaded and validated by the loader, as run.py",
                      "rebuilt": {"cases": sum(bool(r.note) for r in results),
                                  "why": [{"case": r.case, "note": r.note} for r in results if r.note][:100]}},
        "execution": {"workers": 1 if a.scheduler else min(workers, max(1, len(todo))), "scheduler": a.scheduler,
                      "chunk_size": chunk, "resumed": resume is not None},
        "solver": {"name": "HiGHS", "version": highs_version(), "time_limit_s": a.time_limit},
        "timings_s": {"prepare_s": prep.seconds, "solve_s": solve_s,
                      "solve_per_case_s": solve_s / max(1, sum(len(c) for c in todo))},
        "versions": {**package_versions(), **_sweep_versions()},
    }
    t0 = time.perf_counter()
    try:
        path = write_sweep_set(a.results, name, method=a.method, varies=varies, cases=cases, results=results,
                               reference=prep.job.deriver.reference, manifest=manifest, seed=a.seed,
                               levels=a.levels, plots=not a.no_plots)
    except ResultSetError as exc:
        return _fail(str(exc))
    except OSError as exc:
        return _fail(f"the result set could not be written ({exc}); the {len(cases)} finished cases are kept in "
                     f"{folder}: run.py sweep --resume {name} writes it again", EXIT_WRITE)
    except KeyboardInterrupt:
        print(f"interrupted while writing: the {len(cases)} finished cases are kept in {folder}; "
              f"run.py sweep --resume {name} writes the set", file=sys.stderr)
        return EXIT_INTERRUPT
    shutil.rmtree(folder, ignore_errors=True)
    print_summary(results, counts, path, time.perf_counter() - t_start, solve_s, prep, t0,
                  sum(len(c) for c in todo))
    if all(r.status in FAILED for r in results):
        first = next((r for r in results if r.message), results[0])
        return _fail("no case was solved: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
                     + f" (case {first.case}: {first.message or first.status}); the set {path} keeps every "
                     "case's error", EXIT_SOLVER)
    return EXIT_OK


def _has_basis() -> bool:
    from dataclasses import fields as dc_fields

    return any(f.name == "basis" for f in dc_fields(TargetSpec))


def _sweep_versions() -> dict[str, str]:
    from importlib import metadata

    out = {}
    for p in ("SALib", "dask", "distributed", "tqdm", "scipy"):
        try:
            out[p] = metadata.version(p)
        except metadata.PackageNotFoundError:
            out[p] = "not installed"
    return out


def _progress(total: int, initial: int, off: bool) -> Callable[..., None]:
    """A tqdm bar on stderr: cases done, failures, time left. Returns ``update(n, failures, close=False)``."""
    if off:
        return lambda n, failures, close=False: None
    from tqdm import tqdm

    bar = tqdm(total=total, initial=initial, unit="case", file=sys.stderr, dynamic_ncols=True, disable=None,
               desc="sweep", smoothing=0.1)

    def update(n: int, failures: int, close: bool = False) -> None:
        if n:
            bar.set_postfix(failures=failures, refresh=False)
            bar.update(n)
        if close:
            bar.close()

    return update


def print_summary(results: Sequence[CaseResult], counts: Mapping[str, int], path: Path, total_s: float,
                  solve_s: float, prep: Prepared, t_write: float, solved: int) -> None:
    """Status counts, the spread of the headline figures, where the set is."""
    print(f"\n{len(results)} cases: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    for name, unit, scale, shown in (("total_cost", "USD", 1e-9, "billion USD"),
                                     ("capacity_in_service", "GW", 1.0, "GW")):
        v = np.array([r.figures.get(name, np.nan) for r in results]) * scale
        v = v[np.isfinite(v)]
        if len(v):
            print(f"  {name.replace('_', ' ')}: median {np.median(v):,.4g} {shown} "
                  f"(5-95 %: {np.percentile(v, 5):,.4g} .. {np.percentile(v, 95):,.4g})")
    per = solve_s / max(1, solved)
    print(f"Time: prepare {prep.seconds:.1f} s, solve {solved} cases in {solve_s:.1f} s ({per * 1e3:.1f} ms per case), "
          f"write {time.perf_counter() - t_write:.1f} s; total {total_s:.1f} s")
    print(f"\nResult set: {path}  (open {path / 'report.html'})")
