"""``run.py serve``: the Starlette app (the page, ``POST /api/solve``, ``POST /api/save``) and its options."""
from __future__ import annotations

import argparse
import json
import socket
import sys
import time
from pathlib import Path
from typing import Any, NoReturn, Sequence

from model.fmt import sig
from model.exitcodes import EXIT_INPUT, EXIT_OK
from model.serve.controls import controls, rival_buyers
from model.serve.guard import Refused
from model.serve.planner import Planner
from model.serve.request import DEFAULT_PORT, PAGE, RequestError, WhatIf, parse_request


#: Seconds a request may wait for and take in its solve before the server answers 503 (``--solve-time-limit``).
SOLVE_TIME_LIMIT_S = 120.0


def make_app(planner: Planner, results: Path, allow_hosts: Sequence[str] = (),
             time_limit_s: float = SOLVE_TIME_LIMIT_S) -> Any:
    """The Starlette app: the page, ``/api/controls``, ``/api/solve`` and ``/api/save``.

    Every solve and save runs on one worker thread, one at a time: the warm
    plans, a fresh build and Pyomo's output capture (process-wide) are shared
    state, so each answer is the one ``run.py`` gives for its case, while the
    event loop stays free (``GET /`` answers during a solve). A request that
    waits for and takes in its solve more than ``time_limit_s`` seconds gets 503.
    The app's ``state.worker`` is that thread's executor (``main`` shuts it down).
    """
    from concurrent.futures import ThreadPoolExecutor

    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import HTMLResponse, JSONResponse
    from starlette.routing import Route

    from model.errors import InputError, InputErrors, ResultSetError
    from model.serve.guard import allowed_hosts, check_headers, read_body

    page = PAGE.read_text(encoding="utf-8")
    ctl = controls(planner.reference, planner.base.catalogue, rival_buyers(planner.inputs_dir))
    hosts = allowed_hosts(allow_hosts)
    worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="solve")

    def refuse(text: str, code: int = 422) -> JSONResponse:
        return JSONResponse({"error": text}, status_code=code)

    async def body_of(request: Request) -> tuple[WhatIf, dict]:
        check_headers(request.method, request.headers, hosts)
        body = read_json(await read_body(request))
        return parse_request(body, planner.default), body

    async def in_worker(func: Any, *args: Any) -> Any:
        return await run_limited(worker, time_limit_s, func, *args)

    async def guarded_get(request: Request, make: Any) -> Any:
        try:
            check_headers(request.method, request.headers, hosts)
        except Refused as exc:
            return refuse(exc.text, exc.status)
        return make()

    async def index(request: Request) -> HTMLResponse:
        return await guarded_get(request, lambda: HTMLResponse(page, headers={"Cache-Control": "no-store"}))

    async def api_controls(request: Request) -> JSONResponse:
        return await guarded_get(request, lambda: JSONResponse(ctl))

    async def api_solve(request: Request) -> JSONResponse:
        try:
            w, body = await body_of(request)
            answer = await in_worker(planner.solve, w, body.get("figures", "summary"))
        except Refused as exc:
            return refuse(exc.text, exc.status)
        except RequestError as exc:
            return refuse(str(exc))
        except (InputErrors, InputError) as exc:
            return refuse(str(exc))
        except Exception as exc:  # noqa: BLE001 -- a bug must not take the server down; say what happened
            return refuse(f"the server could not solve this case ({type(exc).__name__}: {str(exc)[:300]})", 500)
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
            name = save_name(body)
            path = await in_worker(planner.save, w, results, name)
        except Refused as exc:
            return refuse(exc.text, exc.status)
        except RequestError as exc:
            return refuse(str(exc))
        except (InputErrors, InputError) as exc:
            return refuse(str(exc))
        except ResultSetError as exc:
            return refuse(str(exc), 409)     # the name is taken (an invalid name was refused above: 422)
        except OSError as exc:
            return refuse(f"could not write the result set: {exc}; nothing was written", 500)
        summ = json.loads((path / "summary.json").read_text())
        return JSONResponse({"path": str(path), "name": path.name, "status": summ["status"],
                             "command": ["run.py", "verify", str(path)]})

    app = Starlette(routes=[Route("/", index), Route("/api/controls", api_controls),
                            Route("/api/solve", api_solve, methods=["POST"]),
                            Route("/api/save", api_save, methods=["POST"])])
    app.state.worker = worker
    return app


def save_name(body: dict) -> str | None:
    """The request's ``name``, checked as ``--name`` is before any solve (an invalid one is a 422)."""
    from model.errors import ResultSetError
    from model.resultdir import check_name

    name = body.get("name") or None
    if name is not None and not isinstance(name, str):
        raise RequestError(f"command line, --name, field '--name': expected a plain folder name, "
                           f"found {str(name)[:40]!r}")
    if name is not None:
        try:
            check_name(name)
        except ResultSetError as exc:
            raise RequestError(str(exc)) from None
    return name


