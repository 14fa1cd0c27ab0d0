"""Myopic foresight: the horizon planned year by year, each step seeing ``N`` years ahead; regret.

``python run.py --target 250GW --foresight myopic --look-ahead N``

One model
---------
Both modes run on the one Pyomo model :func:`model.build.build_model` makes,
built once and solved by one persistent HiGHS instance. A step changes only
bounds, activity and weights on that built model, never its structure:

- **history**: every decision of an earlier step is fixed (``Var.fix``): capacity
  built per offer and year (its vintages), power ordered, borrowing and repayment,
  energy dispatched, and the shortfalls already accepted (see below);
- **the window** of step ``t`` is ``t .. t + N - 1`` (``N`` years including
  ``t``). Rows indexed by a year after the window (targets, milestones, supply,
  grid, funding, ... of later years) are deactivated, and costs of those years
  get no weight (the mutable ``discount_factor`` is set to 0 there), so no
  target, milestone or price beyond the look-ahead drives the step's decisions;
  rows without a year (cumulative caps, deal commitments over their windows)
  stay active: the step knows its contracts and how far along they are;
- **decisions of the step's first year** are then fixed: ``build_gw[o, t]``,
  the power ``power_build_gw[p, y]`` ordered in ``t`` (``y - lead_time(p) = t``),
  ``borrow[t]``, ``repay[t]``, dispatch in ``t``. Power ordered in ``t`` that would
  serve only after the window is fixed at 0: the step cannot see a need for it.

A model built on the window's years alone (with the carried state as data)
would be the other faithful reading; it would rebuild the model each step.
Here the years after the window are in the model but inert (no active row, no
cost weight), which gives the same decisions for the years the step fixes.

Targets a step cannot meet
--------------------------
Each target, milestone and deal-minimum row gets a shortfall variable, fixed at
0 in perfect foresight; in a myopic step it may rise at a penalty
(:data:`PENALTY_BNUSD`), so a step whose earlier decisions left it unable to
meet a target still returns the least-cost plan for what it can reach. The
status is then ``target_missed`` and the message names the step, the year and
the reason (e.g. the grid needed in 2031 had to be ordered in 2027, beyond the
look-ahead: the lead time). The post-solve check (:mod:`model.checks`) runs on
every step.

Regret
------
The perfect-foresight plan is solved first on the same model (all rows, all
weights), then the steps. ``regret = myopic total cost - perfect-foresight
total cost`` (USD, discounted as ``total_cost``). When the myopic plan meets
every target it is a feasible plan of the perfect-foresight problem, so
regret >= 0 up to solver tolerance.
"""
from __future__ import annotations

from model.foresight.output import (exit_code, insert_section, print_result, report_section, run_from_cli,
                                    steps_table, summary_keys, write_foresight_set)
from model.foresight.solve import solve_foresight
from model.foresight.steps import (DEFAULT_LOOK_AHEAD, FORESIGHT_MODES, ForesightError, ForesightResult, HistoryError,
                                   Shortfall, Step, Stepper, history_contradictions)

__all__ = ["exit_code", "insert_section", "print_result", "report_section", "run_from_cli", "steps_table",
           "summary_keys", "write_foresight_set", "solve_foresight", "DEFAULT_LOOK_AHEAD", "FORESIGHT_MODES",
           "ForesightError", "ForesightResult", "HistoryError", "Shortfall", "Step", "Stepper",
           "history_contradictions"]
