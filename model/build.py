"""Build the Pyomo model: sets, then each concern's components in one visible order."""
from __future__ import annotations

from typing import Iterable

from pyomo.environ import Block, ConcreteModel, Set

from model.concerns import capacity, costs, deals, funding, offers, portfolio, power, supply, targets
from model.concerns.common import Limit
from model.scenario import Scenario

#: The concerns in the order they are added; each owns its constraint families.
CONCERNS = (capacity, costs, power, targets, offers, supply, deals, portfolio, funding)

#: Params a sweep may change without a rebuild (made mutable when asked for).
SWEEPABLE_PARAMS = frozenset({
    "target_gw", "target_eflops", "milestone_gw", "milestone_eflops", "build_cap_gw", "cumulative_cap_gw",
    "ramp_gw", "supply_cap_gw", "deal_min_gw", "deal_max_gw", "deal_min_bnusd", "deal_max_bnusd",
    "grid_power_gw", "pue", "portfolio_share", "discount_factor", "capex_bnusd_per_gw", "capital_recovery_factor",
    "lease_bnusd_per_gw_yr", "fixed_bnusd_per_gw_yr", "energy_twh_per_gw", "grid_energy_price", "capacity_credit",
    "capacity_factor", "power_build_cap_gw", "power_cumulative_cap_gw", "power_kind_cap_gw", "power_capex_bnusd_per_gw",
    "power_crf", "power_fixed_bnusd_per_gw_yr", "source_energy_price", "funding_bnusd_param", "debt_limit_bnusd",
    "interest_rate", "interest_spread", "debt_after_horizon_spread", "after_horizon_annuity",
    "after_horizon_opening_gw", "power_after_horizon_annuity", "commitment_value",
    "take_or_pay_after_horizon_annuity", "terminal_debt_growth",
})


def build_model(s: Scenario, mutable: Iterable[str] = (), into: Block | None = None) -> ConcreteModel:
    """The linear program for scenario ``s``.

    Parameters
    ----------
    s : Scenario
        Validated inputs.
    mutable : iterable of str
        Names of Params to make mutable so a sweep can change them and
        re-solve without rebuilding (see :data:`SWEEPABLE_PARAMS`). Everything
        else is plain data.
    into : Block, optional
        Build the components on this (constructed) block instead of a new
        model, e.g. one block per future in a stochastic extensive form.
    """
    mutable = frozenset(mutable)
    unknown = mutable - SWEEPABLE_PARAMS
    if unknown:
        raise ValueError(f"not sweepable Params: {sorted(unknown)}")
    m = ConcreteModel(name=f"compute plan ({s.name})") if into is None else into
    m.mutable_params = mutable
    m.YEARS = Set(initialize=s.years, ordered=True)
    m.OFFERS = Set(initialize=list(s.offers), ordered=True)
    m.OFFER_YEARS = Set(initialize=s.offer_years, dimen=2, ordered=True)
    m.VENDORS = Set(initialize=list(s.vendors), ordered=True)
    m.HOSTS = Set(initialize=list(s.hosts), ordered=True)
    m.REGIONS = Set(initialize=list(s.regions), ordered=True)
    for concern in CONCERNS:
        concern.add_components(m, s)
    costs.add_objective(m, s)
    return m


def param_values(s: Scenario) -> dict[str, dict]:
    """Every Param's values for scenario ``s``, by Param name (what a sweep pushes into a built model)."""
    out: dict[str, dict] = {}
    for concern in CONCERNS:
        if hasattr(concern, "param_values"):
            out.update(concern.param_values(s))
    return out


def set_param_values(m: ConcreteModel, s: Scenario, names: Iterable[str]) -> None:
    """Push scenario ``s``'s values of the mutable Params ``names`` into a built model.

    Raises
    ------
    ValueError
        If a Param is not mutable, or ``s`` would give it a different index
        (the model's structure changes: rebuild instead).
    """
    values = param_values(s)
    for name in names:
        p = getattr(m, name, None)
        if p is None:
            if values.get(name):
                raise ValueError(f"Param {name}: the scenario adds it; rebuild the model")
            continue
        if not p.mutable:
            raise ValueError(f"Param {name} was not built mutable")
        new = values[name]
        if set(new) != set(p.keys()):
            raise ValueError(f"Param {name}: the scenario changes its index; rebuild the model")
        for k, v in new.items():
            p[k] = v


def limits() -> dict[str, object]:
    """Constraint name -> describer, over every concern."""
    out: dict[str, object] = {}
    for concern in CONCERNS:
        out.update(getattr(concern, "LIMITS", {}))
    return out


def describe_limit(s: Scenario, name: str, index) -> Limit | None:
    """The user's words for constraint ``name[index]``, or None if it is not a limit."""
    fn = limits().get(name)
    return fn(s, index) if fn else None
