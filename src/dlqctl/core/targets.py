"""Where a redrive sends each message, and the checks that must pass before it does."""

from __future__ import annotations

from dataclasses import dataclass

from dlqctl.aws.session import AwsSession
from dlqctl.aws.sqs import SqsGateway
from dlqctl.core.queues import describe, open_queue
from dlqctl.core.scan import in_flight_room
from dlqctl.errors import RefusedError, UsageError
from dlqctl.models import QueueInfo


@dataclass(frozen=True)
class Target:
    sqs: SqsGateway
    info: QueueInfo


class TargetResolver:
    """Explicit --to, else the message's DeadLetterQueueSourceArn, else the DLQ's only source.

    Without a DLQ (a replay from a file) the target must be explicit.
    """

    def __init__(self, aws: AwsSession, dlq: QueueInfo | None, explicit: str | None) -> None:
        self.aws = aws
        self.dlq = dlq
        self.explicit = explicit
        self._cache: dict[str, Target] = {}

    def for_message(self, source_arn: str | None) -> Target:
        queue = self.explicit or source_arn or self._only_source()
        if queue not in self._cache:
            sqs, url = open_queue(self.aws, queue)
            target = Target(sqs, describe(sqs, url, with_sources=False))
            preflight(self.dlq, target.info)
            self._cache[queue] = target
        return self._cache[queue]

    def default(self) -> Target | None:
        """The target every message goes to when it is known before any is seen: --to,
        or the DLQ's only source. None when each message says (or must say) its own."""
        if self.explicit or (self.dlq is not None and len(self.dlq.sources) == 1):
            return self.for_message(None)
        return None

    def _only_source(self) -> str:
        if self.dlq is None:
            raise UsageError("pass --to QUEUE: a file does not say where its messages go")
        sources = self.dlq.sources
        if len(sources) == 1:
            # Sources share the DLQ's region and account (SQS requires it): name them by ARN.
            return self.dlq.arn.rsplit(":", 1)[0] + ":" + sources[0]
        if not sources:
            raise RefusedError(
                f"cannot tell where to send messages from {self.dlq.name}: no queue names it "
                "as its DLQ and the messages do not say; pass --to QUEUE"
            )
        raise RefusedError(
            f"cannot tell where to send messages from {self.dlq.name}: it is the DLQ of "
            f"{', '.join(sources)} and the messages do not say which; pass --to QUEUE"
        )


def preflight(dlq: QueueInfo | None, target: QueueInfo) -> None:
    """Refuse a target that cannot or should not take the DLQ's messages."""
    if in_flight_room(target) <= 0:
        raise RefusedError(
            f"{target.name} has {target.in_flight} messages in flight, near SQS's quota: "
            "wait for its consumers to catch up"
        )
    if dlq is None:
        return
    if target.arn == dlq.arn:
        raise RefusedError(f"the target {target.name} is the DLQ itself: pass --to another queue")
    if target.fifo != dlq.fifo:
        kinds = {True: "FIFO", False: "standard"}
        raise RefusedError(
            f"{dlq.name} is {kinds[dlq.fifo]} but {target.name} is {kinds[target.fifo]}: "
            "messages cannot move between the two kinds"
        )
    policy = dlq.redrive_allow_policy or {}
    permission = policy.get("redrivePermission")
    if permission == "denyAll" or (
        permission == "byQueue" and target.arn not in policy.get("sourceQueueArns", [])
    ):
        raise RefusedError(
            f"{dlq.name}'s RedriveAllowPolicy does not list {target.name} as a source: "
            "check the target, or fix the policy if it is wrong"
        )
