"""The LP a :class:`~model.fastsolve.highs.HighsPlan` means HiGHS to hold, as numpy arrays: the check of every answer.

Every optimal re-solve is checked row by row (:meth:`HighsPlan.worst_violation`): each row's activity
``A x`` is recomputed and compared with its bounds, and so is each column with its bounds. Reading the
matrix back from HiGHS for that (``getLp`` and converting its lists to arrays) took about 2 ms of a
sweep case whose solve takes 3. This mirror keeps the same LP on our side instead: the compiled
reference, with every coefficient and row bound the plan pushes written into it as it is pushed. The
check is then against the LP the case should have (a push HiGHS dropped would show as a violation),
not against whatever HiGHS holds.

    activity_i = sum_k value_k x[col_k]   over the entries k of row i
    violation  = max over rows and columns of max(lo - v, v - hi, 0) / max(1, |lo|, |hi|)
"""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np


class LpMirror:
    """A compiled LP's entries and bounds, updated in step with what is pushed into HiGHS.

    Parameters
    ----------
    lp : mapping
        The compiled LP as :func:`model.fastsolve.lp.lp_arrays_of` gives it.
    coef_rows, coef_cols : numpy.ndarray
        The matrix positions the plan may change (its coefficient slots); a position absent from the
        reference (a zero coefficient there) gets an entry of value 0.
    """

    def __init__(self, lp: Mapping[str, Any], coef_rows: np.ndarray, coef_cols: np.ndarray) -> None:
        self.num_row, self.num_col = int(lp["num_row"]), int(lp["num_col"])
        start, index = np.asarray(lp["a_start"], dtype=np.int64), np.asarray(lp["a_index"], dtype=np.int64)
        value = np.asarray(lp["a_value"], dtype=float)
        outer = np.repeat(np.arange(len(start) - 1, dtype=np.int64), np.diff(start))[:len(index)]
        rows, cols = (outer, index) if lp.get("a_rowwise") else (index, outer)
        keys = rows * self.num_col + cols
        want = np.asarray(coef_rows, dtype=np.int64) * self.num_col + np.asarray(coef_cols, dtype=np.int64)
        order = np.argsort(keys, kind="stable")
        at = np.searchsorted(keys[order], want)
        found = (at < len(keys)) & (keys[order][np.minimum(at, max(len(keys) - 1, 0))] == want) if len(keys) else \
            np.zeros(len(want), dtype=bool)
        missing = np.flatnonzero(~found)
        self.positions = np.empty(len(want), dtype=np.int64)
        self.positions[found] = order[at[found]]
        self.positions[missing] = len(keys) + np.arange(len(missing))
        self.rows = np.concatenate([rows, np.asarray(coef_rows, dtype=np.int64)[missing]])
        self.cols = np.concatenate([cols, np.asarray(coef_cols, dtype=np.int64)[missing]])
        self._ref = (np.concatenate([value, np.zeros(len(missing))]), np.array(lp["row_lower"], dtype=float),
                     np.array(lp["row_upper"], dtype=float), np.array(lp["col_lower"], dtype=float),
                     np.array(lp["col_upper"], dtype=float))
        self.reset()

    def reset(self) -> None:
        """Back to the reference LP."""
        self.value, self.row_lower, self.row_upper, self.col_lower, self.col_upper = (a.copy() for a in self._ref)
        self._rows = Bounds(self.row_lower, self.row_upper)
        self._cols = Bounds(self.col_lower, self.col_upper)

    def set_coefficients(self, which: np.ndarray, values: np.ndarray) -> None:
        """Coefficient slots ``which`` (indices into the plan's ``coef_rows``/``coef_cols``) now hold ``values``."""
        self.value[self.positions[which]] = values

    def set_row_bounds(self, rows: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> None:
        self.row_lower[rows], self.row_upper[rows] = lower, upper
        self._rows.set(rows, self.row_lower, self.row_upper)

    def set_col_bounds(self, col: int, lower: float, upper: float) -> None:
        self.col_lower[col], self.col_upper[col] = lower, upper
        self._cols.set(np.array([col]), self.col_lower, self.col_upper)

    def worst_violation(self, x: np.ndarray) -> float:
        """Largest violation of a row or column bound by ``x``, relative to max(1, |bound|)."""
        activity = np.bincount(self.rows, weights=self.value * x[self.cols], minlength=self.num_row)
        return max(self._rows.excess(activity), self._cols.excess(x))


class Bounds:
    """Lower and upper bounds ready for :func:`excess`: which are finite, and the scale max(1, |finite bounds|)
    of each entry, kept up to date as bounds change (:meth:`set`) instead of worked out at every check.

        excess(v) = max over i of max(lo_i - v_i, v_i - hi_i, 0) / scale_i   (infinite bounds ignored)
    """

    def __init__(self, lower: np.ndarray, upper: np.ndarray) -> None:
        self.lo, self.hi = np.array(lower, dtype=float), np.array(upper, dtype=float)
        self.lo_on, self.hi_on = np.isfinite(self.lo), np.isfinite(self.hi)
        self.scale = _scale(self.lo, self.hi, self.lo_on, self.hi_on)

    def set(self, at: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> None:
        """Entries ``at`` now have the bounds ``lower[at]``, ``upper[at]``."""
        lo, hi = np.asarray(lower, dtype=float)[at], np.asarray(upper, dtype=float)[at]
        self.lo[at], self.hi[at] = lo, hi
        self.lo_on[at], self.hi_on[at] = np.isfinite(lo), np.isfinite(hi)
        self.scale[at] = _scale(lo, hi, self.lo_on[at], self.hi_on[at])

    def excess(self, v: np.ndarray) -> float:
        """``excess(v, lo, hi)`` for these bounds: the same numbers, with their masks and scales kept."""
        with np.errstate(invalid="ignore"):
            over = np.maximum(np.where(self.lo_on, self.lo - v, 0.0), np.where(self.hi_on, v - self.hi, 0.0))
        return float(np.max(over / self.scale, initial=0.0))


def _scale(lo: np.ndarray, hi: np.ndarray, lo_on: np.ndarray, hi_on: np.ndarray) -> np.ndarray:
    return np.maximum(1.0, np.maximum(np.where(lo_on, np.abs(lo), 0.0), np.where(hi_on, np.abs(hi), 0.0)))


def excess(v: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> float:
    """max over i of max(lo_i - v_i, v_i - hi_i, 0) / max(1, |lo_i|, |hi_i|), infinite bounds ignored."""
    lo, hi = np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)
    lo_on, hi_on = np.isfinite(lo), np.isfinite(hi)
    with np.errstate(invalid="ignore"):
        over = np.maximum(np.where(lo_on, lo - v, 0.0), np.where(hi_on, v - hi, 0.0))
        scale = np.maximum(1.0, np.maximum(np.where(lo_on, np.abs(lo), 0.0), np.where(hi_on, np.abs(hi), 0.0)))
    return float(np.max(over / scale, initial=0.0))
