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

from dlqctl.lab.control import PipelineOutcome, unregister_pipeline

DLQCTL = str(Path(sys.executable).parent / "dlqctl")

pytestmark = pytest.mark.e2e


@pytest.fixture
def home(tmp_path: Path) -> Iterator[dict[str, str]]:
    """A clean HOME, state and config dir, with no AWS settings at all."""
    env = isolated_env(tmp_path)
    yield env
    run(env, "lab", "down")  # whatever a failed test left behind
    assert lab_processes(tmp_path) == [], "a lab process outlived its test"


def run(
    env: dict[str, str], *args: str, expect: int = 0, timeout: float = 60, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [DLQCTL, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd or env["HOME"],
    )
    assert result.returncode == expect, (
        f"dlqctl {' '.join(args)} exited {result.returncode}\n{result.stdout}\n{result.stderr}"
    )
    return result


def isolated_env(root: Path, *, columns: int = 120) -> dict[str, str]:
    """This process's environment without any AWS_ or DLQCTL_ setting, with HOME, the
    state and the config dirs under `root`, no colour and a fixed width."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DLQCTL_"))}
    env.update(
        HOME=str(root),
        XDG_STATE_HOME=str(root / "state"),
        XDG_CONFIG_HOME=str(root / "config"),
        NO_COLOR="1",
        COLUMNS=str(columns),
    )
    return env


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

    # The logs hold order payloads: only their owner may read them.
    logs = sorted((tmp_path / "state" / "dlqctl" / "lab").glob("*.log"))
    assert {"poller.log", "server.log", "ingest.log"} <= {log.name for log in logs}
    assert {oct(log.stat().st_mode & 0o777) for log in logs} == {"0o600"}

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


USER_CONFIG = """\
# the team's settings: the lab must leave every line of this alone
[defaults]
region = "eu-west-1"

[pipelines.orders]
dlq = "orders-dlq"
"""


def test_down_removes_the_pipeline_up_wrote_and_nothing_else(
    home: dict[str, str], tmp_path: Path
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    config = tmp_path / "config" / "dlqctl" / "config.toml"  # the user config
    config.parent.mkdir(parents=True)
    config.write_text(USER_CONFIG)
    started = json.loads(run(home, "lab", "up", "-o", "json").stdout)
    assert started["config_file"] == str(config)
    written = config.read_text()
    assert written.startswith(USER_CONFIG)
    assert (
        "[pipelines.lab]\n# written by `dlqctl lab up`; `dlqctl lab down` removes it\n" in written
    )
    assert f'endpoint_url = "{started["endpoint"]}"' in written
    # Someone adds a pipeline while the lab runs: it, and the comment above it, stay.
    added = '\n# added while the lab ran\n[pipelines.payments]\ndlq = "payments-dlq"\n'
    config.write_text(written + added)

    # `down` from another directory, with a ./dlqctl.toml of its own, still cleans the
    # file `up` wrote to.
    (project / "dlqctl.toml").write_text('[pipelines.team]\ndlq = "team-dlq"\n')
    result = run(home, "lab", "down", cwd=project)
    assert result.stdout.splitlines() == [
        f"stopped poller (pid {started['poller_pid']}), server (pid {started['server_pid']}); "
        f"removed the lab pipeline from {config}"
    ]
    assert config.read_text() == USER_CONFIG + added
    unknown = run(home, "inspect", "--pipeline", "lab", expect=2).stderr
    assert f"unknown pipeline 'lab' in {config}; known: orders, payments" in unknown
    assert run(home, "lab", "down", cwd=project).stdout.strip() == "no lab was running"
    assert config.read_text() == USER_CONFIG + added


def test_a_lab_pipeline_someone_wrote_is_never_overwritten_or_removed(
    home: dict[str, str], tmp_path: Path
) -> None:
    config = tmp_path / "config" / "dlqctl" / "config.toml"
    config.parent.mkdir(parents=True)
    own = USER_CONFIG + '\n[pipelines.lab]\ndlq = "my-lab-dlq"\n'
    config.write_text(own)

    refused = run(home, "lab", "up", expect=4)
    assert refused.stderr.strip() == (
        f"dlqctl: error: config file {config} already has a `lab` pipeline that "
        "`dlqctl lab up` did not write: rename it, then run `dlqctl lab up` again"
    )
    assert json.loads(run(home, "lab", "status", "-o", "json").stdout) == {
        "running": False,
        "stale_state_cleared": False,
    }
    kept = run(home, "lab", "down").stdout.strip()
    assert (
        kept == f"no lab was running; kept the lab pipeline in {config}: `lab up` did not write it"
    )
    assert config.read_text() == own


def test_up_with_an_invalid_config_file_starts_nothing(
    home: dict[str, str], tmp_path: Path
) -> None:
    config = tmp_path / "config" / "dlqctl" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text("[pipelines.orders\n")
    error = run(home, "lab", "up", expect=2).stderr.strip()
    assert error.startswith(f"dlqctl: error: config file {config} is not valid TOML")
    assert len(error.splitlines()) == 1
    assert json.loads(run(home, "lab", "status", "-o", "json").stdout) == {
        "running": False,
        "stale_state_cleared": False,
    }
    assert config.read_text() == "[pipelines.orders\n"


SHELL_SESSION = """\
set -eu
eval "$("$DLQCTL" lab env)"
env > "$OUT/with-lab.env"
"$DLQCTL" lab down > "$OUT/down.txt"
eval "$("$DLQCTL" lab env --unset)"
env > "$OUT/after-unset.env"
"""


def test_env_unset_leaves_none_of_the_lab_variables_set(
    home: dict[str, str], tmp_path: Path
) -> None:
    started = json.loads(run(home, "lab", "up", "-o", "json").stdout)
    endpoint = started["endpoint"]
    lines = run(home, "lab", "env").stdout.splitlines()
    exported = [line.removeprefix("export ").split("=", 1)[0] for line in lines[:-1]]
    assert all(line.startswith("export ") for line in lines[:-1])
    assert {"AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "DLQCTL_PIPELINE"} <= set(exported)
    # The AWS CLI v1 needs the flag for SQS: a comment, which `eval` below ignores.
    assert lines[-1] == (
        f"# AWS CLI v1 ignores AWS_ENDPOINT_URL for sqs: aws --endpoint-url {endpoint} sqs list-queues"
    )

    session = subprocess.run(
        ["bash", "-c", SHELL_SESSION],
        env={**home, "DLQCTL": DLQCTL, "OUT": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=home["HOME"],
    )
    assert session.returncode == 0, session.stderr

    def names(dump: str) -> set[str]:
        return {line.split("=", 1)[0] for line in (tmp_path / dump).read_text().splitlines()}

    assert set(exported) <= names("with-lab.env")
    assert names("after-unset.env").isdisjoint(exported)
    # `down` ran in the lab's shell, so it said how to leave it.
    config = tmp_path / "config" / "dlqctl" / "config.toml"
    assert (tmp_path / "down.txt").read_text().splitlines() == [
        f"stopped poller (pid {started['poller_pid']}), server (pid {started['server_pid']}); "
        f"removed the lab pipeline from {config}",
        'next: eval "$(dlqctl lab env --unset)" to point this shell away from the lab',
    ]


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


def test_a_lab_pipeline_from_before_the_note_is_still_recognised(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    older = (
        "[pipelines.lab]\n"
        'dlq = "http://127.0.0.1:40123/123456789012/dlq-pipeline-dlq"\n'
        'endpoint_url = "http://127.0.0.1:40123"\n'
        "concurrency = 1\n"
    )
    mine = '[pipelines.orders]\ndlq = "orders-dlq"\n'
    config.write_text(mine + "\n" + older)
    assert unregister_pipeline(config) is PipelineOutcome.REMOVED
    assert config.read_text().strip() == mine.strip()

    by_hand = '[pipelines.lab]\ndlq = "https://sqs.eu-west-1.amazonaws.com/1/lab-dlq"\n'
    config.write_text(by_hand)
    assert unregister_pipeline(config) is PipelineOutcome.KEPT
    assert config.read_text() == by_hand


@pytest.mark.parametrize("recorded", ["an older lab's state, no identity", "another identity"])
def test_a_reused_pid_is_never_signalled(
    home: dict[str, str], tmp_path: Path, recorded: str
) -> None:
    # Stand-ins for whatever got the lab's pids after a reboot.
    strangers = [subprocess.Popen(["sleep", "60"], start_new_session=True) for _ in range(2)]
    try:
        state = {
            "server_pid": strangers[0].pid,
            "poller_pid": strangers[1].pid,
            "started_at": time.time() - 86_400,
            "resources": {
                "endpoint": "http://127.0.0.1:9",
                "queue_url": "http://127.0.0.1:9/123456789012/dlq-pipeline-main",
                "queue_arn": "arn:aws:sqs:us-east-1:123456789012:dlq-pipeline-main",
                "dlq_url": "http://127.0.0.1:9/123456789012/dlq-pipeline-dlq",
                "dlq_arn": "arn:aws:sqs:us-east-1:123456789012:dlq-pipeline-dlq",
                "table": "dlq-pipeline-ledger",
                "parameter": "/dlq-pipeline/failure-mode",
            },
            "config_file": None,
        }
        if recorded == "another identity":
            state |= {"server_identity": "1 sleep 60", "poller_identity": "1 sleep 60"}
        state_file = tmp_path / "state" / "dlqctl" / "lab" / "state.json"
        state_file.parent.mkdir(parents=True)
        state_file.write_text(json.dumps(state))

        status = run(home, "lab", "status")
        assert "no lab is running (its state file was stale: removed)" in status.stdout
        state_file.write_text(json.dumps(state))
        down = run(home, "lab", "down")
        assert f"left alone pid {strangers[0].pid} (server), pid {strangers[1].pid}" in (
            down.stdout.replace("\n", " ")
        )
        assert all(process.poll() is None for process in strangers), "a stranger was signalled"
        assert not state_file.exists()
    finally:
        for process in strangers:
            process.kill()
            process.wait()


def test_a_missing_lab_package_is_one_line_with_the_command_that_adds_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from typer.testing import CliRunner

    from dlqctl.cli.app import app

    monkeypatch.setitem(sys.modules, "flask_cors", None)  # as if moto[server] were missing
    result = CliRunner().invoke(app, ["lab", "up"])
    assert result.exit_code == 2
    [line] = result.stderr.strip().splitlines()
    assert "the lab needs moto (the `lab` extra; missing: flask_cors)" in line
    assert f"{sys.executable} -m pip install" in line and "moto[" in line


def test_the_install_command_fits_how_dlqctl_was_installed() -> None:
    from dlqctl.lab.preflight import install_command

    assert install_command("/home/u/.local/pipx/venvs/dlqctl").startswith(
        "pipx inject dlqctl 'aws-lambda-powertools"
    )
    uv = install_command("/home/u/.local/share/uv/tools/dlqctl")
    assert uv.startswith("uv tool install --reinstall --with ") and uv.endswith(" dlqctl")
