"""``run.py serve``: the Starlette app (the page, ``POST /api/solve``, ``POST /api/save``) and its options."""
from __future__ import annotations

import argparse
import json
import socket
import sys
import time
from pathlib import Path
from typing import Any, Sequence

from model.exitcodes import EXIT_INPUT, EXIT_OK
from model.serve.controls import controls
from model.serve.planner import Planner
from model.serve.request import DEFAULT_PORT, PAGE, RequestError, WhatIf, parse_request


def make_app(planner: Planner, results: Path) -> Any:
    """The Starlette app: the page, ``/api/controls``, ``/api/solve`` and ``/api/save``."""
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import HTMLResponse, JSONResponse
    from starlette.routing import Route

    from model.errors import InputError, InputErrors, ResultSetError

    page = PAGE.read_text(encoding="utf-8")
    ctl = controls(planner.reference, planner.base.catalogue)

    def refuse(text: str, code: int = 422) -> JSONResponse:
        return JSONResponse({"error": text}, status_code=code)

    async def body_of(request: Request) -> tuple[WhatIf, dict]:
        try:
            body = json.loads(await request.body() or b"{}")
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise RequestError(f"request: expected a JSON object, found text that is not JSON ({exc})") from None
        return parse_request(body, planner.default), body

    async def index(request: Request) -> HTMLResponse:
        return HTMLResponse(page, headers={"Cache-Control": "no-store"})

    async def api_controls(request: Request) -> JSONResponse:
        return JSONResponse(ctl)

    async def api_solve(request: Request) -> JSONResponse:
        try:
            w, body = await body_of(request)
            answer = await run_in_threadpool(planner.solve, w, body.get("figures", "summary"))
        except RequestError as exc:
            return refuse(str(exc))
        except (InputErrors, InputError) as exc:
            return refuse(str(exc))
        except Exception as exc:  # noqa: BLE001 -- a bug must not take the server down; say what happened
            return refuse(f"the server could not solve this case ({type(exc).__name__}: {exc})", 500)
        out = dict(answer.summary)
        if body.get("detail"):
            out["series"] = answer.series
            out["solve"] = answer.solve
        timing = f"solve;dur={answer.solve['server_ms']:.1f}"
        headers = {"Server-Timing": timing, "X-Plan-Path": answer.solve["path"]}
        if answer.solve["reason"]:      # why the case was built afresh (a lifetime changes the LP's shape, ...)
            headers["X-Plan-Reason"] = answer.solve["reason"].encode("ascii", "replace").decode()[:500]
        return JSONResponse(out, headers=headers)

    async def api_save(request: Request) -> JSONResponse:
        try:
            w, body = await body_of(request)
            name = body.get("name") or None
            if name is not None and not isinstance(name, str):
                raise RequestError(f"command line, --name, field '--name': expected a plain folder name, "
                                   f"found {name!r}")
            path = await run_in_threadpool(planner.save, w, results, name)
        except RequestError as exc:
            return refuse(str(exc))
        except (InputErrors, InputError) as exc:
            return refuse(str(exc))
        except ResultSetError as exc:
            return refuse(str(exc), 409)
        except OSError as exc:
            return refuse(f"could not write the result set: {exc}; nothing was written", 500)
        summ = json.loads((path / "summary.json").read_text())
        return JSONResponse({"path": str(path), "name": path.name, "status": summ["status"],
                             "command": ["run.py", "verify", str(path)]})

    return Starlette(routes=[Route("/", index), Route("/api/controls", api_controls),
                             Route("/api/solve", api_solve, methods=["POST"]),
                             Route("/api/save", api_save, methods=["POST"])])


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="run.py serve",
        description="A live what-if page: move an assumption and watch the plan re-solve. Serves one local "
                    "page (no network needed) and POST /api/solve for scripts.")
    p.add_argument("--scenario", help="apply inputs/scenarios/NAME.yaml on top of the base data")
    p.add_argument("--target", help="the starting target: a power (250GW) or a compute rate (500 EFLOP/s)")
    p.add_argument("--year", type=int, help="the starting target year (default 2033)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0: a free one)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    p.add_argument("--inputs", type=Path, default=None, help="inputs folder (default: the project's inputs/)")
    p.add_argument("--results", type=Path, default=Path("results"),
                   help="folder for saved result sets (default results/)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    from model.errors import InputError, InputErrors
    from model.scenario import DEFAULT_INPUTS

    a = parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    try:
        import starlette  # noqa: F401
        import uvicorn
    except ImportError as exc:
        print(f"error: run.py serve needs the 'serve' extra ({exc.name} is missing): "
              "pip install -e '.[serve]'", file=sys.stderr)
        return EXIT_INPUT
    if not 0 <= a.port <= 65535:
        print(f"error: command line, --port, field '--port': expected a port 0..65535, found {a.port}",
              file=sys.stderr)
        return EXIT_INPUT
    t0 = time.perf_counter()
    try:
        planner = Planner(a.inputs or DEFAULT_INPUTS, a.scenario, WhatIf(a.target, a.year))
    except (InputErrors, InputError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    try:
        sock = socket.socket(socket.AF_INET6 if ":" in a.host else socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((a.host, a.port))
        sock.listen(128)               # connections wait in the backlog until uvicorn accepts them
    except OSError as exc:
        print(f"error: command line, --host/--port: cannot listen on {a.host}:{a.port} ({exc.strerror or exc})",
              file=sys.stderr)
        return EXIT_INPUT
    port = sock.getsockname()[1]
    print(f"Building the warm plan for scenario '{planner.reference.name}' ...", flush=True)
    planner.warm(planner.reference)
    host = f"[{a.host}]" if ":" in a.host else a.host
    print(f"Serving the what-if page at http://{host}:{port}/ (ready in {time.perf_counter() - t0:.1f} s; "
          "Ctrl-C stops)", flush=True)
    config = uvicorn.Config(make_app(planner, a.results), log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    server.run(sockets=[sock])
    return EXIT_OK
