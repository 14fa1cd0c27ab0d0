"""Display names: what a person reads for an id, on every page, in the terminal and in plot labels.

The names live in one input file, ``inputs/display_names.csv`` (``kind,id,name``;
presentation only, so no ``source`` column), read with the loader's
:func:`model.inputs.tables.read_table` so a problem names its file and line.
Vendors and hosts keep their names in ``vendors.csv`` and ``hosts.csv``; this
file names the rest: offers, deals, commitments (dated tranches), regions,
power sources, power kinds and cost parts. A name for an id that no input
defines is refused.

An id the file does not list is shown in words (:func:`in_words`:
``aws_by_2026`` -> ``aws by 2026``), never with its underscores.
:func:`humanise` puts the names into free text (a binding limit's label, a
solver sentence), so text written before the names were known still reads.
"""
from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any, Iterable, Mapping

from model.errors import InputError, InputErrors
from model.inputs.tables import POWER_KINDS, FileSchema, RawTable, read_table

FILE = "display_names.csv"
PROJECT_INPUTS = Path(__file__).resolve().parent.parent / "inputs"
SCHEMA = FileSchema(FILE, ("kind", "id", "name"), ("kind", "id"), optional=())
#: Kinds of the file and where their ids are defined (input file and its key column).
DEFINED_IN = {"offer": ("offers.csv", "offer"), "deal": ("deals.csv", "deal"),
              "commitment": ("commitments.csv", "commitment"), "region": ("regions.csv", "region"),
              "power_source": ("power_sources.csv", "power_source")}
#: The cost parts of the objective (``model.concerns.costs.PARTS``; a test holds the two equal).
COST_PARTS = ("capital", "lease", "fixed", "energy", "power", "financing", "after_horizon")
KINDS = (*DEFINED_IN, "power_kind", "cost_part")
#: Names of a vendor and a host come from their own files (``vendors.csv``, ``hosts.csv``).
ENTITY_NAMES = {"vendor": ("vendors.csv", "vendor"), "host": ("hosts.csv", "host")}

Names = dict[str, dict[str, str]]


def in_words(id_: str) -> str:
    """An id no file names, in words: separators become spaces.

    >>> in_words("aws_by_2026"), in_words("nuclear-other"), in_words("US-Texas")
    ('aws by 2026', 'nuclear other', 'US Texas')
    """
    return re.sub(r"[_\-]+", " ", str(id_)).strip()


def _ids(tables: Mapping[str, RawTable], file: str, column: str) -> set[str]:
    table = tables.get(file)
    return {r.get(column) for r in table.rows if r.get(column)} if table is not None else set()


def defined_ids(tables: Mapping[str, RawTable]) -> dict[str, set[str]]:
    """Every id a display name may name, by kind, from the raw input tables."""
    out = {kind: _ids(tables, file, col) for kind, (file, col) in DEFINED_IN.items()}
    out["power_kind"] = set(POWER_KINDS)
    out["cost_part"] = set(COST_PARTS)
    return out


def check_display_names(inputs_dir: Path, tables: Mapping[str, RawTable], errors: list[InputError]) -> Names:
    """Read ``display_names.csv`` of ``inputs_dir`` (it may be absent) and check it against the other inputs.

    Each problem (an unknown kind, an id no input defines, an empty name, a
    repeated id) is appended to ``errors`` with the file and line. Returns
    ``{kind: {id: name}}``: the file's names, every other id of ``tables``
    in words (:func:`in_words`), and the vendor and host names of ``tables``.
    """
    out: Names = {kind: {} for kind in KINDS}
    for kind, (file, col) in ENTITY_NAMES.items():
        table = tables.get(file)
        out[kind] = {r.get(col): r.get("name") for r in table.rows if r.get(col)} if table is not None else {}
    ids = defined_ids(tables)
    path = Path(inputs_dir) / FILE
    table = read_table(path, SCHEMA, errors) if path.exists() else None
    rows = table.rows if table is not None else ()
    seen: dict[tuple[str, str], int | str] = {}
    for row in rows:
        kind, id_, name = row.get("kind"), row.get("id"), row.get("name")
        if kind not in ids:
            errors.append(InputError(row.file, row.row, "kind", f"one of {', '.join(KINDS)}", repr(kind)))
            continue
        if id_ not in ids[kind]:
            where = DEFINED_IN.get(kind, ("the model", ""))[0]
            known = ", ".join(sorted(ids[kind])[:12]) + (", ..." if len(ids[kind]) > 12 else "")
            errors.append(InputError(row.file, row.row, "id", f"a {kind} defined in {where} (one of {known})",
                                     repr(id_)))
            continue
        if not name:
            errors.append(InputError(row.file, row.row, "name", "a display name", "an empty cell"))
            continue
        if (kind, id_) in seen:
            errors.append(InputError(row.file, row.row, "id", f"one row per {kind} (first on line {seen[kind, id_]})",
                                     f"{id_!r} again"))
            continue
        seen[(kind, id_)] = row.row
        out[kind][id_] = name
    for kind, defined in ids.items():          # every other id in words, so no page shows it raw
        for id_ in defined:
            out[kind].setdefault(id_, in_words(id_))
    return out


