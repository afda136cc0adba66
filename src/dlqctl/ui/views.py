"""What the screens show, as Textual `Content`: pure functions of the API's models.

Text that comes from queues (error types, bodies, attribute values) is always added as
plain text, never parsed as markup.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from textual.content import Content
from textual.highlight import highlight

from dlqctl.core.durations import format_duration
from dlqctl.core.plan import movable
from dlqctl.core.queue_ref import queue_name_from_arn
from dlqctl.core.wording import counted
from dlqctl.models import (
    AgeBucket,
    Coverage,
    DlqMessage,
    InspectReport,
    PlanSummary,
    QueueInfo,
    RedriveReport,
)
from dlqctl.ui.actions import Action, ActionKind, Report

BAR = "█"
FIFO_AGE_CAVEAT = "FIFO: ages count from when each message entered the DLQ, not the first send"


def kind(queue: QueueInfo) -> str:
    return "FIFO" if queue.fifo else "standard"


def byte_size(n: int) -> str:
    return f"{n:,} B"


def lines(parts: Iterable[Content | str]) -> Content:
    return Content("\n").join(part for part in parts if part)


def queue_header(queue: QueueInfo) -> Content:
    policy = queue.redrive_policy
    onward = (
        f" · own redrive policy: maxReceiveCount {policy.max_receive_count} → "
        f"{queue_name_from_arn(policy.dead_letter_target_arn)}"
        if policy
        else ""
    )
    return lines(
        [
            Content.assemble((queue.name, "bold"), f" · {kind(queue)} queue"),
            f"visible {queue.visible} · in flight {queue.in_flight} · delayed {queue.delayed}"
            f" · retention {format_duration(queue.retention_s)} · sources: {', '.join(queue.sources) or 'none'}"
            f"{onward}",
            Content.styled(FIFO_AGE_CAVEAT, "dim") if queue.fifo else "",
        ]
    )


def coverage_line(coverage: Coverage) -> Content:
    state = "complete" if coverage.complete else f"partial: {coverage.stopped_because}"
    return Content.styled(
        f"scanned {coverage.scanned} of ~{coverage.approximate_depth} ({state})", "dim"
    )


def age_chart(buckets: list[AgeBucket], width: int = 24) -> Content:
    """The age histogram as horizontal bars, one a bucket, scaled to the largest."""
    largest = max((bucket.count for bucket in buckets), default=0)
    label_width = max((len(bucket.label) for bucket in buckets), default=0)
    rows = [Content.styled("Age", "bold")]
    for bucket in buckets:
        cells = round(bucket.count / largest * width) if largest else 0
        bar = BAR * max(cells, 1 if bucket.count else 0)
        rows.append(
            Content.assemble(
                f"{bucket.label:<{label_width}} ",
                (bar, "bold"),
                f" {bucket.count}" if bucket.count else Content.styled(" 0", "dim"),
            )
        )
    return lines(rows)


def inspect_notes(report: InspectReport) -> Content:
    """Receive counts, sources, what expires soon, coverage and warnings."""
    spread = [
        f"received {times}×: {counted(n, 'message')}"
        for times, n in report.receive_counts.histogram.items()
    ]
    sources = ", ".join(
        f"{queue_name_from_arn(s.source_queue_arn) if s.source_queue_arn else 'unknown'} ×{s.count}"
        for s in report.sources
    )
    expiring = (
        Content.styled(
            f"{counted(report.expiring_within_24h, 'message')} "
            f"{'expires' if report.expiring_within_24h == 1 else 'expire'} within 24h "
            "under the DLQ's retention",
            "bold red",
        )
        if report.expiring_within_24h
        else Content.styled("none expire within 24h", "dim")
    )
    return lines(
        [
            Content.styled("Receive counts", "bold"),
            *spread,
            f"source queues: {sources or '-'}",
            expiring,
            coverage_line(report.coverage),
            *(Content.styled(f"warning: {warning}", "yellow") for warning in report.warnings),
        ]
    )


def message_detail(message: DlqMessage) -> Content:
    """One message: where it came from, its ledger status, attributes, then its body."""
    source = queue_name_from_arn(message.source_queue_arn) if message.source_queue_arn else "-"
    sent = message.sent_at.isoformat(timespec="seconds").replace("+00:00", "Z")
    facts = [
        ("message id", message.message_id),
        (
            "sent",
            f"{sent} · {format_duration(message.age_s)} ago · received {message.receive_count}×",
        ),
        (
            "error type",
            f"{message.error_type} (from {message.error_source}) · source queue {source}",
        ),
        ("ledger", message.ledger_status or "no ledger record"),
    ]
    if message.message_group_id:
        facts.append(("group", message.message_group_id))
    for name, attribute in sorted(message.attributes.items()):
        facts.append((f"attr {name}", f"{attribute.value} ({attribute.data_type})"))
    width = max(len(name) for name, _ in facts)
    rows = [Content.assemble((f"{name:<{width}} ", "bold"), value) for name, value in facts]
    footnotes = Content.styled(
        f"idempotency key {message.idempotency_key}\nbody sha256 {message.body_sha256}", "dim"
    )
    return lines(
        [
            *rows,
            Content.styled(f"body ({byte_size(message.body_bytes)})", "bold"),
            body_view(message),
            footnotes,
        ]
    )


def body_view(message: DlqMessage) -> Content:
    """The body pretty-printed: JSON indented and highlighted (already redacted by the
    look when redaction was asked for), text as it is, unprintable bytes not at all."""
    if message.body_encoding == "base64":
        return Content.styled(
            f"<binary or unprintable, {byte_size(message.body_bytes)}: "
            "`dlqctl peek -o json` shows it as base64>",
            "magenta",
        )
    if message.body_encoding == "json":
        return highlight(
            json.dumps(message.body, indent=2, ensure_ascii=False, sort_keys=True),
            language="json",
        )
    return Content(str(message.body))


def plan_view(action: Action, plan: Report) -> Content:
    """The plan: what would be touched, by error type, target (or file) and age, and the
    plan's warnings."""
    summary = plan.summary
    will = len(plan.planned)
    if isinstance(plan, RedriveReport):
        headline = f"{counted(will, 'message')} would move to " + (
            queue_name_from_arn(plan.target) if plan.target else "their source queues"
        )
        refused = plan.selected - movable(plan)
    elif action.kind is ActionKind.purge:
        kept = f"archived first in {plan.file}" if plan.file else "with no archive"
        headline, refused = f"{counted(will, 'message')} would be deleted, {kept}", 0
    else:
        headline, refused = f"{counted(will, 'message')} would be exported to {plan.file}", 0
    parts: list[Content | str] = [
        Content.styled(f"{action.kind.value.upper()} PLAN for {action.selection.label}", "bold"),
        Content.styled(headline, "bold"),
        coverage_line(plan.coverage),
    ]
    if summary is not None:
        parts.extend(_summary_lines(summary, with_targets=action.kind is ActionKind.redrive))
    if refused:
        parts.append(Content.styled(f"refused by a safety check: {refused}", "yellow"))
        parts.extend(
            Content.styled(f"  {f.message_id}: {f.reason}", "yellow")
            for f in plan.failed
            if f.stage == "refused"
        )
    parts.extend(Content.styled(f"warning: {warning}", "yellow") for warning in plan.warnings)
    return lines(parts)


