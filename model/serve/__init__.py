"""``run.py serve``: a live what-if page; move an assumption and the plan re-solves at once.

    python run.py serve [--scenario S] [--target 250GW] [--year 2033] [--port 8050] [--host 127.0.0.1]

One local web server (Starlette on uvicorn) serves one page (``model/whatif.html``,
plain JavaScript and inline SVG, nothing fetched from the network) and a JSON
endpoint the page and scripts use:

* ``POST /api/solve`` with ``{"target": "250GW", "year": 2033, "set": {"pue": "1.4"}}``
  returns that case's ``summary.json`` figures (the keys and units ``run.py``
  writes, built by :func:`model.results.summary`); ``"detail": true`` adds the
  series the page draws (``series``) and how the case was solved (``solve``);
  ``"figures": "page"`` answers with the figures the page shows first, read
  from the solution's arrays (:func:`page_figures`, a tenth of the read-out).
  Bad input: HTTP 422 with the CLI's error text.
* ``POST /api/save`` with the same body (and an optional ``name``) writes the case
  as a normal result set (``run.py compare`` and ``run.py verify`` work on it).
* ``GET /api/controls``: the controls, with units and ranges from ``parameters.yaml``.

Speed and exactness (:class:`Planner`):

1. every request goes through the loader's validation
   (:func:`model.scenario.load_variant`: the files are read once, every row is
   checked again with the request's ``--set`` assignments, as ``run.py`` checks them);
2. the plan is kept warm: built once per target kind and year with every
   sweepable Param mutable, compiled to arrays and re-solved in HiGHS with only
   the changed numbers pushed (:mod:`model.fastsolve`, the sweep's path); each
   request starts from the same reference state, so no request sees another's;
3. a change the warm plan has not met before is proven first: the pushed LP is
   compared with a fresh build of the case (:func:`model.fastsolve.lp_difference`).
   Input figures that fail (a lifetime or a lead time changes the LP's shape)
   are solved by a fresh build (:func:`model.solve.solve_plan`), and the answer
   says so (``solve.path`` = ``"rebuilt"`` and the reason);
4. the plan is read out into the Pyomo model and through
   :func:`model.solution.to_dataset` and :func:`model.results.summary`, the
   read-out ``run.py`` uses; binding limits come from the same HiGHS duals in
   the same words (:func:`model.solve.explain_duals`).
"""
from __future__ import annotations

from model.serve.app import main, make_app, parser
from model.serve.controls import CONTROL_KEYS, controls
from model.serve.figures import page_figures
from model.serve.planner import Answer, Planner
from model.serve.request import DEFAULT_PORT, RequestError, WhatIf, parse_request
from model.serve.warm import WarmPlan, compile_warm

__all__ = ["main", "make_app", "parser", "CONTROL_KEYS", "controls", "page_figures", "Answer", "Planner",
           "DEFAULT_PORT", "RequestError", "WhatIf", "parse_request", "WarmPlan", "compile_warm"]
