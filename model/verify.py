"""``python run.py verify results/NAME``: redo a run from its manifest and say whether the figures match.

The manifest (``model.results.manifest``) records the command line, the
folder it ran in, the inputs folder and the sha256 of every input file. This
command

1. reports which input files changed, disappeared or appeared since the run
   (by sha256), and whether the model's code or the package versions differ;
2. re-runs the manifest's command line (same scenario, overrides, target,
   objective, time limit) into a temporary folder, never into ``results/``;
3. compares every figure of the two ``summary.json`` files within solver
   tolerance: money relative ``--rel-tol`` (default 1e-6), capacities in GW
   absolute ``--abs-tol-gw`` (default 1e-6 GW), other figures relative
   ``--rel-tol``; words (status, scenario, target year) must be equal.

Sets of every kind ``run.py`` writes from a solve are redone: plans, replans (from
the recorded source set, which must lie in the project), stochastic, alternatives,
world and sweep sets (a sweep's every case, status and figures, from ``summary.csv``;
one local process). Comparison sets (no solve) and world sweeps are refused (exit 2).

Exit codes: 0 the figures match; 1 they differ; 2 the set cannot be verified
(no manifest, or the re-run was refused: its message is shown).
"""
from __future__ import annotations

import contextlib
import hashlib
import io
import math
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Sequence

from model.exitcodes import EXIT_CANNOT, EXIT_DIFFER, EXIT_MATCH
from model.fmt import sig
from model.summary import is_figure
from model.verify_argv import ALLOWED, VERIFIABLE, inside, project_roots, rerun_argv  # noqa: F401 (re-exported)
from model.verify_checks import MAX_JSON_BYTES, Refused, check_kind, read_json

#: Options of the recorded command line that verify replaces (where the set is written, and its name).
_REPLACED = ("--name", "--results")
#: Summary keys that are not figures of the plan (text derived from the figures, clocks).
_IGNORED = frozenset({"message", "meaning", "created", "timestamp", "timings_s", "total_cost_basis"})
#: Dotted summary keys that are paths as typed (the re-run names the same folder absolutely).
_IGNORED_PATHS = frozenset({"replan.source"})


@dataclass(frozen=True)
class FigureCheck:
    """One summary figure (or word) compared between the recorded run and the re-run."""

    key: str
    recorded: Any
    rerun: Any
    unit: str
    difference: float | None
    tolerance: float | None
    ok: bool


@dataclass(frozen=True)
class InputCheck:
    """One input file: ``unchanged``, ``changed``, ``missing`` (gone since) or ``new`` (not in the manifest)."""

    file: str
    state: str
    recorded: str | None
    now: str | None


