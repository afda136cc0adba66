"""The tables through the CLI at 80 and 120 columns (COLUMNS pins Rich's width), in a
pipe, and with --wide: no identifier is ever cut, no line is wider than the terminal."""

import json
from typing import Any

import pytest

from dlqctl.api import Dlqctl
from dlqctl.models import MoveTask

from ..conftest import Pipeline, invoke, invoke_json, make_pipeline
from ..unit.test_render import DLQ, ERROR, LONG_QUEUE, REASON, SOURCE, WIDTHS, assert_fits

STARTED = "2027-01-15T08:00:00.123456Z"


@pytest.fixture
def long_pipeline(sqs: Any) -> Pipeline:
    """A DLQ whose name is SQS's longest (80 characters), with messages of two types."""
    pipeline = make_pipeline(sqs, SOURCE)
    assert pipeline.dlq_url.endswith(DLQ)
    for n in range(3):
        pipeline.put_json(
            {"order": {"id": f"o-{n}"}, "customer": {"email": "ann@example.com"}}, ERROR
        )
    pipeline.put_json({"order": {"id": "o-9"}}, "Timeout")
    return pipeline


def at(width: int, *args: str) -> str:
    return str(invoke(*args, env={"COLUMNS": str(width)}).stdout)


def message_ids(error_type: str | None = None) -> list[str]:
    found = invoke_json("peek", DLQ, "--no-body")["messages"]
    return [m["message_id"] for m in found if error_type in (None, m["error_type"])]


@pytest.mark.parametrize("width", WIDTHS)
def test_looks_fit_whole(long_pipeline: Pipeline, width: int) -> None:
    ids = message_ids()
    assert_fits(at(width, "queues"), width, [DLQ, SOURCE])
    assert_fits(at(width, "inspect", DLQ), width, [DLQ, SOURCE, ERROR, "Timeout"])
    peeked = at(width, "peek", DLQ)
    # The bodies are not squeezed into a narrow column: their lines are whole too.
    assert_fits(peeked, width, [DLQ, ERROR, *ids, '"email": "ann@example.com"'])
    assert_fits(at(width, "peek", DLQ, "--no-body"), width, [DLQ, ERROR, *ids])
    long_pipeline.assert_untouched(4)


@pytest.mark.parametrize("width", WIDTHS)
def test_redrive_plan_and_history_fit_whole(
    long_pipeline: Pipeline, width: int, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    ids = message_ids(ERROR)
    plan = at(width, "redrive", DLQ, "--error-type", ERROR, "--dry-run")
    assert_fits(plan, width, [DLQ, SOURCE, ERROR, *ids])
    report = invoke_json("redrive", DLQ, "--error-type", ERROR, "--yes")
    # (The journal's command line is the test runner's: sys.argv.)
    assert_fits(at(width, "history"), width, [report["run_id"], DLQ, SOURCE])


@pytest.mark.parametrize("width", WIDTHS)
def test_move_task_status_keeps_the_start_time_and_failure_whole(
    monkeypatch: pytest.MonkeyPatch, width: int
) -> None:
    task = MoveTask(
        task_handle="h1",
        status="FAILED",
        source=LONG_QUEUE.arn,
        destination=None,
        rate=None,
        moved=10,
        to_move=42,
        failure_reason=REASON,
        started_at=STARTED,
    )
    monkeypatch.setattr(Dlqctl, "move_tasks", lambda self, queue: (LONG_QUEUE, [task]))
    assert_fits(at(width, "move-task", "status", DLQ), width, [DLQ, STARTED], [REASON])


def test_a_pipe_gets_whole_rows_not_80_columns(
    long_pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("COLUMNS")
    out = invoke("peek", DLQ, "--no-body").stdout
    ids = message_ids(ERROR)
    # One row a message, as a table: each id on the same line as its error type.
    assert all(any(i in line and ERROR in line for line in out.splitlines()) for i in ids)
    assert max(len(line) for line in out.splitlines()) > 80


def test_wide_lays_tables_out_whole_past_the_terminal(
    long_pipeline: Pipeline, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))

    def rows(*args: str) -> list[str]:
        lines = at(80, *args, "--wide").splitlines()
        assert max(len(line) for line in lines) > 80
        return lines

    assert any(DLQ in line and SOURCE in line for line in rows("queues"))
    [types] = [t for t in invoke_json("inspect", DLQ)["by_error_type"] if t["error_type"] == ERROR]
    assert any(ERROR in line and types["sample_ids"][0] in line for line in rows("inspect", DLQ))
    invoke("redrive", DLQ, "--error-type", "Timeout", "--yes")
    [run] = json.loads(invoke("history", "-o", "json").stdout)["runs"]
    assert any(run["started_at"] in line and run["run_id"] in line for line in rows("history"))
    refreshes = at(80, "watch", DLQ, "--count", "2", "--interval", "1s", "--wide")
    assert refreshes.count("dlqctl watch") == 2  # printed one below the other
