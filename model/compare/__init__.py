"""Compare result sets side by side: headline figures, the inputs that differ, plots, ``compare.html``.

``python run.py compare results/A results/B [results/C ...] [--out NAME] [--results DIR]``

Everything is aligned by labels, never by position: headline figures by
their key in ``summary.json`` (nested breakdowns flattened to dotted keys such
as ``capacity_by_vendor.nvidia``), input files by their name inside the inputs
folder, overrides by their ``--set`` key or file and row selector, tables by
their coordinates (``vendor``, ``year``, ...). Differences are taken relative
to the first set. A figure whose unit differs from the first set's is
converted with the project's pint registry; one whose unit has another
dimension is flagged, not subtracted.

The comparison is written as its own folder under ``--results`` (default
``results/``), atomically and never over an existing one::

    results/<name>/
      manifest.json      command line, the sets compared (paths, status, version), created
      compare.html       one self-contained page
      tables/*.csv       long tables with a ``set`` column: headline, inputs, overrides,
                         missing, binding, capacity_by_vendor, ..., power, costs, spending
      plots/*.png        capacity by vendor per set, capacity/power/energy, cost

Exit codes: 0 compared; 2 bad usage or a missing or corrupt result set (nothing written).
"""
from __future__ import annotations

from model.compare.cli import main, parser, report_text, write_comparison
from model.compare.figures import (compare_binding, compare_figures, compare_input_files, compare_overrides, convert,
                                   differing_keys, missing_keys)
from model.compare.sets import ResultSetView, open_result_set, set_kind, unique_labels

__all__ = ["main", "parser", "report_text", "write_comparison", "compare_binding", "compare_figures",
           "compare_input_files", "compare_overrides", "convert", "differing_keys", "missing_keys", "ResultSetView",
           "open_result_set", "set_kind", "unique_labels"]
