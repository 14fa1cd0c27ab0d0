"""The world market: buyers share the world's chips, firm power and kind-wide caps (issue 20)."""
from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from model.errors import InputErrors
from model.scenario import TargetSpec, load_scenario
from model.solve import solve_plan
from model.world.data import load_world, world_of_one
from model.world.solve import solve_world
from tests.toy import SRC2, q, write_table
from tests.world_toy import BUY, write_world


def test_two_buyers_one_vendor_allocation_and_scarcity_price_match_hand_solution(tmp_path):
    # 1.5 GW of chips; A values a GW-year at 30, B at 20, a GW costs 10 (bnUSD): A takes its 1 GW,
    # B the 0.5 GW left; the marginal GW goes to B, so the chips' price is B's net value 20 - 10 = 10 bnUSD/GW.
    w = load_world(write_world(tmp_path / "in"))
    o = solve_world(w)
    assert o.status == "optimal"
    assert o.plan["deliveries_gw"][("a", "acme", 2025)] == pytest.approx(1.0)
    assert o.plan["deliveries_gw"][("b", "acme", 2025)] == pytest.approx(0.5)
    assert o.prices["vendor"][("acme", 2025)] == pytest.approx(10e9)
    assert o.prices["region"][("R", 2025)] == pytest.approx(0.0)
    assert o.objective_bnusd == pytest.approx(-(30 - 10) * 1.0 - (20 - 10) * 0.5)


def test_scarce_grid_is_shared_and_priced(tmp_path):
    # chips are plentiful; 1.2 GW of firm power: A takes 1, B 0.2; the price of firm power is B's net value 10
    w = load_world(write_world(tmp_path / "in", output_gw=10.0, grid_gw=1.2))
    o = solve_world(w)
    assert o.plan["grid_draw_gw"][("a", "R", 2025)] == pytest.approx(1.0)
    assert o.plan["grid_draw_gw"][("b", "R", 2025)] == pytest.approx(0.2)
    assert o.prices["region"][("R", 2025)] == pytest.approx(10e9)
    assert o.prices["vendor"][("acme", 2025)] == pytest.approx(0.0)


@pytest.mark.parametrize("output_gw,grid_gw", [(1.5, 100.0), (10.0, 1.2), (0.7, 0.9)])
def test_every_shared_cap_holds_across_buyers_every_year(tmp_path, output_gw, grid_gw):
    w = load_world(write_world(tmp_path / "in", last_year=2027, output_gw=output_gw, grid_gw=grid_gw,
                               announced={"a": 2.0, "b": 3.0}, extra_buyers=("c",)))
    o = solve_world(w)
    assert o.status == "optimal"
    taken: dict = defaultdict(float)
    for (b, v, y), gw in o.plan["deliveries_gw"].items():
        taken[v, y] += gw
    assert taken and all(gw <= w.world_output_gw[k] + 1e-7 for k, gw in taken.items())
    drawn: dict = defaultdict(float)
    for (b, r, y), gw in o.plan["grid_draw_gw"].items():
        drawn[r, y] += gw
    for (b, y), it in o.plan["facility_gw"].items():
        assert it <= o.plan["grid_draw_gw"][b, "R", y] + 1e-7    # no own power sources: all from the grid
    assert drawn and all(gw <= w.regional_firm_gw[k] + 1e-7 for k, gw in drawn.items())
    assert sum(drawn.values()) > 0.5


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(base=st.floats(0.2, 3.0), factor=st.floats(1.0, 4.0), value_factor=st.floats(1.0, 3.0),
       output=st.floats(0.5, 3.0), grid=st.floats(0.5, 3.0))
def test_raising_one_buyers_demand_never_raises_anothers_allocation(tmp_path_factory, base, factor, value_factor,
                                                                     output, grid):
    def allocation(announced_b: float, value_b: float) -> tuple[float, float]:
        folder = write_world(tmp_path_factory.mktemp("w"), output_gw=output, grid_gw=grid,
                             announced={"a": 1.0, "b": announced_b}, value={"a": 25.0, "b": value_b})
        o = solve_world(load_world(folder))
        return o.plan["deliveries_gw"][("a", "acme", 2025)], o.plan["grid_draw_gw"][("a", "R", 2025)]

    before = allocation(base, 15.0)
    after = allocation(base * factor, 15.0 * value_factor)
    assert after[0] <= before[0] + 1e-7
    assert after[1] <= before[1] + 1e-7


