"""Tables for people. Bodies are shown as Text, never as markup, so no body can style
the terminal or hide in it."""

from __future__ import annotations

import json

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from dlqctl.core.durations import format_duration
from dlqctl.core.plan import movable
from dlqctl.core.queue_ref import queue_name_from_arn
from dlqctl.models import (
    ArchiveReport,
    Coverage,
    DlqMessage,
    InspectReport,
    PeekResult,
    QueueInfo,
    RedriveReport,
)

BODY_PREVIEW_CHARS = 600
BODY_PREVIEW_LINES = 14


def size(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    if n < 1024 * 1024:
        return f"{n / 1024:.1f} KiB"
    return f"{n / 1024 / 1024:.2f} MiB"


def queues_table(queues: list[QueueInfo], *, all_queues: bool) -> Table:
    table = Table(title="Queues" if all_queues else "Dead-letter queues", box=box.SIMPLE_HEAD)
    for column in ("Queue", "Visible", "In flight", "Delayed", "Oldest", "Sources", "Retention"):
        table.add_column(
            column, justify="right" if column in ("Visible", "In flight", "Delayed") else "left"
        )
    for q in queues:
        table.add_row(
            Text(q.name, style="bold" if q.visible else ""),
            Text(str(q.visible), style="red" if q.visible and q.sources else ""),
            str(q.in_flight),
            str(q.delayed),
            format_duration(q.oldest_age_s),
            ", ".join(q.sources) or "-",
            format_duration(q.retention_s),
        )
    return table


def coverage_line(coverage: Coverage) -> Text:
    state = "complete" if coverage.complete else f"partial: {coverage.stopped_because}"
    return Text(
        f"scanned {coverage.scanned} of ~{coverage.approximate_depth} ({state})", style="dim"
    )


def queue_header(q: QueueInfo) -> Text:
    kind = "FIFO" if q.fifo else "standard"
    text = Text()
    text.append(q.name, style="bold")
    text.append(f"  ({kind})  {q.url}\n", style="dim")
    text.append(f"visible {q.visible} · in flight {q.in_flight} · delayed {q.delayed}\n")
    text.append(
        f"retention {format_duration(q.retention_s)} · visibility {format_duration(q.visibility_timeout_s)}"
        f" · max size {size(q.max_message_size)} · sources: {', '.join(q.sources) or 'none'}"
    )
    if q.redrive_policy:
        text.append(
            f"\nown redrive policy: maxReceiveCount {q.redrive_policy.max_receive_count} → "
            f"{queue_name_from_arn(q.redrive_policy.dead_letter_target_arn)}"
        )
    return text


def inspect_view(report: InspectReport) -> RenderableType:
    parts: list[RenderableType] = [queue_header(report.queue), coverage_line(report.coverage)]
    types = Table(title="By error type", box=box.SIMPLE_HEAD, title_justify="left")
    for column in ("Error type", "From", "Count", "Oldest", "Newest", "Sample ids"):
        types.add_column(column, justify="right" if column == "Count" else "left")
    for row in report.by_error_type:
        types.add_row(
            Text(row.error_type, style="bold"),
            ", ".join(row.sources),
            str(row.count),
            format_duration(row.oldest_age_s),
            format_duration(row.newest_age_s),
            " ".join(row.sample_ids),
        )
    parts.append(types if report.by_error_type else Text("no matching messages", style="green"))

    ages = Table(title="By age", box=box.SIMPLE_HEAD, title_justify="left")
    ages.add_column("Age")
    ages.add_column("Count", justify="right")
    for bucket in report.age_buckets:
        if bucket.count:
            ages.add_row(bucket.label, str(bucket.count))
    if report.matched:
        parts.append(ages)
        spread = ", ".join(f"{k}×{v}" for k, v in report.receive_counts.histogram.items())
        sources = ", ".join(
            f"{queue_name_from_arn(s.source_queue_arn) if s.source_queue_arn else 'unknown'}×{s.count}"
            for s in report.sources
        )
        parts.append(Text(f"receive counts: {spread}\nsource queues: {sources}"))
    if report.expiring_within_24h:
        parts.append(
            Text(
                f"{report.expiring_within_24h} messages expire within 24h under the DLQ's retention",
                style="bold red",
            )
        )
    return Group(*parts)


def body_preview(message: DlqMessage) -> Text:
    if message.body is None and message.body_encoding != "json":
        return Text(f"({size(message.body_bytes)}, body hidden)", style="dim")
    if message.body_encoding == "base64":
        return Text(
            f"<binary or unprintable, {size(message.body_bytes)}; -o json shows base64>",
            style="magenta",
        )
    shown = (
        json.dumps(message.body, indent=2, ensure_ascii=False)
        if message.body_encoding == "json"
        else str(message.body)
    )
    lines = shown.splitlines()
    truncated = len(shown) > BODY_PREVIEW_CHARS or len(lines) > BODY_PREVIEW_LINES
    if truncated:
        shown = "\n".join(lines[:BODY_PREVIEW_LINES])[:BODY_PREVIEW_CHARS]
    text = Text(shown)
    if truncated:
        text.append(f"\n… truncated ({size(message.body_bytes)} in all)", style="dim")
    return text


def peek_view(result: PeekResult, *, with_body: bool) -> RenderableType:
    table = Table(box=box.SIMPLE_HEAD, show_lines=with_body)
    table.add_column("Message id", overflow="fold")
    table.add_column("Age", justify="right")
    table.add_column("Recv", justify="right")
    table.add_column("Error type")
    table.add_column("Source")
    table.add_column("Size", justify="right")
    if with_body:
        table.add_column("Body", overflow="fold", ratio=1)
    for m in result.messages:
        row: list[RenderableType] = [
            m.message_id,
            format_duration(m.age_s),
            str(m.receive_count),
            Text(f"{m.error_type} ({m.error_source})"),
            queue_name_from_arn(m.source_queue_arn) if m.source_queue_arn else "-",
            size(m.body_bytes),
        ]
        if with_body:
            row.append(body_preview(m))
        table.add_row(*row)
    header = Text(
        f"{result.queue.name}: showing {len(result.messages)} of {result.matched} matching"
    )
    return Group(header, coverage_line(result.coverage), table)


def watch_table(queues: list[QueueInfo], refreshed_at: str) -> Table:
    table = Table(title=f"dlqctl watch · {refreshed_at} · Ctrl-C to stop", box=box.SIMPLE_HEAD)
    for column in ("Queue", "Visible", "In flight", "Delayed", "Oldest"):
        table.add_column(column, justify="left" if column == "Queue" else "right")
    for q in queues:
        table.add_row(
            Text(q.name, style="bold"),
            Text(str(q.visible), style="red" if q.visible else "green"),
            str(q.in_flight),
            str(q.delayed),
            format_duration(q.oldest_age_s),
        )
    return table


def redrive_view(report: RedriveReport, *, summary_only: bool = False) -> RenderableType:
    """The plan (dry run) or the outcome of a redrive."""
    target = queue_name_from_arn(report.target) if report.target else "each message's source"
    parts: list[RenderableType] = [
        Text(
            f"{_title(report, summary_only)} {report.run_id}: "
            f"{queue_name_from_arn(report.source)} → {target}",
            style="bold",
        ),
        coverage_line(report.coverage),
    ]
    if report.dry_run or summary_only:
        parts.append(_plan_summary(report))
        if not summary_only:
            parts.append(_plan_table(report))
    else:
        parts.append(_outcome_summary(report))
    if report.failed:
        parts.append(_failed_table(report))
    return Group(*parts)


def _title(report: RedriveReport, summary_only: bool) -> str:
    verb = "Replay" if report.kind == "replay" else "Redrive"
    if report.dry_run:
        return f"{verb.upper()} PLAN" + ("" if summary_only else " (dry run)")
    return verb


def _plan_summary(report: RedriveReport) -> Text:
    summary = report.summary
    text = Text(f"{movable(report)} messages would move")
    if summary is None:
        return text
    if summary.by_error_type:
        text.append(": " + ", ".join(f"{name} {n}" for name, n in summary.by_error_type.items()))
    if len(summary.by_target) > 1:
        text.append(
            "\nto: "
            + ", ".join(f"{queue_name_from_arn(t)} {n}" for t, n in summary.by_target.items())
        )
    ages = [f"{bucket.label} {bucket.count}" for bucket in summary.by_age if bucket.count]
    if ages:
        text.append("\nages: " + ", ".join(ages))
    if summary.delay_max_s:
        text.append(f"\ndelays {summary.delay_min_s}s to {summary.delay_max_s}s")
    if summary.by_predicted_outcome:
        text.append(
            "\npredicted: "
            + ", ".join(f"{name} {n}" for name, n in summary.by_predicted_outcome.items())
        )
    if summary.refused:
        text.append(f"\nrefused by a safety check: {summary.refused}", style="yellow")
    return text


def _plan_table(report: RedriveReport) -> Table:
    table = Table(box=box.SIMPLE_HEAD)
    for column in ("Message id", "Error type", "Age", "Delay", "Target", "Redriven", "Predicted"):
        table.add_column(column)
    for planned in report.planned:
        table.add_row(
            planned.message_id,
            planned.error_type,
            format_duration(planned.age_s),
            f"{planned.delay_s}s",
            queue_name_from_arn(planned.target),
            str(planned.redrive_count),
            planned.predicted_outcome or "-",
        )
    return table


def _outcome_summary(report: RedriveReport) -> Text:
    style = "green" if report.moved_all else "yellow"
    text = Text(
        f"selected {report.selected} · sent {report.sent} · deleted {report.deleted} · "
        f"failed {len(report.failed)} · possible duplicates {report.possible_duplicates} · "
        f"{report.duration_s:.1f}s",
        style=style,
    )
    if report.canary:
        text.append(
            f"\ncanary: {report.canary.detail}", style="green" if report.canary.passed else "red"
        )
    if report.came_back or report.holds_lost:
        text.append(
            f"\ncame back to the DLQ {report.came_back} · holds lost {report.holds_lost}",
            style="yellow",
        )
    if report.stopped_because:
        finished = report.stopped_because.startswith(("end of ", "reached --max-messages"))
        text.append(f"\nstopped: {report.stopped_because}", style="dim" if finished else "red")
    return text


def _failed_table(report: RedriveReport) -> Table:
    where = "still in the file" if report.kind == "replay" else "still in the DLQ"
    table = Table(title=f"Not moved ({where})", box=box.SIMPLE_HEAD, title_justify="left")
    table.add_column("Message id")
    table.add_column("Stage")
    table.add_column("Reason", overflow="fold")
    for failed in report.failed:
        table.add_row(failed.message_id, failed.stage, failed.reason)
    return table


def archive_view(report: ArchiveReport) -> RenderableType:
    text = Text()
    if report.file:
        text.append(f"exported {report.exported} messages to {report.file}\n", style="bold")
    text.append(
        f"deleted {report.deleted} · failed {len(report.failed)} · {report.duration_s:.1f}s"
    )
    if report.stopped_because:
        text.append(f"\nstopped: {report.stopped_because}")
    parts: list[RenderableType] = [text, coverage_line(report.coverage)]
    if report.failed:
        table = Table(
            title="Not deleted (still in the queue)", box=box.SIMPLE_HEAD, title_justify="left"
        )
        table.add_column("Message id")
        table.add_column("Reason", overflow="fold")
        for failed in report.failed:
            table.add_row(failed.message_id, failed.reason)
        parts.append(table)
    return Group(*parts)


def describe_report(report: object) -> RenderableType:
    """The view of a destructive run's report, whichever command ran."""
    if isinstance(report, RedriveReport):
        return redrive_view(report)
    if isinstance(report, ArchiveReport):
        return archive_view(report)
    return Text(str(report))
