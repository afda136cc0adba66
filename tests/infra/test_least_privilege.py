"""Least privilege, checked against the code that uses the permissions.

Each role and the operator policy must allow every AWS call its code makes (found by
reading the source, so a new call without a grant fails here) and nothing more than the
documented extras; no Allow has a wildcard action; Resource "*" appears only for actions
AWS cannot scope.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore import xform_name
from infra.components.operator import KEY_ACTIONS

from tests.infra.conftest import REPO_ROOT, Synthesized
from tests.infra.policy_eval import Deployment

SRC = REPO_ROOT / "src" / "dlqctl"
IAM_PREFIX = {
    "sqs": "sqs",
    "dynamodb": "dynamodb",
    "ssm": "ssm",
    "cloudwatch": "cloudwatch",
    "cloudformation": "cloudformation",
}
# SQS authorizes its batch APIs with the single-message actions.
BATCH_ACTIONS = {
    "sqs:SendMessageBatch": "sqs:SendMessage",
    "sqs:DeleteMessageBatch": "sqs:DeleteMessage",
    "sqs:ChangeMessageVisibilityBatch": "sqs:ChangeMessageVisibility",
}
# Actions that AWS offers no resource-level permission for.
UNSCOPABLE = {"xray:PutTraceSegments", "xray:PutTelemetryRecords", "cloudwatch:GetMetricData"}


@cache
def operations(service: str) -> dict[str, str]:
    model = botocore.session.get_session().get_service_model(service)
    return {xform_name(name): name for name in model.operation_names}


def calls_in(paths: Iterable[Path]) -> set[str]:
    """IAM actions for every boto3 operation the source calls: client.method(...),
    get_paginator("method"), or the operation's API name as a string constant."""
    found = set()
    for path in paths:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                names.add(node.func.attr)
                if node.func.attr == "get_paginator" and node.args:
                    first = node.args[0]
                    if isinstance(first, ast.Constant) and isinstance(first.value, str):
                        names.add(first.value)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                names.add(node.value)
        for service, prefix in IAM_PREFIX.items():
            ops = operations(service)
            api_names = set(ops.values())
            for name in names:
                if name in ops:
                    found.add(f"{prefix}:{ops[name]}")
                elif name in api_names:
                    found.add(f"{prefix}:{name}")
    return {BATCH_ACTIONS.get(action, action) for action in found}


def statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in document["Statement"] if s["Effect"] == "Allow"]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def role_actions(synthesized: Synthesized, env: str, function_name: str) -> set[str]:
    prefix = synthesized.config(env).prefix
    function = synthesized.one(
        env, "AWS::Lambda::Function", FunctionName=f"{prefix}-dlq-pipeline-{function_name}"
    )
    role = function["Role"]["Fn::GetAtt"][0]
    actions = set()
    for policy in synthesized.resources(env, "AWS::IAM::Policy").values():
        if {"Ref": role} in policy["Properties"]["Roles"]:
            for statement in statements(policy["Properties"]["PolicyDocument"]):
                actions.update(as_list(statement["Action"]))
    return actions


def all_allow_statements(synthesized: Synthesized, env: str) -> list[dict[str, Any]]:
    found = []
    for type_ in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
        for resource in synthesized.resources(env, type_).values():
            found += statements(resource["Properties"]["PolicyDocument"])
    return found


def test_no_allow_statement_has_a_wildcard_action(synthesized: Synthesized, env: str) -> None:
    for statement in all_allow_statements(synthesized, env):
        for action in as_list(statement["Action"]):
            assert "*" not in action, f"wildcard action {action} in {statement}"


def test_resource_star_only_for_actions_aws_cannot_scope(
    synthesized: Synthesized, env: str
) -> None:
    for statement in all_allow_statements(synthesized, env):
        if "*" in as_list(statement["Resource"]):
            assert set(as_list(statement["Action"])) <= UNSCOPABLE, statement


