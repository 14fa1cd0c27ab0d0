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

Exit codes: 0 the figures match; 1 they differ; 2 the set cannot be verified
(no manifest, or the re-run was refused: its message is shown).
"""
from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import math
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Sequence

EXIT_MATCH, EXIT_DIFFER, EXIT_CANNOT = 0, 1, 2
#: Options of the recorded command line that verify replaces (where the set is written, and its name).
_REPLACED = ("--name", "--results")
#: Summary keys that are not figures of the plan (text derived from the figures, clocks).
_IGNORED = frozenset({"message", "meaning", "created", "timestamp", "timings_s", "total_cost_basis"})


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


def _absolute(shown: str, cwd: str | None) -> Path:
    p = Path(shown)
    return p if p.is_absolute() else Path(cwd or ".") / p


def compare_inputs(man: dict[str, Any]) -> list[InputCheck]:
    """Each input file the manifest names, with its state now; plus input files that appeared since.

    Paths in the manifest are as shown at run time (relative to the run's
    ``cwd`` where possible); they are resolved against that folder.
    """
    from model.inputs import SCHEMAS

    cwd = man.get("cwd")
    out: list[InputCheck] = []
    seen: set[Path] = set()
    for shown, recorded in sorted((man.get("inputs_sha256") or {}).items()):
        path = _absolute(shown, cwd).resolve()
        seen.add(path)
        now = _sha256(path) if path.is_file() else None
        state = "missing" if now is None else ("unchanged" if now == recorded else "changed")
        out.append(InputCheck(shown, state, recorded, now))
    inputs_dir = man.get("inputs_dir")
    if inputs_dir:
        for name in [*SCHEMAS, "parameters.yaml"]:
            path = (Path(inputs_dir) / name).resolve()
            if path not in seen and path.is_file():
                out.append(InputCheck(str(path), "new", None, _sha256(path)))
    return out


# ----------------------------------------------------------------------------
# Re-run
# ----------------------------------------------------------------------------
def rerun_argv(man: dict[str, Any], results: Path, name: str) -> list[str]:
    """The manifest's command line, writing to ``results/name`` and reading the recorded inputs folder.

    ``--name`` and ``--results`` are replaced; a relative ``--inputs`` is
    resolved against the run's ``cwd``; a run that used the default inputs
    gets the recorded inputs folder explicitly; plots are skipped (they do not
    change the figures).
    """
    argv = [str(a) for a in (man.get("command_line") or [])]
    if argv and Path(argv[0]).name in ("run.py", "compute-plan"):
        argv = argv[1:]
    out: list[str] = []
    skip = False
    has_inputs = False
    for i, arg in enumerate(argv):
        if skip:
            skip = False
            continue
        opt, eq, val = arg.partition("=")
        if opt in _REPLACED:
            skip = not eq
            continue
        if opt == "--inputs":
            has_inputs = True
            value = val if eq else (argv[i + 1] if i + 1 < len(argv) else "")
            skip = not eq
            out += ["--inputs", str(_absolute(value, man.get("cwd")))]
            continue
        out.append(arg)
    if not has_inputs and man.get("inputs_dir"):
        out += ["--inputs", man["inputs_dir"]]
    from model.cli_common import COMMANDS, MODULE_COMMANDS

    is_run = not out or out[0] == "run" or (out[0] not in MODULE_COMMANDS and out[0] not in COMMANDS)
    if is_run and "--no-plots" not in out:
        out.append("--no-plots")
    return out + ["--results", str(results), "--name", name]


# ----------------------------------------------------------------------------
# Figures
# ----------------------------------------------------------------------------
def _is_figure(x: Any) -> bool:
    return isinstance(x, dict) and "value" in x and "unit" in x and not isinstance(x["value"], (dict, list))


def _list_key(item: Any, i: int) -> str:
    if isinstance(item, dict):
        for k in ("constraint", "name"):
            if isinstance(item.get(k), str):
                return item[k]
    return str(i)


def _leaves(x: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Flatten a summary into (dotted key, figure dict or word), lists keyed by their items' names."""
    if _is_figure(x):
        yield prefix, x
    elif isinstance(x, dict):
        for k, v in x.items():
            if k not in _IGNORED:
                yield from _leaves(v, f"{prefix}.{k}" if prefix else str(k))
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
        if _is_figure(x) or _is_figure(y):
            unit = (x or y)["unit"]
            xv = x["value"] if _is_figure(x) else None
            yv = y["value"] if _is_figure(y) else None
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
def _read_json(path: Path) -> dict[str, Any]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"{path.parent} is not a result set: {path.name} is missing") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path} cannot be read: {exc}") from None
    if not isinstance(doc, dict):
        raise ValueError(f"{path} is not a JSON object")
    return doc


