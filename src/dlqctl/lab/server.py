"""moto's server on 127.0.0.1: in the background for `lab up`, in a thread for `lab demo`."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from dlqctl.errors import AwsError
from dlqctl.lab.logs import private_log

HOST = "127.0.0.1"  # loopback only: the lab never listens beyond this machine


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def wait_until_up(endpoint: str, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1):  # noqa: S310 - loopback
                return
        except OSError:
            time.sleep(0.1)
    raise AwsError(f"the lab's server at {endpoint} did not start within {timeout_s:.0f}s")


def start_background(log: Path) -> tuple[int, str]:
    """moto's server as a detached process; returns its pid and endpoint."""
    port = free_port()
    with private_log(log, "ab") as out:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "moto.server", "-H", HOST, "-p", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # survives the terminal; `lab down` stops it by pid
        )
    endpoint = f"http://{HOST}:{port}"
    try:
        wait_until_up(endpoint)
    except BaseException:  # no state records it yet: nobody else could stop it
        process.kill()
        process.wait()
        raise
    return process.pid, endpoint


class ThreadedServer:
    """For the demo: the server lives and dies with the process that runs it."""

    def __init__(self) -> None:
        from moto.server import ThreadedMotoServer

        self.port = free_port()
        self._server = ThreadedMotoServer(ip_address=HOST, port=self.port, verbose=False)

    @property
    def endpoint(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self) -> str:
        self._server.start()
        wait_until_up(self.endpoint)
        return self.endpoint

    def stop(self) -> None:
        self._server.stop()
