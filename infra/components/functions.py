"""The ingest and worker Lambdas, each with its own role holding only what its code calls.

The code asset is the part of the `dlqctl` package the handlers import, straight from src/
(lambda_code): nothing is bundled at synth time (no Docker), so the third-party libraries
the handlers import come from the Powertools for AWS Lambda layer (powertools).
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from dlqctl.pipeline import spec
from infra import config as cfg
from infra import nag
from infra.components import lambda_code
from infra.components.encryption import used_through
from infra.components.messaging import Queues
from infra.components.powertools import powertools_layer
from infra.config import EnvironmentConfig

SRC_DIR = Path(__file__).resolve().parents[2] / "src"
INGEST_HANDLER = "dlqctl.pipeline.ingest.handler"
WORKER_HANDLER = "dlqctl.pipeline.worker.handler"
RUNTIME = lambda_.Runtime.PYTHON_3_13
ARCHITECTURE = lambda_.Architecture.ARM_64
# What Lambda's SQS poller calls with the function's role (AWS documents exactly these).
POLLER_ACTIONS = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]

RETENTION = {
    7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS,
    30: logs.RetentionDays.ONE_MONTH,
    60: logs.RetentionDays.TWO_MONTHS,
    90: logs.RetentionDays.THREE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS,
    365: logs.RetentionDays.ONE_YEAR,
}


class Functions(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: EnvironmentConfig,
        queues: Queues,
        ledger_table_arn: str,
        ledger_table_name: str,
        failure_mode_parameter_arn: str,
        failure_mode_parameter_name: str,
        key: kms.IKey | None,
    ) -> None:
        super().__init__(scope, id)
        self._config = config
        self._key = key
        self._code = lambda_code.code(SRC_DIR, [INGEST_HANDLER, WORKER_HANDLER])
        self._layer = powertools_layer(
            self,
            "Powertools",
            setting=config.powertools_layer,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
        )

        self.ingest = self._function(
            "Ingest",
            name="ingest",
            handler=INGEST_HANDLER,
            description="Validates an order from API Gateway and enqueues it",
            timeout_s=cfg.INGEST_TIMEOUT_S,
            memory_mb=cfg.INGEST_MEMORY_MB,
            environment={spec.ENV_QUEUE_URL: queues.main.queue_url},
        )
        self.ingest.add_to_role_policy(
            iam.PolicyStatement(
                sid="EnqueueOrders", actions=["sqs:SendMessage"], resources=[queues.main.queue_arn]
            )
        )
        if key:
            # A producer to an SSE-KMS queue needs a data key and must be able to read it,
            # through SQS only.
            self.ingest.add_to_role_policy(
                iam.PolicyStatement(
                    sid="EncryptForTheQueue",
                    actions=["kms:GenerateDataKey", "kms:Decrypt"],
                    resources=[key.key_arn],
                    conditions=used_through(self, "sqs"),
                )
            )

        self.worker = self._function(
            "Worker",
            name="worker",
            handler=WORKER_HANDLER,
            description="Processes order batches from SQS with partial batch responses",
            timeout_s=spec.WORKER_TIMEOUT_S,
            memory_mb=cfg.WORKER_MEMORY_MB,
            environment={
                spec.ENV_LEDGER_TABLE: ledger_table_name,
                spec.ENV_LEDGER_TTL_DAYS: str(spec.LEDGER_TTL_DAYS),
                spec.ENV_FAILURE_MODE_PARAMETER: failure_mode_parameter_name,
                spec.ENV_FAILURE_MODE_CACHE_S: str(spec.FAILURE_MODE_CACHE_S),
                "POWERTOOLS_METRICS_NAMESPACE": spec.METRICS_NAMESPACE,
            },
            # Optional: a reservation guarantees the worker its share and caps it, but needs
            # account quota to spare (docs/deploy.md). The event source's maximum
            # concurrency below is the limit in every environment.
            reserved_concurrency=config.worker_reserved_concurrency,
        )
        # The mapping, not SqsEventSource: that one also grants an unconditioned
        # kms:Decrypt on the queue's key, where the worker's single KMS statement below
        # allows decryption through SQS and DynamoDB only.
        self.worker.add_event_source_mapping(
            "MainQueue",
            event_source_arn=queues.main.queue_arn,
            batch_size=spec.BATCH_SIZE,
            max_batching_window=Duration.seconds(spec.BATCHING_WINDOW_S),
            max_concurrency=config.worker_max_concurrency,
            report_batch_item_failures=True,
        )
        self.worker.add_to_role_policy(
            iam.PolicyStatement(
                sid="PollTheMainQueue", actions=POLLER_ACTIONS, resources=[queues.main.queue_arn]
            )
        )
        self.worker.add_to_role_policy(
            iam.PolicyStatement(
                sid="ClaimAndRecordInTheLedger",
                actions=["dynamodb:GetItem", "dynamodb:UpdateItem"],
                resources=[ledger_table_arn],
            )
        )
        self.worker.add_to_role_policy(
            iam.PolicyStatement(
                sid="ReadTheFailureMode",
                actions=["ssm:GetParameter"],
                resources=[failure_mode_parameter_arn],
            )
        )
        if key:
            # Receiving from the queue and using the ledger decrypt with the caller's
            # permission, each through its own service.
            self.worker.add_to_role_policy(
                iam.PolicyStatement(
                    sid="DecryptQueueAndLedger",
                    actions=["kms:Decrypt"],
                    resources=[key.key_arn],
                    conditions=used_through(self, "sqs", "dynamodb"),
                )
            )

    def _function(
        self,
        id: str,
        *,
        name: str,
        handler: str,
        description: str,
        timeout_s: int,
        memory_mb: int,
        environment: dict[str, str],
        reserved_concurrency: int | None = None,
    ) -> lambda_.Function:
        config = self._config
        function_name = f"{config.prefix}-dlq-pipeline-{name}"
        log_group = logs.LogGroup(
            self,
            f"{id}Logs",
            log_group_name=f"/aws/lambda/{function_name}",
            # The logs can hold order fields: under the stack's key where the data is.
            encryption_key=self._key,
            retention=RETENTION[config.log_retention_days],
            removal_policy=RemovalPolicy.RETAIN if config.retain_data else RemovalPolicy.DESTROY,
        )
        role = iam.Role(
            self,
            f"{id}Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"{function_name}: only what its handler calls",
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="WriteOwnLogs",
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[log_group.log_group_arn],
            )
        )
        function = lambda_.Function(
            self,
            id,
            function_name=function_name,
            description=description,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            code=self._code,
            handler=handler,
            layers=[self._layer],
            role=role,
            timeout=Duration.seconds(timeout_s),
            memory_size=memory_mb,
            reserved_concurrent_executions=reserved_concurrency,
            tracing=lambda_.Tracing.ACTIVE,
            logging_format=lambda_.LoggingFormat.JSON,
            application_log_level_v2=lambda_.ApplicationLogLevel.INFO,
            # INFO keeps the platform.report records, whose status says "timeout" when
            # Lambda kills an invocation: the Timeout metric filter reads it.
            system_log_level_v2=lambda_.SystemLogLevel.INFO,
            log_group=log_group,
            environment={"POWERTOOLS_SERVICE_NAME": spec.SERVICE_NAME, **environment},
        )
        nag.acknowledge(
            function,
            "AwsSolutions-L1",
            f"{RUNTIME.name} is pinned on purpose: the Powertools layer is built per runtime "
            "(infra/components/powertools.py), so runtime and layer move together in a "
            "reviewed change, not whenever CDK learns of a newer runtime.",
        )
        nag.acknowledge(
            role,
            "AwsSolutions-IAM5[Resource::*]",
            "X-Ray active tracing: xray:PutTraceSegments and xray:PutTelemetryRecords do not "
            "support resource-level permissions, so AWS requires Resource '*'.",
        )
        return function
