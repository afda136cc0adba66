"""From a raw SQS message to what dlqctl shows: decoded body, age, attributes."""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from dlqctl.core.idempotency import body_sha256, idempotency_key, payload_key
from dlqctl.models import BodyEncoding, DlqKind, DlqMessage, ErrorSource, MessageAttribute

RawMessage = dict[str, Any]

# Characters no terminal should receive raw: C0/C1 controls (but tab and newlines), DEL
# and lone surrogates. U+FFFD is not one of them: a body that holds it is valid UTF-8
# text (SQS bodies are Unicode), and is shown as text.
_UNSAFE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


@dataclass(slots=True)
class Received:
    """A received message, decoded once; the filters and the classifier read this."""

    raw: RawMessage
    body: Any
    encoding: BodyEncoding
    sent_at: datetime
    age_s: float
    key: str

    @property
    def message_id(self) -> str:
        return str(self.raw["MessageId"])

    @property
    def system(self) -> dict[str, str]:
        return dict(self.raw.get("Attributes", {}))

    @property
    def message_attributes(self) -> dict[str, Any]:
        return dict(self.raw.get("MessageAttributes", {}))

    def to_message(
        self,
        error_type: str,
        error_source: ErrorSource,
        ledger_status: str | None,
        kind: DlqKind = "unknown",
        original_target: str | None = None,
    ) -> DlqMessage:
        system = self.raw.get("Attributes", {})
        body_text = str(self.raw.get("Body", ""))
        # Built without validation: every value comes typed from SQS or from this module,
        # and this runs once per message on the hot path of every scan.
        return DlqMessage.model_construct(
            message_id=self.message_id,
            sent_at=self.sent_at,
            age_s=round(self.age_s, 3),
            receive_count=int(system.get("ApproximateReceiveCount", 0)),
            error_type=error_type,
            error_source=error_source,
            source_queue_arn=system.get("DeadLetterQueueSourceArn"),
            kind=kind,
            original_target=original_target,
            attributes=convert_attributes(self.raw.get("MessageAttributes", {})),
            body=self.body,
            body_encoding=self.encoding,
            body_sha256=body_sha256(body_text),
            body_bytes=len(body_text.encode("utf-8", "surrogatepass")),
            idempotency_key=self.key,
            message_group_id=system.get("MessageGroupId"),
            deduplication_id=system.get("MessageDeduplicationId"),
            sequence_number=system.get("SequenceNumber"),
            ledger_status=ledger_status,
        )


def receive(raw: RawMessage, now: float) -> Received:
    body_text = str(raw.get("Body", ""))
    body, encoding = decode_body(body_text)
    sent_ms = int(raw.get("Attributes", {}).get("SentTimestamp", now * 1000))
    return Received(
        raw=raw,
        body=body,
        encoding=encoding,
        sent_at=datetime.fromtimestamp(sent_ms / 1000, UTC),
        age_s=max(0.0, now - sent_ms / 1000),
        key=payload_key(body) if encoding == "json" else idempotency_key(body_text),
    )


def decode_body(text: str) -> tuple[Any, BodyEncoding]:
    """Parsed JSON, plain text, or base64 of the bytes when the text is unsafe to show."""
    if _UNSAFE.search(text):
        raw = text.encode("utf-8", "surrogatepass")
        return base64.b64encode(raw).decode("ascii"), "base64"
    try:
        return json.loads(text), "json"
    except ValueError:
        return text, "text"


def convert_attributes(attributes: dict[str, Any]) -> dict[str, MessageAttribute]:
    converted = {}
    for name, attribute in attributes.items():
        if "BinaryValue" in attribute:
            value = base64.b64encode(bytes(attribute["BinaryValue"])).decode("ascii")
        else:
            value = str(attribute.get("StringValue", ""))
        converted[name] = MessageAttribute.model_construct(
            data_type=str(attribute["DataType"]), value=value
        )
    return converted
