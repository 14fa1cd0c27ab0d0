"""The futures' LPs for the decomposition from one compiled template per model structure.

Why: building a future's LP through Pyomo (:func:`model.stochastic.add_future`, then appsi's load into
HiGHS) took 0.32 s per future, 32 of the 56 s of 100 sampled futures (bench stochastic) and most of
1,000. Futures differ in a few numbers (supply, revenue, deal caps, prices) and sometimes in shape
(a grid lead time moves the first year power can be built, which changes the power Params' index).

How (as sweeps do, model/fastsolve):

1. every future's Param values (:func:`model.build.param_values`, the values a fresh build uses);
   the Params whose values or index differ between the futures are made mutable;
2. the futures are grouped by structure: the index of every varying Param;
3. per group of at least :data:`MIN_GROUP` futures, the group's first future is built once with those
   Params mutable and compiled (:func:`model.fastsolve.compile_plan`): every matrix coefficient, row
   bound, cost and objective offset that depends on them is a polynomial in the Param vector p;
4. **proof per group**: a probe future's LP from the template (the polynomials at its p) must equal
   the LP of a fresh Pyomo build of it (:func:`model.fastsolve.lp_difference`, relative 1e-9),
   otherwise, or when a coefficient is no polynomial, the group's futures are built by Pyomo one by
   one (and the reason is returned);
5. a future's LP is the template's arrays with each slot set to its polynomial at the future's p:

       a_rc = sum_k c_k prod_j p[j_k]      (likewise row bounds, costs, the objective offset)

   numpy only: no Pyomo, no expression walk.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Iterator, Mapping, Sequence

import numpy as np

from model.fastsolve.lp import PlanArrays, param_vector
from model.fastsolve.polynomial import evaluate_slots

#: Smallest group of same-structure futures given a template (compiling and proving one costs ~3 Pyomo builds).
MIN_GROUP = 4
#: The build paths a future's LP takes.
TEMPLATE, PYOMO = "template", "pyomo"
#: First-stage variables and the decomposition's key word for each (model.decompose.union_key_list).
FIRST_STAGE_VARS = {"build_gw": "build", "power_build_gw": "power"}


@dataclass
class FutureLP:
    """One future's LP for HiGHS, where its first-stage columns are, and how it was made."""

    lp: Any                              # highspy.HighsLp
    first_cols: dict[tuple, int]         # ("build", offer, year) / ("power", source, year) -> column
    path: str                            # TEMPLATE or PYOMO
    basis: Any = None                    # a highspy.HighsBasis to start from (the template's optimal one)


def future_model(s: Any, mutable: Sequence[str], penalty: float) -> Any:
    """A future's model (:func:`model.stochastic.add_future`) with its cost as the objective."""
    from pyomo.environ import ConcreteModel, Objective

    from model.stochastic import add_future

    m = ConcreteModel()
    add_future(m, s, penalty, mutable)
    m.objective = Objective(expr=m.future_cost)
    return m


def pyomo_lp(s: Any, penalty: float) -> FutureLP:
    """A future's LP from its own Pyomo build (the path every future took before templates)."""
    from pyomo.contrib.appsi.solvers.highs import Highs

    from model.fastsolve.appsi import columns_of, highs_of

    m = future_model(s, (), penalty)
    opt = Highs()
    opt.highs_options = {"output_flag": False, "log_to_console": False}
    opt.set_instance(m)
    colmap = columns_of(opt)
    first = {}
    for var_name, word in FIRST_STAGE_VARS.items():
        for index, v in getattr(m, var_name).items():
            first[(word,) + tuple(index)] = colmap[id(v)]
    return FutureLP(highs_of(opt).getLp(), first, PYOMO)


def varying_params(values: Sequence[Mapping[str, Mapping]]) -> set[str]:
    """Params whose values or index differ between any two futures (``values``: per future, by name)."""
    ref = values[0]
    out = set()
    for vals in values[1:]:
        for name in set(ref) | set(vals):
            if name in out:
                continue
            a, b = ref.get(name, {}), vals.get(name, {})
            if a.keys() != b.keys() or any(a[k] != b[k] for k in a):
                out.add(name)
    return out


