"""``run.py serve``: a live what-if page; move an assumption and the plan re-solves at once.

    python run.py serve [--scenario S] [--target 250GW] [--year 2033] [--port 8050] [--host 127.0.0.1]

One local web server (Starlette on uvicorn) serves one page (``model/whatif.html``,
plain JavaScript and inline SVG, nothing fetched from the network) and a JSON
endpoint the page and scripts use:

* ``POST /api/solve`` with ``{"target": "250GW", "year": 2033, "set": {"pue": "1.4"}}``
  returns that case's ``summary.json`` figures (the keys and units ``run.py``
  writes, built by :func:`model.results.summary`); ``"detail": true`` adds the
  series the page draws (``series``) and how the case was solved (``solve``);
  ``"figures": "page"`` answers with the figures the page shows first, read
  from the solution's arrays (:func:`page_figures`, a tenth of the read-out).
  Bad input: HTTP 422 with the CLI's error text.
* ``POST /api/save`` with the same body (and an optional ``name``) writes the case
  as a normal result set (``run.py compare`` and ``run.py verify`` work on it).
* ``GET /api/controls``: the controls, with units and ranges from ``parameters.yaml``.

Speed and exactness (:class:`Planner`):

1. every request goes through the loader's validation
   (:func:`model.scenario.load_variant`: the files are read once, every row is
   checked again with the request's ``--set`` assignments, as ``run.py`` checks them);
2. the plan is kept warm: built once per target kind and year with every
   sweepable Param mutable, compiled to arrays and re-solved in HiGHS with only
   the changed numbers pushed (:mod:`model.fastsolve`, the sweep's path); each
   request starts from the same reference state, so no request sees another's;
3. a change the warm plan has not met before is proven first: the pushed LP is
   compared with a fresh build of the case (:func:`model.fastsolve.lp_difference`).
   Input figures that fail (a lifetime or a lead time changes the LP's shape)
   are solved by a fresh build (:func:`model.solve.solve_plan`), and the answer
   says so (``solve.path`` = ``"rebuilt"`` and the reason);
4. the plan is read out into the Pyomo model and through
   :func:`model.solution.to_dataset` and :func:`model.results.summary`, the
   read-out ``run.py`` uses; binding limits come from the same HiGHS duals in
   the same words (:func:`model.solve.explain_duals`).
"""
from __future__ import annotations

import argparse
import json
import math
import socket
import sys
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

from model.exitcodes import EXIT_INPUT, EXIT_OK

DEFAULT_PORT = 8050
PAGE = Path(__file__).with_name("whatif.html")
#: Warm plans kept at once (one per target kind, year and basis).
WARM_PLANS = 4


class RequestError(ValueError):
    """A request the server refuses (HTTP 422); ``str`` is the text shown."""


# ----------------------------------------------------------------------------
# Requests
# ----------------------------------------------------------------------------
@dataclass(frozen=True)
class WhatIf:
    """One case as the page or a script asks for it: target, year and ``--set`` assignments."""

    target: str | None = None
    year: int | None = None
    sets: tuple[str, ...] = ()

    def argv(self) -> list[str]:
        """The ``run.py`` arguments that give the same case."""
        out: list[str] = []
        if self.target is not None:
            out += ["--target", self.target]
        if self.year is not None:
            out += ["--year", str(self.year)]
        for a in self.sets:
            out += ["--set", a]
        return out


