"""The base data say where their numbers come from.

Every default row of ``inputs/*.csv`` has a ``source``: an original publication
(URL or publisher) or ``assumption: <reason>``. At most 40 % of the rows may be
assumptions, and no row may cite the team's facts sheet (``facts.md`` /
``facts §N``), which is not in the repository: a reader could not follow it.
"""
from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

INPUTS = Path(__file__).resolve().parent.parent / "inputs"
MAX_ASSUMPTION_SHARE = 0.40
FACTS_SHEET = re.compile(r"facts\.md|facts\s*§", re.IGNORECASE)


def data_rows(path: Path) -> list[dict[str, str]]:
    """The rows of one input CSV (comment and blank lines skipped, as the loader does)."""
    lines = [line for line in path.read_text(encoding="utf-8-sig").splitlines()
             if line.strip() and not line.lstrip().startswith("#")]
    return list(csv.DictReader(lines))


def is_assumption(row: dict[str, str]) -> bool:
    source = (row.get("source") or "").strip()
    return not source or source.lower().startswith("assumption")


def count_assumptions(folder: Path) -> tuple[int, int, dict[str, tuple[int, int]]]:
    """(assumption rows, all rows, per file (assumptions, rows)) over ``folder/*.csv``."""
    per_file = {}
    for path in sorted(folder.glob("*.csv")):
        rows = data_rows(path)
        if rows and "source" not in rows[0]:
            continue        # presentation, not data: display_names.csv has no source column by design
        per_file[path.name] = (sum(is_assumption(r) for r in rows), len(rows))
    return sum(a for a, _ in per_file.values()), sum(n for _, n in per_file.values()), per_file


def test_counter_sees_assumption_and_sourced_rows(tmp_path):
    (tmp_path / "a.csv").write_text("# a comment\nkey,value,source\n"
                                    "x,1,assumption: no public figure\ny,2,https://example.org/report\n"
                                    "z,3,\n", encoding="utf-8")
    assert count_assumptions(tmp_path)[:2] == (2, 3)


def test_at_most_40_percent_of_default_rows_are_assumptions():
    assumed, total, per_file = count_assumptions(INPUTS)
    detail = ", ".join(f"{name} {a}/{n}" for name, (a, n) in per_file.items())
    assert total > 0
    assert assumed / total <= MAX_ASSUMPTION_SHARE, (
        f"{assumed} of {total} rows ({assumed / total:.0%}) are assumptions, more than "
        f"{MAX_ASSUMPTION_SHARE:.0%}: {detail}")


@pytest.mark.parametrize("path", sorted(INPUTS.glob("*.csv")), ids=lambda p: p.name)
def test_no_row_cites_the_facts_sheet_instead_of_the_publication(path):
    bad = [(i, r.get("source", "")) for i, r in enumerate(data_rows(path), start=2)
           if FACTS_SHEET.search(" ".join(v or "" for v in r.values()))]
    assert not bad, f"{path.name}: rows cite the facts sheet, not the original publication: {bad[:5]}"
