"""Export files: JSONL with full fidelity, written durably, read back for replay.

Bodies are stored as JSON strings with every non-ASCII character escaped, so any body
SQS accepts (and any that a gateway mangled) comes back byte for byte. Binary attributes
are base64. The file is created mode 0600 and never overwritten: it holds bodies.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from pydantic import ValidationError

from dlqctl.aws.sqs import RawMessage
from dlqctl.core.select import Selected
from dlqctl.errors import UsageError
from dlqctl.models import ExportedAttribute, ExportRecord


def to_record(selected: Selected, source_queue: str) -> ExportRecord:
    raw, message = selected.raw, selected.message
    system = {k: str(v) for k, v in raw.get("Attributes", {}).items()}
    return ExportRecord(
        message_id=message.message_id,
        body=str(raw.get("Body", "")),
        body_sha256=message.body_sha256,
        message_attributes={
            name: _export_attribute(attribute)
            for name, attribute in raw.get("MessageAttributes", {}).items()
        },
        system_attributes=system,
        message_group_id=system.get("MessageGroupId"),
        deduplication_id=system.get("MessageDeduplicationId"),
        sent_at=message.sent_at,
        source_queue=source_queue,
        error_type=message.error_type,
        error_source=message.error_source,
        exported_at=datetime.now(UTC),
    )


def to_raw(record: ExportRecord) -> RawMessage:
    """The record as boto3 would have received it, for the same filters and sending code."""
    return {
        "MessageId": record.message_id,
        "ReceiptHandle": "",
        "Body": record.body,
        "Attributes": dict(record.system_attributes),
        "MessageAttributes": {
            name: _raw_attribute(attribute) for name, attribute in record.message_attributes.items()
        },
    }


def _export_attribute(attribute: dict[str, object]) -> ExportedAttribute:
    data_type = str(attribute["DataType"])
    binary = attribute.get("BinaryValue")
    if isinstance(binary, bytes | bytearray):
        return ExportedAttribute(
            data_type=data_type, binary_value=base64.b64encode(binary).decode()
        )
    return ExportedAttribute(
        data_type=data_type, string_value=str(attribute.get("StringValue", ""))
    )


def _raw_attribute(attribute: ExportedAttribute) -> dict[str, object]:
    if attribute.binary_value is not None:
        return {
            "DataType": attribute.data_type,
            "BinaryValue": base64.b64decode(attribute.binary_value),
        }
    return {"DataType": attribute.data_type, "StringValue": attribute.string_value or ""}


def refuse_existing(path: Path) -> UsageError:
    return UsageError(f"{path} already exists: choose a new file (exports never overwrite)")


def check_new_file(path: Path | None) -> None:
    """Before a look (a plan, or the one before a prompt): a file the run could not
    create is refused now, not after the question."""
    if path is not None and path.exists():
        raise refuse_existing(path)


class ExportWriter:
    """Appends records to a new file; `close()` makes them durable (flush + fsync)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.count = 0
        self.bytes = 0
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise refuse_existing(path) from None
        except OSError as exc:
            raise UsageError(f"cannot create {path}: {exc.strerror}") from None
        self._file: IO[str] = os.fdopen(fd, "w", encoding="ascii")
        self._synced_once = False

    def write(self, record: ExportRecord) -> None:
        line = json.dumps(record.model_dump(mode="json"), ensure_ascii=True) + "\n"
        self._file.write(line)
        self.count += 1
        self.bytes += len(line)

    def sync(self) -> None:
        """Make what was written durable: the messages may now be deleted."""
        self._file.flush()
        os.fsync(self._file.fileno())
        if not self._synced_once:  # the new file's name too, once
            _fsync_directory(self.path.parent)
            self._synced_once = True

    def close(self) -> None:
        if self._file.closed:
            return
        self.sync()
        self._file.close()


def _fsync_directory(path: Path) -> None:
    """So the new file's name survives a crash too, not only its content."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read_export(path: Path) -> Iterator[ExportRecord]:
    """Records of an export file, with the line number of the first bad one."""
    try:
        handle = path.open(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None
    with handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                yield ExportRecord.model_validate(json.loads(line))
            except (ValueError, ValidationError) as exc:
                first = str(exc).splitlines()[0]
                raise UsageError(
                    f"{path}:{number} is not a dlqctl export record ({first}): was it written "
                    "by `dlqctl export`?"
                ) from None
