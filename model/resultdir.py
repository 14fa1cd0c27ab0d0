"""Result-set folders: plain names, never overwritten, written atomically.

Every kind of result set (a plan, a comparison, a sweep, alternatives, a
stochastic plan) is written through :func:`new_result_dir`: into a hidden
temporary folder beside the final one, renamed into place at the end, and
removed on any error or interrupt. A crash leaves nothing half-written, and
two runs racing for one name cannot both win (the second rename fails
because the folder is there and not empty). This module imports nothing
heavy, so commands that only read or compare sets start fast.
"""
from __future__ import annotations

import os
import re
import shutil
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from model.errors import ResultSetError

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]*$")

#: Longest result-set name: the hidden ``.tmp-NAME-PID-XXXXXXXX`` folder must fit the file system's 255.
MAX_NAME_CHARS = 200


def check_name(name: str, what: str = "result set", option: str = "--name") -> None:
    """Refuse names that are not one plain folder name (naming the option they came from)."""
    if len(name) > MAX_NAME_CHARS:
        raise ResultSetError(f"command line, {option}: expected a folder name of at most {MAX_NAME_CHARS} "
                             f"characters for the {what}, found {name[:24]!r}... ({len(name)} characters)")
    if not _NAME.match(name) or name in (".", ".."):
        raise ResultSetError(f"command line, {option}: expected a plain folder name for the {what} (letters, "
                             f"digits, '.', '_', '-', '@', '+'; no '/'), found {name!r}")


def ensure_free(root: Path, name: str, what: str = "result set", option: str = "--name") -> Path:
    """The path the set will take; refuse at once if it exists (nothing is overwritten)."""
    check_name(name, what, option)
    final = Path(root) / name
    if final.exists():
        raise ResultSetError(f"{what} {final} exists already; results are never overwritten. "
                             f"Choose another {option} or remove the folder yourself.")
    return final


@contextmanager
def new_result_dir(root: Path, name: str, what: str = "result set", option: str = "--name") -> Iterator[Path]:
    """A temporary folder that becomes ``root/name`` when the block ends without error.

    Raises
    ------
    ResultSetError
        If ``root/name`` exists before or by the time of the rename.
    OSError
        If the disk or permissions refuse the write (the temporary folder is removed).
    """
    root = Path(root)
    final = ensure_free(root, name, what, option)
    root.mkdir(parents=True, exist_ok=True)
    tmp = root / f".tmp-{name}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        yield tmp
        try:
            os.rename(tmp, final)
        except OSError:
            if not final.exists():   # not a race: a disk or permission error, reported as such
                raise
            raise ResultSetError(f"{what} {final} was created by another run meanwhile; "
                                 "this run's results were not written (nothing was overwritten)") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
