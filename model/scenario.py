"""Loading a Scenario: read ``inputs/``, apply the scenario file and ``--set``, validate, assemble.

:func:`load_scenario` is the edge of the system: it reads ``inputs/``, applies
a scenario file and ``--set`` overrides, validates everything (collecting all
problems) and returns a frozen :class:`Scenario`. Everything downstream trusts
it: magnitudes are plain floats in the model units of :mod:`model.units`
(GW, GW/a, billion USD, EFLOP/s, TWh, years), sets are consistent, nothing is
NaN.
"""
from __future__ import annotations

import math
import operator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable

from model.assemble.core import assemble
from model.errors import InputError, InputErrors
from model.inputs.allocation import (ALLOCATION_FILE, allocation_header, apply_world_allocation, buyer_files,
                                     is_world_set, resolved_rows, share_table, stale_allocation)
from model.inputs.memo import MEMOS, kept_on
from model.names import check_display_names
from model.inputs import (Catalogue, Override, RawTable, apply_scenario_file, apply_set, display_path,
                          expand_kind_defaults, input_hashes, load_catalogue, read_raw_tables)
# the records are part of this module's interface (``from model.scenario import Scenario, Offer``)
from model.records import (MAXIMUM_ENFORCED, MINIMUM_ENFORCED, Commitment, Deal, Offer, PortfolioRule, PowerSource,
                           Scenario, Target)
from model.units import (COMPUTE, POWER, UnitParseError, describe, dimensionality_of, magnitude_in, parse_quantity,
                         quoted_prefix, unit_case_hint)

#: Largest target read (canonical units): beyond these a plan is meaningless and the LP's numbers
#: overflow (1e308 GW became a solver failure). 100,000 GW is some 30 times the world's mean
#: electricity demand; 1e15 EFLOP/s is 1e33 FLOP/s. (assumption: bounds on sense, not on data)
MAX_TARGET = {"power": 1e5, "compute": 1e15}
MAX_TARGET_TEXT = {"power": "100000 GW", "compute": "1e33 FLOP/s"}


__all__ = ["DEFAULT_INPUTS", "TargetSpec", "parse_target", "scenario_path", "available_scenarios", "scenario_description",
           "load_scenario", "BaseInputs", "read_base_inputs", "load_variant", "apply_changes", "non_finite_problems",
           "MAXIMUM_ENFORCED", "MINIMUM_ENFORCED", "Commitment", "Deal", "Offer", "PortfolioRule", "PowerSource",
           "Scenario", "Target"]

DEFAULT_INPUTS = Path(__file__).resolve().parent.parent / "inputs"


@dataclass(frozen=True)
class TargetSpec:
    """The main target as the user gave it (``--target``, ``--year``)."""

    text: str | None = None
    year: int | None = None
    basis: str = "it"          # "it" or "facility" (power targets only)


def _read_target(target: "TargetSpec", errors: list[InputError]) -> tuple[float, str] | None:
    """The main target's (value, kind) from ``--target``, or None (the default); problems go to ``errors``."""
    if target.text is None:
        return None
    try:
        return parse_target(target.text)
    except InputError as exc:
        errors.append(exc)
        return None