def parse_request(body: Any, default: WhatIf) -> WhatIf:
    """Read a JSON request body into a :class:`WhatIf` (the server's target and year where absent).

    ``set`` is a mapping ``{"pue": "1.4", "pue.US-Texas": 1.3}`` or a list of
    ``"KEY=VALUE"`` texts, as ``--set`` takes them.

    Raises
    ------
    RequestError
        For a body that is not an object, or a field of the wrong type, named as the CLI names options.
    """
    if not isinstance(body, dict):
        raise RequestError("request: expected a JSON object such as "
                           '{"target": "250GW", "year": 2033, "set": {"pue": "1.4"}}, '
                           f"found {type(body).__name__}")
    unknown = sorted(set(body) - {"target", "year", "set", "detail", "figures", "name"})
    if unknown:
        raise RequestError(f"request, field '{unknown[0]}': expected one of target, year, set, detail, figures, "
                           f"name, found {unknown[0]!r}")
    if body.get("figures", "summary") not in ("summary", "page"):
        raise RequestError(f"request, field 'figures': expected summary or page, found {body['figures']!r}")
    target = body.get("target", default.target)
    if target is not None and not isinstance(target, (str, int, float)) or isinstance(target, bool):
        raise RequestError(f"command line, --target, field '--target': expected a power (e.g. 250GW) or a "
                           f"compute rate (e.g. 500 EFLOP/s), found {target!r}")
    year = body.get("year", default.year)
    if isinstance(year, str) and year.strip().lstrip("-").isdigit():
        year = int(year)
    if year is not None and (isinstance(year, bool) or not isinstance(year, int)):
        raise RequestError(f"command line, --year, field '--year': expected a calendar year (e.g. 2033), "
                           f"found {year!r}")
    raw = body.get("set", {}) or {}
    sets: list[str] = []
    if isinstance(raw, dict):
        for k, v in raw.items():
            if isinstance(v, bool):
                v = "on" if v else "off"
            if not isinstance(v, (str, int, float)):
                raise RequestError(f"command line, --set {k}, field '{k}': expected a value with its unit "
                                   f"(e.g. 1.4, 8%, 90USD/MWh), found {v!r}")
            sets.append(f"{k}={v}")
    elif isinstance(raw, list) and all(isinstance(a, str) for a in raw):
        sets = list(raw)
    else:
        raise RequestError("request, field 'set': expected a mapping of KEY to VALUE "
                           f'(e.g. {{"pue": "1.4"}}) or a list of "KEY=VALUE", found {raw!r}')
    return WhatIf(None if target is None else str(target), year, tuple(sets))


# ----------------------------------------------------------------------------
# The warm plan
# ----------------------------------------------------------------------------
@dataclass
class _Readout:
    """A Pyomo model built like the compiled plan, to read a solution out as ``run.py`` does."""

    model: Any
    col_vars: list[Any]          # column -> Pyomo VarData (None where no variable)
    row_cons: list[Any]          # row -> Pyomo ConstraintData
    pushed: dict[str, dict] = field(default_factory=dict)


@dataclass
class WarmPlan:
    """The plan for one (target kind, year, basis), built once: compiled arrays, HiGHS instances, read-out models."""

    key: tuple[str, int, str]
    reference: Any                   # Scenario
    flat: dict[tuple, Any]
    names: tuple[str, ...]
    cost: Any                        # HighsPlan (least cost meeting the target)
    reach: Any                       # HighsPlan (largest reachable, then least cost holding it)
    cost_out: _Readout
    reach_out: _Readout
    target_rows: Any = None          # rows of the main target in the least-cost LP
    held_rows: list = field(default_factory=list)    # rows of ``reachable_held`` in the reach LP, in Pyomo's order
    held_cons: list = field(default_factory=list)    # their Pyomo constraints
    reach_to_cost: Any = None        # reach LP column -> least-cost LP column (``reachable``: one past the last)
    proven: set = field(default_factory=set)        # figures proven to move only the pushed numbers
    structural: dict = field(default_factory=dict)  # figure -> why it needs a fresh build
    compile_s: float = 0.0


def _readout(s: Any, names: Sequence[str], kind: str, lp: Mapping[str, Any]) -> _Readout:
    """Build the plan again and load it into HiGHS (unsolved) to map columns and rows to Pyomo components.

    Raises
    ------
    RuntimeError
        If this build's LP differs from the compiled one (the maps would not fit).
    """
    from pyomo.environ import Var

    from model.build import build_model
    from model.fastsolve import add_reach, lp_arrays_of, lp_difference
    from model.fastsolve.appsi import columns_of, highs_of, rows_of
    from model.solve import make_solver

    m = build_model(s, names)
    if kind == "reach":
        add_reach(m, s)
    opt = make_solver()
    opt.set_instance(m)
    diff = lp_difference(lp_arrays_of(highs_of(opt)), lp)
    if diff:
        raise RuntimeError(f"the read-out model differs from the compiled plan ({diff})")
    col_vars: list[Any] = [None] * int(lp["num_col"])
    cols = columns_of(opt)
    for v in m.component_data_objects(Var, descend_into=True):
        c = cols.get(id(v))
        if c is not None:
            col_vars[c] = v
    row_cons: list[Any] = [None] * int(lp["num_row"])
    for con, r in rows_of(opt).items():
        row_cons[r] = con
    return _Readout(m, col_vars, row_cons)


