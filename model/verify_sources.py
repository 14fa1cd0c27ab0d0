"""A comparison's source sets then and now: which of the files it read changed since it was made.

``run.py compare`` records, for each set it compares, the sha256 of every file it read from it
(``sets[i].files_sha256`` in its manifest: ``summary.json``, ``manifest.json`` and the tables of
:data:`model.compare.figures.SET_TABLES`). ``run.py verify`` redoes the comparison from the sets as they are
now; this module says which of them changed, so that a figure that differs can be traced to its source. The
sources themselves are not re-solved here (``run.py verify --sources`` verifies each).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from model.verify_argv import run_folder
from model.verify_checks import Refused, file_sha256, file_state

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class SourceCheck:
    """One file a comparison read from a source set: ``unchanged``, ``changed``, ``missing`` (gone since),
    ``new`` (appeared since) or ``unrecorded`` (the comparison recorded no hashes for this set)."""

    source: str
    file: str
    state: str
    recorded: str | None
    now: str | None


def _recorded_sets(man: dict[str, Any], count: int, shown: Path) -> list[dict[str, Any]]:
    """The manifest's ``sets``: one record per source set of the command line, each with a ``path``.

    Raises
    ------
    Refused
        Naming ``sets`` when it is not such a list.
    """
    recorded = man.get("sets")
    if not isinstance(recorded, list) or len(recorded) != count or \
            not all(isinstance(r, dict) and isinstance(r.get("path"), str) for r in recorded):
        raise Refused(shown, "sets", f"a list of {count} records with a 'path' (one per set of the command line)",
                      repr(recorded)[:200])
    return recorded


def _recorded_hashes(record: dict[str, Any], i: int, shown: Path) -> dict[str, str] | None:
    """``sets[i].files_sha256``: file inside the set -> sha256, only of files a comparison reads; ``None`` when
    the comparison predates these hashes.

    Raises
    ------
    Refused
        Naming ``sets[i].files_sha256`` for another form, or a file a comparison does not read.
    """
    from model.compare.cli import files_compared

    hashes = record.get("files_sha256")
    if hashes is None:
        return None
    field = f"sets[{i}].files_sha256"
    if not isinstance(hashes, dict) or not all(isinstance(v, str) and _SHA256.match(v) for v in hashes.values()):
        raise Refused(shown, field, "a mapping of file to sha256 (64 hex digits)", repr(hashes)[:200])
    foreign = sorted(k for k in hashes if k not in files_compared())
    if foreign:
        raise Refused(shown, field, "files a comparison reads (" + ", ".join(files_compared()) + ")",
                      repr(foreign[0])[:200])
    return hashes


def compare_sources(man: dict[str, Any], sources: Sequence[Path], result_set: Path) -> list[SourceCheck]:
    """Each file the comparison read from each source set, with its state now.

    ``sources`` are the checked source sets of the re-run (:func:`model.verify_argv.source_sets`), in the order
    of the command line; the manifest's ``sets`` must name the same folders in the same order.

    Raises
    ------
    Refused
        Naming the manifest field (``sets``, ``sets[i].path``, ``sets[i].files_sha256``) that is malformed or
        disagrees with the command line.
    """
    from model.compare.cli import files_compared

    shown = Path(result_set) / "manifest.json"
    base = run_folder(man, result_set)
    out: list[SourceCheck] = []
    for i, (record, source) in enumerate(zip(_recorded_sets(man, len(sources), shown), sources)):
        path = Path(record["path"])
        if (path if path.is_absolute() else base / path).resolve() != Path(source).resolve():
            raise Refused(shown, f"sets[{i}].path", f"the set of its command line ({source})",
                          repr(record["path"])[:200])
        hashes = _recorded_hashes(record, i, shown)
        if hashes is None:
            out.append(SourceCheck(record["path"], "-", "unrecorded", None, None))
            continue
        for name in files_compared():
            then, now = hashes.get(name), file_sha256(Path(source) / name)
            if then is None and now is None:
                continue
            out.append(SourceCheck(record["path"], name, file_state(then, now), then, now))
    return out