def parse_target(text: str, option: str = "--target") -> tuple[float, str]:
    """Read a target: a power (GW of IT capacity) or a compute rate (FLOP/s).

    Returns
    -------
    (value, kind)
        ``value`` in GW for kind ``"power"`` or EFLOP/s for kind ``"compute"``.

    Raises
    ------
    InputError
        Naming ``option`` when the text is not a power or a compute rate, or is negative.
    """
    expected = "a power (e.g. 250GW, 250000 MW) or a compute rate (e.g. 200 ZFLOP/s, 2e23 FLOP/s)"
    try:
        q = parse_quantity(text)
    except UnitParseError:
        raise InputError("command line", option, option, expected,
                         quoted_prefix(text, 40) + unit_case_hint(text) if str(text).strip() else "an empty value"
                         ) from None
    dimensionality = dimensionality_of(q.units)
    if dimensionality == POWER:
        value, kind = magnitude_in(q, "GW"), "power"
    elif dimensionality == COMPUTE:
        value, kind = magnitude_in(q, "EFLOP/s"), "compute"
    else:
        raise InputError("command line", option, option, expected, describe(q))
    if not math.isfinite(value) or value < 0:
        raise InputError("command line", option, option, "a non-negative finite power or compute rate", repr(text))
    if value > MAX_TARGET[kind]:
        raise InputError("command line", option, option, f"a {kind} target of at most {MAX_TARGET_TEXT[kind]}",
                         repr(text))
    return value, kind


def scenario_path(name: str, inputs_dir: Path) -> Path:
    return inputs_dir / "scenarios" / f"{name}.yaml"


def available_scenarios(inputs_dir: Path = DEFAULT_INPUTS) -> dict[str, str]:
    """Scenario name -> first line of its description."""
    import yaml

    out = {}
    for p in sorted((inputs_dir / "scenarios").glob("*.yaml")):
        try:
            doc = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
            desc = str(doc.get("description", "")).strip().splitlines() if isinstance(doc, dict) else [
                f"(not a scenario file: a {type(doc).__name__}, expected a mapping)"]
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            desc = [f"(unreadable: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})"]
        out[p.stem] = desc[0] if desc else ""
    return out


def _read_files(inputs_dir: Path, scenario: str | None, errors: list[InputError], allocation: list | None = None):
    """Read the catalogue, the tables and the scenario file (the part of loading that touches the disk).

    ``allocation``: the rows of a re-solved world to take the shares from instead of the shipped file.
    Returns (catalogue, raw tables, overrides applied, extra files read, scenario description, display names);
    problems are appended to ``errors``.
    """
    import yaml

    catalogue = load_catalogue(inputs_dir / "parameters.yaml")
    tables = read_raw_tables(inputs_dir, errors)
    names = check_display_names(inputs_dir, tables, errors)   # presentation, checked against the base ids
    expand_kind_defaults(tables)
    overrides: list[Override] = []
    extra_files: list[Path] = []
    used = apply_world_allocation(tables, inputs_dir, errors, allocation)   # the world run's shares, if shipped
    if used is not None and used.exists():
        extra_files.append(used)
        if allocation_header(used) is not None:        # the shares are the world's: its buyers' files decide them
            extra_files += buyer_files(inputs_dir)
    description = ""
    if scenario is not None:
        path = scenario_path(scenario, inputs_dir)
        if not path.exists():
            known = ", ".join(available_scenarios(inputs_dir)) or "none"
            errors.append(InputError("command line", "--scenario", "--scenario",
                                     f"the name of a file in {display_path(inputs_dir / 'scenarios')} (one of {known})",
                                     repr(scenario)))
        else:
            extra_files.append(path)
            try:
                overrides += apply_scenario_file(tables, catalogue, path)
            except InputErrors as exc:     # an unreadable file is reported there, with its line
                errors.extend(exc.errors)
            else:
                description = scenario_description(path, errors)
    return catalogue, tables, overrides, extra_files, description, names


def scenario_description(path: Path, errors: list[InputError]) -> str:
    """The ``description`` of a scenario file (text); a description that is not text is a problem naming the file."""
    import yaml

    from model.inputs import display_path

    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        errors.append(InputError(display_path(path), 1, "description", "a readable scenario file",
                                 str(exc).splitlines()[0] if str(exc) else type(exc).__name__))
        return ""
    text = doc.get("description", "") if isinstance(doc, dict) else ""
    if text is None:
        return ""
    if not isinstance(text, str):
        errors.append(InputError(display_path(path), "description", "description", "a text (one or more sentences)",
                                 f"a {type(text).__name__}: {text!r}"[:200]))
        return ""
    return text.strip()


