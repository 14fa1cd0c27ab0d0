"""The decomposition's sub-problems on a Dask cluster: each worker holds its futures' LPs warm.

``run.py stochastic --method decompose --scheduler ADDRESS`` (as ``run.py sweep --scheduler``):
the futures are split over the cluster's workers; on each worker a :class:`SubproblemHolder`
(a Dask actor, so its state stays on that worker between calls) builds its futures' HiGHS LPs
once (:func:`model.decompose.build_subs`) and re-solves them warm each iteration with the
first stage moved (:func:`model.decompose.solve_subs`). Only the first stage goes out and only
the cuts' numbers come back. The master runs where the command runs. The answer is the same as
on local processes: the same LPs, the same cuts, the same master, in the same order (results are
gathered in the futures' order, whatever worker answers first).
"""
from __future__ import annotations

import threading
from typing import Any

import numpy as np

from model.decompose import build_subs, solve_subs, where_of


#: Pyomo captures the process's file descriptors while it hands a model to HiGHS: two actors in one
#: worker process (threads) must not build at once.
_BUILDING = threading.Lock()


class SubproblemHolder:
    """Some futures' LPs, built once on the worker that holds this actor."""

    def __init__(self, spec: Any, indices: list[int], keys: list[tuple]) -> None:
        with _BUILDING:
            self.subs = build_subs(spec, indices, keys)

    def solve(self, x: np.ndarray | None) -> list:
        return solve_subs(self.subs, x)

    def where(self) -> list:
        return where_of(self.subs)


class DaskPool:
    """The futures split over a Dask cluster's workers (``scheduler``: an address or a connected Client).

    Raises
    ------
    ConnectionError
        When the scheduler cannot be reached (the message names the address).
    """

    def __init__(self, spec: Any, keys: list[tuple], scheduler: Any) -> None:
        from distributed import Client

        self.own = isinstance(scheduler, str)
        if self.own:
            try:
                self.client = Client(scheduler, timeout="30s")
            except (OSError, TimeoutError, ValueError) as exc:   # unreachable, or a malformed address: said
                raise ConnectionError(f"--scheduler {scheduler}: cannot connect ({type(exc).__name__}: {exc})") \
                    from None
        else:
            self.client = scheduler
        workers = sorted(self.client.scheduler_info()["workers"])
        n = len(spec.futures)
        self.processes = max(1, min(len(workers), n))
        chunks = [list(range(n))[i::self.processes] for i in range(self.processes)]
        shared = self.client.scatter(spec, broadcast=True, hash=False)
        handles = [self.client.submit(SubproblemHolder, shared, c, keys, actor=True, workers=[w],
                                      allow_other_workers=False, pure=False)
                   for w, c in zip(workers, chunks)]
        self.actors = [h.result() for h in handles]
        self._handles = handles

    def _gather(self, method: str, *args: Any) -> list:
        calls = [getattr(a, method)(*args) for a in self.actors]
        return [r for c in calls for r in c.result()]

    def solve(self, x: np.ndarray | None) -> list:
        return self._gather("solve", x)

    def where(self) -> list:
        return self._gather("where")

    def close(self) -> None:
        self.actors = []
        self.client.cancel(self._handles)
        if self.own:
            self.client.close()