def test_world_of_one_buyer_reproduces_the_single_buyer_least_cost_plan():
    # the consistency anchor: the base at a reachable target, its caps (world_output x buyer_share) as the
    # world's, its target kept as a hard row and no value of capacity: the same LP seen from the world
    s = load_scenario(target=TargetSpec("60GW"))
    single = solve_plan(s)
    world = solve_world(world_of_one(s), keep_targets=True)
    assert single.status == world.status == "optimal"
    assert world.objective_bnusd == pytest.approx(single.objective_bnusd, rel=1e-6)
    a = single.model.in_service_gw.extract_values()
    b = world.model.buyer["default"].in_service_gw.extract_values()
    by_year_a, by_year_b = defaultdict(float), defaultdict(float)
    for (o, y), gw in a.items():
        by_year_a[y] += gw or 0.0
        by_year_b[y] += b[o, y] or 0.0
    # equal-cost offers may swap (a degenerate LP: market leases of several vendors at one host share one
    # sourced price), so the split by vendor may differ at equal cost; capacity by year may not
    assert by_year_a == pytest.approx(by_year_b, abs=1e-6)


def test_bad_row_in_a_buyer_folder_names_that_buyers_file_and_row(tmp_path):
    folder = write_world(tmp_path / "in")
    rows = [{"offer": "buy", "year": "", **q("capex", 10e9, "USD/GW")},
            {"offer": "buy", "year": "", **q("lifetime", 5, "kg")}]
    write_table(folder / "buyers" / "b" / "offer_parameters.csv", rows)
    with pytest.raises(InputErrors, match=r"buyers/b/offer_parameters\.csv, line 3, field 'unit'"):
        load_world(folder)


def test_buyer_parameters_refuse_a_power_unit_for_a_value(tmp_path):
    folder = write_world(tmp_path / "in")
    write_table(folder / "buyer_parameters.csv", [
        {"buyer": "a", "year": "", **q("announced_capacity", 1, "GW")},
        {"buyer": "a", "year": "", **q("value_of_capacity", 1, "GW")},
        {"buyer": "b", "year": "", **q("announced_capacity", 1, "GW")},
        {"buyer": "b", "year": "", **q("value_of_capacity", 1e10, "USD/GW/a")}])
    with pytest.raises(InputErrors, match=r"buyer_parameters\.csv, line 3, field 'unit'"):
        load_world(folder)


def test_buyers_file_needs_exactly_one_default_buyer(tmp_path):
    folder = write_world(tmp_path / "in")
    write_table(folder / "buyers.csv", [{"buyer": x, "name": x, "role": "rest_of_world" if x == "b" else "named",
                                         **SRC2} for x in ("a", "b")])
    with pytest.raises(InputErrors, match="exactly one buyer with role 'default'"):
        load_world(folder)


def test_buyer_demand_scale_scales_announced_capacity(tmp_path):
    w = load_world(write_world(tmp_path / "in"), sets=["buyer_demand_scale.b=2.5"])
    assert w.announced_gw["b", 2025] == pytest.approx(2.5)
    assert w.announced_gw["a", 2025] == pytest.approx(1.0)


def test_pro_rata_rule_splits_caps_by_contracted_volumes_without_deals_equally(tmp_path):
    w = load_world(write_world(tmp_path / "in"))
    o = solve_world(w, rule="pro-rata")
    assert o.shares[("vendor", "acme", "a")] == pytest.approx(0.5)
    assert o.plan["deliveries_gw"][("a", "acme", 2025)] == pytest.approx(0.75)
    assert o.plan["deliveries_gw"][("b", "acme", 2025)] == pytest.approx(0.75)


