"""The world market: every buyer planned at once on the world's shared chips, firm power and kind-wide caps.

``data.py`` loads the buyers (a Scenario each) and the shared caps; ``build.py`` builds one Pyomo model
with a Block per buyer and the shared constraints; ``solve.py`` solves it and reads out allocations and
scarcity prices; ``output.py`` writes the result set and the allocation file; ``page.py`` renders its
page; ``cli.py`` is ``python run.py world``. See docs/world.md for the rules in math.
"""
