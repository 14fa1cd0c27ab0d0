"""``run.py compare``: the comparison set written atomically, and the comparison as the terminal shows it."""
from __future__ import annotations

import argparse
import datetime as _dt
import json
import math
import re
import sys
from pathlib import Path
from typing import Mapping, Sequence

import pandas as pd
import pint

from model import __version__, fmt, pages
from model.compare.figures import (compare_binding, compare_figures, compare_input_files, compare_overrides, convert,
                                   differing_keys, display, display_unit, gather_tables, missing_keys, shorten)
from model.compare.plots import write_plots
from model.compare.sets import ResultSetView, kinds_note, open_result_set, unique_labels
from model.names import name as display_name
from model.pages.compare import MAIN
from model.supply_share import share_rows
from model.errors import ResultSetError
from model.exitcodes import EXIT_INPUT, EXIT_OK
from model.resultdir import ensure_free as _ensure_free
from model.resultdir import new_result_dir


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


def headline_rows(headline: pd.DataFrame, views: Sequence[ResultSetView], keys: Sequence[str],
                  names: Mapping[str, Mapping[str, str]] | None = None) -> list[list[str]]:
    """Rows ``[figure in words, unit, cell per set]``; a cell is the value, then its difference to the first set.

    A figure is named in words with the sets' display names (:func:`model.fmt.label`), never by its key; a share
    (``interest_share``) is shown in %.
    """
    rows = []
    by_key = {k: g.set_index("set") for k, g in headline.groupby("key", sort=False)}
    labels = figure_labels(keys, names)
    for key in keys:
        g = by_key[key]
        unit = str(g["unit"].iloc[0])
        ends = _field_units(key, unit, by_key, views)
        if ends and len(set(ends)) == 1:       # a range's low and high in its figure's unit
            unit, ends = ends[0], None
        share = fmt.is_share_figure(key) and not unit
        cells, shown_unit = [], ("%" if share else display_unit(unit))
        for i, v in enumerate(views):
            r = g.loc[v.label]
            value = r["text"] if isinstance(r["text"], str) else (None if pd.isna(r["value"]) else float(r["value"]))
            text, shown_unit = display(value, unit) if r["note"] != "missing" else ("missing", shown_unit)
            if share and isinstance(value, float):
                text, shown_unit = fmt.percent(value).removesuffix(" %"), "%"
            elif ends and isinstance(value, float):     # ends in different units: each in its own, no difference
                cells.append(fmt.quantity(value, ends[i]))
                continue
            if not isinstance(value, float):
                text = shorten(YES_NO.get(text, text), 28)
            if r["note"].startswith(("incompatible", "unknown")):
                text = f"{fmt.quantity(r['value_as_written'], str(r['unit_as_written']))} (!)"
            elif i > 0 and r["note"] != "missing":
                d = _points_text(r) if share else _diff_text(r, unit)
                if d and d != "=":
                    text += f" ({d})"
                elif r["note"] == "differs":
                    text += " (differs)"
            cells.append(text)
        rows.append([labels[key], shown_unit, *cells])
    return rows


def _field_units(key: str, unit: str, by_key: Mapping[str, pd.DataFrame], views: Sequence[ResultSetView]
                 ) -> list[str] | None:
    """The unit of a figure's ``low``/``high`` field in each set (its figure's, as that set wrote it), when the
    field itself has none (``headline_range.low``); None for any other key."""
    parent, _, field = key.rpartition(".")
    if unit or field not in ("low", "high") or parent not in by_key:
        return None
    g = by_key[parent]
    return [str(g.loc[v.label]["unit_as_written"] or "") if v.label in g.index else "" for v in views]


def figure_words(key: str, names: Mapping[str, Mapping[str, str]] | None = None) -> str:
    """A summary key in running text: ``cost_by_part`` -> ``cost by part``, ``energy`` -> ``energy used``."""
    text = fmt.label(key, names)
    if "." not in key and text[:1].islower():       # a breakdown's own word ("cost"): say what it breaks down
        text = fmt.words(key)
    return text if text.split(" ")[0].isupper() else text[:1].lower() + text[1:]


#: Figures that are yes or no, as the summary writes them.
YES_NO = {"True": "yes", "False": "no"}


