"""Reading result sets for a comparison: summary and manifest, what kind of set each is, labels."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from model.errors import ResultSetError

#: Statuses that come with a plan; others have no plan keys by design.
PLAN_STATUSES = ("optimal", "target_missed", "commitment_missed")


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
