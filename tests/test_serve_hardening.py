"""``run.py serve`` as a web service: who may ask, how much, how long, how many at once, and how it stops.

The server runs as a subprocess on a toy with a new grid connection and a gas
plant (``lead_time`` changes the LP's shape, so such a case is a fresh build);
every answer that is checked is compared with ``run.py``'s ``summary.json``
for the same case.
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from test_foresight import lead_time_toy
from test_serve import ROOT, differences, run_py
from toy import write_inputs

pytest.importorskip("starlette", reason="run.py serve needs the 'serve' extra (pip install -e '.[serve]')")
pytest.importorskip("uvicorn", reason="run.py serve needs the 'serve' extra (pip install -e '.[serve]')")

CASE = {"target": "2GW", "year": 2027}
#: Changes that need a fresh build (lead_time) and warm ones, each with the run.py arguments that give it.
CHANGES = {"lead_time=1a": {"lead_time": "1a"}, "discount_rate=12%": {"discount_rate": "12%"},
           "electricity_price=40USD/MWh": {"electricity_price": "40USD/MWh"}, "capex_scale=1.5": {"capex_scale": "1.5"}}


def start(inputs: Path, results: Path, *extra: str) -> tuple[subprocess.Popen, str]:
    """``run.py serve`` on a free loopback port: (process, base URL)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.Popen([sys.executable, "run.py", "serve", "--inputs", str(inputs), "--port", "0",
                             "--results", str(results), *extra], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    lines, deadline = [], time.monotonic() + 120
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        m = re.search(r"(http://127\.0\.0\.1:\d+)/", line)
        if m:
            threading.Thread(target=proc.stdout.read, daemon=True).start()
            return proc, m.group(1)
    proc.kill()
    pytest.fail("run.py serve did not start:\n" + "".join(lines))


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="module")
def lead_inputs(tmp_path_factory) -> Path:
    return write_inputs(tmp_path_factory.mktemp("lead") / "inputs", **lead_time_toy())


@pytest.fixture(scope="module")
def server(lead_inputs: Path, tmp_path_factory):
    results = tmp_path_factory.mktemp("lead-results")
    proc, url = start(lead_inputs, results)
    try:
        yield url, results, proc
    finally:
        stop(proc)


