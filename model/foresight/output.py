"""What a foresight run writes and prints: the steps table, summary keys, the report section, the result set."""
from __future__ import annotations

import html
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd

from model.foresight.solve import solve_foresight
from model.foresight.steps import (DEFAULT_LOOK_AHEAD, TOL, ForesightError, ForesightResult, bn_text, money_text,
                                   usd_text)
from model.scenario import Scenario

STEP_COLUMNS = ["step", "window_first", "window_last", "decision", "name", "year", "value", "unit"]


def steps_table(r: ForesightResult) -> pd.DataFrame:
    rows = [d for st in r.steps for d in st.decisions]
    return pd.DataFrame(rows, columns=STEP_COLUMNS)


def summary_keys(r: ForesightResult) -> dict[str, Any]:
    """``foresight``, ``regret`` and ``foresight_steps`` for ``summary.json``."""
    out: dict[str, Any] = {"foresight": {"mode": r.mode,
                                         "look_ahead": ({"value": r.look_ahead, "unit": "a"}
                                                        if r.look_ahead is not None else None)}}
    if r.mode == "myopic":
        regret = r.regret_bnusd
        out["regret"] = {
            **(usd_text(regret) if regret is not None else {"value": None, "unit": "USD"}),
            "perfect_foresight_status": r.reference_status,
            "comparable": r.comparable,
            "basis": ("myopic total cost minus the perfect-foresight total cost for the same inputs"
                      + (" and history" if r.history_from is not None else "") + ", both discounted as total_cost"
                      + ("" if r.comparable else "; the plans do not deliver the same (a target is missed), "
                                                 "so the difference is not a pure cost of myopia")),
        }
        if r.reference_cost_bnusd is not None:
            out["perfect_foresight_cost"] = {**usd_text(r.reference_cost_bnusd), "status": r.reference_status}
        equal = r.regret_at_equal_delivery_bnusd
        if equal is not None:
            out["regret_at_equal_delivery"] = {
                **usd_text(equal), "basis": "myopic total cost minus the least cost, with perfect foresight, of "
                                        "delivering what the myopic plan delivers (its shortfalls kept)"}
        out["foresight_steps"] = {str(st.year): {
            "window": f"{st.window[0]}-{st.window[1]}", "status": st.status, "check_passed": st.check_passed,
            "capacity_built": {"value": sum(d["value"] for d in st.decisions if d["decision"] == "build"),
                               "unit": "GW"},
            "power_ordered": {"value": sum(d["value"] for d in st.decisions if d["decision"] == "power_order"),
                              "unit": "GW"},
        } for st in r.steps}
        if r.shortfalls:
            out["foresight_shortfalls"] = [f.as_json() for f in r.shortfalls if f.amount > TOL]
    if r.reference_shortfalls:
        out["perfect_foresight_shortfalls"] = r.reference_shortfalls
    return out


def report_section(r: ForesightResult, replan: dict[str, Any] | None = None) -> str:
    """The page's section on foresight, regret and steps (self-contained HTML, no numbers in e-notation)."""
    e = html.escape
    parts = ["<section id='foresight'><h2>Foresight</h2>"]
    if replan:
        parts.append(f"<p>Re-planned from <b>{e(str(replan['from']))}</b>: the decisions of "
                     f"<b>{e(replan['source_name'])}</b> before {e(str(replan['from']))} are fixed as history "
                     f"(capacity built, power ordered, borrowing); the rest is planned with the inputs below. "
                     f"Compare with <code>run.py compare {e(replan['source'])} &lt;this set&gt;</code>.</p>")
    if r.mode == "perfect":
        parts.append("<p>Perfect foresight: every year of the horizon is planned at once.</p></section>")
        return "".join(parts)
    regret = r.regret_bnusd
    parts.append(
        f"<p>Myopic foresight: planned year by year, each step seeing {r.look_ahead} year"
        f"{'s' if r.look_ahead != 1 else ''} (its own included): its targets, milestones and prices; "
        f"later years neither constrain it nor cost it anything. Each step fixes its first year's decisions "
        f"and carries capacity, power ordered, debt and deal progress forward.</p>"
        f"<p><b>Regret: {e(money_text(regret * 1e9 if regret is not None else None))}</b> "
        f"(myopic {e(money_text(r.outcome.objective_bnusd * 1e9 if r.outcome.objective_bnusd is not None else None))} "
        f"against perfect foresight {e(money_text(bn_text(r.reference_cost_bnusd)))}, "
        f"discounted total cost, same inputs)."
        + ("" if r.comparable else
           " The plans do not deliver the same: a target is missed. Against the least cost, with perfect "
           f"foresight, of delivering what the myopic plan delivers, myopia costs "
           f"{e(money_text(bn_text(r.regret_at_equal_delivery_bnusd)))}.") + "</p>")
    if r.final_shortfalls:
        parts.append("<ul>" + "".join(f"<li>{e(f.sentence())}</li>" for f in r.final_shortfalls) + "</ul>")
    head = ["step", "window", "status", "capacity built (GW)", "power ordered (GW)", "shortfall", "check"]
    rows = []
    for st in r.steps:
        built = sum(d["value"] for d in st.decisions if d["decision"] == "build")
        power = sum(d["value"] for d in st.decisions if d["decision"] == "power_order")
        short = [d for d in st.decisions if d["decision"] == "shortfall"]
        short_text = "; ".join(f"{d['value']:,.3f} {d['unit']} ({d['name']})" for d in short) or "none"
        rows.append([str(st.year), f"{st.window[0]}-{st.window[1]}", st.status, f"{built:,.3f}", f"{power:,.3f}",
                     short_text, "passed" if st.check_passed else "failed"])
    parts.append("<table><thead><tr>" + "".join(f"<th>{e(h)}</th>" for h in head) + "</tr></thead><tbody>"
                 + "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in rows)
                 + "</tbody></table><p>Every decision of every step is in <code>tables/steps.csv</code>.</p>")
    parts.append("</section>")
    return "".join(parts)