def compile_warm(s: Any) -> WarmPlan:
    """Compile the warm plan for the target kind and year of ``s`` (the reference case)."""
    import numpy as np

    from model.build import SWEEPABLE_PARAMS
    from model.fastsolve import HighsPlan, compile_plan, flatten, target_kind

    t0 = time.perf_counter()
    names = tuple(sorted(SWEEPABLE_PARAMS))
    cost_arrays = compile_plan(s, names, "min-cost")
    reach_arrays = compile_plan(s, names, "reach")
    used = tuple(cost_arrays.param_names)
    plan = WarmPlan(target_kind(s), s, flatten(s), used, HighsPlan(cost_arrays), HighsPlan(reach_arrays),
                    _readout(s, names, "min-cost", cost_arrays.lp), _readout(s, names, "reach", reach_arrays.lp))
    plan.target_rows = cost_arrays.target_rows
    m_reach = plan.reach_out.model
    row_of = {id(c): r for r, c in enumerate(plan.reach_out.row_cons) if c is not None}
    plan.held_cons = list(m_reach.reachable_held.values())
    plan.held_rows = [row_of[id(c)] for c in plan.held_cons]
    col_of = {v.name: c for c, v in enumerate(plan.cost_out.col_vars) if v is not None}
    n = cost_arrays.num_col
    plan.reach_to_cost = np.array([n if v is None or v.name == "reachable" else col_of[v.name]
                                   for v in plan.reach_out.col_vars], dtype=np.int64)
    plan.compile_s = time.perf_counter() - t0
    return plan


def _changed_figures(plan: WarmPlan, s: Any) -> dict[tuple, Any]:
    """The input figures of ``s`` that differ from the warm plan's reference, by path (number -> path,
    anything else -> (path, value): a switch or a whole-year figure is proven value by value)."""
    from dataclasses import fields

    from model.fastsolve import METADATA_FIELDS, MISSING, flatten_fields, same_value

    ref, now = {}, {}
    for f in fields(s):
        a, b = getattr(plan.reference, f.name), getattr(s, f.name)
        if f.name in METADATA_FIELDS or a == b:       # most fields are equal: compared whole, in C
            continue
        flatten_fields(a, (f.name,), ref)
        flatten_fields(b, (f.name,), now)
    out: dict[tuple, Any] = {}
    for path in set(ref) | set(now):
        a, b = ref.get(path, MISSING), now.get(path, MISSING)
        if same_value(a, b):
            continue
        if isinstance(a, float) and isinstance(b, float):
            out[path] = path
        else:
            out[path] = (path, repr(b))
    return out


def _label(path: tuple) -> str:
    return ".".join(str(p) for p in path)


# ----------------------------------------------------------------------------
# The planner: validation, warm solve, read-out
# ----------------------------------------------------------------------------
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

    Raises
    ------
    InputErrors
        If the inputs or the default case are refused (as ``run.py`` would refuse them).
    """

    def __init__(self, inputs_dir: Path, scenario: str | None = None, default: WhatIf = WhatIf()) -> None:
        from model.scenario import read_base_inputs

        self.inputs_dir = Path(inputs_dir)
        self.scenario_name = scenario
        self.base = read_base_inputs(self.inputs_dir, scenario)
        self.default = default
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
            outcome = solve_plan(s, "min-cost")
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

        changed = _changed_figures(plan, s)
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
            paths = sorted({_label(f if isinstance(f[0], str) else f[0]) for f in new})
            reason = f"{', '.join(paths[:4])}{' ...' if len(paths) > 4 else ''}: {why}; built afresh"
            for f in new:
                plan.structural[f] = reason
            return reason
        plan.proven.update(new)
        return ""

    def _solve_warm(self, plan: WarmPlan, s: Any) -> tuple[Any, str, str, Any]:
        """(Outcome or None, path, reason, column values): the warm solve, or None where a fresh build must answer.

        The Outcome holds no model: the caller reads the plan out of the column
        values (:meth:`_full` through the Pyomo model, :func:`page_figures` from arrays).

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
        rows = [c for i, c in enumerate(out.row_cons) if i not in gone] + plan.held_cons
        every = np.arange(n + 1, dtype=np.int32)
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

        def shown(v: float) -> str:       # as model.solve.solve_plan words it
            return f"{v:.4g} GW" if kind == "power" else f"{v * 1e18:.4g} FLOP/s"

        msg = (f"the target of {shown(s.main_target.value)} from {years[0]} cannot be met; "
               f"the most that can be held is {shown(reach)}")
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
    def _load(out: _Readout, x: Any, values: Mapping[str, Mapping]) -> _Readout:
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
        from model.results import summary
        from model.solution import to_dataset

        ds = to_dataset(s, outcome)
        ins = ds["in_service_gw"].transpose("offer", "year").values if "in_service_gw" in ds else None
        return Answer(json.loads(json.dumps(summary(s, outcome, ds))), series(s, ins), {})

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
        outcome = solve_plan(s, "min-cost")
        ds = to_dataset(s, outcome)
        return write_result_set(Path(root), name, s, outcome, ds, argv, timings,
                                extra_manifest={"written_by": "run.py serve (the what-if page)"})


