"""The stack's KMS key.

prod (`customerManagedKeys: true`) encrypts the queues and the ledger with it, so key
policy and CloudTrail show every use and access can be revoked in one place. dev uses the
AWS managed keys (alias/aws/sqs, alias/aws/dynamodb), which cost nothing and need no key
policy. The alarm topic uses this key in both: CloudWatch cannot publish to a topic
encrypted with alias/aws/sns, because an AWS managed key's policy cannot be changed to let
the CloudWatch service principal use it.
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
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
        # In a key policy, "*" as the resource means this key and nothing else.
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchAlarmsToPublishToTheEncryptedTopic",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey"],
                resources=["*"],
            )
        )
        self.data_key: kms.IKey | None = self.key if config.customer_managed_keys else None