# ----------------------------------------------------------------------------
# Inputs: sha256 then and now
# ----------------------------------------------------------------------------
def _sha256(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def _futures_hashes(futures: Any) -> dict[str, Any]:
    """A stochastic set's input hashes: recorded per future (the same files, unless a future's scenario adds one)."""
    out: dict[str, Any] = {}
    for f in futures if isinstance(futures, list) else []:
        hashes = f.get("inputs_sha256") if isinstance(f, dict) else None
        if isinstance(hashes, dict):
            out.update(hashes)
    return out


def _absolute(shown: str, cwd: str | None) -> Path:
    p = Path(shown)
    return p if p.is_absolute() else Path(cwd or ".") / p


def compare_inputs(man: dict[str, Any], inputs_dir: Path | None = None,
                   result_set: Path | None = None) -> list[InputCheck]:
    """Each input file the manifest names, with its state now; plus input files that appeared since.

    Paths in the manifest are as shown at run time (relative to the run's
    ``cwd`` where possible); they are resolved against that folder. Only files
    inside ``inputs_dir`` (the checked inputs folder of the re-run) are read.

    Raises
    ------
    Refused
        For a path outside ``inputs_dir`` (field ``inputs_sha256``): nothing outside it is read.
    """
    from model.inputs import SCHEMAS
    from model.inputs.tables import UNCHECKED_INPUTS

    cwd = man.get("cwd")
    if not isinstance(cwd, str) or not cwd:      # sets that record no cwd: paths are relative to their project
        cwd = str(Path(result_set).resolve().parent.parent) if result_set is not None else None
    inputs_dir = Path(inputs_dir or man.get("inputs_dir") or ".").resolve()
    shown_manifest = (Path(result_set) / "manifest.json") if result_set is not None else "manifest.json"
    hashes = man.get("inputs_sha256") or man.get("input_files") or _futures_hashes(man.get("futures"))
    if not isinstance(hashes, dict) or not all(isinstance(v, str) for v in hashes.values()):
        raise Refused(shown_manifest, "inputs_sha256", "a mapping of input file to sha256", type(hashes).__name__)
    out: list[InputCheck] = []
    seen: set[Path] = set()
    for shown, recorded in sorted(hashes.items()):
        path = _absolute(str(shown), cwd).resolve()
        if not inside(path, [inputs_dir]):
            raise Refused(shown_manifest, "inputs_sha256", f"input files inside the inputs folder {inputs_dir}",
                          repr(shown))
        seen.add(path)
        now = _sha256(path) if path.is_file() else None
        state = "missing" if now is None else ("unchanged" if now == recorded else "changed")
        out.append(InputCheck(shown, state, recorded, now))
    for name in [*SCHEMAS, *UNCHECKED_INPUTS, "parameters.yaml"] if hashes else []:   # none recorded: none compared
        path = (inputs_dir / name).resolve()
        if path not in seen and path.is_file():
            out.append(InputCheck(str(path), "new", None, _sha256(path)))
    return out


# ----------------------------------------------------------------------------
# Figures
# ----------------------------------------------------------------------------
def read_figures(result_set: Path, kind: str) -> dict[str, Any]:
    """The figures verify compares: ``summary.json``, or for a sweep every case's status and figures (from
    ``summary.csv``) and swept values (``cases.csv``), as ``{"case 3": {"status": ..., "total_cost": {...}}}``.

    Raises
    ------
    ValueError
        For a missing, oversized or unreadable file (named).
    """
    if kind != "sweep":
        return read_json(Path(result_set) / "summary.json")
    import pandas as pd

    out: dict[str, Any] = {}
    for name, what in (("summary.csv", "figure"), ("cases.csv", "key")):
        path = Path(result_set) / name
        try:
            if path.stat().st_size > MAX_JSON_BYTES:
                raise ValueError(f"{path}: expected at most {MAX_JSON_BYTES} bytes, found {path.stat().st_size}")
            frame = pd.read_csv(path, keep_default_na=False, na_values=[""])
        except FileNotFoundError:
            raise ValueError(f"{Path(result_set)} is not a sweep set: {name} is missing") from None
        except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise ValueError(f"{path} cannot be read: {type(exc).__name__}: {str(exc)[:200]}") from None
        needed = {"case", what, "value", "unit"}
        if not needed <= set(frame.columns):
            raise ValueError(f"{path}: expected the columns {', '.join(sorted(needed))}, found "
                             f"{', '.join(map(str, frame.columns))[:200]}")
        for row in frame.itertuples(index=False):
            case = out.setdefault(f"case {row.case}", {})
            if what == "figure":
                case["status"] = row.status
                key = f"{row.figure}.{row.group}" if isinstance(row.group, str) and row.group else str(row.figure)
            else:
                key = f"input.{row.key}"
            value = float(row.value) if str(row.value) != "" else math.nan
            case[key] = {"value": value, "unit": str(row.unit)}
    return out


def _list_key(item: Any, i: int) -> str:
    if isinstance(item, dict):
        for k in ("constraint", "name"):
            if isinstance(item.get(k), str):
                return item[k]
    return str(i)


def _leaves(x: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Flatten a summary into (dotted key, figure dict or word), lists keyed by their items' names."""
    if is_figure(x):
        yield prefix, x
    elif isinstance(x, dict):
        for k, v in x.items():
            key = f"{prefix}.{k}" if prefix else str(k)
            if k not in _IGNORED and key not in _IGNORED_PATHS:
                yield from _leaves(v, key)
    elif isinstance(x, list):
        for i, v in enumerate(x):
            yield from _leaves(v, f"{prefix}[{_list_key(v, i)}]")
    else:
        yield prefix, x


def figure_tolerance(unit: str, a: float, b: float, rel_tol: float = 1e-6, abs_tol_gw: float = 1e-6) -> float:
    """Tolerance for one figure: GW absolute, money relative (1 USD floor), anything else relative.

    Examples
    --------
    >>> figure_tolerance("GW", 250.0, 250.0)
    1e-06
    >>> figure_tolerance("USD", 5e9, 5e9)
    5000.0
    """
    if unit in ("GW", "GW/a"):
        return abs_tol_gw
    scale = max(abs(a), abs(b))
    if "USD" in unit:
        return max(rel_tol * scale, 1.0)
    return max(rel_tol * scale, 1e-12)


def compare_summaries(recorded: dict[str, Any], rerun: dict[str, Any], rel_tol: float = 1e-6,
                      abs_tol_gw: float = 1e-6) -> list[FigureCheck]:
    """Every figure and word of two summaries side by side (a key missing on one side does not match)."""
    a, b = dict(_leaves(recorded)), dict(_leaves(rerun))
    out: list[FigureCheck] = []
    for key in list(a) + [k for k in b if k not in a]:
        x, y = a.get(key), b.get(key)
        if is_figure(x) or is_figure(y):
            unit = (x or y)["unit"]
            xv = x["value"] if is_figure(x) else None
            yv = y["value"] if is_figure(y) else None
            numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (xv, yv))
            if numeric and x["unit"] == y["unit"]:
                if math.isnan(xv) and math.isnan(yv):
                    diff, tol, ok = 0.0, 0.0, True
                else:
                    diff = abs(xv - yv)
                    tol = figure_tolerance(unit, xv, yv, rel_tol, abs_tol_gw)
                    ok = diff <= tol
                out.append(FigureCheck(key, xv, yv, unit, diff, tol, ok))
            else:
                out.append(FigureCheck(key, xv, yv, unit, None, None, xv == yv and x is not None and y is not None
                                       and x["unit"] == y["unit"]))
        else:
            out.append(FigureCheck(key, x, y, "", None, None, key in a and key in b and x == y))
    return out


# ----------------------------------------------------------------------------
# The command
# ----------------------------------------------------------------------------


def _short(x: Any, unit: str = "") -> str:
    if x is None:
        return "-"
    if isinstance(x, float) and not math.isfinite(x):
        return "n/a"
    if isinstance(x, float):          # ten significant figures, as a person reads them (no e-notation)
        return f"{sig(x, 10)}{' ' + unit if unit else ''}"
    return f"{x}{' ' + unit if unit else ''}"


def _table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    line = lambda r: "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip()  # noqa: E731
    return "\n".join([line(header), line(["-" * w for w in widths]), *(line(r) for r in rows)])


def _headline(key: str) -> bool:
    if key.startswith("case "):                 # a sweep: the first case's headline figures stand for the rest
        if not key.startswith("case 0."):
            return False
        key = key[len("case 0."):]
    top = key.split(".")[0].split("[")[0]
    return top in ("status", "scenario", "target", "target_year", "total_cost", "max_reachable",
                   "facility_power", "energy") or (top == "capacity_in_service")


def parser() -> Any:
    """The options of ``run.py verify``."""
    from model.cli_common import ArgumentParser  # says 'did you mean' for a mistyped option

    p = ArgumentParser(prog="run.py verify",
                       description="Re-run a result set from its manifest (into a temporary folder) and "
                                   "report whether the figures match and which inputs changed since.")
    p.add_argument("result_set", type=Path, help="a result set folder, e.g. results/base_250GW-2033_...")
    p.add_argument("--rel-tol", type=float, default=1e-6, help="relative tolerance on money and other figures")
    p.add_argument("--abs-tol-gw", type=float, default=1e-6, help="absolute tolerance on capacities (GW)")
    p.add_argument("--all", action="store_true", help="list every figure compared, not only headlines and misses")
    p.add_argument("--keep", action="store_true", help="keep the re-run's result set and print where it is")
    return p


def _code_changes(man: dict[str, Any]) -> list[str]:
    """What changed since the run: the model's code (its sha256) and package versions."""
    from model.results import code_sha256, package_versions

    notes = []
    if man.get("code_sha256") and man["code_sha256"] != code_sha256():
        notes.append("the model's code differs from the code that made the set (code_sha256)")
    then = man.get("versions") or {}
    now = package_versions()
    for k in sorted(set(then) & set(now)):
        if then[k] != now[k]:
            notes.append(f"{k} {then[k]} -> {now[k]}")
    return notes


def main(argv: Sequence[str] | None = None) -> int:
    """``run.py verify RESULT_SET``: re-run from the manifest, compare figures, report changed inputs."""
    a = parser().parse_args(list(argv or []))
    try:
        man = read_json(a.result_set / "manifest.json")
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CANNOT
    if not man.get("command_line"):
        print(f"error: {a.result_set / 'manifest.json'} records no command line to re-run", file=sys.stderr)
        return EXIT_CANNOT
    tmp_root = Path(tempfile.gettempdir())
    try:
        args = rerun_argv(man, tmp_root, "rerun", a.result_set)     # every check before any input is read
        kind = args[0] if args and not args[0].startswith("-") else "run"
        if kind not in VERIFIABLE:
            raise Refused(a.result_set / "manifest.json", "command_line",
                          "a set verify can compare figure by figure (" + ", ".join(VERIFIABLE) + ")",
                          f"a {kind} set")
        check_kind(man, kind, a.result_set)
        inputs_dir = Path(next(x for x in args if x.startswith("--inputs=")).split("=", 1)[1])
        inputs = compare_inputs(man, inputs_dir, a.result_set)
        recorded = read_figures(a.result_set, kind)
    except Refused as exc:
        print(f"error: {exc}; verify re-runs only what the project writes, reading the recorded inputs",
              file=sys.stderr)
        return EXIT_CANNOT
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CANNOT

    print(f"Verifying {a.result_set} (scenario {man.get('scenario', '?')}, run {man.get('created', '?')})")
    # inputs then and now
    changed = [c for c in inputs if c.state != "unchanged"]
    if changed:
        print(f"\nInputs changed since the run ({len(changed)} of {len(inputs)} files):")
        print(_table([[c.file, c.state, (c.recorded or "-")[:12], (c.now or "-")[:12]] for c in changed],
                     ["file", "state", "sha256 then", "sha256 now"]))
    else:
        print(f"\nInputs: all {len(inputs)} files unchanged (sha256)")
    notes = _code_changes(man)
    if notes:
        print("Code and versions since the run: " + "; ".join(notes))

    # re-run into a temporary folder
    tmp = Path(tempfile.mkdtemp(prefix="verify-"))
    try:
        args = rerun_argv(man, tmp, "rerun", a.result_set)
        print(f"\nRe-running: run.py {' '.join(args[:-2])}  (into a temporary folder)")
        from model.cli_common import dispatch as cli_main

        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = cli_main(args)
            except SystemExit as exc:   # argparse refusing an option the code no longer knows
                code = exc.code if isinstance(exc.code, int) else 2
        rerun_set = tmp / "rerun"
        if not (rerun_set / "manifest.json").exists():
            print(f"error: the re-run wrote no result set (exit code {code}):\n{err.getvalue().strip()}",
                  file=sys.stderr)
            return EXIT_CANNOT
        try:
            rerun = read_figures(rerun_set, kind)
        except ValueError as exc:
            print(f"error: the re-run's result set cannot be read: {exc}", file=sys.stderr)
            return EXIT_CANNOT
        checks = compare_summaries(recorded, rerun, a.rel_tol, a.abs_tol_gw)
        misses = [c for c in checks if not c.ok]
        shown = checks if a.all else [c for c in checks if not c.ok or _headline(c.key)]
        print(f"\nFigures (money relative {sig(a.rel_tol)}, capacity absolute {sig(a.abs_tol_gw)} GW):")
        print(_table([[c.key, _short(c.recorded, c.unit), _short(c.rerun, c.unit),
                       "-" if c.difference is None else sig(c.difference),
                       "-" if c.tolerance is None else sig(c.tolerance), "yes" if c.ok else "NO"]
                      for c in shown], ["figure", "recorded", "re-run", "difference", "tolerance", "match"]))
        if len(shown) < len(checks):
            print(f"  ... {len(checks) - len(shown)} more figures match (--all lists them)")
        if a.keep:
            kept = Path(tempfile.mkdtemp(prefix="verify-kept-")) / "rerun"
            shutil.copytree(rerun_set, kept)
            print(f"\nRe-run result set kept at {kept}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if misses:
        print(f"\nResult: the figures DIFFER ({len(misses)} of {len(checks)} do not match)"
              + (f"; {len(changed)} input file(s) changed since the run" if changed else ""))
        return EXIT_DIFFER
    print(f"\nResult: the figures match ({len(checks)} compared)"
          + (f"; note that {len(changed)} input file(s) changed since the run" if changed else ""))
    return EXIT_MATCH
