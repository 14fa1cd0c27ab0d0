"""What every ``run.py`` command shares: the command table, the dispatcher, the input options, errors.

Each command parses its own arguments in its own module (``model.compare``,
``model.sweep``, ...) and imports its helpers from here, never from
``model.cli``; ``model.cli`` holds the default ``run`` command and the top
level help. A new command is one line in :data:`COMMANDS`.
"""
from __future__ import annotations

import argparse
import difflib
import importlib
import re
import signal
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, NoReturn, Sequence

from model.exitcodes import EXIT_INPUT, EXIT_INTERRUPT


@dataclass(frozen=True)
class Command:
    """One sub-command: where its ``main(argv) -> exit code`` lives and one line of help."""

    entry: str   # "module:function"
    help: str


#: Every sub-command, in the order ``run.py --help`` lists them. ``run`` is the default
#: when the first word is an option or absent (``python run.py --target 250GW``).
COMMANDS: dict[str, Command] = {
    "run": Command("model.cli:cmd_run", "plan for a target and write a result set (the default command)"),
    "check": Command("model.cli:cmd_check", "validate the inputs without solving; list every problem once"),
    "scenarios": Command("model.cli:cmd_scenarios", "list the shipped scenarios (--long: descriptions and notes)"),
    "compare": Command("model.compare:main", "compare result sets side by side: figures, inputs, plots"),
    "sweep": Command("model.sweep.cli:main", "vary assumptions over many cases: grid, one at a time, Monte Carlo, "
                                         "Sobol, Morris"),
    "verify": Command("model.verify:main", "redo a run from its manifest and check that the figures match"),
    "stochastic": Command("model.stochastic_cli:main", "a two-stage plan that holds up across futures "
                                                   "(expected cost, CVaR, VSS, EVPI)"),
    "alternatives": Command("model.alternatives:main", "near-least-cost plans whose vendor and host mix "
                                                       "differ most"),
    "serve": Command("model.serve:main", "a live what-if page on localhost: move an assumption, see the plan re-solve"),
    "replan": Command("model.replan:main", "re-plan from a year of an existing plan, its past fixed as history"),
    "world": Command("model.world.cli:main", "every buyer at once on the world's chips and power: who gets what, "
                                             "scarcity prices"),
}
#: The commands that live in their own modules (kept for callers of the older name).
MODULE_COMMANDS = {k: c.entry for k, c in COMMANDS.items() if not c.entry.startswith("model.cli:")}


def _is_unit(word: str) -> bool:
    """Whether ``word`` names a unit (``GW``, ``USD/MWh``, ``EFLOP/s``): a stray one after a number."""
    if not re.fullmatch(r"[A-Za-z%][A-Za-z%/*()]{0,20}", word):
        return False
    from model.units import UnitParseError, parse_quantity

    try:
        return not parse_quantity(f"1 {word}").dimensionless or word == "%"
    except UnitParseError:
        return False


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """``"; did you mean 'sweep'?"`` for the closest of ``choices``, or ``""``.

    Examples
    --------
    >>> did_you_mean("sweeep", ["run", "sweep", "verify"])
    "; did you mean 'sweep'?"
    >>> did_you_mean("xyz", ["run", "sweep"])
    ''
    """
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


class ArgumentParser(argparse.ArgumentParser):
    """argparse, with refusals in plain words and a suggestion for a mistyped option or choice.

    ``--traget 250GW`` gives ``unknown option '--traget'; did you mean '--target'?`` (exit 2).
    """

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_INPUT, f"{self.prog}: error: {self.plain(message)}\n")

    def plain(self, message: str) -> str:
        """argparse's message, rewritten for unknown options, stray words and unknown choices."""
        m = re.fullmatch(r"unrecognized arguments: (.*)", message, re.S)
        if m:
            words = m.group(1).split(" ")
            options = [w.split("=", 1)[0] for w in words if w.startswith("-") and len(w) > 1]
            known = [s for a in self._actions for s in a.option_strings]
            if options:
                return "\n  ".join(f"unknown option '{o}'{did_you_mean(o, known)}" for o in options) + \
                    f" ({self.prog} --help lists the options)"
            if words[0] in COMMANDS:
                return f"unexpected argument '{words[0]}': a command must be the first word (run.py {words[0]} ...)"
            if _is_unit(words[0]):
                return (f"unexpected argument '{words[0]}': a value and its unit are one word (--target 250GW, "
                        f"or quoted: --target \"250 {words[0]}\")")
            return f"unexpected argument '{words[0]}' ({self.prog} --help says what it takes)"
        m = re.fullmatch(r"argument (.+?): invalid choice: '(.*)' \(choose from (.*)\)", message, re.S)
        if m:
            name, value, choices = m.group(1), m.group(2), re.findall(r"'([^']*)'", m.group(3))
            if name == "COMMAND":
                return f"unknown command '{value}'{did_you_mean(value, choices)}"
            return (f"{name}: invalid choice '{value}'{did_you_mean(value, choices)} "
                    f"(one of {', '.join(choices)})")
        return message


def add_input_options(p: argparse.ArgumentParser) -> None:
    """``--scenario``, ``--set`` and ``--inputs``: the options every command that loads inputs takes."""
    p.add_argument("--scenario", help="apply inputs/scenarios/NAME.yaml on top of the base data")
    p.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                   help="override one parameter with units, e.g. pue=1.2, discount_rate=8%%, "
                        "electricity_price=90USD/MWh, pue.US-Texas=1.3 (repeatable)")
    p.add_argument("--inputs", type=Path, default=None, help="inputs folder (default: the project's inputs/)")


def fail(msg: str, code: int) -> int:
    """Print ``error: msg`` on stderr and return ``code``."""
    print(f"error: {msg}", file=sys.stderr)
    return code


def dispatch(argv: Sequence[str]) -> int:
    """Run one ``run.py`` command line (without ``run.py``) and return its exit code.

    The first word names the command; without one (an option first, or
    nothing) the command is ``run``. An unknown first word is refused with
    the closest command (exit 2).
    """
    argv = list(argv)
    if argv and not argv[0].startswith("-"):
        if argv[0] not in COMMANDS:
            return fail(f"unknown command '{argv[0]}'{did_you_mean(argv[0], COMMANDS)} "
                        f"(run.py --help lists the commands: {', '.join(COMMANDS)})", EXIT_INPUT)
        name, rest = argv[0], argv[1:]
    else:
        name, rest = "run", argv
    module, func = COMMANDS[name].entry.split(":")
    try:
        entry = getattr(importlib.import_module(module), func)
    except ModuleNotFoundError as exc:
        if exc.name == module:
            return fail(f"'{name}' is not available in this version", EXIT_INPUT)
        raise
    previous = _terminate_as_interrupt()
    try:
        return int(entry(rest) or 0)
    except SystemExit as exc:   # argparse: --help (0) or a refused option (2, already explained)
        return exc.code if isinstance(exc.code, int) else EXIT_INPUT
    except KeyboardInterrupt as exc:
        print("terminated (SIGTERM)" if isinstance(exc, Terminated) else "interrupted", file=sys.stderr)
        return EXIT_INTERRUPT
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised as an interrupt so that every clean-up for Ctrl-C runs (no hidden ``.tmp-`` folder stays)."""


def _raise_terminated(signum: int, frame: object) -> None:
    raise Terminated()


def _terminate_as_interrupt() -> object | None:
    """Make SIGTERM raise :class:`Terminated` (main thread only); returns the handler it replaced, or None."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGTERM, _raise_terminated)
