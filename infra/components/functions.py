"""The ingest and worker Lambdas, each with its own role holding only what its code calls.

The code asset is the `dlqctl` package straight from src/: nothing is bundled at synth time
(no Docker), so the third-party libraries the handlers import come from the Powertools for
AWS Lambda layer.
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Aws, Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_logs as logs
from constructs import Construct

from dlqctl.pipeline import spec
from infra import config as cfg
from infra import nag
from infra.components.messaging import Queues
from infra.config import EnvironmentConfig

SRC_DIR = Path(__file__).resolve().parents[2] / "src"
INGEST_HANDLER = "dlqctl.pipeline.ingest.handler"
WORKER_HANDLER = "dlqctl.pipeline.worker.handler"
# What the Lambda package leaves out of src/: build and cache litter, and the parts of
# dlqctl a handler never imports (the CLI and the local lab, which needs moto).
ASSET_EXCLUDES = [
    "**/__pycache__",
    "**/*.pyc",
    "*.egg-info",
    "dlqctl/cli",
    "dlqctl/lab",
    "dlqctl/__main__.py",
]
RUNTIME = lambda_.Runtime.PYTHON_3_13
ARCHITECTURE = lambda_.Architecture.ARM_64
# AWS publishes the Powertools layer from this account in every commercial region.
POWERTOOLS_LAYER_ACCOUNT = "017000801446"

RETENTION = {
    7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS,
    30: logs.RetentionDays.ONE_MONTH,
    60: logs.RetentionDays.TWO_MONTHS,
    90: logs.RetentionDays.THREE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS,
    365: logs.RetentionDays.ONE_YEAR,
}


def powertools_layer_arn(version: int) -> str:
    runtime = RUNTIME.name.replace(".", "")
    return (
        f"arn:{Aws.PARTITION}:lambda:{Aws.REGION}:{POWERTOOLS_LAYER_ACCOUNT}:layer:"
        f"AWSLambdaPowertoolsPythonV3-{runtime}-{ARCHITECTURE.name}:{version}"
    )


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
        self._code = lambda_.Code.from_asset(str(SRC_DIR), exclude=ASSET_EXCLUDES)
        self._layer = lambda_.LayerVersion.from_layer_version_arn(
            self, "Powertools", powertools_layer_arn(config.powertools_layer_version)
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
            # A producer to an SSE-KMS queue needs a data key and must be able to read it.
            self.ingest.add_to_role_policy(
                iam.PolicyStatement(
                    sid="EncryptForTheQueue",
                    actions=["kms:GenerateDataKey", "kms:Decrypt"],
                    resources=[key.key_arn],
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
            # Caps what the worker can take from the account's pool; the event source's
            # maximum concurrency, set below it, is what keeps pollers from being throttled.
            reserved_concurrency=config.worker_reserved_concurrency,
        )
        self.worker.add_event_source(
            event_sources.SqsEventSource(
                queues.main,
                batch_size=spec.BATCH_SIZE,
                max_batching_window=Duration.seconds(spec.BATCHING_WINDOW_S),
                max_concurrency=config.worker_max_concurrency,
                report_batch_item_failures=True,
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
            # The ledger's table key is decrypted with the caller's permission.
            self.worker.add_to_role_policy(
                iam.PolicyStatement(
                    sid="ReadTheEncryptedLedger", actions=["kms:Decrypt"], resources=[key.key_arn]
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
            "(see powertools_layer_arn), so runtime and layer version move together in a "
            "reviewed change, not whenever CDK learns of a newer runtime.",
        )
        nag.acknowledge(
            role,
            "AwsSolutions-IAM5[Resource::*]",
            "X-Ray active tracing: xray:PutTraceSegments and xray:PutTelemetryRecords do not "
            "support resource-level permissions, so AWS requires Resource '*'.",
        )
        return function
