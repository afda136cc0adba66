"""A plan's aggregates, and a look's first matches up to the cap."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator

from dlqctl.core.inspect import AGE_BUCKETS, bucket_of
from dlqctl.core.scan import Scan
from dlqctl.core.select import Selected
from dlqctl.models import AgeBucket, PlannedMessage, PlanSummary, RedriveReport


class PlanTally:
    """Counts by error type, target, age bucket and predicted outcome, added to one
    planned message at a time, so a streamed plan keeps no list."""

    def __init__(self) -> None:
        self.count = 0
        self.refused = 0
        self.error_types: Counter[str] = Counter()
        self.targets: Counter[str] = Counter()
        self.ages: Counter[str] = Counter()
        self.outcomes: Counter[str] = Counter()
        self.delay_min: int | None = None
        self.delay_max: int | None = None
        self.oldest: float | None = None
        self.newest: float | None = None

    def add(self, planned: PlannedMessage) -> None:
        self.add_touched(planned.error_type, planned.age_s, planned.target)
        if planned.predicted_outcome:
            self.outcomes[planned.predicted_outcome] += 1
        delay = planned.delay_s
        self.delay_min = delay if self.delay_min is None else min(self.delay_min, delay)
        self.delay_max = delay if self.delay_max is None else max(self.delay_max, delay)

    def add_touched(self, error_type: str, age_s: float, target: str) -> None:
        """One message the plan would touch: sent to `target`, or archived there."""
        self.count += 1
        self.error_types[error_type] += 1
        self.targets[target] += 1
        self.ages[bucket_of(age_s)] += 1
        self.oldest = age_s if self.oldest is None else max(self.oldest, age_s)
        self.newest = age_s if self.newest is None else min(self.newest, age_s)

    def summary(self) -> PlanSummary:
        return PlanSummary(
            by_error_type=dict(self.error_types.most_common()),
            by_target=dict(self.targets.most_common()),
            by_age=[
                AgeBucket(label=label, min_age_s=low, max_age_s=high, count=self.ages[label])
                for label, low, high in AGE_BUCKETS
            ],
            by_predicted_outcome=dict(self.outcomes.most_common()),
            refused=self.refused,
            delay_min_s=self.delay_min,
            delay_max_s=self.delay_max,
            oldest_age_s=self.oldest,
            newest_age_s=self.newest,
        )


def first(
    selection: Iterable[Selected], limit: int, scan: Scan | None = None
) -> Iterator[Selected]:
    """The first `limit` matches, one at a time; the scan, if any, stops there."""
    for taken, chosen in enumerate(selection, start=1):
        yield chosen
        if taken >= limit:
            if scan:
                scan.stop(f"reached --max-messages ({limit})")
            return


def movable(plan: RedriveReport) -> int:
    """How many of a plan's selected messages no safety check refused."""
    return plan.selected - sum(1 for f in plan.failed if f.stage == "refused")
