"""Solving the cases of a sweep in one worker: the compiled plan re-solved warm, or a fresh build."""
from __future__ import annotations

import gc
import math
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

from model.errors import InputErrors
from model.fastsolve import (CaseDeriver, CaseSolve, HighsPlan, IndexChanged, ModelCheck, PlanArrays, plan_readout,
                             target_kind)
from model.fastsolve.reads import KeptParams
from model.scenario import Scenario

#: Statuses that mean a case has a plan.
PLANNED = ("optimal", "target_missed", "commitment_missed")


#: Statuses counted as failures on the progress bar.
FAILED = ("error", "input_error", "solver_error", "time_limit", "unbounded")


#: Figures the sensitivity tables and plots analyse.
ANALYSED = ("total_cost", "capacity_in_service", "facility_power")


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
    path: str = ""                    # "fast", "fast+reach", "fast+diagnosis", "rebuild", "diagnosis", "-"
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


@contextmanager
def long_lived_frozen():
    """Within it, the objects alive at entry are left out of the cyclic garbage collector's passes.

    A worker holds the base inputs, the loader's kept answers and the compiled plan: a few hundred
    thousand objects that live as long as the sweep. Each case allocates many small objects, and every
    full collection those trigger walked all of them again (about 4 ms a case on the base scenario,
    ``python -m bench sweep``). :func:`gc.freeze` moves them to the permanent generation for the chunk;
    :func:`gc.unfreeze` at exit gives them back, so nothing frozen is kept alive beyond its use.
    Reference counting is untouched: only cycles wait (until the exit) to be collected.
    """
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


