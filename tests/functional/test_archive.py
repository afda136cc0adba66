"""export, purge and replay: full fidelity, durable before deleting, and a round trip."""

import json
from pathlib import Path
from typing import Any

import pytest

from dlqctl import ArchiveReport, Dlqctl, build_filter
from dlqctl.core.archive import read_export
from dlqctl.core.copy import REDRIVE_COUNT_ATTRIBUTE
from dlqctl.core.guardrails import RedriveOptions
from dlqctl.core.journal import read_journal
from dlqctl.errors import RefusedError, UsageError

from ..conftest import Pipeline, invoke, make_pipeline
from .test_redrive import drain


def seed(pipeline: Pipeline) -> None:
    for i in range(5):
        pipeline.sqs.send_message(
            QueueUrl=pipeline.dlq_url,
            MessageBody=json.dumps({"order": i}) if i else "raw \x01 bytes\ud7ff",
            MessageAttributes={
                "ErrorType": {
                    "DataType": "String",
                    "StringValue": "Timeout" if i % 2 else "Poison",
                },
                "blob": {"DataType": "Binary", "BinaryValue": bytes([i, 255])},
                "n": {"DataType": "Number", "StringValue": str(i)},
            },
        )


def dlq() -> Dlqctl:
    return Dlqctl(sleep=lambda s: None)


def test_export_keeps_every_message_in_the_queue(pipeline: Pipeline, tmp_path: Path) -> None:
    seed(pipeline)
    out = tmp_path / "export.jsonl"
    report = dlq().export("orders-dlq", out)
    assert (report.exported, report.deleted, report.file) == (5, 0, str(out))
    assert out.stat().st_mode & 0o777 == 0o600
    records = list(read_export(out))
    assert "raw \x01 bytes\ud7ff" in {r.body for r in records}
    assert {r.message_attributes["blob"].binary_value for r in records} >= {"AP8=", "Af8="}
    assert all(
        r.source_queue == pipeline.dlq_arn and r.system_attributes["SentTimestamp"] for r in records
    )
    pipeline.assert_untouched(5)


def test_export_never_overwrites(pipeline: Pipeline, tmp_path: Path) -> None:
    seed(pipeline)
    out = tmp_path / "x.jsonl"
    out.write_text("precious\n")
    with pytest.raises(UsageError, match="already exists"):
        dlq().export("orders-dlq", out)
    assert out.read_text() == "precious\n"
    pipeline.assert_untouched(5)


def test_export_delete_removes_only_what_is_on_disk(pipeline: Pipeline, tmp_path: Path) -> None:
    seed(pipeline)
    out = tmp_path / "poison.jsonl"
    report = dlq().export(
        "orders-dlq",
        out,
        build_filter(error_types=["Poison"]),
        delete=True,
        journal=tmp_path / "j.jsonl",
    )
    assert (report.exported, report.deleted) == (3, 3)
    assert {r.message_attributes["ErrorType"].string_value for r in read_export(out)} == {"Poison"}
    assert pipeline.counts() == (2, 0)
    kinds = [r["kind"] for r in read_journal(tmp_path / "j.jsonl")]
    assert kinds[0] == "start" and kinds[-1] == "end"


def test_destructive_exports_need_a_filter_and_consent(pipeline: Pipeline, tmp_path: Path) -> None:
    seed(pipeline)
    with pytest.raises(RefusedError, match="refusing to delete without a filter"):
        dlq().purge("orders-dlq", None)
    asked: list[ArchiveReport] = []
    with pytest.raises(RefusedError, match="not confirmed: nothing was deleted"):
        dlq().export(
            "orders-dlq",
            tmp_path / "a.jsonl",
            delete=True,
            select_all=True,
            confirm=lambda plan: asked.append(plan) is not None,
        )
    assert [plan.selected for plan in asked] == [5]
    assert not (tmp_path / "a.jsonl").exists()  # asked first: nothing written either
    pipeline.assert_untouched(5)


