"""QUEUE arguments: a name, a URL or an ARN, checked before any AWS call."""

from __future__ import annotations

import re
from urllib.parse import urlparse

from dlqctl.errors import UsageError
from dlqctl.models import QueueRef

_NAME = re.compile(r"[A-Za-z0-9_-]{1,80}(?:\.fifo)?")
_ARN = re.compile(r"arn:(aws[a-z-]*):sqs:([a-z0-9-]+):(\d{12}):(.+)")
_AWS_HOST = re.compile(
    r"(?:sqs\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?|([a-z0-9-]+)\.queue\.amazonaws\.com"
    r"|sqs\.([a-z0-9-]+)\.api\.aws)"
)


def parse_queue_ref(text: str) -> QueueRef:
    raw = text.strip()
    if raw.startswith("arn:"):
        return _parse_arn(raw)
    if "://" in raw:
        return _parse_url(raw)
    if not _NAME.fullmatch(raw):
        raise UsageError(
            f"invalid queue {text!r}: give a queue name (letters, digits, - and _, up to 80, "
            "optional .fifo), a queue URL or an ARN"
        )
    return QueueRef(kind="name", raw=raw, name=raw)


def _parse_arn(raw: str) -> QueueRef:
    match = _ARN.fullmatch(raw)
    if not match or not _NAME.fullmatch(match.group(4)):
        raise UsageError(
            f"malformed queue ARN {raw!r}: expected arn:aws:sqs:REGION:ACCOUNT_ID:QUEUE_NAME"
        )
    _, region, account, name = match.groups()
    return QueueRef(kind="arn", raw=raw, name=name, region=region, account=account)


def _parse_url(raw: str) -> QueueRef:
    parsed = urlparse(raw)
    parts = [part for part in parsed.path.split("/") if part]
    if parsed.scheme not in ("http", "https") or not parsed.netloc or len(parts) != 2:
        raise UsageError(
            f"malformed queue URL {raw!r}: expected https://sqs.REGION.amazonaws.com/ACCOUNT_ID/NAME"
        )
    account, name = parts
    if not _NAME.fullmatch(name):
        raise UsageError(f"malformed queue URL {raw!r}: {name!r} is not a valid queue name")
    host = _AWS_HOST.fullmatch(parsed.hostname or "")
    region = next((group for group in host.groups() if group), None) if host else None
    return QueueRef(kind="url", raw=raw, name=name, url=raw, region=region, account=account)


def queue_name_from_arn(arn: str) -> str:
    return arn.rsplit(":", 1)[-1]


# Any ARN: partition, service, region, account, resource.
_ANY_ARN = re.compile(r"arn:(aws[a-z-]*):([a-z0-9-]+):([a-z0-9-]*):(\d{12})?:(.+)")


def service_of(target: str) -> str:
    """The service an ARN names ("lambda", "sns", "events", …); a queue's name or URL,
    like an SQS ARN, is "sqs"."""
    match = _ANY_ARN.fullmatch(target)
    return match.group(2) if match else "sqs"


def is_arn(text: str) -> bool:
    return _ANY_ARN.fullmatch(text) is not None


def account_of(arn: str) -> str | None:
    match = _ANY_ARN.fullmatch(arn)
    return match.group(4) if match else None


def region_of(arn: str) -> str | None:
    match = _ANY_ARN.fullmatch(arn)
    return (match.group(3) or None) if match else None
