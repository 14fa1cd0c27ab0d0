"""Pages rendered from a result set on disk: one module per kind of set, one Jinja2 environment.

Each page module has ``render(set_dir: Path) -> str`` that reads only what
the set wrote (``summary.json``, ``manifest.json``, ``tables/*.csv``,
``plots/*.png``, the sweep's CSV files) and returns one self-contained HTML
page: styles inline, images as ``data:`` URIs, no scripts, no network.

Every page opens with a verdict sentence in words, then the three to six
figures that matter, then pictures, then detail; provenance goes last. Numbers
go through :mod:`model.fmt`, colours through :mod:`model.colours`.

:func:`write` renders and writes a page in one line, which is how the
writers (``report``, ``compare``, ``sweep``, ``stochastic``,
``alternatives``) call it.
"""
from __future__ import annotations

import base64
import importlib
import json
import math
import re
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape

from model import charts, fmt
from model.names import humaniser, project_names, read_names_csv

KINDS = ("plan", "compare", "sweep", "stochastic", "alternatives")
PROJECT_INPUTS = Path(__file__).resolve().parent.parent.parent / "inputs"
_TAG = re.compile(r"(<[^>]*>)")
_URL = re.compile(r"(https?://[^\s<>\"')]+)")
#: Status -> (headline word, colour of its badge).
STATUS_STYLE = {
    "optimal": ("Target met", "#1a7f37"),
    "target_missed": ("Target missed", "#b35900"),
    "commitment_missed": ("Target held; a deal minimum or tranche missed", "#b35900"),
    "infeasible": ("Inputs contradict each other", "#b42318"),
    "time_limit": ("Solver stopped at its time limit", "#b42318"),
    "solver_error": ("Solver failed", "#b42318"),
    "unbounded": ("Unbounded", "#b42318"),
}
#: Sizes in points for charts about 9 inches wide at 110 dpi, shown at most 740 px wide in an 800 px window:
#: 10.5 pt shows at 12 px there (``model.charts`` raises any smaller text of a wider chart to 11.5 px).
PLOT_STYLE = {"axes.spines.top": False, "axes.spines.right": False, "axes.titlesize": 13,
              "axes.titleweight": "bold", "axes.labelsize": 11, "xtick.labelsize": 10.5, "ytick.labelsize": 10.5,
              "legend.fontsize": 10.5, "font.size": 11}


