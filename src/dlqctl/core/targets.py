"""Where a redrive sends each message, and the checks that must pass before it does.

An SQS DLQ's messages go back to their source queue. The other kinds go back to what
they failed to reach (docs/dlq-kinds.md): a Lambda function (invoked again), the queue,
function or topic an EventBridge rule or schedule targets, and, only when the person
accepts that every subscriber or rule receives the copy (`--fan-out`), an SNS topic or
an event bus.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from dlqctl.aws.session import AwsSession
from dlqctl.aws.targets import EventsGateway, LambdaGateway, SnsGateway
from dlqctl.core.kinds import Reading
from dlqctl.core.moving import Sink
from dlqctl.core.queue_ref import account_of, is_arn, region_of, service_of
from dlqctl.core.queues import describe, open_queue
from dlqctl.core.scan import in_flight_room
from dlqctl.errors import DlqctlError, RefusedError, UsageError
from dlqctl.models import DlqKind, QueueInfo

TargetService = Literal["sqs", "lambda", "sns", "events"]

# What one copy may weigh (AWS's quotas): Lambda takes 1 MB asynchronously and 6 MB
# synchronously; SNS and EventBridge take 256 KB, a whole batch included.
LAMBDA_ASYNC_MAX = 1_048_576
LAMBDA_SYNC_MAX = 6_291_456
SNS_MAX = 262_144
EVENTS_MAX = 262_144


@dataclass(frozen=True)
class Target:
    """Where copies go: `key` (an ARN) names it in reports, the journal and batches."""

    key: str
    name: str
    service: TargetService
    sink: Sink
    address: str  # the queue's URL, the function's or topic's ARN, the bus's name
    max_size: int  # bytes one copy may weigh
    batch_size_limit: int  # bytes one batch may weigh
    info: QueueInfo | None = None  # an SQS target's settings

    @property
    def delays(self) -> bool:
        """Whether a copy can be delayed (SQS's DelaySeconds; not on FIFO)."""
        return self.info is not None and not self.info.fifo


class MessageRefused(Exception):
    """This message cannot be sent where it came from; it stays in the DLQ."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TargetResolver:
    """Explicit --to, else where the message's kind says it came from, else the DLQ's
    only source. Without a DLQ (a replay from a file) the target must be explicit.

    `fan_out`: the person accepts publishing to a topic or bus whose every subscriber
    (or matching rule) receives the copy, not only the one that failed. `invoke`: how a
    function is invoked again ("async": queued, "sync": with its verdict per message).
    """

    def __init__(
        self,
        aws: AwsSession,
        dlq: QueueInfo | None,
        explicit: str | None,
        *,
        fan_out: bool = False,
        invoke: Literal["async", "sync"] = "async",
    ) -> None:
        self.aws = aws
        self.dlq = dlq
        self.explicit = explicit
        self.fan_out = fan_out
        self.invoke = invoke
        self._cache: dict[str, Target] = {}
        self._refused: dict[str, str] = {}  # a kind's target -> why it cannot be reached
        self._lambdas: dict[str | None, LambdaGateway] = {}
        self._dlq_function: str | None = None

    def for_message(self, source_arn: str | None, reading: Reading | None = None) -> Target:
        """The message's target; raises MessageRefused when this message cannot go
        anywhere (it stays in the DLQ, with the reason)."""
        if self.explicit:
            return self._target(self.explicit, kind_target=False)
        if reading is not None and reading.refused:
            raise MessageRefused(reading.refused)
        kind = reading.kind if reading else "unknown"
        if kind in ("sqs-redrive-policy", "unknown"):
            return self._queue(source_arn or self._only_source(), check_policy=True)
        assert reading is not None
        # The target comes from the message (or the config): one that cannot be reached
        # refuses this message and the others for it, not the whole run.
        key = reading.target or f"{kind}:{reading.rule or ''}"
        if key in self._refused:
            raise MessageRefused(self._refused[key])
        try:
            return self._kind_target(kind, reading)
        except MessageRefused as exc:
            self._refused[key] = exc.reason
            raise
        except DlqctlError as exc:
            self._refused[key] = exc.message
            raise MessageRefused(exc.message) from None

    def _kind_target(self, kind: DlqKind, reading: Reading) -> Target:
        if kind == "lambda-async":
            function = reading.target or self._function_of_dlq()
            return self._target(self._owned(function, "lambda"), kind_target=True)
        if kind == "lambda-destination":
            if not reading.target:
                raise MessageRefused("the record names no function (requestContext.functionArn)")
            return self._target(self._owned(reading.target, "lambda"), kind_target=True)
        if kind in ("eventbridge-rule", "scheduler"):
            return self._rule_target(reading)
        return self._topic(reading)  # sns-subscription

    def _owned(self, arn: str, *services: str) -> str:
        """`arn`, when it names a resource of `services` in the DLQ's own account: whoever
        may send to the DLQ must not steer dlqctl (and its caller's rights) elsewhere."""
        if not is_arn(arn) or (services and service_of(arn) not in services):
            wanted = " or ".join(services) if services else "an ARN"
            raise MessageRefused(f"{arn[:200]!r} is not a {wanted} ARN: pass --to to choose")
        if self.dlq is not None and account_of(arn) != account_of(self.dlq.arn):
            raise MessageRefused(
                f"{arn} is in another account than the DLQ: pass --to to send it there"
            )
        return arn

    def default(self) -> Target | None:
        """The target every message goes to when it is known before any is seen: --to,
        or the DLQ's only source. None when each message says (or must say) its own."""
        if self.explicit or (self.dlq is not None and len(self.dlq.sources) == 1):
            return self.for_message(None)
        return None

    # -- by kind -----------------------------------------------------------------------

    def _rule_target(self, reading: Reading) -> Target:
        what = "rule" if reading.kind == "eventbridge-rule" else "schedule"
        if not reading.target:
            raise MessageRefused(f"the message does not name its {what}'s target (TARGET_ARN)")
        target = self._owned(reading.target)
        if service_of(target) in ("lambda", "sqs", "sns"):
            return self._target(target, kind_target=True)
        if reading.kind == "scheduler":
            raise MessageRefused(
                f"the schedule's target {target} is not a function, queue or topic: "
                "dlqctl cannot invoke it; pass --to QUEUE to keep the payloads elsewhere"
            )
        if not reading.rule:
            raise MessageRefused("the message does not name its rule (RULE_ARN)")
        rule = self._owned(reading.rule, "events")
        bus = _bus_of(rule)
        if not self.fan_out:
            raise MessageRefused(
                f"the rule's target {target} is not a function, queue or topic: add "
                f"--fan-out to put the event on bus {bus} again (every rule that matches "
                "it, and this rule's other targets, receive it), or --to QUEUE"
            )
        return self._bus(f"{rule.split(':rule/')[0]}:event-bus/{bus}")

    def _topic(self, reading: Reading) -> Target:
        if not reading.target:
            raise MessageRefused(
                "the message is not an SNS envelope (raw delivery?): set original_target "
                "to the topic in the pipeline's config, or pass --to QUEUE"
            )
        topic = self._owned(reading.target, "sns")
        if not self.fan_out:
            raise MessageRefused(
                f"publishing to {topic} again reaches every subscription, not only the one "
                "that failed: add --fan-out to accept that, or --to QUEUE for one queue"
            )
        return self._target(topic, kind_target=True)

    def _function_of_dlq(self) -> str:
        """The function whose asynchronous invocations fail into this DLQ (its
        DeadLetterConfig), when the pipeline's config does not name it."""
        if self._dlq_function is None:
            assert self.dlq is not None
            found = self.aws_lambda(region_of(self.dlq.arn)).functions_with_dlq(self.dlq.arn)
            if len(found) != 1:
                which = (
                    "no function names it as its DLQ"
                    if not found
                    else f"{', '.join(found)} all name it as their DLQ"
                )
                raise MessageRefused(
                    f"cannot tell which function {self.dlq.name}'s messages failed in: "
                    f"{which}; set original_target to the function's ARN in the pipeline's "
                    "config, or pass --to FUNCTION_ARN"
                )
            self._dlq_function = found[0]
        return self._dlq_function

    # -- targets -----------------------------------------------------------------------

    def _target(self, arn: str, *, kind_target: bool) -> Target:
        service = service_of(arn)
        if service == "lambda":
            return self._function(arn)
        if service == "sns":
            return self._sns_topic(arn)
        if service == "events":
            return self._bus(arn)
        return self._queue(arn, check_policy=not kind_target)

    def _queue(self, queue: str, *, check_policy: bool) -> Target:
        if queue not in self._cache:
            sqs, url = open_queue(self.aws, queue)
            info = describe(sqs, url, with_sources=False)
            preflight(self.dlq, info, check_policy=check_policy)
            self._cache[queue] = Target(
                key=info.arn,
                name=info.name,
                service="sqs",
                sink=sqs,
                address=info.url,
                max_size=info.max_message_size,
                batch_size_limit=info.max_message_size,
                info=info,
            )
        return self._cache[queue]

    def _function(self, arn: str) -> Target:
        if arn not in self._cache:
            limit = LAMBDA_SYNC_MAX if self.invoke == "sync" else LAMBDA_ASYNC_MAX
            self._cache[arn] = Target(
                key=arn,
                name=_resource_name(arn),
                service="lambda",
                sink=self.aws_lambda(region_of(arn)),
                address=arn,
                max_size=limit,
                batch_size_limit=limit * 10,  # invoked one by one
            )
        return self._cache[arn]

    def _sns_topic(self, arn: str) -> Target:
        if arn not in self._cache:
            self._cache[arn] = Target(
                key=arn,
                name=_resource_name(arn),
                service="sns",
                sink=SnsGateway(self.aws.client("sns", region_of(arn))),
                address=arn,
                max_size=SNS_MAX,
                batch_size_limit=SNS_MAX,
            )
        return self._cache[arn]

    def _bus(self, arn: str) -> Target:
        """An event bus, by its ARN (arn:…:event-bus/NAME)."""
        if arn not in self._cache:
            bus = arn.split(":event-bus/", 1)[-1]
            self._cache[arn] = Target(
                key=arn,
                name=bus,
                service="events",
                sink=EventsGateway(self.aws.client("events", region_of(arn))),
                address=bus,
                max_size=EVENTS_MAX,
                batch_size_limit=EVENTS_MAX,
            )
        return self._cache[arn]

    def aws_lambda(self, region: str | None = None) -> LambdaGateway:
        """A synchronous invoke waits for the function, and is never repeated by botocore
        (the function may have run): its client waits long and retries nothing."""
        if region not in self._lambdas:
            waits = self.invoke == "sync"
            self._lambdas[region] = LambdaGateway(self.aws.client("lambda", region, waits=waits))
        return self._lambdas[region]

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


def preflight(dlq: QueueInfo | None, target: QueueInfo, *, check_policy: bool = True) -> None:
    """Refuse a target queue that cannot or should not take the DLQ's messages.
    `check_policy`: the DLQ's RedriveAllowPolicy applies (a source queue's DLQ)."""
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
    if check_policy and (
        permission == "denyAll"
        or (permission == "byQueue" and target.arn not in policy.get("sourceQueueArns", []))
    ):
        raise RefusedError(
            f"{dlq.name}'s RedriveAllowPolicy does not list {target.name} as a source: "
            "check the target, or fix the policy if it is wrong"
        )


def _resource_name(arn: str) -> str:
    """function:NAME[:QUALIFIER] → NAME[:QUALIFIER]; a topic's last part."""
    parts = arn.split(":")
    if len(parts) > 6 and parts[5] == "function":
        return ":".join(parts[6:])
    return parts[-1]


def _bus_of(rule_arn: str) -> str:
    """arn:…:rule/RULE is on the default bus, arn:…:rule/BUS/RULE on BUS (a partner
    bus's name has slashes of its own)."""
    pieces = rule_arn.split(":", 5)[-1].split("/")
    return "/".join(pieces[1:-1]) if len(pieces) >= 3 else "default"