def read_json(raw: bytes) -> Any:
    """The request body as JSON, or a :class:`RequestError` saying what was found instead."""
    if not raw.strip():
        raise RequestError('request: expected a JSON object such as {"target": "250GW", "set": {"pue": "1.4"}}, '
                           "found an empty body")
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise RequestError(f"request: expected a JSON object, found text that is not JSON ({exc})") from None
    except RecursionError:
        raise RequestError("request: expected a JSON object, found one nested too deeply") from None
    except ValueError as exc:   # a number of more than 4,300 digits (Python's int limit): was a 500
        raise RequestError(f"request: expected a JSON object with numbers of ordinary size, found {str(exc)[:80]}") \
            from None


async def run_limited(worker: Any, time_limit_s: float, func: Any, *args: Any) -> Any:
    """``func(*args)`` on the solve worker; 503 if it is not done within ``time_limit_s`` (queue included).

    Raises
    ------
    Refused
        503 when the time is up (the solve is left to finish; one still queued is dropped) or the server stops.
    """
    import asyncio

    loop = asyncio.get_running_loop()
    try:
        return await asyncio.wait_for(loop.run_in_executor(worker, func, *args), time_limit_s)
    except asyncio.CancelledError:          # the server is stopping (SIGTERM/SIGINT) and drops this request
        raise Refused(503, "the server is stopping; the case was not finished") from None
    except asyncio.TimeoutError:
        raise Refused(503, f"the case took longer than {sig(time_limit_s, 6)} s to solve (with those queued before "
                           "it); the server stopped waiting. Try again, or run it with run.py") from None


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
    p.add_argument("--allow-host", action="append", default=[], metavar="NAME",
                   help="also answer requests addressed to NAME (the Host header; repeatable). Default: only "
                        "localhost, 127.0.0.1 and [::1], so other web pages cannot reach the server by DNS tricks")
    p.add_argument("--solve-time-limit", type=float, default=SOLVE_TIME_LIMIT_S, metavar="SECONDS",
                   help=f"longest a request waits for its answer before a 503 (default {sig(SOLVE_TIME_LIMIT_S, 6)})")
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
    if not 0 < a.solve_time_limit <= 3600:           # also refuses nan
        print(f"error: command line, --solve-time-limit, field '--solve-time-limit': expected seconds in (0, 3600], "
              f"found {a.solve_time_limit!r}", file=sys.stderr)
        return EXIT_INPUT
    t0 = time.perf_counter()
    try:
        planner = Planner(a.inputs or DEFAULT_INPUTS, a.scenario, WhatIf(a.target, a.year), a.solve_time_limit)
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
    app = make_app(planner, a.results, a.allow_host, a.solve_time_limit)
    config = uvicorn.Config(app, log_level="warning", lifespan="off", timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    import signal

    stops: list[int] = []
    for sig in (signal.SIGINT, signal.SIGTERM):     # uvicorn stops on these, then raises them again for
        signal.signal(sig, lambda n, _f: stops.append(n))   # the handler before it: this one, so _stop runs
    server.run(sockets=[sock])
    return _stop(app.state.worker, a.results)


def _stop(worker: Any, results: Path, wait_s: float = 1.0) -> NoReturn:
    """Stop after the server: queued solves are dropped; one still running gets ``wait_s`` seconds.

    A solve cannot be interrupted inside HiGHS and the worker thread would keep
    the process alive until it ends, so after ``wait_s`` the process exits at
    once, having said so and removed the hidden folder of a save it abandons: a
    stop takes seconds, never a solve's time. The exit is ``os._exit`` in any
    case, after flushing the output: nothing is left to write, and tearing down
    the warm plans' Pyomo models object by object took 5-7 s on a busy machine.
    """
    import os
    import shutil

    worker.shutdown(wait=False, cancel_futures=True)
    deadline = time.monotonic() + wait_s
    busy = list(getattr(worker, "_threads", ()))
    for t in busy:
        t.join(max(0.0, deadline - time.monotonic()))
    print("Stopped.", flush=True)
    if any(t.is_alive() for t in busy):
        # the save's own writes fail once its folder is gone (nothing creates parent folders), so a few
        # passes remove what it adds meanwhile
        for _ in range(20):
            left = list(Path(results).glob(f".tmp-*-{os.getpid()}-*"))
            if not left:
                break
            for tmp in left:
                shutil.rmtree(tmp, ignore_errors=True)
            time.sleep(0.02)
        print("(a solve was still running; it was abandoned and nothing of it was written)", file=sys.stderr,
              flush=True)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(EXIT_OK)
