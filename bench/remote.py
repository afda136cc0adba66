"""The simulated SQS in a process of its own, for runs whose memory is the question.

In-process, the simulator's queues share the measured process: ~160 B per seeded message
(160 MiB at 1,000,000, more than the 200 MiB target on its own) and, in the target queue,
every copy with its 1 KiB body. `RemoteTransport` keeps the same SqsService and the same
SimTransport (operations, faults, counters) in a child process, spawned fresh, and hands
it each signed request over a pipe; the round trip is still one sleep of `latency_s` in
the client's thread, outside every lock. So dlqctl's process holds only dlqctl, botocore
and the interpreter, and its ru_maxrss is what dlqctl would take against SQS.

The child serves each pipe from a thread of its own, so a long poll waiting on an empty
queue holds up only the lane that sent it, as on real connections. The parent takes a
free pipe per request. Nothing leaves the machine: pipes, not sockets.

CPU: the client's CPU is the parent's whole process time (dlqctl, botocore, and pickling
a request onto a pipe instead of TLS); the simulator's is the child's, reported apart.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import queue
import resource
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

import boto3
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.config import Config

from bench import content
from bench.sim import Faults, SimTransport, SqsService

PIPES = 40  # more than dlqctl's 32 lanes at most, plus its receive and release lanes


class _Body:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.data


@dataclass
class _Request:
    """The part of an AWSPreparedRequest that SimTransport.handle reads."""

    url: str
    body: bytes
    headers: dict[str, bytes] = field(default_factory=dict)


def _rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


class RemoteTransport:
    """SimTransport's interface (attach, client, counters), the service in a child."""

    def __init__(self, *, latency_s: float, faults: Faults | None = None) -> None:
        self.latency_s = latency_s
        self.region = SqsService().region
        self.requests: Counter[str] = Counter()
        self.faults_injected: Counter[str] = Counter()
        self.service_cpu_s = 0.0  # none of the simulator's CPU is in this process
        self._stats_lock = threading.Lock()
        context = multiprocessing.get_context("spawn")  # a fresh interpreter, no dlqctl
        pairs = [context.Pipe() for _ in range(PIPES + 1)]
        self._control, child_control = pairs[0]
        self._free: queue.LifoQueue[Connection] = queue.LifoQueue()
        for near, _ in pairs[1:]:
            self._free.put(near)
        self._child = context.Process(
            target=_serve,
            args=(child_control, [far for _, far in pairs[1:]], faults or Faults()),
            name="simulated-sqs",
            daemon=True,
        )
        self._child.start()
        for _, far in pairs:
            far.close()  # the child has its own copies
        self._call("ping")

    # -- control ---------------------------------------------------------------------

    def _call(self, command: str, *args: Any) -> Any:
        self._control.send((command, args))
        ok, answer = self._control.recv()
        if not ok:
            raise RuntimeError(f"simulator process: {answer}")
        return answer

    def setup(
        self, layout: content.Layout, depth: int, error_type: str | None, *, mixed: bool = False
    ) -> tuple[tuple[str, str], float]:
        """Create and seed the queues in the child: their URLs, and the MiB its store
        took there."""
        urls, store_mib = self._call("setup", layout, depth, error_type, mixed)
        return (str(urls[0]), str(urls[1])), float(store_mib)

    def queue_state(self, layout: content.Layout) -> dict[str, Any]:
        return dict(self._call("queue_state", layout))

    def child_stats(self) -> dict[str, Any]:
        """The child's CPU so far, its peak RSS, and the faults it injected."""
        return dict(self._call("stats"))

    def close(self) -> None:
        if self._child.is_alive():
            with contextlib.suppress(EOFError, OSError):
                self._call("stop")
        self._child.join(timeout=10)
        if self._child.is_alive():
            self._child.kill()

    # -- as SimTransport -------------------------------------------------------------

    @property
    def total_requests(self) -> int:
        return sum(self.requests.values())

    def reset_counters(self) -> None:
        with self._stats_lock:
            self.requests.clear()
        self._call("reset")

    def client(self, *, retries: dict[str, Any] | None = None) -> Any:
        session = boto3.session.Session(
            aws_access_key_id="simulated",
            aws_secret_access_key="simulated",
            region_name=self.region,
        )
        client = session.client(
            "sqs",
            config=Config(
                retries=retries or {"mode": "standard", "max_attempts": 5},
                max_pool_connections=64,
            ),
        )
        self.attach(client)
        return client

    def attach(self, client: Any) -> None:
        client.meta.events.register_first("before-send.sqs", self.handle)

    def handle(self, request: AWSPreparedRequest, **_: Any) -> AWSResponse:
        target = request.headers.get("X-Amz-Target", b"")
        target = target if isinstance(target, bytes) else str(target).encode()
        body = request.body or b""
        body = body if isinstance(body, bytes) else str(body).encode()
        with self._stats_lock:
            self.requests[target.decode().rpartition(".")[2]] += 1
        pipe = self._free.get()
        try:
            pipe.send((request.url, target, body))
            status, headers, data = pipe.recv()
        finally:
            self._free.put(pipe)
        if self.latency_s:
            time.sleep(self.latency_s)  # the round trip, outside every lock
        return AWSResponse(request.url, status, headers, _Body(data))


# -- the child -----------------------------------------------------------------------


def _serve(control: Connection, pipes: list[Connection], faults: Faults) -> None:
    service = SqsService()
    transport = SimTransport(service, latency_s=0, faults=faults)
    for pipe in pipes:
        threading.Thread(target=_answer, args=(transport, pipe), daemon=True).start()
    while True:
        try:
            command, args = control.recv()
        except EOFError:
            return
        try:
            if command == "stop":
                control.send((True, None))
                return
            control.send((True, _control(service, transport, command, args)))
        except Exception as exc:  # reported to the parent, which raises it
            control.send((False, f"{type(exc).__name__}: {exc}"))


def _control(service: SqsService, transport: SimTransport, command: str, args: Any) -> Any:
    if command == "ping":
        return None
    if command == "setup":
        layout, depth, error_type, mixed = args
        before = _rss_mib()
        urls = content.create_queues(service, layout)
        content.seed_dlq(service, depth, error_type=error_type, layout=layout, mixed=mixed)
        return urls, _rss_mib() - before
    if command == "queue_state":
        return content.queue_state(service, args[0])
    if command == "reset":
        transport.reset_counters()
        return None
    if command == "stats":
        return {
            "cpu_s": time.process_time(),
            "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "faults_injected": dict(transport.faults_injected),
            "requests": dict(transport.requests),
        }
    raise ValueError(f"unknown command {command!r}")


def _answer(transport: SimTransport, pipe: Connection) -> None:
    while True:
        try:
            url, target, body = pipe.recv()
        except EOFError:
            return
        response = transport.handle(_Request(url, body, {"X-Amz-Target": target}))  # type: ignore[arg-type]
        pipe.send((response.status_code, dict(response.headers), response.raw.data))
