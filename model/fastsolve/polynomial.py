"""Swept Params as polynomials: a case's Param values, and every LP number that depends on them."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

import numpy as np

from model.scenario import Scenario


class IndexChanged(ValueError):
    """A case gives a mutable Param a different index: the model's structure changes, rebuild it."""


class NotPolynomial(ValueError):
    """A coefficient is not a polynomial in the mutable Params (the fast path cannot evaluate it)."""


class ParamSource:
    """The values of a few Params for scenario after scenario, computing only the concerns that own them.

    Same values as :func:`model.build.param_values`, which computes every
    concern's Params (several times slower when a sweep changes one of them).
    The first call runs every concern once to learn which owns what.

    Parameters
    ----------
    names : iterable of str
        The Params wanted.
    """

    def __init__(self, names: Iterable[str]) -> None:
        self.names = frozenset(names)
        self._concerns: list[Any] | None = None

    def __call__(self, s: Scenario) -> dict[str, dict]:
        from model.build import CONCERNS

        if self._concerns is None:
            out: dict[str, dict] = {}
            self._concerns = []
            for concern in CONCERNS:
                fn = getattr(concern, "param_values", None)
                if fn is None:
                    continue
                values = fn(s)
                if self.names & set(values):
                    self._concerns.append(fn)
                    out.update({k: v for k, v in values.items() if k in self.names})
            return out
        out = {}
        for fn in self._concerns:
            out.update({k: v for k, v in fn(s).items() if k in self.names})
        return out


Poly = dict[tuple[int, ...], float]


def _const(x: float) -> Poly:
    return {(): float(x)} if x != 0 else {}


def add_poly(a: Poly, b: Poly, sign: float = 1.0) -> Poly:
    out = dict(a)
    for k, v in b.items():
        out[k] = out.get(k, 0.0) + sign * v
    return out


def _mul(a: Poly, b: Poly) -> Poly:
    out: Poly = {}
    for ka, va in a.items():
        for kb, vb in b.items():
            k = tuple(sorted(ka + kb))
            out[k] = out.get(k, 0.0) + va * vb
    return out


def polynomial(expr: Any, position: Mapping[int, int]) -> Poly:
    """``expr`` as ``{(j1, j2, ...): c}``: the sum of ``c * p[j1] * p[j2] * ...``.

    Parameters
    ----------
    expr : Pyomo expression, Param or number
        A coefficient, bound or constant with no Var in it.
    position : mapping
        ``id(ParamData)`` -> index j in the Param vector p, for every mutable
        Param the plan tracks.

    Raises
    ------
    NotPolynomial
        For a Var, a division by a Param, a non-integer power of a Param or a
        function of a Param.
    """
    from pyomo.core.expr.numeric_expr import (DivisionExpression, MonomialTermExpression, NegationExpression,
                                              PowExpression, ProductExpression, SumExpression)
    from pyomo.core.expr.numvalue import native_numeric_types, value
    from pyomo.core.expr.visitor import identify_mutable_parameters

    if type(expr) in native_numeric_types:
        return _const(expr)
    if expr.is_expression_type():
        if expr.is_named_expression_type():
            return polynomial(expr.expr, position)
        if isinstance(expr, SumExpression):
            out: Poly = {}
            for arg in expr.args:
                out = add_poly(out, polynomial(arg, position))
            return out
        if isinstance(expr, (ProductExpression, MonomialTermExpression)):
            a, b = expr.args
            return _mul(polynomial(a, position), polynomial(b, position))
        if isinstance(expr, NegationExpression):
            return {k: -v for k, v in polynomial(expr.args[0], position).items()}
        if isinstance(expr, DivisionExpression):
            num, den = (polynomial(a, position) for a in expr.args)
            if set(den) - {()} or not den:
                raise NotPolynomial(f"division by a mutable Param in {expr}")
            return {k: v / den[()] for k, v in num.items()}
        if isinstance(expr, PowExpression):
            base, exponent = (polynomial(a, position) for a in expr.args)
            if set(exponent) - {()}:
                raise NotPolynomial(f"a mutable Param in an exponent: {expr}")
            n = exponent.get((), 0.0)
            if not set(base) - {()}:
                return _const(base.get((), 0.0) ** n)
            if n != int(n) or n < 0:
                raise NotPolynomial(f"a non-integer power of a mutable Param: {expr}")
            out = {(): 1.0}
            for _ in range(int(n)):
                out = _mul(out, base)
            return out
        if any(True for _ in identify_mutable_parameters(expr)):
            raise NotPolynomial(f"unsupported expression of mutable Params: {type(expr).__name__}")
        return _const(value(expr))
    if expr.is_variable_type():
        raise NotPolynomial(f"a Var in a coefficient: {expr}")
    if expr.is_parameter_type() and id(expr) in position:
        return {(position[id(expr)],): 1.0}
    return _const(value(expr))


@dataclass
class Slots:
    """Polynomials collected while compiling; each gets a slot number."""

    polys: list[Poly] = field(default_factory=list)

    def add(self, p: Poly) -> int:
        self.polys.append(p)
        return len(self.polys) - 1

    def arrays(self, n_params: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(slot, coefficient, factors) of every monomial; factors padded with ``n_params`` (p[n_params] = 1)."""
        degree = max((len(k) for p in self.polys for k in p), default=0)
        slot, coef, fac = [], [], []
        for i, p in enumerate(self.polys):
            for k, c in p.items():
                slot.append(i)
                coef.append(c)
                fac.append(list(k) + [n_params] * (degree - len(k)))
        return (np.asarray(slot, dtype=np.int64), np.asarray(coef, dtype=float),
                np.asarray(fac, dtype=np.int64).reshape(len(slot), degree))


def evaluate_slots(mono_slot: np.ndarray, mono_coef: np.ndarray, mono_fac: np.ndarray, n_slots: int,
                   p: np.ndarray) -> np.ndarray:
    """Every slot's polynomial at ``p`` (the Param vector with ``p[-1] = 1``, as :meth:`Slots.arrays` pads).

        slot[s] = sum over monomials m of s:  coef[m] * p[fac[m, 0]] * p[fac[m, 1]] * ...

    The factors are multiplied column by column, left to right: the same numbers as
    ``np.prod(p[mono_fac], axis=1)`` (which reduces each row in that order), about four times faster on
    a sweep's few thousand monomials of degree two.
    """
    if not len(mono_slot):
        return np.zeros(n_slots)
    if mono_fac.shape[1]:
        product = p[mono_fac[:, 0]]
        for j in range(1, mono_fac.shape[1]):
            product = product * p[mono_fac[:, j]]
        terms = mono_coef * product
    else:
        terms = mono_coef
    return np.bincount(mono_slot, weights=terms, minlength=n_slots)
