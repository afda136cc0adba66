"""Bad input gets one line naming what to do and the contract's exit code (2)."""

import json
from pathlib import Path

from ..conftest import Pipeline, invoke


def one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]


def test_an_endpoint_that_is_not_a_url(pipeline: Pipeline) -> None:
    line = one_line(invoke("queues", "--endpoint-url", "not-a-url", expect=2).stderr)
    assert "'not-a-url' is not a URL" in line and "http://127.0.0.1" in line


def test_a_journal_that_is_a_directory(tmp_path: Path) -> None:
    line = one_line(invoke("history", "--journal", str(tmp_path), expect=2).stderr)
    assert "is a directory: pass the journal file" in line


def test_unreadable_journal_lines_are_counted_not_hidden(tmp_path: Path) -> None:
    journal = tmp_path / "journal.jsonl"
    record = {"run_id": "r1", "kind": "start", "time": "2026-12-01T00:00:00+00:00"}
    journal.write_text(json.dumps(record) + "\nnot json\n[1, 2]\n" + '{"torn": ')
    result = invoke("history", "--journal", str(journal), "-o", "json")
    assert json.loads(result.stdout)["unreadable_lines"] == 3
    assert "3 lines of" in result.stderr and "skipped" in result.stderr


def test_an_export_into_a_missing_directory(pipeline: Pipeline, tmp_path: Path) -> None:
    pipeline.put("x")
    target = tmp_path / "missing" / "out.jsonl"
    line = one_line(invoke("export", "orders-dlq", "--out", str(target), expect=2).stderr)
    assert f"the directory {target.parent} does not exist" in line
    assert not target.parent.exists()
    pipeline.assert_untouched(1)


def test_an_arn_of_another_account_never_reaches_this_accounts_queue(pipeline: Pipeline) -> None:
    pipeline.put("x")
    other = "arn:aws:sqs:us-east-1:999999999999:orders-dlq"  # moto's own account is 123…
    result = invoke("peek", other, expect=5)
    line = one_line(result.stderr)
    assert "account 999999999999 not found" in line and "123456789012" in line
    pipeline.assert_untouched(1)
