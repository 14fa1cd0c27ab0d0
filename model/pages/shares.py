"""The plan page's share table: the part of each vendor's world output and each region's firm power the plan may take."""
from __future__ import annotations

from typing import Any, Mapping

from model import fmt
from model.pages import p, table, table_block
from model.names import name as display_name
from model.supply_share import share_rows


def share_blocks(summary: Mapping[str, Any], names: Mapping[str, Mapping[str, str]], year: int) -> list[Any]:
    """A sentence and a table: kind, name, share in ``year``, basis (empty when the run has no shares)."""
    rows = share_rows(summary, year)
    if not rows:
        return []
    return [p("This buyer's supply is a share of the world's: of each vendor's output and of each region's firm "
              "grid power. The world run (python run.py world) decides the shares unless the user sets them."),
            table_block(table(["of", "name", f"share in {year}", "basis"],
                              [[kind, display_name(kind, id_, names), fmt.percent(share), basis]
                               for kind, id_, share, basis in rows], numeric=(2,)))]
