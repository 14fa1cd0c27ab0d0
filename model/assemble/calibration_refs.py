"""Reference figures for calibration (``inputs/calibration.csv``), validated at the edge (see :mod:`model.calibration`)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pint import DimensionalityError

from model.errors import InputError
from model.inputs.memo import IdentityMemo
from model.units import UnitParseError, parse_quantity

#: measure -> the unit its reference is converted to (vendor_share: none, the reference is world output)
MEASURES = {"capacity": "GW", "spending": "USD", "debt": "USD", "energy": "TWh", "vendor_share": "GW/a"}


@dataclass(frozen=True)
class CalibrationRef:
    """One reference figure of ``inputs/calibration.csv`` (value in the measure's unit; None for vendor_share)."""

    figure: str
    measure: str
    scope: str
    first_year: int
    last_year: int
    value: float | None
    unit: str
    ratio_low: float
    ratio_high: float
    reconcile: str
    source: str


def _number(r: dict[str, Any], column: str, errors: list[InputError]) -> float | None:
    try:
        return float(r[column])
    except (TypeError, ValueError):
        errors.append(InputError(r["_file"], r["_row"], column, "a plain number (a ratio, e.g. 0.8)", r.get(column)))
        return None


#: The references read from the very same checked rows (a sweep case rarely changes calibration.csv).
_READ = IdentityMemo(8)


def read_calibration(rows: list[dict[str, Any]], errors: list[InputError]) -> tuple[CalibrationRef, ...]:
    """The rows of ``calibration.csv`` as :class:`CalibrationRef`, each problem named by file, line and field.

    Worked out once for the same row objects (:data:`_READ`), its problems reported again each time.
    """
    return _READ(tuple(rows), None, lambda problems: _read_calibration(rows, problems), errors)


def _read_calibration(rows: list[dict[str, Any]], errors: list[InputError]) -> tuple[CalibrationRef, ...]:
    out = []
    for r in rows:
        measure = r["measure"]
        unit = MEASURES.get(measure)
        if unit is None:
            errors.append(InputError(r["_file"], r["_row"], "measure", "one of " + ", ".join(MEASURES), measure))
            continue
        value = None
        if measure != "vendor_share" or str(r.get("value") or "").strip():
            try:
                q = parse_quantity(f"{r['value']} {r['unit']}")
                value = float(q.to(unit).magnitude)
            except (UnitParseError, DimensionalityError, ValueError, TypeError):
                errors.append(InputError(r["_file"], r["_row"], "unit", f"a figure in {unit} for measure '{measure}'",
                                         f"{r.get('value')} {r.get('unit')}"))
                continue
        low, high = _number(r, "ratio_low", errors), _number(r, "ratio_high", errors)
        if low is None or high is None:
            continue
        if not 0 <= low <= high:
            errors.append(InputError(r["_file"], r["_row"], "ratio_high", f"a ratio at least ratio_low ({low:g})",
                                     r["ratio_high"]))
            continue
        out.append(CalibrationRef(r["figure"], measure, str(r.get("scope") or ""), int(r["first_year"]),
                                  int(r["last_year"]), value, unit, low, high, str(r.get("reconcile") or ""),
                                  str(r.get("source") or "")))
    return tuple(out)
