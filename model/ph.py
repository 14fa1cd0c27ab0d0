"""Progressive hedging (mpi-sppy) over futures of any structure, with a lower bound and an honest stop.

Same variables in every future
    The first-stage decisions are the union, over the futures, of the
    (offer, year) builds and (power source, year) power builds up to the
    first-stage end. A future that lacks one (its offer starts later, its
    grid's lead time is longer) gets a stand-in variable in [0, 1000 GW] that
    appears in no row and costs nothing: the future neither gains from it nor
    is held by it, which is the extensive form's rule (a decision is equal
    across the futures that have it). So the shipped ``deals.yaml`` (offers
    and lead times that move) decomposes too.

Bounds and the stop
    lower bound: the larger of PH's trivial bound (each future alone,
        iteration 0) and the Lagrangian bound with PH's final weights W
        (mpi-sppy's ``post_solve_bound``: every future solved with W and
        without the proximal term; valid because sum_f p_f W_f = 0);
    upper bound (xhat): the first stage fixed at PH's consensus x-bar, every
        future solved: the expected cost of a plan that can be carried out.
    gap = (upper - lower) / |upper|. The message says "converged, gap X"
    when PH's convergence metric fell below its threshold, "stopped at the
    iteration limit, gap X" otherwise; never "optimal".

Risk-neutral only (the extensive form takes CVaR).
"""
from __future__ import annotations

import contextlib
import io
import math
import time
from typing import Any

from pyomo.environ import ConcreteModel, Constraint, NonNegativeReals, Objective, Var, value

from model.checks import check_plan, merge
from model.fmt import sig
from model.stochastic import FuturesSpec, add_future, first_stage_keys

#: Upper bound of a stand-in for a first-stage decision a future does not have (GW).
STAND_IN_MAX_GW = 1000.0


def union_keys(spec: FuturesSpec) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
    """Every first-stage (offer, year) and (power source, year) of any future, in a fixed order."""
    builds, power = set(), set()
    for f in spec.futures:
        b, p = first_stage_keys(f.scenario, spec.first_stage_last_year)
        builds.update(b)
        power.update(p)
    return sorted(builds), sorted(power)


def scenario_model(spec: FuturesSpec, name: str, build_keys: list, power_keys: list) -> ConcreteModel:
    """One future's model with the union of first-stage decisions attached as mpi-sppy's root node."""
    from mpisppy.utils import sputils

    f = next(x for x in spec.futures if x.name == name)
    m = ConcreteModel(name=name)
    add_future(m, f.scenario, spec.penalty_bnusd)
    m.objective = Objective(expr=m.future_cost)
    own_b, own_p = (set(k) for k in first_stage_keys(f.scenario, spec.first_stage_last_year))
    # the same variables, by name, in every future; linked to the future's own decision where it has one
    m.first_build_gw = Var(build_keys, within=NonNegativeReals, bounds=(0.0, STAND_IN_MAX_GW),
                           doc="first-stage build (a stand-in with no row and no cost where this future lacks it)")
    m.first_power_gw = Var(power_keys, within=NonNegativeReals, bounds=(0.0, STAND_IN_MAX_GW),
                           doc="first-stage power build (a stand-in where this future lacks it)")
    m.first_build_link = Constraint([k for k in build_keys if k in own_b],
                                    rule=lambda m, o, y: m.first_build_gw[o, y] == m.build_gw[o, y])
    m.first_power_link = Constraint([k for k in power_keys if k in own_p],
                                    rule=lambda m, p, y: m.first_power_gw[p, y] == m.power_build_gw[p, y])
    # a stand-in appears in one harmless row so the solver sees it (mpi-sppy refuses a nonant it never solved)
    m.stand_in_row = Constraint([("build",) + k for k in build_keys if k not in own_b]
                                + [("power",) + k for k in power_keys if k not in own_p],
                                rule=lambda m, kind, a, y: (m.first_build_gw[a, y] if kind == "build"
                                                            else m.first_power_gw[a, y]) <= STAND_IN_MAX_GW)
    m.stand_ins = len(build_keys) - len(own_b & set(build_keys)) + len(power_keys) - len(own_p & set(power_keys))
    nonants = [m.first_build_gw[k] for k in build_keys] + [m.first_power_gw[k] for k in power_keys]
    first_cost = sum(m.discount_factor[y] * m.capital_cost_bnusd[y] for y in f.scenario.years
                     if y <= spec.first_stage_last_year)
    sputils.attach_root_node(m, first_cost, nonants)
    m._mpisppy_probability = f.probability
    return m


