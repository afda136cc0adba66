"""Alarms (each naming its runbook), the alarm topic, the dashboard, per-error-type metric
filters on the worker's JSON logs, and the Logs Insights queries the runbooks run."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import ArnFormat, Duration, Stack
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from dlqctl.pipeline import spec
from infra.components.messaging import Queues
from infra.config import EnvironmentConfig

RUNBOOK_DIR = "docs/runbooks"
MINUTE = Duration.minutes(1)
# "for 5 min": five consecutive one-minute datapoints (SQS and Lambda publish per minute).
SUSTAINED_MINUTES = 5
DLQ_AGE_ALARM_S = 300
ERROR_TYPES = (spec.POISON_ERROR, spec.DOWNSTREAM_ERROR, spec.TIMEOUT_ERROR)
# CloudWatch publishes alarm notifications as this principal, on behalf of each alarm.
CLOUDWATCH = "cloudwatch.amazonaws.com"
# What publishing to an SSE-KMS topic needs of its key, as AWS documents it for services.
TOPIC_KEY_ACTIONS = ["kms:Decrypt", "kms:GenerateDataKey*"]


@dataclass(frozen=True)
class AlarmInfo:
    """One alarm, its name and the runbook page that fixes it."""

    alarm: cloudwatch.Alarm
    name: str
    runbook: str


class Observability(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: EnvironmentConfig,
        key: kms.IKey,
        queues: Queues,
        ingest: lambda_.Function,
        worker: lambda_.Function,
        api: apigateway.RestApi,
        api_access_logs: logs.ILogGroup,
    ) -> None:
        super().__init__(scope, id)
        self._config = config
        self.topic = sns.Topic(
            self,
            "AlarmTopic",
            topic_name=f"{config.prefix}-dlq-pipeline-alarms",
            display_name=f"dlq-pipeline {config.name} alarms",
            master_key=key,
            enforce_ssl=True,
        )
        if config.alarm_email:
            self.topic.add_subscription(subscriptions.EmailSubscription(config.alarm_email))

        stage = api.deployment_stage
        throttles = cloudwatch.MathExpression(
            # A function that was never throttled has no datapoint, and a sum with a missing
            # term has none either: without FILL, one function's throttles would not show.
            expression="FILL(ingest, 0) + FILL(worker, 0)",
            using_metrics={
                "ingest": ingest.metric_throttles(period=MINUTE, statistic="Sum"),
                "worker": worker.metric_throttles(period=MINUTE, statistic="Sum"),
            },
            label="Throttles (ingest + worker)",
            period=MINUTE,
        )
        self.alarms: dict[str, AlarmInfo] = {}
        self._alarm(
            "DlqNotEmpty",
            "dlq-not-empty",
            "Messages have been waiting in the DLQ for 5 minutes: processing failed "
            f"{spec.MAX_RECEIVE_COUNT} times.",
            queues.dlq.metric_approximate_number_of_messages_visible(
                period=MINUTE, statistic="Maximum"
            ),
            threshold=0,
            evaluation_periods=SUSTAINED_MINUTES,
        )
        self._alarm(
            "DlqMessageAge",
            "dlq-message-age",
            f"A message has waited in the DLQ for more than {DLQ_AGE_ALARM_S // 60} minutes: "
            "on a DLQ, ApproximateAgeOfOldestMessage counts from when SQS moved the message "
            "there, not from its original send (which still sets when it expires).",
            queues.dlq.metric_approximate_age_of_oldest_message(period=MINUTE, statistic="Maximum"),
            threshold=DLQ_AGE_ALARM_S,
            evaluation_periods=1,
        )
        self._alarm(
            "WorkerErrors",
            "worker-errors",
            "The worker Lambda has failed invocations for 5 minutes (whole batches, "
            "timeouts or crashes; per-message failures are partial batch responses).",
            worker.metric_errors(period=MINUTE, statistic="Sum"),
            threshold=0,
            evaluation_periods=SUSTAINED_MINUTES,
        )
        self._alarm(
            "MainQueueAge",
            "main-queue-age",
            f"The oldest main-queue message has waited more than "
            f"{config.main_queue_age_alarm_seconds} s for 5 minutes: the worker is not keeping up.",
            queues.main.metric_approximate_age_of_oldest_message(
                period=MINUTE, statistic="Maximum"
            ),
            threshold=config.main_queue_age_alarm_seconds,
            evaluation_periods=SUSTAINED_MINUTES,
        )
        self._alarm(
            "MainQueueBacklog",
            "main-queue-backlog",
            f"More than {config.main_queue_depth_alarm} messages have been waiting on the "
            "main queue for 5 minutes: backlog is growing.",
            queues.main.metric_approximate_number_of_messages_visible(
                period=MINUTE, statistic="Maximum"
            ),
            threshold=config.main_queue_depth_alarm,
            evaluation_periods=SUSTAINED_MINUTES,
        )
        self._alarm(
            "LambdaThrottles",
            "lambda-throttles",
            "The ingest or worker Lambda was throttled in the last 5 minutes.",
            throttles,
            threshold=0,
            evaluation_periods=SUSTAINED_MINUTES,
            datapoints_to_alarm=1,
        )
        self._alarm(
            "Api5xx",
            "api-5xx",
            f"The ingest API answered 5xx at least {config.api_5xx_alarm_threshold} time(s) "
            "in 5 minutes.",
            stage.metric_server_error(period=Duration.minutes(5), statistic="Sum"),
            threshold=config.api_5xx_alarm_threshold,
            evaluation_periods=1,
            comparison=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        )

        self._let_cloudwatch_publish(key)

        self.error_metrics = self._error_type_filters(worker)
        self.queries = self._queries(ingest, worker, api_access_logs)
        self.dashboard = self._dashboard(queues, ingest, worker, stage, throttles)

    def _alarm(
        self,
        id: str,
        runbook: str,
        summary: str,
        metric: cloudwatch.IMetric,
        *,
        threshold: float,
        evaluation_periods: int,
        datapoints_to_alarm: int | None = None,
        comparison: cloudwatch.ComparisonOperator = (
            cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD
        ),
    ) -> None:
        page = f"{RUNBOOK_DIR}/{runbook}.md"
        name = f"{self._config.prefix}-dlq-pipeline-{id}"
        alarm = cloudwatch.Alarm(
            self,
            id,
            alarm_name=name,
            alarm_description=f"{summary} Runbook: {page}",
            metric=metric,
            threshold=threshold,
            comparison_operator=comparison,
            evaluation_periods=evaluation_periods,
            datapoints_to_alarm=datapoints_to_alarm or evaluation_periods,
            # No data means an idle queue or function, not a failure.
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(actions.SnsAction(self.topic))
        alarm.add_ok_action(actions.SnsAction(self.topic))
        self.alarms[id] = AlarmInfo(alarm, name, page)

    def _let_cloudwatch_publish(self, key: kms.IKey) -> None:
        """Let CloudWatch deliver this stack's alarms, and nobody else's, to the topic.

        A topic policy replaces SNS's default one, so without an Allow nothing lets the
        CloudWatch principal publish; the topic's key must let it too. Both are limited
        to this account's requests on behalf of these alarms. Their ARNs are built from
        the names: the key cannot refer to the alarms, which refer to the topic, which
        refers to the key.
        """
        stack = Stack.of(self)
        alarm_arns = [
            stack.format_arn(
                service="cloudwatch",
                resource="alarm",
                resource_name=info.name,
                arn_format=ArnFormat.COLON_RESOURCE_NAME,
            )
            for info in self.alarms.values()
        ]
        only_these_alarms = {
            "StringEquals": {"aws:SourceAccount": stack.account},
            "ArnEquals": {"aws:SourceArn": alarm_arns},
        }
        cloudwatch_principal = iam.ServicePrincipal(CLOUDWATCH)
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchAlarmsPublish",
                principals=[cloudwatch_principal],
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                conditions=only_these_alarms,
            )
        )
        # In a key policy, "*" as the resource means this key and nothing else.
        key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchAlarmsUseTheTopicKey",
                principals=[cloudwatch_principal],
                actions=TOPIC_KEY_ACTIONS,
                resources=["*"],
                conditions=only_these_alarms,
            )
        )

    def _error_type_filters(self, worker: lambda_.Function) -> dict[str, cloudwatch.Metric]:
        """One count per error type from the worker's JSON logs: the fallback when EMF
        metrics are missing, and the only signal for a timeout, which the killed handler
        cannot log: Lambda's own platform.report record says status "timeout"."""
        field = f"$.{spec.LOG_FIELD_ERROR_TYPE}"
        metrics = {}
        for error_type in ERROR_TYPES:
            pattern = logs.FilterPattern.string_value(field, "=", error_type)
            if error_type == spec.TIMEOUT_ERROR:
                pattern = logs.FilterPattern.any(
                    pattern, logs.FilterPattern.string_value("$.record.status", "=", "timeout")
                )
            metric_filter = logs.MetricFilter(
                self,
                f"{error_type}Filter",
                log_group=worker.log_group,
                filter_name=f"{self._config.prefix}-dlq-pipeline-{error_type}",
                filter_pattern=pattern,
                metric_namespace=spec.LOG_METRICS_NAMESPACE,
                metric_name=error_type,
                metric_value="1",
                default_value=0,
                unit=cloudwatch.Unit.COUNT,
            )
            metrics[error_type] = metric_filter.metric(period=Duration.minutes(5), statistic="Sum")
        return metrics

    def _queries(
        self, ingest: lambda_.Function, worker: lambda_.Function, access_logs: logs.ILogGroup
    ) -> dict[str, logs.QueryDefinition]:
        error_type = spec.LOG_FIELD_ERROR_TYPE
        key = spec.LOG_FIELD_IDEMPOTENCY_KEY
        message_id = spec.LOG_FIELD_MESSAGE_ID
        correlation = spec.LOG_FIELD_CORRELATION_ID
        definitions = {
            "worker-errors-by-type": (
                [worker.log_group],
                logs.QueryString(
                    fields=["@timestamp", error_type],
                    filter_statements=[f"ispresent({error_type})"],
                    stats_statements=[f"count(*) as failures by {error_type}, bin(5m)"],
                ),
            ),
            "worker-recent-failures": (
                [worker.log_group],
                logs.QueryString(
                    fields=["@timestamp", error_type, "error", key, message_id, correlation],
                    filter_statements=[f'level = "ERROR" or ispresent({error_type})'],
                    sort="@timestamp desc",
                    limit=100,
                ),
            ),
            "worker-timeouts": (
                [worker.log_group],
                logs.QueryString(
                    fields=["@timestamp", "record.requestId", "record.metrics.durationMs"],
                    filter_statements=['type = "platform.report" and record.status = "timeout"'],
                    sort="@timestamp desc",
                    limit=50,
                ),
            ),
            "worker-duration": (
                [worker.log_group],
                logs.QueryString(
                    filter_statements=['type = "platform.report"'],
                    stats_statements=[
                        "avg(record.metrics.durationMs) as avg_ms, "
                        "pct(record.metrics.durationMs, 99) as p99_ms, "
                        "max(record.metrics.durationMs) as max_ms, count(*) as invocations "
                        "by bin(5m)"
                    ],
                ),
            ),
            "trace-one-payload": (
                [ingest.log_group, worker.log_group],
                logs.QueryString(
                    fields=["@timestamp", "@log", "level", "message", error_type, message_id],
                    filter_statements=[f'{key} = "PASTE-IDEMPOTENCY-KEY"'],
                    sort="@timestamp asc",
                ),
            ),
            "api-5xx": (
                [access_logs],
                logs.QueryString(
                    fields=[
                        "@timestamp",
                        "status",
                        "resourcePath",
                        "integrationStatus",
                        "integrationError",
                        "errorMessage",
                        "requestId",
                        "xrayTraceId",
                    ],
                    filter_statements=["status like /^5/"],
                    sort="@timestamp desc",
                    limit=100,
                ),
            ),
            "ingest-errors": (
                [ingest.log_group],
                logs.QueryString(
                    fields=["@timestamp", "level", "message", correlation, "errors"],
                    filter_statements=['level = "ERROR" or level = "WARNING"'],
                    sort="@timestamp desc",
                    limit=100,
                ),
            ),
        }
        return {
            name: logs.QueryDefinition(
                self,
                f"Query-{name}",
                query_definition_name=query_name(self._config, name),
                log_groups=log_groups,
                query_string=query,
            )
            for name, (log_groups, query) in definitions.items()
        }

    def _dashboard(
        self,
        queues: Queues,
        ingest: lambda_.Function,
        worker: lambda_.Function,
        stage: apigateway.Stage,
        throttles: cloudwatch.IMetric,
    ) -> cloudwatch.Dashboard:
        config = self._config

        def search(metric_name: str, label: str) -> cloudwatch.MathExpression:
            # A search finds the metric whatever dimensions the worker's EMF blobs carry
            # (Powertools adds `service`; Failed, in blobs of its own, also has ErrorType).
            return cloudwatch.MathExpression(
                expression=(
                    f'SEARCH(\'Namespace="{spec.METRICS_NAMESPACE}" '
                    f"MetricName=\"{metric_name}\"', 'Sum', 300)"
                ),
                using_metrics={},
                label=label,
                period=Duration.minutes(5),
            )

        def both(metric: str, statistic: str = "Sum") -> list[cloudwatch.IMetric]:
            return [
                function.metric(metric, statistic=statistic, label=f"{name} {metric}")
                for name, function in (("ingest", ingest), ("worker", worker))
            ]

        dashboard = cloudwatch.Dashboard(
            self,
            "Dashboard",
            dashboard_name=f"{config.prefix}-dlq-pipeline",
            default_interval=Duration.hours(3),
        )
        dashboard.add_widgets(
            cloudwatch.TextWidget(
                markdown=(
                    f"# dlq-pipeline ({config.name})\n"
                    "API Gateway → ingest → main queue → worker → ledger; failures land in "
                    "the DLQ. Each alarm's description names its runbook in "
                    f"`{RUNBOOK_DIR}/`; start with `dlqctl inspect "
                    f"{queues.dlq_name}`."
                ),
                width=12,
                height=4,
            ),
            cloudwatch.AlarmStatusWidget(
                alarms=[info.alarm for info in self.alarms.values()],
                title="Alarms",
                width=12,
                height=4,
            ),
        )
        dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Queue depth (messages)",
                left=[
                    queues.main.metric_approximate_number_of_messages_visible(
                        label="main visible", statistic="Maximum", period=MINUTE
                    ),
                    queues.main.metric_approximate_number_of_messages_not_visible(
                        label="main in flight", statistic="Maximum", period=MINUTE
                    ),
                    queues.dlq.metric_approximate_number_of_messages_visible(
                        label="DLQ visible", statistic="Maximum", period=MINUTE
                    ),
                ],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="Age of oldest message (s)",
                left=[
                    queues.main.metric_approximate_age_of_oldest_message(
                        label="main", statistic="Maximum", period=MINUTE
                    ),
                    queues.dlq.metric_approximate_age_of_oldest_message(
                        label="DLQ", statistic="Maximum", period=MINUTE
                    ),
                ],
                left_annotations=[
                    cloudwatch.HorizontalAnnotation(
                        value=config.main_queue_age_alarm_seconds, label="main-queue age alarm"
                    ),
                    cloudwatch.HorizontalAnnotation(value=DLQ_AGE_ALARM_S, label="DLQ age alarm"),
                ],
                width=12,
            ),
        )
        dashboard.add_widgets(
            cloudwatch.GraphWidget(title="Lambda invocations", left=both("Invocations"), width=6),
            cloudwatch.GraphWidget(title="Lambda errors", left=both("Errors"), width=6),
            cloudwatch.GraphWidget(
                title="Lambda duration p99 (ms)",
                left=both("Duration", "p99"),
                left_annotations=[
                    cloudwatch.HorizontalAnnotation(
                        value=spec.WORKER_TIMEOUT_S * 1000, label="worker timeout"
                    )
                ],
                width=6,
            ),
            cloudwatch.GraphWidget(
                title="Throttles and worker concurrency",
                left=[throttles],
                right=[worker.metric("ConcurrentExecutions", statistic="Maximum")],
                right_annotations=[
                    cloudwatch.HorizontalAnnotation(
                        value=config.worker_max_concurrency, label="event source max concurrency"
                    )
                ],
                width=6,
            ),
        )
        dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="API requests",
                left=[
                    stage.metric_count(label="requests", statistic="Sum"),
                    stage.metric_client_error(label="4xx", statistic="Sum"),
                    stage.metric_server_error(label="5xx", statistic="Sum"),
                ],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="API latency p99 (ms)",
                left=[
                    stage.metric_latency(label="latency", statistic="p99"),
                    stage.metric_integration_latency(label="integration", statistic="p99"),
                ],
                width=12,
            ),
        )
        dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title=f"Worker outcomes ({spec.METRICS_NAMESPACE} EMF)",
                left=[
                    search(spec.METRIC_PROCESSED, spec.METRIC_PROCESSED),
                    search(spec.METRIC_IDEMPOTENCY_HIT, spec.METRIC_IDEMPOTENCY_HIT),
                    search(
                        spec.METRIC_FAILURE_MODE_UNREADABLE, spec.METRIC_FAILURE_MODE_UNREADABLE
                    ),
                ],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title=f"Failed by {spec.METRIC_DIMENSION_ERROR_TYPE} (EMF)",
                # One line per error type, labelled by CloudWatch from the dimension.
                left=[
                    search(
                        spec.METRIC_FAILED,
                        "${PROP('Dim." + spec.METRIC_DIMENSION_ERROR_TYPE + "')}",
                    )
                ],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Errors by type (worker logs)",
                left=list(self.error_metrics.values()),
                width=8,
            ),
        )
        return dashboard


def query_name(config: EnvironmentConfig, name: str) -> str:
    """The saved query's name in the Logs Insights console (slashes make folders)."""
    return f"dlq-pipeline/{config.name}/{name}"
