"""Compare result sets side by side: headline figures, the inputs that differ, plots, ``compare.html``.

``python run.py compare results/A results/B [results/C ...] [--out NAME] [--results DIR]``

Everything is aligned by labels, never by position: headline figures by
their key in ``summary.json`` (nested breakdowns flattened to dotted keys such
as ``capacity_by_vendor.nvidia``), input files by their name inside the inputs
folder, overrides by their ``--set`` key or file and row selector, tables by
their coordinates (``vendor``, ``year``, ...). Differences are taken relative
to the first set. A figure whose unit differs from the first set's is
converted with the project's pint registry; one whose unit has another
dimension is flagged, not subtracted.

The comparison is written as its own folder under ``--results`` (default
``results/``), atomically and never over an existing one::

    results/<name>/
      manifest.json      command line, the sets compared (paths, status, version), created
      compare.html       one self-contained page
      tables/*.csv       long tables with a ``set`` column: headline, inputs, overrides,
                         missing, binding, capacity_by_vendor, ..., power, costs, spending
      plots/*.png        capacity by vendor per set, capacity/power/energy, cost

Exit codes: 0 compared; 2 bad usage or a missing or corrupt result set (nothing written).
"""
from __future__ import annotations

import argparse
import datetime as _dt
import json
import math
import re
import sys
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any, Sequence

import pandas as pd
import pint

from model import __version__, pages
from model import fmt
from model.colours import colour
from model.errors import ResultSetError
from model.exitcodes import EXIT_INPUT, EXIT_OK
from model.pages import PLOT_STYLE
from model.summary import NOT_FIGURES, flatten_summary, override_entries
from model.resultdir import ensure_free as _ensure_free, new_result_dir
from model.units import ureg

#: Statuses that come with a plan; others have no plan keys by design.
PLAN_STATUSES = ("optimal", "target_missed")
#: Units figures are shown in, by what they measure (tables keep the sets' own units).
DISPLAY_UNITS = {"USD": "bnUSD", "FLOP/s": "ZFLOP/s"}
#: Tables of each result set gathered into long tables with a ``set`` column.
SET_TABLES = ("capacity_by_vendor", "capacity_by_host", "capacity_by_region", "capacity_by_kind", "power",
              "costs", "spending")
#: Relative and absolute tolerance under which two figures count as equal.
REL_TOL, ABS_TOL = 1e-9, 1e-12


# ----------------------------------------------------------------------------
# Reading result sets
# ----------------------------------------------------------------------------
@dataclass(frozen=True)
class ResultSetView:
    """One result set as compare sees it: a label, its folder, its summary and manifest."""

    label: str
    path: Path
    summary: dict[str, Any]
    manifest: dict[str, Any] | None
    kind: str = "plan"     # plan | stochastic | alternatives (see set_kind)

    @property
    def kind_words(self) -> str:
        """``a plan``, ``a stochastic set``, ``a set of alternatives``."""
        return KIND_WORDS.get(self.kind, f"a {self.kind} set")

    @property
    def status(self) -> str:
        return str(self.summary.get("status", "unknown"))

    @property
    def version(self) -> str:
        return str((self.manifest or {}).get("version", "unknown"))


#: The kinds of result set compare reads, in words.
KIND_WORDS = {"plan": "a plan", "stochastic": "a stochastic set", "alternatives": "a set of alternatives"}


def set_kind(summary: dict[str, Any], manifest: dict[str, Any] | None) -> str:
    """Which command wrote a result set: ``plan``, ``stochastic``, ``alternatives``, ``sweep``, ``comparison``.

    Read from the manifest (its ``kind`` or ``command``, else the command word
    of its command line), else from keys only one kind of summary has.

    Examples
    --------
    >>> set_kind({"status": "optimal"}, {"command_line": ["run.py", "--target", "250GW"]})
    'plan'
    >>> set_kind({"status": "optimal", "expected_cost": {}}, None)
    'stochastic'
    """
    m = manifest or {}
    named = {"stochastic": "stochastic", "alternatives": "alternatives", "sweep": "sweep", "compare": "comparison",
             "comparison": "comparison", "run": "plan", "plan": "plan"}
    for word in (m.get("kind"), m.get("command")):
        if isinstance(word, str) and word in named:
            return named[word]
    argv = m.get("command_line")
    if isinstance(argv, list) and len(argv) > 1 and isinstance(argv[1], str) and argv[1] in named:
        return named[argv[1]]
    if "expected_cost" in summary or "futures_file" in summary:
        return "stochastic"
    if "alternatives" in summary and "least_cost" in summary:
        return "alternatives"
    return "plan"


