"""Fast re-solves for sweeps: build once, change only the swept numbers inside HiGHS, read arrays back.

A sweep solves one linear program many times with a few input figures
changed. Rebuilding the Pyomo model per case costs ~100x the solve itself,
and even Pyomo's persistent interface spends most of a re-solve
re-evaluating mutable Params one Python object at a time. This module does
the modelling work once and leaves HiGHS alone with arrays:

* :func:`compile_plan` builds the Pyomo model once with the swept Params
  mutable, loads it into HiGHS through Pyomo's appsi interface, solves it,
  and records

  - the LP as plain arrays (a worker rebuilds its HiGHS instance from them
    in a millisecond, without Pyomo);
  - every matrix coefficient, row bound, cost and objective offset that
    depends on a mutable Param, as a polynomial in the Params
    (``sum_k c_k * prod_j p[j_k]``), found with
    ``generate_standard_repn(..., compute_values=False)``;
  - where the results are: the columns of ``in_service_gw`` and
    ``build_gw``, the rows of the main target, and the optimal basis every
    chunk of cases starts from.

* :class:`HighsPlan` owns one ``highspy.Highs``. For a case it evaluates the
  polynomials for the case's Param values with numpy, pushes only what
  changed (``changeCoeff``, ``changeRowsBounds``, ``changeColsCost``,
  ``changeObjectiveOffset``), runs warm and reads ``col_value`` and
  ``row_dual`` as arrays.

* :class:`CaseDeriver` gives a case's :class:`~model.scenario.Scenario`
  from the loader (validated as run.py validates). :func:`check_plan_matches`
  proves, at the LP level, that pushing a probe's Params into the built plan
  gives the same LP as building that probe from scratch; a sweep whose keys
  fail is solved by a fresh build per case.

* :class:`ModelCheck` checks each fast answer against the case's own model
  (the rows that depend on swept Params and the total cost, recomputed from
  a Pyomo model the worker builds itself), not against the LP HiGHS holds.
"""
from __future__ import annotations

from model.fastsolve.polynomial import IndexChanged, NotPolynomial, ParamSource, Poly, Slots, polynomial
from model.fastsolve.lp import (HIGHS_STATUS, MATCH_RTOL, PlanArrays, highs_lp, lp_arrays_of, lp_difference,
    number_text, plan_readout, status_word)
from model.fastsolve.compile import add_reach, changed_params, compile_plan, fresh_lp
from model.fastsolve.highs import CaseSolve, HighsPlan, check_plan_matches
from model.fastsolve.check import CHECK_TOLERANCE, ModelCheck
from model.fastsolve.cases import (CaseDeriver, METADATA_FIELDS, MISSING, flatten, flatten_fields, same_value,
    scenario_difference, target_kind)

__all__ = ["CHECK_TOLERANCE", "CaseDeriver", "CaseSolve", "HIGHS_STATUS", "HighsPlan", "IndexChanged", "MATCH_RTOL",
           "METADATA_FIELDS", "MISSING", "ModelCheck", "NotPolynomial", "ParamSource", "PlanArrays", "Poly",
           "Slots", "add_reach", "changed_params", "check_plan_matches", "compile_plan", "flatten",
           "flatten_fields", "fresh_lp", "highs_lp", "lp_arrays_of", "lp_difference", "number_text", "plan_readout",
           "polynomial", "same_value", "scenario_difference", "status_word", "target_kind"]