def series(s: Any, ins: Any) -> dict[str, Any]:
    """What the page draws over the years, from capacity in service by offer and year (GW): capacity by
    vendor, host and region, facility power (IT x PUE) and energy (as :func:`model.concerns.power.report`)."""
    import numpy as np

    years = [int(y) for y in s.years]
    out: dict[str, Any] = {"years": years}
    if ins is None:
        return out
    ins = np.asarray(ins, dtype=float)
    offers = list(s.offers.values())
    for attr, name, names in (("vendor", "vendor", s.vendors), ("host", "host", s.hosts),
                              ("region", "region", s.regions)):
        keys = list(dict.fromkeys(getattr(o, attr) for o in offers))
        index = np.array([keys.index(getattr(o, attr)) for o in offers])
        total = np.zeros((len(keys), len(years)))
        np.add.at(total, index, ins)
        rows = []
        for k, vals in zip(keys, total.tolist()):
            if max(abs(v) for v in vals) > 1e-9:
                label = str(names.get(k, k)).split(":")[0].strip() or str(k)
                rows.append({"name": label, "values": [max(0.0, v) for v in vals]})
        out[f"capacity_by_{name}"] = {"unit": "GW", "rows": rows}
    it = _it_by_region(s, ins)
    regions = list(s.regions)
    pue = np.array([[s.pue[r, y] for y in s.years] for r in regions])
    per_gw = np.array([[s.energy_twh_per_gw(r, y) for y in s.years] for r in regions])
    out["facility_power"] = {"unit": "GW", "values": (it * pue).sum(axis=0).tolist()}
    out["energy"] = {"unit": "TWh", "values": (it * per_gw).sum(axis=0).tolist()}
    return out


def _it_by_region(s: Any, ins: Any) -> Any:
    import numpy as np

    regions = list(s.regions)
    it = np.zeros((len(regions), len(s.years)))
    np.add.at(it, np.array([regions.index(o.region) for o in s.offers.values()]), ins)
    return it


