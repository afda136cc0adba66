"""Transport faults during a redrive: whatever SQS does, no message is lost.

A proxy around moto's client injects, per call, the faults a real network and a loaded
SQS produce: throttling, 5xx, refused connections, answers lost after the work was done,
partial batch failures and failed deletes. Hypothesis draws the schedules.

Invariant: every original body ends up in the DLQ or the target at least once, and the
extra copies never exceed the report's `possible_duplicates`.
"""

import json
from collections import Counter
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from dlqctl import Dlqctl
from dlqctl.core.guardrails import RedriveOptions

from ..conftest import REGION, make_pipeline

FAULTS = [
    "ok",
    "throttle",  # refused before any work: safe to retry
    "server_error",  # 500: may or may not have run
    "refused_connection",  # never sent
    "lost_answer",  # ran, then the answer was lost
    "partial_retryable",  # some entries fail with SenderFault false
    "partial_permanent",  # some entries fail for good
]


def client_error(code: str, status: int, operation: str) -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": status}},
        operation,
    )


class FaultyClient:
    """moto's SQS client, with a fault drawn for each batch call."""

    def __init__(self, real: Any, send_faults: list[str], delete_faults: list[str]) -> None:
        self._real = real
        self._send = list(send_faults)
        self._delete = list(delete_faults)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def send_message_batch(self, **kwargs: Any) -> Any:
        return self._faulty(self._real.send_message_batch, self._send, "SendMessageBatch", kwargs)

    def delete_message_batch(self, **kwargs: Any) -> Any:
        return self._faulty(
            self._real.delete_message_batch, self._delete, "DeleteMessageBatch", kwargs
        )

    def _faulty(
        self, call: Any, schedule: list[str], operation: str, kwargs: dict[str, Any]
    ) -> Any:
        fault = schedule.pop(0) if schedule else "ok"
        if fault == "throttle":
            raise client_error("ThrottlingException", 400, operation)
        if fault == "server_error":
            if len(schedule) % 2:
                call(**kwargs)  # sometimes the work was done before the 500
            raise client_error("InternalError", 500, operation)
        if fault == "refused_connection":
            raise EndpointConnectionError(endpoint_url="http://127.0.0.1:1")
        if fault == "lost_answer":
            call(**kwargs)
            raise ReadTimeoutError(endpoint_url="http://127.0.0.1:1")
        if fault.startswith("partial") and len(kwargs["Entries"]) > 1:
            entries = kwargs["Entries"]
            kept, dropped = entries[::2], entries[1::2]
            response = call(**{**kwargs, "Entries": kept})
            permanent = fault == "partial_permanent"
            code = (
                (
                    "ReceiptHandleIsInvalid"
                    if operation == "DeleteMessageBatch"
                    else "InvalidParameterValue"
                )
                if permanent
                else "InternalError"
            )
            response.setdefault("Failed", []).extend(
                {"Id": e["Id"], "Code": code, "Message": "injected", "SenderFault": permanent}
                for e in dropped
            )
            return response
        return call(**kwargs)


def bodies(sqs: Any, url: str) -> Counter[str]:
    """Every body in a queue, consumed (deleting unblocks the next messages of a FIFO group)."""
    found: dict[str, str] = {}
    while True:
        batch = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=600
        ).get("Messages", [])
        if not batch:
            return Counter(found.values())
        found.update({m["MessageId"]: m["Body"] for m in batch})
        sqs.delete_message_batch(
            QueueUrl=url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)
            ],
        )


