"""Running chunks of cases: in this process, local processes or a Dask cluster; finished chunks kept for ``--resume``."""
from __future__ import annotations

import concurrent.futures as cf
import json
import os
import threading
from pathlib import Path
from typing import Any, Callable, Sequence

from model.sweep.keys import SweepUsageError
from model.sweep.runner import CaseResult, CaseRunner, SweepJob

_LOCAL = threading.local()


def run_chunk(job: SweepJob, cases: Sequence[tuple[int, dict[str, float]]]) -> list[CaseResult]:
    """Solve a chunk of cases in this worker, building the worker's HiGHS instances on its first chunk."""
    runner = getattr(_LOCAL, "runner", None)
    if runner is None or runner.token != job.token:
        runner = CaseRunner(job)
        _LOCAL.runner = runner
    return runner.run_chunk(cases)


def _init_process(job: SweepJob) -> None:
    _LOCAL.job = job


def _run_chunk_in_process(cases: Sequence[tuple[int, dict[str, float]]]) -> list[CaseResult]:
    return run_chunk(_LOCAL.job, cases)


def execute(job: SweepJob, chunks: Sequence[list[tuple[int, dict[str, float]]]], workers: int,
            scheduler: Any, on_done: Callable[[list[CaseResult]], None],
            run: Callable[[SweepJob, list[tuple[int, dict[str, float]]]], list[CaseResult]] | None = None) -> None:
    """Run ``chunks`` and hand each finished chunk's results to ``on_done`` (in completion order).

    ``scheduler``: None (this process or ``workers`` local processes), a Dask
    scheduler's address, or a connected ``distributed.Client``.

    ``run`` solves a chunk in this process (default :func:`run_chunk`; the
    command passes its own name for it, so a test can watch the cases run).

    Raises
    ------
    KeyboardInterrupt
        Passed on after cancelling what has not started.
    RuntimeError
        When a worker dies (the finished chunks have been handed over).
    """
    if not chunks:
        return
    if scheduler:
        execute_dask(job, chunks, scheduler, on_done)
        return
    workers = max(1, min(workers, len(chunks)))
    if workers == 1:
        for chunk in chunks:
            on_done((run or run_chunk)(job, chunk))
        return
    from concurrent.futures.process import BrokenProcessPool

    pool = cf.ProcessPoolExecutor(max_workers=workers, initializer=_init_process, initargs=(job,))
    futures = [pool.submit(_run_chunk_in_process, chunk) for chunk in chunks]
    try:
        for f in cf.as_completed(futures):
            on_done(f.result())
    except BrokenProcessPool:
        pool.shutdown(wait=False, cancel_futures=True)
        raise RuntimeError("a worker process died") from None
    except BaseException:
        started = list((getattr(pool, "_processes", None) or {}).values())   # the workers this pool started
        pool.shutdown(wait=False, cancel_futures=True)
        for p in started:
            p.terminate()
        raise
    pool.shutdown(wait=True)


def execute_dask(job: SweepJob, chunks: Sequence[list[tuple[int, dict[str, float]]]], scheduler: Any,
                  on_done: Callable[[list[CaseResult]], None]) -> None:
    """Send the chunks to a Dask cluster: ``scheduler`` is its address, or a connected ``distributed.Client``."""
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise SweepUsageError("--scheduler needs Dask: python -m pip install -e '.[sweep]'") from None
    own = isinstance(scheduler, str)
    if own:
        try:
            client = Client(scheduler, timeout="30s")      # a loaded machine may take seconds to answer
        except (OSError, TimeoutError, ValueError) as exc:   # unreachable (OSError) or a malformed address
            raise SweepUsageError(f"--scheduler {scheduler}: cannot connect ({type(exc).__name__}: {exc})") from None
    else:
        client = scheduler
    futures = []
    try:
        shared = client.scatter(job, broadcast=True, hash=False)
        futures = [client.submit(run_chunk, shared, chunk, pure=False, key=f"sweep-{job.token[:8]}-{chunk[0][0]}")
                   for chunk in chunks]
        for f in as_completed(futures):
            on_done(f.result())
    finally:
        if futures:
            client.cancel(futures)
        if own:
            client.close()


def partial_dir(root: Path, name: str) -> Path:
    """Where an unfinished sweep keeps its finished chunks: ``results/.NAME.partial``."""
    return root / f".{name}.partial"


def write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def save_chunk(folder: Path, results: Sequence[CaseResult]) -> None:
    """Keep one finished chunk (written atomically: a chunk file is complete or absent)."""
    first = min(r.case for r in results)
    write_atomic(folder / "chunks" / f"chunk-{first:07d}.json",
                  json.dumps([r.as_json() for r in results], allow_nan=True))


def load_chunks(folder: Path) -> dict[int, CaseResult]:
    """Every case finished so far, by case number."""
    out: dict[int, CaseResult] = {}
    for f in sorted((folder / "chunks").glob("chunk-*.json")):
        for d in json.loads(f.read_text()):
            r = CaseResult.from_json(d)
            out[r.case] = r
    return out
