"""Helpers of the table assemblers: series over the horizon, whole years, facts grouped by key."""
from __future__ import annotations

import math
from typing import Any, Iterable

import numpy as np

from model.errors import InputError
from model.inputs import Fact, RawTable
from model.inputs.memo import IdentityMemo


#: The (a, b) pairs of two key sequences, kept by their contents: each sweep case holds equal, new tuples of
#: regions, sources and years, and the figures and Params over them read the same pairs in the same order.
_PAIRS: dict[tuple[tuple, tuple], tuple[tuple[Any, Any], ...]] = {}


def pairs(first: Iterable[Any], second: Iterable[Any]) -> tuple[tuple[Any, Any], ...]:
    """``tuple((a, b) for a in first for b in second)``, made once per pair of contents."""
    key = (tuple(first), tuple(second))
    got = _PAIRS.get(key)
    if got is None:
        if len(_PAIRS) > 256:
            _PAIRS.clear()
        got = _PAIRS[key] = tuple((a, b) for a in key[0] for b in key[1])
    return got


def interpolate(points: dict[int, float], years: Iterable[int]) -> dict[int, float]:
    """Linear interpolation between the given years, flat before the first and after the last.

    One ``np.interp`` call for all the years (the same numbers as one call per year, four times faster).
    """
    xs = sorted(points)
    years = list(years)
    return dict(zip(years, np.interp(years, xs, [points[x] for x in xs]).tolist()))


#: Series worked out from the very same facts over the same years (a sweep case changes a few rows).
_SERIES = IdentityMemo(20000)


def yearly_series(facts: list[Fact], years: tuple[int, ...], errors: list[InputError]) -> dict[int, float] | None:
    """One parameter of one key: either one all-years row, or rows for given years (interpolated).

    Kept per fact objects and years (:data:`_SERIES`); the answer is shared, so callers must not change it.
    """
    return _SERIES(tuple(facts), tuple(years), lambda problems: _yearly_series(facts, years, problems), errors)


def _yearly_series(facts: list[Fact], years: tuple[int, ...], errors: list[InputError]) -> dict[int, float] | None:
    all_years = [f for f in facts if f.keys.get("year") is None]
    dated = [f for f in facts if f.keys.get("year") is not None]
    if all_years and dated:
        f = dated[0]
        errors.append(InputError(f.file, f.row, "year",
                                 f"either one row with an empty year for '{f.parameter}' or rows for given years",
                                 f"both (the empty-year row is {all_years[0].file} line {all_years[0].row})"))
        return None
    if all_years:
        return {y: all_years[0].value for y in years}
    return interpolate({f.keys["year"]: f.value for f in dated}, years)


def whole_years(value: float, fact: Fact | None, param: str, errors: list[InputError]) -> int | None:
    """A lifetime or lead time as a whole number of years; a fraction is refused, never rounded.

    The plan counts years as whole planning periods, so ``2.5 a`` (or ``30 month``)
    cannot be represented; rounding it silently (half to even: 2.5 -> 2,
    3.5 -> 4) changed the plan. The error names the row (file and line, the
    ``--set`` key or the scenario file entry) the value came from.

    Examples
    --------
    >>> whole_years(3.0, None, "lifetime", [])
    3
    >>> errs = []; whole_years(2.5, None, "lifetime", errs), len(errs)
    (None, 1)
    """
    whole = round(value)
    if abs(value - whole) <= 1e-6 * max(1.0, abs(value)):
        return int(whole)
    file, row = (fact.file, fact.row) if fact is not None else ("inputs/parameters.yaml", param)
    error = InputError(file, row, "value", f"a whole number of years for '{param}' (plans count whole years; "
                       f"write {math.floor(value):g} a or {math.ceil(value):g} a)", f"{value:g} a")
    if error not in errors:       # one --set row applies to every offer: say it once
        errors.append(error)
    return None


def group_facts(facts: list[Fact], *cols: str) -> dict[tuple, list[Fact]]:
    """``facts`` by their values in ``cols`` and their parameter: ``{(*values, parameter): [facts in order]}``."""
    out: dict[tuple, list[Fact]] = {}
    if len(cols) == 1:                # the common case, without a tuple built from a generator per fact
        col = cols[0]
        for f in facts:
            key = (f.keys.get(col), f.parameter)
            group = out.get(key)
            if group is None:
                out[key] = [f]
            else:
                group.append(f)
        return out
    for f in facts:
        out.setdefault(tuple(f.keys.get(c) for c in cols) + (f.parameter,), []).append(f)
    return out


def has_row(table: RawTable, parameter: str) -> bool:
    """Whether ``table`` has a row for ``parameter`` (a refused one was reported already: not 'missing')."""
    return any(r.get("parameter") == parameter for r in table.rows)


def grown(points: dict[int, float], years: tuple[int, ...], growth: float, linear: bool = False) -> dict[int, float]:
    """A series given in some years: interpolated between them, flat before the first, and after
    the last grown by ``growth`` per year (compound share, or GW/a added when ``linear``)."""
    last = max(points)
    out = interpolate(points, [y for y in years if y <= last])
    for y in years:
        if y > last:
            out[y] = points[last] + growth * (y - last) if linear else points[last] * (1.0 + growth) ** (y - last)
    return out


def row_already_refused(errors: list[InputError], file: str, keys: tuple[str, ...]) -> bool:
    """True if a row of ``file`` or a ``--set`` of one of ``keys`` was refused already (its absence follows)."""
    return any(str(e.file).endswith(file) or any(k in str(e.row) for k in keys) for e in errors)
