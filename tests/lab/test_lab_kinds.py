"""`lab demo --scenario kinds`: a Lambda async DLQ and an EventBridge rule's DLQ, filled
as AWS fills them, inspected and redriven to where they failed, at 80 columns."""

import json
import re

import pytest

from .test_lab import home, run

pytestmark = pytest.mark.e2e

__all__ = ["home"]  # the fixture, used by name


def test_kinds_demo_sends_each_message_where_it_failed(home: dict[str, str]) -> None:
    result = run({**home, "COLUMNS": "80"}, "lab", "demo", "--scenario", "kinds", timeout=180)
    out = result.stdout
    assert all(len(line) <= 80 for line in out.splitlines()), "a line is wider than 80"
    # inspect named each kind, its target and its error types with their source
    assert "lambda-async" in out and "function:lab-resize-images" in out
    assert "eventbridge-rule" in out and "arn:aws:sqs:us-east-1:123456789012:lab-billing" in out
    assert "from ErrorMessage" in out and "from ERROR_CODE" in out
    assert "canary: the function's verdict: it took every canary (1)" in out
    summary = " ".join(out.split()[-20:])
    found = re.search(r"(\d+) invocations replayed, (\d+) events delivered, (\d+) left", summary)
    assert found is not None, summary
    assert found.groups() == ("6", "6", "0")
    assert "lab down: nothing left running" in out


def test_kinds_demo_reports_json_for_scripts(home: dict[str, str]) -> None:
    result = run(home, "lab", "demo", "--scenario", "kinds", "-o", "json", timeout=180)
    summary = json.loads(result.stdout)
    assert (summary["invoked"], summary["delivered"], summary["left_in_dlqs"]) == (6, 6, 0)