def apply_changes(tables: dict[str, RawTable], catalogue: Catalogue, extra: Iterable[tuple[str, str, dict]],
                  sets: Iterable[str], errors: list[InputError]) -> list[Override]:
    """Apply ``extra`` (overrides in the scenario-file form) and then ``sets`` to ``tables`` (in place).

    World keys among ``sets`` (``buyer_demand_scale.B``) are recorded, not applied: the world run takes
    them. Problems are appended to ``errors``; returns the overrides applied.
    """
    from model.inputs import apply_scenario_doc

    done: list[Override] = []
    for extra_name, where, doc in extra:
        try:
            done += apply_scenario_doc(tables, catalogue, doc, where, extra_name,
                                       default_source=str(doc.get("source", "")),
                                       extra_keys=("name", "probability", "source"))
        except InputErrors as exc:
            errors.extend(exc.errors)
    for assignment in sets:
        if is_world_set(assignment):
            done.append(Override("--set", "set", assignment.partition("=")[0].strip(),
                                 assignment, "--set (passed to the world run)"))
            continue
        try:
            done.append(apply_set(tables, catalogue, assignment))
        except InputError as exc:
            errors.append(exc)
    return done


def _changed_tables(inputs_dir: Path, scenario: str | None, sets: tuple[str, ...],
                    extra: tuple[tuple[str, str, dict], ...], errors: list[InputError], allocation: list | None = None):
    """The files read (:func:`_read_files`) with ``extra`` and then ``sets`` applied to the tables."""
    from model.inputs import apply_scenario_doc

    catalogue, tables, overrides, extra_files, description, names = _read_files(inputs_dir, scenario, errors,
                                                                                allocation)
    overrides += apply_changes(tables, catalogue, extra, sets, errors)
    return catalogue, tables, overrides, extra_files, description, names


def _world_rows(tables: dict[str, RawTable], inputs_dir: Path, scenario: str | None, sets: tuple[str, ...],
                extra: tuple, errors: list[InputError]) -> list | None:
    """The allocation rows of the world re-solved for this run, or None when the shipped shares hold.

    Appends a problem (and returns None) when the world cannot be re-solved with the run's changes, or
    when a world key (``buyer_demand_scale.B``) is set without a world to pass it to.
    """
    world_sets = [a for a in sets if is_world_set(a)]
    rule = stale_allocation(tables, inputs_dir, sets)
    if rule is None:
        if world_sets and allocation_header(inputs_dir / ALLOCATION_FILE) is None:
            errors.append(InputError("command line", f"--set {world_sets[0]}", world_sets[0].partition("=")[0],
                                     f"a key of this run: {world_sets[0].partition('.')[0]} moves another buyer of "
                                     f"the world, which needs {ALLOCATION_FILE} and buyers.csv in the inputs",
                                     f"no {ALLOCATION_FILE} with a world fingerprint in {display_path(inputs_dir)}"))
        return None
    if errors:
        return None       # the run's own problems first: the world would only repeat them
    try:
        return resolved_rows(tables, inputs_dir, scenario, sets, extra, rule)
    except InputErrors as exc:
        errors.extend(exc.errors)
        return None