INGEST_SOURCES = ["pipeline/ingest.py"]
WORKER_SOURCES = ["pipeline/worker.py", "pipeline/ledger.py", "pipeline/failure_modes.py"]
# Allowed beyond what the handler code calls, and why.
WORKER_EXTRAS = {
    # Lambda's event source mapping polls with the function's role: these three, as AWS
    # documents for an SQS event source.
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
}
RUNTIME = {
    "logs:CreateLogStream",
    "logs:PutLogEvents",
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
}
KMS_FOR_DATA = {"kms:Decrypt", "kms:GenerateDataKey"}


@pytest.mark.parametrize(
    ("name", "sources", "extras"),
    [("ingest", INGEST_SOURCES, set()), ("worker", WORKER_SOURCES, WORKER_EXTRAS)],
)
def test_function_role_allows_what_its_code_calls_and_no_more(
    synthesized: Synthesized, env: str, name: str, sources: list[str], extras: set[str]
) -> None:
    needed = calls_in(SRC / source for source in sources)
    assert needed, f"found no AWS calls in {sources}"
    granted = role_actions(synthesized, env, name)
    assert needed <= granted, f"{name} calls {sorted(needed - granted)} without a grant"
    allowed = needed | extras | RUNTIME | KMS_FOR_DATA
    assert granted <= allowed, f"{name} may {sorted(granted - allowed)} but never does"
    kms = {a for a in granted if a.startswith("kms:")}
    assert bool(kms) == synthesized.config(env).customer_managed_keys


def operator_statements(synthesized: Synthesized, env: str) -> list[dict[str, Any]]:
    policy = synthesized.one(env, "AWS::IAM::ManagedPolicy")
    assert (
        policy["ManagedPolicyName"]
        == f"{synthesized.config(env).prefix}-dlq-pipeline-dlqctl-operator"
    )
    return statements(policy["PolicyDocument"])


# In the operator policy beyond what src/dlqctl/aws/ calls today, and why.
OPERATOR_EXTRAS = {
    "dynamodb:GetItem",  # single-key ledger reads, part of the operator contract in issue 5
    "cloudformation:DescribeStacks",  # `dlqctl config import-stack` reads this stack's outputs
}


def test_operator_policy_allows_exactly_what_dlqctl_calls(
    synthesized: Synthesized, env: str
) -> None:
    needed = calls_in((SRC / "aws").glob("*.py"))
    granted = {a for s in operator_statements(synthesized, env) for a in as_list(s["Action"])}
    kms = set(KEY_ACTIONS) if synthesized.config(env).customer_managed_keys else set()
    assert needed <= granted, f"dlqctl calls {sorted(needed - granted)} without a grant"
    assert granted == needed | OPERATOR_EXTRAS | kms, sorted(
        granted ^ (needed | OPERATOR_EXTRAS | kms)
    )
    assert {
        "sqs:StartMessageMoveTask",
        "sqs:ListMessageMoveTasks",
        "sqs:CancelMessageMoveTask",
        "sqs:ListDeadLetterSourceQueues",
        "sqs:ChangeMessageVisibility",
        "dynamodb:BatchGetItem",
        "cloudwatch:GetMetricData",
    } <= granted


def test_operator_policy_scopes_each_action_to_this_stack(
    synthesized: Synthesized, env: str
) -> None:
    config = synthesized.config(env)
    dlq = synthesized.logical_id(
        env, "AWS::SQS::Queue", QueueName=f"{config.prefix}-dlq-pipeline-dlq"
    )
    main = synthesized.logical_id(
        env, "AWS::SQS::Queue", QueueName=f"{config.prefix}-dlq-pipeline-main"
    )
    [table] = synthesized.resources(env, "AWS::DynamoDB::Table")
    by_sid = {s["Sid"]: s for s in operator_statements(synthesized, env)}
    assert by_sid["OperateTheDeadLetterQueue"]["Resource"] == {"Fn::GetAtt": [dlq, "Arn"]}
    assert by_sid["RedriveToTheMainQueue"]["Resource"] == {"Fn::GetAtt": [main, "Arn"]}
    assert set(by_sid["RedriveToTheMainQueue"]["Action"]) == {
        "sqs:GetQueueUrl",
        "sqs:GetQueueAttributes",
        "sqs:SendMessage",
    }
    assert by_sid["ReadTheFailureLedger"]["Resource"] == {"Fn::GetAtt": [table, "Arn"]}
    assert by_sid["ImportStackOutputs"]["Resource"] == {"Ref": "AWS::StackId"}
    assert by_sid["ReadQueueMetrics"]["Resource"] == "*"
    list_queues = by_sid["ListQueues"]["Resource"]["Fn::Join"][1]
    assert list_queues[0] == "arn:" and list_queues[-1] == ":*"
    if config.customer_managed_keys:
        assert by_sid["UseThePipelineKey"]["Resource"] == synthesized.key_arn(env)
    else:
        assert "UseThePipelineKey" not in by_sid


