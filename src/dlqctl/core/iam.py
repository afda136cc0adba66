"""The least-privilege IAM policy for running dlqctl against one pipeline.

Exactly the actions dlqctl calls, on exactly the pipeline's resources; `*` only where AWS
allows nothing narrower (ListQueues, CloudWatch GetMetricData), each with its reason.
Batch APIs are authorized by their single-message action (SendMessageBatch by
sqs:SendMessage, and so on), so they need no entries of their own.
"""

from __future__ import annotations

from typing import Any

from dlqctl.aws.session import AwsSession
from dlqctl.core.queue_ref import parse_queue_ref, service_of
from dlqctl.core.queues import describe, open_queue
from dlqctl.errors import UsageError

READ_DLQ = [
    "sqs:GetQueueUrl",
    "sqs:GetQueueAttributes",
    "sqs:ListDeadLetterSourceQueues",
    "sqs:ReceiveMessage",
    "sqs:ChangeMessageVisibility",
]
CHANGE_DLQ = [
    "sqs:DeleteMessage",
    "sqs:StartMessageMoveTask",
    "sqs:ListMessageMoveTasks",
    "sqs:CancelMessageMoveTask",
]
WRITE_TARGET = ["sqs:GetQueueUrl", "sqs:GetQueueAttributes", "sqs:SendMessage"]
# The other targets a redrive sends to (core/targets.py); PublishBatch is authorized by
# sns:Publish.
INVOKE_FUNCTION = ["lambda:InvokeFunction"]
PUBLISH_TOPIC = ["sns:Publish"]
PUT_EVENTS = ["events:PutEvents"]
FIND_FUNCTION = ["lambda:ListFunctions"]
READ_LEDGER = ["dynamodb:BatchGetItem"]
USE_KEY_READ = ["kms:Decrypt"]
USE_KEY_WRITE = ["kms:Decrypt", "kms:GenerateDataKey"]


def key_arn(key_id: str, queue_arn: str) -> str | None:
    """The ARN of a queue's customer-managed key; None for SQS-managed encryption."""
    if not key_id or key_id == "alias/aws/sqs":
        return None
    if key_id.startswith("arn:"):
        return key_id
    _, partition, _, region, account = queue_arn.split(":")[:5]
    kind = "alias" if key_id.startswith("alias/") else "key"
    return f"arn:{partition}:kms:{region}:{account}:{kind}/{key_id.removeprefix('alias/')}"


def ledger_arn(table: str, queue_arn: str) -> str:
    if table.startswith("arn:"):
        return table
    _, partition, _, region, account = queue_arn.split(":")[:5]
    return f"arn:{partition}:dynamodb:{region}:{account}:table/{table}"


def operator_policy(
    *,
    dlq_arn: str,
    target_arns: list[str],
    ledger_table: str | None = None,
    key_arns: list[str] | None = None,
    read_only: bool = False,
    find_function: bool = False,
) -> dict[str, Any]:
    """`find_function`: the DLQ is a Lambda function's asynchronous-invocation DLQ that
    the config does not name the function of, so dlqctl looks for it."""
    statements: list[dict[str, Any]] = [
        {"Sid": "ReadTheDlq", "Effect": "Allow", "Action": READ_DLQ, "Resource": [dlq_arn]},
        {
            "Sid": "FindQueues",
            "Effect": "Allow",
            "Action": ["sqs:ListQueues"],
            "Resource": "*",  # ListQueues takes no resource: AWS allows only "*"
        },
        {
            "Sid": "OldestMessageAge",
            "Effect": "Allow",
            "Action": ["cloudwatch:GetMetricData"],
            "Resource": "*",  # GetMetricData supports no resource-level permissions
        },
    ]
    if not read_only:
        statements.append(
            {
                "Sid": "RedriveFromTheDlq",
                "Effect": "Allow",
                "Action": CHANGE_DLQ,
                "Resource": [dlq_arn],
            }
        )
        statements += _target_statements(target_arns)
        if find_function:
            statements.append(
                {
                    "Sid": "FindTheFunction",
                    "Effect": "Allow",
                    "Action": FIND_FUNCTION,
                    # ListFunctions takes no resource: AWS allows only "*"
                    "Resource": "*",
                }
            )
    if ledger_table:
        statements.append(
            {
                "Sid": "ReadTheLedger",
                "Effect": "Allow",
                "Action": READ_LEDGER,
                "Resource": [ledger_arn(ledger_table, dlq_arn)],
            }
        )
    if key_arns:
        statements.append(
            {
                "Sid": "UseTheQueueKeys",
                "Effect": "Allow",
                "Action": USE_KEY_READ if read_only else USE_KEY_WRITE,
                "Resource": sorted(set(key_arns)),
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


def _target_statements(target_arns: list[str]) -> list[dict[str, Any]]:
    """What sending to each target takes, by the target's service."""
    grouped: dict[str, set[str]] = {}
    for arn in target_arns:
        service = service_of(arn)
        grouped.setdefault(service, set()).add(arn)
        if service == "lambda" and arn.count(":") == 6:
            # An unqualified function's grant covers none of its versions and aliases, and
            # a destination record names the version it ran ($LATEST, 3, live).
            grouped[service].add(f"{arn}:*")
    statements = []
    for sid, service, actions in (
        ("SendToTargets", "sqs", WRITE_TARGET),
        ("InvokeTheFunctions", "lambda", INVOKE_FUNCTION),
        ("PublishToTheTopics", "sns", PUBLISH_TOPIC),
        ("PutOnTheBuses", "events", PUT_EVENTS),
    ):
        if grouped.get(service):
            statements.append(
                {
                    "Sid": sid,
                    "Effect": "Allow",
                    "Action": actions,
                    "Resource": sorted(grouped[service]),
                }
            )
    return statements


def policy_for(
    aws: AwsSession,
    dlq: str,
    *,
    targets: list[str],
    ledger_table: str | None,
    read_only: bool,
    lookup: bool,
    find_function: bool = False,
) -> dict[str, Any]:
    """The operator policy for one DLQ. With `lookup`, the DLQ is described: its sources
    become the targets (unless given) and the queues' KMS keys are included; without,
    every queue must be an ARN and no AWS API is called."""
    keys: list[str] = []
    if not lookup:
        if parse_queue_ref(dlq).kind != "arn" or not all(
            parse_queue_ref(t).kind == "arn" for t in targets
        ):
            raise UsageError("--no-lookup needs ARNs for --queue and every --target")
        dlq_arn, target_arns = dlq, targets
    else:
        info = describe(*open_queue(aws, dlq))
        dlq_arn = info.arn
        prefix = info.arn.rsplit(":", 1)[0]
        named = targets or [f"{prefix}:{name}" for name in info.sources]
        queues = [t for t in named if not _is_other_service(t)]
        described = [describe(*open_queue(aws, t), with_sources=False) for t in queues]
        target_arns = [t.arn for t in described] + [t for t in named if _is_other_service(t)]
        keys = [k for q in [info, *described] if (k := key_arn(q.kms_key_id or "", q.arn))]
    return operator_policy(
        dlq_arn=dlq_arn,
        target_arns=target_arns,
        ledger_table=ledger_table,
        key_arns=keys,
        read_only=read_only,
        find_function=find_function,
    )


def _is_other_service(target: str) -> bool:
    """A function's, topic's or bus's ARN: not a queue to describe."""
    return service_of(target) != "sqs"
