"""The running lab's state file: what `lab up` started, so `status` and `down` find it."""

from __future__ import annotations

import json
import os
import signal
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from dlqctl.core.journal import state_dir
from dlqctl.lab.environment import LabResources


def lab_dir() -> Path:
    return state_dir() / "lab"


@dataclass(frozen=True)
class LabState:
    server_pid: int
    poller_pid: int
    started_at: float
    resources: LabResources
    # The config file that got the `lab` pipeline: `down` cleans that one, wherever it runs.
    config_file: Path | None

    def save(self) -> None:
        lab_dir().mkdir(parents=True, exist_ok=True, mode=0o700)
        data = {**asdict(self), "config_file": str(self.config_file) if self.config_file else None}
        (lab_dir() / "state.json").write_text(json.dumps(data, indent=2))

    @classmethod
    def load(cls) -> LabState | None:
        path = lab_dir() / "state.json"
        if not path.exists():
            return None
        data = json.loads(path.read_text())
        return cls(
            server_pid=int(data["server_pid"]),
            poller_pid=int(data["poller_pid"]),
            started_at=float(data["started_at"]),
            resources=LabResources(**data["resources"]),
            # A lab started by an older dlqctl recorded no config file.
            config_file=Path(data["config_file"]) if data.get("config_file") else None,
        )

    @staticmethod
    def clear() -> None:
        (lab_dir() / "state.json").unlink(missing_ok=True)


def alive(pid: int) -> bool:
    """Running, and not a zombie waiting for a parent that never reaps it."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def stop_process(pid: int, *, grace_s: float = 5.0) -> bool:
    """SIGTERM, then SIGKILL after the grace time; True if it was running."""
    if not alive(pid):
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    return True
