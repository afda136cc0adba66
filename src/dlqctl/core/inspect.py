"""`inspect`: a summary of a DLQ built while streaming, holding no bodies."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from dlqctl.core.estimate import estimate
from dlqctl.core.queue_ref import queue_name_from_arn
from dlqctl.models import (
    AgeBucket,
    Coverage,
    DlqKind,
    DlqMessage,
    ErrorSource,
    ErrorTypeSummary,
    InspectReport,
    KindCount,
    QueueInfo,
    ReceiveCountSpread,
    SourceCount,
)

SAMPLE_IDS = 3
EXPIRY_WARNING_S = 86_400
_RECEIVE_COUNT_CAP = 10

AGE_BUCKETS: list[tuple[str, float, float | None]] = [
    ("< 5m", 0, 300),
    ("5m-1h", 300, 3600),
    ("1h-6h", 3600, 21_600),
    ("6h-24h", 21_600, 86_400),
    ("1d-3d", 86_400, 259_200),
    ("3d-7d", 259_200, 604_800),
    (">= 7d", 604_800, None),
]


@dataclass
class _TypeTally:
    count: int = 0
    sources: set[ErrorSource] = field(default_factory=set)
    oldest: float = 0.0
    newest: float = float("inf")
    samples: list[str] = field(default_factory=list)


class InspectTally:
    """Counts, extremes and samples; constant memory per error type, not per message."""

    def __init__(self, retention_s: int) -> None:
        self.retention_s = retention_s
        self.matched = 0
        self.by_type: dict[str, _TypeTally] = {}
        self.buckets = Counter[str]()
        self.receive_counts = Counter[int]()
        self.receive_min: int | None = None
        self.receive_max: int | None = None
        self.sources = Counter[str | None]()
        self.kinds = Counter[tuple[DlqKind, str | None]]()
        self.expiring = 0
        self.oldest: float | None = None
        self.newest: float | None = None

    def add(self, message: DlqMessage) -> None:
        self.matched += 1
        age = message.age_s
        tally = self.by_type.setdefault(message.error_type, _TypeTally())
        tally.count += 1
        tally.sources.add(message.error_source)
        tally.oldest = max(tally.oldest, age)
        tally.newest = min(tally.newest, age)
        if len(tally.samples) < SAMPLE_IDS:
            tally.samples.append(message.message_id)
        self.buckets[bucket_of(age)] += 1
        count = message.receive_count
        self.receive_counts[min(count, _RECEIVE_COUNT_CAP)] += 1
        self.receive_min = count if self.receive_min is None else min(self.receive_min, count)
        self.receive_max = count if self.receive_max is None else max(self.receive_max, count)
        self.sources[message.source_queue_arn] += 1
        self.kinds[(message.kind, message.original_target)] += 1
        if self.retention_s - age < EXPIRY_WARNING_S:
            self.expiring += 1
        self.oldest = age if self.oldest is None else max(self.oldest, age)
        self.newest = age if self.newest is None else min(self.newest, age)

    def report(
        self,
        queue: QueueInfo,
        coverage: Coverage,
        warnings: list[str],
        *,
        sampled: bool = False,
    ) -> InspectReport:
        """The summary; with an estimate for the whole queue when the look saw only part
        of a standard queue, or was asked to sample (`sampled`)."""
        partial = sampled or not coverage.complete
        estimated = None
        if partial and not queue.fifo and coverage.scanned:
            estimated = estimate(
                sample=coverage.scanned,
                population=coverage.approximate_depth,
                error_types={name: t.count for name, t in self.by_type.items()},
                sources=_by_queue_name(self.sources),
                ages={label: n for label, n in self.buckets.items() if n},
                kinds=self._by_kind(),
            )
        return InspectReport(
            queue=queue,
            coverage=coverage,
            matched=self.matched,
            by_error_type=self._error_types(),
            age_buckets=[
                AgeBucket(label=label, min_age_s=low, max_age_s=high, count=self.buckets[label])
                for label, low, high in AGE_BUCKETS
            ],
            receive_counts=ReceiveCountSpread(
                min=self.receive_min,
                max=self.receive_max,
                histogram={
                    (f"{n}+" if n == _RECEIVE_COUNT_CAP else str(n)): count
                    for n, count in sorted(self.receive_counts.items())
                },
            ),
            sources=[
                SourceCount(source_queue_arn=arn, count=count)
                for arn, count in self.sources.most_common()
            ],
            kinds=[
                KindCount(kind=kind, original_target=target, count=count)
                for (kind, target), count in self.kinds.most_common()
            ],
            expiring_within_24h=self.expiring,
            oldest_age_s=self.oldest,
            newest_age_s=self.newest,
            warnings=warnings,
            estimate=estimated,
        )

    def _by_kind(self) -> Counter[str]:
        kinds = Counter[str]()
        for (kind, _), n in self.kinds.items():
            kinds[kind] += n
        return kinds

    def _error_types(self) -> list[ErrorTypeSummary]:
        ranked = sorted(self.by_type.items(), key=lambda item: (-item[1].count, item[0]))
        return [
            ErrorTypeSummary(
                error_type=name,
                sources=sorted(tally.sources),
                count=tally.count,
                oldest_age_s=tally.oldest,
                newest_age_s=tally.newest,
                sample_ids=tally.samples,
            )
            for name, tally in ranked
        ]


def _by_queue_name(by_arn: Counter[str | None]) -> Counter[str]:
    """Sources by queue name (two regions' queues of one name are added up)."""
    named = Counter[str]()
    for arn, n in by_arn.items():
        named[queue_name_from_arn(arn) if arn else "unknown"] += n
    return named


def bucket_of(age: float) -> str:
    for label, low, high in AGE_BUCKETS:
        if age >= low and (high is None or age < high):
            return label
    return AGE_BUCKETS[0][0]
