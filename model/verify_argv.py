"""``run.py verify``'s re-run command: rebuilt from an allow-list of what each kind of set records, never replayed.

Kept apart from :mod:`model.verify` (inputs then and now, the figures compared, the report) so that each module
stays one concern: here every token of a manifest's command line is checked (an option of its kind, a value of
the right form, paths inside the project) before anything is read or run.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Sequence

from model.verify_checks import Refused, read_json

# ----------------------------------------------------------------------------
# Re-run: the command is rebuilt from an allow-list, never replayed
# ----------------------------------------------------------------------------
#: How verify reads each option's value. ``path-*`` values are checked to lie inside the project.
_COMMON = {"--target": "text", "--year": "int", "--target-basis": "it|facility", "--name": "drop",
           "--results": "drop", "--time-limit": "float", "--no-plots": "flag", "--scenario": "scenario",
           "--set": "text", "--inputs": "inputs"}
#: The kinds of set the project writes, and the options each kind's command line may hold.
ALLOWED: dict[str, dict[str, str]] = {
    "run": {**_COMMON, "--objective": "min-cost|max-capacity", "--foresight": "perfect|myopic", "--look-ahead": "int",
            "--no-ranking": "flag"},
    "stochastic": {**_COMMON, "--futures": "path-input", "--risk": "expected|cvar", "--alpha": "float",
                   "--weight": "float", "--method": "extensive|ph|decompose", "--sample": "int", "--seed": "int",
                   "--batches": "int", "--processes": "int", "--iterations": "int"},
    "alternatives": {**_COMMON, "--slack": "text", "--count": "int"},
    "replan": {**_COMMON, "SOURCE": "source-set", "--from": "int", "--foresight": "perfect|myopic",
               "--look-ahead": "int"},
    "world": {**_COMMON, "--rule": "value|pro-rata", "--write-allocation": "drop-flag"},
    "sweep": {**_COMMON, "--vary": "text", "--method": "grid|oat|montecarlo|sobol|morris", "--steps": "int",
              "--samples": "int", "--levels": "int", "--distributions": "path-input", "--seed": "int",
              "--chunk-size": "int", "--resume": "resume", "--no-progress": "flag", "--rebuild": "flag",
              "--workers": "int", "--scheduler": "drop", "--resolve-world": "flag"},
    # ``run.py sweep --world``: the world re-solved per case (model/world/sweep.py)
    "world-sweep": {"--scenario": "scenario", "--set": "text", "--inputs": "inputs", "--vary": "text",
                    "--steps": "int", "--year": "int", "--rule": "value|pro-rata", "--name": "drop",
                    "--results": "drop", "--no-plots": "flag"},
    # ``run.py compare A B ...``: no solve; the comparison is redone from the recorded source sets
    "compare": {"SOURCES": "source-sets", "--out": "drop", "--results": "drop", "--all": "flag",
                "--no-plots": "flag"},
}
#: Kinds verify can compare: a summary.json, a sweep's summary.csv (every case's figures and status), a world
#: sweep's cases.csv, a comparison's tables.
VERIFIABLE = ("run", "stochastic", "alternatives", "replan", "world", "sweep", "world-sweep", "compare")
#: Words of a command line that are not options: the one set a replan starts from, the sets a comparison reads.
_POSITIONAL = ("SOURCE", "SOURCES")
#: Most words a recorded command line may hold, and most sets one comparison may name (bounds on sense: a
#: crafted manifest cannot make verify read thousands of sets).
MAX_WORDS = 1_000
MAX_SOURCES = 50
_PLAIN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]*$")


def project_roots(result_set: Path) -> list[Path]:
    """Folders a re-run may read inputs from: this project (where ``inputs/`` is) and the set's own project.

    The set's project is the folder that holds its results folder
    (``PROJECT/results/NAME``).
    """
    from model.scenario import DEFAULT_INPUTS

    own = Path(result_set).resolve().parent.parent
    return [DEFAULT_INPUTS.parent.resolve()] + ([own] if own.parent != own else [])   # never the filesystem root


def inside(path: Path, roots: Sequence[Path]) -> bool:
    """Whether ``path`` (resolved, links followed) is one of ``roots`` or lies under one."""
    p = path.resolve()
    return any(p == r or r in p.parents for r in roots)


def _resolve(value: str, base: Path) -> Path:
    p = Path(value)
    return (p if p.is_absolute() else base / p).resolve()


def _checked_options(shown: Any, kind: str, argv: list[str], allowed: dict[str, str]) -> list[tuple[str, str | None]]:
    """Every token of a recorded command line: an allowed option of this kind, its value of the right form.

    Raises
    ------
    Refused
        Naming the token that is not allowed.
    """
    options: list[tuple[str, str | None]] = []
    positional = next((p for p in _POSITIONAL if p in allowed), None)
    most = MAX_SOURCES if positional == "SOURCES" else 1
    i = 0
    while i < len(argv):
        token = argv[i]
        opt, eq, value = token.partition("=")
        if not opt.startswith("--"):
            if positional is None or sum(o == positional for o, _ in options) >= most:
                raise Refused(shown, "command_line", f"options of a '{kind}' command line"
                              + (f" and at most {most} sets" if most > 1 else ""), repr(token)[:200])
            options.append((positional, _checked_value(shown, "the source set", allowed[positional], token)))
            i += 1
            continue
        names = [o for o in allowed if o.startswith("--")]
        full = [o for o in names if o == opt] or [o for o in names if o.startswith(opt)]
        if len(full) != 1:
            raise Refused(shown, "command_line", f"an option verify re-runs for a '{kind}' set (one of "
                          + ", ".join(sorted(names)) + ")", repr(opt)[:200])
        opt, how = full[0], allowed[full[0]]
        if how in ("flag", "drop-flag"):
            if eq:
                raise Refused(shown, "command_line", f"{opt} without a value", repr(token))
            options.append((opt, None))
            i += 1
            continue
        if not eq:
            if i + 1 >= len(argv):
                raise Refused(shown, "command_line", f"a value after {opt}", "the end of the command line")
            value = argv[i + 1]
            i += 1
        i += 1
        options.append((opt, _checked_value(shown, opt, how, value)))
    if kind == "sweep":
        workers = [v for o, v in options if o == "--workers"]
        resumed = [v for o, v in options if o == "--resume"]
        if resumed:
            raise Refused(shown, "command_line", "the command that started the sweep (a resumed sweep records it)",
                          f"--resume {resumed[0]}")
        del workers   # the number of local processes does not change a sweep's figures; verify would run one
    if positional == "SOURCE" and not any(o == positional for o, _ in options):
        raise Refused(shown, "command_line", f"the set a '{kind}' command line starts from", "none")
    if positional == "SOURCES" and sum(o == positional for o, _ in options) < 2:
        raise Refused(shown, "command_line", f"two or more sets a '{kind}' command line compares",
                      str(sum(o == positional for o, _ in options)))
    return options


def _inputs_folder(shown: Any, man: dict[str, Any], options: list[tuple[str, str | None]], base: Path,
                   roots: list[Path]) -> Path:
    """The inputs folder a re-run reads: the recorded one (else the command line's, else the project's), inside
    the project.

    Raises
    ------
    Refused
        Naming the manifest field whose folder is outside the project or missing.
    """
    from model.scenario import DEFAULT_INPUTS

    recorded = man.get("inputs_dir")
    if recorded is not None and not isinstance(recorded, str):
        raise Refused(shown, "inputs_dir", "a folder name", repr(recorded))
    given = [v for o, v in options if o == "--inputs"]
    if recorded:
        inputs = _resolve(recorded, base)
        field = "inputs_dir"
        if given and _resolve(given[-1], base) != inputs:
            raise Refused(shown, "command_line", f"--inputs naming the recorded inputs folder {recorded}",
                          repr(given[-1]))
    elif given:
        inputs, field = _resolve(given[-1], base), "command_line"
    else:
        inputs, field = DEFAULT_INPUTS.resolve(), "inputs_dir"
    if not inside(inputs, roots):
        raise Refused(shown, field, "an inputs folder inside the project (" + " or ".join(map(str, roots)) + ")",
                      repr(str(inputs)))
    if not inputs.is_dir():
        raise Refused(shown, field, "an inputs folder that exists", repr(str(inputs)))
    return inputs


def rerun_argv(man: dict[str, Any], results: Path, name: str, result_set: Path | None = None) -> list[str]:
    """The command that redoes the set: rebuilt from :data:`ALLOWED`, reading only the recorded inputs folder.

    Every token of the manifest's command line must be an option the
    project writes for the set's kind, with a value of the right form;
    ``--name`` and ``--results`` are replaced (``results/name``), the inputs
    folder is the recorded one (``inputs_dir``, else the command line's,
    else the project's ``inputs/``) and must lie inside the project, as must
    ``--futures`` / ``--distributions`` files (inside the inputs folder, the
    project's ``inputs/`` or the set's own folder); ``--scenario`` must name a
    file of the inputs folder's ``scenarios/``; plots are skipped. A world
    sweep (``sweep --world``) has its own allow-list; a comparison
    (``compare SET SET ...``) reads no inputs folder: each of its 2 to
    :data:`MAX_SOURCES` sets must be a readable result set of the project
    (not the comparison itself), and ``--out`` names it. A command line
    holds at most :data:`MAX_WORDS` words. Nothing is read before these
    checks pass.

    Raises
    ------
    Refused
        Naming the manifest field (``command_line``, ``inputs_dir``, ``cwd``)
        and what is wrong.
    """
    from model.scenario import DEFAULT_INPUTS

    shown = (Path(result_set) / "manifest.json") if result_set is not None else "manifest.json"
    result_set = Path(result_set or ".")
    roots = project_roots(result_set)
    raw = man.get("command_line")
    if not isinstance(raw, list) or not raw or not all(isinstance(a, str) for a in raw):
        raise Refused(shown, "command_line", "a list of words (the run's command line)", repr(raw)[:200])
    if len(raw) > MAX_WORDS:
        raise Refused(shown, "command_line", f"at most {MAX_WORDS} words", f"{len(raw)} words")
    argv = list(raw)
    if Path(argv[0]).name in ("run.py", "compute-plan"):
        argv = argv[1:]
    kind = "run"
    if argv and not argv[0].startswith("-"):
        kind = argv.pop(0)
        if kind not in ALLOWED or kind == "world-sweep":        # a world sweep's command word is 'sweep --world'
            raise Refused(shown, "command_line", "a command line of one of the kinds of set verify redoes ("
                          + ", ".join(VERIFIABLE) + ")", repr(kind)[:200])
        if kind == "sweep" and argv[:1] == ["--world"]:
            argv.pop(0)
            kind = "world-sweep"
    allowed = ALLOWED[kind]
    base = run_folder(man, result_set)
    options = _checked_options(shown, kind, argv, allowed)
    if kind == "compare":
        return _compare_argv(shown, options, base, roots, result_set, results, name)
    inputs = _inputs_folder(shown, man, options, base, roots)

    # 3. scenario names and input files
    out: list[str] = {"run": [], "world-sweep": ["sweep", "--world"]}.get(kind, [kind])
    for opt, value in options:
        how = allowed[opt]
        if how in ("drop", "drop-flag", "inputs") or opt == "--workers":
            continue
        if how == "source-set":
            out.insert(1, str(_source_set(shown, str(value), base, roots, result_set)))
            continue
        if how == "scenario" and not (inputs / "scenarios" / f"{value}.yaml").is_file():
            raise Refused(shown, "command_line", f"--scenario naming a file of {inputs / 'scenarios'}", repr(value))
        if how == "path-input":
            path = _resolve(value, base)
            where = [inputs, DEFAULT_INPUTS.resolve(), result_set.resolve()]
            if not inside(path, where):
                raise Refused(shown, "command_line", f"{opt} naming a file inside the inputs folder, the project's "
                              "inputs/ or the set's own folder", repr(value))
            value = str(path)
        out.append(opt if value is None else f"{opt}={value}")
    out.append(f"--inputs={inputs}")
    if "--no-plots" not in out:
        out.append("--no-plots")
    if kind == "sweep":
        out += ["--workers=1"] + ([] if "--no-progress" in out else ["--no-progress"])
    return out + [f"--results={results}", f"--name={name}"]


def run_folder(man: dict[str, Any], result_set: Path) -> Path:
    """The folder the run was made in (``cwd``; paths on its command line are relative to it), else the set's
    project (``PROJECT/results/NAME``).

    Raises
    ------
    Refused
        For a ``cwd`` that is not a folder name.
    """
    cwd = man.get("cwd")
    if cwd is not None and not isinstance(cwd, str):
        raise Refused(Path(result_set) / "manifest.json", "cwd", "a folder name", repr(cwd)[:200])
    return Path(cwd) if cwd else Path(result_set).resolve().parent.parent


def kind_of(args: Sequence[str]) -> str:
    """The kind of set a re-run command (from :func:`rerun_argv`) writes: a key of :data:`ALLOWED`.

    Examples
    --------
    >>> kind_of(["--target=2GW"]), kind_of(["sweep", "--world", "--steps=2"]), kind_of(["compare", "a", "b"])
    ('run', 'world-sweep', 'compare')
    """
    if not args or args[0].startswith("-"):
        return "run"
    if list(args[:2]) == ["sweep", "--world"]:
        return "world-sweep"
    return args[0]


def _compare_argv(shown: Any, options: list[tuple[str, str | None]], base: Path, roots: list[Path],
                  result_set: Path, results: Path, name: str) -> list[str]:
    """``compare SET SET ... --no-plots --results=RESULTS --out=NAME``: every source a readable set of the project.

    Raises
    ------
    Refused
        For a source set outside the project, the comparison itself, or one that is not a result set.
    """
    out = ["compare"]
    for opt, value in options:
        if opt == "SOURCES":
            out.append(str(_source_set(shown, str(value), base, roots, result_set, needs_manifest=False)))
        elif opt in ("--all", "--no-plots"):
            out.append(opt)
    if "--no-plots" not in out:
        out.append("--no-plots")
    return out + [f"--results={results}", f"--out={name}"]


def source_sets(args: Sequence[str]) -> list[Path]:
    """The source sets of a re-run comparison command (from :func:`rerun_argv`, so each one checked)."""
    return [Path(a) for a in args[1:] if not a.startswith("-")] if kind_of(args) == "compare" else []


def _source_set(shown: Any, value: str, base: Path, roots: list[Path], result_set: Path,
                needs_manifest: bool = True) -> Path:
    """The set a replan started from (or a comparison read): a result set folder inside the project whose JSON
    files are bounded (a comparison's sources may lack a manifest, as ``run.py compare`` allows).

    Raises
    ------
    Refused
        For a folder outside the project, the set itself, or one that is not a result set.
    """
    path = _resolve(value, base)
    if not inside(path, roots):
        raise Refused(shown, "command_line", "a source set inside the project (" + " or ".join(map(str, roots))
                      + ")", repr(value)[:200])
    if path == result_set.resolve():
        raise Refused(shown, "command_line", "a source set other than the set being verified", repr(value)[:200])
    for name in ("manifest.json", "summary.json"):
        if name == "manifest.json" and not needs_manifest and not (path / name).exists():
            continue
        try:
            read_json(path / name)
        except ValueError as exc:
            raise Refused(shown, "command_line", "a source set that verify can read", str(exc)[:300]) from None
    return path


def _checked_value(shown: Path | str, opt: str, how: str, value: str) -> str:
    """``value`` if it has the form ``how`` asks for (a number, a choice, a plain name, a path), else Refused."""
    def refuse(expected: str) -> Refused:
        return Refused(shown, "command_line", f"{opt} {expected}", repr(value)[:200])

    if "\x00" in value or "\n" in value:
        raise refuse("without control characters")
    if how == "int":
        from model.bounds import WHOLE_NUMBER_BOUNDS

        low, high = WHOLE_NUMBER_BOUNDS.get(opt, (-(10**9), 10**9))
        if not value.strip().lstrip("-").isdigit() or len(value) > 12:
            raise refuse("a whole number")
        if not low <= int(value) <= high:
            raise refuse(f"a whole number from {low} to {high}")
    elif how == "float":
        try:
            float(value)
        except ValueError:
            raise refuse("a number") from None
    elif "|" in how:
        if value not in how.split("|"):
            raise refuse("one of " + ", ".join(how.split("|")))
    elif how in ("scenario", "resume"):
        if not _PLAIN_NAME.match(value) or value in (".", ".."):
            raise refuse("a plain name (letters, digits, '.', '_', '-'; no '/')")
    elif how in ("inputs", "path-input", "source-set", "source-sets"):
        if not value or "://" in value:
            raise refuse("a folder or file of the project")
    return value
