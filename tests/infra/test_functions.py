"""The ingest and worker Lambdas and the worker's SQS event source."""

from __future__ import annotations

import importlib
import json
import re
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
    # The layer is the public SSM parameter Powertools publishes for this runtime and
    # architecture, read by CloudFormation at deploy time: no account id in the template.
    [layer] = properties["Layers"]
    parameter = synthesized.raw(env)["Parameters"][layer["Ref"]]
    assert parameter == {
        "Type": "AWS::SSM::Parameter::Value<String>",
        "Default": f"/aws/service/powertools/python/arm64/{properties['Runtime']}/"
        f"{synthesized.config(env).powertools_layer}",
    }
    assert properties["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"] == spec.SERVICE_NAME


def test_the_template_keeps_no_account_id(synthesized: Synthesized, env: str) -> None:
    """Accounts come from AWS::AccountId at deploy time, the layer's from SSM."""
    assert not re.findall(r"\b\d{12}\b", json.dumps(synthesized.raw(env)))


def test_worker_reserves_concurrency_only_where_configured_and_has_its_settings(
    synthesized: Synthesized, env: str
) -> None:
    config = synthesized.config(env)
    worker = function(synthesized, env, "worker")
    assert worker.get("ReservedConcurrentExecutions") == config.worker_reserved_concurrency
    assert "ReservedConcurrentExecutions" not in function(synthesized, env, "ingest")
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
    reserved = config.worker_reserved_concurrency
    assert reserved is None or config.worker_max_concurrency <= reserved


def test_each_function_has_its_own_role(synthesized: Synthesized, env: str) -> None:
    roles = {
        function(synthesized, env, name)["Role"]["Fn::GetAtt"][0] for name in ("ingest", "worker")
    }
    assert len(roles) == 2
    for role in roles:
        properties = synthesized.raw(env)["Resources"][role]["Properties"]
        assert "ManagedPolicyArns" not in properties, "no AWS managed policies on function roles"


def test_both_functions_and_both_stacks_share_one_code_asset_with_the_handlers(
    synthesized: Synthesized,
) -> None:
    [root] = [p for p in synthesized.outdir.glob("asset.*") if p.is_dir()]
    for handler in (functions.INGEST_HANDLER, functions.WORKER_HANDLER):
        module = handler.rsplit(".", 1)[0]
        assert (root / Path(*module.split(".")).with_suffix(".py")).is_file()
    codes = {
        json.dumps(function(synthesized, env, name)["Code"], sort_keys=True)
        for env in ("dev", "prod")
        for name in ("ingest", "worker")
    }
    assert len(codes) == 1


@pytest.mark.parametrize("handler", [functions.INGEST_HANDLER, functions.WORKER_HANDLER])
def test_handler_strings_name_real_callables(handler: str) -> None:
    module, attribute = handler.rsplit(".", 1)
    pytest.importorskip("aws_lambda_powertools")
    assert callable(getattr(importlib.import_module(module), attribute))