def page_figures(s: Any, outcome: Any, plan: WarmPlan, x: Any) -> dict[str, Any]:
    """The figures the page shows, from the least-cost LP's column values, with summary.json's keys and units.

    The formulas are those of :func:`model.results.summary` over
    :func:`model.solution.to_dataset`: capacity in service is the
    ``in_service_gw`` columns, facility power IT x PUE, energy IT x the
    region's TWh per GW, the total cost the objective; binding limits are the
    same sentences. Figures that need the cost read-out (energy cost,
    emissions, spending, funding) are left to ``figures="summary"``.
    """
    import numpy as np

    from model.results import figure

    t = s.main_target
    ty = min(y.year for y in s.targets if y.main)
    out: dict[str, Any] = {
        "status": outcome.status, "message": outcome.message, "scenario": s.name,
        "target": figure(t.value, "GW") if t.kind == "power" else figure(t.value * 1e18, "FLOP/s"),
        "target_year": ty,
        "objective": "min-cost" if outcome.status != "optimal" or outcome.max_reachable is None else "max-capacity",
    }
    if outcome.max_reachable is not None:
        out["max_reachable"] = (figure(outcome.max_reachable, "GW") if t.kind == "power"
                                else figure(outcome.max_reachable * 1e18, "FLOP/s"))
    if outcome.conflicts:
        out["conflicts"] = outcome.conflicts
    if x is None or not outcome.has_plan:
        out["binding"] = []
        out["series"] = series(s, None)
        return out
    ins = np.asarray(x)[plan.cost.a.ins_cols]
    j = list(s.years).index(ty)
    out["total_cost"] = figure(outcome.objective_bnusd * 1e9, "USD")
    out["capacity_in_service"] = {str(y): figure(float(v), "GW") for y, v in zip(s.years, ins.sum(axis=0))}
    for key, attr in (("capacity_by_vendor", "vendor"), ("capacity_by_host", "host"),
                      ("capacity_by_region", "region")):
        got: dict[str, float] = {}
        for o, v in zip(s.offers.values(), ins[:, j].tolist()):
            got[getattr(o, attr)] = got.get(getattr(o, attr), 0.0) + v
        out[key] = {k: figure(v, "GW") for k, v in sorted(got.items())}
    sr = series(s, ins)
    out["facility_power"] = figure(sr["facility_power"]["values"][j], "GW")
    out["energy"] = figure(sr["energy"]["values"][j], "TWh")
    out["binding"] = [b.as_json() for b in outcome.binding]
    if outcome.reach_binding:
        out["limits_on_reach"] = [b.as_json() for b in outcome.reach_binding]
    out["series"] = sr
    return out


# ----------------------------------------------------------------------------
# Controls: the catalogue's sweepable keys, with units and ranges
# ----------------------------------------------------------------------------
#: key -> (label, unit shown, factor from the catalogue's unit to the unit shown, unit sent, slider window
#: in the unit shown or None for the catalogue's range, step)
CONTROL_KEYS: dict[str, tuple[str, str, float, str, tuple[float, float] | None, float]] = {
    "pue": ("PUE", "", 1.0, "", (1.0, 2.0), 0.01),
    "electricity_price": ("Electricity price", "USD/MWh", 1000.0, "USD/MWh", (0.0, 300.0), 1.0),
    "supply_scale": ("Supply scale", "x", 1.0, "", (0.0, 2.0), 0.05),
    "deal_minimum": ("Deal minimum", "GW", 1.0, "GW", None, 0.1),
    "deal_maximum": ("Deal maximum", "GW", 1.0, "GW", None, 0.1),
    "lead_time": ("Power lead time", "years", 1.0, "year", None, 1.0),
    "capex_scale": ("Capital cost scale", "x", 1.0, "", (0.0, 2.0), 0.05),
    "discount_rate": ("Discount rate", "%", 100.0, "%", None, 0.5),
}


def _catalogue_range(catalogue: Any, key: str, factor: float) -> tuple[float | None, float | None]:
    spec = catalogue.parameters[catalogue.settable[key].parameter]
    lo = None if spec.minimum is None else spec.minimum * factor
    hi = None if spec.maximum is None else spec.maximum * factor
    if catalogue.settable[key].mode == "scale":
        return 0.0, None
    return lo, hi


def _range_text(lo: float | None, hi: float | None, unit: str) -> str:
    def f(v: float) -> str:
        return f"{v:,.6g}" if abs(v) < 1e6 else f"{v:,.0f}"
    u = f" {unit}" if unit else ""
    if lo is not None and hi is not None:
        return f"{f(lo)} to {f(hi)}{u}"
    if lo is not None:
        return f"at least {f(lo)}{u}"
    return f"at most {f(hi)}{u}" if hi is not None else "any"


