"""Queue descriptions: resolving a QUEUE argument and reading its settings and depth."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from dlqctl.aws.session import AwsSession
from dlqctl.aws.sqs import SqsGateway
from dlqctl.core.queue_ref import parse_queue_ref, queue_name_from_arn
from dlqctl.errors import DlqctlError, QueueNotFoundError
from dlqctl.models import DlqKind, QueueInfo, QueueRef, RedrivePolicy


def open_queue(aws: AwsSession, queue: str | QueueRef) -> tuple[SqsGateway, str]:
    """The gateway for the queue's region and the queue's URL."""
    ref = parse_queue_ref(queue) if isinstance(queue, str) else queue
    sqs = aws.sqs(ref.region if ref.region != aws.region else None)
    if ref.kind == "url" and ref.url:
        return sqs, ref.url
    try:
        url = sqs.queue_url(ref.name, ref.account)
    except QueueNotFoundError:
        where = f"region {ref.region or sqs.region}"
        if ref.account:
            where += f", account {ref.account}"
        raise QueueNotFoundError(
            f"queue {ref.name!r} not found in {where}: check the name, --region, --profile "
            "or --endpoint-url (`dlqctl queues --all` lists what is there)"
        ) from None
    answered = _account_of(url)
    if ref.account and answered and answered != ref.account:
        # Some endpoints ignore QueueOwnerAWSAccountId and answer with a queue of the
        # same name in the caller's account: acting on it would touch the wrong queue.
        raise QueueNotFoundError(
            f"queue {ref.name!r} of account {ref.account} not found: the endpoint answered "
            f"with account {answered}'s queue of that name; check the ARN and --profile"
        )
    return sqs, url


def _account_of(url: str) -> str | None:
    """The account id in a queue URL (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME)."""
    parts = url.rstrip("/").split("/")
    return parts[-2] if len(parts) >= 2 and parts[-2].isdigit() else None


def describe(sqs: SqsGateway, url: str, *, with_sources: bool = True) -> QueueInfo:
    attributes = sqs.attributes(url)
    sources = [_name_from_url(u) for u in sqs.dead_letter_sources(url)] if with_sources else []
    return queue_info(url, attributes, sources)


def queue_info(
    url: str, attributes: Mapping[str, str], sources: list[str] | None = None
) -> QueueInfo:
    arn = attributes.get("QueueArn", "")
    return QueueInfo(
        name=queue_name_from_arn(arn) if arn else _name_from_url(url),
        url=url,
        arn=arn,
        fifo=attributes.get("FifoQueue") == "true",
        visible=int(attributes.get("ApproximateNumberOfMessages", 0)),
        in_flight=int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0)),
        delayed=int(attributes.get("ApproximateNumberOfMessagesDelayed", 0)),
        retention_s=int(attributes.get("MessageRetentionPeriod", 345600)),
        visibility_timeout_s=int(attributes.get("VisibilityTimeout", 30)),
        max_message_size=int(attributes.get("MaximumMessageSize", 262144)),
        redrive_policy=_redrive_policy(attributes.get("RedrivePolicy")),
        redrive_allow_policy=_json_or_none(attributes.get("RedriveAllowPolicy")),
        kms_key_id=attributes.get("KmsMasterKeyId"),
        sources=sorted(sources or []),
    )


def list_queues(
    aws: AwsSession,
    *,
    dlqs_only: bool,
    prefix: str | None = None,
    named: Mapping[str, DlqKind] | None = None,
) -> list[QueueInfo]:
    """Every queue (or only the DLQs), deepest first.

    A DLQ is a queue some queue redrives to (its sources come from each queue's own
    RedrivePolicy, so one GetQueueAttributes per queue answers both "is it a DLQ" and
    "who feeds it"), a queue `named` as a DLQ of the given kind (the pipeline's config),
    or a queue named like one (`-dlq`, `DeadLetterQueue`): Lambda, EventBridge and SNS
    name their DLQs in their own settings, which no queue attribute shows.
    """
    named = named or {}
    sqs = aws.sqs()
    described: dict[str, tuple[str, dict[str, str]]] = {}
    # Every queue is read, not just the prefix's: a DLQ is known by its sources' policies.
    for url in sqs.list_queue_urls():
        try:
            attributes = sqs.attributes(url)
        except QueueNotFoundError:
            continue  # deleted between the listing and the read
        described[attributes.get("QueueArn", url)] = (url, attributes)

    sources_of: dict[str, list[str]] = defaultdict(list)
    for arn, (_, attributes) in described.items():
        policy = _redrive_policy(attributes.get("RedrivePolicy"))
        if policy is not None:
            sources_of[policy.dead_letter_target_arn].append(queue_name_from_arn(arn))

    infos = []
    for arn, (url, attributes) in described.items():
        info = queue_info(url, attributes, sources_of.get(arn, []))
        kind = _kind_of(info, named)
        if (not dlqs_only or kind is not None) and (prefix is None or info.name.startswith(prefix)):
            infos.append(info.model_copy(update={"kind": kind}))
    _add_oldest_ages(aws, infos)
    return sorted(infos, key=lambda q: (-q.depth, q.name))


# How DLQs are commonly named: CDK's and SAM's defaults, and the usual `-dlq` suffix.
_DLQ_NAME = re.compile(r"dlq|dead-?_?letter", re.IGNORECASE)


def _kind_of(info: QueueInfo, named: Mapping[str, DlqKind]) -> DlqKind | None:
    """What feeds the queue as far as a listing can tell; None: not a DLQ."""
    if info.sources:
        return "sqs-redrive-policy"
    if info.name in named:
        return named[info.name]
    return "unknown" if _DLQ_NAME.search(info.name) else None


def _add_oldest_ages(aws: AwsSession, infos: list[QueueInfo]) -> None:
    """Fill oldest_age_s from CloudWatch where it has a data point; it is optional."""
    ages = oldest_ages(aws, [q.name for q in infos])
    for i, info in enumerate(infos):
        if info.name in ages:
            infos[i] = info.model_copy(update={"oldest_age_s": ages[info.name]})


def oldest_ages(aws: AwsSession, names: list[str]) -> dict[str, float]:
    """Ages from CloudWatch where it has them; without access the rest still works."""
    if not names:
        return {}
    try:
        cloudwatch = aws.cloudwatch()
        return cloudwatch.oldest_message_ages(names) if cloudwatch else {}
    except DlqctlError:
        return {}


def _redrive_policy(text: str | None) -> RedrivePolicy | None:
    data = _json_or_none(text)
    if not data or "deadLetterTargetArn" not in data:
        return None
    return RedrivePolicy(
        dead_letter_target_arn=str(data["deadLetterTargetArn"]),
        max_receive_count=int(data.get("maxReceiveCount", 0)),
    )


def _json_or_none(text: str | None) -> dict[str, Any] | None:
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _name_from_url(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1]