def progressive_hedging(spec: FuturesSpec, iterations: int = 300, rho: float = 20.0, threshold: float = 1e-4,
                        ) -> dict[str, Any]:
    """Solve the risk-neutral problem by PH; see the module docstring for the bounds and the stop.

    Returns ``status`` ("converged" or "iteration_limit"), ``message``,
    ``expected_cost_bnusd`` (the xhat plan's, or PH's own when x-bar cannot
    be carried through every future), ``bound_bnusd`` (lower), ``upper_bnusd``,
    ``gap``, ``first_stage`` (x-bar by key), ``iterations``, ``convergence``,
    ``check`` and ``solve_s``.

    Raises
    ------
    RuntimeError
        When a future's plan breaks a limit on recomputation (model.checks).
    """
    import mpisppy.opt.ph

    t0 = time.perf_counter()
    build_keys, power_keys = union_keys(spec)
    names = [f.name for f in spec.futures]
    by_name = {f.name: f for f in spec.futures}

    def creator(name: str, **_: Any) -> ConcreteModel:
        return scenario_model(spec, name, build_keys, power_keys)

    options = {"solver_name": "appsi_highs", "PHIterLimit": iterations, "defaultPHrho": rho,
               "convthresh": threshold, "verbose": False, "display_progress": False, "display_timing": False,
               "iter0_solver_options": {}, "iterk_solver_options": {}, "linearize_proximal_terms": True,
               "proximal_linearization_tolerance": 1e-3, "toc": False}
    quiet = io.StringIO()
    with contextlib.redirect_stdout(quiet):
        ph = mpisppy.opt.ph.PH(options, names, creator)
        conv, _, trivial = ph.ph_main()
    iters = int(ph._PHIter)
    conv = float(conv) if conv is not None else math.inf
    ph_expected = expected_cost(ph)        # PH's own plans (first stages may still differ between futures)
    # consensus first stage (x-bar), in the order of the nonants
    xbar = None
    for m in ph.local_scenarios.values():
        xbar = [float(value(m._mpisppy_model.xbars[("ROOT", i)])) for i in range(len(build_keys) + len(power_keys))]
        break
    assert xbar is not None
    with contextlib.redirect_stdout(quiet):
        lagrangian = float(ph.post_solve_bound())
    lower = max(float(trivial) if trivial is not None else -math.inf, lagrangian)

    def check_all():
        return merge([(f"future '{name}' (progressive hedging)",
                       check_plan(m, by_name[name].scenario, skip_prefix="_mpisppy"))
                      for name, m in ph.local_scenarios.items()])

    after_bound = check_all()                 # each future's own plan with PH's weights
    upper, carried, checked, not_carried = xhat_upper(ph, xbar, check_all)
    checked = checked if checked is not None else after_bound
    if not checked.passed:
        raise RuntimeError(checked.message())
    expected = upper if upper is not None else ph_expected
    gap = (upper - lower) / max(1.0, abs(upper)) if upper is not None and math.isfinite(lower) else None
    converged = conv < threshold
    gap_text = (f"unknown (x-bar cannot be carried through every future: {not_carried})" if upper is None
                else "unknown (no finite lower bound)" if gap is None else f"{gap:.3%}")
    if converged:
        message = (f"progressive hedging converged in {iters} iterations, gap {gap_text} between the plan's "
                   f"expected cost and the lower bound (metric {sig(conv)} < {sig(threshold)})")
    else:
        message = (f"progressive hedging stopped at the iteration limit ({iterations} iterations), gap {gap_text} "
                   f"between the plan's expected cost and the lower bound; metric {sig(conv)} (converged below "
                   f"{sig(threshold)}): not proven optimal")
    first = {k: xbar[i] for i, k in enumerate(build_keys)}
    first.update({("power",) + k: xbar[len(build_keys) + i] for i, k in enumerate(power_keys)})
    return {"status": "converged" if converged else "iteration_limit", "message": message,
            "expected_cost_bnusd": expected, "ph_expected_cost_bnusd": ph_expected, "first_stage": first,
            "convergence": conv, "bound_bnusd": lower, "lagrangian_bound_bnusd": lagrangian,
            "trivial_bound_bnusd": float(trivial) if trivial is not None else None, "upper_bnusd": upper,
            "xhat_feasible": carried, "xhat_note": not_carried, "gap": gap, "iterations": iters,
            "iteration_limit": iterations, "check": checked.as_json(), "solve_s": time.perf_counter() - t0,
            "stand_ins": sum(m.stand_ins for m in ph.local_scenarios.values())}


def expected_cost(ph: Any) -> float:
    """sum_f p_f future_cost_f at the current values (mpi-sppy's Eobjective would include the W terms)."""
    return math.fsum(float(s._mpisppy_probability) * float(value(s.future_cost)) for s in ph.local_scenarios.values())


def xhat_upper(ph: Any, xbar: list[float], check: Any) -> tuple[float | None, bool, Any, str]:
    """The expected cost with the first stage fixed at ``xbar`` (None when a future cannot carry it).

    ``check()`` recomputes every future's plan while the first stage is fixed
    (the plan reported); its result is returned third (None when not run).
    Fourth: why x-bar could not be carried ("" when it was), e.g. the solver's
    "no feasible solution" when a future is infeasible with the first stage fixed.

    Raises
    ------
    Exception
        Anything but a solve that yields no plan (RuntimeError, ValueError or
        pyomo's ApplicationError): that is a bug, not a future x-bar cannot carry.
    """
    from pyomo.common.errors import ApplicationError

    why = ""
    quiet = io.StringIO()
    with contextlib.redirect_stdout(quiet):
        ph._save_nonants()
        ph._fix_nonants({"ROOT": xbar})
        ph._disable_W()
        ph._disable_prox()
        try:
            ph.solve_loop(dis_W=True, dis_prox=True, gripe=False, need_solution=True)
            lacking = [n for n, s in ph.local_scenarios.items()
                       if not getattr(s._mpisppy_data, "solution_available", False)]
            ok = not lacking
            why = "" if ok else "no plan for future(s) " + ", ".join(map(str, lacking[:5]))
        except (RuntimeError, ValueError, ApplicationError) as exc:   # a future infeasible with x-bar fixed
            ok, why = False, f"{type(exc).__name__}: {str(exc)[:200]}"
        upper = expected_cost(ph) if ok else None
        checked = check() if ok else None
        ph._restore_nonants()
        ph._reenable_W()
    return upper, ok, checked, why
