"""FIFO DLQs on both backends: one receive in flight, and where ages count from.

A FIFO queue hands a group's messages to one receive at a time. Two of dlqctl's receives
in flight on one FIFO queue race for the same group: on LocalStack a scan of one group
of 15 then saw 10 or only 5 messages. So a FIFO scan keeps one receive in flight, whatever
--concurrency says; a relay between dlqctl and the server counts the receives in flight.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from .conftest import HOST, Backend, Runner, World

pytestmark = pytest.mark.e2e

RECEIVE = "AmazonSQS.ReceiveMessage"
HELD_S = 0.05  # each receive is held this long in the relay, so receives in flight overlap
LANES = "16"


class ReceiveCounter:
    """An HTTP relay to the backend that notes, per queue name, the most ReceiveMessage
    calls it had in flight at once."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.most: Counter[str] = Counter()
        self._now: Counter[str] = Counter()
        self._lock = threading.Lock()
        counter = self

        class Relay(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                queue = None
                if self.headers.get("X-Amz-Target") == RECEIVE:
                    queue = str(json.loads(body).get("QueueUrl")).rsplit("/", 1)[-1]
                    counter._enter(queue)
                try:
                    status, headers, answer = counter._forward(self.path, dict(self.headers), body)
                finally:
                    if queue is not None:
                        counter._leave(queue)
                self.send_response(status)
                for name, value in headers:
                    if name.lower() not in ("content-length", "connection", "date", "server"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer((HOST, 0), Relay)
        self.url = f"http://{HOST}:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def _enter(self, queue: str) -> None:
        with self._lock:
            self._now[queue] += 1
            self.most[queue] = max(self.most[queue], self._now[queue])
        time.sleep(HELD_S)

    def _leave(self, queue: str) -> None:
        with self._lock:
            self._now[queue] -= 1

    def _forward(
        self, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        request = urllib.request.Request(
            self.upstream + path, data=body, headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return answer.status, list(answer.headers.items()), answer.read()
        except urllib.error.HTTPError as error:  # an AWS error answer: relay it as it is
            return error.code, list(error.headers.items()), error.read()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def relay(backend: Backend) -> Iterator[ReceiveCounter]:
    counter = ReceiveCounter(backend.url)
    try:
        yield counter
    finally:
        counter.close()


def _seed_groups(world: World, name: str, groups: int, per_group: int) -> None:
    url = world.urls[name]
    for group in range(groups):
        entries = [
            {
                "Id": str(seq),
                "MessageBody": json.dumps({"group": group, "seq": seq}),
                "MessageGroupId": f"g{group}",
                "MessageDeduplicationId": f"g{group}-{seq}",
            }
            for seq in range(per_group)
        ]
        response = world.sqs.send_message_batch(QueueUrl=url, Entries=entries)
        assert not response.get("Failed"), response.get("Failed")


def _delete_all(world: World, name: str) -> Counter[str]:
    """Receive and delete until empty (a consumer's view): the bodies, counted."""
    bodies: Counter[str] = Counter()
    empty = 0
    while empty < 2:
        batch = world.sqs.receive_message(
            QueueUrl=world.urls[name], MaxNumberOfMessages=10, WaitTimeSeconds=0
        ).get("Messages", [])
        empty = 0 if batch else empty + 1
        for message in batch:
            bodies[message["Body"]] += 1
            world.sqs.delete_message(
                QueueUrl=world.urls[name], ReceiptHandle=message["ReceiptHandle"]
            )
    return bodies


def test_a_fifo_scan_keeps_one_receive_in_flight(
    dlqctl: Runner, world: World, relay: ReceiveCounter
) -> None:
    # Not the world's invariant for the FIFO queue: its drain cannot see past a held
    # group, so this test reads it back itself. Two groups of 8: a scan wants 16, which
    # --concurrency 16 would split over two receives at once.
    fifo = World(world.sqs)
    fifo.create("lanes-dlq.fifo")
    _seed_groups(fifo, "lanes-dlq.fifo", groups=2, per_group=8)
    world.create("lanes-dlq")
    world.send_many("lanes-dlq", [json.dumps({"n": n}) for n in range(40)])
    env = {"DLQCTL_CONCURRENCY": LANES}

    fifo_report = dlqctl(
        "inspect",
        "lanes-dlq.fifo",
        "-o",
        "json",
        "--endpoint-url",
        relay.url,
        endpoint=None,
        env=env,
    ).json()
    standard_report = dlqctl(
        "inspect", "lanes-dlq", "-o", "json", "--endpoint-url", relay.url, endpoint=None, env=env
    ).json()

    assert relay.most["lanes-dlq.fifo"] == 1, relay.most
    # The relay does see receives in flight together: on the standard queue, lanes ran.
    assert relay.most["lanes-dlq"] > 1, relay.most
    assert standard_report["coverage"]["scanned"] == 40
    assert 0 < fifo_report["coverage"]["scanned"] <= 16
    assert not any("twice" in warning for warning in fifo_report["warnings"]), fifo_report
    # Nothing held, nothing lost: a consumer gets each of the 16 exactly once.
    assert fifo.counts("lanes-dlq.fifo") == (16, 0)
    expected = {json.dumps({"group": g, "seq": s}) for g in range(2) for s in range(8)}
    assert _delete_all(fifo, "lanes-dlq.fifo") == Counter(expected)


def test_fifo_dlq_ages_and_the_caveat_say_what_the_backend_does(
    dlqctl: Runner, world: World, backend: Backend
) -> None:
    """SQS documents that a FIFO message's enqueue time restarts in the DLQ; moto and
    LocalStack keep the original send time. dlqctl's caveat says both, and the age it
    shows is the backend's SentTimestamp."""
    world.create("aged-dlq.fifo")
    world.create("aged.fifo", dlq="aged-dlq.fifo", max_receive=1)
    message_id = world.send("aged.fifo", json.dumps({"order": 1}), group="g")
    first = world.sqs.receive_message(
        QueueUrl=world.urls["aged.fifo"], VisibilityTimeout=0, MessageSystemAttributeNames=["All"]
    )["Messages"][0]
    sent_ms = int(first["Attributes"]["SentTimestamp"])
    time.sleep(1.1)  # so a restarted clock would show a later SentTimestamp
    while world.counts("aged.fifo") != (0, 0):  # the receive after maxReceiveCount moves it
        world.sqs.receive_message(QueueUrl=world.urls["aged.fifo"], VisibilityTimeout=0)
    world.moved("aged.fifo", "aged-dlq.fifo", message_id)

    document = dlqctl("peek", "aged-dlq.fifo", "-o", "json").json()

    (message,) = document["messages"]
    assert message["message_id"] == message_id
    shown_ms = round(datetime.fromisoformat(message["sent_at"]).timestamp() * 1000)
    assert shown_ms == sent_ms, f"{backend.name} restarted the send time in the DLQ"
    (caveat,) = [w for w in document["warnings"] if w.startswith("FIFO queue: ages")]
    assert "as SQS documents for FIFO DLQs" in caveat
    assert "moto and LocalStack keep the original send time" in caveat
