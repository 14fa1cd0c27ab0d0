"""Aligning result sets by key: headline figures (converted to one unit), inputs and overrides that differ, binding limits, tables."""
from __future__ import annotations

import math
from pathlib import PurePath
from typing import Any, Sequence

import pandas as pd
import pint

from model import fmt
from model.compare.sets import PLAN_STATUSES, ResultSetView, kinds_note
from model.errors import ResultSetError
from model.summary import NOT_FIGURES, flatten_summary, override_entries
from model.units import ureg

#: Units figures are shown in, by what they measure (tables keep the sets' own units).
DISPLAY_UNITS = {"USD": "bnUSD", "FLOP/s": "ZFLOP/s"}


#: Tables of each result set gathered into long tables with a ``set`` column.
SET_TABLES = ("capacity_by_vendor", "capacity_by_host", "capacity_by_region", "capacity_by_kind", "power",
              "costs", "spending")


#: Relative and absolute tolerance under which two figures count as equal.
REL_TOL, ABS_TOL = 1e-9, 1e-12


def _number(v: Any) -> float | None:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    return float(v)


def convert(value: float, unit_from: str, unit_to: str) -> float:
    """``value`` in ``unit_from`` expressed in ``unit_to`` (the project's pint registry).

    Raises
    ------
    pint.DimensionalityError
        If the units measure different things (GW and TWh).
    pint.UndefinedUnitError
        If a unit is unknown to the registry.
    """
    if unit_from == unit_to:
        return value
    q = ureg.Quantity(value, unit_from or "dimensionless")
    return float(q.to(unit_to or "dimensionless").magnitude)


def _same(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=REL_TOL, abs_tol=ABS_TOL)


def compare_figures(views: Sequence[ResultSetView]) -> pd.DataFrame:
    """The headline figures of every set in one long table, aligned by key.

    Columns: ``key, set, value, text, unit, value_as_written, unit_as_written,
    difference, difference_pct, note``. ``value``/``unit`` are in the unit of
    the first set that has the key (the reference); ``text`` holds figures
    that are words (``status``); ``difference`` is the
    value minus the first set's, ``difference_pct`` that relative to the first
    set's value in percent. ``note`` says ``missing``, ``absent (counted as
    0)`` (a breakdown member a set does not have), ``converted from MW``,
    ``incompatible unit ...`` or ``differs`` (text that differs).
    """
    flat = [flatten_summary(v.summary) for v in views]
    keys: list[str] = []
    for f in flat:
        keys += [k for k in f if k not in set(keys)]
    if kinds_note(views):   # sets of different kinds: a figure only one kind has is not 'missing' from the other
        tops = [set(v.summary) for v in views]
        keys = [k for k in keys if all(k.split(".", 1)[0] in t for t in tops)]
    parents = [{k.rsplit(".", 1)[0] for k in f if "." in k} for f in flat]
    rows = []
    for key in keys:
        ref = next((f[key] for f in flat if key in f), None)
        ref_unit = ref[1] if ref else ""
        parent = key.rsplit(".", 1)[0] if "." in key else None
        entries = []
        for view, f, pars in zip(views, flat, parents):
            note, value, unit_written, written = "", None, "", None
            if key in f:
                written, unit_written = f[key]
                number = _number(written)
                if number is None:
                    value = written
                else:
                    try:
                        value = convert(number, unit_written, ref_unit)
                        if unit_written != ref_unit:
                            note = f"converted from {unit_written or 'a plain number'}"
                    except pint.DimensionalityError:
                        note = f"incompatible unit: {unit_written!r} cannot be compared with {ref_unit!r}"
                    except (pint.UndefinedUnitError, ValueError, AttributeError, TypeError):
                        note = f"unknown unit {unit_written!r}"
            elif parent is not None and parent in pars and ref is not None and _number(ref[0]) is not None:
                value, note = 0.0, "absent (counted as 0)"
            else:
                note = "missing"
            entries.append((view.label, value, unit_written, written, note))
        first = entries[0][1]
        for label, value, unit_written, written, note in entries:
            diff = pct = None
            if isinstance(value, float) and isinstance(first, float) and not note.startswith(("incompatible",
                                                                                              "unknown")):
                diff = value - first
                if _same(value, first):
                    diff = 0.0
                pct = 100.0 * diff / abs(first) if first != 0 else (0.0 if diff == 0 else None)
            elif value is not None and first is not None and not isinstance(value, float) and value != first:
                note = note or "differs"
            number = value if isinstance(value, float) else None
            text = None if number is not None or value is None else str(value)
            rows.append({"key": key, "set": label, "value": number, "text": text, "unit": ref_unit,
                         "value_as_written": written, "unit_as_written": unit_written,
                         "difference": diff, "difference_pct": pct, "note": note})
    return pd.DataFrame(rows, columns=["key", "set", "value", "text", "unit", "value_as_written",
                                       "unit_as_written", "difference", "difference_pct", "note"])