schedules = st.lists(st.sampled_from(FAULTS), max_size=12)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],  # no tracing "explain"
)
@given(
    send_faults=schedules,
    delete_faults=schedules,
    count=st.integers(1, 23),
    batch_size=st.integers(1, 10),
    fifo=st.booleans(),
)
def test_no_fault_schedule_loses_a_message(
    monkeypatch: pytest.MonkeyPatch,
    send_faults: list[str],
    delete_faults: list[str],
    count: int,
    batch_size: int,
    fifo: bool,
) -> None:
    monkeypatch.setenv("DLQCTL_RECEIVE_WAIT_S", "0")
    with mock_aws():
        sqs = boto3.client("sqs", region_name=REGION)
        pipeline = make_pipeline(sqs, "orders", fifo=fifo)
        originals = [json.dumps({"n": i}) for i in range(count)]
        for i, body in enumerate(originals):
            extra = {"MessageGroupId": f"g{i % 3}"} if fifo else {}
            sqs.send_message(QueueUrl=pipeline.dlq_url, MessageBody=body, **extra)
        faulty = FaultyClient(sqs, send_faults, delete_faults)
        dlqctl = Dlqctl(clients={"sqs": faulty}, sleep=lambda s: None)
        report = dlqctl.redrive(
            pipeline.dlq_url, None, RedriveOptions(select_all=True, batch_size=batch_size)
        )

        in_dlq, in_target = bodies(sqs, pipeline.dlq_url), bodies(sqs, pipeline.source_url)
        copies = in_dlq + in_target
        assert set(originals) <= set(copies), "a message was lost"
        extra_copies = sum(copies.values()) - len(originals)
        assert extra_copies <= report.possible_duplicates
        assert sum(in_target.values()) >= report.deleted


def test_throttling_is_retried_until_it_passes(pipeline: Any) -> None:
    for i in range(5):
        pipeline.put(json.dumps({"n": i}))
    faulty = FaultyClient(pipeline.sqs, ["throttle", "throttle", "lost_answer"], ["server_error"])
    report = Dlqctl(clients={"sqs": faulty}, sleep=lambda s: None).redrive(
        pipeline.dlq_url, None, RedriveOptions(select_all=True)
    )
    assert (report.deleted, report.failed) == (5, [])
    assert report.possible_duplicates == 5  # the lost answer: each entry may now exist twice
    assert sum(bodies(pipeline.sqs, pipeline.source_url).values()) == 10


def test_permanent_send_failures_stay_in_the_dlq(pipeline: Any) -> None:
    for i in range(4):
        pipeline.put(json.dumps({"n": i}))
    faulty = FaultyClient(pipeline.sqs, ["partial_permanent"], [])
    report = Dlqctl(clients={"sqs": faulty}, sleep=lambda s: None).redrive(
        pipeline.dlq_url, None, RedriveOptions(select_all=True)
    )
    assert (report.sent, report.deleted) == (2, 2)
    assert [f.stage for f in report.failed] == ["send", "send"]
    assert pipeline.counts() == (2, 0)


def test_failed_deletes_count_as_possible_duplicates(pipeline: Any) -> None:
    for i in range(4):
        pipeline.put(json.dumps({"n": i}))
    faulty = FaultyClient(pipeline.sqs, [], ["partial_permanent"])
    report = Dlqctl(clients={"sqs": faulty}, sleep=lambda s: None).redrive(
        pipeline.dlq_url, None, RedriveOptions(select_all=True)
    )
    assert (report.sent, report.deleted, report.possible_duplicates) == (4, 2, 2)
    assert all(
        f.stage == "delete" and "copied to the target but still in the source" in f.reason
        for f in report.failed
    )
    assert pipeline.counts() == (2, 0)


def test_a_fatal_error_stops_the_run_and_releases_the_rest(pipeline: Any) -> None:
    from dlqctl.errors import AccessDeniedError

    for i in range(15):
        pipeline.put(json.dumps({"n": i}))

    class Denied(FaultyClient):
        calls = 0

        def send_message_batch(self, **kwargs: Any) -> Any:
            Denied.calls += 1
            if Denied.calls == 2:
                raise client_error("AccessDenied", 403, "SendMessageBatch")
            return self._real.send_message_batch(**kwargs)

    with pytest.raises(AccessDeniedError, match="sqs:SendMessageBatch"):
        Dlqctl(clients={"sqs": Denied(pipeline.sqs, [], [])}, sleep=lambda s: None).redrive(
            pipeline.dlq_url, None, RedriveOptions(select_all=True)
        )
    assert pipeline.counts() == (5, 0)
    assert pipeline.counts(pipeline.source_url) == (10, 0)
