"""The lab end to end: the installed `dlqctl lab …` as subprocesses, and the GameDay.

Every test checks that nothing it started is left running.
"""

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

DLQCTL = str(Path(sys.executable).parent / "dlqctl")

pytestmark = pytest.mark.e2e


@pytest.fixture
def home(tmp_path: Path) -> Iterator[dict[str, str]]:
    """A clean HOME, state and config dir, with no AWS settings at all."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DLQCTL_"))}
    env.update(
        HOME=str(tmp_path),
        XDG_STATE_HOME=str(tmp_path / "state"),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        NO_COLOR="1",
        COLUMNS="120",
    )
    yield env
    run(env, "lab", "down")  # whatever a failed test left behind
    assert lab_processes(tmp_path) == [], "a lab process outlived its test"


def run(
    env: dict[str, str], *args: str, expect: int = 0, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [DLQCTL, *args], env=env, capture_output=True, text=True, timeout=timeout, cwd=env["HOME"]
    )
    assert result.returncode == expect, (
        f"dlqctl {' '.join(args)} exited {result.returncode}\n{result.stdout}\n{result.stderr}"
    )
    return result


def lab_processes(root: Path) -> list[int]:
    """Live processes whose command line or environment points into this test's dirs."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            environ = (entry / "environ").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[-1].split()[0]
        except OSError:
            continue
        if state != "Z" and (str(root).encode() in cmdline or str(root).encode() in environ):
            found.append(int(entry.name))
    return found


def wait_for(check: Any, timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError("timed out waiting")


def status(env: dict[str, str]) -> dict[str, Any]:
    return json.loads(run(env, "lab", "status", "-o", "json").stdout)


def test_up_send_status_env_down(home: dict[str, str], tmp_path: Path) -> None:
    started = json.loads(run(home, "lab", "up", "-o", "json").stdout)
    assert started["endpoint"].startswith("http://127.0.0.1:")
    assert "already running" in run(home, "lab", "up", expect=4).stderr

    wait_for(lambda: status(home)["poller"]["healthy"])
    sent = json.loads(run(home, "lab", "send", "--count", "6", "-o", "json").stdout)
    assert sent == {"accepted": 6, "rejected": 0, "poison": 0}
    main = "dlq-pipeline-main"
    wait_for(lambda: status(home)["queues"][main] == {"visible": 0, "in_flight": 0, "delayed": 0})
    assert status(home)["failure_mode"] == "none"

    assert "unknown failure mode" in run(home, "lab", "failure-mode", "chaos", expect=2).stderr
    assert json.loads(run(home, "lab", "failure-mode", "error-rate:0.5", "-o", "json").stdout) == {
        "failure_mode": "error-rate:0.5"
    }

    exports = run(home, "lab", "env").stdout
    assert f"export AWS_ENDPOINT_URL={started['endpoint']}" in exports
    assert "export DLQCTL_PIPELINE=lab" in exports

    # The lab registered itself as a pipeline: dlqctl finds the DLQ and the endpoint by name.
    config = (tmp_path / "config" / "dlqctl" / "config.toml").read_text()
    assert "[pipelines.lab]" in config and started["endpoint"] in config
    report = json.loads(run(home, "inspect", "--pipeline", "lab", "-o", "json").stdout)
    assert report["queue"]["name"] == "dlq-pipeline-dlq" and report["queue"]["sources"] == [main]

    pids = [started["server_pid"], started["poller_pid"]]
    assert "stopped poller" in run(home, "lab", "down").stdout
    assert run(home, "lab", "down").stdout.strip() == "no lab was running"
    assert not any(
        Path(f"/proc/{pid}").exists()
        and "Z" not in Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
        for pid in pids
    )
    assert not status(home)["running"]
    assert "no lab is running" in run(home, "lab", "send", expect=5).stderr


def test_gameday(home: dict[str, str]) -> None:
    result = run(
        home,
        "lab",
        "demo",
        "--orders",
        "8",
        "--poison-ratio",
        "0.25",
        "--burst",
        "3",
        "-o",
        "json",
        timeout=240,
    )
    summary = json.loads(result.stdout)
    assert summary["sent"] == 11 and summary["poison"] == 2
    assert summary["reached_dlq"] == 5
    assert summary["redriven"] == summary["recovered"] == 3
    assert summary["left_in_dlq"] == 2
