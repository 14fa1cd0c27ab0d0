"""One colour per vendor, host, region and power kind, kept as data in ``inputs/colours.csv``.

Like PyPSA's carrier colours or Calliope's per-technology ``color``: the
colours live in the inputs, so a company has the same colour in every plot of
every run. ``colours.csv`` is tidy: ``kind,name,colour,source`` with ``kind``
one of ``vendor``, ``host``, ``region``, ``power_kind``, ``buyer`` and ``colour`` a
``#rrggbb`` hex.

Rules of :func:`colour`:

1. the row of that kind and name;
2. a host without a row that is also a vendor takes the vendor's colour
   (``aws``; ``google-cloud`` is Google's cloud and takes ``google``), so a
   company keeps one colour whether it makes the chips or runs them;
3. any other name gets a colour from a fixed qualitative palette chosen by a
   hash of the name: stable across runs and independent of rank or order.
"""
from __future__ import annotations

import csv
import hashlib
import re
from functools import lru_cache
from pathlib import Path
from typing import Iterable

from model.errors import InputError, InputErrors

COLOURS_FILE = Path(__file__).resolve().parent.parent / "inputs" / "colours.csv"
KINDS = ("vendor", "host", "region", "power_kind", "buyer")
#: Colours for names not in the file (Okabe-Ito and ColorBrewer Set1/Dark2 hues, none in a light/dark pair).
FALLBACK = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#56b4e9", "#e69f00", "#999933", "#882255",
            "#44aa99", "#332288", "#aa4499", "#117733", "#661100", "#6699cc", "#888888", "#ddcc77")
OTHER = "#c7c7c7"
_HEX = re.compile(r"#[0-9a-fA-F]{6}")


@lru_cache(maxsize=8)
def read_colours(path: Path = COLOURS_FILE) -> dict[tuple[str, str], str]:
    """``{(kind, name): "#rrggbb"}`` from a colours file; every problem in it at once.

    Raises
    ------
    InputErrors
        A row with an unknown kind, a colour that is no ``#rrggbb`` hex, a
        missing source, or a repeated (kind, name).
    """
    path = Path(path)
    if not path.exists():
        return {}
    out: dict[tuple[str, str], str] = {}
    errors: list[InputError] = []
    shown = f"inputs/{path.name}"
    with path.open(newline="") as f:
        reader = csv.DictReader(f)
        missing = {"kind", "name", "colour", "source"} - set(reader.fieldnames or [])
        if missing:
            raise InputErrors([InputError(shown, 1, ", ".join(sorted(missing)), "columns kind,name,colour,source",
                                          ",".join(reader.fieldnames or []))])
        for line, row in enumerate(reader, start=2):
            kind, name = (row.get("kind") or "").strip(), (row.get("name") or "").strip()
            hexa = (row.get("colour") or "").strip()
            if kind not in KINDS:
                errors.append(InputError(shown, line, "kind", f"one of {', '.join(KINDS)}", repr(kind)))
            if not _HEX.fullmatch(hexa):
                errors.append(InputError(shown, line, "colour", "a #rrggbb hex colour", repr(hexa)))
            if not (row.get("source") or "").strip():
                errors.append(InputError(shown, line, "source", "a source or 'assumption: <reason>'", "''"))
            if (kind, name) in out:
                errors.append(InputError(shown, line, "name", f"one row per kind and name", f"{kind} {name} again"))
            out[(kind, name)] = hexa.lower()
    if errors:
        raise InputErrors(errors)
    return out


def fallback(name: str) -> str:
    """A colour for a name the file does not list: the same name always gets the same colour."""
    digest = hashlib.sha256(str(name).encode()).digest()
    return FALLBACK[int.from_bytes(digest[:4], "big") % len(FALLBACK)]


def colour(kind: str, name: str, path: Path = COLOURS_FILE) -> str:
    """The colour of one vendor, host, region or power kind (see the module's rules).

    >>> colour("vendor", "aws") == colour("host", "aws")
    True
    """
    table = read_colours(path)
    name = str(name)
    if name.lower() == "other":
        return OTHER
    if (kind, name) in table:
        return table[(kind, name)]
    if kind == "host":
        for vendor in (name, name.split("-")[0]):
            if ("vendor", vendor) in table:
                return table[("vendor", vendor)]
    for k in KINDS:   # a display name given where an id was expected still finds its row
        for (kk, n), c in table.items():
            if kk == kind and n.lower() == name.lower():
                return c
    return fallback(f"{kind}:{name}")


def colours(kind: str, names: Iterable[str], path: Path = COLOURS_FILE) -> dict[str, str]:
    """``{name: colour}`` for several names of one kind."""
    return {n: colour(kind, n, path) for n in names}
