"""The inputs' date: the latest source date among the input rows a run read.

Every sourced input row carries a ``date`` (when its source said it). The latest of them is the date of
the inputs as a whole: what "inputs of DATE" states on the pages and the terminal (the basis of the
shares of the world's supply), what a plan's and a world run's ``manifest.json`` record as
``inputs_date``, and what ``run.py world --write-allocation`` writes into ``inputs/world_allocation.csv``.
It is never the day a run happened to be made (a re-run of the same inputs states the same date).
"""
from __future__ import annotations

import csv
import functools
import re
from pathlib import Path
from typing import Mapping

#: A full calendar date as the input files write it (``2026-09-30``); a month or year alone is not compared.
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
#: "inputs of DATE" as the shares' basis words it (:mod:`model.inputs.allocation`), with the date it states.
INPUTS_OF = re.compile(r"inputs of (\d{4}-\d{2}-\d{2}|\?|unknown date)")


def file_dates(path: Path) -> list[str]:
    """The full dates of the ``date`` column of one CSV input file (``#`` lines are comments); none when the
    file has no such column or is not a CSV file."""
    path = Path(path)
    if path.suffix != ".csv" or not path.is_file():
        return []
    with path.open(newline="", encoding="utf-8") as f:
        rows = csv.DictReader(line for line in f if not line.startswith("#"))
        if "date" not in (rows.fieldnames or ()):
            return []
        return [d for d in ((r.get("date") or "").strip() for r in rows) if DATE.match(d)]


@functools.lru_cache(maxsize=32)
def _latest(files: tuple[tuple[str, str], ...]) -> str | None:
    """The latest date over ``(path, sha256)`` pairs (kept by content: the live page asks once per input set)."""
    return max((d for path, _ in files for d in file_dates(Path(path))), default=None)


def inputs_date(input_files: Mapping[str, str]) -> str | None:
    """The latest full source date among the rows of the input files a run read, ``YYYY-MM-DD``.

    Parameters
    ----------
    input_files : mapping
        Path of each input file read (as the manifest records it: relative to the working folder, or
        absolute) to its sha256.

    Returns
    -------
    str or None
        The date, or None when no file read has a dated row.
    """
    return _latest(tuple(sorted((str(k), str(v)) for k, v in input_files.items())))


def with_inputs_date(text: str, date: str | None) -> str:
    """``text`` with every "inputs of DATE" stating ``date`` (unchanged without one).

    >>> with_inputs_date("world run, value rule, inputs of 2026-12-03", "2026-09-30")
    'world run, value rule, inputs of 2026-09-30'
    """
    if not date:
        return text
    return INPUTS_OF.sub(f"inputs of {date}", str(text))
