"""The Planner: validates each request with the loader and answers it from a warm plan (or a fresh build)."""
from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

from model.serve.figures import page_figures, series
from model.serve.request import WARM_PLANS, WhatIf
from model.serve.warm import Readout, WarmPlan, changed_figures, compile_warm, figure_label


@dataclass
class Answer:
    """One case's figures: ``summary`` (as summary.json), the page's ``series`` and how it was solved."""

    summary: dict[str, Any]
    series: dict[str, Any]
    solve: dict[str, Any]


class Planner:
    """The server's state: the inputs read once and the warm plans; requests carry their own case.

    Parameters
    ----------
    inputs_dir : Path
        Inputs folder (as ``--inputs``).
    scenario : str, optional
        Scenario file applied on top of the base data (as ``--scenario``).
    default : WhatIf
        The target and year a request gets when it names none.
    time_limit : float, optional
        HiGHS time limit (seconds) for each fresh build's solves, as ``run.py --time-limit``.

    Raises
    ------
    InputErrors
        If the inputs or the default case are refused (as ``run.py`` would refuse them).
    """

    def __init__(self, inputs_dir: Path, scenario: str | None = None, default: WhatIf = WhatIf(),
                 time_limit: float | None = None) -> None:
        from model.scenario import read_base_inputs

        self.inputs_dir = Path(inputs_dir)
        self.scenario_name = scenario
        self.base = read_base_inputs(self.inputs_dir, scenario)
        self.default = default
        self.time_limit = time_limit
        self.lock = threading.Lock()
        self._plans: OrderedDict[tuple, WarmPlan] = OrderedDict()
        self.reference = self.load(default)

    # -- inputs ----------------------------------------------------------------
    def load(self, w: WhatIf) -> Any:
        """The validated Scenario for ``w``: the loader's checks, every one, as ``run.py`` runs them.

        Raises
        ------
        InputErrors
        """
        from model.scenario import TargetSpec, load_variant

        return load_variant(self.base, w.sets, TargetSpec(w.target, w.year))

    def warm(self, s: Any) -> WarmPlan:
        """The warm plan for ``s``'s target kind and year (compiled on first use, a few seconds)."""
        from model.fastsolve import target_kind

        key = target_kind(s)
        with self.lock:
            plan = self._plans.get(key)
            if plan is not None:
                self._plans.move_to_end(key)
                return plan
        plan = compile_warm(self._reference_for(s))
        with self.lock:
            self._plans[key] = plan
            while len(self._plans) > WARM_PLANS:
                self._plans.popitem(last=False)
        return plan

    def _reference_for(self, s: Any) -> Any:
        """The case without its ``--set`` assignments (same target and year): the warm plan's reference."""
        from model.scenario import TargetSpec, load_variant

        t = s.main_target
        year = min(x.year for x in s.targets if x.main)
        text = f"{t.value!r} GW" if t.kind == "power" else f"{t.value!r} EFLOP/s"
        return load_variant(self.base, (), TargetSpec(text, year, t.basis))

    # -- solving ---------------------------------------------------------------
    def solve(self, w: WhatIf, figures: str = "summary") -> Answer:
        """Validate, solve and read out one case.

        Parameters
        ----------
        w : WhatIf
            The case.
        figures : {"summary", "page"}
            ``"summary"``: every figure of ``summary.json`` (the read-out ``run.py``
            uses: :func:`model.solution.to_dataset` and :func:`model.results.summary`).
            ``"page"``: the figures the page shows, from the solution's arrays
            (:func:`page_figures`; the same formulas, a tenth of the time).

        Raises
        ------
        InputErrors
            When the loader refuses the case (nothing is solved).
        """
        t0 = time.perf_counter()
        s = self.load(w)
        t_load = time.perf_counter() - t0
        try:
            plan = self.warm(s)
        except Exception as exc:  # noqa: BLE001 -- a plan the fast path cannot hold: run.py's own path answers
            plan, why = None, f"the warm plan could not be built ({type(exc).__name__}: {exc}); built afresh"
        with self.lock:
            t1 = time.perf_counter()
            outcome, path, reason, x = self._solve_warm(plan, s) if plan is not None else (None, "rebuilt", why, None)
            t_solve = time.perf_counter() - t1
            if outcome is not None:
                if figures == "page" and (x is not None or not outcome.has_plan):
                    figs = page_figures(s, outcome, plan, x)
                    answer = Answer(figs, figs.pop("series"), {})
                else:
                    if x is not None:
                        outcome.model = self._load(plan.cost_out, x, self._values).model
                    answer = self._answer(s, outcome)
        if outcome is None:            # a fresh build: nothing shared, no lock needed
            from model.solve import solve_plan

            t1 = time.perf_counter()
            outcome = solve_plan(s, "min-cost", self.time_limit)
            t_solve = time.perf_counter() - t1
            answer = self._answer(s, outcome)
        answer.solve = {"path": path, "reason": reason, "load_ms": 1e3 * t_load, "solve_ms": 1e3 * t_solve,
                        "server_ms": 1e3 * (time.perf_counter() - t0),
                        "overrides": [o.__dict__ for o in s.overrides], "command": ["run.py", *w.argv()]}
        return answer

    def _route(self, plan: WarmPlan, s: Any) -> str:
        """``""`` if ``s`` may be solved on the warm plan, else why it needs a fresh build.

        A change of input figures the plan has not met is proven first: its
        Params are pushed into the compiled plan (and the reach plan) and the
        LP is compared with a fresh build of ``s``.
        """
        from model.fastsolve import IndexChanged, ParamSource, fresh_lp, lp_difference

        changed = changed_figures(plan, s)
        for fig in changed.values():
            if fig in plan.structural:
                return plan.structural[fig]
        new = [f for f in changed.values() if f not in plan.proven]
        if not new:
            return ""
        values = ParamSource(plan.names)(s)
        why = ""
        for hp, kind in ((plan.cost, "min-cost"), (plan.reach, "reach")):
            hp.reset()
            try:
                hp.set_params(hp.param_vector(values))
            except IndexChanged as exc:
                why = str(exc)
                break
            diff = lp_difference(hp.lp(), fresh_lp(s, plan.names, kind))
            if diff:
                why = f"the LP's shape changes ({diff})"
                break
        if why:
            paths = sorted({figure_label(f if isinstance(f[0], str) else f[0]) for f in new})
            reason = f"{', '.join(paths[:4])}{' ...' if len(paths) > 4 else ''}: {why}; built afresh"
            for f in new:
                plan.structural[f] = reason
            return reason
        plan.proven.update(new)
        return ""

    @staticmethod
    def _reach_rows(plan: WarmPlan, hp: Any, values: Any) -> tuple[list, int, Any]:
        """Turn the least-cost LP in ``hp`` into the reach LP, as Pyomo's persistent interface changes it.

        The main target's rows are deleted, a column ``reachable`` is added and the reach plan's held rows
        with it. Returns the constraint of each row now in HiGHS, the new column and every column index.
        """
        import highspy
        import numpy as np

        rp = plan.reach
        rp.reset()
        rp.set_params(rp.param_vector(values))
        lp = rp.h.getLp()
        a = lp.a_matrix_
        start, index, val = np.asarray(a.start_), np.asarray(a.index_), np.asarray(a.value_, dtype=float)
        cols = np.repeat(np.arange(lp.num_col_), np.diff(start))
        h, n = hp.h, hp.a.num_col
        tr = np.sort(np.asarray(plan.target_rows, dtype=np.int32))
        h.deleteRows(len(tr), tr)
        h.addVars(1, np.array([0.0]), np.array([highspy.kHighsInf]))
        h.changeColsIntegrality(1, np.array([n], dtype=np.int32), np.array([highspy.HighsVarType.kContinuous]))
        lo, hi, starts, idx, coef = [], [], [], [], []
        rl, ru = np.asarray(lp.row_lower_), np.asarray(lp.row_upper_)
        for r in plan.held_rows:
            starts.append(len(idx))
            hit = np.flatnonzero(index == r)
            for k in hit.tolist():
                idx.append(int(plan.reach_to_cost[cols[k]]))
                coef.append(float(val[k]))
            lo.append(float(rl[r]))
            hi.append(float(ru[r]))
        h.addRows(len(lo), np.array(lo), np.array(hi), len(idx), np.array(starts, dtype=np.int32),
                  np.array(idx, dtype=np.int32), np.array(coef))
        gone = set(tr.tolist())
        rows = [c for i, c in enumerate(plan.cost_out.row_cons) if i not in gone] + plan.held_cons
        return rows, n, np.arange(n + 1, dtype=np.int32)

    def _solve_warm(self, plan: WarmPlan, s: Any) -> tuple[Any, str, str, Any]:
        """(Outcome or None, path, reason, column values): the warm solve, or None where a fresh build must answer.

        The Outcome holds no model: the caller reads the plan out of the column
        values (:meth:`_load` and :meth:`_answer` through the Pyomo model, :func:`page_figures` from arrays).

        The steps are those of :func:`model.solve.solve_plan`, on one HiGHS
        instance, in the order and with the changes Pyomo's persistent
        interface makes to it there: a cold least-cost solve; if that is
        infeasible, the main target's rows are deleted, a column ``reachable``
        and its rows are added and the reachable figure is maximised; then the
        figure is held and the cost minimised from that basis. So the plan is
        the vertex ``run.py`` finds, not only one as cheap.
        """
        import highspy
        import numpy as np

        from model.fastsolve import IndexChanged, ParamSource
        from model.solve import Outcome

        why = self._route(plan, s)
        if why:
            return None, "rebuilt", why, None
        values = ParamSource(plan.names)(s)
        self._values = values
        hp = plan.cost
        hp.reset()                                   # every request starts from the same state
        try:
            hp.set_params(hp.param_vector(values))
        except IndexChanged as exc:
            return None, "rebuilt", f"{exc}; built afresh", None
        hp.h.clearSolver()                           # cold, as run.py's first solve
        status = hp.run()
        out = plan.cost_out
        if status == "optimal":
            binding = self._binding(out.row_cons, hp, s, "bnUSD")
            return (Outcome("optimal", "the target is met at least cost", None, hp.objective(),
                            binding=binding, solver=self._solver_info()), "warm", "", hp.col_values())
        if status not in ("infeasible", "infeasible_or_unbounded"):
            return Outcome(status, self._failure(hp, status), None, solver=self._solver_info()), "warm", "", None

        # the largest reachable figure: the target's rows out, ``reachable`` and its rows in
        rows, n, every = self._reach_rows(plan, hp, values)
        h = hp.h
        costs = np.zeros(n + 1)
        costs[n] = 1.0
        h.changeObjectiveOffset(0.0)
        h.changeObjectiveSense(highspy.ObjSense.kMaximize)
        h.changeColsCost(n + 1, every, costs)
        status = hp.run()
        if status in ("infeasible", "infeasible_or_unbounded", "unbounded"):
            return None, "rebuilt", "the inputs contradict each other; a fresh build names the limits", None
        if status != "optimal":
            return Outcome(status, self._failure(hp, status), None, solver=self._solver_info()), "warm", "", None
        kind = s.main_target.kind
        reach = float(hp.col_values()[n])
        reach_binding = self._binding(rows, hp, s, "GW" if kind == "power" else "EFLOP/s")

        # the least-cost plan holding it
        h.changeColsBounds(1, np.array([n], dtype=np.int32), np.array([max(0.0, reach - 1e-6 * max(1.0, reach))]),
                           np.array([highspy.kHighsInf]))
        h.changeColsIntegrality(1, np.array([n], dtype=np.int32), np.array([highspy.HighsVarType.kContinuous]))
        costs = np.append(hp._main_costs, 0.0)
        h.changeObjectiveOffset(hp._main_offset)
        h.changeObjectiveSense(highspy.ObjSense.kMinimize)
        h.changeColsCost(n + 1, every, costs)
        status = hp.run()
        if status != "optimal":
            return Outcome(status, self._failure(hp, status), None, max_reachable=reach,
                           reach_binding=reach_binding, solver=self._solver_info()), "warm", "", None
        x = hp.col_values()[:n]
        binding = self._binding(rows, hp, s, "bnUSD")
        from model.concerns.targets import main_targets

        years = sorted(main_targets(s, kind))

        from model.solve import missed_message

        msg = missed_message(kind, s.main_target.value, years[0], reach)   # as model.solve.solve_plan words it
        return (Outcome("target_missed", msg, None, hp.objective(), max_reachable=reach,
                        binding=binding, reach_binding=reach_binding, solver=self._solver_info()), "warm", "", x)

    @staticmethod
    def _failure(hp: Any, status: str) -> str:
        from model.solve import failure_message

        if status == "solver_error" and hp.check_message:
            return hp.check_message
        return failure_message(status, None)

    def _solver_info(self) -> dict[str, Any]:
        from model.solve import highs_version

        if not hasattr(self, "_solver"):            # package metadata is slow to read: once per server
            self._solver = {"name": "HiGHS", "version": highs_version(), "interface": "highspy (model.fastsolve)"}
        return dict(self._solver)

    @staticmethod
    def _load(out: Readout, x: Any, values: Mapping[str, Mapping]) -> Readout:
        """Put the solution and the case's Param values into the read-out model."""
        m = out.model
        for name, vals in values.items():
            if out.pushed.get(name) is vals:
                continue
            p = getattr(m, name, None)
            if p is not None:
                old = out.pushed.get(name)
                for k, v in vals.items():
                    if old is None or old.get(k) != v:
                        p[k] = v
            out.pushed[name] = vals
        for v, val in zip(out.col_vars, x.tolist()):
            if v is not None:
                v.set_value(val, skip_validation=True)
        return out

    @staticmethod
    def _binding(row_cons: Sequence[Any], hp: Any, s: Any, objective: str) -> list[Any]:
        """Binding limits in words, from HiGHS's row duals (as ``run.py`` reads them through appsi)."""
        import numpy as np

        from model.solve import DUAL_TOLERANCE, explain_duals

        duals = np.asarray(hp.h.getSolution().row_dual, dtype=float)
        rows = np.flatnonzero(np.abs(duals) >= DUAL_TOLERANCE)
        return explain_duals(s, {row_cons[r]: float(duals[r]) for r in rows.tolist()
                                 if row_cons[r] is not None}, objective)

    def _answer(self, s: Any, outcome: Any) -> Answer:
        """The case's summary.json figures, as ``run.py --no-ranking`` writes them.

        The largest reachable figure of a met target needs one more solve (a fresh
        build, as ``run.py`` does it); the one-at-a-time ranking of assumptions is
        left out, as with ``run.py --no-ranking``.
        """
        from model.answer import extras as answer_extras
        from model.results import summary
        from model.solution import to_dataset

        ds = to_dataset(s, outcome)
        ins = ds["in_service_gw"].transpose("offer", "year").values if "in_service_gw" in ds else None
        extras = answer_extras(s, outcome, None, None, ranking=False, time_limit=self.time_limit)
        return Answer(json.loads(json.dumps(summary(s, outcome, ds, extras))), series(s, ins), {})

    # -- saving ------------------------------------------------------------------
    def save(self, w: WhatIf, root: Path, name: str | None = None) -> Path:
        """Write the case as a result set, as ``run.py`` would (a fresh build, plots and report).

        The manifest's command line is the ``run.py`` command that redoes the case
        (so ``run.py verify`` works) and its ``overrides`` list every ``--set``.

        Raises
        ------
        InputErrors, ResultSetError, OSError
        """
        from model.results import default_name, ensure_free, write_result_set
        from model.solution import to_dataset
        from model.solve import solve_plan

        t0 = time.perf_counter()
        s = self.load(w)
        timings = {"load_s": time.perf_counter() - t0}
        name = name or "whatif_" + default_name(s)
        ensure_free(root, name)
        argv = ["run.py", *w.argv()]
        if self.scenario_name:
            argv += ["--scenario", self.scenario_name]
        argv += ["--inputs", str(self.inputs_dir.resolve()), "--results", str(Path(root)), "--name", name]
        outcome = solve_plan(s, "min-cost", self.time_limit)
        ds = to_dataset(s, outcome)
        from model.answer import extras as answer_extras    # as run.py: the reach and the assumption ranking

        extras = answer_extras(s, outcome, self.inputs_dir, self.scenario_name, time_limit=self.time_limit)
        return write_result_set(Path(root), name, s, outcome, ds, argv, timings, extras=extras,
                                extra_manifest={"written_by": "run.py serve (the what-if page)"})
