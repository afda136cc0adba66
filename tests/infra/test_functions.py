"""The ingest and worker Lambdas and the worker's SQS event source."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from aws_cdk.assertions import Match
from infra.components import functions
from infra.config import INGEST_TIMEOUT_S

from dlqctl.pipeline import spec
from tests.infra.conftest import Synthesized


def function(synthesized: Synthesized, env: str, name: str) -> dict:
    prefix = synthesized.config(env).prefix
    return synthesized.one(
        env, "AWS::Lambda::Function", FunctionName=f"{prefix}-dlq-pipeline-{name}"
    )


@pytest.mark.parametrize(
    ("name", "handler", "timeout"),
    [
        ("ingest", functions.INGEST_HANDLER, INGEST_TIMEOUT_S),
        ("worker", functions.WORKER_HANDLER, spec.WORKER_TIMEOUT_S),
    ],
)
def test_functions_run_arm64_python_with_tracing_json_logs_and_the_powertools_layer(
    synthesized: Synthesized, env: str, name: str, handler: str, timeout: int
) -> None:
    properties = function(synthesized, env, name)
    assert properties["Architectures"] == ["arm64"]
    assert properties["Runtime"] in ("python3.12", "python3.13")
    assert properties["Handler"] == handler
    assert properties["Timeout"] == timeout
    assert properties["TracingConfig"] == {"Mode": "Active"}
    logging = properties["LoggingConfig"]
    assert logging["LogFormat"] == "JSON"
    assert logging["SystemLogLevel"] == "INFO"
    log_group = synthesized.raw(env)["Resources"][logging["LogGroup"]["Ref"]]
    assert log_group["Properties"]["RetentionInDays"] == synthesized.config(env).log_retention_days
    assert log_group["Properties"]["LogGroupName"] == f"/aws/lambda/{properties['FunctionName']}"
    [layer] = properties["Layers"]
    arn = "".join(part if isinstance(part, str) else "{}" for part in layer["Fn::Join"][1])
    version = synthesized.config(env).powertools_layer_version
    assert arn.endswith(
        f":017000801446:layer:AWSLambdaPowertoolsPythonV3-"
        f"{properties['Runtime'].replace('.', '')}-arm64:{version}"
    )
    assert properties["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"] == spec.SERVICE_NAME


def test_worker_has_reserved_concurrency_and_its_settings(
    synthesized: Synthesized, env: str
) -> None:
    config = synthesized.config(env)
    worker = function(synthesized, env, "worker")
    assert worker["ReservedConcurrentExecutions"] == config.worker_reserved_concurrency
    variables = worker["Environment"]["Variables"]
    assert variables[spec.ENV_LEDGER_TABLE] == {
        "Ref": synthesized.logical_id(env, "AWS::DynamoDB::Table")
    }
    assert variables[spec.ENV_FAILURE_MODE_PARAMETER] == {
        "Ref": synthesized.logical_id(env, "AWS::SSM::Parameter")
    }
    assert variables[spec.ENV_LEDGER_TTL_DAYS] == str(spec.LEDGER_TTL_DAYS)
    ingest = function(synthesized, env, "ingest")
    assert ingest["Environment"]["Variables"][spec.ENV_QUEUE_URL] == {
        "Ref": synthesized.logical_id(
            env, "AWS::SQS::Queue", QueueName=f"{config.prefix}-{spec.MAIN_QUEUE_NAME}"
        )
    }


def test_worker_event_source_batches_caps_concurrency_and_reports_partial_failures(
    synthesized: Synthesized, env: str
) -> None:
    config = synthesized.config(env)
    synthesized.template(env).has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {
            "EventSourceArn": {
                "Fn::GetAtt": [
                    synthesized.logical_id(
                        env, "AWS::SQS::Queue", QueueName=f"{config.prefix}-{spec.MAIN_QUEUE_NAME}"
                    ),
                    "Arn",
                ]
            },
            "FunctionName": {"Ref": Match.string_like_regexp("Worker")},
            "BatchSize": spec.BATCH_SIZE,
            "MaximumBatchingWindowInSeconds": spec.BATCHING_WINDOW_S,
            "ScalingConfig": {"MaximumConcurrency": config.worker_max_concurrency},
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
        },
    )
    assert config.worker_max_concurrency <= config.worker_reserved_concurrency


def test_each_function_has_its_own_role(synthesized: Synthesized, env: str) -> None:
    roles = {
        function(synthesized, env, name)["Role"]["Fn::GetAtt"][0] for name in ("ingest", "worker")
    }
    assert len(roles) == 2
    for role in roles:
        properties = synthesized.raw(env)["Resources"][role]["Properties"]
        assert "ManagedPolicyArns" not in properties, "no AWS managed policies on function roles"


def test_code_asset_is_the_dlqctl_package_without_cli_lab_or_build_litter(
    synthesized: Synthesized,
) -> None:
    assets = [p for p in synthesized.outdir.glob("asset.*") if p.is_dir()]
    assert len(assets) == 1, "both functions and both stacks share one code asset"
    root = assets[0]
    for handler in (functions.INGEST_HANDLER, functions.WORKER_HANDLER):
        module = handler.rsplit(".", 1)[0]
        assert (root / Path(*module.split(".")).with_suffix(".py")).is_file()
    assert (root / "dlqctl" / "pipeline" / "spec.py").is_file()
    present = {p.relative_to(root).as_posix() for p in root.rglob("*")}
    assert not [p for p in present if "__pycache__" in p or p.endswith(".pyc")]
    assert not [p for p in present if p.startswith(("dlqctl/cli", "dlqctl/lab", "dlqctl.egg-info"))]


@pytest.mark.parametrize("handler", [functions.INGEST_HANDLER, functions.WORKER_HANDLER])
def test_handler_strings_name_real_callables(handler: str) -> None:
    module, attribute = handler.rsplit(".", 1)
    pytest.importorskip("aws_lambda_powertools")
    assert callable(getattr(importlib.import_module(module), attribute))
