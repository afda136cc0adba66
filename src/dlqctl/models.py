"""The data dlqctl reads, decides on and prints (pydantic v2).

Field names are the JSON contract of design §3: snake_case, ages in seconds, times in
ISO-8601 UTC. Renaming a field breaks runbooks.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

# Where a message's error type came from: the pipeline's own attribute, its ledger, a
# config rule, or the error data of the AWS service that gave up on the message (named
# by the field that held it).
ErrorSource = Literal[
    "attribute",
    "ErrorMessage",
    "ErrorCode",
    "responsePayload.errorType",
    "responseContext.functionError",
    "requestContext.condition",
    "ERROR_CODE",
    "EXHAUSTED_RETRY_CONDITION",
    "ledger",
    "rule",
    "none",
]
# Who put a message in the DLQ (docs/dlq-kinds.md): SQS's redrive policy, Lambda (an
# asynchronous invocation's DLQ, or an on-failure destination), an EventBridge rule's
# target, EventBridge Scheduler, or an SNS subscription.
DlqKind = Literal[
    "sqs-redrive-policy",
    "lambda-async",
    "lambda-destination",
    "eventbridge-rule",
    "scheduler",
    "sns-subscription",
    "unknown",
]
BodyEncoding = Literal["json", "text", "base64"]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class QueueRef(_Model):
    """A queue as the user named it: by name, URL or ARN."""

    kind: Literal["name", "url", "arn"]
    raw: str
    name: str
    url: str | None = None
    region: str | None = None
    account: str | None = None

    @property
    def fifo(self) -> bool:
        return self.name.endswith(".fifo")


class RedrivePolicy(_Model):
    dead_letter_target_arn: str
    max_receive_count: int


class QueueInfo(_Model):
    """A queue's identity, depth and settings, from GetQueueAttributes."""

    name: str
    url: str
    arn: str
    fifo: bool
    visible: int
    in_flight: int
    delayed: int
    retention_s: int
    visibility_timeout_s: int
    max_message_size: int
    redrive_policy: RedrivePolicy | None = None
    redrive_allow_policy: dict[str, Any] | None = None
    kms_key_id: str | None = None
    oldest_age_s: float | None = None
    sources: list[str] = Field(default_factory=list)
    # In a listing: what feeds the DLQ as far as its attributes and the config tell
    # (sqs-redrive-policy when queues name it; the config's kind; "unknown" for a queue
    # only named like a DLQ). A look tells each message's kind.
    kind: DlqKind | None = None

    @property
    def depth(self) -> int:
        return self.visible + self.in_flight + self.delayed


class MessageAttribute(_Model):
    data_type: str
    value: str
    """The string value, or base64 for Binary attributes."""


class DlqMessage(_Model):
    """One message seen in a DLQ, with what dlqctl worked out about it."""

    message_id: str
    sent_at: datetime
    age_s: float
    receive_count: int
    error_type: str
    error_source: ErrorSource
    source_queue_arn: str | None = None
    kind: DlqKind = "unknown"
    # What the message failed to reach: the source queue, the function (qualified), the
    # rule's or schedule's target, or the topic.
    original_target: str | None = None
    attributes: dict[str, MessageAttribute] = Field(default_factory=dict)
    body: Any = None
    body_encoding: BodyEncoding
    body_sha256: str
    body_bytes: int
    idempotency_key: str
    ledger_status: str | None = None
    message_group_id: str | None = None
    deduplication_id: str | None = None
    sequence_number: str | None = None


class ErrorTypeSummary(_Model):
    error_type: str
    sources: list[ErrorSource]
    count: int
    oldest_age_s: float
    newest_age_s: float
    sample_ids: list[str]


class AgeBucket(_Model):
    label: str
    min_age_s: float
    max_age_s: float | None
    count: int


class ReceiveCountSpread(_Model):
    min: int | None
    max: int | None
    histogram: dict[str, int]


