"""A plan's aggregates, and taking a look's first matches up to the cap."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from dlqctl.core.inspect import AGE_BUCKETS, bucket_of
from dlqctl.core.scan import Scan
from dlqctl.core.select import Selected
from dlqctl.models import AgeBucket, PlannedMessage, PlanSummary


def build_plan(planned: list[PlannedMessage], refused: int) -> PlanSummary:
    """Counts by error type, target, age bucket and predicted outcome."""
    ages = Counter(bucket_of(p.age_s) for p in planned)
    delays = [p.delay_s for p in planned]
    return PlanSummary(
        by_error_type=dict(Counter(p.error_type for p in planned).most_common()),
        by_target=dict(Counter(p.target for p in planned).most_common()),
        by_age=[
            AgeBucket(label=label, min_age_s=low, max_age_s=high, count=ages[label])
            for label, low, high in AGE_BUCKETS
        ],
        by_predicted_outcome=dict(
            Counter(p.predicted_outcome for p in planned if p.predicted_outcome).most_common()
        ),
        refused=refused,
        delay_min_s=min(delays) if delays else None,
        delay_max_s=max(delays) if delays else None,
    )


def take(selection: Iterable[Selected], limit: int, scan: Scan | None = None) -> list[Selected]:
    """The first `limit` matches; the scan, if any, stops there."""
    taken: list[Selected] = []
    for chosen in selection:
        taken.append(chosen)
        if len(taken) >= limit:
            if scan:
                scan.stop(f"reached --max-messages ({limit})")
            break
    return taken
