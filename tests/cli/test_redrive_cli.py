"""`dlqctl redrive` through Typer's runner: prompts, formats and exit codes 3 and 4."""

import json
from typing import Any

import pytest

from dlqctl.cli import moving as redrive_command

from ..conftest import Pipeline, invoke


def seed(pipeline: Pipeline) -> None:
    for i in range(6):
        pipeline.put_json({"order": i}, "Timeout")
    pipeline.put_json({"order": 99}, "PoisonPayloadError")


@pytest.fixture
def journal(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    return tmp_path / "state" / "dlqctl" / "journal.jsonl"


def test_dry_run_table_and_json(pipeline: Pipeline, journal: Any) -> None:
    seed(pipeline)
    out = invoke("redrive", "orders-dlq", "--error-type", "Timeout", "--dry-run").stdout
    assert "PLAN (dry run)" in out and "6 messages would move: Timeout 6" in out
    plan = json.loads(
        invoke("redrive", "orders-dlq", "--error-type", "Timeout", "--dry-run", "-o", "json").stdout
    )
    assert plan["dry_run"] is True and len(plan["planned"]) == 6 and plan["sent"] == 0
    lines = invoke(
        "redrive", "orders-dlq", "--error-type", "Timeout", "--dry-run", "-o", "ndjson"
    ).stdout.splitlines()
    assert len(lines) == 6 and all(json.loads(line)["error_type"] == "Timeout" for line in lines)
    pipeline.assert_untouched(7)
    assert not journal.exists()


def test_yes_moves_and_reports(pipeline: Pipeline, journal: Any) -> None:
    seed(pipeline)
    report = json.loads(
        invoke("redrive", "orders-dlq", "--error-type", "Timeout", "--yes", "-o", "json").stdout
    )
    assert (report["selected"], report["sent"], report["deleted"], report["failed"]) == (
        6,
        6,
        6,
        [],
    )
    assert pipeline.counts() == (1, 0) and pipeline.counts(pipeline.source_url) == (6, 0)
    assert journal.exists()
    history = invoke("history", "-o", "json").stdout
    [run] = json.loads(history)["runs"]
    assert (run["run_id"], run["moved"], run["outcome"]) == (report["run_id"], 6, "complete")
    assert report["run_id"] in invoke("history").stdout


def test_confirmation_prompt(
    pipeline: Pipeline, journal: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(redrive_command, "can_prompt", lambda: True)
    seed(pipeline)
    from typer.testing import CliRunner

    from dlqctl.cli.app import app

    declined = CliRunner().invoke(
        app, ["redrive", "orders-dlq", "--error-type", "Timeout"], input="n\n"
    )
    assert declined.exit_code == 4 and "not confirmed: nothing was changed" in declined.stderr
    assert "Redrive up to 6 messages?" in declined.stderr
    pipeline.assert_untouched(7)
    accepted = CliRunner().invoke(
        app, ["redrive", "orders-dlq", "--error-type", "Timeout"], input="y\n"
    )
    assert accepted.exit_code == 0, accepted.stderr
    assert "sent 6 · deleted 6" in accepted.stdout
    assert pipeline.counts() == (1, 0)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["orders-dlq", "--error-type", "Timeout"], "no terminal to confirm on: pass --yes"),
        (["orders-dlq", "--yes"], "refusing to redrive without a filter"),
        (["orders-dlq", "--all", "--max-messages", "5000", "--yes"], "add --force"),
        (["orders-dlq", "--all", "--to", "orders-dlq", "--yes"], "is the DLQ itself"),
    ],
)
def test_4_refused(pipeline: Pipeline, journal: Any, args: list[str], message: str) -> None:
    seed(pipeline)
    result = invoke("redrive", *args, expect=4)
    assert message in result.stderr and result.stderr.count("\n") == 1
    pipeline.assert_untouched(7)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--batch-size", "11"], "--batch-size must be 1 to 10"),
        (["--jitter", "20m"], "--jitter must be between 0s and 15m"),
        (["--jitter", "soon"], "invalid duration 'soon'"),
        (["--canary", "2", "--canary-wait", "x"], "invalid duration 'x'"),
    ],
)
def test_2_usage(pipeline: Pipeline, journal: Any, args: list[str], message: str) -> None:
    seed(pipeline)
    assert message in invoke("redrive", "orders-dlq", "--all", "--yes", *args, expect=2).stderr
    pipeline.assert_untouched(7)


