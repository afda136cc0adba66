"""The running lab's state file: what `lab up` started, so `status` and `down` find it.

A pid alone is not a process: after a crash or a reboot the state file survives and its
pids may belong to someone else's processes. So each pid is recorded with its identity
(its start time and command line), and nothing is signalled unless both still match.
POSIX only (Linux reads /proc, elsewhere `ps`), like the rest of the lab.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
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
    # process_identity() of each pid when `up` started it; None in an older lab's state.
    server_identity: str | None = None
    poller_identity: str | None = None

    def server_running(self) -> bool:
        return is_ours(self.server_pid, self.server_identity)

    def poller_running(self) -> bool:
        return is_ours(self.poller_pid, self.poller_identity)

    def strangers(self) -> list[str]:
        """The recorded pids that are alive but are not the processes `up` started."""
        return [
            f"pid {pid} ({role})"
            for role, pid, identity in (
                ("server", self.server_pid, self.server_identity),
                ("poller", self.poller_pid, self.poller_identity),
            )
            if alive(pid) and not is_ours(pid, identity)
        ]

    def save(self) -> None:
        lab_dir().mkdir(parents=True, exist_ok=True, mode=0o700)
        data = {**asdict(self), "config_file": str(self.config_file) if self.config_file else None}
        (lab_dir() / "state.json").write_text(json.dumps(data, indent=2))

    @classmethod
    def load(cls) -> LabState | None:
        """The recorded lab; None when there is none. A file this dlqctl cannot read (torn,
        or from an incompatible version) describes no process it could trust: removed."""
        path = lab_dir() / "state.json"
        if not path.exists():
            return None
        try:
            data = json.loads(path.read_text())
            return cls(
                server_pid=int(data["server_pid"]),
                poller_pid=int(data["poller_pid"]),
                started_at=float(data["started_at"]),
                resources=LabResources(**data["resources"]),
                # A lab started by an older dlqctl recorded no config file, no identities.
                config_file=Path(data["config_file"]) if data.get("config_file") else None,
                server_identity=data.get("server_identity"),
                poller_identity=data.get("poller_identity"),
            )
        except (OSError, ValueError, KeyError, TypeError):
            path.unlink(missing_ok=True)
            return None

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


def process_identity(pid: int) -> str | None:
    """What tells this process from a later one with the same pid: its start time and
    command line. None when the process is gone (or cannot be read)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        if Path("/proc/self/stat").exists():
            return None  # Linux, and the process is gone
        return _identity_from_ps(pid)
    except OSError:
        return None
    # Field 22, starttime (clock ticks after boot); fields count from the one after the
    # command name, which may itself hold spaces and parentheses.
    started = stat.rsplit(")", 1)[-1].split()[19]
    argv = command.replace(b"\0", b" ").decode(errors="replace").strip()
    return f"{started} {argv}"


def _identity_from_ps(pid: int) -> str | None:
    try:
        found = subprocess.run(  # noqa: S603 - a fixed command
            ["ps", "-o", "lstart=", "-o", "command=", "-p", str(pid)],  # noqa: S607
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return found.stdout.strip() or None


def is_ours(pid: int, identity: str | None) -> bool:
    """`pid` is still the process that was recorded as `identity`. Without a recorded
    identity (an older lab's state) nothing can be proven, so nothing is ours."""
    return identity is not None and alive(pid) and process_identity(pid) == identity


def stop_process(pid: int, *, grace_s: float = 5.0) -> bool:
    """SIGTERM, then SIGKILL after the grace time; True if it was running. Only for a
    pid known to be ours (see `is_ours`)."""
    if not alive(pid):
        return False
    try:
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        while time.monotonic() < deadline:
            if not alive(pid):
                return True
            time.sleep(0.05)
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:  # it ended between the check and the signal
        pass
    return True
