"""dlqctl's own inspect and redrive give the same reports on moto and on the simulator.

If they did not, the bench would measure a dlqctl that behaves differently from the one
the functional tests check against moto.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dlqctl import Dlqctl, build_filter
from dlqctl.core.guardrails import RedriveOptions

from .backends import assert_same
from .test_operations import ALL, DLQ, SOURCE, _counts, _pipeline


@pytest.fixture(autouse=True)
def one_lane(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto in-process is not thread-safe: two receives in parallel lanes can take the
    same message (about one inspect in four at 4 lanes). Lanes are compared on the
    simulator alone (test_simulator.py)."""
    monkeypatch.setenv("DLQCTL_CONCURRENCY", "1")


# Report fields that differ between any two runs (ids, clocks), compared by presence.
_PER_RUN = {"run_id", "message_id", "sample_ids", "duration_s", "url"}


def _comparable(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            key: f"<{key}>" if key in _PER_RUN or key.endswith("age_s") else _comparable(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_comparable(item) for item in value]
    return value


def _seed(sqs: Any, url: str) -> None:
    kinds = ["Timeout"] * 12 + ["ValidationError"] * 10 + [None] * 8
    for i, kind in enumerate(kinds):
        attributes = {"ErrorType": {"DataType": "String", "StringValue": kind}} if kind else {}
        sqs.send_message(
            QueueUrl=url, MessageBody=json.dumps({"order": i}), MessageAttributes=attributes
        )
    sqs.send_message(QueueUrl=url, MessageBody="plain text")


def test_inspect_reports_the_same() -> None:
    def script(sqs: Any) -> list[Any]:
        dlq, _ = _pipeline(sqs)
        _seed(sqs, dlq)
        report = Dlqctl(clients={"sqs": sqs}).inspect(DLQ)
        return [_comparable(report.model_dump(mode="json")), _counts(sqs, dlq)]

    report, counts = assert_same(script)
    assert report["matched"] == 31
    assert {t["error_type"]: t["count"] for t in report["by_error_type"]} == {
        "Timeout": 12,
        "ValidationError": 10,
        "Unknown": 9,
    }
    assert counts == ("31", "0", "0")  # nothing consumed, nothing still held


def test_redrive_reports_and_moves_the_same(tmp_path: Path) -> None:
    def script(sqs: Any) -> list[Any]:
        dlq, source = _pipeline(sqs)
        _seed(sqs, dlq)
        report = Dlqctl(clients={"sqs": sqs}).redrive(
            DLQ,
            build_filter(error_types=["Timeout"]),
            RedriveOptions(),
            journal=tmp_path / f"journal-{id(sqs)}.jsonl",
        )
        arrived = sqs.receive_message(
            QueueUrl=source, MaxNumberOfMessages=10, WaitTimeSeconds=0, **ALL
        )["Messages"]
        arrived += sqs.receive_message(
            QueueUrl=source, MaxNumberOfMessages=10, WaitTimeSeconds=0, **ALL
        ).get("Messages", [])
        copies = sorted(
            (m["Body"], json.dumps(m["MessageAttributes"], sort_keys=True)) for m in arrived
        )
        dump = report.model_dump(mode="json")
        # Standard queues promise no order (moto's differs from the simulator's deque).
        dump["planned"].sort(key=lambda planned: planned["body_sha256"])
        return [
            _comparable(dump),
            _counts(sqs, dlq),
            _counts(sqs, source),
            copies,
        ]

    report, dlq_counts, source_counts, copies = assert_same(script)
    assert (report["selected"], report["sent"], report["deleted"], report["failed"]) == (
        12,
        12,
        12,
        [],
    )
    assert report["target"].endswith(f":{SOURCE}")
    assert dlq_counts == ("19", "0", "0")
    assert source_counts == ("0", "12", "0")  # held by the receives above
    assert len(copies) == 12
    assert all('"dlqctl-redrive-count"' in attributes for _, attributes in copies)
