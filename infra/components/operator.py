"""The managed policy an on-call engineer attaches to run dlqctl against this stack.

Exactly the API calls dlqctl makes (src/dlqctl/aws/), on exactly this stack's resources.
SQS authorizes its batch calls with the single-message actions: SendMessageBatch needs
sqs:SendMessage, DeleteMessageBatch sqs:DeleteMessage, ChangeMessageVisibilityBatch
sqs:ChangeMessageVisibility; there are no separate batch actions to grant.
"""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from infra import nag
from infra.components.encryption import used_through
from infra.components.messaging import Queues
from infra.config import EnvironmentConfig

# Reading and moving messages out of the DLQ: scan (hold and release), redrive, export,
# purge, and SQS's own move tasks, whose source is the DLQ. SendMessage lets `replay --to`
# put back an archive that a purge took out.
DLQ_ACTIONS = [
    "sqs:GetQueueUrl",
    "sqs:GetQueueAttributes",
    "sqs:ListDeadLetterSourceQueues",
    "sqs:ReceiveMessage",
    "sqs:ChangeMessageVisibility",
    "sqs:DeleteMessage",
    "sqs:SendMessage",
    "sqs:StartMessageMoveTask",
    "sqs:ListMessageMoveTasks",
    "sqs:CancelMessageMoveTask",
]
# The main queue is where redrive and replay send, and what `queues`/`inspect` describe.
MAIN_QUEUE_ACTIONS = ["sqs:GetQueueUrl", "sqs:GetQueueAttributes", "sqs:SendMessage"]
LEDGER_ACTIONS = ["dynamodb:GetItem", "dynamodb:BatchGetItem"]
# Receiving from an SSE-KMS queue decrypts; sending to one needs a data key; reading the
# encrypted ledger decrypts. Each only through the service that holds the data.
KEY_ACTIONS = ["kms:Decrypt", "kms:GenerateDataKey"]
KEY_SERVICES = ("sqs", "dynamodb")


class OperatorPolicy(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: EnvironmentConfig,
        queues: Queues,
        table: dynamodb.ITable,
        key: kms.IKey | None,
    ) -> None:
        super().__init__(scope, id)
        stack = Stack.of(self)
        # ListQueues is authorized on the account's queue namespace, not on a queue.
        queue_namespace = stack.format_arn(service="sqs", resource="*")
        statements = [
            iam.PolicyStatement(
                sid="OperateTheDeadLetterQueue",
                actions=DLQ_ACTIONS,
                resources=[queues.dlq.queue_arn],
            ),
            iam.PolicyStatement(
                sid="RedriveToTheMainQueue",
                actions=MAIN_QUEUE_ACTIONS,
                resources=[queues.main.queue_arn],
            ),
            iam.PolicyStatement(
                sid="ListQueues",
                actions=["sqs:ListQueues"],
                resources=[queue_namespace],
            ),
            iam.PolicyStatement(
                sid="ReadTheFailureLedger", actions=LEDGER_ACTIONS, resources=[table.table_arn]
            ),
            iam.PolicyStatement(
                sid="ReadQueueMetrics",
                actions=["cloudwatch:GetMetricData"],
                # GetMetricData supports no resource-level permissions.
                resources=["*"],
            ),
            iam.PolicyStatement(
                sid="ImportStackOutputs",
                actions=["cloudformation:DescribeStacks"],
                resources=[stack.stack_id],
            ),
        ]
        if key:
            statements.append(
                iam.PolicyStatement(
                    sid="UseThePipelineKey",
                    actions=KEY_ACTIONS,
                    resources=[key.key_arn],
                    conditions=used_through(self, *KEY_SERVICES),
                )
            )
        self.policy = iam.ManagedPolicy(
            self,
            "Policy",
            managed_policy_name=f"{config.prefix}-dlq-pipeline-dlqctl-operator",
            description=(
                f"dlqctl on dlq-pipeline ({config.name}): inspect, peek, redrive, export, "
                "purge and move tasks on its DLQ; no other queue, no admin actions"
            ),
            statements=statements,
        )
        nag.acknowledge(
            self.policy,
            "AwsSolutions-IAM5[Resource::*]",
            "cloudwatch:GetMetricData (the DLQ's oldest-message age) supports no "
            "resource-level permissions, so AWS requires Resource '*'; it reads metrics only.",
        )
        nag.acknowledge(
            self.policy,
            f"AwsSolutions-IAM5[Resource::{nag.rendered(self, queue_namespace)}]",
            "sqs:ListQueues is authorized on the account's queue namespace "
            "(arn:aws:sqs:region:account:*), not on a queue; it lists names only.",
        )
