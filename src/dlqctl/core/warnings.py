"""What a person should know about a scan's result before trusting it."""

from __future__ import annotations

from dlqctl.core.scan import Scan
from dlqctl.models import QueueInfo


def scan_warnings(info: QueueInfo, scan: Scan) -> list[str]:
    warnings: list[str] = []
    if scan.look_warning:
        warnings.append(scan.look_warning)
    if info.fifo:
        # SQS documents that a FIFO message's enqueue time restarts when it is moved to
        # a DLQ; moto and LocalStack keep its SentTimestamp from the original send.
        warnings.append(
            "FIFO queue: ages count from when each message entered the DLQ, as SQS "
            "documents for FIFO DLQs; moto and LocalStack keep the original send time, so "
            "there they count from the send"
        )
        if not scan.complete or scan.scanned < info.visible:
            warnings.append(
                "FIFO queue: SQS hides the rest of a message group while its first messages "
                "are held, so only the head of each group was seen"
            )
    if not scan.complete:
        warnings.append(
            f"partial view: scanned {scan.scanned} of ~{info.depth} messages "
            f"(stopped: {scan.stopped_because})"
        )
    if info.in_flight:
        warnings.append(
            f"{info.in_flight} messages were in flight (held by another reader) and not seen"
        )
    if scan.duplicates:
        warnings.append(
            f"SQS delivered {scan.duplicates} messages twice during the scan; each is counted once"
        )
    if scan.release_refused:
        warnings.append(f"{scan.release_refused} holds had already lapsed before release")
    return warnings
