"""What the live server accepts before it reads a request: Host, Origin, Content-Type and body size.

The server answers only its own page and local scripts:

* the ``Host`` header must name this machine (``localhost``, ``127.0.0.1``,
  ``[::1]``) or a name given with ``--allow-host``: a page elsewhere that
  points a DNS name at this machine (DNS rebinding) is refused (403);
* a request that says where it comes from (``Origin``, or a browser's
  ``Sec-Fetch-Site``) must come from this server's own origin (403);
* ``POST`` bodies must be ``Content-Type: application/json`` (415): a form
  or ``text/plain`` post, which any web page may send without asking, is refused;
* a body larger than :data:`MAX_BODY_BYTES` is refused unread (413).

Every refusal is a JSON ``{"error": ...}`` that says what was expected and what was found.
"""
from __future__ import annotations

from typing import Any, Iterable

#: Host names a request may address without ``--allow-host``.
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})

#: Largest request body read (bytes); a what-if case is a few hundred.
MAX_BODY_BYTES = 64 * 1024


class Refused(Exception):
    """A request the guard turns away: ``status`` (HTTP code) and ``text`` (the error shown)."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(status, text)
        self.status, self.text = status, text


def short(text: str, n: int = 40) -> str:
    """``text`` quoted, cut to ``n`` characters with its length said when longer."""
    text = str(text)
    return repr(text) if len(text) <= n else f"{text[:n]!r}... ({len(text)} characters)"


def host_name(host: str) -> str:
    """The name part of a ``Host`` header (no port; IPv6 without brackets), lower case."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def allowed_hosts(extra: Iterable[str] = ()) -> frozenset[str]:
    """The local names plus those given with ``--allow-host`` (ports and brackets ignored)."""
    return LOCAL_HOSTS | {host_name(h) for h in extra if h.strip()}


def check_headers(method: str, headers: Any, allowed: frozenset[str]) -> None:
    """Refuse a request from elsewhere: foreign Host, foreign Origin, or a POST that is not JSON.

    Raises
    ------
    Refused
        403 for the Host or the origin, 415 for the Content-Type, 413 for a declared body too large.
    """
    host = headers.get("host", "")
    if host_name(host) not in allowed:
        raise Refused(403, f"request, header 'Host': expected this machine ({', '.join(sorted(allowed))}; "
                           f"more with run.py serve --allow-host NAME), found {short(host)}")
    origin = headers.get("origin")
    if origin is not None and origin.rstrip("/").lower() not in (f"http://{host}".lower(), f"https://{host}".lower()):
        raise Refused(403, f"request, header 'Origin': expected this server's own page (http://{host}), "
                           f"found {short(origin)}")
    site = headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        raise Refused(403, f"request, header 'Sec-Fetch-Site': expected same-origin, found {short(site)}")
    if method == "POST":
        ctype = headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if ctype != "application/json":
            raise Refused(415, f"request, header 'Content-Type': expected application/json, "
                               f"found {short(ctype) if ctype else 'none'}")
        length = headers.get("content-length")
        if length is not None and length.strip().isdigit() and int(length) > MAX_BODY_BYTES:
            raise Refused(413, f"request: expected a body of at most {MAX_BODY_BYTES} bytes, found {int(length)}")


async def read_body(request: Any, limit: int = MAX_BODY_BYTES) -> bytes:
    """The request body, read in pieces and refused (413) as soon as it passes ``limit`` bytes."""
    parts, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise Refused(413, f"request: expected a body of at most {limit} bytes, found more")
        parts.append(chunk)
    return b"".join(parts)
