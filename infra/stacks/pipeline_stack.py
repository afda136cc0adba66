"""The pipeline dlqctl manages (design §4), one stack per environment.

API Gateway → ingest Lambda → main queue (→ DLQ after maxReceiveCount) → worker Lambda →
DynamoDB ledger; an SSM failure-mode switch for GameDays; alarms, dashboard, metric filters
and saved queries; and the managed policy that lets an operator run dlqctl on it.
"""

from __future__ import annotations

from aws_cdk import CfnOutput, Environment, Stack, Tags
from constructs import Construct

from dlqctl.pipeline import spec
from infra.components.api import IngestApi
from infra.components.encryption import Encryption
from infra.components.functions import Functions
from infra.components.messaging import Queues
from infra.components.observability import Observability
from infra.components.operator import OperatorPolicy
from infra.components.storage import FailureModeSwitch, Ledger
from infra.config import EnvironmentConfig


class PipelineStack(Stack):
    def __init__(
        self, scope: Construct, id: str, *, config: EnvironmentConfig, region: str | None = None
    ) -> None:
        super().__init__(
            scope,
            id,
            stack_name=config.stack_name,
            description=f"dlq-pipeline ({config.name}): the event-driven pipeline dlqctl manages",
            # No region: environment-agnostic, region and partition come from the deploy.
            env=Environment(region=region) if region else None,
        )
        self.config = config
        Tags.of(self).add("project", "dlq-pipeline")
        Tags.of(self).add("environment", config.name)

        encryption = Encryption(self, "Encryption", config=config)
        self.queues = Queues(self, "Queues", config=config, key=encryption.data_key)
        self.ledger = Ledger(self, "Ledger", config=config, key=encryption.data_key)
        self.failure_mode = FailureModeSwitch(self, "FailureMode", config=config)
        self.functions = Functions(
            self,
            "Functions",
            config=config,
            queues=self.queues,
            ledger_table_arn=self.ledger.table.table_arn,
            ledger_table_name=self.ledger.table.table_name,
            failure_mode_parameter_arn=self.failure_mode.parameter.parameter_arn,
            failure_mode_parameter_name=self.failure_mode.parameter.parameter_name,
            key=encryption.data_key,
        )
        self.api = IngestApi(
            self, "Api", config=config, handler=self.functions.ingest, key=encryption.data_key
        )
        self.observability = Observability(
            self,
            "Observability",
            config=config,
            key=encryption.key,
            queues=self.queues,
            ingest=self.functions.ingest,
            worker=self.functions.worker,
            api=self.api.api,
            api_access_logs=self.api.access_logs,
        )
        self.operator = OperatorPolicy(
            self,
            "Operator",
            config=config,
            queues=self.queues,
            table=self.ledger.table,
            key=encryption.data_key,
        )

        outputs = {
            spec.OUTPUT_API_URL: (self.api.api.url_for_path("/orders"), "POST orders here"),
            spec.OUTPUT_MAIN_QUEUE_URL: (self.queues.main.queue_url, "Main queue URL"),
            spec.OUTPUT_MAIN_QUEUE_ARN: (self.queues.main.queue_arn, "Main queue ARN"),
            spec.OUTPUT_DLQ_URL: (self.queues.dlq.queue_url, "Dead-letter queue URL"),
            spec.OUTPUT_DLQ_ARN: (self.queues.dlq.queue_arn, "Dead-letter queue ARN"),
            spec.OUTPUT_LEDGER_TABLE: (self.ledger.table.table_name, "Failure ledger table"),
            spec.OUTPUT_FAILURE_MODE_PARAMETER: (
                self.failure_mode.parameter.parameter_name,
                "SSM parameter holding the GameDay failure mode",
            ),
            spec.OUTPUT_ALARM_TOPIC_ARN: (self.observability.topic.topic_arn, "Alarm topic"),
            spec.OUTPUT_OPERATOR_POLICY_ARN: (
                self.operator.policy.managed_policy_arn,
                "Attach to whoever runs dlqctl on this pipeline",
            ),
            spec.OUTPUT_DASHBOARD_NAME: (
                self.observability.dashboard.dashboard_name,
                "CloudWatch dashboard",
            ),
        }
        for key, (value, description) in outputs.items():
            # Created on the stack itself, so each output's key is exactly `key`.
            CfnOutput(self, key, key=key, value=value, description=description)
