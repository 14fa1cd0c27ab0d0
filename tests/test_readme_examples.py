"""Every ``python run.py ...`` line in README.md does what its comment says.

The expected outcome is read from the line's comment, so when the data
change only the README line needs fixing:

- ``exit N`` in the comment: the command exits N; no ``exit`` means exit 0;
- ``status WORD``: the terminal says ``Status: WORD``;
- ``the target binds``: the run's target is among its binding limits (it drives the plan).

Each line runs exactly as written (no option added: plots, ranking and the
default name included) in its own temporary copy of the project's inputs
(its ``results/`` is the result sets' folder; paths such as
``inputs/futures/deals.yaml`` work), so names never collide; a line that
reads a set an earlier line writes (``compare results/base``, ``replan
results/plan80``) has that line run first in the same copy. Optional parts
in brackets are run as written (brackets dropped) unless they hold a placeholder. Lines that are
templates (``NAME``, ``FILE``, ``...``) cannot run as written and are
skipped, saying so; so are the few that take minutes (listed in :data:`SLOW`,
with the time measured). ``README_EXAMPLES_ALL=1`` runs those too.

The ``--help`` text's examples are held to the same standard (exit 0).
"""
from __future__ import annotations

import json
import os
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import pytest

from model.cli import HELP_EXAMPLES, main
from model.cli_common import COMMANDS

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"

#: Examples that take minutes, by a word of their line: why they are skipped (measured on 2 busy cores).
SLOW = {
    "--method ph": "progressive hedging: 300 iterations over 9 futures, 473 s measured",
    "--samples 500": "a 500-sample Monte Carlo sweep over dists.yaml, a file the user writes (none is shipped)",
    "serve": "starts a web server that runs until stopped; tests/test_serve.py starts one and drives it",
    "--method sobol": "1,024 cases with the sweep's page and plots, as written: 152 s measured (busy cores)",
}
#: Commands that write a result set and take --name / --no-plots.
WRITES = {"run", "stochastic", "alternatives", "sweep"}
PLACEHOLDER = re.compile(r"\.\.\.|\b(NAME|FILE|KEY|VALUE|LOW|HIGH|UNIT)\b|tcp://")


@dataclass(frozen=True)
class Example:
    line: str          # the command as README writes it, from 'run.py'
    args: tuple[str, ...]
    comment: str
    skip: str = ""     # why it is not run, or ""

    @property
    def exit_code(self) -> int:
        m = re.search(r"\bexit (\d+)", self.comment)
        return int(m.group(1)) if m else 0

    @property
    def status(self) -> str | None:
        m = re.search(r"\bstatus (\w+)", self.comment)
        return m.group(1) if m else None

    @property
    def command(self) -> str:
        return self.args[0] if self.args and self.args[0] in COMMANDS else "run"


def _drop_optional(text: str) -> str:
    """``[--count 6]`` -> ``--count 6``; ``[--out NAME]`` (a placeholder) -> nothing."""
    return re.sub(r"\[([^\[\]]*)\]", lambda m: "" if PLACEHOLDER.search(m.group(1)) else m.group(1), text)


def readme_examples(text: str) -> list[Example]:
    """Every ``python run.py`` command in the fenced code blocks of ``text``, once, in order.

    A command's comment is its own ``# ...`` and the comment-only lines below it.
    """
    out: list[Example] = []
    lines, in_code = text.splitlines(), False
    joined: list[str] = []
    for raw in lines:
        if raw.strip().startswith("```"):
            in_code = not in_code
            continue
        if not in_code:
            continue
        if joined and joined[-1].endswith("\\"):
            joined[-1] = joined[-1][:-1] + " " + raw.strip()
        else:
            joined.append(raw)
    in_code = False
    for i, line in enumerate(joined):
        for part in line.split("&&"):
            if "python run.py" not in part:
                continue
            code, _, comment = part.partition("#")
            follow = []
            for nxt in joined[i + 1:]:
                if not nxt.strip().startswith("#"):
                    break
                follow.append(nxt.strip().lstrip("#").strip())
            comment = " ".join([comment.strip(), *follow]).strip()
            written = code.split("python run.py", 1)[1].strip()
            runnable = _drop_optional(written)
            skip = ""
            if PLACEHOLDER.search(runnable):
                skip = f"a template, not a runnable line: {written!r}"
            else:
                skip = next((f"takes minutes: {why}" for word, why in SLOW.items() if word in runnable), "")
            args = tuple(shlex.split(runnable)) if not PLACEHOLDER.search(runnable) else ()
            ex = Example("run.py " + written, args, comment, skip)
            if all(o.args != ex.args or o.skip for o in out) or ex.skip:
                out.append(ex)
    return out