def _summary_lines(summary: PlanSummary, *, with_targets: bool) -> list[Content | str]:
    found: list[Content | str] = []
    if summary.by_error_type:
        found.append(
            "by error type: " + ", ".join(f"{n} {c}" for n, c in summary.by_error_type.items())
        )
    if with_targets and summary.by_target:
        found.append(
            "by target: "
            + ", ".join(f"{queue_name_from_arn(t)} {c}" for t, c in summary.by_target.items())
        )
    ages = [f"{bucket.label} {bucket.count}" for bucket in summary.by_age if bucket.count]
    if ages:
        found.append("by age: " + ", ".join(ages))
    if summary.oldest_age_s is not None:
        found.append(
            f"oldest {format_duration(summary.oldest_age_s)}, "
            f"newest {format_duration(summary.newest_age_s)}"
        )
    if summary.by_predicted_outcome:
        found.append(
            "ledger says: " + ", ".join(f"{n} {c}" for n, c in summary.by_predicted_outcome.items())
        )
    return found


def report_view(action: Action, report: Report) -> Content:
    """What the run did, as `dlqctl redrive` / `purge` / `export` report it."""
    if isinstance(report, RedriveReport):
        done = (
            f"selected {report.selected} · sent {report.sent} · deleted {report.deleted} · "
            f"failed {len(report.failed)} · possible duplicates {report.possible_duplicates}"
        )
        whole = report.moved_all
    else:
        exported = f"exported {report.exported} to {report.file} · " if report.file else ""
        done = f"{exported}deleted {report.deleted} · failed {len(report.failed)}"
        whole = not report.failed and not report.interrupted
    parts: list[Content | str] = [
        Content.styled(f"{action.kind.value.upper()} run {report.run_id}", "bold"),
        Content.styled(done, "green" if whole else "yellow"),
        f"stopped: {report.stopped_because}",
        coverage_line(report.coverage),
    ]
    parts.extend(
        Content.styled(f"not done {f.message_id} ({f.stage}): {f.reason}", "yellow")
        for f in report.failed
    )
    parts.extend(Content.styled(f"warning: {warning}", "yellow") for warning in report.warnings)
    return lines(parts)
