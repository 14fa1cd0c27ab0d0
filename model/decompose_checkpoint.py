"""An interrupted decomposition resumes: every evaluated first stage and its cuts, one file per iteration.

``run.py stochastic --method decompose --name NAME`` keeps ``results/.NAME.partial/`` while it runs
(as a sweep keeps its finished chunks): ``decompose.json`` (which futures and first-stage keys, so a
resume of other futures is refused) and ``it-00001.npz`` ... (the point x, each future's cost with
the elastic penalty, its linking duals and the elastic slack), each written atomically after the
futures were solved at that point. ``--resume`` re-adds those cuts to a fresh master, which gives back
the same lower bound, incumbent and next point, and goes on from the next iteration. On success
the folder is removed.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Sequence

import numpy as np


class CheckpointMismatch(ValueError):
    """The partial run in the folder planned other futures or another first stage."""


class Checkpoint:
    """The iterations of one decomposition, kept in ``folder``."""

    def __init__(self, folder: Path, names: Sequence[str], keys: Sequence[tuple]) -> None:
        self.folder = Path(folder)
        self.names = list(names)
        fingerprint = hashlib.sha256(json.dumps([self.names, [list(map(str, k)) for k in keys]]).encode()).hexdigest()
        meta = self.folder / "decompose.json"
        if meta.exists():
            found = json.loads(meta.read_text()).get("fingerprint")
            if found != fingerprint:
                raise CheckpointMismatch(f"{self.folder}: the interrupted run planned other futures or another first "
                                         f"stage (fingerprint {str(found)[:12]}, this run {fingerprint[:12]})")
        else:
            self.folder.mkdir(parents=True, exist_ok=True)
            _write_atomic(meta, json.dumps({"fingerprint": fingerprint, "futures": len(self.names)}).encode())

    def points(self) -> list[tuple[np.ndarray, list[tuple[str, float, np.ndarray, float]], float]]:
        """Every saved iteration in order: (x, [(future, cost, duals, slack), ...], lower bound when x was chosen)."""
        out = []
        for f in sorted(self.folder.glob("it-*.npz")):
            with np.load(f) as d:
                x, costs, slack, start, duals = d["x"], d["costs"], d["slack"], d["start"], d["duals"]
                lower = float(d["lower"])
            out.append((x, [(n, float(costs[i]), duals[start[i]:start[i + 1]], float(slack[i]))
                            for i, n in enumerate(self.names)], lower))
        return out

    def save(self, it: int, x: np.ndarray, rows: Sequence[tuple[str, float, np.ndarray, float]],
             lower: float) -> None:
        """Keep iteration ``it``: the point, every future's (name, cost, duals, slack) there, and the lower bound
        known when the point was chosen."""
        by = {r[0]: r for r in rows}
        ordered = [by[n] for n in self.names]
        start = np.concatenate([[0], np.cumsum([len(r[2]) for r in ordered])]).astype(np.int64)
        duals = np.concatenate([r[2] for r in ordered]) if ordered else np.zeros(0)
        import io

        buf = io.BytesIO()
        np.savez(buf, x=x, costs=np.array([r[1] for r in ordered]), slack=np.array([r[3] for r in ordered]),
                 start=start, duals=duals, lower=np.array(lower))
        _write_atomic(self.folder / f"it-{it:05d}.npz", buf.getvalue())

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def partial_dir(root: Path, name: str) -> Path:
    """Where an unfinished decomposition keeps its iterations: ``results/.NAME.partial`` (as a sweep)."""
    return Path(root) / f".{name}.partial"


def resumable(folder: Path) -> bool:
    return (Path(folder) / "decompose.json").exists()


__all__ = ["Checkpoint", "CheckpointMismatch", "partial_dir", "resumable"]
