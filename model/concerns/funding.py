"""Money: spending each year within revenue, equity, vendor financing and borrowing.

Cash is nominal USD. Interest is paid in cash at ``interest_rate`` on the
debt at the start of each year (it enters spending, so it must be funded),
but the objective charges only its spread over the discount rate: the
objective already counts every cost at the buyer's cost of capital, and
borrowing at that rate is neutral in present value (see
:mod:`model.concerns.costs`). The default debt limit is a multiple of each
year's revenue (``debt_limit_multiple`` in ``inputs/finance.csv``, or USD rows
``debt_limit``); ``--set debt_limit=none`` lifts it. A terminal rule
(``terminal_debt_growth``) bounds the debt of the last year by that of the year
before.
"""
from __future__ import annotations

from pyomo.environ import ConcreteModel, Constraint, Expression, NonNegativeReals, Set, Var

from model.concerns.common import Limit, add_param
from model.concerns.costs import interest_spread
from model.scenario import Scenario


def param_values(s: Scenario) -> dict[str, dict]:
    """Funding before borrowing and debt limits (billion USD) for scenario ``s``."""
    return {
        "funding_bnusd_param": {y: s.funding_bnusd(y) for y in s.years},
        "debt_limit_bnusd": {y: v for y, v in sorted(s.debt_limit_bnusd.items()) if y in s.years},
        "interest_rate": {None: s.interest_rate} if s.funding_on else {},
        "interest_spread": {None: interest_spread(s)} if s.funding_on else {},
        "debt_after_horizon_spread": {None: interest_spread(s) / (1.0 + s.discount_rate)} if s.funding_on else {},
        "terminal_debt_growth": ({None: s.terminal_debt_growth} if s.funding_on and s.terminal_debt_growth is not None
                                 and s.last_year - 1 in s.years else {}),
    }


def add_components(m: ConcreteModel, s: Scenario) -> None:
    """Cash spent per year, and (when funding is on) borrowing, debt and the funding limit."""
    values = param_values(s)
    add_param(m, "funding_bnusd_param", m.YEARS, values["funding_bnusd_param"])
    if s.funding_on:
        add_param(m, "interest_rate", None, s.interest_rate)
        add_param(m, "interest_spread", None, interest_spread(s))
        add_param(m, "debt_after_horizon_spread", None, interest_spread(s) / (1.0 + s.discount_rate))
        m.debt_end_bnusd = Var(m.YEARS, within=NonNegativeReals, doc="debt at the end of the year (billion USD)")
    add_spending(m, s)
    if s.funding_on:
        m.borrow_bnusd = Var(m.YEARS, within=NonNegativeReals, doc="new borrowing in the year (billion USD)")
        m.repay_bnusd = Var(m.YEARS, within=NonNegativeReals, doc="debt repaid in the year (billion USD)")
        add_debt_accounting(m, s)
        add_funding_balance(m, s)
        add_debt_limit(m, s)
        add_terminal_debt(m, s)
    m.funding_bnusd = Expression(m.YEARS, rule=lambda m, y: m.funding_bnusd_param[y])
    m.borrowing_bnusd = Expression(m.YEARS, rule=lambda m, y: m.borrow_bnusd[y] if s.funding_on else 0.0)
    m.debt_bnusd = Expression(m.YEARS, rule=lambda m, y: m.debt_end_bnusd[y] if s.funding_on else 0.0)


def _interest(m: ConcreteModel, s: Scenario, year: int):
    """Interest paid in cash in ``year`` on the debt outstanding at its start (billion USD)."""
    if not s.funding_on or year == s.first_year:
        return 0.0
    return m.interest_rate * m.debt_end_bnusd[year - 1]


def _financing_cost(m: ConcreteModel, s: Scenario, year: int):
    """Cost of borrowing in the objective: the spread over the discount rate on the debt at the start of ``year``."""
    if not s.funding_on or year == s.first_year:
        return 0.0
    return m.interest_spread * m.debt_end_bnusd[year - 1]


