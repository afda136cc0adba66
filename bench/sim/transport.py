"""The plug: a real boto3 SQS client whose HTTP layer is the simulated service.

botocore emits `before-send.sqs.<Operation>` with the fully prepared, signed request just
before handing it to urllib3; the first handler that returns an `AWSResponse` replaces
the network (botocore/endpoint.py; moto plugs in the same way). Everything above that
point — dlqctl's gateway, parameter validation and JSON serialisation, SigV4 signing,
response parsing, error mapping and botocore's own retries — runs for real. Only the
round trip is simulated: one sleep of `latency_s` per request, outside every lock, so
parallel lanes overlap their waits as they would on real connections.

Requests are counted per operation (retries included: they are requests too), and the
service's own CPU time is measured per request so the bench can report the client's CPU
without the simulator's.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.config import Config

from bench.sim.operations import OPERATIONS, Call
from bench.sim.service import SqsError, SqsService

DEFAULT_LATENCY_S = 0.020


@dataclass(frozen=True)
class Faults:
    """Fault injection, per request (or per batch entry), from a seeded generator.

    throttle_rate: answer RequestThrottled (400) without acting; botocore retries it.
    error_rate: answer InternalFailure (500) without acting.
    ambiguous_rate: act, then answer 500 anyway — the lost answer that can duplicate.
    entry_failure_rate: fail single entries of batch calls (SenderFault false, retryable).
    operations: limit the faults to these operations (None: all of them).
    """

    throttle_rate: float = 0.0
    error_rate: float = 0.0
    ambiguous_rate: float = 0.0
    entry_failure_rate: float = 0.0
    operations: frozenset[str] | None = None

    def applies_to(self, operation: str) -> bool:
        return self.operations is None or operation in self.operations


class _Body:
    """The `raw` an AWSResponse reads its content from."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **_: Any) -> Any:
        yield self.data


class SimTransport:
    def __init__(
        self,
        service: SqsService | None = None,
        *,
        latency_s: float = DEFAULT_LATENCY_S,
        faults: Faults | None = None,
        seed: int = 0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.service = service or SqsService()
        self.latency_s = latency_s
        self.faults = faults or Faults()
        self.sleep = sleep
        self._rng = random.Random(seed)
        self._stats_lock = threading.Lock()
        self.requests: Counter[str] = Counter()
        self.faults_injected: Counter[str] = Counter()
        self.service_cpu_s = 0.0

    @property
    def total_requests(self) -> int:
        return sum(self.requests.values())

    def reset_counters(self) -> None:
        with self._stats_lock:
            self.requests.clear()
            self.faults_injected.clear()

    def client(self, *, retries: dict[str, Any] | None = None, region: str | None = None) -> Any:
        """A boto3 SQS client wired to this transport. By default its retries are dlqctl's
        own defaults (aws/session.py, config.py): standard mode, max_attempts 5 — which
        botocore counts as retries after the first attempt."""
        session = boto3.session.Session(
            aws_access_key_id="simulated",
            aws_secret_access_key="simulated",
            region_name=region or self.service.region,
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
        # First, so ours is the answer botocore uses. botocore still calls every other
        # before-send handler: inside moto's mock_aws() moto would act on the request too,
        # so never use the simulator while mock_aws() is active.
        client.meta.events.register_first("before-send.sqs", self.handle)

    def handle(self, request: AWSPreparedRequest, **_: Any) -> AWSResponse:
        started = time.thread_time()
        target = str(request.headers.get("X-Amz-Target", b"").decode())
        operation = target.rpartition(".")[2]
        status, answer, query_code = self.respond(
            operation, lambda: json.loads(request.body or b"{}")
        )
        body = json.dumps(answer).encode()
        headers = {
            "Content-Type": "application/x-amz-json-1.0",
            "x-amzn-RequestId": f"sim-{self.total_requests:012d}",
        }
        if query_code:
            headers["x-amzn-query-error"] = query_code
        with self._stats_lock:
            self.service_cpu_s += time.thread_time() - started
        if self.latency_s:
            self.sleep(self.latency_s)  # the round trip, outside every lock
        return AWSResponse(request.url, status, headers, _Body(body))

    def respond(
        self, operation: str, params: Callable[[], dict[str, Any]]
    ) -> tuple[int, Any, str | None]:
        """One request, counted, with its faults drawn: the status, the JSON protocol's
        answer (or error body) and the query protocol's error code. `params` decodes the
        request's parameters, only once a fault did not answer first. The HTTP server
        (serve.py) calls this too, for both protocols, so they share one cost model."""
        fault = self._draw(operation)
        if fault == "throttle":
            return _error(SqsError("RequestThrottled", "Request is throttled."))
        if fault == "error":
            return _error(SqsError("InternalFailure", "simulated server error", status=500))
        handler = OPERATIONS.get(operation)
        if handler is None:
            return _error(
                SqsError("UnsupportedOperation", f"the simulator does not implement {operation}")
            )
        call = Call(self.service, self._entry_failer(operation))
        try:
            decoded = params()
            with self.service.lock:
                answer = handler(call, decoded)
        except SqsError as exc:
            return _error(exc)
        except Exception as exc:
            # A bug in the simulator must fail loudly, not look like a retryable 5xx.
            return _error(SqsError("SimulatorBug", f"{type(exc).__name__}: {exc}"))
        if fault == "ambiguous":
            return _error(SqsError("InternalFailure", "acted, then lost the answer", status=500))
        return 200, answer, None

    def _draw(self, operation: str) -> str | None:
        faults = self.faults
        with self._stats_lock:
            self.requests[operation] += 1
            if not faults.applies_to(operation):
                return None
            roll = self._rng.random()
            for kind, rate in (
                ("throttle", faults.throttle_rate),
                ("error", faults.error_rate),
                ("ambiguous", faults.ambiguous_rate),
            ):
                if roll < rate:
                    self.faults_injected[kind] += 1
                    return kind
                roll -= rate
        return None

    def _entry_failer(self, operation: str) -> Callable[[], bool]:
        rate = self.faults.entry_failure_rate
        if not rate or not self.faults.applies_to(operation):
            return lambda: False

        def fail() -> bool:
            with self._stats_lock:
                failed = self._rng.random() < rate
                if failed:
                    self.faults_injected["entry"] += 1
            return failed

        return fail


def _error(exc: SqsError) -> tuple[int, Any, str]:
    side = "Sender" if exc.sender_fault else "Receiver"
    body = {"__type": f"com.amazonaws.sqs#{exc.code}", "message": exc.message}
    return exc.status, body, f"{exc.query_code};{side}"
