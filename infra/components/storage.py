"""The failure ledger (also the idempotency table) and the GameDay failure-mode switch."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from dlqctl.pipeline import spec
from dlqctl.pipeline.failure_modes import FailureMode
from infra.config import EnvironmentConfig


class Ledger(Construct):
    def __init__(
        self, scope: Construct, id: str, *, config: EnvironmentConfig, key: kms.IKey | None
    ) -> None:
        super().__init__(scope, id)
        self.table = dynamodb.Table(
            self,
            "Table",
            table_name=f"{config.prefix}-{spec.LEDGER_TABLE_NAME}",
            partition_key=dynamodb.Attribute(
                name=spec.LEDGER_KEY, type=dynamodb.AttributeType.STRING
            ),
            # Traffic follows incidents and redrives, not a steady rate: pay per request.
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            time_to_live_attribute=spec.LEDGER_EXPIRES_AT,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            encryption=(
                dynamodb.TableEncryption.CUSTOMER_MANAGED
                if key
                else dynamodb.TableEncryption.AWS_MANAGED
            ),
            encryption_key=key,
            deletion_protection=config.retain_data,
            removal_policy=RemovalPolicy.RETAIN if config.retain_data else RemovalPolicy.DESTROY,
        )


class FailureModeSwitch(Construct):
    def __init__(self, scope: Construct, id: str, *, config: EnvironmentConfig) -> None:
        super().__init__(scope, id)
        self.parameter = ssm.StringParameter(
            self,
            "Parameter",
            parameter_name=f"/{config.prefix}{spec.FAILURE_MODE_PARAMETER}",
            string_value=str(FailureMode()),
            description="GameDay failure mode read by the worker: " + ", ".join(spec.FAILURE_MODES),
            tier=ssm.ParameterTier.STANDARD,
        )
