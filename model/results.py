"""Result sets: one folder per run under ``results/``, written atomically, never overwritten.

Layout (``../shared/DESIGN.md``)::

    results/<name>/
      manifest.json   command line, scenario, overrides, inputs' sha256, versions, status, timings
      summary.json    headline figures, each {"value": ..., "unit": "..."}
      solution.nc     xarray Dataset, units in each variable's attrs
      tables/*.csv    tidy long tables with a unit column
      plots/*.png     capacity by vendor and host, power by region, costs, binding limits
      report.html     one page a person reads first

Everything is written into a hidden temporary folder beside the final one and
renamed into place at the end: a crash or Ctrl-C leaves no half-written set,
and two runs racing for one name cannot both win (the rename of the second
fails because the folder is there and not empty).
"""
from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import re
import sys
from decimal import Context, Decimal
from importlib import metadata
from pathlib import Path
from typing import Any, Callable

import pandas as pd
import xarray as xr

from model import __version__
from model.errors import ResultSetError
from model.money_readout import money_figures
from model.provenance import inputs_date, with_inputs_date
from model.resultdir import check_name, ensure_free, new_result_dir  # noqa: F401  (re-exported)
from model.scenario import Scenario
from model.solve import Outcome
from model.units import quantity_json

PACKAGES = ("pyomo", "highspy", "pint", "numpy", "pandas", "xarray", "netCDF4", "matplotlib", "PyYAML")


def default_name(s: Scenario, now: _dt.datetime | None = None, objective: str = "min-cost") -> str:
    """``<scenario>_<target>-<year>_<timestamp>``, e.g. ``base_250GW-2033_20261123T101500``.

    A facility-power target says so (``base_250GW-facility-2033_...``); with
    ``objective="max-capacity"`` the name says what is maximised, not the
    target it ignores (``base_most-capacity-2030_...``).
    """
    now = now or _dt.datetime.now()
    t = s.main_target
    facility = t.kind == "power" and t.basis == "facility"
    if objective == "max-capacity":
        target = "most-" + ("compute" if t.kind != "power" else "facility-power" if facility else "capacity")
    else:
        target = (f"{plain_decimal(t.value)}GW" + ("-facility" if facility else "")
                  if t.kind == "power" else compute_rate_name(t.value))
    year = min(x.year for x in s.targets if x.main)
    name = f"{s.name}_{target}-{year}_{now.strftime('%Y%m%dT%H%M%S')}".replace("+", "")
    return re.sub(r"[^A-Za-z0-9._@-]+", "-", name).lstrip(".-_") or "plan"   # a plain folder name, always


#: SI prefixes of a compute rate in a folder name, largest first (powers of ten of FLOP/s).
_RATE_PREFIXES = ((30, "Q"), (27, "R"), (24, "Y"), (21, "Z"), (18, "E"), (15, "P"), (12, "T"), (9, "G"), (6, "M"),
                  (3, "k"))


#: Significant digits of a target in a folder name: far finer than the model's tolerance (1e-6), coarse enough
#: to drop the noise of unit conversion (200 ZFLOP/s is 200000.00000000003 EFLOP/s once converted).
NAME_DIGITS = 12