def kinds_note(views: Sequence[ResultSetView]) -> str | None:
    """One sentence when the sets are of different kinds (``None`` when they are all alike).

    ``results/A is a plan and results/B a stochastic set: only the figures both have are compared``.
    """
    if len({v.kind for v in views}) < 2:
        return None
    parts = [f"{v.path} {'is ' if i == 0 else ''}{v.kind_words}" for i, v in enumerate(views)]
    listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return (f"{listed}: only the figures {'both' if len(views) == 2 else 'all'} have are compared "
            "(the others are listed, not shown as missing)")


def _read_json(f: Path, what: str) -> dict[str, Any]:
    try:
        data = json.loads(f.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ResultSetError(f"{f} cannot be read: {exc}") from None
    except json.JSONDecodeError as exc:
        raise ResultSetError(f"{f} is corrupt: {exc}") from None
    if not isinstance(data, dict):
        raise ResultSetError(f"{f} is corrupt: expected a JSON object ({what}), found {type(data).__name__}")
    return data


def open_result_set(path: Path, label: str | None = None) -> ResultSetView:
    """Read a result set's ``summary.json`` and ``manifest.json``.

    Parameters
    ----------
    path : Path
        The result set's folder.
    label : str, optional
        Name to show it by (default: the folder name).

    Raises
    ------
    ResultSetError
        If the folder does not exist, has no ``summary.json``, or either JSON
        file is corrupt; the message names the path. A missing
        ``manifest.json`` is allowed (inputs are then not compared for it).
    """
    path = Path(path)
    if not path.exists():
        raise ResultSetError(f"{path} is not a result set: no such folder")
    if not path.is_dir():
        raise ResultSetError(f"{path} is not a result set: it is a file, not a folder")
    if not (path / "summary.json").exists():
        if (path / "cases.csv").exists():
            raise ResultSetError(f"{path} is a sweep, which compare does not take (it compares plans, stochastic "
                                 f"sets and alternatives); the sweep's cases are compared in {path / 'report.html'} "
                                 f"and {path / 'summary.csv'}")
        raise ResultSetError(f"{path} is not a result set: {path / 'summary.json'} is missing")
    summary = _read_json(path / "summary.json", "the headline figures")
    if "status" not in summary:
        raise ResultSetError(f"{path / 'summary.json'} is corrupt: it has no 'status' key")
    manifest = _read_json(path / "manifest.json", "the manifest") if (path / "manifest.json").exists() else None
    return ResultSetView(label or path.name, path, summary, manifest, set_kind(summary, manifest))


def unique_labels(paths: Sequence[Path]) -> list[str]:
    """Folder names, made unique with `` (2)``, `` (3)`` where a name repeats."""
    out: list[str] = []
    for p in paths:
        base = Path(p).name or str(p)
        label, n = base, 1
        while label in out:
            n += 1
            label = f"{base} ({n})"
        out.append(label)
    return out


# ----------------------------------------------------------------------------
# Headline figures
# ----------------------------------------------------------------------------
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


# ----------------------------------------------------------------------------
# Inputs: file hashes and overrides
# ----------------------------------------------------------------------------
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


# ----------------------------------------------------------------------------
# Printing
# ----------------------------------------------------------------------------
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


def _diff_text(row: pd.Series, unit: str) -> str:
    if row["difference"] is None or (isinstance(row["difference"], float) and math.isnan(row["difference"])):
        return ""
    d = float(row["difference"])
    if d == 0:
        return "="
    shown = display_unit(unit)
    try:
        d = convert(d, unit, shown)
    except (pint.DimensionalityError, pint.UndefinedUnitError, ValueError, AttributeError, TypeError):
        pass
    pct = row["difference_pct"]
    pct_text = "" if pct is None or (isinstance(pct, float) and math.isnan(pct)) else f", {pct:+.1f}%"
    return f"{'+' if d > 0 else ''}{fmt.sig(d, 3)}{pct_text}"


def _shorten(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def headline_rows(headline: pd.DataFrame, views: Sequence[ResultSetView], keys: Sequence[str]) -> list[list[str]]:
    """Rows ``[key, unit, cell per set]``; a cell is the value, then its difference to the first set."""
    rows = []
    by_key = {k: g.set_index("set") for k, g in headline.groupby("key", sort=False)}
    for key in keys:
        g = by_key[key]
        unit = str(g["unit"].iloc[0])
        cells, shown_unit = [], display_unit(unit)
        for i, v in enumerate(views):
            r = g.loc[v.label]
            value = r["text"] if isinstance(r["text"], str) else (None if pd.isna(r["value"]) else float(r["value"]))
            text, shown_unit = display(value, unit) if r["note"] != "missing" else ("missing", shown_unit)
            if not isinstance(value, float):
                text = _shorten(text, 28)
            if r["note"].startswith(("incompatible", "unknown")):
                text = f"{r['value_as_written']} {r['unit_as_written']} (!)"
            elif i > 0 and r["note"] != "missing":
                d = _diff_text(r, unit)
                if d and d != "=":
                    text += f" ({d})"
                elif r["note"] == "differs":
                    text += " (differs)"
            cells.append(text)
        rows.append([key, shown_unit, *cells])
    return rows


def _text_table(header: Sequence[str], rows: Sequence[Sequence[str]], max_width: int = 48) -> str:
    cols = [[_shorten(str(c), max_width) for c in col] for col in zip(header, *rows)]
    widths = [max(len(c) for c in col) for col in cols]
    lines = []
    for i in range(len(rows) + 1):
        lines.append("  ".join(col[i].ljust(w) for col, w in zip(cols, widths)).rstrip())
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _headline_keys(headline: pd.DataFrame, views: Sequence[ResultSetView], every_key: bool) -> list[str]:
    """Keys to print: all, or all but per-year series outside the sets' target years."""
    keys = list(dict.fromkeys(headline["key"]))
    if every_key:
        return keys
    years = {str(v.summary.get("target_year")) for v in views}
    return [k for k in keys if not re.fullmatch(r".+\.\d{4}", k) or k.rsplit(".", 1)[1] in years]


# ----------------------------------------------------------------------------
# Plots
# ----------------------------------------------------------------------------
def write_plots(views: Sequence[ResultSetView], gathered: dict[str, pd.DataFrame], out: Path) -> dict[str, Path]:
    """Side-by-side plots: capacity by vendor per set; capacity, power, energy; cost. Title -> file."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np


    images: dict[str, Path] = {}
    labels = [v.label for v in views]
    colours = plt.get_cmap("tab10")
    with plt.rc_context(PLOT_STYLE):
        cap = gathered.get("capacity_by_vendor")
        if cap is not None and {"vendor", "year", "value"} <= set(cap.columns):
            present = [lab for lab in labels if lab in set(cap["set"])]
            vendors = (cap.groupby("vendor")["value"].sum().sort_values(ascending=False).index.tolist())
            vendor_colour = {v: colour("vendor", str(v)) for v in vendors}
            ncols = min(3, len(present))
            nrows = math.ceil(len(present) / ncols)
            fig, axes = plt.subplots(nrows, ncols, figsize=(4.4 * ncols + 1.6, 3.4 * nrows), sharey=True,
                                     squeeze=False)
            for ax in axes.flat[len(present):]:
                ax.set_visible(False)
            for ax, lab in zip(axes.flat, present):
                wide = cap[cap["set"] == lab].pivot_table(index="year", columns="vendor", values="value",
                                                           aggfunc="sum").reindex(columns=vendors).fillna(0.0)
                ax.stackplot(wide.index, [wide[v].values for v in vendors], colors=[vendor_colour[v] for v in vendors],
                             labels=vendors, alpha=0.92, lw=0)
                view = next(v for v in views if v.label == lab)
                t = view.summary.get("target") or {}
                if t.get("unit") == "GW":
                    ax.axhline(t["value"], color="black", ls="--", lw=0.9)
                ax.set_title(_shorten(lab, 34), loc="left", fontsize=10)
                ax.grid(alpha=0.3)
                ax.set_xlim(wide.index.min(), wide.index.max())
            axes[0][0].set_ylabel("GW of IT power in service")
            handles, names = axes.flat[0].get_legend_handles_labels()
            fig.legend(handles[::-1], names[::-1], loc="center right", frameon=False)
            fig.suptitle("IT capacity in service by chip vendor", x=0.01, ha="left", fontweight="bold", fontsize=11)
            fig.tight_layout(rect=(0, 0, 1 - 1.3 / fig.get_size_inches()[0], 1))
            fig.savefig(out / "capacity_by_vendor.png", dpi=110)
            plt.close(fig)
            images["IT capacity in service by chip vendor, per set"] = out / "capacity_by_vendor.png"

        series = _yearly_series(views, gathered)
        if series:
            titles = [("capacity", "IT capacity in service", "GW"), ("facility_power", "Facility power", "GW"),
                      ("energy", "Facility energy", "TWh per year")]
            titles = [t for t in titles if t[0] in series]
            fig, axes = plt.subplots(1, len(titles), figsize=(4.3 * len(titles) + 0.5, 3.6), squeeze=False)
            for ax, (name, title, unit) in zip(axes[0], titles):
                for i, lab in enumerate(labels):
                    s = series[name].get(lab)
                    if s is not None:
                        ax.plot(s.index, s.values, marker="o", ms=3, lw=1.6, color=colours(i % 10),
                                label=_shorten(lab, 30), ls="-" if i == 0 else ("--" if i % 2 else "-."))
                ax.set_title(title, loc="left")
                ax.set_ylabel(unit)
                ax.grid(alpha=0.3)
            axes[0][0].legend(frameon=False, fontsize=8)
            fig.tight_layout()
            fig.savefig(out / "power.png", dpi=110)
            plt.close(fig)
            images["Capacity, facility power and energy"] = out / "power.png"

        parts = _cost_parts(views)
        spending = _spending(views, gathered)
        if parts is not None or spending:
            n = (parts is not None) + bool(spending)
            fig, axes = plt.subplots(1, n, figsize=(6.0 * n, 3.8), squeeze=False)
            k = 0
            if parts is not None:
                ax = axes[0][k]
                k += 1
                bottom = np.zeros(len(parts.index))
                for j, part in enumerate(parts.columns):
                    vals = parts[part].values / 1e12
                    ax.bar(range(len(parts.index)), vals, bottom=bottom, label=str(part),
                           color=plt.get_cmap("tab10")(j % 10))
                    bottom += vals
                ax.set_xticks(range(len(parts.index)), [_shorten(x, 18) for x in parts.index], rotation=20,
                              ha="right", fontsize=8)
                ax.set_ylabel("trillion USD (discounted)")
                ax.set_title("Total discounted cost by part", loc="left")
                ax.set_ylim(0, max(float(bottom.max()), 1e-9) * 1.3)
                ax.legend(frameon=False, fontsize=8, ncol=min(4, len(parts.columns)), loc="upper left")
                ax.grid(alpha=0.3, axis="y")
            if spending:
                ax = axes[0][k]
                for i, lab in enumerate(labels):
                    s = spending.get(lab)
                    if s is not None:
                        ax.plot(s.index, s.values / 1e9, marker="o", ms=3, lw=1.6, color=colours(i % 10),
                                label=_shorten(lab, 30))
                ax.set_ylabel("billion USD per year")
                ax.set_title("Cash spent per year", loc="left")
                ax.legend(frameon=False, fontsize=8)
                ax.grid(alpha=0.3)
            fig.tight_layout()
            fig.savefig(out / "cost.png", dpi=110)
            plt.close(fig)
            images["Cost"] = out / "cost.png"
    return images


def _yearly_series(views: Sequence[ResultSetView],
                   gathered: dict[str, pd.DataFrame]) -> dict[str, dict[str, pd.Series]]:
    """Per set, per year: capacity in service (GW), facility power (GW), energy (TWh)."""
    out: dict[str, dict[str, pd.Series]] = {}
    for v in views:
        cap = v.summary.get("capacity_in_service")
        if isinstance(cap, dict) and cap:
            try:
                out.setdefault("capacity", {})[v.label] = pd.Series(
                    {int(y): convert(float(f["value"]), f["unit"], "GW") for y, f in cap.items()}).sort_index()
            except (KeyError, TypeError, ValueError, pint.DimensionalityError, pint.UndefinedUnitError):
                pass
    pw = gathered.get("power")
    if pw is not None and {"set", "year", "variable", "value", "unit"} <= set(pw.columns):
        for name, unit in (("facility_power", "GW"), ("energy", "TWh")):
            sub = pw[pw["variable"] == name]
            for lab, g in sub.groupby("set"):
                try:
                    vals = [convert(float(x), u, unit) for x, u in zip(g["value"], g["unit"])]
                except (pint.DimensionalityError, pint.UndefinedUnitError, ValueError):
                    continue
                out.setdefault(name, {})[str(lab)] = pd.Series(vals, index=g["year"].values).groupby(level=0).sum()
    return out


def _cost_parts(views: Sequence[ResultSetView]) -> pd.DataFrame | None:
    """Discounted cost by part (USD), sets as rows, parts as columns; from each summary's ``cost_by_part``."""
    rows = {}
    for v in views:
        parts = v.summary.get("cost_by_part")
        if isinstance(parts, dict) and parts:
            try:
                rows[v.label] = {p: convert(float(f["value"]), f["unit"], "USD") for p, f in parts.items()}
            except (KeyError, TypeError, ValueError, pint.DimensionalityError, pint.UndefinedUnitError):
                continue
    if not rows:
        return None
    return pd.DataFrame.from_dict(rows, orient="index").fillna(0.0)


def _spending(views: Sequence[ResultSetView], gathered: dict[str, pd.DataFrame]) -> dict[str, pd.Series]:
    out = {}
    for v in views:
        sp = v.summary.get("spending")
        if isinstance(sp, dict) and sp:
            try:
                out[v.label] = pd.Series({int(y): convert(float(f["value"]), f["unit"], "USD")
                                          for y, f in sp.items()}).sort_index()
            except (KeyError, TypeError, ValueError, pint.DimensionalityError, pint.UndefinedUnitError):
                continue
    return out


# ----------------------------------------------------------------------------
# compare.html
# ----------------------------------------------------------------------------
# ----------------------------------------------------------------------------
# The command
# ----------------------------------------------------------------------------
def ensure_free(root: Path, name: str) -> Path:
    """The comparison set's path; refuse a name that is not one plain folder name, or that exists."""
    return _ensure_free(root, name, what="comparison set", option="--out")


def default_name(labels: Sequence[str], now: _dt.datetime | None = None) -> str:
    """``compare_<A>_vs_<B>_<timestamp>`` (or ``compare_<n>sets_<timestamp>`` when that gets long)."""
    now = now or _dt.datetime.now()
    joined = "_vs_".join(re.sub(r"[^A-Za-z0-9._@+-]+", "-", lab) for lab in labels)
    stem = f"compare_{joined}" if len(joined) <= 80 else f"compare_{len(labels)}sets"
    return f"{stem}_{now.strftime('%Y%m%dT%H%M%S')}"


def write_comparison(root: Path, name: str, views: Sequence[ResultSetView], argv: Sequence[str],
                     every_key: bool = False, plots: bool = True) -> Path:
    """Write the comparison set ``root/name`` atomically (temporary folder, then rename).

    Raises
    ------
    ResultSetError
        If ``root/name`` exists already (before or by the time of the rename): nothing is overwritten.
    """
    final = ensure_free(root, name)
    headline = compare_figures(views)
    files, overrides = compare_input_files(views), compare_overrides(views)
    missing, binding = missing_keys(views, headline), compare_binding(views)
    gathered = gather_tables(views)
    with new_result_dir(root, name, what="comparison set", option="--out") as tmp:
        (tmp / "tables").mkdir()
        for tname, df in {"headline": headline, "inputs": files, "overrides": overrides, "missing": missing,
                          "binding": binding, **gathered}.items():
            df.to_csv(tmp / "tables" / f"{tname}.csv", index=False)
        images: dict[str, Path] = {}
        if plots:
            (tmp / "plots").mkdir()
            images = write_plots(views, gathered, tmp / "plots")
        manifest = {
            "tool": "compute-energy-plan", "version": __version__, "kind": "comparison",
            "created": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
            "command_line": list(argv),
            "sets": [{"label": v.label, "path": str(v.path), "status": v.status, "version": v.version,
                      "scenario": v.summary.get("scenario"), "created": (v.manifest or {}).get("created")}
                     for v in views],
            "reference": views[0].label,
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str) + "\n")
        pages.write("compare", tmp, "compare.html")
    return final


def report_text(views: Sequence[ResultSetView], headline: pd.DataFrame, files: pd.DataFrame,
                overrides: pd.DataFrame, missing: pd.DataFrame, every_key: bool = False) -> str:
    """The comparison as the terminal shows it."""
    labels = [v.label for v in views]
    note = kinds_note(views)
    out = [f"Note: {note}.", ""] if note else []
    out.append(f"Comparing {len(views)} result sets; differences are relative to the first, '{labels[0]}':")
    out.append(_text_table(["set", "kind", "status", "scenario", "folder"],
                           [[v.label, v.kind, v.status, str(v.summary.get("scenario", "")), str(v.path)]
                            for v in views], max_width=70))
    keys = _headline_keys(headline, views, every_key)
    diff = set(differing_keys(headline))
    out.append("")
    if not diff:
        out.append("Headline figures: no differences (every figure is the same in every set)." if not note else
                   "Headline figures they share: no differences.")
    else:
        out.append(f"Headline figures ({len([k for k in keys if k in diff])} of {len(keys)} differ; "
                   "value, then (difference, %) to the first set):")
    out.append(_text_table(["key", "unit", *[_shorten(lab, 30) for lab in labels]],
                           headline_rows(headline, views, keys), max_width=44))
    flagged = headline[headline["note"].fillna("").str.match(r"^(incompatible|unknown|converted)")]
    if not flagged.empty:
        out.append("\nUnits:")
        out += [f"  - {r.key} in {r.set}: {r.note}" for r in flagged.itertuples()]
    if not missing.empty:
        out.append("\nKeys missing from some sets:")
        for (lab, reason), g in missing.groupby(["set", "reason"], sort=False):
            out.append(f"  - {lab} lacks {', '.join(g['key'])}: {reason}")
    out.append("")
    if files.empty:
        out.append("Input files: no set records their sha256 (no manifest.json).")
    else:
        dif = files[files["differs"]]
        if dif.empty:
            out.append("Input files: identical in every set (same sha256).")
        else:
            wide = dif.pivot(index="file", columns="set", values="sha256").reindex(columns=labels)
            out.append("Input files that differ (sha256, first 12 hex digits; '—' = not used):")
            out.append(_text_table(["file", *[_shorten(lab, 30) for lab in labels]],
                                   [[f, *[("—" if h in ("absent", "unknown") else str(h)[:12]) for h in vals]]
                                    for f, vals in wide.iterrows()]))
    dif_over = overrides[overrides["differs"]] if not overrides.empty else overrides
    if not dif_over.empty:
        wide = dif_over.pivot(index="key", columns="set", values="value").reindex(columns=labels)
        units = dif_over.sort_values("unit", ascending=False).drop_duplicates("key").set_index("key")["unit"]
        out.append("\nOverrides that differ (scenario files and --set; key, value in each set, unit):")
        out.append(_text_table(["key", "unit", *[_shorten(lab, 30) for lab in labels]],
                               [[k, units[k], *[str(x) for x in wide.loc[k]]] for k in dict.fromkeys(dif_over["key"])],
                               max_width=80))
    elif not overrides.empty:
        out.append("\nOverrides: the same in every set.")
    elif any(v.manifest is not None for v in views):
        out.append("\nOverrides: none in any set (all use the base data).")
    return "\n".join(out)


def parser() -> argparse.ArgumentParser:
    from model.cli_common import ArgumentParser  # says 'did you mean' for a mistyped option

    p = ArgumentParser(prog="run.py compare",
                                description="Compare result sets side by side: headline figures with units and "
                                            "differences, the inputs that differ, plots and compare.html.")
    p.add_argument("sets", nargs="+", type=Path, metavar="RESULT_SET",
                   help="result set folders (two or more); differences are relative to the first")
    p.add_argument("--out", help="name of the comparison set under --results (default compare_A_vs_B_<time>)")
    p.add_argument("--results", type=Path, default=Path("results"),
                   help="folder the comparison set is written to (default results/)")
    p.add_argument("--all", dest="every_key", action="store_true",
                   help="print every headline key (default: per-year series only at the target year)")
    p.add_argument("--no-plots", action="store_true", help="skip the plots (faster)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """``run.py compare``: returns 0 when compared, 2 for bad usage or a missing or corrupt result set."""
    argv = list(sys.argv[1:] if argv is None else argv)
    p = parser()
    try:
        a = p.parse_args(argv)
    except SystemExit as exc:  # argparse has printed the problem
        return EXIT_OK if exc.code == 0 else EXIT_INPUT
    if len(a.sets) < 2:
        print("error: compare needs two or more result sets (give the same one twice to check it against "
              "itself)", file=sys.stderr)
        return EXIT_INPUT
    try:
        views = [open_result_set(path, label) for path, label in zip(a.sets, unique_labels(a.sets))]
    except ResultSetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    name = a.out or default_name([v.label for v in views])
    try:
        ensure_free(a.results, name)
        headline = compare_figures(views)
        files, overrides = compare_input_files(views), compare_overrides(views)
        print(report_text(views, headline, files, overrides, missing_keys(views, headline), a.every_key))
        path = write_comparison(a.results, name, views, ["run.py", "compare", *argv], a.every_key,
                                plots=not a.no_plots)
    except ResultSetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    print(f"\nComparison set: {path}  (open {path / 'compare.html'})")
    return EXIT_OK