class SourceCount(_Model):
    source_queue_arn: str | None
    count: int


class KindCount(_Model):
    """Messages of one kind that failed to reach one target."""

    kind: DlqKind
    original_target: str | None
    count: int


class Coverage(_Model):
    """How much of the queue a scan saw: every result says so."""

    scanned: int
    approximate_depth: int
    complete: bool
    stopped_because: str
    # The highest ApproximateReceiveCount seen: a DLQ with its own redrive policy moves a
    # message on once it passes that policy's maxReceiveCount.
    highest_receive_count: int | None = None
    # Messages a --query or config rule could not be evaluated on (e.g. "150" > 100): they
    # count as not matching; by reason, most frequent first.
    unevaluated: int = 0
    unevaluated_because: dict[str, int] = Field(default_factory=dict)


class Share(_Model):
    """One value's share of a sample (`count` of `sample_size`), its 95 % interval, and
    what that makes of the whole queue."""

    value: str
    count: int
    share: float
    low: float
    high: float
    estimated: int
    estimated_low: int
    estimated_high: int


class Estimate(_Model):
    """What a look that saw part of a DLQ says about all of it: an estimate, not a count.
    Shares are of every message seen (matching or not), so with a filter they estimate
    how much of the queue matches."""

    sample_size: int
    population: int  # the DLQ's approximate depth when the look began
    confidence: float = 0.95
    method: str = (
        "the messages SQS handed out first, taken as a uniform sample; Wilson score "
        "intervals with the finite population correction"
    )
    by_error_type: list[Share]
    by_source: list[Share]
    by_age: list[Share]
    by_kind: list[Share] = Field(default_factory=list)


class InspectReport(_Model):
    queue: QueueInfo
    coverage: Coverage
    matched: int
    by_error_type: list[ErrorTypeSummary]
    age_buckets: list[AgeBucket]
    receive_counts: ReceiveCountSpread
    sources: list[SourceCount]
    kinds: list[KindCount] = Field(default_factory=list)
    expiring_within_24h: int
    oldest_age_s: float | None
    newest_age_s: float | None
    warnings: list[str]
    # Set when the look saw only part of a standard DLQ (a deep queue, --max-scan, or
    # --sample): what the counts above say about the whole queue.
    estimate: Estimate | None = None


class PeekResult(_Model):
    queue: QueueInfo
    coverage: Coverage
    matched: int
    messages: list[DlqMessage]
    warnings: list[str]


PredictedOutcome = Literal[
    "will run",
    "no-op (already COMPLETED)",
    "may collide (INFLIGHT)",
    "will fail (INPROGRESS)",
    # A Powertools ledger: Powertools raises before the function runs.
    "will fail (no idempotency key)",
    "will fail (invalid record)",
]


class PlannedMessage(_Model):
    """One message a redrive would move, and how."""

    message_id: str
    error_type: str
    age_s: float
    delay_s: int
    target: str
    body_sha256: str
    body_bytes: int
    idempotency_key: str
    redrive_count: int
    message_group_id: str | None = None
    predicted_outcome: PredictedOutcome | None = None


class FailedEntry(_Model):
    """A message that was not moved, and why; it is still in the source queue."""

    message_id: str
    # "failed-again": the target took the copy and failed on it (a synchronous invoke's
    # verdict); the message stays in the DLQ.
    stage: Literal["send", "delete", "skipped", "refused", "hold-lost", "failed-again"]
    reason: str


class CanaryResult(_Model):
    size: int
    waited_s: float
    came_back: int
    ledger_completed: int | None = None
    passed: bool
    detail: str


class PlanSummary(_Model):
    """A plan's aggregates: what would move, by error type, target, age and outcome."""

    by_error_type: dict[str, int]
    by_target: dict[str, int]
    by_age: list[AgeBucket]
    by_predicted_outcome: dict[str, int]
    refused: int
    delay_min_s: int | None = None
    delay_max_s: int | None = None
    # The exact oldest and newest age of what would be touched (by_age only buckets it).
    oldest_age_s: float | None = None
    newest_age_s: float | None = None


