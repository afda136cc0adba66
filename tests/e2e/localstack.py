"""LocalStack's SQS as a child process on 127.0.0.1: the e2e tier's second backend.

LocalStack 2026.3.0 runs in host mode (no Docker) from a venv of its own, built by
`make localstack` (.venv-localstack; it needs Python 3.12 or newer). Only SQS is started,
on a port the OS picked, bound to 127.0.0.1 (hypercorn: the default gateway server binds
every interface whatever GATEWAY_LISTEN says). Its files live in a temporary directory
removed at the end.

Nothing it does may leave the machine: event reporting is off (DISABLE_EVENTS, what
LocalStack documents for it), no certificate download, no DNS server, no instance
metadata. The two platform URLs its source calls (ANALYTICS_API for events and
API_ENDPOINT for the service catalogue it fetches when an operation is not implemented)
and its HTTP(S) proxy all point at the session's proxy trap, so an attempt is counted and
fails the dlqctl run it happened in instead of leaving.

It is stopped by its process group id: SIGTERM (LocalStack shuts its services down),
then SIGKILL. A small launcher sets PR_SET_PDEATHSIG before it execs LocalStack, so the
kernel ends LocalStack too if the test process itself is killed.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PYTHON = ROOT / ".venv-localstack" / "bin" / "python"
VERSION = "2026.3.0"
READY_TIMEOUT_S = 90.0  # measured 2-4 s on a 2-core machine; CI may be busier
STOP_TIMEOUT_S = 15.0
READY_LINE = "Ready."

# Exec LocalStack with the parent-death signal set: it survives execve for a non-setuid
# program, so LocalStack gets SIGTERM the moment the test process dies, however it dies.
_LAUNCHER = (
    "import ctypes, os, signal, sys\n"
    "ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG\n"
    "if os.getppid() != int(sys.argv[1]):\n"
    "    sys.exit(1)  # the parent died before the signal was armed\n"
    "os.execv(sys.executable, [sys.executable, '-m', 'localstack.runtime.main'])\n"
)


class LocalStackError(RuntimeError):
    pass


def missing() -> str | None:
    """Why LocalStack cannot start here, or None."""
    if not PYTHON.is_file():
        return f"{PYTHON} is missing: run `make localstack` (or `make test`, which builds it)"
    return None


def environment(host: str, port: int, root: Path, trap_url: str) -> dict[str, str]:
    """LocalStack's whole environment: nothing of the caller's leaks in."""
    address = f"{host}:{port}"
    directories = {name: root / name for name in ("home", "config", "tmp", "fs")}
    for directory in directories.values():
        directory.mkdir()
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "HOME": str(directories["home"]),
        # Host mode on one loopback address; the machine looks like a container.
        "OVERRIDE_IN_DOCKER": "0",
        "GATEWAY_SERVER": "hypercorn",
        "GATEWAY_LISTEN": address,
        "LOCALSTACK_HOST": address,
        "SERVICES": "sqs",
        "EAGER_SERVICE_LOADING": "1",
        "SQS_ENDPOINT_STRATEGY": "off",  # queue URLs http://127.0.0.1:PORT/ACCOUNT/NAME
        "SQS_DISABLE_CLOUDWATCH_METRICS": "1",
        "PERSISTENCE": "0",
        "FILESYSTEM_ROOT": str(directories["fs"]),
        "CONFIG_DIR": str(directories["config"]),
        "TMPDIR": str(directories["tmp"]),
        # Nothing leaves 127.0.0.1.
        "DISABLE_EVENTS": "1",
        "SKIP_SSL_CERT_DOWNLOAD": "1",
        "DNS_ADDRESS": "0",
        "AWS_EC2_METADATA_DISABLED": "true",
        "ANALYTICS_API": trap_url,
        "API_ENDPOINT": trap_url,
        "HTTP_PROXY": trap_url,
        "HTTPS_PROXY": trap_url,
        "NO_PROXY": f"{host},localhost",
    }


class LocalStack:
    """One LocalStack process; `start()` returns once SQS answers, `stop()` ends it."""

    def __init__(self, host: str, port: int, trap_url: str) -> None:
        self.host = host
        self.port = port
        self.url = f"http://{host}:{port}"
        self.trap_url = trap_url
        self.root = Path(tempfile.mkdtemp(prefix="dlqctl-localstack-"))
        self.log = self.root / "localstack.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.pgid: int | None = None

    def start(self) -> None:
        env = environment(self.host, self.port, self.root, self.trap_url)
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                [str(PYTHON), "-c", _LAUNCHER, str(os.getpid())],
                env=env,
                cwd=self.root,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own group: the terminal's Ctrl-C goes to pytest
            )
        self.pgid = self.proc.pid  # a session leader's group id is its pid
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise LocalStackError(
                    f"LocalStack exited with {self.proc.returncode}\n{self.tail()}"
                )
            if READY_LINE in self.log.read_text(errors="replace") and self.sqs_running():
                return
            time.sleep(0.1)
        raise LocalStackError(f"LocalStack not ready after {READY_TIMEOUT_S:.0f}s\n{self.tail()}")

    def sqs_running(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/_localstack/health", timeout=2) as answer:
                health = json.load(answer)
        except (OSError, urllib.error.URLError, ValueError):
            return False
        return bool(health.get("services", {}).get("sqs") == "running")

    def tail(self, lines: int = 40) -> str:
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        """SIGTERM to the process group, SIGKILL after STOP_TIMEOUT_S; then nothing of it
        is left running and its directory is gone. Safe to call twice."""
        if self.proc is not None and self.pgid is not None:
            _signal_group(self.pgid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                print(f"LocalStack ignored SIGTERM; killing it\n{self.tail()}", file=sys.stderr)
            _signal_group(self.pgid, signal.SIGKILL)  # whatever of the group is left
            self.proc.wait(timeout=STOP_TIMEOUT_S)
            self.proc = None
        shutil.rmtree(self.root, ignore_errors=True)

    def group_alive(self) -> bool:
        """Whether any process of LocalStack's group still runs."""
        if self.pgid is None:
            return False
        try:
            os.killpg(self.pgid, 0)
        except ProcessLookupError:
            return False
        return True


def _signal_group(pgid: int, signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):  # already gone
        os.killpg(pgid, signum)
