from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from toy import default_tables, q, write_inputs  # noqa: E402


@pytest.fixture
def toy(tmp_path: Path) -> Path:
    """The default toy inputs folder (see tests/toy.py)."""
    return write_inputs(tmp_path / "inputs")


@pytest.fixture
def toy_capped(tmp_path: Path) -> Path:
    """Toy where the purchase offer can add at most 1 GW a year."""
    rows = default_tables()["offer_parameters"] + [{"offer": "buy", "year": "", **q("build_cap", 1, "GW/a")}]
    return write_inputs(tmp_path / "inputs", offer_parameters=rows)