def test_single_buyer_reads_its_shares_from_the_world_allocation_unless_the_user_sets_them(tmp_path):
    from model.cli_common import dispatch

    folder = write_world(tmp_path / "in", last_year=2027, output_gw=1.0, grid_gw=1.5)
    assert dispatch(["world", "--inputs", str(folder), "--results", str(tmp_path / "res"), "--name", "w",
                     "--write-allocation"]) == 0
    w = load_world(folder)
    o = solve_world(w)
    s = load_scenario(folder)
    for (v, y), cap in w.world_output_gw.items():     # the plan may take what the world gave it and what is left
        taken = sum(gw for (b, v2, y2), gw in o.plan["deliveries_gw"].items() if (v2, y2) == (v, y))
        got = o.plan["deliveries_gw"].get(("a", v, y), 0.0) + max(0.0, cap - taken)
        assert s.supply_cap_gw[v, y] == pytest.approx(got, abs=1e-8)
    for (r, y), firm in w.regional_firm_gw.items():
        drawn = sum(gw for (b, r2, y2), gw in o.plan["grid_draw_gw"].items() if (r2, y2) == (r, y))
        got = o.plan["grid_draw_gw"][("a", r, y)] + max(0.0, firm - drawn)
        assert s.grid_power_gw[r, y] == pytest.approx(got, abs=1e-8)
    assert s.supply_share["vendor"]["acme"]["basis"].startswith("world run, value rule, inputs of ")
    user = load_scenario(folder, sets=["buyer_share.acme=0.3"])
    assert user.supply_cap_gw["acme", 2026] == pytest.approx(0.3)
    assert user.supply_share["vendor"]["acme"]["basis"] == "set by the user"


def test_bad_allocation_row_names_the_file_and_line(tmp_path):
    folder = write_world(tmp_path / "in")
    (folder / "world_allocation.csv").write_text(
        "kind,name,year,share,unit,source\n"
        "vendor,acme,2025,0.5,dimensionless,python run.py world --write-allocation on inputs of 2026-12-02\n"
        "vendor,acme,2026,1.7,dimensionless,python run.py world --write-allocation on inputs of 2026-12-02\n")
    with pytest.raises(InputErrors, match=r"world_allocation\.csv, line 3, field 'share'"):
        load_scenario(folder)


def test_world_command_refuses_a_bad_buyer_row_with_exit_2_and_writes_nothing(tmp_path, capsys):
    from model.cli_common import dispatch

    folder = write_world(tmp_path / "in")
    write_table(folder / "buyers" / "b" / "offers.csv", [{**r, "region": "Nowhere"} for r in BUY])
    code = dispatch(["world", "--inputs", str(folder), "--results", str(tmp_path / "res"), "--name", "w"])
    assert code == 2
    assert "buyers/b/offers.csv, line 2, field 'region'" in capsys.readouterr().err
    assert not (tmp_path / "res" / "w").exists()


def test_world_sweep_reports_the_default_buyers_allocation_per_case(tmp_path):
    from model.cli_common import dispatch

    folder = write_world(tmp_path / "in", output_gw=1.5)
    assert dispatch(["sweep", "--world", "--inputs", str(folder), "--vary", "buyer_demand_scale.b=0.5:3",
                     "--steps", "2", "--results", str(tmp_path / "res"), "--name", "s"]) == 0
    import pandas as pd

    cases = pd.read_csv(tmp_path / "res" / "s" / "cases.csv")
    assert list(cases["value"]) == [0.5, 3.0]
    # A values chips more than B: B's demand never takes A's GW
    assert list(cases["default_in_service_gw"]) == pytest.approx([1.0, 1.0])
    assert list(cases["world_in_service_gw"]) == pytest.approx([1.0 + 0.5, 1.5])
    # the page and the terminal show the cases in words (cases.csv keeps the ids): no column keys, no vendor ids
    page = (tmp_path / "res" / "s" / "report.html").read_text()
    assert "This buyer in service (GW)" in page and "Its share of " in page
    assert not re.search(r"default_in_service_gw|share_\w+|scarcest_price", page)


def _signed_deal(folder: Path, buyer_dir: Path, gw: float) -> None:
    from tests.toy import HEADERS, deal, term

    write_table(buyer_dir / "deals.csv", [deal("big", "offer=buy", 2025, 2025, status="signed")], HEADERS["deals"])
    write_table(buyer_dir / "deal_terms.csv", [term("big", "minimum", gw, "GW")], HEADERS["deal_terms"])


def test_signed_deals_beyond_world_output_are_named_with_exit_3(tmp_path, capsys):
    from model.cli_common import dispatch

    folder = write_world(tmp_path / "in", output_gw=1.5)
    _signed_deal(folder, folder / "buyers" / "b", 2.0)      # B signed for 2 GW of 1.5 GW made
    o = solve_world(load_world(folder))
    assert o.status == "infeasible"
    assert o.overflow["world_supply_cap"][("acme", 2025)] == pytest.approx(0.5)
    assert "the world's output of Acme chips in 2025: 0.5 GW" in o.message     # display names, not ids
    assert not re.search(r"\bacme\b|world_supply_cap", o.message)
    code = dispatch(["world", "--inputs", str(folder), "--results", str(tmp_path / "res"), "--name", "w"])
    assert code == 3
    summ = json.loads((tmp_path / "res" / "w" / "summary.json").read_text())
    assert summ["shared_caps_exceeded"]["world_supply_cap"]["acme 2025"]["value"] == pytest.approx(0.5)