def grants(document: dict[str, Any]) -> list[tuple[str, str]]:
    """(action, resource) for every Allow, resources as JSON so references compare."""
    return [
        (action, json.dumps(resource, sort_keys=True))
        for statement in statements(document)
        for action in as_list(statement["Action"])
        for resource in as_list(statement["Resource"])
    ]


def test_no_policy_grants_the_same_action_on_the_same_resource_twice(
    synthesized: Synthesized, env: str
) -> None:
    """Per role (all its policies together), per managed policy and in the key policy: a
    second grant of the same thing is either dead or hides one that is less scoped."""
    documents: dict[str, list[tuple[str, str]]] = {}
    for resource in synthesized.resources(env, "AWS::IAM::Policy").values():
        for role in resource["Properties"]["Roles"]:
            key = json.dumps(role)
            documents[key] = documents.get(key, []) + grants(
                resource["Properties"]["PolicyDocument"]
            )
    for logical_id, resource in synthesized.resources(env, "AWS::IAM::ManagedPolicy").items():
        documents[logical_id] = grants(resource["Properties"]["PolicyDocument"])
    for logical_id, resource in synthesized.resources(env, "AWS::KMS::Key").items():
        # A key policy speaks to several principals: a grant repeats only for the same one.
        policy = resource["Properties"]["KeyPolicy"]
        for statement in policy["Statement"]:
            key = f"{logical_id} to {json.dumps(statement['Principal'], sort_keys=True)}"
            documents[key] = documents.get(key, []) + grants({**policy, "Statement": [statement]})
    for name, granted in documents.items():
        assert len(granted) == len(set(granted)), f"{name} grants {sorted(granted)}"


# Who uses the stack's key, and through which services only (kms:ViaService).
KEY_USERS = {"ingest": {"sqs"}, "worker": {"sqs", "dynamodb"}, "operator": {"sqs", "dynamodb"}}


def key_statements(synthesized: Synthesized, env: str) -> dict[str, list[dict[str, Any]]]:
    key_arn = synthesized.key_arn(env)
    prefix = synthesized.config(env).prefix
    found: dict[str, list[dict[str, Any]]] = {}
    for name in ("ingest", "worker"):
        function = synthesized.one(
            env, "AWS::Lambda::Function", FunctionName=f"{prefix}-dlq-pipeline-{name}"
        )
        for policy in synthesized.resources(env, "AWS::IAM::Policy").values():
            if {"Ref": function["Role"]["Fn::GetAtt"][0]} in policy["Properties"]["Roles"]:
                found[name] = [
                    s
                    for s in statements(policy["Properties"]["PolicyDocument"])
                    if key_arn in as_list(s["Resource"])
                ]
    found["operator"] = [
        s for s in operator_statements(synthesized, env) if key_arn in as_list(s["Resource"])
    ]
    return found


def test_the_key_is_used_only_through_the_services_that_hold_the_data(
    synthesized: Synthesized, env: str
) -> None:
    found = key_statements(synthesized, env)
    if not synthesized.config(env).customer_managed_keys:
        assert all(not statements for statements in found.values())
        return
    deployment = Deployment(synthesized.raw(env))
    for user, services in KEY_USERS.items():
        assert found[user], f"{user} needs the key"
        for statement in found[user]:
            via = deployment.resolve(statement["Condition"]["StringEquals"]["kms:ViaService"])
            expected = {f"{service}.{deployment.region}.amazonaws.com" for service in services}
            assert set(as_list(via)) == expected, user
