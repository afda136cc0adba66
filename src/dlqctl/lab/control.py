"""`lab up`, `down`, `status`: a lab in the background, found again by its state file."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from dlqctl.config import (
    config_sources,
    pipeline_table,
    read_config,
    remove_pipeline,
    user_config_path,
    write_pipeline,
)
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
from dlqctl.lab.logs import private_log
from dlqctl.lab.server import start_background
from dlqctl.lab.state import LabState, lab_dir, process_identity, stop_process
from dlqctl.pipeline import spec

HEARTBEAT_STALE_S = 10
# Written under the header of the pipeline `up` registers: `down` removes only a table
# that carries it, so a `lab` pipeline someone wrote by hand is never touched.
PIPELINE_NOTE = "written by `dlqctl lab up`; `dlqctl lab down` removes it"


class PipelineOutcome(StrEnum):
    REMOVED = "removed"
    KEPT = "kept"  # a `lab` pipeline the lab did not write
    ABSENT = "absent"


@dataclass(frozen=True)
class Teardown:
    """What `down` did: the processes it stopped, and what became of the `lab` pipeline."""

    stopped: list[str]
    pipeline: PipelineOutcome
    config_file: Path | None
    # Recorded pids that now belong to other processes (a stale state file): left alone.
    left_alone: list[str]


def up(confirm: Callable[[Path], bool] | None = None) -> LabState:
    """Start the lab and register its `lab` pipeline (the state's `config_file` says
    where): into a project ./dlqctl.toml, a file people commit, only if `confirm(path)`
    says yes; without `confirm` (no terminal, or --yes), and on a no, into the user
    config."""
    running = LabState.load()
    if running is not None and (running.server_running() or running.poller_running()):
        raise RefusedError(
            f"a lab is already running at {running.resources.endpoint}: `dlqctl lab down` first"
        )
    config_file = pipeline_file(confirm)  # refusals and the question before anything starts
    lab_dir().mkdir(parents=True, exist_ok=True, mode=0o700)
    server_pid, endpoint = start_background(lab_dir() / "server.log")
    try:
        resources = create_resources(endpoint)
        poller_pid = _start_poller(resources)
    except BaseException:
        stop_process(server_pid)
        raise
    state = LabState(
        server_pid,
        poller_pid,
        time.time(),
        resources,
        config_file,
        server_identity=process_identity(server_pid),
        poller_identity=process_identity(poller_pid),
    )
    state.save()  # before the config is touched: `down` must find the processes whatever happens
    register_pipeline(resources, config_file)
    return state


def pipeline_file(confirm: Callable[[Path], bool] | None) -> Path:
    """The file `up` writes the `lab` pipeline to: the one DLQCTL_CONFIG names (the only
    file read); else a project ./dlqctl.toml if it already has the lab's table (one `up`
    wrote: refreshed where it is, or it would hide the new one) or if `confirm` agrees;
    else the user config. Someone's own `lab` pipeline there is refused, not replaced, and
    so is one in the project file, which would hide the user config's."""
    files = read_config(None, os.environ).files  # an invalid config file stops `up` here
    target = files[-1].path if files else user_config_path().absolute()
    if files and files[-1].origin == "working_directory":
        ours = _lab_table(target) is not None
        if not (ours or (confirm is not None and confirm(target))):
            target = user_config_path().absolute()
    _lab_table(target)
    return target


def _lab_table(config_file: Path) -> str | None:
    """The `lab` table of `config_file`, if `up` wrote it; refused if someone else did."""
    table = pipeline_table(LAB_PIPELINE, config_file)
    if table is not None and not _written_by_lab(table):
        raise RefusedError(
            f"config file {config_file} already has a `{LAB_PIPELINE}` pipeline that "
            f"`dlqctl lab up` did not write: rename it, then run `dlqctl lab up` again"
        )
    return table


def _start_poller(resources: LabResources) -> int:
    env = {**os.environ, **environment(resources.endpoint, resources)}
    with private_log(lab_dir() / "poller.log", "ab") as log:
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


def _heartbeat_age() -> float | None:
    """Seconds since the poller's last beat; None before its first. The poller rewrites
    the file in place, so a read can land between the truncation and the write: empty."""
    try:
        return time.time() - float(heartbeat_path().read_text())
    except (FileNotFoundError, ValueError):
        return None