def test_a_pro_rata_world_that_cannot_honour_the_deals_names_buyers_and_vendor(tmp_path):
    from tests.toy import HEADERS, deal, term

    # pro-rata shares of 1.5 GW by contracted GW (1 and 1.4): neither buyer's share holds its signed deal
    folder = write_world(tmp_path / "in", output_gw=1.5)
    _signed_deal(folder, folder / "buyers" / "b", 1.4)
    write_table(folder / "deals.csv", [deal("a-deal", "offer=buy", 2025, 2025, status="signed")], HEADERS["deals"])
    write_table(folder / "deal_terms.csv", [term("a-deal", "minimum", 1.0, "GW")], HEADERS["deal_terms"])
    o = solve_world(load_world(folder), rule="pro-rata")
    assert o.status == "infeasible"
    assert "Buyer B's share of Acme chips in 2025" in o.message, o.message
    assert not re.search(r"\b(acme|b 2025)\b|_share", o.message)


def test_a_signed_deal_is_honoured_before_a_higher_value(tmp_path):
    # B's signed 1 GW comes first although A values the chips more: A gets the 0.5 GW left
    folder = write_world(tmp_path / "in", output_gw=1.5)
    _signed_deal(folder, folder / "buyers" / "b", 1.0)
    o = solve_world(load_world(folder))
    assert o.status == "optimal"
    assert o.plan["deliveries_gw"][("b", "acme", 2025)] == pytest.approx(1.0)
    assert o.plan["deliveries_gw"][("a", "acme", 2025)] == pytest.approx(0.5)
    assert o.prices["vendor"][("acme", 2025)] == pytest.approx(20e9)     # A's net value 30 - 10 at the margin


def test_pro_rata_shares_follow_contracted_gw(tmp_path):
    from tests.toy import HEADERS, deal, term

    folder = write_world(tmp_path / "in", output_gw=2.0)
    _signed_deal(folder, folder / "buyers" / "b", 0.6)                     # B: 0.6 GW contracted
    write_table(folder / "deals.csv", [deal("a-deal", "offer=buy", 2025, 2025, status="signed")], HEADERS["deals"])
    write_table(folder / "deal_terms.csv", [term("a-deal", "minimum", 0.2, "GW")], HEADERS["deal_terms"])
    o = solve_world(load_world(folder), rule="pro-rata")
    assert o.shares[("vendor", "acme", "a")] == pytest.approx(0.25)          # 0.2 / (0.2 + 0.6)
    assert o.shares[("vendor", "acme", "b")] == pytest.approx(0.75)
    assert o.plan["deliveries_gw"][("a", "acme", 2025)] == pytest.approx(0.5)    # 0.25 x 2 GW, though A values more
    assert o.plan["deliveries_gw"][("b", "acme", 2025)] == pytest.approx(1.0)    # its announced 1 GW (share 1.5)


def _allocation_of(path):
    import csv

    with open(path, encoding="utf-8") as f:
        rows = list(csv.DictReader(line for line in f if not line.startswith("#")))
    return {(r["kind"], r["name"], int(r["year"])): float(r["share"]) for r in rows}


