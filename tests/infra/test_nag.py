"""cdk-nag AwsSolutions: no finding is left unacknowledged, and every acknowledgment excuses
a finding that really occurs, with a reason written next to the resource."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from infra.app import build_app
from infra.config import ENVIRONMENTS

from infra import nag
from tests.infra.conftest import Synthesized

ACKNOWLEDGED = "aws:cdk:acknowledged-rules"


def acknowledgments(synthesized: Synthesized) -> dict[tuple[str, str], str]:
    """(construct path, finding id) -> reason, as recorded in the cloud assembly."""
    found = {}
    for env in ENVIRONMENTS:
        name = synthesized.config(env).stack_name
        metadata = json.loads((synthesized.outdir / f"{name}.metadata.json").read_text("utf-8"))
        for path, entries in metadata.items():
            for entry in entries:
                if entry["type"] == ACKNOWLEDGED:
                    for finding, reason in entry["data"].items():
                        found[(path.lstrip("/"), finding.split("::", 1)[1])] = reason
    return found


def findings(report: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (construct["constructPath"], violation["ruleName"])
        for plugin in report["pluginReports"]
        for violation in plugin["violations"]
        for construct in violation["violatingConstructs"]
    }


def test_synth_with_the_awssolutions_pack_reports_nothing(synthesized: Synthesized) -> None:
    report = json.loads((synthesized.outdir / "validation-report.json").read_text("utf-8"))
    assert findings(report) == set()


def test_every_acknowledgment_has_a_reason(synthesized: Synthesized) -> None:
    acknowledged = acknowledgments(synthesized)
    assert acknowledged
    for (path, finding), reason in acknowledged.items():
        assert finding.startswith("AwsSolutions-"), (path, finding)
        assert len(reason) > 40, f"{finding} on {path} needs a real reason"


def test_each_acknowledgment_excuses_a_real_finding_and_covers_them_all(
    synthesized: Synthesized, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(nag, "acknowledge", lambda *args, **kwargs: None)
    app, _ = build_app(ENVIRONMENTS, outdir=str(tmp_path))
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
    raw = findings(json.loads((tmp_path / "validation-report.json").read_text("utf-8")))
    acknowledged = acknowledgments(synthesized)

    def excuses(scope: str, finding: str, path: str, rule: str) -> bool:
        return finding == rule and (path == scope or path.startswith(scope + "/"))

    assert {f for f in raw if not any(excuses(*a, *f) for a in acknowledged)} == set()
    unused = {a for a in acknowledged if not any(excuses(*a, *f) for f in raw)}
    assert unused == set(), "acknowledgments with no finding left to excuse"
