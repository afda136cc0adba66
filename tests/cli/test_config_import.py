"""`dlqctl config import-stack`: a deployed stack's outputs become a named pipeline."""

import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from dlqctl.pipeline import spec

from ..conftest import REGION, Pipeline, invoke


def deploy(outputs: dict[str, Any]) -> None:
    """A stack in moto's CloudFormation whose outputs name the pipeline's resources."""
    template = {
        "Resources": {"Marker": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "marker"}}},
        "Outputs": {key: {"Value": value} for key, value in outputs.items()},
    }
    boto3.client("cloudformation", region_name=REGION).create_stack(
        StackName="DlqPipeline-dev", TemplateBody=json.dumps(template)
    )


def test_import_then_use_the_pipeline(
    pipeline: Pipeline, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "dlqctl.toml").write_text(
        '[defaults]\nmax_scan = 500\n\n[pipelines.dev]\ndlq = "old"\n'
    )
    deploy(
        {
            spec.OUTPUT_DLQ_URL: pipeline.dlq_url,
            spec.OUTPUT_MAIN_QUEUE_URL: pipeline.source_url,
            spec.OUTPUT_LEDGER_TABLE: "ledger",
        }
    )
    result = json.loads(
        invoke("config", "import-stack", "DlqPipeline-dev", "--name", "dev", "-o", "json").stdout
    )
    assert result == {
        "pipeline": "dev",
        "config": str(tmp_path / "dlqctl.toml"),  # the project file, which wins
        "dlq": pipeline.dlq_url,
        "source_queue": pipeline.source_url,
        "ledger_table": "ledger",
        "batching_window_s": spec.BATCHING_WINDOW_S,  # the canary waits it out too
        "region": REGION,
    }
    text = (tmp_path / "dlqctl.toml").read_text()
    assert "max_scan = 500" in text and 'dlq = "old"' not in text
    pipeline.put("x")
    report = json.loads(
        invoke("inspect", "--pipeline", "dev", "--ledger-table", "", "-o", "json").stdout
    )
    assert report["queue"]["name"] == "orders-dlq"


def test_missing_stack_and_missing_outputs(
    aws: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert "stack Nope not found" in invoke("config", "import-stack", "Nope", expect=5).stderr
    deploy({"Other": "x"})
    assert (
        "lacks the outputs" in invoke("config", "import-stack", "DlqPipeline-dev", expect=2).stderr
    )
