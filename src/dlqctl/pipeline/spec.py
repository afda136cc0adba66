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
MAIN_QUEUE_VISIBILITY_S: Final = WORKER_TIMEOUT_S * VISIBILITY_MULTIPLIER
MAX_RECEIVE_COUNT: Final = 3
BATCH_SIZE: Final = 10
BATCHING_WINDOW_S: Final = 5

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