def structure_key(values: Mapping[str, Mapping], names: Sequence[str]) -> tuple:
    """What decides a future's model shape among the varying Params: each one's index."""
    return tuple((n, frozenset(values.get(n, {}))) for n in names)


class Template:
    """A compiled future (:class:`PlanArrays`) that gives any same-structure future's LP from its Params."""

    def __init__(self, arrays: PlanArrays) -> None:
        self.a = arrays
        self._lp, self._coef_at = _with_coefficients(arrays)
        self._p = np.empty(len(arrays.ref_params) + 1)
        self._p[-1] = 1.0
        self.first_cols = {(FIRST_STAGE_VARS[name],) + tuple(index): col
                           for col, (name, index) in enumerate(arrays.col_vars) if name in FIRST_STAGE_VARS}
        self._basis = None

    def basis(self) -> Any:
        """The template's optimal basis as a highspy.HighsBasis (made once: 2.5 ms each from the arrays)."""
        import highspy

        if self._basis is None:
            self._basis = highspy.HighsBasis()
            self._basis.col_status = [highspy.HighsBasisStatus(int(x)) for x in self.a.basis_col]
            self._basis.row_status = [highspy.HighsBasisStatus(int(x)) for x in self.a.basis_row]
            self._basis.valid = True
        return self._basis

    def param_vector(self, values: Mapping[str, Mapping]) -> np.ndarray:
        """The Param vector p of a future (``values``: name -> {index: value}); see
        :func:`model.fastsolve.lp.param_vector`.

        Raises
        ------
        model.fastsolve.IndexChanged
            When a Param's index is not the template's.
        """
        return param_vector(self.a, values)

    def slots(self, p: np.ndarray) -> np.ndarray:
        """Every Param-dependent number at ``p``: slot_i = sum over its monomials of c_k prod_j p[j_k]."""
        a = self.a
        self._p[:-1] = p
        return evaluate_slots(a.mono_slot, a.mono_coef, a.mono_fac, a.n_slots, self._p)

    def arrays(self, p: np.ndarray) -> dict[str, Any]:
        """The LP at Param vector ``p`` as arrays (the form of :func:`model.fastsolve.lp_arrays_of`)."""
        a, v = self.a, self.slots(p)
        lp = dict(self._lp)
        cost = lp["col_cost"].copy()
        cost[a.cost_cols] = v[a.cost_slot]
        row_lo, row_hi = lp["row_lower"].copy(), lp["row_upper"].copy()
        if len(a.bound_rows):
            row_lo[a.bound_rows] = np.where(a.lo_slot >= 0, v[np.maximum(a.lo_slot, 0)], a.lo_fixed)
            row_hi[a.bound_rows] = np.where(a.hi_slot >= 0, v[np.maximum(a.hi_slot, 0)], a.hi_fixed)
        value = lp["a_value"].copy()
        value[self._coef_at] = v[a.coef_slot]
        lp.update(col_cost=cost, row_lower=row_lo, row_upper=row_hi, a_value=value,
                  offset=float(v[a.offset_slot]) if a.offset_slot >= 0 else lp["offset"])
        return lp

    def future_lp(self, p: np.ndarray) -> FutureLP:
        from model.fastsolve.lp import highs_lp

        return FutureLP(highs_lp(self.arrays(p)), self.first_cols, TEMPLATE, self.basis())


def _with_coefficients(arrays: PlanArrays) -> tuple[dict[str, Any], np.ndarray]:
    """The template's column-wise matrix with an entry at every Param-dependent coefficient (an explicit 0
    where the reference has none), and each coefficient slot's position in ``a_value``."""
    lp = dict(arrays.lp)
    n_row, n_col = int(lp["num_row"]), int(lp["num_col"])
    start = np.asarray(lp["a_start"], dtype=np.int64)
    rows = np.asarray(lp["a_index"], dtype=np.int64)
    cols = np.repeat(np.arange(n_col, dtype=np.int64), np.diff(start))
    value = np.asarray(lp["a_value"], dtype=float)
    want = np.asarray(arrays.coef_cols, dtype=np.int64) * n_row + np.asarray(arrays.coef_rows, dtype=np.int64)
    have = cols * n_row + rows
    missing = np.setdiff1d(want, have)
    if len(missing):
        have = np.concatenate([have, missing])
        value = np.concatenate([value, np.zeros(len(missing))])
    order = np.argsort(have, kind="stable")
    have, value = have[order], value[order]
    cols, rows = np.divmod(have, n_row)
    lp.update(a_start=np.concatenate([[0], np.cumsum(np.bincount(cols, minlength=n_col))]).astype(np.int32),
              a_index=rows.astype(np.int32), a_value=value)
    return lp, np.searchsorted(have, want)