def differing_keys(headline: pd.DataFrame) -> list[str]:
    """Keys whose figure differs in some set (or is missing, flagged or converted to a different value)."""
    out = []
    for key, g in headline.groupby("key", sort=False):
        diffs = g["difference"].dropna()
        flagged = g["note"].fillna("").str.match(r"^(missing|absent|incompatible|unknown|differs)").any()
        if flagged or (diffs.abs() > 0).any():
            out.append(str(key))
    return out


def missing_keys(views: Sequence[ResultSetView], headline: pd.DataFrame) -> pd.DataFrame:
    """Top-level summary keys some sets lack, with the likely reason.

    Breakdown members a set does not have are not listed (they count as 0).
    """
    tops = []
    for v in views:
        tops += [k for k in v.summary if k not in NOT_FIGURES and k not in tops]
    rows = []
    for v in views:
        for key in tops:
            if key in v.summary:
                continue
            having = [o for o in views if key in o.summary]
            if having and all(o.kind != v.kind for o in having):
                kinds = sorted({o.kind_words for o in having})
                reason = f"only {' and '.join(kinds)} has it; this set is {v.kind_words} (not compared)"
            elif v.status not in PLAN_STATUSES and any(o.status in PLAN_STATUSES for o in having):
                reason = f"status {v.status}: the run has no plan"
            elif having and all(o.status != v.status for o in having):
                reason = (f"written only for status {', '.join(sorted({o.status for o in having}))}; "
                          f"this set's status is {v.status}")
            elif any(o.version != v.version for o in having):
                reason = (f"this set was written by version {v.version}, the sets that have it by "
                          f"{', '.join(sorted({o.version for o in having}))}: older result sets lack newer keys")
            else:
                reason = "not in this set's summary.json"
            rows.append({"key": key, "set": v.label, "reason": reason})
    return pd.DataFrame(rows, columns=["key", "set", "reason"])


def input_file_key(shown_path: str) -> str:
    """A manifest's input path as a name inside the inputs folder: ``offers.csv``, ``scenarios/x.yaml``.

    Manifests record paths as shown to the user (relative to where the run
    started, or absolute), so sets run from different folders still align.
    """
    p = PurePath(str(shown_path).replace("\\", "/"))
    return f"{p.parent.name}/{p.name}" if p.parent.name == "scenarios" else p.name


def compare_input_files(views: Sequence[ResultSetView]) -> pd.DataFrame:
    """sha256 of every input file per set, aligned by file name; long with ``set`` and ``differs``."""
    hashes = [{input_file_key(k): str(h) for k, h in ((v.manifest or {}).get("inputs_sha256") or {}).items()}
              for v in views]
    files: list[str] = []
    for h in hashes:
        files += [f for f in sorted(h) if f not in files]
    rows = []
    have = [v.manifest is not None and "inputs_sha256" in v.manifest for v in views]
    for f in files:
        values = [h.get(f) for h, ok in zip(hashes, have) if ok]
        differs = len(set(values)) > 1
        for v, h, ok in zip(views, hashes, have):
            rows.append({"file": f, "set": v.label, "sha256": h.get(f, "absent" if ok else "unknown"),
                         "differs": differs})
    return pd.DataFrame(rows, columns=["file", "set", "sha256", "differs"])


