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

Sets of every kind ``run.py`` writes are redone: plans, replans (from the recorded
source set, which must lie in the project), stochastic, alternatives, world and sweep
sets (a sweep's every case, status and figures, from ``summary.csv``; one local
process), world sweeps (``sweep --world``: every case of ``cases.csv``) and comparison
sets (``compare``: no solve; the comparison is redone from its source sets, each
checked to lie in the project, and every table of it compared; the files of each
source it read are compared with the sha256 it recorded, so a source changed since is
named). A comparison's sources themselves are not re-solved unless ``--sources`` is
given (each is then verified in turn; the worst exit code counts).

The re-run command is rebuilt token by token from an allow-list of each kind's options
(:mod:`model.verify_argv`), never replayed; the figures are read by
:mod:`model.verify_tables`, a comparison's sources checked by :mod:`model.verify_sources`.

Exit codes: 0 the figures match; 1 they differ; 2 the set cannot be verified
(no manifest, or the re-run was refused: its message is shown).
"""
from __future__ import annotations

import contextlib
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
from model.verify_argv import (ALLOWED, VERIFIABLE, inside, kind_of, project_roots, rerun_argv,  # noqa: F401
                                source_sets)
from model.verify_checks import Refused, check_kind, file_sha256, file_state, read_json
from model.verify_sources import SourceCheck, compare_sources
from model.verify_tables import read_figures  # noqa: F401 (re-exported)

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
        now = file_sha256(path)
        out.append(InputCheck(shown, file_state(recorded, now), recorded, now))
    for name in [*SCHEMAS, *UNCHECKED_INPUTS, "parameters.yaml"] if hashes else []:   # none recorded: none compared
        path = (inputs_dir / name).resolve()
        if path not in seen and path.is_file():
            out.append(InputCheck(str(path), "new", None, file_sha256(path)))
    return out


# ----------------------------------------------------------------------------
# Figures
# ----------------------------------------------------------------------------
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
    if key.startswith("headline["):             # a comparison: each set's headline figures (value or word)
        inner, _, column = key[len("headline["):].rpartition("].")
        return column == "value" and _headline(inner.split(" | ")[0])
    top = key.split(".")[0].split("[")[0]
    return top in ("status", "scenario", "target", "target_year", "total_cost", "max_reachable",
                   "facility_power", "energy", "capacity_in_service", "default_in_service_gw",
                   "world_in_service_gw")


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
    p.add_argument("--sources", action="store_true",
                   help="a comparison: also verify each of its source sets (re-solves each; by default only the "
                        "comparison is redone from the sets as they are)")
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


@dataclass(frozen=True)
class Checked:
    """What verify knows before anything runs: the kind of set, its inputs (or a comparison's source sets) then
    and now, and the recorded figures."""

    kind: str
    inputs: list[InputCheck]
    sources: list[SourceCheck]
    source_sets: list[Path]
    recorded: dict[str, Any]

    @property
    def changed(self) -> list[str]:
        """Input files, or files of source sets, that changed, disappeared or appeared since the set was made."""
        return ([c.file for c in self.inputs if c.state != "unchanged"]
                + [f"{c.source}/{c.file}" for c in self.sources if c.state not in ("unchanged", "unrecorded")])


def check(man: dict[str, Any], result_set: Path) -> Checked:
    """Every check of the manifest before any input is read or anything runs.

    Raises
    ------
    Refused
        Naming the manifest field that is malformed, outside the project or of another kind.
    ValueError
        For a set whose files cannot be read (named).
    """
    args = rerun_argv(man, Path(tempfile.gettempdir()), "rerun", result_set)
    kind = kind_of(args)
    if kind not in VERIFIABLE:
        raise Refused(result_set / "manifest.json", "command_line",
                      "a set verify can compare figure by figure (" + ", ".join(VERIFIABLE) + ")", f"a {kind} set")
    check_kind(man, kind, result_set)
    sources = source_sets(args)
    if kind == "compare":
        inputs, source_checks = [], compare_sources(man, sources, result_set)
    else:
        inputs_dir = Path(next(x for x in args if x.startswith("--inputs=")).split("=", 1)[1])
        inputs, source_checks = compare_inputs(man, inputs_dir, result_set), []
    return Checked(kind, inputs, source_checks, sources, read_figures(result_set, kind))


def _print_provenance(man: dict[str, Any], c: Checked) -> None:
    """Inputs (or a comparison's source sets) then and now, and the code and versions since."""
    if c.kind == "compare":
        changed = [s for s in c.sources if s.state not in ("unchanged", "unrecorded")]
        if changed:
            print(f"\nSource sets changed since the comparison ({len(changed)} of {len(c.sources)} files read):")
            print(_table([[s.source, s.file, s.state, (s.recorded or "-")[:12], (s.now or "-")[:12]]
                          for s in changed], ["set", "file", "state", "sha256 then", "sha256 now"]))
        elif any(s.state == "unrecorded" for s in c.sources):
            print("\nSource sets: the comparison recorded no sha256 of the files it read (made by an older "
                  "version); whether they changed since is not known")
        else:
            print(f"\nSource sets: all {len(c.sources)} files the comparison read are unchanged (sha256)")
        print("The sources themselves are not re-solved; verify each with run.py verify SET (or add --sources)")
    else:
        changed_inputs = [i for i in c.inputs if i.state != "unchanged"]
        if changed_inputs:
            print(f"\nInputs changed since the run ({len(changed_inputs)} of {len(c.inputs)} files):")
            print(_table([[i.file, i.state, (i.recorded or "-")[:12], (i.now or "-")[:12]] for i in changed_inputs],
                         ["file", "state", "sha256 then", "sha256 now"]))
        elif not c.inputs:
            print("\nInputs: the set records no sha256 of its input files (made by an older version); whether "
                  "they changed since is not known")
        else:
            print(f"\nInputs: all {len(c.inputs)} files unchanged (sha256)")
    notes = _code_changes(man)
    if notes:
        print("Code and versions since the run: " + "; ".join(notes))


def _rerun(man: dict[str, Any], a: Any, c: Checked) -> list[FigureCheck] | None:
    """Redo the set into a temporary folder and compare its figures with the recorded ones (``None``: the
    re-run wrote no set, or an unreadable one; the reason is printed)."""
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
            return None
        try:
            rerun = read_figures(rerun_set, c.kind)
        except ValueError as exc:
            print(f"error: the re-run's result set cannot be read: {exc}", file=sys.stderr)
            return None
        checks = compare_summaries(c.recorded, rerun, a.rel_tol, a.abs_tol_gw)
        shown = checks if a.all else [f for f in checks if not f.ok or _headline(f.key)]
        print(f"\nFigures (money relative {sig(a.rel_tol)}, capacity absolute {sig(a.abs_tol_gw)} GW):")
        print(_table([[f.key, _short(f.recorded, f.unit), _short(f.rerun, f.unit),
                       "-" if f.difference is None else sig(f.difference),
                       "-" if f.tolerance is None else sig(f.tolerance), "yes" if f.ok else "NO"]
                      for f in shown], ["figure", "recorded", "re-run", "difference", "tolerance", "match"]))
        if len(shown) < len(checks):
            print(f"  ... {len(checks) - len(shown)} more figures match (--all lists them)")
        if a.keep:
            kept = Path(tempfile.mkdtemp(prefix="verify-kept-")) / "rerun"
            shutil.copytree(rerun_set, kept)
            print(f"\nRe-run result set kept at {kept}")
        return checks
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _verify_sources(a: Any, sources: list[Path]) -> int:
    """``--sources``: verify each source set of a comparison in turn; the worst exit code (2 over 1 over 0)."""
    codes = []
    for source in sources:
        print(f"\n=== Source set {source} ===")
        codes.append(main([str(source), "--rel-tol", repr(a.rel_tol), "--abs-tol-gw", repr(a.abs_tol_gw)]
                          + (["--all"] if a.all else [])))
    print(f"\nSource sets: {sum(c == EXIT_MATCH for c in codes)} of {len(codes)} match when re-solved")
    return max(codes, default=EXIT_MATCH)


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
    try:
        c = check(man, a.result_set)
    except Refused as exc:
        print(f"error: {exc}; verify re-runs only what the project writes, reading the recorded inputs",
              file=sys.stderr)
        return EXIT_CANNOT
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CANNOT
    if a.sources and c.kind != "compare":
        print(f"error: --sources verifies a comparison's source sets; {a.result_set} is a {c.kind} set",
              file=sys.stderr)
        return EXIT_CANNOT

    about = f"scenario {man['scenario']}" if isinstance(man.get("scenario"), str) else f"a {c.kind} set"
    print(f"Verifying {a.result_set} ({about}, made {man.get('created', '?')})")
    _print_provenance(man, c)
    checks = _rerun(man, a, c)
    if checks is None:
        return EXIT_CANNOT
    misses = [f for f in checks if not f.ok]
    what = "file(s) of the source sets" if c.kind == "compare" else "input file(s)"
    if misses:
        print(f"\nResult: the figures DIFFER ({len(misses)} of {len(checks)} do not match)"
              + (f"; {len(c.changed)} {what} changed since the run" if c.changed else ""))
        code = EXIT_DIFFER
    else:
        print(f"\nResult: the figures match ({len(checks)} compared)"
              + (f"; note that {len(c.changed)} {what} changed since the run" if c.changed else ""))
        code = EXIT_MATCH
    return max(code, _verify_sources(a, c.source_sets)) if a.sources else code
