"""SIGTERM during a run: the run stops as on Ctrl-C, and leaves no hidden ``.tmp-NAME-PID-*`` folder behind."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from toy import write_inputs

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM is a POSIX signal")
def test_sigterm_while_the_result_set_is_written_leaves_no_hidden_folder(tmp_path):
    inputs = write_inputs(tmp_path / "inputs")
    results = tmp_path / "results"
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.Popen([sys.executable, "run.py", "--target", "2GW", "--inputs", str(inputs), "--results",
                             str(results), "--name", "cut"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if results.is_dir() and any(p.name.startswith(".tmp-cut-") for p in results.iterdir()):
                break
            time.sleep(0.01)
        assert proc.poll() is None, "the run ended before its result set was being written"
        proc.send_signal(signal.SIGTERM)                # while the set is being written (tables, plots, report)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130 and ("interrupted" in err or "terminated" in err), err
    assert sorted(p.name for p in results.iterdir()) == []
