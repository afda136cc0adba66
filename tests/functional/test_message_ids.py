"""Acting on chosen messages: --message-id and --message-ids-from, as a filter."""

import json
from pathlib import Path

import pytest

from dlqctl import Dlqctl, build_filter
from dlqctl.core.guardrails import RedriveOptions
from dlqctl.errors import UsageError

from ..conftest import Pipeline, invoke
from .test_redrive import drain


def seed(pipeline: Pipeline, n: int) -> list[str]:
    return [pipeline.put(json.dumps({"n": i}), "Timeout") for i in range(n)]


def test_only_the_chosen_messages_move_and_missing_ids_are_named(pipeline: Pipeline) -> None:
    ids = seed(pipeline, 8)
    chosen = build_filter(message_ids=[ids[1], ids[5], "not-a-message"])
    report = Dlqctl(sleep=lambda s: None).redrive("orders-dlq", chosen, RedriveOptions())
    assert (report.selected, report.deleted) == (2, 2)
    assert any("1 of the 3 message ids asked for was not found" in w for w in report.warnings)
    assert any("not-a-message" in w for w in report.warnings)
    moved = sorted(json.loads(m["Body"])["n"] for m in drain(pipeline.sqs, pipeline.source_url))
    assert moved == [1, 5]
    assert pipeline.counts() == (6, 0)


def test_ids_from_a_file_piped_from_peek(pipeline: Pipeline, tmp_path: Path) -> None:
    ids = seed(pipeline, 5)
    lines = invoke("peek", "orders-dlq", "-o", "ndjson").stdout.splitlines()
    chosen = [json.loads(line)["message_id"] for line in lines][:2]
    assert set(chosen) <= set(ids)
    listing = tmp_path / "ids.txt"
    listing.write_text("# from peek\n" + "\n".join(chosen) + "\n\n")
    report = json.loads(
        invoke(
            "purge",
            "orders-dlq",
            "--message-ids-from",
            str(listing),
            "--no-archive",
            "--yes",
            "-o",
            "json",
        ).stdout
    )
    assert report["deleted"] == 2 and report["warnings"] == []
    left = {m["MessageId"] for m in drain(pipeline.sqs, pipeline.dlq_url)}
    assert left == set(ids) - set(chosen)


def test_an_unreadable_or_empty_ids_file_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="cannot read --message-ids-from"):
        build_filter(message_ids_from=tmp_path / "missing.txt")
    empty = tmp_path / "empty.txt"
    empty.write_text("\n# nothing\n")
    with pytest.raises(UsageError, match="names no message id"):
        build_filter(message_ids_from=empty)