def compile_template(s: Any, mutable: Sequence[str], penalty: float) -> Template:
    """Future ``s`` built once with ``mutable`` Params and compiled (model/fastsolve/compile.py).

    Raises
    ------
    model.fastsolve.NotPolynomial
        When a coefficient is not a polynomial in the mutable Params.
    """
    from model.fastsolve.compile import compile_plan

    return Template(compile_plan(s, mutable, "min-cost", build=functools.partial(future_model, penalty=penalty)))


def template_difference(template: Template, s: Any, values: Mapping[str, Mapping], penalty: float) -> str:
    """Where future ``s``'s LP from the template differs from a fresh Pyomo build of it ("" when equal).

    The fresh build is the one :func:`pyomo_lp` makes (no Param mutable), not the template's own build
    with other values: the proof is against what the per-future path would have solved."""
    from model.fastsolve.compile import fresh_lp
    from model.fastsolve.lp import lp_difference
    from model.fastsolve.polynomial import IndexChanged

    try:
        mine = template.arrays(template.param_vector(values))
    except IndexChanged as exc:
        return str(exc)
    return lp_difference(mine, fresh_lp(s, (), build=functools.partial(future_model, penalty=penalty)))


def _probe(group: Sequence[int], values: Sequence[Mapping[str, Mapping]], names: Sequence[str]) -> int:
    """The future of ``group`` whose varying Params differ most from the group's first (the template's)."""
    ref = values[group[0]]

    def distance(i: int) -> int:
        return sum(1 for n in names for k, v in values[i].get(n, {}).items() if ref.get(n, {}).get(k) != v)

    return max(group[1:], key=distance)


def future_lps(scenarios: Sequence[Any], penalty: float,
               use_templates: bool = True) -> tuple[Iterator[tuple[int, FutureLP]], list[str]]:
    """Every future's LP (position in ``scenarios``, :class:`FutureLP`), group after group; and notes saying
    which groups were built by Pyomo and why.

    ``use_templates=False``: every future by its own Pyomo build (for comparison).
    """
    from model.build import SWEEPABLE_PARAMS, param_values
    from model.fastsolve.polynomial import IndexChanged, NotPolynomial

    notes: list[str] = []
    n = len(scenarios)
    if not use_templates or n < MIN_GROUP:
        return ((i, pyomo_lp(s, penalty)) for i, s in enumerate(scenarios)), notes
    values = [param_values(s) for s in scenarios]
    names = sorted(varying_params(values))
    fixed = [x for x in names if x not in SWEEPABLE_PARAMS]
    if fixed:
        notes.append(f"the futures differ in {', '.join(fixed)}, which cannot be mutable: each future is built "
                     "by Pyomo")
        return ((i, pyomo_lp(s, penalty)) for i, s in enumerate(scenarios)), notes
    groups: dict[tuple, list[int]] = {}
    for i, vals in enumerate(values):
        groups.setdefault(structure_key(vals, names), []).append(i)
    plans: list[tuple[list[int], Template | None]] = []
    for g in groups.values():
        template = None
        if len(g) >= MIN_GROUP:
            probe = _probe(g, values, names)
            try:
                template = compile_template(scenarios[g[0]], names, penalty)
                diff = template_difference(template, scenarios[probe], values[probe], penalty)
            except (NotPolynomial, IndexChanged) as exc:
                diff = str(exc)
            if diff:
                notes.append(f"{len(g)} futures: the template's LP of future {probe + 1} is not its fresh build's "
                             f"({diff}): built by Pyomo")
                template = None
        plans.append((g, template))

    def lps() -> Iterator[tuple[int, FutureLP]]:
        for g, template in plans:
            for i in g:
                yield i, (template.future_lp(template.param_vector(values[i])) if template is not None
                          else pyomo_lp(scenarios[i], penalty))

    return lps(), notes
