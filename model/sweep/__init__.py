"""Sensitivity sweeps: one scenario re-solved for many values of a few inputs, gathered in one result set.

    python run.py sweep --target 80GW --vary electricity_price=60:120USD/MWh --vary pue=1.1:1.2 \\
        --method grid --steps 5
    python run.py sweep --vary target=200:300GW --vary supply_growth.nvidia=20:40% --method oat
    python run.py sweep --method montecarlo --distributions dists.yaml --samples 500 --seed 7
    python run.py sweep --target 80GW --vary pue=1.1:1.2 --vary capex_scale=0.8:1.2 --method sobol --samples 256
    python run.py sweep ... --workers 8               # local processes (default: every core)
    python run.py sweep ... --scheduler tcp://host:8786  # an existing Dask cluster
    python run.py sweep --resume NAME                 # finish an interrupted sweep

How a sweep runs
----------------
1. **Prepare (once, in this process).** Every ``--vary`` is checked before
   any case runs: the key must be a ``settable`` key of
   ``inputs/parameters.yaml`` (``KEY.NAME`` narrows it) or ``target``, the unit
   of the right dimension, low <= high, and the loader must accept both
   ends. Each key is loaded at three values to learn which Params the sweep
   moves; the model is built once with only those Params mutable and
   compiled into arrays (:func:`model.fastsolve.compile_plan`), and the LP
   after pushing new Params is proven equal to a fresh build's. If the proof
   fails (a key changes the model's shape), every case is built from
   scratch and the manifest says why.
2. **Solve (in chunks).** Cases go in chunks of fixed size to workers (this
   process, local processes, or Dask workers). Every case's Scenario comes
   from the loader, so it passes the validation run.py applies (a refused
   case is an ``input_error``). A worker builds its HiGHS instance from the
   arrays once and, per case, pushes the changed coefficients and re-solves
   warm; a case that moves a Param the compiled plan holds fixed, or whose
   answer fails :class:`model.fastsolve.ModelCheck` (its swept rows and cost
   recomputed from the case's own model), is built from scratch instead, and
   ``status.csv`` says why. A chunk starts from the reference LP and basis,
   so results do not depend on how many workers ran or in which order. A
   case whose target cannot be met is re-solved for the largest reachable
   figure (a second compiled plan); one whose inputs contradict each other
   is diagnosed with :func:`model.solve.solve_plan`. A case that fails is
   recorded with its error; the sweep goes on (and exits 4 if no case was
   solved).
3. **Keep and write.** Each finished chunk is written at once to
   ``results/.NAME.partial/`` (so Ctrl-C or a killed worker loses at most the
   chunks in flight; ``--resume NAME`` runs exactly the missing chunks). At
   the end one result set is written atomically to ``results/NAME``:
   ``cases.csv``, ``summary.csv``, ``status.csv``, ``solution.nc`` (with a
   ``case`` dimension), sensitivity tables, plots, ``report.html`` and
   ``manifest.json``.

Local processes use :class:`concurrent.futures.ProcessPoolExecutor`: it
starts in a fraction of a second and needs nothing running, whereas a Dask
``LocalCluster`` takes seconds to start; ``--scheduler`` sends the same
chunks to a Dask cluster the user started (``dask scheduler`` +
``dask worker``), which must be able to import this package.
"""
from __future__ import annotations

from model.sweep.cases import METHODS, chunk_size_for, chunks_of, design
from model.sweep.cli import main, parser
from model.sweep.execute import execute, execute_dask, load_chunks, partial_dir, run_chunk, save_chunk
from model.sweep.keys import SweepUsageError, Vary, key_dimensions, parse_distributions, parse_vary
from model.sweep.output import write_sweep_set
from model.sweep.prepare import Prepared, prepare
from model.sweep.runner import CaseResult, CaseRunner, SweepJob

#: The Dask path under the name tests replace to prove it is not reached.
_execute_dask = execute_dask

__all__ = ["METHODS", "chunk_size_for", "chunks_of", "design", "main", "parser", "execute", "execute_dask",
           "load_chunks", "partial_dir", "run_chunk", "save_chunk", "SweepUsageError", "Vary", "key_dimensions",
           "parse_distributions", "parse_vary", "write_sweep_set", "Prepared", "prepare", "CaseResult", "CaseRunner",
           "SweepJob"]
