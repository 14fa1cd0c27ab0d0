"""The one place that reaches into Pyomo's appsi HiGHS interface.

After ``opt.solve(m)`` (or ``opt.set_instance(m)``) appsi holds the model in a
``highspy.Highs`` and maps Pyomo's variables and constraints to its columns
and rows. appsi exposes none of this publicly, so these three functions read
its private attributes. They are tested for the Pyomo range pinned in
``pyproject.toml`` (``tests/test_structure.py::test_pyomo_appsi_internals_the_fast_path_reads_are_there``
fails loudly when a Pyomo release renames them); everything else in the
project calls these functions, never the private names.
"""
from __future__ import annotations

from typing import Any


def highs_of(opt: Any) -> Any:
    """The ``highspy.Highs`` instance appsi loaded the model into."""
    return opt._solver_model


def columns_of(opt: Any) -> dict[int, int]:
    """HiGHS column of each Pyomo variable, keyed by ``id(var)``."""
    return opt._pyomo_var_to_solver_var_map


def rows_of(opt: Any) -> dict[Any, int]:
    """HiGHS row of each Pyomo constraint (keyed by the constraint data object)."""
    return opt._pyomo_con_to_solver_con_map