def figure_labels(keys: Sequence[str], names: Mapping[str, Mapping[str, str]] | None) -> dict[str, str]:
    """Each key in words (:func:`model.fmt.label`); two keys that read the same say what they break down
    (``AWS capacity (by vendor)``, ``AWS capacity (by host)``)."""
    words = {k: fmt.label(k, names) for k in keys}
    seen: dict[str, int] = {}
    for text in words.values():
        seen[text] = seen.get(text, 0) + 1
    for k, text in words.items():
        if seen[text] > 1 and "." in k:
            parent = k.split(".", 1)[0]
            words[k] = f"{text} (by {parent.split('_by_', 1)[1]})" if "_by_" in parent else \
                f"{text} ({fmt.words(parent).lower()})"
    return words


def _points_text(row: pd.Series) -> str:
    """A share's difference to the first set in percentage points (``+5 points``), '=' when the same."""
    d = row["difference"]
    if d is None or (isinstance(d, float) and math.isnan(d)):
        return ""
    return "=" if float(d) == 0 else f"{'+' if d > 0 else ''}{fmt.sig(100 * float(d), 3)} points"


def _text_table(header: Sequence[str], rows: Sequence[Sequence[str]], max_width: int = 48) -> str:
    cols = [[shorten(str(c), max_width) for c in col] for col in zip(header, *rows)]
    widths = [max(len(c) for c in col) for col in cols]
    lines = []
    for i in range(len(rows) + 1):
        lines.append("  ".join(col[i].ljust(w) for col, w in zip(cols, widths)).rstrip())
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


#: The figures the headline opens with, in this order (a per-year series at the target year): the compare page's.
LEAD = ("status", *MAIN)
#: Keys of the buyer's shares of the world's supply: their own section after the headline (:func:`share_lines`).
SHARES = "supply_share"


def _lead_rank(key: str) -> int:
    """Where a key stands in :data:`LEAD` (a figure or its value in a year); after every lead figure otherwise."""
    base, _, rest = key.partition(".")
    if base in LEAD and (not rest or re.fullmatch(r"\d{4}", rest)):
        return LEAD.index(base)
    return len(LEAD)


def _headline_keys(headline: pd.DataFrame, views: Sequence[ResultSetView], every_key: bool) -> list[str]:
    """Keys to print, the figures that matter first (:data:`LEAD`): all, or all but per-year series outside the
    sets' target years; never the shares of supply (:func:`share_lines` says them after the headline)."""
    keys = [k for k in dict.fromkeys(headline["key"]) if k.split(".", 1)[0] != SHARES]
    if not every_key:
        years = {str(v.summary.get("target_year")) for v in views}
        keys = [k for k in keys if not re.fullmatch(r".+\.\d{4}", k) or k.rsplit(".", 1)[1] in years]
    return sorted(keys, key=_lead_rank)


def share_lines(views: Sequence[ResultSetView], names: Mapping[str, Mapping[str, str]], every_key: bool = False
                ) -> list[str]:
    """The buyer's shares of the world's supply in each set's target year, in % with names: those that differ
    (every one with ``every_key``); one line when they are the same in every set, none when no set has them."""
    per_set = [{(kind, id_): (share, basis) for kind, id_, share, basis in
                share_rows(v.summary, int(v.summary.get("target_year") or 0))} for v in views]
    members = list(dict.fromkeys(k for shares in per_set for k in shares))
    if not members:
        return []
    differ = [k for k in members if len({s.get(k, (None, ""))[0] for s in per_set}) > 1]
    shown = members if every_key else differ
    if not shown:
        return ["", f"Shares of the world's supply: the same in every set ({len(members)} vendors and regions; "
                    "tables/headline.csv has them)."]
    rows = []
    for kind, id_ in shown:
        cells = [fmt.percent(s[(kind, id_)][0]) if (kind, id_) in s else "—" for s in per_set]
        rows.append([f"{display_name(kind, id_, names)} ({'chips' if kind == 'vendor' else 'firm grid power'})",
                     *cells])
    bases = list(dict.fromkeys(b for s in per_set for _, b in s.values()))
    return ["", f"Shares of the world's supply in the target year ({len(differ)} of {len(members)} differ; "
                f"basis: {'; '.join(bases)}):",
            _text_table(["share of", *[shorten(v.label, 30) for v in views]], rows, max_width=60)]


