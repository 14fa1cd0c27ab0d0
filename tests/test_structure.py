"""The shape of the code (issue 13): modules a newcomer can hold in their head.

Parses every module under ``model/`` and ``bench/`` with :mod:`ast` (nothing is
imported) and holds the code to the limits of issue 13:

- no module over 600 lines, no function over 100 lines;
- no import cycle among ``model`` modules, counting imports inside functions;
- no private name (``_x``) imported from another module;
- exit codes (``EXIT_*``) defined in one module, :mod:`model.exitcodes`;
- nothing imports :mod:`model.cli` (the sub-commands do not call back).

Exceptions are listed below with the reason; each list must stay exact (an
entry that no longer applies fails the test, so the lists only shrink).
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 100

#: Modules allowed over 600 lines, with why (module -> reason).
LONG_MODULES: dict[str, str] = {}

#: Functions allowed over 100 lines (module.function -> reason).
LONG_FUNCTIONS: dict[str, str] = {}


def modules() -> dict[str, Path]:
    out = {}
    for folder in ("model", "bench"):
        for p in sorted((ROOT / folder).rglob("*.py")):
            parts = list(p.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join(parts)] = p
    return out


MODULES = modules()
TREES = {m: ast.parse(p.read_text(), str(p)) for m, p in MODULES.items()}


def imports(module: str) -> list[tuple[str, str | None]]:
    """(imported module, imported name or None) of every import in ``module``, inside functions too."""
    is_package = MODULES[module].name == "__init__.py"
    out: list[tuple[str, str | None]] = []
    for node in ast.walk(TREES[module]):
        if isinstance(node, ast.Import):
            out.extend((a.name, None) for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".") if is_package else module.split(".")[:-1]
                base = base[:len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for a in node.names:
                full = f"{target}.{a.name}"
                out.append((full, None) if full in MODULES else (target, a.name))
    return out


def test_no_module_is_over_600_lines():
    long = {m: len(p.read_text().splitlines()) for m, p in MODULES.items()}
    over = {m: n for m, n in long.items() if n > MAX_MODULE_LINES}
    assert set(over) - set(LONG_MODULES) == set(), f"modules over {MAX_MODULE_LINES} lines: {over}"
    assert set(LONG_MODULES) - set(over) == set(), "now within the limit: take them off LONG_MODULES"


def test_no_function_is_over_100_lines():
    over = {}
    for m, tree in TREES.items():
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = node.end_lineno - node.lineno + 1
                if n > MAX_FUNCTION_LINES:
                    over[f"{m}.{node.name}"] = n
    assert set(over) - set(LONG_FUNCTIONS) == set(), f"functions over {MAX_FUNCTION_LINES} lines: {over}"
    assert set(LONG_FUNCTIONS) - set(over) == set(), "now within the limit: take them off LONG_FUNCTIONS"


def _model_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for m in MODULES:
        if m.split(".")[0] == "model":
            graph[m] = {t for t, _ in imports(m) if t in MODULES and t != m and t.startswith("model")}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_no_import_cycle_among_model_modules():
    graph = _model_graph()
    # a package's __init__ re-exporting its own parts is not a cycle of the data flow
    for m in graph:
        if MODULES[m].name == "__init__.py":
            graph[m] = {t for t in graph[m] if not t.startswith(m + ".")}
    assert _cycles(graph) == []


def test_no_private_name_is_imported_from_another_module():
    found = [f"{m} imports {target}.{name}" for m in MODULES for target, name in imports(m)
             if name and name.startswith("_") and not name.startswith("__") and target in MODULES]
    assert found == []


def test_exit_codes_are_defined_in_one_module():
    found = []
    for m, tree in TREES.items():
        for node in ast.walk(tree):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
            for t in targets:
                names = [getattr(e, "id", "") for e in (t.elts if isinstance(t, ast.Tuple) else [t])]
                found += [f"{m}.{n}" for n in names if n.startswith("EXIT_") and m != "model.exitcodes"]
    assert found == []


def test_nothing_imports_the_cli():
    found = [m for m in MODULES if m != "model.cli" and any(t == "model.cli" for t, _ in imports(m))]
    assert found == []


@pytest.mark.parametrize("module", ["model.cli"])
def test_the_structure_check_sees_the_cli(module):
    assert module in MODULES and imports(module)     # the walk finds modules and their imports


def test_pyomo_appsi_internals_the_fast_path_reads_are_there():
    """model/fastsolve/appsi.py reads three private attributes of Pyomo's appsi HiGHS interface.

    pyproject.toml pins the Pyomo range this was tested with; a Pyomo release
    that renames them fails here, naming what is gone, not deep in a sweep.
    """
    import pyomo.version
    from pyomo.environ import ConcreteModel, Constraint, Objective, Var

    from model.fastsolve.appsi import columns_of, highs_of, rows_of
    from model.solve import make_solver

    m = ConcreteModel()
    m.x = Var(bounds=(0, 10))
    m.y = Var(bounds=(0, 10))
    m.c = Constraint(expr=m.x + 2 * m.y >= 4)
    m.o = Objective(expr=m.x + m.y)
    opt = make_solver()
    opt.solve(m)
    for name in ("_solver_model", "_pyomo_var_to_solver_var_map", "_pyomo_con_to_solver_con_map"):
        assert hasattr(opt, name), (f"Pyomo {pyomo.version.version}: appsi's Highs has no {name}; "
                                    "adapt model/fastsolve/appsi.py and the pin in pyproject.toml")
    h, cols, rows = highs_of(opt), columns_of(opt), rows_of(opt)
    assert (h.getNumCol(), h.getNumRow()) == (2, 1)
    assert sorted(cols[id(v)] for v in (m.x, m.y)) == [0, 1] and rows[m.c] == 0
    assert abs(h.getInfo().objective_function_value - 2.0) < 1e-9      # y = 2, x = 0


def test_only_the_appsi_module_reads_pyomo_internals():
    private = ("_solver_model", "_pyomo_var_to_solver_var_map", "_pyomo_con_to_solver_con_map")
    found = [f"{m} reads {node.attr}" for m, tree in TREES.items() if m != "model.fastsolve.appsi"
             for node in ast.walk(tree) if isinstance(node, ast.Attribute) and node.attr in private]
    assert found == []
