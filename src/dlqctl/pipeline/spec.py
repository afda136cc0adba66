"""The single source of truth for the pipeline's shape.

infra/ (the CDK stack), the lab and dlqctl's own defaults import these names and numbers,
so the deployed stack, the local lab and the CLI cannot drift apart.
"""

from __future__ import annotations

from typing import Final

# Worker Lambda and its queue: SQS must not hand a message to a second worker while the
# first may still be running, so visibility is a multiple of the function timeout.
WORKER_TIMEOUT_S: Final = 30
VISIBILITY_MULTIPLIER: Final = 6
MAX_RECEIVE_COUNT: Final = 3
BATCH_SIZE: Final = 10
BATCHING_WINDOW_S: Final = 5
# AWS's guidance: at least six times the function timeout, plus the batching window.
MAIN_QUEUE_VISIBILITY_S: Final = WORKER_TIMEOUT_S * VISIBILITY_MULTIPLIER + BATCHING_WINDOW_S

# Retention: the DLQ keeps messages longer than the main queue, so nothing expires while
# it waits for a person (standard queues count retention from the original send).
MAIN_QUEUE_RETENTION_S: Final = 4 * 86400
DLQ_RETENTION_S: Final = 14 * 86400

# The failure ledger, which is also the idempotency table.
LEDGER_TTL_DAYS: Final = 7
LEDGER_KEY: Final = "idempotencyKey"
LEDGER_STATUS: Final = "status"
LEDGER_ATTEMPTS: Final = "attempts"
LEDGER_ERROR_TYPE: Final = "errorType"
LEDGER_ERROR_MESSAGE: Final = "errorMessage"
LEDGER_STARTED_AT: Final = "startedAt"
LEDGER_COMPLETED_AT: Final = "completedAt"
LEDGER_LAST_FAILED_AT: Final = "lastFailedAt"
LEDGER_MESSAGE_ID: Final = "messageId"
LEDGER_EXPIRES_AT: Final = "expiresAt"
LEDGER_ERROR_MESSAGE_MAX_BYTES: Final = 1024

STATUS_INFLIGHT: Final = "INFLIGHT"
STATUS_COMPLETED: Final = "COMPLETED"
STATUS_FAILED: Final = "FAILED"

# Message attributes the ingest Lambda sets and dlqctl reads.
ERROR_TYPE_ATTRIBUTE: Final = "ErrorType"
CORRELATION_ID_ATTRIBUTE: Final = "CorrelationId"
IDEMPOTENCY_KEY_ATTRIBUTE: Final = "IdempotencyKey"

# Failure-mode switch for GameDays.
FAILURE_MODE_PARAMETER: Final = "/dlq-pipeline/failure-mode"
FAILURE_MODES: Final = ("none", "poison", "timeout", "error-rate:P")

# Resource names (the stack prefixes them per environment).
MAIN_QUEUE_NAME: Final = "dlq-pipeline-main"
DLQ_NAME: Final = "dlq-pipeline-dlq"
LEDGER_TABLE_NAME: Final = "dlq-pipeline-ledger"

# The ingest API refuses bodies the queue could not take (413).
QUEUE_MAX_MESSAGE_BYTES: Final = 262_144

# Error types the worker records in the ledger and in its logs.
POISON_ERROR: Final = "PoisonPayloadError"
DOWNSTREAM_ERROR: Final = "DownstreamError"
TIMEOUT_ERROR: Final = "Timeout"

# Handler configuration, passed as Lambda environment variables.
ENV_QUEUE_URL: Final = "QUEUE_URL"
ENV_LEDGER_TABLE: Final = "LEDGER_TABLE"
ENV_FAILURE_MODE_PARAMETER: Final = "FAILURE_MODE_PARAMETER"
ENV_FAILURE_MODE_CACHE_S: Final = "FAILURE_MODE_CACHE_S"
ENV_LEDGER_TTL_DAYS: Final = "LEDGER_TTL_DAYS"
FAILURE_MODE_CACHE_S: Final = 30

# Observability: the worker's structured logs and EMF metrics.
SERVICE_NAME: Final = "dlq-pipeline"
METRICS_NAMESPACE: Final = "DlqPipeline"
METRIC_PROCESSED: Final = "Processed"
METRIC_FAILED: Final = "Failed"
METRIC_IDEMPOTENCY_HIT: Final = "IdempotencyHit"
# Counted when the failure-mode parameter cannot be read or parsed: the worker then goes
# on with the last mode it read (or none), so a broken GameDay switch shows up here
# instead of as failed orders.
METRIC_FAILURE_MODE_UNREADABLE: Final = "FailureModeUnreadable"

# The lab compresses time so a GameDay takes minutes: the same ratios, smaller numbers.
LAB_WORKER_TIMEOUT_S: Final = 1
LAB_VISIBILITY_S: Final = LAB_WORKER_TIMEOUT_S * VISIBILITY_MULTIPLIER
LAB_FAILURE_MODE_CACHE_S: Final = 1

# Field names in the handlers' JSON log lines, which the stack's metric filters and
# Logs Insights queries (and so the runbooks) select on.
LOG_FIELD_ERROR_TYPE: Final = "errorType"
LOG_FIELD_IDEMPOTENCY_KEY: Final = "idempotency_key"
LOG_FIELD_CORRELATION_ID: Final = "correlation_id"
LOG_FIELD_MESSAGE_ID: Final = "message_id"
# The EMF dimension on METRIC_FAILED, and the namespace of the log-derived error counts.
METRIC_DIMENSION_ERROR_TYPE: Final = "ErrorType"
LOG_METRICS_NAMESPACE: Final = f"{METRICS_NAMESPACE}/Logs"

# CloudFormation output keys of the deployed stack: `dlqctl config import-stack` reads them.
OUTPUT_API_URL: Final = "ApiUrl"
OUTPUT_MAIN_QUEUE_URL: Final = "MainQueueUrl"
OUTPUT_MAIN_QUEUE_ARN: Final = "MainQueueArn"
OUTPUT_DLQ_URL: Final = "DeadLetterQueueUrl"
OUTPUT_DLQ_ARN: Final = "DeadLetterQueueArn"
OUTPUT_LEDGER_TABLE: Final = "LedgerTableName"
OUTPUT_FAILURE_MODE_PARAMETER: Final = "FailureModeParameterName"
OUTPUT_ALARM_TOPIC_ARN: Final = "AlarmTopicArn"
OUTPUT_OPERATOR_POLICY_ARN: Final = "OperatorPolicyArn"
OUTPUT_DASHBOARD_NAME: Final = "DashboardName"