def read_display_names(inputs_dir: Path) -> Names:
    """The display names of an inputs folder, checked against its tables; every problem at once.

    Raises
    ------
    InputErrors
        A row of ``display_names.csv`` with an unknown kind or id, or no name.
    """
    from model.inputs.tables import SCHEMAS

    errors: list[InputError] = []
    tables = {}
    for file in {f for f, _ in (*DEFINED_IN.values(), *ENTITY_NAMES.values())}:
        path = Path(inputs_dir) / file
        if path.exists():
            t = read_table(path, SCHEMAS[file], errors)
            if t is not None:
                tables[file] = t
    out = check_display_names(Path(inputs_dir), tables, errors)
    if errors:
        raise InputErrors(errors)
    return out


def name(kind: str, id_: str, names: Mapping[str, Mapping[str, str]] | None) -> str:
    """The display name of one id (its words when no name is given)."""
    got = (names or {}).get(kind, {}).get(str(id_))
    return got if got else in_words(id_)


def scenario_names(s: Any) -> Names:
    """Display names of a :class:`model.records.Scenario` by kind and id (its ``display_names``, with its
    vendor and host names)."""
    out = {kind: dict(table) for kind, table in (getattr(s, "display_names", None) or {}).items()}
    for kind, attr in (("vendor", "vendors"), ("host", "hosts")):
        have = out.setdefault(kind, {})
        for key, text in (getattr(s, attr, None) or {}).items():
            have.setdefault(key, text)
    out.setdefault("region", {})
    return out


def write_names_csv(path: Path, names: Mapping[str, Mapping[str, str]]) -> Path:
    """``kind,id,name`` rows of every name (a result set's ``tables/names.csv``)."""
    with Path(path).open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["kind", "id", "name"])
        for kind, table in names.items():
            for key, text in table.items():
                w.writerow([kind, key, text])
    return Path(path)


def read_names_csv(path: Path) -> Names:
    """The names a result set wrote (``tables/names.csv``); none when the file is absent."""
    out: Names = {}
    path = Path(path)
    if not path.exists():
        return out
    with path.open(newline="") as f:
        for row in csv.DictReader(f):
            if row.get("kind") and row.get("id"):
                out.setdefault(row["kind"], {})[row["id"]] = row.get("name") or in_words(row["id"])
    return out


#: Kinds whose ids are replaced in free text only when they carry a separator (``grid``, ``energy`` and
#: ``capital`` are also plain words).
_WORDLIKE = ("power_kind", "cost_part")


#: Which kind's name an id takes in free text when two kinds share it (``coreweave`` is a host and a deal).
_PRIORITY = ("vendor", "host", "region", "power_source", "offer", "commitment", "deal", "power_kind", "cost_part")


def replacements(names: Mapping[str, Mapping[str, str]], extra_ids: Iterable[str] = ()) -> dict[str, str]:
    """``{id: name}`` of the ids :func:`humaniser` replaces in free text (the live page gets the same table)."""
    out: dict[str, str] = {}
    kinds = sorted(names, key=lambda k: _PRIORITY.index(k) if k in _PRIORITY else len(_PRIORITY))
    for kind in kinds:
        for id_, text in names[kind].items():
            if not id_ or id_ == text:
                continue
            separated = bool(re.search(r"[_\-]", id_))
            lower_word = kind not in _WORDLIKE and id_.islower() and len(id_) > 2
            if separated or lower_word:
                out.setdefault(id_, text)
    for id_ in extra_ids:
        if re.search(r"[_\-]", str(id_)) and id_ not in out:
            out[str(id_)] = in_words(id_)
    return out


def humaniser(names: Mapping[str, Mapping[str, str]], extra_ids: Iterable[str] = ()):
    """A function ``text -> text`` that puts the display names in place of the ids in ``names``.

    An id is replaced only as a whole token (not inside a longer id or word):

    >>> h = humaniser({"deal": {"amd_instinct": "AMD Instinct deal"}, "vendor": {"amd": "AMD"}})
    >>> h("AMD deal minimum (amd_instinct, 2026-2030); amd supply")
    'AMD deal minimum (AMD Instinct deal, 2026-2030); AMD supply'
    """
    table = replacements(names, extra_ids)
    if not table:
        return lambda text: text
    pattern = re.compile(r"(?<![\w\-.=/])(" + "|".join(re.escape(k) for k in sorted(table, key=len, reverse=True))
                         + r")(?![\w\-])")
    return lambda text: pattern.sub(lambda m: table[m.group(1)], str(text))


def humanise(text: str, names: Mapping[str, Mapping[str, str]]) -> str:
    """``text`` with the display names in place of the ids (see :func:`humaniser`)."""
    return humaniser(names)(text)


def project_names(inputs_dir: Path | None = None) -> Names:
    """The names of an inputs folder (the project's by default); none when they cannot be read."""
    try:
        return read_display_names(Path(inputs_dir or PROJECT_INPUTS))
    except InputErrors:
        return {}