def display_names_of(views: Sequence[ResultSetView]) -> dict[str, dict[str, str]]:
    """The display names the sets wrote (``tables/names.csv``; the project's where a set has none), the first
    set's name winning."""
    out: dict[str, dict[str, str]] = {}
    for v in reversed(views):
        for kind, table_ in pages.names_of(v.path).items():
            out.setdefault(kind, {}).update(table_)
    return out


def ensure_free(root: Path, name: str) -> Path:
    """The comparison set's path; refuse a name that is not one plain folder name, or that exists."""
    return _ensure_free(root, name, what="comparison set", option="--out")


def default_name(labels: Sequence[str], now: _dt.datetime | None = None) -> str:
    """``compare_<A>_vs_<B>_<timestamp>`` (or ``compare_<n>sets_<timestamp>`` when that gets long)."""
    now = now or _dt.datetime.now()
    joined = "_vs_".join(re.sub(r"[^A-Za-z0-9._@+-]+", "-", lab) for lab in labels)
    stem = f"compare_{joined}" if len(joined) <= 80 else f"compare_{len(labels)}sets"
    return f"{stem}_{now.strftime('%Y%m%dT%H%M%S')}"


def files_compared() -> tuple[str, ...]:
    """The files a comparison reads from each source set, as paths inside the set."""
    from model.compare.figures import SET_TABLES

    return ("summary.json", "manifest.json", *(f"tables/{t}.csv" for t in SET_TABLES))


def files_read(folder: Path) -> dict[str, str]:
    """The sha256 of every file a comparison reads from one source set (``summary.json``, ``manifest.json``, the
    tables of :data:`SET_TABLES`), keyed by the path inside the set; ``run.py verify`` says which changed since."""
    import hashlib

    out = {}
    for name in files_compared():
        f = Path(folder) / name
        if f.is_file():
            out[name] = hashlib.sha256(f.read_bytes()).hexdigest()
    return out


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
            "cwd": str(Path.cwd()),
            "sets": [{"label": v.label, "path": str(v.path), "status": v.status, "version": v.version,
                      "scenario": v.summary.get("scenario"), "created": (v.manifest or {}).get("created"),
                      "files_sha256": files_read(v.path)}
                     for v in views],
            "reference": views[0].label,
            "kinds_note": kinds_note(views),
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
    names = display_names_of(views)
    out.append(_text_table(["figure", "unit", *[shorten(lab, 30) for lab in labels]],
                           headline_rows(headline, views, keys, names), max_width=44))
    out += share_lines(views, names, every_key)
    flagged = headline[headline["note"].fillna("").str.match(r"^(incompatible|unknown|converted)")]
    if not flagged.empty:
        out.append("\nUnits:")
        out += [f"  - {figure_words(r.key, names)} in {r.set}: {r.note}" for r in flagged.itertuples()]
    if not missing.empty:
        out.append("\nFigures missing from some sets:")
        for (lab, reason), g in missing.groupby(["set", "reason"], sort=False):
            out.append(f"  - {lab} lacks {', '.join(figure_words(k, names) for k in g['key'])}: {reason}")
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
            out.append(_text_table(["file", *[shorten(lab, 30) for lab in labels]],
                                   [[f, *[("—" if h in ("absent", "unknown") else str(h)[:12]) for h in vals]]
                                    for f, vals in wide.iterrows()]))
    dif_over = overrides[overrides["differs"]] if not overrides.empty else overrides
    if not dif_over.empty:
        wide = dif_over.pivot(index="key", columns="set", values="value").reindex(columns=labels)
        units = dif_over.sort_values("unit", ascending=False).drop_duplicates("key").set_index("key")["unit"]
        out.append("\nOverrides that differ (scenario files and --set; key, value in each set, unit):")
        out.append(_text_table(["key", "unit", *[shorten(lab, 30) for lab in labels]],
                               [[k, units[k], *[fmt.override_value(k, x, str(units[k] or "")) for x in wide.loc[k]]]
                                for k in dict.fromkeys(dif_over["key"])],
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
