"""`lab up`, `down`, `status`: a lab in the background, found again by its state file."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from dlqctl.config import config_path
from dlqctl.errors import RefusedError
from dlqctl.lab.environment import (
    LAB_PIPELINE,
    REGION,
    LabResources,
    client,
    create_resources,
    environment,
    failure_mode,
)
from dlqctl.lab.server import start_background
from dlqctl.lab.state import LabState, alive, lab_dir, stop_process
from dlqctl.pipeline import spec

HEARTBEAT_STALE_S = 10


def up() -> LabState:
    running = LabState.load()
    if running is not None and alive(running.server_pid):
        raise RefusedError(
            f"a lab is already running at {running.resources.endpoint}: `dlqctl lab down` first"
        )
    lab_dir().mkdir(parents=True, exist_ok=True, mode=0o700)
    server_pid, endpoint = start_background(lab_dir() / "server.log")
    try:
        resources = create_resources(endpoint)
        poller_pid = _start_poller(resources)
    except BaseException:
        stop_process(server_pid)
        raise
    state = LabState(server_pid, poller_pid, time.time(), resources)
    state.save()
    register_pipeline(resources)
    return state


def _start_poller(resources: LabResources) -> int:
    env = {**os.environ, **environment(resources.endpoint, resources)}
    with (lab_dir() / "poller.log").open("ab") as log:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [
                sys.executable,
                "-m",
                "dlqctl.lab.poller",
                resources.queue_url,
                resources.queue_arn,
                str(heartbeat_path()),
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    return process.pid


def heartbeat_path() -> Path:
    return lab_dir() / "poller.heartbeat"


def down() -> list[str]:
    """Stop what `up` started, by pid; safe to run twice."""
    state = LabState.load()
    stopped = []
    if state is not None:
        if stop_process(state.poller_pid):
            stopped.append(f"poller (pid {state.poller_pid})")
        if stop_process(state.server_pid):
            stopped.append(f"server (pid {state.server_pid})")
    LabState.clear()
    heartbeat_path().unlink(missing_ok=True)
    return stopped


def status() -> dict[str, Any]:
    state = LabState.load()
    if state is None or not alive(state.server_pid):
        return {"running": False}
    resources = state.resources
    sqs = client("sqs", resources.endpoint)

    def depth(url: str) -> dict[str, int]:
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        return {
            "visible": int(attributes["ApproximateNumberOfMessages"]),
            "in_flight": int(attributes["ApproximateNumberOfMessagesNotVisible"]),
            "delayed": int(attributes["ApproximateNumberOfMessagesDelayed"]),
        }

    beat = heartbeat_path()
    beat_age = time.time() - float(beat.read_text()) if beat.exists() else None
    return {
        "running": True,
        "endpoint": resources.endpoint,
        "server_pid": state.server_pid,
        "poller": {
            "pid": state.poller_pid,
            "alive": alive(state.poller_pid),
            "heartbeat_age_s": round(beat_age, 1) if beat_age is not None else None,
            "healthy": alive(state.poller_pid)
            and beat_age is not None
            and beat_age < HEARTBEAT_STALE_S,
        },
        "resources": resources.as_dict(),
        "queues": {
            spec.MAIN_QUEUE_NAME: depth(resources.queue_url),
            spec.DLQ_NAME: depth(resources.dlq_url),
        },
        "failure_mode": failure_mode(resources.endpoint),
        "uptime_s": round(time.time() - state.started_at, 1),
    }


def register_pipeline(resources: LabResources) -> Path:
    """Write a `lab` pipeline into the user's config file, so `--pipeline lab` works."""
    path = config_path(None, os.environ) or _user_config()
    section = "\n".join(
        [
            f"[pipelines.{LAB_PIPELINE}]",
            f'dlq = "{resources.dlq_url}"',
            f'source_queue = "{resources.queue_url}"',
            f'ledger_table = "{resources.table}"',
            f'endpoint_url = "{resources.endpoint}"',
            f'region = "{REGION}"',
            f"worker_timeout_s = {spec.LAB_WORKER_TIMEOUT_S}",
        ]
    )
    text = path.read_text() if path.exists() else ""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(_replace_section(text, f"pipelines.{LAB_PIPELINE}", section))
    return path


def _user_config() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "dlqctl" / "config.toml"


def _replace_section(text: str, name: str, section: str) -> str:
    """Drop the old [name] table (and its sub-tables), then append the new one."""
    kept: list[str] = []
    skipping = False
    for line in text.splitlines():
        header = line.strip()
        if header.startswith("["):
            table = header.strip("[]").strip()
            skipping = table == name or table.startswith(name + ".")
        if not skipping:
            kept.append(line)
    body = "\n".join(kept).rstrip()
    return (body + "\n\n" if body else "") + section + "\n"