def load_scenario(inputs_dir: Path = DEFAULT_INPUTS, scenario: str | None = None,
                  sets: Iterable[str] = (), target: TargetSpec = TargetSpec(),
                  extra: Iterable[tuple[str, str, dict]] = (), world_allocation: bool = True,
                  allocation: list | None = None) -> Scenario:
    """Read, override, validate and convert the inputs into a :class:`Scenario`.

    Parameters
    ----------
    inputs_dir : Path
        Folder with the input CSVs and ``parameters.yaml``.
    scenario : str, optional
        Name of ``inputs_dir/scenarios/NAME.yaml`` to apply on top of the base data.
    sets : iterable of str
        ``KEY[.NAME]=VALUE`` overrides applied after the scenario file.
    target : TargetSpec
        The main target and its year; defaults come from ``scalars.csv`` / ``horizon.csv``.
    extra : iterable of (name, where, mapping)
        Further overrides in the scenario-file form (``set``, ``replace``, ``drop``, ``add``),
        applied after the scenario file and before ``sets``: e.g. one future of a futures file.
        ``where`` names its origin in error messages; a mapping's ``source`` covers its entries.
    world_allocation : bool
        Take the vendor and region shares from the world (``inputs/world_allocation.csv``, re-solved when
        the run changes what every buyer reads; :mod:`model.inputs.allocation`). False inside the world
        run itself.
    allocation : list, optional
        Allocation rows to use instead of the shipped file (``[]``: none, the ``buyer_share`` rows decide).

    Raises
    ------
    InputErrors
        With every problem found, each naming its file, row and field.
    """
    inputs_dir = Path(inputs_dir)
    errors: list[InputError] = []
    target_value = _read_target(target, errors)
    if not inputs_dir.is_dir():
        raise InputErrors(errors + [InputError("command line", "--inputs", "--inputs", "a folder of input files",
                                               f"{display_path(inputs_dir)!r} ({'a file' if inputs_dir.exists() else 'no such folder'})")])
    sets, extra = tuple(sets), tuple(extra)
    read_errors: list[InputError] = []
    catalogue, tables, overrides, extra_files, description, names = _changed_tables(
        inputs_dir, scenario, sets, extra, read_errors, allocation)
    if world_allocation and allocation is None:
        rows = None if errors else _world_rows(tables, inputs_dir, scenario, sets, extra, read_errors)
        if rows:      # the shipped shares are not of this run's world: take them from the world re-solved
            read_errors = []
            catalogue, tables, overrides, extra_files, description, names = _changed_tables(
                inputs_dir, scenario, sets, extra, read_errors, rows)
    errors += read_errors
    name = scenario or "base"
    if errors and not tables:
        raise InputErrors(errors)
    if target.basis not in ("it", "facility"):
        errors.append(InputError("command line", "--target-basis", "--target-basis", "it or facility",
                                 repr(target.basis)))
    scen = assemble(tables, catalogue, errors, name, description, target_value, target.year, target.basis)
    errors.extend(non_finite_problems(scen))   # derived figures (growth, ratios) may overflow
    if errors:
        raise InputErrors(errors)
    assert scen is not None
    return replace(scen, overrides=tuple(overrides), input_files=input_hashes(inputs_dir, extra_files),
                   supply_share=share_table(tables, scen.years),
                   display_names=names)


@dataclass(frozen=True)
class BaseInputs:
    """A scenario's raw inputs, read once: the catalogue and the raw tables after the scenario file.

    :func:`load_variant` turns it, ``--set`` assignments and a target into the
    Scenario :func:`load_scenario` would give, without re-reading any file (a
    sweep loads thousands of variants). Everything in it is immutable and
    picklable, so it can be shipped to worker processes once.

    Keep :func:`read_base_inputs` and :func:`load_variant` in step with
    :func:`load_scenario`: ``tests/test_sweep.py`` checks that both give equal
    Scenarios.
    """

    inputs_dir: str
    scenario: str | None
    catalogue: Catalogue
    tables: dict[str, RawTable]
    overrides: tuple[Override, ...]
    name: str
    description: str
    input_files: dict[str, str]
    display_names: dict[str, dict[str, str]] = field(default_factory=dict)   # model.names: presentation only


def world_rows_for(inputs_dir: Path, scenario: str | None, sets: Iterable[str]) -> list | None:
    """The allocation rows of the world re-solved for a run's scenario and sets (kept in memory, so asking
    again after the run is free), or None when the shipped shares are the run's (or the inputs are bad:
    the run itself reports that)."""
    inputs_dir, sets, errors = Path(inputs_dir), tuple(sets), []
    tables = _changed_tables(inputs_dir, scenario, sets, (), errors)[1]
    return None if errors else _world_rows(tables, inputs_dir, scenario, sets, (), errors)


