"""The world re-solved for a single-buyer run's changes: what :mod:`model.inputs.allocation` calls back.

The loader sits below the world (the world loads each buyer with it), so it cannot import the world;
``model.world`` registers these two functions with :func:`model.inputs.allocation.set_world_solver`.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any


def solve_for_allocation(inputs_dir: Path, scenario: str | None, sets: tuple[str, ...], extra: tuple,
                         rule: str) -> tuple[Any, Any]:
    """(WorldInputs, WorldOutcome) of the world with a run's scenario, futures and sets, under ``rule``.

    Raises InputErrors when the world cannot be loaded with those changes.
    """
    from model.world.data import load_world
    from model.world.solve import solve_world

    w = load_world(inputs_dir, scenario, sets, extra)
    return w, solve_world(w, rule)


def allocation_rows_of(w: Any, o: Any, date: str) -> list[dict[str, Any]]:
    """The default buyer's allocation rows of a solved world (:func:`model.world.output.allocation_rows`)."""
    from model.world.output import allocation_rows

    return allocation_rows(w, o, date)
