"""`dlqctl watch`: one refresh of depths, as ndjson for logs."""

from __future__ import annotations

import json
import signal
import subprocess
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from .conftest import DLQCTL, ENDPOINT_DLQCTL_ENV, Runner, World, base_env

pytestmark = pytest.mark.e2e


def test_watch_count_one_ndjson(dlqctl: Runner, orders: World) -> None:
    lines = dlqctl(
        "watch", "orders-dlq", "payments-dlq", "x-dlq.fifo", "--count", "1", "-o", "ndjson"
    ).ndjson()
    assert [line["name"] for line in lines] == ["orders-dlq", "payments-dlq", "x-dlq.fifo"]
    depths = {line["name"]: (line["visible"], line["in_flight"]) for line in lines}
    assert depths == {"orders-dlq": (9, 0), "payments-dlq": (0, 0), "x-dlq.fifo": (5, 0)}
    assert len({line["at"] for line in lines}) == 1
    at = datetime.fromisoformat(lines[0]["at"])
    assert at.utcoffset() == timedelta(0)  # ISO-8601 UTC, whether written Z or +00:00
    assert abs(datetime.now(UTC) - at) < timedelta(minutes=5)


def test_watch_sees_messages_held_by_another_reader(
    dlqctl: Runner, orders: World, sqs: Any
) -> None:
    """Reads attributes only: a hold someone else took shows as in flight."""
    held = sqs.receive_message(
        QueueUrl=orders.urls["orders-dlq"], MaxNumberOfMessages=2, VisibilityTimeout=300
    )["Messages"]
    (line,) = dlqctl(
        "watch", "orders-dlq", "--count", "1", "-o", "ndjson", endpoint=ENDPOINT_DLQCTL_ENV
    ).ndjson()
    assert (line["visible"], line["in_flight"]) == (9 - len(held), len(held))
    # Let the invariant check see the queue as the test found it.
    sqs.change_message_visibility_batch(
        QueueUrl=orders.urls["orders-dlq"],
        Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
            for i, m in enumerate(held)
        ],
    )


def test_watch_stops_on_sigint_also_as_a_background_job(dlqctl: Runner, orders: World) -> None:
    """A script's background job starts with SIGINT ignored (POSIX shells do that without
    job control): `kill -INT` must still stop `watch`, which refreshes until Ctrl-C."""
    run_env = base_env(dlqctl.home, dlqctl.trap.url, dlqctl.access_key)
    proc = subprocess.Popen(
        [str(DLQCTL), "watch", "orders-dlq", "-o", "ndjson", "--endpoint-url", dlqctl.endpoint],
        cwd=dlqctl.cwd,
        env=run_env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    assert proc.stdout is not None
    first = json.loads(proc.stdout.readline())  # the first refresh is out: it is watching
    assert first["name"] == "orders-dlq"
    proc.send_signal(signal.SIGINT)
    try:
        proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        pytest.fail("watch ignored SIGINT when it started with SIGINT ignored")
    assert proc.returncode == 0