def read_base_inputs(inputs_dir: Path = DEFAULT_INPUTS, scenario: str | None = None,
                     allocation: list | None = None) -> BaseInputs:
    """Read the files of a scenario once (the part of :func:`load_scenario` that touches the disk).

    ``allocation``: rows of a re-solved world (:func:`world_rows_for`) to take the shares from instead of
    ``world_allocation.csv``.

    Raises
    ------
    InputErrors
        If a file cannot be read or the scenario file is wrong, as :func:`load_scenario` would.
    """
    inputs_dir = Path(inputs_dir)
    errors: list[InputError] = []
    if not inputs_dir.is_dir():
        raise InputErrors([InputError("command line", "--inputs", "--inputs", "a folder of input files",
                                      f"{display_path(inputs_dir)!r} (no such folder)")])
    catalogue, tables, overrides, extra_files, description, names = _read_files(inputs_dir, scenario, errors,
                                                                                allocation)
    if errors:
        raise InputErrors(errors)
    return BaseInputs(str(inputs_dir), scenario, catalogue, dict(tables), tuple(overrides), scenario or "base",
                      description, input_hashes(inputs_dir, extra_files), names)


def load_variant(base: BaseInputs, sets: Iterable[str] = (), target: TargetSpec = TargetSpec(),
                 extra: Iterable[tuple[str, str, dict]] = (), world_allocation: bool = True) -> Scenario:
    """The Scenario :func:`load_scenario` gives for ``base``'s files plus ``extra``, ``sets`` and ``target``.

    ``extra`` are overrides in the scenario-file form, as :func:`load_scenario` takes them (applied
    before ``sets``).

    Raises
    ------
    InputErrors
        With every problem found (a bad assignment, a value out of range, ...).
    """
    errors: list[InputError] = []
    sets, extra = tuple(sets), tuple(extra)
    target_value = _read_target(target, errors)
    tables = dict(base.tables)          # apply_set replaces entries; the RawTables themselves are immutable
    overrides = list(base.overrides) + apply_changes(tables, base.catalogue, extra, sets, errors)
    if world_allocation and not errors and (stale_allocation(tables, Path(base.inputs_dir), sets)
                                            or any(map(is_world_set, sets))):
        # the shipped shares are not of this case's world: load_scenario re-solves the world and reads the
        # files again with its shares (the case is then exactly what run.py gives for it)
        return load_scenario(Path(base.inputs_dir), base.scenario, sets, target, extra)
    basis = getattr(target, "basis", "it")
    if basis not in ("it", "facility"):
        errors.append(InputError("command line", "--target-basis", "--target-basis", "it or facility", repr(basis)))
    scen = assemble(tables, base.catalogue, errors, base.name, base.description, target_value, target.year, basis)
    errors.extend(non_finite_problems(scen))   # derived figures (growth, ratios) may overflow
    if errors:
        raise InputErrors(errors)
    assert scen is not None
    return replace(scen, overrides=tuple(overrides), input_files=dict(base.input_files),
                   supply_share=share_table(tables, scen.years),
                   display_names=base.display_names)


#: The last value walked at each path of a Scenario (a field, or one record of a field) and its problems: a
#: table family's kept answer is the very same object in every case of a sweep, so it is walked once.
_WALKED: dict[str, tuple[Any, tuple[InputError, ...]]] = {}
MEMOS.append(_WALKED)