EXAMPLES = readme_examples(README.read_text(encoding="utf-8"))


@pytest.fixture
def workdir(tmp_path) -> Path:
    """A copy of the project's inputs (a line may not change the project's own files or results)."""
    import shutil

    shutil.copytree(ROOT / "inputs", tmp_path / "inputs")
    return tmp_path


def _run_in(folder: Path, args: list[str], monkeypatch) -> int:
    monkeypatch.chdir(folder)
    return main(args)


def _ensure_sets_named_in(args: list[str], folder: Path, monkeypatch, capsys) -> None:
    """A compare or replan line needs the sets earlier lines make (``results/base``): make them, as written."""
    for a in args:
        if a.startswith("results/") and not (folder / a).exists():
            maker = next(e for e in EXAMPLES if "--name" in e.args
                         and e.args[e.args.index("--name") + 1] == a.split("/", 1)[1])
            assert _run_in(folder, list(maker.args), monkeypatch) == maker.exit_code
            capsys.readouterr()


def test_the_readme_has_the_examples_this_test_runs():
    names = {e.command for e in EXAMPLES}
    assert {"run", "check", "scenarios", "compare", "sweep", "stochastic", "alternatives"} <= names, names
    assert any(e.exit_code == 3 for e in EXAMPLES)
    ph = [e for e in EXAMPLES if "--method ph" in e.line]
    assert ph and all("--futures inputs/futures/" in e.line for e in ph), "PH must name a shipped futures file"
    for e in ph:
        futures = e.args[e.args.index("--futures") + 1]
        assert (ROOT / futures).exists(), futures


@pytest.mark.parametrize("index", range(len(EXAMPLES)), ids=[e.line[:80] for e in EXAMPLES])
def test_readme_example_does_what_its_line_says(index, workdir, monkeypatch, capsys):
    ex = EXAMPLES[index]
    if ex.skip and not (os.environ.get("README_EXAMPLES_ALL") and ex.skip.startswith("takes minutes")):
        pytest.skip(ex.skip)
    args = list(ex.args)                     # exactly as written
    if ex.command in ("compare", "replan"):
        _ensure_sets_named_in(args, workdir, monkeypatch, capsys)
    code = _run_in(workdir, args, monkeypatch)
    out, err = capsys.readouterr()
    assert code == ex.exit_code, (f"README: {ex.line}  # {ex.comment}\nexpected exit {ex.exit_code}, got {code}\n"
                                  f"{err[-2000:]}\n{out[-2000:]}")
    if ex.status:
        assert f"Status: {ex.status}" in out, out[:500]
    if "the target binds" in ex.comment:
        written = [p for p in (workdir / "results").iterdir() if not p.name.startswith(".")]
        assert len(written) == 1, written
        summary = json.loads((written[0] / "summary.json").read_text())
        assert any(b["name"].startswith("target ") for b in summary["binding"]), \
            f"README says the target binds, but no target is among the binding limits: {ex.line}"


@pytest.mark.parametrize("example", HELP_EXAMPLES)
def test_help_examples_run(example, tmp_path, monkeypatch, capsys):
    args = shlex.split(example)[1:]
    name = args[0] if args and args[0] in COMMANDS else "run"
    import shutil

    shutil.copytree(ROOT / "inputs", tmp_path / "inputs")     # as written: the project's inputs, a copy
    assert name in COMMANDS
    assert _run_in(tmp_path, args, monkeypatch) == 0, capsys.readouterr().err[-2000:]
