"""A what-if request: its target, year and ``--set`` values, parsed and refused with the CLI's words."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_PORT = 8050


PAGE = Path(__file__).resolve().parent.parent / "whatif.html"


#: Warm plans kept at once (one per target kind, year and basis).
WARM_PLANS = 4

#: Longest text a request may give for any one value (target, ``--set`` key or value, name).
MAX_VALUE_CHARS = 100

#: Most ``--set`` assignments in one request (the page sends a few dozen at most).
MAX_SETS = 200


def _bounded(text: str, field: str) -> str:
    """``text``, refused (before anything parses it) when longer than :data:`MAX_VALUE_CHARS`."""
    if len(text) > MAX_VALUE_CHARS:
        raise RequestError(f"request, field '{field}': expected at most {MAX_VALUE_CHARS} characters, found "
                           f"{text[:24]!r}... ({len(text)} characters)")
    return text


class RequestError(ValueError):
    """A request the server refuses (HTTP 422); ``str`` is the text shown."""


@dataclass(frozen=True)
class WhatIf:
    """One case as the page or a script asks for it: target, year and ``--set`` assignments."""

    target: str | None = None
    year: int | None = None
    sets: tuple[str, ...] = ()

    def argv(self) -> list[str]:
        """The ``run.py`` arguments that give the same case."""
        out: list[str] = []
        if self.target is not None:
            out += ["--target", self.target]
        if self.year is not None:
            out += ["--year", str(self.year)]
        for a in self.sets:
            out += ["--set", a]
        return out


def parse_request(body: Any, default: WhatIf) -> WhatIf:
    """Read a JSON request body into a :class:`WhatIf` (the server's target and year where absent).

    ``set`` is a mapping ``{"pue": "1.4", "pue.US-Texas": 1.3}`` or a list of
    ``"KEY=VALUE"`` texts, as ``--set`` takes them.

    Raises
    ------
    RequestError
        For a body that is not an object, or a field of the wrong type, named as the CLI names options.
    """
    if not isinstance(body, dict):
        raise RequestError("request: expected a JSON object such as "
                           '{"target": "250GW", "year": 2033, "set": {"pue": "1.4"}}, '
                           f"found {type(body).__name__}")
    if not body:
        raise RequestError("request: expected a JSON object with at least a target or a set, such as "
                           '{"target": "250GW", "year": 2033, "set": {"pue": "1.4"}}, found an empty object')
    for field in ("target", "name", "figures"):
        if isinstance(body.get(field), str):
            _bounded(body[field], field)
    unknown = sorted(set(body) - {"target", "year", "set", "detail", "figures", "name"})
    if unknown:
        raise RequestError(f"request, field {unknown[0][:40]!r}: expected one of target, year, set, detail, "
                           f"figures, name, found {unknown[0][:40]!r}")
    if body.get("figures", "summary") not in ("summary", "page"):
        raise RequestError(f"request, field 'figures': expected summary or page, found {str(body['figures'])[:40]!r}")
    target = body.get("target", default.target)
    if target is not None and not isinstance(target, (str, int, float)) or isinstance(target, bool):
        raise RequestError(f"command line, --target, field '--target': expected a power (e.g. 250GW) or a "
                           f"compute rate (e.g. 500 EFLOP/s), found {str(target)[:40]!r}")
    year = body.get("year", default.year)
    if isinstance(year, str) and year.strip().lstrip("-").isdigit():
        year = int(year)
    if year is not None and (isinstance(year, bool) or not isinstance(year, int)):
        raise RequestError(f"command line, --year, field '--year': expected a calendar year (e.g. 2033), "
                           f"found {str(year)[:40]!r}")
    raw = body.get("set", {}) or {}
    if isinstance(raw, (dict, list)) and len(raw) > MAX_SETS:
        raise RequestError(f"request, field 'set': expected at most {MAX_SETS} assignments, found {len(raw)}")
    sets: list[str] = []
    if isinstance(raw, dict):
        for k, v in raw.items():
            if isinstance(v, bool):
                v = "on" if v else "off"
            _bounded(k, "set")
            if not isinstance(v, (str, int, float)):
                raise RequestError(f"command line, --set {k}, field '{k}': expected a value with its unit "
                                   f"(e.g. 1.4, 8%, 90USD/MWh), found {str(v)[:40]!r}")
            sets.append(f"{k}={_bounded(str(v), f'set.{k}')}")
    elif isinstance(raw, list) and all(isinstance(a, str) for a in raw):
        sets = [_bounded(a, "set") for a in raw]
    else:
        raise RequestError("request, field 'set': expected a mapping of KEY to VALUE "
                           f'(e.g. {{"pue": "1.4"}}) or a list of "KEY=VALUE", found {str(raw)[:40]!r}')
    return WhatIf(None if target is None else str(target), year, tuple(sets))
