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


@pytest.fixture(autouse=True)
def pyomo_output_capture_is_released():
    """Fail the test that leaves Pyomo's output-capture lock held, and free it for the next test.

    Pyomo serialises output capture with one process-wide lock (``capture_output_lock``); a solve
    interrupted inside it would make every later solve of the suite wait 200 s for it (seen once
    in a full run). This names the test that did it instead of hanging the rest of the suite.
    """
    yield
    from pyomo.common import dependencies

    lock = dependencies.capture_output_lock
    if lock.acquire(timeout=0.5):
        lock.release()
        return
    lock.release()
    pytest.fail("this test left Pyomo's output-capture lock held (a solve interrupted inside capture_output)")