def down() -> Teardown:
    """Stop what `up` started, by pid, and remove the `lab` pipeline it wrote, which would
    point at a dead port; safe to run twice."""
    state = LabState.load()
    stopped = []
    left_alone = state.strangers() if state is not None else []
    if state is not None:
        if state.poller_running() and stop_process(state.poller_pid):
            stopped.append(f"poller (pid {state.poller_pid})")
        if state.server_running() and stop_process(state.server_pid):
            stopped.append(f"server (pid {state.server_pid})")
    LabState.clear()
    heartbeat_path().unlink(missing_ok=True)
    # The file `up` wrote, even when `down` runs from another directory; with no record
    # of it, each config file read here, the one that wins first.
    recorded = state.config_file if state is not None else None
    if recorded is not None:
        files = [recorded]
    else:
        files = [source.path for source in reversed(config_sources(None, os.environ))]
    kept = None
    for config_file in files:
        outcome = unregister_pipeline(config_file)
        if outcome is PipelineOutcome.REMOVED:
            return Teardown(stopped, outcome, config_file, left_alone)
        if outcome is PipelineOutcome.KEPT and kept is None:
            kept = config_file
    if kept is not None:
        return Teardown(stopped, PipelineOutcome.KEPT, kept, left_alone)
    return Teardown(stopped, PipelineOutcome.ABSENT, recorded, left_alone)


def status() -> dict[str, Any]:
    state = LabState.load()
    if state is None or not state.server_running():
        # A state file whose processes are all gone (or whose pids are someone else's
        # now) describes nothing: say so once and forget it. A poller still ours stays
        # recorded, so `lab down` can stop it.
        stale = state is not None and not state.poller_running()
        if stale:
            LabState.clear()
        return {"running": False, "stale_state_cleared": stale}
    resources = state.resources
    sqs = client("sqs", resources.endpoint)

    def depth(url: str) -> dict[str, int]:
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        return {
            "visible": int(attributes["ApproximateNumberOfMessages"]),
            "in_flight": int(attributes["ApproximateNumberOfMessagesNotVisible"]),
            "delayed": int(attributes["ApproximateNumberOfMessagesDelayed"]),
        }

    beat_age = _heartbeat_age()
    return {
        "running": True,
        "endpoint": resources.endpoint,
        "server_pid": state.server_pid,
        "poller": {
            "pid": state.poller_pid,
            "alive": state.poller_running(),
            "heartbeat_age_s": round(beat_age, 1) if beat_age is not None else None,
            "healthy": state.poller_running()
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


def register_pipeline(resources: LabResources, config_file: Path) -> Path:
    """Write a `lab` pipeline into the config file, so `--pipeline lab` works."""
    return write_pipeline(
        LAB_PIPELINE,
        {
            "dlq": resources.dlq_url,
            "source_queue": resources.queue_url,
            "ledger_table": resources.table,
            "endpoint_url": resources.endpoint,
            "region": REGION,
            "worker_timeout_s": spec.LAB_WORKER_TIMEOUT_S,
            # moto is not thread-safe: parallel receives could hand a message out twice.
            "concurrency": 1,
        },
        config_file,
        note=PIPELINE_NOTE,
    )


def unregister_pipeline(config_file: Path | None) -> PipelineOutcome:
    """Remove the `lab` pipeline from `config_file` if `up` wrote it; keep anyone else's."""
    if config_file is None:
        return PipelineOutcome.ABSENT
    table = pipeline_table(LAB_PIPELINE, config_file)
    if table is None:
        return PipelineOutcome.ABSENT
    if not _written_by_lab(table):
        return PipelineOutcome.KEPT
    remove_pipeline(LAB_PIPELINE, config_file)
    return PipelineOutcome.REMOVED


def _written_by_lab(table: str) -> bool:
    """The note says so; a table from before the note is recognised by what only `up`
    writes: the lab's own queue on a loopback endpoint."""
    if f"# {PIPELINE_NOTE}" in table.splitlines():
        return True
    try:
        written = tomllib.loads(table)["pipelines"][LAB_PIPELINE]
    except (tomllib.TOMLDecodeError, KeyError, TypeError):
        return False
    endpoint, dlq = str(written.get("endpoint_url", "")), str(written.get("dlq", ""))
    return endpoint.startswith("http://127.0.0.1:") and dlq.endswith(f"/{spec.DLQ_NAME}")