def controls(s: Any, catalogue: Any) -> dict[str, Any]:
    """The page's controls for scenario ``s``: each key with its members, unit, range and starting value."""
    import statistics

    ty = min(x.year for x in s.targets if x.main)
    out: list[dict[str, Any]] = []

    def add(key: str, member: str | None, member_label: str, start: float) -> None:
        label, unit, factor, send_unit, window, step = CONTROL_KEYS[key]
        lo, hi = _catalogue_range(catalogue, key, factor)
        if window is None:
            window = (lo if lo is not None else 0.0, hi if hi is not None else max(2 * start, 10.0))
        w_lo, w_hi = window
        w_hi = max(w_hi, start)
        out.append({"key": key if member is None else f"{key}.{member}", "base": key, "label": label,
                    "member": member_label, "unit": unit, "send_unit": send_unit,
                    "min": lo, "max": hi, "range": _range_text(lo, hi, unit) + " (inputs/parameters.yaml)",
                    "slider": [w_lo, w_hi, step], "start": round(start / step) * step})

    regions = list(s.regions)
    pues = [s.pue[r, ty] for r in regions if (r, ty) in s.pue]
    add("pue", None, "all regions", statistics.fmean(pues) if pues else 1.2)
    prices = [s.electricity_price_bnusd_per_twh[r, ty] * 1000 for r in regions
              if (r, ty) in s.electricity_price_bnusd_per_twh]
    add("electricity_price", None, "all regions", statistics.fmean(prices) if prices else 60.0)
    for r in regions:
        add("pue", r, _short(s.regions[r], r), s.pue.get((r, ty), 1.2))
    for r in regions:
        add("electricity_price", r, _short(s.regions[r], r), s.electricity_price_bnusd_per_twh.get((r, ty), 0.06) * 1000)
    for v in s.vendors:
        add("supply_scale", v, s.vendors[v], 1.0)
    for d in s.deals:
        for key, gw, bn in (("deal_minimum", d.min_gw, d.min_bnusd), ("deal_maximum", d.max_gw, d.max_bnusd)):
            add(key, d.name, _deal_label(d), gw if gw is not None else 0.0)
            if bn is not None:                      # a deal in money: its control in billion USD
                out[-1].update(unit="billion USD", send_unit="bnUSD", start=round(bn), range="at least 0 billion "
                               "USD (inputs/parameters.yaml)", slider=[0.0, max(2 * bn, 10.0), 1.0])
    leads = [v for v in s.power_lead_time_yr.values()]
    add("lead_time", None, "every power source", statistics.fmean(leads) if leads else 0.0)
    for p, info in s.power_sources.items():
        add("lead_time", p, _short(info.description, p) if info.description else p,
            s.power_lead_time_yr.get(p, 0))
    add("capex_scale", None, "every offer", 1.0)
    add("discount_rate", None, "", s.discount_rate * 100)
    t = s.main_target
    return {"controls": out, "years": list(s.years), "target": {
        "value": t.value if t.kind == "power" else t.value, "unit": "GW" if t.kind == "power" else "EFLOP/s",
        "year": ty, "slider": [0.0, max(2 * t.value, 10.0), 1.0]},
        "funding": "on" if s.funding_on else "off", "scenario": s.name}


def _short(text: str, fallback: str) -> str:
    head = str(text).split(":")[0].split("(")[0].strip()
    return head or fallback


def _deal_label(d: Any) -> str:
    return _short(d.description, d.name) if d.description else d.name.replace("_", " ")