def test_3_partial_when_some_messages_stay(pipeline: Pipeline, journal: Any) -> None:
    pipeline.sqs.create_queue(QueueName="small", Attributes={"MaximumMessageSize": "1024"})
    pipeline.put("x" * 2000, "Timeout")
    pipeline.put("fits", "Timeout")
    result = invoke("redrive", "orders-dlq", "--all", "--to", "small", "--yes", expect=3)
    assert "Not moved (still in the DLQ)" in result.stdout and "refused" in result.stdout
    assert pipeline.counts() == (1, 0)


def test_nothing_matched_is_fine(pipeline: Pipeline, journal: Any) -> None:
    seed(pipeline)
    result = invoke("redrive", "orders-dlq", "--error-type", "Nope", "--yes")
    assert "nothing to redrive" in result.stderr
    pipeline.assert_untouched(7)


def test_purge_dry_run_shows_the_plan_and_changes_nothing(
    pipeline: Pipeline, journal: Any, tmp_path: Any
) -> None:
    seed(pipeline)
    archive = tmp_path / "purged.jsonl"
    shown = invoke("purge", "orders-dlq", "--all", "--archive", str(archive), "--dry-run")
    assert "DELETE PLAN" in shown.stdout
    assert f"7 messages would be deleted (archived in {archive})" in shown.stdout
    assert "Timeout 6, PoisonPayloadError 1" in shown.stdout
    assert "oldest " in shown.stdout and "newest " in shown.stdout
    plan = json.loads(invoke("purge", "orders-dlq", "--all", "--dry-run", "-o", "json").stdout)
    assert (plan["dry_run"], plan["selected"], plan["deleted"]) == (True, 7, 0)
    assert plan["summary"]["by_error_type"] == {"Timeout": 6, "PoisonPayloadError": 1}
    assert len(plan["planned"]) == 7
    lines = invoke(
        "purge", "orders-dlq", "--error-type", "Timeout", "--dry-run", "-o", "ndjson"
    ).stdout.splitlines()
    assert [json.loads(line)["error_type"] for line in lines] == ["Timeout"] * 6
    pipeline.assert_untouched(7)
    assert not archive.exists() and not journal.exists()


def test_purge_prompt_breaks_the_selection_down_by_error_type_and_age(
    pipeline: Pipeline, journal: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from dlqctl.cli.app import app
    from dlqctl.cli.commands import export as export_command

    monkeypatch.setattr(export_command, "can_prompt", lambda: True)
    seed(pipeline)
    declined = CliRunner().invoke(
        app, ["purge", "orders-dlq", "--all", "--no-archive", "-o", "json"], input="n\n"
    )
    assert declined.exit_code == 4, declined.stderr
    assert "7 messages would be deleted (with no archive): Timeout 6, PoisonPayloadError 1" in (
        declined.stderr
    )
    assert "oldest " in declined.stderr and "Delete up to 7 messages" in declined.stderr
    # The plan went with the question, not into the JSON (the runner echoes the answer).
    assert declined.stdout.strip() == "n"
    pipeline.assert_untouched(7)
    accepted = CliRunner().invoke(
        app, ["purge", "orders-dlq", "--error-type", "Timeout", "--no-archive"], input="y\n"
    )
    assert accepted.exit_code == 0, accepted.stderr
    assert "Timeout 6" in accepted.stderr and "deleted 6" in accepted.stdout
    assert pipeline.counts() == (1, 0)
