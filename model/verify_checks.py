"""``run.py verify``'s refusals: a manifest's JSON bounded before parsing, and its kind matched with its set; and a
recorded file's sha256 then and now (input files of a run, files a comparison read from its sources).

Kept apart from :mod:`model.verify` (the re-run and the comparison) so that each stays one screenful of concern.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any


class Refused(ValueError):
    """The manifest asks for something verify does not re-run; the message names the manifest field."""

    def __init__(self, manifest: Path | str, field: str, expected: str, found: str) -> None:
        super().__init__(manifest, field, expected, found)
        self.manifest, self.field, self.expected, self.found = str(manifest), field, expected, found

    def __str__(self) -> str:
        return f"{self.manifest}, field '{self.field}': expected {self.expected}, found {self.found}"


#: Largest manifest or summary read (bytes; a stochastic set of 10,000 futures writes a few MB) and deepest nesting.
MAX_JSON_BYTES = 32 * 1024 * 1024
MAX_JSON_DEPTH = 64


def json_depth(text: str) -> int:
    """How deep ``[`` and ``{`` nest in a JSON text (strings ignored), in time linear in its length."""
    import re

    import numpy as np

    brackets = re.sub(r"[^\[\]{}]", "", re.sub(r'"(?:[^"\\]|\\.)*"', "", text))
    if not brackets:
        return 0
    b = np.frombuffer(brackets.encode("ascii"), dtype=np.uint8)
    step = np.where((b == ord("[")) | (b == ord("{")), 1, -1)
    return int(np.cumsum(step).max())


def read_json(path: Path) -> dict[str, Any]:
    """A result set's JSON file, refused (ValueError) when missing, too large, too deep or not an object."""
    try:
        size = path.stat().st_size
        if size > MAX_JSON_BYTES:
            raise ValueError(f"{path}: expected at most {MAX_JSON_BYTES} bytes, found {size}")
        text = path.read_text(encoding="utf-8")
        depth = json_depth(text)
        if depth > MAX_JSON_DEPTH:
            raise ValueError(f"{path}: expected JSON nested at most {MAX_JSON_DEPTH} deep, found {depth}")
        doc = json.loads(text)
    except FileNotFoundError:
        raise ValueError(f"{path.parent} is not a result set: {path.name} is missing") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ValueError(f"{path} cannot be read: {type(exc).__name__}: {str(exc)[:200]}") from None
    if not isinstance(doc, dict):
        raise ValueError(f"{path} is not a JSON object")
    return doc


#: What each kind of set holds that the others do not (its own evidence of its kind).
_KIND_FILES = {"stochastic": "tables/futures.csv", "alternatives": "tables/mix.csv", "world": "tables/buyers.csv",
               "sweep": "status.csv", "run": "solution.nc", "compare": "tables/headline.csv",
               "world-sweep": "cases.csv"}
#: Command kinds that write another kind's layout (a replan writes a plan), and what their manifest says they are.
_SET_OF = {"replan": "run"}
_MANIFEST_KIND = {"run": "plan", "replan": "plan", "world": "world", "world-sweep": "world-sweep",
                  "compare": "comparison"}


def check_kind(man: dict[str, Any], kind: str, result_set: Path) -> None:
    """Refuse a manifest whose kind (``command``, the command line) does not match the set's own files.

    Raises
    ------
    Refused
        Naming ``command`` or ``command_line``, the kind claimed and the kind the set's files show.
    """
    shown = Path(result_set) / "manifest.json"
    claimed = man.get("command")
    if claimed is not None and claimed != kind:
        raise Refused(shown, "command", f"the kind of its command line ({kind})", repr(claimed)[:60])
    said = man.get("kind")
    if said is not None and (kind in _MANIFEST_KIND or said in _MANIFEST_KIND.values()) \
            and said != _MANIFEST_KIND.get(kind):
        expected = f"'{_MANIFEST_KIND[kind]}'" if kind in _MANIFEST_KIND else "no other command's kind"
        raise Refused(shown, "kind", f"{expected}, the kind of its command line ({kind})", repr(said)[:60])
    if ("replan" in man) != (kind == "replan"):
        raise Refused(shown, "replan" if "replan" in man else "command_line",
                      "a 'replan' record exactly when the command line is a replan",
                      f"a {kind} command line" + (" with" if "replan" in man else " without") + " one")
    set_kind = _SET_OF.get(kind, kind)
    held = [k for k, f in _KIND_FILES.items() if (Path(result_set) / f).is_file()]    # most telling first
    if held and set_kind != held[0]:
        raise Refused(shown, "command_line", f"a command line of the kind of set it sits in (a {held[0]} set: "
                      f"{_KIND_FILES[held[0]]})", f"a {kind} command line")


def file_sha256(path: Path) -> str | None:
    """The sha256 of the file at ``path`` (hex), or ``None`` when it is not a file or cannot be read."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None
    except OSError:
        return None


def file_state(recorded: str | None, now: str | None) -> str:
    """A recorded file's state from its sha256 then and now: ``new`` (none recorded), ``missing`` (gone since),
    ``unchanged`` or ``changed``.

    Examples
    --------
    >>> file_state(None, "ab"), file_state("ab", None), file_state("ab", "ab"), file_state("ab", "cd")
    ('new', 'missing', 'unchanged', 'changed')
    """
    return "new" if recorded is None else "missing" if now is None else "unchanged" if recorded == now else "changed"