# ----------------------------------------------------------------------------
# The web app
# ----------------------------------------------------------------------------
def make_app(planner: Planner, results: Path) -> Any:
    """The Starlette app: the page, ``/api/controls``, ``/api/solve`` and ``/api/save``."""
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import HTMLResponse, JSONResponse
    from starlette.routing import Route

    from model.errors import InputError, InputErrors, ResultSetError

    page = PAGE.read_text(encoding="utf-8")
    ctl = controls(planner.reference, planner.base.catalogue)

    def refuse(text: str, code: int = 422) -> JSONResponse:
        return JSONResponse({"error": text}, status_code=code)

    async def body_of(request: Request) -> tuple[WhatIf, dict]:
        try:
            body = json.loads(await request.body() or b"{}")
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise RequestError(f"request: expected a JSON object, found text that is not JSON ({exc})") from None
        return parse_request(body, planner.default), body

    async def index(request: Request) -> HTMLResponse:
        return HTMLResponse(page, headers={"Cache-Control": "no-store"})

    async def api_controls(request: Request) -> JSONResponse:
        return JSONResponse(ctl)

    async def api_solve(request: Request) -> JSONResponse:
        try:
            w, body = await body_of(request)
            answer = await run_in_threadpool(planner.solve, w, body.get("figures", "summary"))
        except RequestError as exc:
            return refuse(str(exc))
        except (InputErrors, InputError) as exc:
            return refuse(str(exc))
        except Exception as exc:  # noqa: BLE001 -- a bug must not take the server down; say what happened
            return refuse(f"the server could not solve this case ({type(exc).__name__}: {exc})", 500)
        out = dict(answer.summary)
        if body.get("detail"):
            out["series"] = answer.series
            out["solve"] = answer.solve
        timing = f"solve;dur={answer.solve['server_ms']:.1f}"
        headers = {"Server-Timing": timing, "X-Plan-Path": answer.solve["path"]}
        if answer.solve["reason"]:      # why the case was built afresh (a lifetime changes the LP's shape, ...)
            headers["X-Plan-Reason"] = answer.solve["reason"].encode("ascii", "replace").decode()[:500]
        return JSONResponse(out, headers=headers)

    async def api_save(request: Request) -> JSONResponse:
        try:
            w, body = await body_of(request)
            name = body.get("name") or None
            if name is not None and not isinstance(name, str):
                raise RequestError(f"command line, --name, field '--name': expected a plain folder name, "
                                   f"found {name!r}")
            path = await run_in_threadpool(planner.save, w, results, name)
        except RequestError as exc:
            return refuse(str(exc))
        except (InputErrors, InputError) as exc:
            return refuse(str(exc))
        except ResultSetError as exc:
            return refuse(str(exc), 409)
        except OSError as exc:
            return refuse(f"could not write the result set: {exc}; nothing was written", 500)
        summ = json.loads((path / "summary.json").read_text())
        return JSONResponse({"path": str(path), "name": path.name, "status": summ["status"],
                             "command": ["run.py", "verify", str(path)]})

    return Starlette(routes=[Route("/", index), Route("/api/controls", api_controls),
                             Route("/api/solve", api_solve, methods=["POST"]),
                             Route("/api/save", api_save, methods=["POST"])])


# ----------------------------------------------------------------------------
# Command line
# ----------------------------------------------------------------------------
def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="run.py serve",
        description="A live what-if page: move an assumption and watch the plan re-solve. Serves one local "
                    "page (no network needed) and POST /api/solve for scripts.")
    p.add_argument("--scenario", help="apply inputs/scenarios/NAME.yaml on top of the base data")
    p.add_argument("--target", help="the starting target: a power (250GW) or a compute rate (500 EFLOP/s)")
    p.add_argument("--year", type=int, help="the starting target year (default 2033)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0: a free one)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    p.add_argument("--inputs", type=Path, default=None, help="inputs folder (default: the project's inputs/)")
    p.add_argument("--results", type=Path, default=Path("results"),
                   help="folder for saved result sets (default results/)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    from model.errors import InputError, InputErrors
    from model.scenario import DEFAULT_INPUTS

    a = parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    try:
        import uvicorn
        import starlette  # noqa: F401
    except ImportError as exc:
        print(f"error: run.py serve needs the 'serve' extra ({exc.name} is missing): "
              "pip install -e '.[serve]'", file=sys.stderr)
        return EXIT_INPUT
    if not 0 <= a.port <= 65535:
        print(f"error: command line, --port, field '--port': expected a port 0..65535, found {a.port}",
              file=sys.stderr)
        return EXIT_INPUT
    t0 = time.perf_counter()
    try:
        planner = Planner(a.inputs or DEFAULT_INPUTS, a.scenario, WhatIf(a.target, a.year))
    except (InputErrors, InputError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    try:
        sock = socket.socket(socket.AF_INET6 if ":" in a.host else socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((a.host, a.port))
        sock.listen(128)               # connections wait in the backlog until uvicorn accepts them
    except OSError as exc:
        print(f"error: command line, --host/--port: cannot listen on {a.host}:{a.port} ({exc.strerror or exc})",
              file=sys.stderr)
        return EXIT_INPUT
    port = sock.getsockname()[1]
    print(f"Building the warm plan for scenario '{planner.reference.name}' ...", flush=True)
    planner.warm(planner.reference)
    host = f"[{a.host}]" if ":" in a.host else a.host
    print(f"Serving the what-if page at http://{host}:{port}/ (ready in {time.perf_counter() - t0:.1f} s; "
          "Ctrl-C stops)", flush=True)
    config = uvicorn.Config(make_app(planner, a.results), log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    server.run(sockets=[sock])
    return EXIT_OK
