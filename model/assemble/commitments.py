"""Dated tranches of ``commitments.csv`` (history, scheduled deliveries, stops) in model units."""
from __future__ import annotations

from typing import Any

from model.errors import InputError
from model.inputs import Catalogue, RawRow, parse_scope, parse_value
from model.inputs.memo import IdentityMemo
from model.records import MINIMUM_ENFORCED, Commitment, Deal, Offer


#: The offers a scope selects, kept per offers object (a kept answer, the same object across a sweep's cases).
_SCOPES = IdentityMemo(4096)


def resolve_scope(r: dict[str, Any], offers: dict[str, Offer], errors: list[InputError]) -> tuple[str, ...] | None:
    """The offers a row's ``scope`` selects; an error if it is malformed or selects none.

    A pure function of the scope text, the row's origin (its errors name it) and ``offers``: kept for the
    very same ``offers`` object (:data:`_SCOPES`), which nothing may change.
    """
    return _SCOPES((offers,), (r["scope"], r["_file"], r["_row"]), lambda problems: _resolve_scope(r, offers, problems),
                   errors)


def _resolve_scope(r: dict[str, Any], offers: dict[str, Offer], errors: list[InputError]) -> tuple[str, ...] | None:
    try:
        terms = parse_scope(r["scope"])
    except ValueError as exc:
        errors.append(InputError(r["_file"], r["_row"], "scope",
                                 "terms key=value joined by & (keys: offer, vendor, family, kind, host, region, "
                                 "contract) or 'all'", repr(str(exc))))
        return None
    chosen = tuple(o for o, info in offers.items()
                   if all(getattr(info, "name" if k == "offer" else k) in vals for k, vals in terms.items()))
    if not chosen:
        errors.append(InputError(r["_file"], r["_row"], "scope", "a scope that selects at least one offer",
                                 repr(r["scope"])))
        return None
    return chosen


def assemble_commitments(rows, catalogue: Catalogue, errors: list[InputError], years: tuple[int, ...],
                          offers: dict[str, Offer], deals: list[Deal]) -> tuple[Commitment, ...]:
    """Tranches of ``commitments.csv`` (history, scheduled deliveries, stops) in model units.

    A tranche whose years lie wholly outside the horizon (e.g. delayed past it) is kept out, and so
    is a scheduled tranche of a deal that is not binding (a letter of intent, cancelled, or dropped by
    a scenario): its schedule follows the deal.
    """
    status = {d.name: d.status for d in deals}
    out: list[Commitment] = []
    spec = catalogue.parameters["commitment"]
    for r in rows("commitments.csv", (years[0], years[-1])):
        if r["first_year"] is None or r["last_year"] is None:
            continue
        deal = r.get("deal", "") or ""
        if r["kind"] == "scheduled" and deal and status.get(deal) not in MINIMUM_ENFORCED:
            continue
        if r["last_year"] < r["first_year"]:
            errors.append(InputError(r["_file"], r["_row"], "last_year", f"a year not before {r['first_year']}",
                                     repr(r["last_year"])))
            continue
        got = parse_value(RawRow({"value": r["value"], "unit": r["unit"]}, r["_file"], r["_row"]), spec, errors)
        if r["bound"] == "at_most" and quiet_scope(r, offers) == ():
            continue        # a cap on offers a scenario dropped caps nothing
        chosen = resolve_scope(r, offers, errors)
        if got is None or chosen is None:
            continue
        if r["kind"] == "history" and r["bound"] != "exactly":
            errors.append(InputError(r["_file"], r["_row"], "bound", "exactly for a history row (it is data)",
                                     repr(r["bound"])))
            continue
        c = Commitment(r["commitment"], r["kind"], chosen, r["scope"], r["first_year"], r["last_year"], r["bound"],
                       got[0], got[1], r.get("deal", "") or "", r.get("source", ""))
        open_years = [y for y in c.window(years) for o in chosen if offers[o].first_year <= y]
        if c.bound != "at_most" and c.value > 0 and c.window(years) and not open_years:
            errors.append(InputError(r["_file"], r["_row"], "first_year",
                                     f"years in which an offer of scope '{r['scope']}' is open (a tranche needs one)",
                                     f"{r['first_year']}..{r['last_year']}"))
            continue
        if c.window(years):
            out.append(c)
    return tuple(out)


def quiet_scope(r: dict[str, Any], offers: dict[str, Offer]) -> tuple[str, ...] | None:
    """The offers a row's scope selects, or None if the scope is malformed (reported by :func:`resolve_scope`)."""
    try:
        terms = parse_scope(r["scope"])
    except ValueError:
        return None
    return tuple(o for o, info in offers.items()
                 if all(getattr(info, "name" if k == "offer" else k) in vals for k, vals in terms.items()))
