"""The GameDay switch fails safe: when the SSM parameter cannot be read, whatever the
error, the worker warns, counts it, and processes with the last mode it read, or none."""

import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from dlqctl.pipeline import spec, worker

from .conftest import Stack, batch, emf_datapoints, invoke

MARKED = {"order_id": "marked", "poison": True}
DENIED = ClientError(
    {"Error": {"Code": "AccessDeniedException", "Message": "not authorized"}}, "GetParameter"
)
UNREACHABLE = EndpointConnectionError(endpoint_url="https://ssm.us-east-1.amazonaws.com/")
Answer = str | Exception | None
# Each way a read can go wrong (an error raised, an answer without a value, a value that is
# no mode), and the exception class the warning names.
FAILURES: dict[str, tuple[Answer, str]] = {
    "access denied": (DENIED, "ClientError"),
    "SSM unreachable": (UNREACHABLE, "EndpointConnectionError"),
    "an answer without a value": (None, "KeyError"),
    "a value that is no mode": ("chaos", "ValueError"),
}


class SSM:
    """GetParameter answering `answers` in turn, then the last one again."""

    def __init__(self, *answers: Answer) -> None:
        self.answers: Iterator[Answer] = iter(answers)
        self.last: Answer = None

    def get_parameter(self, Name: str) -> dict[str, Any]:
        self.last = next(self.answers, self.last)
        if isinstance(self.last, Exception):
            raise self.last
        return {"Parameter": {"Value": self.last} if self.last else {}}


def warnings_in(logs: io.StringIO) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in logs.getvalue().splitlines() if line.startswith("{")]
    return [
        line
        for line in lines
        if line["level"] == "WARNING" and line["message"].startswith("failure mode parameter")
    ]


def unreadable_counts(output: str) -> list[float]:
    return [
        p.value
        for p in emf_datapoints(output)
        if p.name == spec.METRIC_FAILURE_MODE_UNREADABLE
        and p.dimensions == (("service", spec.SERVICE_NAME),)
    ]


@pytest.mark.parametrize("failure", FAILURES)
def test_before_any_good_read_the_worker_processes_as_none(
    stack: Stack,
    monkeypatch: pytest.MonkeyPatch,
    logs: io.StringIO,
    capsys: pytest.CaptureFixture[str],
    failure: str,
) -> None:
    error, error_class = FAILURES[failure]
    monkeypatch.setattr(worker, "failure_mode", worker.FailureModeCache(client=SSM(error)))
    assert invoke(batch(stack, MARKED)) == []
    [warning] = warnings_in(logs)
    assert (warning["failure_mode"], warning["error_class"]) == ("none", error_class)
    assert unreadable_counts(capsys.readouterr().out) == [1]


@pytest.mark.parametrize("failure", FAILURES)
def test_after_a_good_read_the_worker_keeps_the_mode_it_read(
    stack: Stack,
    monkeypatch: pytest.MonkeyPatch,
    logs: io.StringIO,
    capsys: pytest.CaptureFixture[str],
    failure: str,
) -> None:
    error, error_class = FAILURES[failure]
    monkeypatch.setattr(
        worker, "failure_mode", worker.FailureModeCache(client=SSM("poison", error))
    )
    # The cache period is 0 here: the first record reads poison, the second read fails.
    records = batch(stack, MARKED, {"order_id": "plain"})
    marked = next(r["messageId"] for r in records if "marked" in r["body"])
    records.sort(key=lambda r: r["messageId"] != marked)
    assert invoke(records) == [marked], "the GameDay goes on as it was set"
    [warning] = warnings_in(logs)
    assert (warning["failure_mode"], warning["error_class"]) == ("poison", error_class)
    assert unreadable_counts(capsys.readouterr().out) == [1]


def test_a_deleted_parameter_reads_as_none(stack: Stack, logs: io.StringIO) -> None:
    stack.ssm.delete_parameter(Name=spec.FAILURE_MODE_PARAMETER)
    assert invoke(batch(stack, MARKED)) == []
    assert [w["error_class"] for w in warnings_in(logs)] == ["ParameterNotFound"]


def test_a_failing_ssm_is_asked_once_per_cache_period_not_per_record(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, logs: io.StringIO
) -> None:
    monkeypatch.setenv(spec.ENV_FAILURE_MODE_CACHE_S, "60")
    monkeypatch.setattr(worker, "failure_mode", worker.FailureModeCache(client=SSM(DENIED)))
    assert invoke(batch(stack, *({"order_id": str(i)} for i in range(5)))) == []
    assert len(warnings_in(logs)) == 1
