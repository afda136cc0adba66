"""The peers' bench (bench/peers.py): their confinement to loopback, and how their rows are
judged beside dlqctl's. Measuring the peers themselves is `make bench`'s job (they are
installed from the registries, which the test suite does not reach).

The confinement tests run in a network namespace of their own (`unshare -rn`), so even a
broken preload could send nothing off the machine: they check that the preload refuses
first, with its own message, before the namespace would.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from typing import Any

import pytest
from bench import peers, report

# A TEST-NET-1 address (RFC 5737): never a real host, and unreachable in the namespace.
ELSEWHERE = "192.0.2.1"


def _confined(argv: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    prefix, _ = peers.namespace_prefix()
    if not prefix:
        pytest.skip("this machine cannot make a network namespace (unshare -rn)")
    script = 'ip link set lo up && exec "$@"'
    return subprocess.run(
        [*prefix, "sh", "-c", script, "sh", *argv],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **env},
    )


NODE_PROBE = f"""
const net = require("net"), dns = require("dns");
const server = net.createServer(s => s.end("hi")).listen(0, "127.0.0.1", () => {{
  const local = net.connect(server.address().port, "127.0.0.1");
  local.on("data", d => {{
    console.log("loopback: " + d);
    net.connect(80, "{ELSEWHERE}").on("error", e => {{
      console.log("elsewhere: " + e.message);
      dns.lookup("example.com", e => {{
        console.log("lookup: " + e.code);
        server.close();
      }});
    }});
  }});
}});
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_the_node_preload_lets_peers_reach_loopback_only() -> None:
    done = _confined(
        ["node", "-e", NODE_PROBE],
        NODE_OPTIONS=f"--require {peers.CONFINE / 'loopback.js'}",
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "loopback: hi",
        f"elsewhere: bench: {ELSEWHERE} is not loopback; peers reach 127.0.0.1 only",
        "lookup: ENOTFOUND",
    ]


PYTHON_PROBE = f"""
import socket
server = socket.create_server(("127.0.0.1", 0))
socket.create_connection(server.getsockname(), timeout=5).close()
print("loopback: ok")
for attempt in (
    lambda: socket.socket().connect(("{ELSEWHERE}", 80)),  # an address: refused at connect
    lambda: socket.create_connection(("example.com", 443), timeout=5),  # a name: at lookup
):
    try:
        attempt()
    except OSError as error:
        print(type(error).__name__, error)
"""


def test_the_python_preload_lets_peers_reach_loopback_only() -> None:
    done = _confined([sys.executable, "-c", PYTHON_PROBE], PYTHONPATH=str(peers.CONFINE))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "loopback: ok"
    assert lines[1] == (
        f"ConnectionRefusedError bench: {ELSEWHERE} is not loopback; peers reach 127.0.0.1 only"
    )
    assert lines[2].startswith("gaierror") and "example.com is not loopback" in lines[2]


def _row(peer: str, msg_per_s: float | None, req_per_msg: float, **extra: Any) -> dict[str, Any]:
    return {
        "peer": peer,
        "label": peer,
        "outside": peer not in ("dlqctl", "batched"),
        "measured": True,
        "ok": True,
        "msg_per_s": msg_per_s,
        "msg_per_s_active": msg_per_s,
        "req_per_msg": req_per_msg,
        **extra,
    }


def test_each_peer_is_judged_against_dlqctl_of_the_same_run() -> None:
    rows = [
        _row("dlqctl", 300.0, 0.305),
        _row("batched", 40.0, 0.300),  # the bench's own loop: a ratio, not a verdict
        _row("slower-but-leaner", 100.0, 0.300),
        _row("slower-and-costlier", 100.0, 3.0),
        _row("faster", 400.0, 0.5),
        {
            "peer": "absent",
            "label": "absent",
            "outside": True,
            "measured": False,
            "reason": "npm failed",
        },
    ]
    peers.add_ratios(rows)
    assert rows[2]["dlqctl_speedup"] == 3.0
    assert rows[3]["req_ratio"] == pytest.approx(3.0 / 0.305)
    verdicts = {v["target"]: v["verdict"] for v in report.peer_targets({"rows": rows})}
    assert verdicts == {
        "ahead of slower-but-leaner (active)": "MISSED",  # more requests per message
        "ahead of slower-but-leaner (command)": "MISSED",
        "ahead of slower-and-costlier (active)": "met",
        "ahead of slower-and-costlier (command)": "met",
        "ahead of faster (active)": "MISSED",
        "ahead of faster (command)": "MISSED",
        "ahead of absent": "not measured: npm failed",
    }
    table = report.peers_table({"rows": [{**r, "n": 10} for r in rows[-1:]]})
    assert "| absent | 10 | not measured: npm failed |" in table