def insert_section(report: Path, section: str) -> None:
    """Put ``section`` into ``report.html`` after the headline (or before the end of the body)."""
    if not report.exists():
        return
    text = report.read_text(encoding="utf-8")
    for marker in ("<section id='plan'>", "</body>"):
        if marker in text:
            text = text.replace(marker, section + marker, 1)
            break
    report.write_text(text, encoding="utf-8")


def write_foresight_set(root: Path, name: str, s: Scenario, r: ForesightResult, argv: list[str],
                        timings: dict[str, float], plots: bool = True,
                        replan: dict[str, Any] | None = None, plan_inputs: dict[str, Any] | None = None) -> Path:
    """Write the plan's result set (the plan's layout) plus ``tables/steps.csv`` and the foresight keys."""
    import json

    from model.pages import humanise_html
    from model.report import display_names
    from model.results import write_result_set
    from model.solution import to_dataset

    ds = to_dataset(s, r.outcome)
    extra = summary_keys(r)
    if replan:
        extra["replan"] = {k: replan[k] for k in ("source", "source_name", "from")}
    man_extra = {"kind": "plan", "foresight": extra["foresight"]}
    if plan_inputs is not None:
        man_extra["plan_inputs"] = plan_inputs
    if replan:
        man_extra["replan"] = replan

    def finish(tmp: Path) -> None:
        summ = json.loads((tmp / "summary.json").read_text())
        summ.update(extra)
        (tmp / "summary.json").write_text(json.dumps(summ, indent=2) + "\n")
        steps_table(r).to_csv(tmp / "tables" / "steps.csv", index=False)
        insert_section(tmp / "report.html", humanise_html(report_section(r, replan), display_names(s)))

    return write_result_set(root, name, s, r.outcome, ds, argv, timings, plots=plots, extra_manifest=man_extra,
                            finish=finish)


def print_result(r: ForesightResult, path: Path, names: dict[str, dict[str, str]] | None = None) -> None:
    """A short summary on stdout: status, cost, regret, steps that fell short; deals, regions and the other
    ids by their display names (``names``: kind -> id -> name, :func:`model.report.display_names`)."""
    from model.names import humaniser

    words = humaniser(names or {})
    o = r.outcome
    print(f"\nStatus: {o.status}  ({words(o.message)})")
    if o.objective_bnusd is not None:
        print(f"Total discounted cost: {money_text(o.objective_bnusd * 1e9)}")
    if r.mode == "myopic":
        regret = r.regret_bnusd
        print(f"Perfect foresight, same inputs: {money_text(bn_text(r.reference_cost_bnusd))}")
        print(f"Regret (myopic - perfect, look-ahead {r.look_ahead} a): "
              f"{money_text(regret * 1e9 if regret is not None else None)}"
              + ("" if r.comparable else "  (a target is missed: not a pure cost of myopia)"))
        if not r.comparable:
            print(f"Regret at equal delivery (perfect foresight delivering what the myopic plan delivers): "
                  f"{money_text(bn_text(r.regret_at_equal_delivery_bnusd))}")
        for f in r.final_shortfalls[:10]:
            print(f"  - {words(f.sentence())}")
    print(f"\nResult set: {path}  (open {path / 'report.html'}; decisions per step in tables/steps.csv)")


def run_from_cli(a: Any, s: Scenario, name: str, argv: list[str], timings: dict[str, float]) -> int:
    """``run.py --foresight myopic --look-ahead N``: solve, write, print; the exit code (as ``run.py``)."""
    from model.errors import ResultSetError

    if a.objective != "min-cost":
        print("error: --foresight myopic plans least cost; --objective max-capacity is not available with it",
              file=sys.stderr)
        return 2
    try:
        print(f"Solving scenario '{s.name}' with myopic foresight (look-ahead "
              f"{a.look_ahead or DEFAULT_LOOK_AHEAD} a): {len(s.offers)} offers, {s.first_year}-{s.last_year} ...",
              flush=True)
        r = solve_foresight(s, "myopic", a.look_ahead, a.time_limit)
    except ForesightError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    try:
        path = write_foresight_set(a.results, name, s, r, argv, timings, plots=not a.no_plots)
    except ResultSetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: could not write the result set {a.results / name}: {exc}; nothing was written "
              "(no partial set is left)", file=sys.stderr)
        return 1
    timings["write_s"] = time.perf_counter() - t0
    from model.report import display_names

    print_result(r, path, display_names(s))
    return exit_code(r.outcome.status)


def exit_code(status: str) -> int:
    if status == "optimal":
        return 0
    if status in ("target_missed", "commitment_missed", "infeasible"):
        return 3
    return 4