class CaseRunner:
    """Solves cases for one worker: one HiGHS instance for the plan, one for the largest reachable figure."""

    def __init__(self, job: SweepJob) -> None:
        self.job = job
        self.token = job.token
        self.plan = HighsPlan(job.plan, job.time_limit) if job.plan is not None else None
        self._reach: HighsPlan | None = None
        self._reach_fresh = False
        self._elastic: Any = None                   # model.fastsolve.diagnose.ElasticPlan, made when first needed
        ref = job.deriver.reference
        self.params = KeptParams(ref)               # a case's Params, re-working only the concerns it moved
        # what the compiled plan holds for every Param (model.build.param_values(ref)), as the very objects a
        # case's kept Params hold, so frozen_param sees an unmoved Param by identity
        self.ref_values = self.params(ref)
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
        with long_lived_frozen():
            return [self.run_case(i, values) for i, values in cases]

    def run_case(self, case: int, values: Mapping[str, float]) -> CaseResult:
        t0 = time.perf_counter()
        try:
            s, how = self.job.deriver.derive(values)
        except InputErrors as exc:
            return CaseResult(case, "input_error", one_line(exc), "loader", "-", time.perf_counter() - t0)
        except Exception as exc:  # noqa: BLE001 -- a bug or an unexpected input: recorded, the sweep goes on
            return CaseResult(case, "error", f"{type(exc).__name__}: {exc}", "", "-", time.perf_counter() - t0)
        try:
            out = self._solve(case, s)
        except Exception as exc:  # noqa: BLE001 -- one case failing (solver or bug): its reason, type and message
            out = CaseResult(case, "error", f"{type(exc).__name__}: {exc}", path="-")
        out.inputs = how
        out.seconds = time.perf_counter() - t0
        return out

    def _solve(self, case: int, s: Scenario) -> CaseResult:
        if self.plan is None:
            return self._rebuild(case, s)
        values = self.params(s)
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
            return self._result(case, s, "optimal", "the target is met at least cost", "fast", r, self.job.plan,
                                values)
        if r.status not in ("infeasible", "infeasible_or_unbounded"):      # run.py's path decides
            why = self.plan.check_message or _status_message(r.status, self.job.time_limit)
            return self._rebuild(case, s, f"the fast path ended {r.status} ({why})")
        if self.job.reach is None:
            return self._rebuild(case, s)
        reach = self._reach_plan()
        p_reach = reach.param_vector(values)
        reach.set_params(p_reach)
        rr = reach.solve_reach()
        if rr.status == "optimal":
            why = self.check("reach", values, rr)
            if why:
                return self._rebuild(case, s, f"the fast path's largest-reachable plan fails the check against the "
                                              f"case's own model: {why}")
            from model.solve import missed_message

            t = s.main_target
            msg = missed_message(t.kind, t.value, t.year, rr.max_reachable)
            return self._result(case, s, "target_missed", msg, "fast+reach", rr, self.job.reach, values)
        if rr.status in ("infeasible", "infeasible_or_unbounded"):
            return self._contradiction(case, s, p_reach)
        why = reach.check_message or _status_message(rr.status, self.job.time_limit)
        return self._rebuild(case, s, f"the fast path's reach solve ended {rr.status} ({why})")

    def _contradiction(self, case: int, s: Scenario, p: np.ndarray) -> CaseResult:
        """An infeasible case explained as run.py explains it (the limits that had to give), from the warm
        elastic reach model (model/fastsolve/diagnose.py); a rebuild where that model cannot answer."""
        from model.solve import conflicts_message, name_conflicts

        slacks = None
        if self._elastic is None and self.job.reach.limit_rows is not None:
            from model.fastsolve.diagnose import ElasticPlan

            self._elastic = ElasticPlan(self.job.reach, self.job.time_limit)
        if self._elastic is not None:
            slacks = self._elastic.slacks(p)
        from model.build import describe_limit

        if slacks is None or any(e > 1e-6 and describe_limit(s, n, i) is None for n, i, e in slacks):
            out = self._rebuild(case, s, "the warm elastic model could not name the conflicting limits")
            out.path = "diagnosis"
            return out
        return CaseResult(case, "infeasible", conflicts_message(name_conflicts(s, slacks)), path="fast+diagnosis")

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
            if name in self.mutable:
                continue
            mine, ref = values.get(name), self.ref_values.get(name)
            if mine is not ref and mine != ref:
                return name
        return ""

    def check(self, kind: str, values: Mapping[str, Mapping], r: CaseSolve) -> str:
        """:class:`model.fastsolve.ModelCheck` of a fast-path answer ('' when it holds)."""
        arrays = self.job.plan if kind == "min-cost" else self.job.reach
        if kind not in self._checks:
            try:
                self._checks[kind] = ModelCheck(self.job.deriver.reference, arrays)
            except Exception as exc:  # noqa: BLE001 -- no check, no fast answer: recorded, every case rebuilt
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
                arrays: PlanArrays, values: Mapping[str, Mapping] | None = None) -> CaseResult:
        ins, build = plan_readout(arrays, r.col_value)
        return self._figures(CaseResult(case, status, message, path=path), s, r, ins, build, values)

    def _figures(self, out: CaseResult, s: Scenario, r: CaseSolve, ins: np.ndarray, build: np.ndarray,
                 values: Mapping[str, Mapping] | None = None) -> CaseResult:
        """Headline figures in the target year, as :func:`model.results.summary` states them.

        ``values``: the case's Params (the fast path's), whose ``pue`` and ``energy_twh_per_gw`` hold the
        (region, year) figures read out here (:meth:`_by_region_year`).
        """
        years = self.years
        kind, ty, _ = target_kind(s)
        j = years.index(ty)
        ins = np.maximum(ins, 0.0)
        pue, per_gw = self._by_region_year(s, values, "pue"), self._by_region_year(s, values, "energy_twh_per_gw")
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

    def _by_region_year(self, s: Scenario, values: Mapping[str, Mapping] | None, name: str) -> np.ndarray:
        """The Param ``name`` (``pue`` or ``energy_twh_per_gw``) as a regions x years array.

        From the case's Param values when they hold exactly these regions and years in this order (as
        :mod:`model.concerns.power` makes them); else from the Scenario, as those Params read it.
        """
        got = values.get(name) if values is not None else None
        shape = (len(self.regions), len(self.years))
        if got is not None and len(got) == shape[0] * shape[1] and tuple(s.regions) == self.regions \
                and tuple(s.years) == self.years:
            return np.fromiter(got.values(), float, len(got)).reshape(shape)
        if name == "pue":
            return np.array([[s.pue.get((reg, y), 1.0) for y in self.years] for reg in self.regions])
        return np.array([[s.energy_twh_per_gw(reg, y) for y in self.years] for reg in self.regions])

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


def plain_number(x: float) -> str:
    """A number as people write it (``1.25``, not ``np.float64(1.25)`` or ``1.2500000000000002``)."""
    return f"{float(x):.6g}"


def one_line(exc: BaseException) -> str:
    """An error as one line; the loader's repeated problems (one per region, say) said once."""
    if isinstance(exc, InputErrors):
        text = "; ".join(dict.fromkeys(str(e) for e in exc.errors))
    else:
        text = str(exc).replace("\n  - ", "; ").replace("\n", " ")
    return text[:1000]
