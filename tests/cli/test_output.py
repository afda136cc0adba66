"""Output formats and the conventions people and scripts rely on."""

import io
import json
from typing import Any

import pytest
from rich.console import Console
from rich.text import Text

from dlqctl import __version__
from dlqctl.cli import output as output_module
from dlqctl.cli.output import Output, OutputFormat

from ..conftest import MESSAGE_CONTRACT_FIELDS, Pipeline, invoke, invoke_json


def seed(pipeline: Pipeline) -> None:
    pipeline.put_json({"order": 1, "customer": {"email": "ann@example.com"}}, "Timeout")
    pipeline.put_json({"order": 2}, "Timeout")
    pipeline.put_json({"order": 3, "poison": True}, "PoisonPayloadError")


def test_version() -> None:
    assert invoke("--version").stdout.strip() == f"dlqctl {__version__}"


def test_help_has_examples_for_every_command() -> None:
    for command in ("queues", "inspect", "peek", "watch"):
        assert "Examples" in invoke(command, "--help").stdout


def test_inspect_json_is_one_document_in_snake_case(pipeline: Pipeline) -> None:
    seed(pipeline)
    report = invoke_json("inspect", "orders-dlq")
    assert {t["error_type"]: t["count"] for t in report["by_error_type"]} == {
        "Timeout": 2,
        "PoisonPayloadError": 1,
    }
    assert report["coverage"] == {
        "scanned": 3,
        "approximate_depth": 3,
        "complete": True,
        "stopped_because": "reached approximate depth",
        "highest_receive_count": 1,
        "unevaluated": 0,
        "unevaluated_because": {},
    }
    assert set(report) >= {
        "queue",
        "coverage",
        "by_error_type",
        "age_buckets",
        "receive_counts",
        "sources",
        "expiring_within_24h",
        "warnings",
    }
    pipeline.assert_untouched(3)


def test_peek_ndjson_is_one_message_a_line(pipeline: Pipeline) -> None:
    seed(pipeline)
    result = invoke(
        "peek",
        "orders-dlq",
        "-o",
        "ndjson",
        "--redact",
        "customer.email",
        "--error-type",
        "Timeout",
    )
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert sorted(m["body"]["order"] for m in lines) == [1, 2]
    assert "ann@example.com" not in result.stdout
    assert "scanned 3 of ~3; 2 matched" in result.stderr
    pipeline.assert_untouched(3)


def test_peek_json_fields_match_the_contract(pipeline: Pipeline) -> None:
    seed(pipeline)
    document = invoke_json("peek", "orders-dlq", "-n", "1", "--no-body")
    [message] = document["messages"]
    assert message["body"] is None
    assert set(MESSAGE_CONTRACT_FIELDS) <= set(message)
    assert document["matched"] == 3
    pipeline.assert_untouched(3)


def test_peek_table_redacts_and_shows_types(pipeline: Pipeline) -> None:
    seed(pipeline)
    out = invoke("peek", "orders-dlq", "--redact", "customer.email").stdout
    assert "Timeout (attribute)" in out and "***REDACTED***" in out
    assert "ann@example.com" not in out
    pipeline.assert_untouched(3)


def test_queues_json_and_ndjson(pipeline: Pipeline) -> None:
    seed(pipeline)
    assert [q["name"] for q in invoke_json("queues")["queues"]] == ["orders-dlq"]
    lines = invoke("queues", "--all", "-o", "ndjson").stdout.splitlines()
    assert sorted(json.loads(line)["name"] for line in lines) == ["orders", "orders-dlq"]
    assert "Dead-letter queues" in invoke("queues").stdout
    pipeline.assert_untouched(3)


def test_no_dlqs_is_said_on_stderr(aws: None) -> None:
    result = invoke("queues")
    assert result.stdout == "" and "no dead-letter queues found" in result.stderr


def test_watch_streams_snapshots(pipeline: Pipeline) -> None:
    seed(pipeline)
    [line] = invoke("watch", "orders-dlq", "--count", "1", "-o", "ndjson").stdout.splitlines()
    snapshot = json.loads(line)
    assert (snapshot["name"], snapshot["visible"], snapshot["in_flight"]) == ("orders-dlq", 3, 0)
    table = invoke("watch", "orders-dlq", "--count", "1").stdout
    assert "orders-dlq" in table and "Ctrl-C to stop" in table
    pipeline.assert_untouched(3)


def test_watch_uses_the_pipeline_queues(
    pipeline: Pipeline, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "dlqctl.toml").write_text(
        '[pipelines.orders]\ndlq = "orders-dlq"\nsource_queue = "orders"\n'
    )
    monkeypatch.chdir(tmp_path)
    document = invoke_json("watch", "--pipeline", "orders", "--count", "1")
    assert [q["name"] for q in document["queues"]] == ["orders-dlq", "orders"]


def test_pipeline_gives_the_queue_and_its_rules(
    pipeline: Pipeline, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(pipeline)
    (tmp_path / "dlqctl.toml").write_text(
        '[pipelines.orders]\ndlq = "orders-dlq"\nerror_type_attribute = "None"\n'
        '[[pipelines.orders.rules]]\nwhen = "poison"\nerror_type = "Poison"\n'
    )
    monkeypatch.chdir(tmp_path)
    report = invoke_json("inspect", "--pipeline", "orders")
    assert {t["error_type"]: t["sources"] for t in report["by_error_type"]} == {
        "Unknown": ["none"],
        "Poison": ["rule"],
    }
    pipeline.assert_untouched(3)


def test_no_color_is_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Output(OutputFormat.table, no_color=True).console.no_color
    monkeypatch.setenv("NO_COLOR", "1")
    assert Output(OutputFormat.table).err.no_color


@pytest.mark.parametrize(
    ("fmt", "terminal", "shown"),
    [("table", True, True), ("json", True, False), ("table", False, False)],
)
def test_progress_only_for_people_on_a_terminal(
    monkeypatch: pytest.MonkeyPatch, fmt: str, terminal: bool, shown: bool
) -> None:
    monkeypatch.setattr(output_module, "PROGRESS_DELAY_S", 0)
    out = Output(OutputFormat(fmt))
    buffer = io.StringIO()
    out.err = Console(file=buffer, force_terminal=terminal, width=80)
    with out.progress("scanning orders-dlq") as update:
        if update:
            update(5, 10)
    assert (update is not None) is shown
    assert ("scanning orders-dlq" in buffer.getvalue()) is shown


def test_without_a_terminal_or_columns_tables_get_whole_rows(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("COLUMNS")
    monkeypatch.setattr(output_module.sys, "stdout", io.StringIO())  # a pipe, even under -s
    assert Output(OutputFormat.table).console.width == output_module.EDGELESS_WIDTH
    monkeypatch.setenv("COLUMNS", "80")
    assert Output(OutputFormat.table).console.width == 80


def test_wide_prints_past_the_terminal_edge(capsys: pytest.CaptureFixture[str]) -> None:
    out = Output(OutputFormat.table, no_color=True)
    out.console = Console(width=40, no_color=True)  # a narrow terminal
    row = Text("x" * 120)
    out.show(row)
    assert max(map(len, capsys.readouterr().out.splitlines())) == 40
    out.show(row, wide=True)
    assert capsys.readouterr().out.strip() == "x" * 120
