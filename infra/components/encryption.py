"""The stack's KMS key, and the condition that scopes the roles' use of it.

prod (`customerManagedKeys: true`) encrypts the queues and the ledger with it, so key
policy and CloudTrail show every use and access can be revoked in one place. dev uses the
AWS managed keys (alias/aws/sqs, alias/aws/dynamodb), which cost nothing and need no key
policy. The alarm topic uses this key in both: CloudWatch cannot publish to a topic
encrypted with alias/aws/sns, because an AWS managed key's policy cannot be changed to let
the CloudWatch service principal use it. That grant is made where the alarms are
(observability), since it names them.
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from infra.config import EnvironmentConfig


class Encryption(Construct):
    def __init__(self, scope: Construct, id: str, *, config: EnvironmentConfig) -> None:
        super().__init__(scope, id)
        self.key = kms.Key(
            self,
            "Key",
            alias=f"alias/{config.prefix}-dlq-pipeline",
            description=f"dlq-pipeline ({config.name}): queues, ledger and alarm topic",
            enable_key_rotation=True,
            pending_window=Duration.days(30 if config.retain_data else 7),
            removal_policy=RemovalPolicy.RETAIN if config.retain_data else RemovalPolicy.DESTROY,
        )
        self.data_key: kms.IKey | None = self.key if config.customer_managed_keys else None
        if config.customer_managed_keys:
            self.key.add_to_resource_policy(_logs_may_use(self, config))


def _logs_may_use(scope: Construct, config: EnvironmentConfig) -> iam.PolicyStatement:
    """CloudWatch Logs encrypts the stack's log groups (Lambda's and the API's access
    logs, which can hold order fields) with the data key: only for log groups of this
    stack, named in the encryption context, as the Logs documentation scopes it."""
    stack = Stack.of(scope)
    prefix = f"arn:{stack.partition}:logs:{stack.region}:{stack.account}:log-group:"
    return iam.PolicyStatement(
        sid="CloudWatchLogsUseForThisStacksLogGroups",
        principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
        actions=[
            "kms:Encrypt*",
            "kms:Decrypt*",
            "kms:ReEncrypt*",
            "kms:GenerateDataKey*",
            "kms:Describe*",
        ],
        resources=["*"],  # a key policy's resource is the key itself
        conditions={
            "ArnLike": {
                "kms:EncryptionContext:aws:logs:arn": [
                    f"{prefix}/aws/lambda/{config.prefix}-dlq-pipeline-*",
                    f"{prefix}/aws/apigateway/{config.prefix}-dlq-pipeline-ingest/*",
                ]
            }
        },
    )


def used_through(scope: Construct, *services: str) -> dict[str, dict[str, str | list[str]]]:
    """A KMS grant's condition: usable only in requests these services make on the
    caller's behalf (kms:ViaService), so a role that may decrypt what SQS or DynamoDB holds
    cannot call KMS with the key directly. The value is the service's endpoint name, which
    ends in amazonaws.com in every partition."""
    region = Stack.of(scope).region
    endpoints = [f"{service}.{region}.amazonaws.com" for service in services]
    return {"StringEquals": {"kms:ViaService": endpoints[0] if len(endpoints) == 1 else endpoints}}