def compare_overrides(views: Sequence[ResultSetView]) -> pd.DataFrame:
    """The overrides (scenario files, ``--set``) of every set, aligned by key; long with ``set``.

    A set without an override for a key shows ``(base data)``; ``differs``
    marks keys whose value is not the same in every set.
    """
    per_set = [{e["key"]: e for e in override_entries((v.manifest or {}).get("overrides") or [])} for v in views]
    keys: list[str] = []
    for d in per_set:
        keys += [k for k in d if k not in keys]
    rows = []
    for key in keys:
        values = [(d[key]["value"], d[key]["unit"]) if key in d else None for d in per_set]
        differs = len({v for v in values}) > 1
        for v, d in zip(views, per_set):
            e = d.get(key)
            rows.append({"key": key, "set": v.label, "value": e["value"] if e else "(base data)",
                         "unit": e["unit"] if e else "", "action": e["action"] if e else "",
                         "source": e["source"] if e else "", "differs": differs})
    return pd.DataFrame(rows, columns=["key", "set", "value", "unit", "action", "source", "differs"])


def compare_binding(views: Sequence[ResultSetView]) -> pd.DataFrame:
    """Binding limits of every set (long, with ``set``), marking those that bind in only some sets."""
    rows = []
    names = [{b.get("name") for b in v.summary.get("binding") or []} for v in views]
    for v in views:
        for b in v.summary.get("binding") or []:
            price = b.get("shadow_price") or {}
            rows.append({"set": v.label, "name": b.get("name"), "shadow_price": price.get("value"),
                         "unit": price.get("unit"), "meaning": b.get("meaning", ""),
                         "binds_in_every_set": all(b.get("name") in n for n in names)})
    return pd.DataFrame(rows, columns=["set", "name", "shadow_price", "unit", "meaning", "binds_in_every_set"])


def gather_tables(views: Sequence[ResultSetView]) -> dict[str, pd.DataFrame]:
    """Each set's ``tables/*.csv`` of :data:`SET_TABLES`, stacked with a ``set`` column."""
    out: dict[str, pd.DataFrame] = {}
    for name in SET_TABLES:
        frames = []
        for v in views:
            f = v.path / "tables" / f"{name}.csv"
            if f.exists():
                try:
                    df = pd.read_csv(f)
                except (OSError, ValueError, pd.errors.ParserError) as exc:
                    raise ResultSetError(f"{f} is corrupt: {exc}") from None
                frames.append(df.assign(set=v.label)[["set", *df.columns]])
        if frames:
            out[name] = pd.concat(frames, ignore_index=True)
    return out


def display_unit(unit: str) -> str:
    """The unit a figure is shown in: money in billion USD (``USD/GW`` -> ``bnUSD/GW``), compute in ZFLOP/s."""
    if unit == "USD" or unit.startswith("USD/"):
        return "bn" + unit
    return DISPLAY_UNITS.get(unit, unit)


def display(value: Any, unit: str) -> tuple[str, str]:
    """A value and unit as shown in tables: money in billion USD, compute in EFLOP/s."""
    if not isinstance(value, float):
        return ("—" if value is None else str(value)), unit
    if unit == "" and value.is_integer():
        return str(int(value)), unit
    shown = display_unit(unit)
    try:
        v = convert(value, unit, shown)
    except (pint.DimensionalityError, pint.UndefinedUnitError, ValueError, AttributeError, TypeError):
        v, shown = value, unit
    return fmt.sig(v, 4), shown


def shorten(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"