def _short(x: Any, unit: str = "") -> str:
    if x is None:
        return "-"
    if isinstance(x, float):
        return f"{x:.10g}{' ' + unit if unit else ''}"
    return f"{x}{' ' + unit if unit else ''}"


def _table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    line = lambda r: "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip()  # noqa: E731
    return "\n".join([line(header), line(["-" * w for w in widths]), *(line(r) for r in rows)])


def _headline(key: str) -> bool:
    top = key.split(".")[0].split("[")[0]
    return top in ("status", "scenario", "target", "target_year", "total_cost", "max_reachable",
                   "facility_power", "energy") or (top == "capacity_in_service")


def main(argv: Sequence[str] | None = None) -> int:
    """``run.py verify RESULT_SET``: re-run from the manifest, compare figures, report changed inputs."""
    from model.cli_common import ArgumentParser  # says 'did you mean' for a mistyped option

    p = ArgumentParser(prog="run.py verify",
                                description="Re-run a result set from its manifest (into a temporary folder) and "
                                            "report whether the figures match and which inputs changed since.")
    p.add_argument("result_set", type=Path, help="a result set folder, e.g. results/base_250GW-2033_...")
    p.add_argument("--rel-tol", type=float, default=1e-6, help="relative tolerance on money and other figures")
    p.add_argument("--abs-tol-gw", type=float, default=1e-6, help="absolute tolerance on capacities (GW)")
    p.add_argument("--all", action="store_true", help="list every figure compared, not only headlines and misses")
    p.add_argument("--keep", action="store_true", help="keep the re-run's result set and print where it is")
    a = p.parse_args(list(argv or []))
    try:
        man = _read_json(a.result_set / "manifest.json")
        recorded = _read_json(a.result_set / "summary.json")
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CANNOT
    if not man.get("command_line"):
        print(f"error: {a.result_set / 'manifest.json'} records no command line to re-run", file=sys.stderr)
        return EXIT_CANNOT

    print(f"Verifying {a.result_set} (scenario {man.get('scenario', '?')}, run {man.get('created', '?')})")
    # inputs then and now
    inputs = compare_inputs(man)
    changed = [c for c in inputs if c.state != "unchanged"]
    if changed:
        print(f"\nInputs changed since the run ({len(changed)} of {len(inputs)} files):")
        print(_table([[c.file, c.state, (c.recorded or "-")[:12], (c.now or "-")[:12]] for c in changed],
                     ["file", "state", "sha256 then", "sha256 now"]))
    else:
        print(f"\nInputs: all {len(inputs)} files unchanged (sha256)")
    from model.results import code_sha256, package_versions

    notes = []
    if man.get("code_sha256") and man["code_sha256"] != code_sha256():
        notes.append("the model's code differs from the code that made the set (code_sha256)")
    then = man.get("versions") or {}
    now = package_versions()
    for k in sorted(set(then) & set(now)):
        if then[k] != now[k]:
            notes.append(f"{k} {then[k]} -> {now[k]}")
    if notes:
        print("Code and versions since the run: " + "; ".join(notes))

    # re-run into a temporary folder
    tmp = Path(tempfile.mkdtemp(prefix="verify-"))
    try:
        args = rerun_argv(man, tmp, "rerun")
        print(f"\nRe-running: run.py {' '.join(args[:-4])}  (into a temporary folder)")
        from model.cli_common import dispatch as cli_main

        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = cli_main(args)
            except SystemExit as exc:   # argparse refusing an option the code no longer knows
                code = exc.code if isinstance(exc.code, int) else 2
        rerun_set = tmp / "rerun"
        if not (rerun_set / "summary.json").exists():
            print(f"error: the re-run wrote no result set (exit code {code}):\n{err.getvalue().strip()}",
                  file=sys.stderr)
            return EXIT_CANNOT
        rerun = _read_json(rerun_set / "summary.json")
        checks = compare_summaries(recorded, rerun, a.rel_tol, a.abs_tol_gw)
        misses = [c for c in checks if not c.ok]
        shown = checks if a.all else [c for c in checks if not c.ok or _headline(c.key)]
        print(f"\nFigures (money relative {a.rel_tol:g}, capacity absolute {a.abs_tol_gw:g} GW):")
        print(_table([[c.key, _short(c.recorded, c.unit), _short(c.rerun, c.unit),
                       "-" if c.difference is None else f"{c.difference:.3g}",
                       "-" if c.tolerance is None else f"{c.tolerance:.3g}", "yes" if c.ok else "NO"]
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