def add_spending(m: ConcreteModel, s: Scenario) -> None:
    """Cash paid per year (billion USD, nominal) and the financing cost part.

        spending[y]  = purchases[y] + lease[y] + fixed[y] + energy[y]
                       + power_capex[y] + power_fixed[y] + interest[y]
        interest[y]  = interest_rate * debt_end[y-1]
        financing[y] = max(0, interest_rate - discount_rate) * debt_end[y-1]     (the objective's part)

    Purchases of capacity and power sources are paid when built (the
    objective instead spreads them as annuities at the discount rate);
    interest is paid on the debt outstanding at the start of the year.
    """
    m.financing_cost_bnusd = Expression(m.YEARS, rule=lambda m, y: _financing_cost(m, s, y))
    m.interest_cash_bnusd = Expression(m.YEARS, rule=lambda m, y: _interest(m, s, y))
    m.spending_bnusd = Expression(m.YEARS, rule=lambda m, y: m.purchase_cash_bnusd[y] + m.lease_cost_bnusd[y]
                                  + m.fixed_cost_bnusd[y] + m.energy_cost_bnusd[y] + m.power_capex_cash_bnusd[y]
                                  + m.power_fixed_cash_bnusd[y] + m.interest_cash_bnusd[y])


def add_debt_accounting(m: ConcreteModel, s: Scenario) -> None:
    """Debt carries over, grows with borrowing and falls with repayment.

        debt_end[y] = debt_end[y-1] + borrow[y] - repay[y]      (debt_end[first-1] = 0; billion USD)
    """
    m.debt_accounting = Constraint(m.YEARS, rule=lambda m, y: m.debt_end_bnusd[y] == (
        m.debt_end_bnusd[y - 1] if y > s.first_year else 0.0) + m.borrow_bnusd[y] - m.repay_bnusd[y])


def add_funding_balance(m: ConcreteModel, s: Scenario) -> None:
    """Spending within funding each year: cumulative cash never falls below the floor.

    For every year y:

        sum_{t <= y} (spending[t] - borrow[t] + repay[t])
            <=  opening_cash - cash_floor + sum_{t <= y} funding[t]

    funding[t] = revenue_to_compute x revenue[t] + equity[t] + vendor_financing[t]. Billion USD.
    Written as a cap on spending so its dual reads "one billion USD more funding by y would ...".
    Dropped with ``--set funding=off``.
    """
    def rule(m, y):
        net_spending = sum(m.spending_bnusd[t] - m.borrow_bnusd[t] + m.repay_bnusd[t] for t in s.years if t <= y)
        available = s.opening_cash_bnusd - s.cash_floor_bnusd + sum(m.funding_bnusd_param[t] for t in s.years if t <= y)
        return net_spending <= available

    m.funding_balance = Constraint(m.YEARS, rule=rule)


def add_debt_limit(m: ConcreteModel, s: Scenario) -> None:
    """Debt outstanding within the limit, in the years with one.

        debt_end[y]  <=  debt_limit[y]      (billion USD)
    """
    values = param_values(s)["debt_limit_bnusd"]
    m.DEBT_LIMIT_YEARS = Set(initialize=list(values), ordered=True)
    add_param(m, "debt_limit_bnusd", m.DEBT_LIMIT_YEARS, values)
    if values:
        m.debt_limit = Constraint(m.DEBT_LIMIT_YEARS, rule=lambda m, y: m.debt_end_bnusd[y] <= m.debt_limit_bnusd[y])


def add_terminal_debt(m: ConcreteModel, s: Scenario) -> None:
    """The terminal rule: debt at the end of the last year Y at most (1 + g) x the debt a year before.

        debt_end[Y]  <=  (1 + terminal_debt_growth) * debt_end[Y - 1]      (billion USD)

    With g = 0 the plan takes no new net debt in its last year: that year's interest and spending are paid
    from funding, not borrowed, so the debt the plan leaves (valued in ``after_horizon``) is not still
    growing to pay its own interest. No ``terminal_debt_growth`` row (or ``--set terminal_debt_growth=none``):
    no rule. A one-year horizon has no year before its last: no rule.
    """
    values = param_values(s)["terminal_debt_growth"]
    if not values:
        return
    last = s.last_year
    add_param(m, "terminal_debt_growth", None, values[None])
    m.terminal_debt = Constraint(expr=m.debt_end_bnusd[last] <= (1.0 + m.terminal_debt_growth) * m.debt_end_bnusd[last - 1])


LIMITS = {
    "funding_balance": lambda s, y: Limit(f"funding {y}", "bnUSD", "cap"),
    "debt_limit": lambda s, y: Limit(f"debt limit {y}", "bnUSD", "cap"),
    "terminal_debt": lambda s, y: Limit(f"terminal debt rule {s.last_year}", "bnUSD", "cap",
                                        f"debt at most {1.0 + (s.terminal_debt_growth or 0.0):g}x the year before"),
}