def test_the_shipped_allocation_is_a_fresh_world_run_of_the_shipped_inputs_and_the_base_reads_it():
    # inputs/world_allocation.csv is what `python run.py world --write-allocation` gives for the inputs as
    # shipped (same world fingerprint, same shares to 1e-9), and the single-buyer base takes its caps from it
    from model.inputs.allocation import allocation_header, world_fingerprint
    from model.scenario import DEFAULT_INPUTS, read_base_inputs
    from model.world.output import allocation_rows

    path = DEFAULT_INPUTS / "world_allocation.csv"
    rule, fingerprint = allocation_header(path)
    assert fingerprint == world_fingerprint(read_base_inputs(DEFAULT_INPUTS).tables, DEFAULT_INPUTS, own=True), \
        "the inputs changed since the allocation was written: run python run.py world --write-allocation"
    w = load_world(DEFAULT_INPUTS)
    o = solve_world(w, rule)
    assert o.status == "optimal"
    fresh = {(r["kind"], r["name"], r["year"]): r["share"] for r in allocation_rows(w, o, "2026-12-02")}
    shipped = _allocation_of(path)
    assert set(fresh) == set(shipped)
    assert max(abs(fresh[k] - shipped[k]) for k in fresh) <= 2e-9
    s = load_scenario(DEFAULT_INPUTS)
    history = s.history_last_year or 0
    for (v, y), cap in w.world_output_gw.items():
        if y > history:          # what the world gave it, and what no buyer took
            taken = sum(gw for (b, v2, y2), gw in o.plan["deliveries_gw"].items() if (v2, y2) == (v, y))
            got = o.plan["deliveries_gw"].get((w.default, v, y), 0.0) + max(0.0, cap - taken)
            assert got - 1e-7 <= s.supply_cap_gw[v, y] <= got + cap * 1e-9 + 1e-7, (v, y)
    assert s.supply_share["vendor"]["nvidia"]["basis"].startswith("world run, value rule, inputs of ")


def test_a_change_to_what_every_buyer_reads_re_solves_the_world_and_a_change_to_the_buyers_own_does_not():
    # 20 % less NVIDIA output: the shipped shares (the world's answer at full output) are not this run's
    # world; the loader re-solves the world with the change, whose deliveries the single buyer then gets
    # (signed deals are honoured first there, so the run stays feasible where held shares were not)
    from model.scenario import DEFAULT_INPUTS, TargetSpec
    from model.solve import solve_plan

    change = ["supply_scale.nvidia=0.8"]
    w = load_world(DEFAULT_INPUTS, sets=change)
    o = solve_world(w)
    s = load_scenario(DEFAULT_INPUTS, sets=change, target=TargetSpec("60GW"))
    history = s.history_last_year or 0
    for (v, y), cap in w.world_output_gw.items():
        if y > history:
            taken = sum(gw for (b, v2, y2), gw in o.plan["deliveries_gw"].items() if (v2, y2) == (v, y))
            got = o.plan["deliveries_gw"].get((w.default, v, y), 0.0) + max(0.0, cap - taken)
            assert got - 1e-7 <= s.supply_cap_gw[v, y] <= got + cap * 1e-9 + 1e-7, (v, y)
    assert s.supply_share["vendor"]["nvidia"]["basis"].startswith("world run re-solved for this run's changes")
    assert solve_plan(s, "min-cost").status == "optimal"
    # a change the world cannot fit (PUE 1.3 everywhere: another buyer's dated deliveries in Tennessee cannot be
    # powered): the shares come from the world's elastic solve, and their basis says so, naming the caps
    hot = load_scenario(DEFAULT_INPUTS, sets=["pue=1.3"], target=TargetSpec("60GW"))
    basis = hot.supply_share["region"]["US-Tennessee"]["basis"]
    assert "cannot honour every buyer's signed deals" in basis and "firm grid power in Tennessee" in basis
    assert "US-Tennessee" not in basis                      # the cap by its display name, not its id
    assert all(0.0 <= v <= 1.0 for kind in hot.supply_share.values() for x in kind.values()
               for v in x["by_year"].values())
    # the buyer's own data (its revenue, in its own finance.csv) re-solves the world too; the target does not
    mine = load_scenario(DEFAULT_INPUTS, sets=["revenue_scale=0.8"])
    assert mine.supply_share["vendor"]["nvidia"]["basis"].startswith("world run re-solved")
    other_target = load_scenario(DEFAULT_INPUTS, target=TargetSpec("90GW", 2031))
    assert other_target.supply_share["vendor"]["nvidia"]["basis"].startswith("world run, value rule")


def test_a_rivals_larger_plan_never_gives_the_single_buyer_more_chips():
    # buyer_demand_scale.B passes to the world: Meta announcing three times its plan re-solves the world,
    # and the default buyer gets fewer chips in all (one vendor-year may rise as the world substitutes
    # across vendors and years) and can hold less in the target year
    from model.scenario import DEFAULT_INPUTS
    from model.solve import solve_plan

    base = load_scenario(DEFAULT_INPUTS)
    rival = load_scenario(DEFAULT_INPUTS, sets=["buyer_demand_scale.meta=3"])
    assert rival.supply_share["vendor"]["nvidia"]["basis"].startswith("world run re-solved")
    assert rival.supply_share["vendor"]["nvidia"] != base.supply_share["vendor"]["nvidia"]
    assert sum(rival.supply_cap_gw.values()) < sum(base.supply_cap_gw.values()) - 1e-3
    assert solve_plan(rival, "max-capacity").max_reachable < solve_plan(base, "max-capacity").max_reachable - 0.1


