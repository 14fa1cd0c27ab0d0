"""The world market: every buyer planned at once on the world's shared chips, firm power and kind-wide caps.

``data.py`` loads the buyers (a Scenario each) and the shared caps; ``build.py`` builds one Pyomo model
with a Block per buyer and the shared constraints; ``solve.py`` solves it and reads out allocations and
scarcity prices; ``output.py`` writes the result set and the allocation file; ``page.py`` renders its
page; ``cli.py`` is ``python run.py world``. See docs/world.md for the rules in math.
"""
from __future__ import annotations

from model.inputs.allocation import set_world_solver
from model.world.resolve import allocation_rows_of, solve_for_allocation

set_world_solver((solve_for_allocation, allocation_rows_of))     # the loader re-solves the world through it