def environment() -> Environment:
    """The one Jinja2 environment: templates from ``model/templates``, autoescaped, strict."""
    from jinja2 import StrictUndefined

    env = Environment(loader=PackageLoader("model", "templates"), autoescape=select_autoescape(["html", "j2"]),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(q=fmt.quantity, fig=fmt.figure, pct=fmt.percent, autolink=autolink)
    env.globals.update(status_style=STATUS_STYLE)
    return env


def render_template(name: str, **context: Any) -> str:
    css = (Path(__file__).resolve().parent.parent / "templates" / "style.css").read_text()
    return environment().get_template(name).render(css=Markup(css), **context)


def render(kind: str, set_dir: Path, manifest: Mapping[str, Any] | None = None) -> str:
    """The page of a set of ``kind`` (one of :data:`KINDS`).

    ``manifest`` stands in for ``manifest.json`` while a writer has not written it yet.
    """
    html = importlib.import_module(f"model.pages.{kind}").render(Path(set_dir), manifest)
    return humanise_html(html, names_of(Path(set_dir), manifest_of(Path(set_dir), manifest)))


def write(kind: str, set_dir: Path, filename: str = "report.html", manifest: Mapping[str, Any] | None = None) -> Path:
    """Render the page of ``set_dir`` and write it there; returns the file."""
    out = Path(set_dir) / filename
    out.write_text(render(kind, set_dir, manifest), encoding="utf-8")
    return out


def manifest_of(set_dir: Path, manifest: Mapping[str, Any] | None) -> dict[str, Any]:
    """The set's ``manifest.json``, or the one a writer passed before writing it."""
    on_disk = read_json(Path(set_dir) / "manifest.json")
    return dict(on_disk or manifest or {})


# ----------------------------------------------------------------------------
# Reading a set
# ----------------------------------------------------------------------------
def read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return {}


def read_csv(path: Path):
    import pandas as pd

    try:
        return pd.read_csv(path) if Path(path).exists() else None
    except (OSError, ValueError, pd.errors.ParserError):
        return None


def names_of(set_dir: Path, manifest: Mapping[str, Any] | None = None) -> dict[str, dict[str, str]]:
    """Display names by kind and id (:mod:`model.names`): the set's ``tables/names.csv``, else the inputs
    folder it ran on (its ``display_names.csv``, vendors and hosts), else the project's."""
    out: dict[str, dict[str, str]] = {"vendor": {}, "host": {}, "region": {}}
    f = Path(set_dir) / "tables" / "names.csv"
    if f.exists():
        for kind, table_ in read_names_csv(f).items():
            out.setdefault(kind, {}).update(table_)
        if len(out) > 3:            # a set written before display_names.csv: add the project's other kinds
            return out
    manifest = manifest or {}
    for other in manifest.get("sets") or []:          # a comparison: the names each of its sets wrote
        for kind, table_ in read_names_csv(Path(str(other.get("path", ""))) / "tables" / "names.csv").items():
            for key, text in table_.items():
                out.setdefault(kind, {}).setdefault(key, text)
    for folder in _input_folders(manifest) + [PROJECT_INPUTS]:
        for kind, table_ in project_names(folder).items():
            have = out.setdefault(kind, {})
            for key, text in table_.items():
                if have.get(key, key) == key:       # an id named by itself (an older set's region) gets its name
                    have[key] = text
    return out


def _input_folders(manifest: Mapping[str, Any]) -> list[Path]:
    """The inputs folder a set ran on: its manifest's ``inputs_dir``, else ``--inputs`` of its command line."""
    out = [Path(str(manifest["inputs_dir"]))] if manifest.get("inputs_dir") else []
    cmd = [str(a) for a in manifest.get("command_line") or []]
    for i, arg in enumerate(cmd):
        if arg == "--inputs" and i + 1 < len(cmd):
            out.append(Path(cmd[i + 1]))
        elif arg.startswith("--inputs="):
            out.append(Path(arg.split("=", 1)[1]))
    return [p for p in out if p.is_dir()]


def humanise_html(html: str, names: Mapping[str, Mapping[str, str]]) -> str:
    """``html`` with display names in place of ids in its text (not in tags, styles or ``<code>``)."""
    words = humaniser(names)
    parts = _TAG.split(html)
    out, skip = [], 0
    for i, part in enumerate(parts):
        if i % 2:                                   # a tag
            m = re.match(r"<(/?)(style|script|code)\b", part, re.I)
            if m:
                skip += -1 if m.group(1) else 1
            out.append(part)
        else:
            out.append(part if skip > 0 else words(part))
    return "".join(out)


# ----------------------------------------------------------------------------
# Pieces of a page
# ----------------------------------------------------------------------------
def autolink(text: Any) -> Markup:
    """Escape ``text`` and turn the URLs in it into links."""
    parts = _URL.split(str(text))
    return Markup("".join(f"<a href='{escape(p)}'>{escape(p)}</a>" if i % 2 else str(escape(p))
                          for i, p in enumerate(parts)))


def source_cell(text: Any) -> Any:
    """A table cell for a source: its URLs as links, its numbers as a person reads them, nothing for no source."""
    return autolink(fmt.plain_numbers(text)) if text else ""


def data_uri(png: bytes | Path) -> str:
    data = png if isinstance(png, bytes) else Path(png).read_bytes()
    return "data:image/png;base64," + base64.b64encode(data).decode()


def image(png: bytes | Path | None, alt: str, caption: str = "") -> dict[str, str] | None:
    """A picture for the templates' ``figure`` macro (``None`` when there is no file)."""
    if png is None or (isinstance(png, Path) and not png.exists()):
        return None
    return {"src": data_uri(png), "alt": alt, "caption": caption}


def save_figure(fig, set_dir: Path | None, name: str) -> bytes:
    """PNG bytes of a matplotlib figure; also kept as ``plots/NAME`` when the set has a plots folder."""
    data = charts.png_bytes(fig)
    if set_dir is not None and (Path(set_dir) / "plots").is_dir():
        try:
            (Path(set_dir) / "plots" / name).write_bytes(data)
        except OSError:
            pass
    return data


def table(header: Sequence[str], rows: Iterable[Sequence[Any]], numeric: Iterable[int] = (),
          row_class: Sequence[str] | None = None, cell_class: Mapping[tuple[int, int], str] | None = None,
          caption: str = "") -> dict[str, Any]:
    """A table for the templates' ``table`` macro; cells are escaped unless they are :class:`Markup`."""
    numeric = set(numeric)
    cell_class = dict(cell_class or {})
    body = []
    for r, row in enumerate(rows):
        cells = []
        for i, c in enumerate(row):
            cls = " ".join(x for x in ("num" if i in numeric else "", cell_class.get((r, i), "")) if x)
            cells.append({"text": c, "cls": cls})
        body.append({"cls": (row_class[r] if row_class and r < len(row_class) else ""), "cells": cells})
    return {"header": [{"text": h, "cls": "num" if i in numeric else ""} for i, h in enumerate(header)],
            "rows": body, "caption": caption}


def card(label: str, value: str, note: str = "", tone: str = "") -> dict[str, str]:
    return {"label": label, "value": value, "note": note, "tone": tone}


def finite(x: Any) -> bool:
    return fmt.is_number(x) and math.isfinite(float(x))


def timing_words(key: str) -> str:
    """A manifest's timing key in words: ``range_one_at_a_time_s`` -> ``range one at a time``, ``range_cpu`` ->
    ``range CPU``."""
    return " ".join("CPU" if w == "cpu" else w for w in key.removesuffix("_s").split("_") if w)


def provenance_rows(manifest: Mapping[str, Any]) -> list[list[Any]]:
    """Command line, created, versions and timings of a manifest, as rows for a two-column table."""
    rows: list[list[Any]] = []
    if manifest.get("status"):
        rows.append(["status code", Markup("<code>{}</code>").format(manifest["status"])])
    cmd = manifest.get("command_line")
    if cmd:
        rows.append(["command line", Markup("<code>{}</code>").format(" ".join(str(a) for a in cmd))])
    for key, word in (("created", "created"), ("scenario", "scenario"), ("version", "tool version")):
        if manifest.get(key):
            rows.append([word, str(manifest[key])])
    solver = manifest.get("solver") or {}
    if isinstance(solver, dict) and solver.get("name"):
        rows.append(["solver", " ".join(str(solver.get(k, "")) for k in ("name", "version")).strip()])
    timings = manifest.get("timings_s") or {}
    if isinstance(timings, dict) and timings:
        rows.append(["timings", ", ".join(f"{timing_words(k)} {fmt.sig(float(v), 3)} s"
                                          for k, v in timings.items() if finite(v))])
    return rows


def sha_table(hashes: Mapping[str, str]) -> dict[str, Any] | None:
    if not hashes:
        return None
    return table(["file", "sha256"], [[k, Markup("<span class='mono'>{}</span>").format(v)]
                                      for k, v in hashes.items()])


# ----------------------------------------------------------------------------
# Blocks of a section (the ``block`` macro in templates/macros.html draws them)
# ----------------------------------------------------------------------------
def p(text: Any, cls: str = "") -> dict[str, Any]:
    return {"kind": "p", "text": text, "cls": cls}


def h3(text: str) -> dict[str, Any]:
    return {"kind": "h3", "text": text}


def bullets(items: Sequence[Any]) -> dict[str, Any]:
    return {"kind": "list", "items": list(items)}


def cards_block(items: Sequence[dict[str, str]]) -> dict[str, Any]:
    return {"kind": "cards", "items": list(items)}


def table_block(t: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "table", "table": t}


def figure_block(f: dict[str, str] | None) -> dict[str, Any] | None:
    return None if f is None else {"kind": "figure", "figure": f}


def figures_block(fs: Sequence[dict[str, str] | None], one_column: bool = False) -> dict[str, Any] | None:
    items = [f for f in fs if f]
    return {"kind": "figures", "items": items, "one": one_column} if items else None


def details(summary: str, blocks: Sequence[dict[str, Any] | None]) -> dict[str, Any]:
    return {"kind": "details", "summary": summary, "blocks": [b for b in blocks if b]}


def section(id_: str, title: str, blocks: Sequence[dict[str, Any] | None], nav: str | None = None) -> dict[str, Any]:
    return {"id": id_, "title": title, "nav": nav or title, "blocks": [b for b in blocks if b]}


def verdict(word: str, colour: str, sentence: str, more: Sequence[str] = ()) -> dict[str, Any]:
    return {"word": word, "colour": colour, "sentence": sentence, "more": [m for m in more if m]}


def page(template: str, *, title: str, heading: str, subheading: str, verdict: dict[str, Any],
         headline: Sequence[dict[str, str]], sections: Sequence[dict[str, Any]], footer: str) -> str:
    """Render one page of the shared layout (verdict, headline cards, sections, footer).

    The subheading (a scenario's description, as its author typed it) has its numbers written as a person
    reads them: ``300e9 USD`` becomes ``300 billion USD`` (:func:`model.fmt.plain_numbers`).
    """
    return render_template(template, title=title, heading=heading, subheading=fmt.plain_numbers(subheading),
                           verdict=verdict,
                           headline=list(headline), sections=[s for s in sections if s and s["blocks"]],
                           footer=footer)