def test_world_keys_need_a_world_and_write_allocation_refuses_changes(tmp_path, capsys):
    from model.cli_common import dispatch

    folder = write_world(tmp_path / "in")
    with pytest.raises(InputErrors, match=r"buyer_demand_scale.*world_allocation\.csv"):
        load_scenario(folder, sets=["buyer_demand_scale.b=2"])
    code = dispatch(["world", "--inputs", str(folder), "--results", str(tmp_path / "res"), "--name", "w",
                     "--write-allocation", "--set", "pue=1.2"])
    assert code == 2
    assert "--write-allocation" in capsys.readouterr().err
    assert not (folder / "world_allocation.csv").exists()


def test_the_live_page_moves_a_rivals_plan_and_answers_as_the_cli_does():
    # item 6: the page has a control per other buyer (buyer_demand_scale.B); moving Meta's plan re-solves
    # the world, and the page's largest reachable figure is the CLI's for the same --set
    from model.scenario import DEFAULT_INPUTS
    from model.serve.controls import controls, rival_buyers
    from model.serve.planner import Planner
    from model.serve.request import parse_request
    from model.solve import solve_plan

    planner = Planner(DEFAULT_INPUTS)
    keys = {c["key"] for c in controls(planner.reference, planner.base.catalogue,
                                       rival_buyers(DEFAULT_INPUTS))["controls"]}
    assert {"buyer_demand_scale.meta", "buyer_demand_scale.xai"} <= keys
    answer = planner.solve(parse_request({"target": "250GW", "set": {"buyer_demand_scale.meta": "3"}},
                                         planner.default))
    page = answer.summary["max_reachable"]["value"]
    cli = solve_plan(load_scenario(DEFAULT_INPUTS, sets=["buyer_demand_scale.meta=3"], target=TargetSpec("250GW")),
                     "max-capacity").max_reachable
    base = solve_plan(load_scenario(DEFAULT_INPUTS, target=TargetSpec("250GW")), "max-capacity").max_reachable
    assert page == pytest.approx(cli, rel=1e-6) and cli < base - 0.1


def test_inputs_of_date_states_the_inputs_date_not_the_day_the_allocation_was_written(tmp_path):
    """The toy's rows are dated 2026-11-23: the allocation, the shares' basis and the manifest say so."""
    from model.cli import main
    from model.cli_common import dispatch

    folder = write_world(tmp_path / "in", last_year=2027, output_gw=1.0, grid_gw=1.5)
    assert dispatch(["world", "--inputs", str(folder), "--results", str(tmp_path / "res"), "--name", "w",
                     "--write-allocation", "--no-plots"]) == 0
    allocation = (folder / "world_allocation.csv").read_text()
    assert "on inputs of 2026-11-23" in allocation
    assert json.loads((tmp_path / "res" / "w" / "manifest.json").read_text())["inputs_date"] == "2026-11-23"
    # an allocation written on another day still reads as of its inputs' date
    (folder / "world_allocation.csv").write_text(allocation.replace("inputs of 2026-11-23", "inputs of 2031-01-05"))
    assert main(["--inputs", str(folder), "--results", str(tmp_path / "res"), "--name", "p", "--no-plots",
                 "--no-ranking"]) in (0, 3)
    summ = json.loads((tmp_path / "res" / "p" / "summary.json").read_text())
    assert summ["supply_share"]["vendor"]["acme"]["basis"] == "world run, value rule, inputs of 2026-11-23"
    assert json.loads((tmp_path / "res" / "p" / "manifest.json").read_text())["inputs_date"] == "2026-11-23"


def test_the_world_page_names_regions_by_their_display_names_not_their_descriptions(tmp_path):
    from model.world.output import world_summary

    folder = write_world(tmp_path / "in")
    (folder / "display_names.csv").write_text("kind,id,name\nregion,R,Riverside\n")
    w = load_world(folder)
    assert world_summary(w, solve_world(w), 2025)["region_names"] == {"R": "Riverside"}