def test_purge_dry_run_plans_by_error_type_and_age_and_changes_nothing(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    seed(pipeline)
    archive = tmp_path / "purged.jsonl"
    plan = dlq().purge("orders-dlq", archive, select_all=True, dry_run=True)
    assert (plan.dry_run, plan.selected, plan.deleted, plan.exported) == (True, 5, 0, 0)
    assert plan.summary is not None
    assert sum(plan.summary.by_error_type.values()) == 5
    assert plan.summary.by_target == {str(archive): 5}
    ages = [m.age_s for m in plan.planned]
    assert (plan.summary.oldest_age_s, plan.summary.newest_age_s) == (max(ages), min(ages))
    assert sorted(m.message_id for m in plan.planned) == sorted(
        m["MessageId"] for m in _peek_raw(pipeline)
    )
    assert not archive.exists()
    pipeline.assert_untouched(5)


def test_the_prompt_sees_the_plan_the_run_then_follows(pipeline: Pipeline) -> None:
    seed(pipeline)
    seen: list[ArchiveReport] = []
    report = dlq().purge(
        "orders-dlq",
        None,
        build_filter(error_types=["Timeout"]),
        confirm=lambda plan: seen.append(plan) is None,
    )
    assert seen[0].summary is not None and seen[0].summary.by_error_type == {"Timeout": 2}
    assert seen[0].planned == []  # a prompt shows the aggregates; no list is kept
    assert (report.dry_run, report.deleted) == (False, 2)
    assert pipeline.counts() == (3, 0)


def test_purge_without_archive(pipeline: Pipeline) -> None:
    seed(pipeline)
    report = dlq().purge("orders-dlq", None, build_filter(error_types=["Timeout"]))
    assert (report.file, report.exported, report.deleted) == (None, 0, 2)
    assert pipeline.counts() == (3, 0)


def test_round_trip_export_purge_replay(pipeline: Pipeline, tmp_path: Path) -> None:
    seed(pipeline)
    before = {m["Body"]: m["MessageAttributes"] for m in _peek_raw(pipeline)}
    archive = tmp_path / "archive.jsonl"
    assert dlq().export("orders-dlq", archive, delete=True, select_all=True).deleted == 5
    assert pipeline.counts() == (0, 0)
    report = dlq().replay(archive, None, RedriveOptions(to="orders-dlq", select_all=True))
    assert (report.sent, report.deleted, report.failed) == (5, 0, [])
    after = {m["Body"]: m["MessageAttributes"] for m in drain(pipeline.sqs, pipeline.dlq_url)}
    assert set(after) == set(before)
    for body, attributes in after.items():
        assert attributes.pop(REDRIVE_COUNT_ATTRIBUTE) == {"DataType": "Number", "StringValue": "1"}
        assert attributes == before[body]


def _peek_raw(pipeline: Pipeline) -> list[dict[str, Any]]:
    messages = drain(pipeline.sqs, pipeline.dlq_url)
    for m in messages:  # put them back as they were
        pipeline.sqs.send_message(
            QueueUrl=pipeline.dlq_url,
            MessageBody=m["Body"],
            MessageAttributes=m["MessageAttributes"],
        )
    return messages


def test_replay_filters_dry_run_and_needs_a_target(pipeline: Pipeline, tmp_path: Path) -> None:
    seed(pipeline)
    archive = tmp_path / "a.jsonl"
    dlq().export("orders-dlq", archive)
    plan = dlq().replay(
        archive, build_filter(error_types=["Timeout"]), RedriveOptions(to="orders", dry_run=True)
    )
    assert plan.dry_run and len(plan.planned) == 2 and plan.source == str(archive)
    assert pipeline.counts(pipeline.source_url) == (0, 0)
    with pytest.raises(UsageError, match="pass --to QUEUE"):
        dlq().replay(archive, None, RedriveOptions(select_all=True))
    with pytest.raises(UsageError, match="--canary and --stop-after-failures watch a DLQ"):
        dlq().replay(archive, None, RedriveOptions(to="orders", select_all=True, canary=1))
    report = dlq().replay(
        archive, build_filter(error_types=["Timeout"]), RedriveOptions(to="orders")
    )
    assert report.sent == 2 and pipeline.counts(pipeline.source_url) == (2, 0)
    pipeline.assert_untouched(5)


def test_replay_of_a_bad_file_names_the_line(pipeline: Pipeline, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"format": "dlqctl-export/1"}\n')
    with pytest.raises(UsageError, match=r"bad\.jsonl:1 is not a dlqctl export record"):
        dlq().replay(bad, None, RedriveOptions(to="orders", select_all=True))


def test_fifo_round_trip_keeps_groups(sqs: Any, tmp_path: Path) -> None:
    fifo = make_pipeline(sqs, "pay", fifo=True)
    for i in range(4):
        sqs.send_message(
            QueueUrl=fifo.dlq_url, MessageBody=json.dumps({"i": i}), MessageGroupId="g"
        )
    archive = tmp_path / "fifo.jsonl"
    assert dlq().export("pay-dlq.fifo", archive, delete=True, select_all=True).deleted == 4
    report = dlq().replay(archive, None, RedriveOptions(to="pay.fifo", select_all=True))
    assert report.sent == 4
    assert [json.loads(m["Body"])["i"] for m in drain(sqs, fifo.source_url)] == [0, 1, 2, 3]


def test_cli_export_purge_replay(
    pipeline: Pipeline, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    seed(pipeline)
    out = tmp_path / "cli.jsonl"
    exported = json.loads(invoke("export", "orders-dlq", "--out", str(out), "-o", "json").stdout)
    assert exported["exported"] == 5
    assert "no terminal to confirm on" in invoke("purge", "orders-dlq", "--all", expect=4).stderr
    assert (
        "refusing to delete without a filter"
        in invoke("purge", "orders-dlq", "--yes", expect=4).stderr
    )
    purged = json.loads(invoke("purge", "orders-dlq", "--all", "--yes", "-o", "json").stdout)
    assert purged["deleted"] == 5 and purged["file"].startswith(
        str(tmp_path / "state" / "dlqctl" / "archive" / "orders-dlq-")
    )
    assert pipeline.counts() == (0, 0)
    replayed = json.loads(
        invoke(
            "replay", purged["file"], "--to", "orders-dlq", "--all", "--yes", "-o", "json"
        ).stdout
    )
    assert replayed["sent"] == 5 and pipeline.counts() == (5, 0)
    assert "pass --to QUEUE" in invoke("replay", str(out), "--all", "--yes", expect=2).stderr
    history = json.loads(invoke("history", "-o", "json").stdout)["runs"]
    assert [run["command"] for run in history][:2] == ["replay", "purge"]


def test_a_confirmed_purge_deletes_no_more_than_the_plan_showed(pipeline: Pipeline) -> None:
    seed(pipeline)  # two Timeout messages

    def confirm(plan: ArchiveReport) -> bool:
        for i in range(5):  # more arrive while the person reads the plan
            pipeline.put_json({"late": i}, "Timeout")
        return plan.selected == 2

    report = dlq().purge("orders-dlq", None, build_filter(error_types=["Timeout"]), confirm=confirm)
    assert report.deleted == 2
    assert pipeline.counts() == (3 + 5, 0)