def request(url: str, path: str, body: Any = None, headers: dict | None = None, method: str | None = None,
            timeout: float = 60) -> tuple[int, dict | str]:
    data = None if body is None else body if isinstance(body, bytes) else json.dumps(body).encode()
    hdrs = {"Content-Type": "application/json"} if data is not None else {}
    hdrs.update(headers or {})
    req = urllib.request.Request(url + path, data=data, headers=hdrs, method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            text = r.read().decode()
            return r.status, json.loads(text) if r.headers.get_content_type() == "application/json" else text
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


# ----------------------------------------------------------------------------
# Who may ask
# ----------------------------------------------------------------------------
def test_a_foreign_origin_host_or_content_type_is_refused_and_nothing_is_written(server):
    url, results, _ = server
    before = sorted(p.name for p in results.iterdir())
    code, got = request(url, "/api/save", {**CASE, "name": "evil"}, {"Origin": "http://evil.example"})
    assert code == 403 and "Origin" in got["error"] and "evil.example" in got["error"]
    code, got = request(url, "/api/save", CASE, {"Content-Type": "text/plain"})
    assert code == 415 and "application/json" in got["error"] and "text/plain" in got["error"]
    code, got = request(url, "/api/solve", CASE, {"Host": "attacker.example"})
    assert code == 403 and "Host" in got["error"] and "--allow-host" in got["error"]
    code, got = request(url, "/", headers={"Host": "attacker.example:80"})
    assert code == 403
    assert sorted(p.name for p in results.iterdir()) == before
    port = url.rsplit(":", 1)[1]
    code, got = request(url, "/api/solve", CASE, {"Origin": url, "Host": f"localhost:{port}"})
    assert code == 403          # the Origin is 127.0.0.1, the Host localhost: not the same origin
    code, got = request(url, "/api/solve", CASE, {"Origin": url, "Sec-Fetch-Site": "same-origin"})
    assert code == 200 and got["status"] == "optimal"


def test_allow_host_lets_a_named_host_in(lead_inputs, tmp_path):
    proc, url = start(lead_inputs, tmp_path, "--allow-host", "plan.example:8050")
    try:
        assert request(url, "/api/controls", headers={"Host": "plan.example"})[0] == 200
        assert request(url, "/api/controls", headers={"Host": "other.example"})[0] == 403
    finally:
        stop(proc)


# ----------------------------------------------------------------------------
# How much
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("body, code, words", [
    (b"", 422, "empty body"),
    (b"{}", 422, "empty object"),
    (b"[" * 60000, 422, "nested too deeply"),
    (b'{"target": "' + b"1" * 70000 + b'GW"}', 413, "at most 65536 bytes"),
    ({"target": "80GW", "set": {"pue": "1" * 40000}}, 422, "'set.pue': expected at most 100 characters"),
    ({"target": "1" * 40000 + "GW"}, 422, "(40002 characters)"),
    ({"target": "1e308GW"}, 422, "at most 100000 GW"),
    ({"target": "250gw"}, 422, "write 250GW"),
    ({"target": "2GW", "set": {"peu": "1.2"}}, 422, "did you mean 'pue'?"),
], ids=["empty", "empty-object", "deep", "huge", "long-set", "long-target", "1e308GW", "case", "did-you-mean"])
def test_oversized_empty_or_absurd_requests_are_refused_in_milliseconds_quoting_a_short_prefix(server, body, code,
                                                                                                words):
    url, _, _ = server
    t0 = time.perf_counter()
    got_code, got = request(url, "/api/solve", body)
    took = time.perf_counter() - t0
    assert got_code == code and words in got["error"], got
    assert len(got["error"]) < 600 and took < 1.0


def test_the_shared_quantity_parser_refuses_a_long_number_before_parsing_it(lead_inputs):
    from model.errors import InputErrors
    from model.scenario import load_scenario
    from model.units import UnitParseError, parse_quantity

    t0 = time.perf_counter()
    with pytest.raises(UnitParseError, match=r"40000 characters"):
        parse_quantity("1" * 40000)
    assert time.perf_counter() - t0 < 0.05
    t0 = time.perf_counter()
    with pytest.raises(InputErrors, match=r"40006 characters") as err:
        load_scenario(lead_inputs, sets=["pue=" + "1" * 40002])
    assert len(str(err.value)) < 400
    assert time.perf_counter() - t0 < 5


def test_save_names_are_checked_before_the_solve(server):
    url, _, _ = server
    for name, words in (("a/b", "plain folder name"), ("x" * 300, "at most 100 characters"), ("..", "plain")):
        t0 = time.perf_counter()
        code, got = request(url, "/api/save", {**CASE, "name": name})
        assert code == 422 and words in got["error"] and time.perf_counter() - t0 < 1.0


def test_cli_refuses_an_absurd_target_and_a_long_name_with_exit_2(lead_inputs, tmp_path):
    rc, summ, err = run_py(lead_inputs, tmp_path, "x", "--target", "1e308GW")
    assert rc == 2 and summ is None and "at most 100000 GW" in err and "Traceback" not in err
    from model.cli import main

    assert main(["--target", "2GW", "--inputs", str(lead_inputs), "--results", str(tmp_path),
                 "--name", "n" * 300, "--no-plots", "--no-ranking"]) == 2
    assert list(tmp_path.iterdir()) == []


# ----------------------------------------------------------------------------
# How many at once, how long, how it stops
# ----------------------------------------------------------------------------
def _pipes(pid: int) -> int:
    fd = Path(f"/proc/{pid}/fd")
    count = 0
    for p in fd.iterdir():
        try:
            count += os.readlink(p).startswith("pipe:")
        except FileNotFoundError:      # closed between the listing and the read (the server is running)
            continue
    return count


def test_concurrent_fresh_build_and_warm_changes_each_get_run_py_answer(server, lead_inputs, tmp_path):
    url, _, proc = server
    expected = {}
    for label, change in CHANGES.items():
        rc, summ, err = run_py(lead_inputs, tmp_path, re.sub(r"\W", "_", label), "--target", "2GW", "--year", "2027",
                               "--set", label)
        assert summ is not None, err
        expected[label] = summ
    labels = list(expected)
    assert all(differences(expected[a], expected[b]) for i, a in enumerate(labels) for b in labels[i + 1:])
    pipes = _pipes(proc.pid) if sys.platform.startswith("linux") else None
    checked: dict[str, int] = {}
    wrong: list[str] = []
    lock = threading.Lock()

    def ask(label: str) -> None:
        for _ in range(3):
            code, got = request(url, "/api/solve", {**CASE, "set": CHANGES[label]}, timeout=120)
            diff = [f"HTTP {code}: {got}"] if code != 200 else differences(got, expected[label])
            with lock:
                checked[label] = checked.get(label, 0) + 1
                wrong.extend(f"{label}: {d}" for d in diff[:3])

    threads = [threading.Thread(target=ask, args=(k,)) for k in CHANGES for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not any(t.is_alive() for t in threads), "a request thread did not finish"
    assert wrong == []
    assert checked == {k: 6 for k in CHANGES}
    if pipes is not None:
        assert _pipes(proc.pid) == pipes            # Pyomo's output capture left no pipe open


def test_the_page_answers_while_a_slow_save_runs_and_sigterm_stops_the_server_within_seconds(lead_inputs, tmp_path):
    proc, url = start(lead_inputs, tmp_path)
    slow: dict[str, Any] = {}

    def save() -> None:
        try:
            slow["answer"] = request(url, "/api/save", {**CASE, "set": {"lead_time": "3a"}}, timeout=60)
        except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
            slow["answer"] = exc

    t = threading.Thread(target=save)
    try:
        t.start()
        time.sleep(1.0)
        t0 = time.perf_counter()
        code, page = request(url, "/")
        assert code == 200 and "<html" in page.lower() and time.perf_counter() - t0 < 1.0
        assert t.is_alive()                       # the save (plots, report, ranking) is still running
        t0 = time.perf_counter()
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=5)
        took = time.perf_counter() - t0
    finally:
        if proc.poll() is None:
            proc.kill()
        t.join(timeout=60)
    assert took < 5
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".tmp-")] == []


def test_a_solve_over_the_time_limit_is_a_503_and_the_server_keeps_serving(lead_inputs, tmp_path):
    proc, url = start(lead_inputs, tmp_path, "--solve-time-limit", "0.001")
    try:
        code, got = request(url, "/api/solve", {**CASE, "set": {"lead_time": "1a"}})
        assert code == 503 and "longer than 0.001 s" in got["error"]
        assert request(url, "/api/controls")[0] == 200
    finally:
        stop(proc)