def plain_decimal(value: float | Decimal, digits: int = NAME_DIGITS) -> str:
    """A number written out in digits to ``digits`` significant figures, without e-notation or trailing zeros.

    >>> plain_decimal(250.0), plain_decimal(200000.00000000003), plain_decimal(1e-5), plain_decimal(250.0000001)
    ('250', '200000', '0.00001', '250.0000001')
    """
    d = value if isinstance(value, Decimal) else Decimal(repr(float(value)))
    text = format(Context(prec=digits).plus(d).normalize(), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def compute_rate_name(value_eflops: float) -> str:
    """A compute target for a folder name, with an SI prefix and no e-notation: 2e5 EFLOP/s -> ``200ZFLOPs``.

    The digits are the target's own to :data:`NAME_DIGITS` significant figures (its shortest decimal shifted
    by a power of ten exactly, then rounded), so two targets that differ at all within the model's tolerance
    never share a name.

    >>> compute_rate_name(200_000.00000000003), compute_rate_name(1234.5678), compute_rate_name(0.5)
    ('200ZFLOPs', '1.2345678ZFLOPs', '500PFLOPs')
    """
    flops = Context(prec=NAME_DIGITS).plus(Decimal(repr(float(value_eflops))).scaleb(18))
    for power, prefix in _RATE_PREFIXES:
        if abs(flops) >= Decimal(10) ** power:
            return f"{plain_decimal(flops.scaleb(-power))}{prefix}FLOPs"
    return f"{plain_decimal(flops)}FLOPs"


def package_versions() -> dict[str, str]:
    out = {"python": platform.python_version(), "compute-energy-plan": __version__}
    for p in PACKAGES:
        try:
            out[p] = metadata.version(p)
        except metadata.PackageNotFoundError:
            out[p] = "not installed"
    return out


def figure(value: float, unit: str) -> dict[str, Any]:
    return quantity_json(value, unit)


def dated_shares(shares: dict[str, dict], date: str | None) -> dict[str, dict]:
    """The shares of the world's supply with each basis stating the inputs' date ("inputs of DATE"), not the
    day the world was solved or its allocation written (:func:`model.provenance.with_inputs_date`)."""
    return {kind: {key: ({**entry, "basis": with_inputs_date(entry["basis"], date)}
                         if isinstance(entry, dict) and isinstance(entry.get("basis"), str) else entry)
                   for key, entry in members.items()} if isinstance(members, dict) else members
            for kind, members in shares.items()}


def summary(s: Scenario, outcome: Outcome, ds: xr.Dataset, extras: dict[str, Any] | None = None) -> dict[str, Any]:
    """Headline figures, each as ``{"value", "unit"}``.

    ``extras`` (from :func:`model.answer.extras`) adds figures that need further solves: the largest
    reachable figure when the target was met, and the assumptions ranked by their effect.
    """
    extras = extras or {}
    t = s.main_target
    target_year = min(x.year for x in s.targets if x.main)
    out: dict[str, Any] = {
        "status": outcome.status,
        "message": outcome.message,
        "scenario": s.name,
        "target": figure(t.value, "GW") if t.kind == "power" else figure(t.value * 1e18, "FLOP/s"),
        "target_year": target_year,
        "objective": "min-cost" if outcome.status != "optimal" or outcome.max_reachable is None else "max-capacity",
    }
    if s.supply_share:
        out["supply_share"] = dated_shares(s.supply_share, inputs_date(s.input_files))
    reach = outcome.max_reachable if outcome.max_reachable is not None else extras.get("max_reachable")
    if reach is not None:
        out["max_reachable"] = (figure(reach, "GW") if t.kind == "power" else figure(reach * 1e18, "FLOP/s"))
    if outcome.conflicts:
        out["conflicts"] = outcome.conflicts
    if not outcome.has_plan or "in_service_gw" not in ds:
        out["binding"] = []
        return out
    ins = ds["in_service_gw"]
    out["total_cost"] = figure(outcome.objective_bnusd * 1e9, "USD")
    out["total_cost_basis"] = (f"present value in {s.first_year}, nominal USD, discounted at {s.discount_rate:.1%}/a "
                               f"(the buyer's nominal cost of capital) over {s.first_year}-{s.last_year}; purchases "
                               f"as annuities at that rate, each worth its price; rents and annuities still owed "
                               f"after {s.last_year} included; borrowing charged only for its interest above the "
                               "discount rate")
    out["capacity_in_service"] = {str(y): figure(float(v), "GW") for y, v in
                                  zip(ds.year.values, ins.sum("offer").values)}
    out["capacity_added"] = {str(y): figure(float(v), "GW") for y, v in
                             zip(ds.year.values, ds["build_gw"].sum("offer").values)}
    out["compute_in_service"] = {str(y): figure(float(v), "FLOP/s") for y, v in
                                 zip(ds.year.values, ds["compute_flops"].sum("offer").values)}
    at = ins.sel(year=target_year)
    for key, coord in (("capacity_by_vendor", "vendor"), ("capacity_by_host", "host"),
                       ("capacity_by_region", "offer_region"), ("capacity_by_kind", "kind")):
        grouped = at.groupby(coord).sum()
        out[key] = {str(k): figure(float(v), "GW") for k, v in zip(grouped[coord].values, grouped.values)}
    out["facility_power"] = figure(float(ds["facility_power_gw"].sel(year=target_year).sum()), "GW")
    out["energy"] = figure(float(ds["energy_twh"].sel(year=target_year).sum()), "TWh")
    out["cost_by_part"] = {str(p): figure(float(v), "USD") for p, v in
                           zip(ds.cost_part.values, ds["discounted_cost_usd"].sum("year").values)}
    out["spending"] = {str(y): figure(float(v), "USD") for y, v in zip(ds.year.values, ds["spending_usd"].values)}
    out.update(energy_and_money(s, ds, target_year))
    out["binding"] = [b.as_json() for b in shown_cost_duals(outcome)]
    if outcome.status == "target_missed":
        out["binding_note"] = MISSED_COST_DUALS
    if outcome.reach_binding:
        out["limits_on_reach"] = [b.as_json() for b in outcome.reach_binding]
    out.update(answer_figures(s, outcome, ds, out, target_year))
    for key in ("assumptions_ranked", "headline_range", "what_stops"):
        if key in extras:
            out[key] = extras[key]
    return out


#: Why a missed plan shows no cost duals (summary.json ``binding_note``, the terminal).
MISSED_COST_DUALS = ("the plan is held at the largest reachable figure: its cost duals hold only for vanishing moves "
                     "(a limit that stops more capacity shows there as trillions of USD per GW), so they are not "
                     "shown; the limits on the largest reachable figure give the reach duals (GW per unit of each limit) "
                     "and 'what stops more' the story")


def shown_cost_duals(outcome: Outcome) -> list:
    """The cost duals a summary shows: none for a missed plan (held at its maximum), else every one."""
    return [] if outcome.status == "target_missed" else list(outcome.binding)


def answer_figures(s: Scenario, outcome: Outcome, ds: xr.Dataset, summ: dict[str, Any],
                   target_year: int) -> dict[str, Any]:
    """``all_in_capex_per_gw``, ``debt_peak``, ``target_binds`` (:mod:`model.answer`), ``calibration``
    (:mod:`model.calibration`)."""
    from model.answer import all_in_capex_per_gw, target_binds
    from model.calibration import calibration

    out: dict[str, Any] = {"all_in_capex_per_gw": all_in_capex_per_gw(s, ds, target_year)}
    debt = [(float(v), -int(y)) for y, v in zip(ds.year.values, ds["debt_usd"].values)]
    peak, year = max(debt) if debt else (0.0, -s.first_year)
    year = -year                                      # the first year of the peak
    limit = s.debt_limit_bnusd.get(year)
    out["debt_peak"] = {**figure(peak, "USD"), "year": year,
                        "limit": figure(limit * 1e9, "USD") if limit is not None else None}
    out["target_binds"] = target_binds(s, outcome, summ)
    out["calibration"] = calibration(s, ds)
    return out


def energy_and_money(s: Scenario, ds: xr.Dataset, target_year: int) -> dict[str, Any]:
    """Headline figures of the energy and money read-out (issue: energy and money).

    - ``energy_cost``: energy the plan pays for in the target year (USD/a);
    - ``emissions``: CO2 of all facility energy in the target year (Mt/a), by source and grid factor;
    - ``power_built``: power-source capacity added over the horizon, by source (GW);
    - ``energy_comparison``: the target year's energy against the reference figures in the inputs;
    - ``funding``, ``debt``: money for compute before borrowing, and debt at the end of each year (USD);
    - ``funding_gap``: the largest cumulative shortfall of funding against spending (what borrowing
      must cover), with its year (0 when funding always covers spending);
    - ``cost_per_gw``: nominal spending to the target year per GW in service in it (compare with
      the ~50 billion USD per GW behind most headlines).
    """
    years = [int(y) for y in ds.year.values]
    out: dict[str, Any] = {}
    energy_ty = float(ds["energy_twh"].sel(year=target_year).sum())
    out["energy_cost"] = {**figure(float(ds["cost_usd"].sel(cost_part="energy", year=target_year)), "USD/a"),
                          "year": target_year}
    emissions = float(ds["grid_emissions_mt"].sel(year=target_year).sum())
    if "source_emissions_mt" in ds:
        emissions += float(ds["source_emissions_mt"].sel(year=target_year).sum())
    out["emissions"] = {**figure(emissions, "Mt/a"), "year": target_year, "gas": "CO2"}
    if "power_build_gw" in ds:
        built = ds["power_build_gw"].sum("year")
        out["power_built"] = {str(p): figure(float(v), "GW") for p, v in zip(built.power_source.values, built.values)}
    else:
        out["power_built"] = {}
    refs = sorted(s.reference_energy_twh.items(), key=lambda kv: -kv[1])
    if refs and energy_ty > 0:
        parts = [f"{energy_ty / v:.1f}x {k.replace('_', ' ')} ({v:,.0f} TWh)" for k, v in refs]
        out["energy_comparison"] = f"{energy_ty:,.0f} TWh in {target_year} is " + "; ".join(parts)
    spending = ds["spending_usd"].values
    funding = ds["funding_usd"].values
    out["funding"] = {str(y): figure(float(v), "USD") for y, v in zip(years, funding)}
    out["debt"] = {str(y): figure(float(v), "USD") for y, v in zip(years, ds["debt_usd"].values)}
    out.update(money_figures(s, ds))           # revenue, debt_limit, interest (share), debt_rule
    shortfall = [(s.cash_floor_bnusd - s.opening_cash_bnusd) * 1e9
                 + float(sum(spending[: i + 1]) - sum(funding[: i + 1])) for i in range(len(years))]
    worst = max(range(len(years)), key=lambda i: shortfall[i])
    out["funding_gap"] = {**figure(max(0.0, shortfall[worst]), "USD"), "year": years[worst],
                          "funding_constraint": "on" if s.funding_on else "off",
                          "basis": "largest cumulative spending above opening cash less the cash floor plus funding"}
    if s.funding_on and not s.revenue_bnusd:
        out["funding_gap"]["note"] = ("funding is on but the inputs give no revenue rows: money comes only from "
                                      "opening cash, equity, vendor financing and borrowing")
    in_service = float(ds["in_service_gw"].sel(year=target_year).sum())
    spent = float(sum(v for y, v in zip(years, spending) if y <= target_year))
    if in_service > 0:
        out["cost_per_gw"] = {**figure(spent / in_service, "USD/GW"),
                              "basis": f"IT: nominal cash spent {years[0]}-{target_year} (purchases when built, rents, "
                                       f"fixed costs, energy, power build-out, interest) per GW of IT capacity in "
                                       f"service in {target_year}; not the all-in capex per GW"}
    return out


def energy_by_source(ds: xr.Dataset) -> pd.DataFrame:
    """Rows ``energy_by_source`` (TWh) and ``emissions_by_source`` (Mt) per region, year and source.

    ``source`` is ``existing grid`` or a power source; per region and year the
    ``energy_by_source`` rows add up to the ``energy`` row (every TWh used is
    delivered by one of them).
    """
    rows = []
    for (r, y), e, c in zip(ds["grid_energy_twh"].to_series().index, ds["grid_energy_twh"].to_series(),
                            ds["grid_emissions_mt"].to_series()):
        rows += [(r, y, "energy_by_source", e, "TWh", "existing grid"),
                 (r, y, "emissions_by_source", c, "Mt", "existing grid")]
    if "source_energy_twh" in ds:
        for i, p in enumerate(ds["power_source"].values):
            r = str(ds["power_region"].values[i])
            for j, y in enumerate(ds["year"].values):
                rows += [(r, int(y), "energy_by_source", float(ds["source_energy_twh"].values[i, j]), "TWh", str(p)),
                         (r, int(y), "emissions_by_source", float(ds["source_emissions_mt"].values[i, j]), "Mt",
                          str(p))]
    return pd.DataFrame(rows, columns=["region", "year", "variable", "value", "unit", "source"])


def tables(s: Scenario, outcome: Outcome, ds: xr.Dataset) -> dict[str, pd.DataFrame]:
    """Tidy long tables (one row per fact, a unit column)."""
    out: dict[str, pd.DataFrame] = {}
    rows = shown_cost_duals(outcome) + outcome.reach_binding
    out["binding"] = pd.DataFrame(
        [{"objective": "total cost" if b.unit.startswith("USD/") else "largest reachable", "name": b.name,
          "constraint": b.constraint, "shadow_price": b.shadow_price, "unit": b.unit, "meaning": b.meaning}
         for b in rows],
        columns=["objective", "name", "constraint", "shadow_price", "unit", "meaning"])
    if not outcome.has_plan or "in_service_gw" not in ds:
        return out
    cap = ds[["build_gw", "in_service_gw", "retired_gw"]].to_dataframe().reset_index()
    cap = cap.melt(id_vars=["offer", "year", "vendor", "family", "kind", "host", "offer_region", "contract"],
                   value_vars=["build_gw", "in_service_gw", "retired_gw"], var_name="variable")
    cap["variable"] = cap["variable"].str.replace("_gw", "", regex=False)
    cap["unit"] = "GW"
    out["capacity"] = cap.rename(columns={"offer_region": "region"})
    for coord, name in (("vendor", "vendor"), ("host", "host"), ("offer_region", "region"), ("kind", "kind")):
        g = ds["in_service_gw"].groupby(coord).sum().to_dataframe().reset_index()
        g = g.rename(columns={coord: name, "in_service_gw": "value"})[[name, "year", "value"]]
        g["unit"] = "GW"
        out[f"capacity_by_{name}"] = g
    pw = ds[["it_power_gw", "facility_power_gw", "grid_power_gw", "energy_twh", "grid_energy_twh",
             "host_paid_energy_twh", "grid_emissions_mt"]].to_dataframe().reset_index()
    pw = pw.melt(id_vars=["region", "year"], var_name="variable")
    pw["unit"] = pw["variable"].map(lambda v: {"twh": "TWh", "mt": "Mt"}.get(v.rsplit("_", 1)[-1], "GW"))
    pw["variable"] = pw["variable"].str.replace(r"_(gw|twh|mt)$", "", regex=True)
    out["power"] = pd.concat([pw.assign(source=""), energy_by_source(ds)], ignore_index=True)
    if "power_build_gw" in ds:
        src = ds[["power_build_gw", "power_in_service_gw", "source_energy_twh", "source_emissions_mt"]]
        src = src.to_dataframe().reset_index().melt(id_vars=["power_source", "year", "power_kind", "power_region"],
                                                    var_name="variable")
        src["unit"] = src["variable"].map(lambda v: v.rsplit("_", 1)[-1].replace("gw", "GW").replace("twh", "TWh")
                                          .replace("mt", "Mt"))
        src["variable"] = src["variable"].str.replace(r"_(gw|twh|mt)$", "", regex=True)
        out["power_sources"] = src.rename(columns={"power_kind": "kind", "power_region": "region"})
    c = ds[["cost_usd", "discounted_cost_usd"]].to_dataframe().reset_index()
    c = c.melt(id_vars=["cost_part", "year"], var_name="variable")
    c["variable"] = c["variable"].str.replace("_usd", "", regex=False)
    c["unit"] = "USD"
    out["costs"] = c.rename(columns={"cost_part": "part"})
    money = ["spending_usd", "purchase_usd", "power_capex_usd", "funding_usd", "borrowing_usd", "debt_usd"]
    sp = ds[money].to_dataframe().reset_index().melt(id_vars=["year"], var_name="variable")
    sp["variable"] = sp["variable"].str.replace("_usd", "", regex=False)
    sp["unit"] = "USD"
    out["spending"] = sp
    return out


def code_sha256() -> str:
    """One sha256 over the model's own source files (``model/**/*.py`` and unit definitions), in path order.

    It changes whenever the code that computed a plan changes, installed or not,
    committed or not; ``run.py verify`` reports it.
    """
    import hashlib

    root = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for f in sorted([*root.rglob("*.py"), *root.glob("*.txt")]):
        h.update(f.relative_to(root).as_posix().encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()


def inputs_dir_of(s: Scenario) -> str | None:
    """The absolute inputs folder a scenario was read from (where its ``parameters.yaml`` is)."""
    for shown in s.input_files:
        if Path(shown).name == "parameters.yaml":
            return str(Path(shown).resolve().parent)
    return None


def manifest(s: Scenario, outcome: Outcome, argv: list[str], timings: dict[str, float],
             extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Everything needed to redo the run (``run.py verify`` reads it).

    Command line and the folder it ran in, scenario and every override, sha256
    of every input file (paths as shown, relative to ``cwd`` where possible),
    the inputs folder, versions of Python, packages and HiGHS, the solver
    options (time limit, HiGHS options), a hash of the model's code, and the
    random seed (``None`` for a single run; sweeps pass theirs in ``extra``).
    """
    return {
        "tool": "compute-energy-plan",
        "version": __version__,
        "created": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "command_line": argv,
        "cwd": os.getcwd(),
        "inputs_dir": inputs_dir_of(s),
        "random_seed": None,
        "solver_options": {"time_limit_s": outcome.solver.get("time_limit_s"),
                           "highs_options": outcome.solver.get("highs_options", {})},
        "code_sha256": code_sha256(),
        "scenario": s.name,
        "scenario_description": s.description,
        "overrides": [o.__dict__ for o in s.overrides],
        "inputs_sha256": s.input_files,
        "inputs_date": inputs_date(s.input_files),
        "status": outcome.status,
        "message": outcome.message,
        "solver": outcome.solver,
        "timings_s": {**outcome.timings, **timings},
        "versions": package_versions(),
        "platform": {"system": platform.system(), "machine": platform.machine(), "executable": sys.executable},
        **(extra or {}),
    }


def write_result_set(root: Path, name: str, s: Scenario, outcome: Outcome, ds: xr.Dataset,
                     argv: list[str], timings: dict[str, float], plots: bool = True,
                     extra_manifest: dict[str, Any] | None = None,
                     extras: dict[str, Any] | None = None,
                     finish: Callable[[Path], None] | None = None) -> Path:
    """Write the whole set into a temporary folder, then rename it into place.

    Raises
    ------
    ResultSetError
        If ``root/name`` exists (before or by the time of the rename).
    """
    with new_result_dir(root, name) as tmp:
        summ = summary(s, outcome, ds, extras)
        (tmp / "summary.json").write_text(json.dumps(summ, indent=2) + "\n")
        ds.to_netcdf(tmp / "solution.nc")
        (tmp / "tables").mkdir()
        for tname, df in tables(s, outcome, ds).items():
            df.to_csv(tmp / "tables" / f"{tname}.csv", index=False)
        man = manifest(s, outcome, argv, timings, extra_manifest)
        if plots:
            from model.report import display_names, write_plots, write_report

            (tmp / "plots").mkdir()
            images = write_plots(ds, summ, tmp / "plots", display_names(s))
            from model.report_energy import write_energy_plots

            images.update(write_energy_plots(ds, summ, tmp / "plots", s))
            write_report(tmp, summ, images, s, man)
        if finish is not None:   # a caller's additions (e.g. model.foresight: steps table, summary keys)
            finish(tmp)
        (tmp / "manifest.json").write_text(json.dumps(man, indent=2, default=str) + "\n")
    return root / name


def read_summary(path: Path) -> dict[str, Any]:
    """Read a result set's summary.json, refusing a missing or corrupt set by its path."""
    f = Path(path) / "summary.json"
    if not f.exists():
        raise ResultSetError(f"{path} is not a result set: {f} is missing")
    try:
        return json.loads(f.read_text())
    except json.JSONDecodeError as exc:
        raise ResultSetError(f"{f} is corrupt: {exc}") from None