def non_finite_problems(s: Scenario | None) -> list[InputError]:
    """A problem for every magnitude of ``s`` that is not finite (a safety net under the row checks).

    Rows are checked one by one; a figure derived from several (a supply cap grown for years, a
    compute-per-watt ratio) can still overflow. Downstream trusts that nothing is NaN or infinite.
    A field (or a record of one) holding the very object the last Scenario held there (a kept table
    family) is not walked again: its problems are the ones found then.
    """
    out: list[InputError] = []
    if s is not None:
        for name in s.__dataclass_fields__:
            value = getattr(s, name)
            if kept_on():
                hit = _FIELDS.get(name)
                if hit is not None and (hit[0] is value or (type(value) is tuple and type(hit[0]) is tuple
                                                            and len(value) == len(hit[0])
                                                            and all(map(operator.is_, value, hit[0])))):
                    out.extend(hit[1])       # the very objects walked last time: the same problems
                    continue
                before = len(out)
                _field_problems(name, value, out)
                _FIELDS[name] = (value, tuple(out[before:]))
            else:
                _field_problems(name, value, out)
    return out[:20]


#: The last value of each Scenario field walked by :func:`non_finite_problems` and its problems: a sweep case's
#: Scenario holds most fields as the very objects the last one held (or a new tuple of the same records).
_FIELDS: dict[str, tuple[Any, tuple[InputError, ...]]] = {}
MEMOS.append(_FIELDS)


def _field_problems(name: str, value: Any, out: list[InputError]) -> None:
    """The non-finite problems of one field of a Scenario, appended to ``out``."""
    if isinstance(value, (tuple, list)) and value and all(hasattr(v, "__dataclass_fields__") for v in value):
        # records (deals, targets, rules): each walked once per object (a kept family's are the same
        # objects in a new tuple every load)
        for i, item in enumerate(value):
            out.extend(_walked(item, f"{name}[{i}]"))
    elif isinstance(value, (dict, tuple, list)) and value:
        out.extend(_walked(value, name))
    else:
        _non_finite(value, name, out)


def _walked(value: Any, where: str) -> tuple[InputError, ...]:
    """``_non_finite(value, where)``'s problems; kept for the very object last walked at ``where``."""
    if not kept_on():
        return tuple(_non_finite(value, where, []))
    hit = _WALKED.get(where)
    if hit is not None and hit[0] is value:
        return hit[1]
    problems = tuple(_non_finite(value, where, []))
    _WALKED[where] = (value, problems)
    return problems


def _all_finite_numbers(values: Iterable[Any]) -> bool:
    """True if every value is a number that is finite as a float (False means: walk them, some may not be).

    ``math.fsum`` reads them in C: it refuses anything that is not a number, and its sum is NaN or
    infinite (or it raises) whenever a value is; a sum of finite values that overflows raises too.
    """
    try:
        return math.isfinite(math.fsum(values))
    except (TypeError, ValueError, OverflowError):
        return False


def _non_finite(x: Any, where: str, out: list[InputError]) -> list[InputError]:
    """``out`` with a problem appended for every magnitude in ``x`` (at path ``where``) that is not finite."""
    if isinstance(x, bool) or x is None or isinstance(x, str):
        return out
    if isinstance(x, float) and not math.isfinite(x):
        out.append(InputError("inputs", where, where.split("[")[0].split(".")[-1],
                              "a finite figure after conversion and derivation", repr(x)))
    elif isinstance(x, dict):
        values = x.values()
        if _all_finite_numbers(values) or all(type(v) is str for v in values):
            return out          # a table of finite numbers (most of a Scenario), or of names: nothing to name
        for k, v in x.items():
            _non_finite(v, f"{where}[{k!r}]", out)
    elif isinstance(x, (tuple, list)):
        if _all_finite_numbers(x) or all(type(v) is str for v in x):
            return out          # the years, a vector of figures, a list of names
        for i, v in enumerate(x):
            _non_finite(v, f"{where}[{i}]", out)
    elif hasattr(x, "__dataclass_fields__"):
        for name in x.__dataclass_fields__:
            _non_finite(getattr(x, name), f"{where}.{name}" if where else name, out)
    return out