class RedriveReport(_Model):
    """The plan (a dry run) or the outcome of a run; the JSON contract of design §3.

    `planned` lists every message of a plan; a run's report leaves it empty (a run
    streams: its journal names every message), and counts what it did instead.
    `came_back`: copies this run sent that returned to the DLQ while it ran (matched by
    message id). `holds_lost`: messages not acted on because their hold lapsed.
    """

    run_id: str
    kind: Literal["redrive", "replay"] = "redrive"
    dry_run: bool
    source: str
    target: str | None
    selected: int
    sent: int
    deleted: int
    failed: list[FailedEntry]
    possible_duplicates: int
    planned: list[PlannedMessage]
    duration_s: float
    coverage: Coverage
    stopped_because: str | None = None
    interrupted: bool = False
    canary: CanaryResult | None = None
    came_back: int = 0
    # Copies the target took and failed on at once (`--invoke sync`): left in the DLQ.
    failed_again: int = 0
    holds_lost: int = 0
    summary: PlanSummary | None = None
    warnings: list[str] = Field(default_factory=list)

    @property
    def moved_all(self) -> bool:
        """Every selected message reached the target (and, for a redrive, left the DLQ)."""
        done = self.sent if self.kind == "replay" else self.deleted
        return done == self.selected and not self.failed


class ExportedAttribute(_Model):
    data_type: str
    string_value: str | None = None
    binary_value: str | None = None
    """Base64 of the bytes, for Binary attributes."""


class ExportRecord(_Model):
    """One message in an export file (JSONL): everything needed to put it back exactly."""

    format: Literal["dlqctl-export/1"] = "dlqctl-export/1"
    message_id: str
    body: str
    body_sha256: str
    message_attributes: dict[str, ExportedAttribute] = Field(default_factory=dict)
    system_attributes: dict[str, str] = Field(default_factory=dict)
    message_group_id: str | None = None
    deduplication_id: str | None = None
    sent_at: datetime
    source_queue: str
    error_type: str
    error_source: ErrorSource
    exported_at: datetime


class PlannedDeletion(_Model):
    """One message a purge (or export --delete) would archive and delete."""

    message_id: str
    error_type: str
    age_s: float
    body_sha256: str
    body_bytes: int
    message_group_id: str | None = None


class ArchiveReport(_Model):
    """The outcome of `export` and `purge`, or with `dry_run` their plan: `selected`
    messages would be archived (and deleted), aggregated in `summary` and listed in
    `planned` (a run leaves both empty; its journal names every message)."""

    run_id: str
    source: str
    file: str | None
    exported: int
    deleted: int
    failed: list[FailedEntry]
    coverage: Coverage
    duration_s: float
    interrupted: bool = False
    stopped_because: str | None = None
    warnings: list[str] = Field(default_factory=list)
    dry_run: bool = False
    selected: int = 0
    summary: PlanSummary | None = None
    planned: list[PlannedDeletion] = Field(default_factory=list)


class MoveTask(_Model):
    """One of SQS's server-side move tasks, as ListMessageMoveTasks reports it."""

    task_handle: str | None
    status: str | None
    source: str | None
    destination: str | None
    rate: int | None
    moved: int
    to_move: int | None
    failure_reason: str | None
    started_at: str | None


class MoveTaskStarted(_Model):
    run_id: str
    task_handle: str
    source: str
    destination: str | None
    rate: int | None


class MoveTaskCancelled(_Model):
    task_handle: str
    moved: int


class History(_Model):
    """Recent destructive runs from the audit journal, newest first."""

    journal: str
    runs: list[dict[str, Any]]
    unreadable_lines: int = 0
    """Lines that are not a record (a torn last line after a crash, or damage)."""
