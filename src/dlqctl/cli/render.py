"""Views for people, readable at any width.

An identifier (a queue name, message id, ARN, run id, error type) is never cut or broken
inside: a table is shown only when each of its cells fits whole, and otherwise each row
becomes a block (its first cell, then `label value · …`, then its body beneath). Every
cell is Text, never markup: bodies and attributes come from messages, and none may style
the terminal or hide in it.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass

from rich import box
from rich.cells import cell_len
from rich.console import (
    Console,
    ConsoleOptions,
    Group,
    JustifyMethod,
    RenderableType,
    RenderResult,
)
from rich.measure import Measurement
from rich.segment import Segment
from rich.table import Table
from rich.text import Text

from dlqctl.core.durations import format_duration
from dlqctl.core.plan import movable
from dlqctl.core.queue_ref import queue_name_from_arn
from dlqctl.models import (
    ArchiveReport,
    Coverage,
    DlqMessage,
    Estimate,
    History,
    InspectReport,
    MoveTask,
    PeekResult,
    PlanSummary,
    QueueInfo,
    RedriveReport,
)

BODY_PREVIEW_CHARS = 600
BODY_PREVIEW_LINES = 14
# Narrower than this, pretty-printed JSON is more line breaks than content: below it a
# body goes beneath its row instead of into a column.
BODY_MIN_WIDTH = 40
INDENT = 2
SEPARATOR = " · "


# -- layout: a table where it fits, one block per row where it does not ------------------


@dataclass(frozen=True)
class Column:
    """A column whose cells are kept whole (identifiers, numbers, durations, times) unless
    it `wraps` (a list of names, prose: broken between words, never inside one) or holds
    a message `body`."""

    header: str
    justify: JustifyMethod = "left"
    wraps: bool = False
    body: bool = False


class Rows:
    """A table's rows, laid out for the width they are printed at (see the module doc)."""

    def __init__(self, *columns: Column, title: str | None = None) -> None:
        self.columns = columns
        self.title = title
        self.rows: list[list[Text]] = []

    def add(self, *cells: str | Text) -> None:
        self.rows.append([cell if isinstance(cell, Text) else Text(cell) for cell in cells])

    def view(self) -> RenderableType:
        return _TableOrBlocks(self._table(), self._blocks())

    def _table(self) -> Table:
        bodies = any(column.body for column in self.columns)
        table = Table(
            title=self.title, title_justify="left", box=box.SIMPLE_HEAD, show_lines=bodies
        )
        for index, column in enumerate(self.columns):
            table.add_column(
                column.header,
                justify=column.justify,
                no_wrap=not (column.wraps or column.body),
                overflow="fold",
                # Rich narrows a column below this only by widening the table past the
                # width, which _TableOrBlocks then refuses: so no cell is cut to fit.
                min_width=_narrowest(column, [row[index] for row in self.rows]),
            )
        for row in self.rows:
            table.add_row(*row)
        return table

    def _blocks(self) -> Group:
        parts: list[RenderableType] = []
        if self.title:
            parts.append(Text(self.title, style="table.title"))
        # A body is several lines: a blank line tells one message's block from the next.
        spaced = any(column.body for column in self.columns)
        for number, (heading, *cells) in enumerate(self.rows):
            if spaced and number:
                parts.append(Text())
            parts.append(Text.assemble(heading, style="bold"))
            named = list(zip(self.columns[1:], cells, strict=True))
            fields = [
                Text.assemble((column.header.lower(), "dim"), " ", cell)
                for column, cell in named
                if cell.plain and not column.body
            ]
            parts.append(_Fields(fields))
            parts.extend(_Indented(cell) for column, cell in named if column.body)
        return Group(*parts)


def _narrowest(column: Column, cells: list[Text]) -> int:
    """A body's readable width; a wrapping column's longest word; any other column's
    widest cell. Headers count too."""
    if column.body:
        return BODY_MIN_WIDTH
    texts = [column.header, *(cell.plain for cell in cells)]
    if column.wraps:
        return max(cell_len(word) for text in texts for word in text.split())
    return max(cell_len(line) for text in texts for line in text.splitlines())


class _TableOrBlocks:
    """The table where it fits the width, else the blocks (text that wraps between words,
    which always fits). Decided when printed, so a live view follows a resize."""

    def __init__(self, table: Table, blocks: RenderableType) -> None:
        self.table = table
        self.blocks = blocks

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        # Rich squeezes a table that is too wide by narrowing columns below their
        # min_width, down to nothing (the column vanishes), so the narrowest it can be
        # drawn must fit; and as Rich can still overshoot, so must each line it draws.
        unbounded = options.update_width(sys.maxsize)
        if Measurement.get(console, unbounded, self.table).minimum <= options.max_width:
            lines = list(Segment.split_lines(console.render(self.table, options)))
            if all(Segment.get_line_length(line) <= options.max_width for line in lines):
                for line in lines:
                    yield from line
                    yield Segment.line()
                return
        yield self.blocks


class _Fields:
    """`label value · label value …`, indented, broken between fields rather than inside
    one."""

    def __init__(self, fields: list[Text]) -> None:
        self.fields = fields

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        room = options.max_width - INDENT
        line = Text()
        for field in self.fields:
            if line and line.cell_len + len(SEPARATOR) + field.cell_len > room:
                yield _Indented(line)
                line = Text()
            if line:
                line.append(SEPARATOR, style="dim")
            line.append_text(field)
        if line:
            yield _Indented(line)


class _Indented:
    """A renderable shifted right, unless a word of it (an 80-character queue name at 80
    columns) would then have to break. Padding would also pad each line out to the
    width, and a pipe's width is large."""

    def __init__(self, renderable: RenderableType) -> None:
        self.renderable = renderable

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        narrowest = Measurement.get(console, options, self.renderable).minimum
        indent = INDENT if narrowest <= options.max_width - INDENT else 0
        inner = options.update_width(options.max_width - indent)
        for line in console.render_lines(self.renderable, inner, pad=False):
            yield Segment(" " * indent)
            yield from line
            yield Segment.line()


# -- the views ---------------------------------------------------------------------------


def size(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    if n < 1024 * 1024:
        return f"{n / 1024:.1f} KiB"
    return f"{n / 1024 / 1024:.2f} MiB"


def queues_table(queues: list[QueueInfo], *, all_queues: bool) -> RenderableType:
    rows = Rows(
        Column("Queue"),
        Column("Visible", "right"),
        Column("In flight", "right"),
        Column("Delayed", "right"),
        Column("Oldest"),
        Column("Sources", wraps=True),
        Column("Retention"),
        title="Queues" if all_queues else "Dead-letter queues",
    )
    for q in queues:
        rows.add(
            Text(q.name, style="bold" if q.visible else ""),
            Text(str(q.visible), style="red" if q.visible and q.sources else ""),
            str(q.in_flight),
            str(q.delayed),
            format_duration(q.oldest_age_s),
            ", ".join(q.sources) or (q.kind if q.kind and q.kind != "unknown" else "-"),
            format_duration(q.retention_s),
        )
    return rows.view()


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
    types = Rows(
        Column("Error type"),
        Column("From", wraps=True),
        Column("Count", "right"),
        Column("Oldest"),
        Column("Newest"),
        Column("Sample ids", wraps=True),
        title="By error type",
    )
    for row in report.by_error_type:
        types.add(
            Text(row.error_type, style="bold"),
            ", ".join(row.sources),
            str(row.count),
            format_duration(row.oldest_age_s),
            format_duration(row.newest_age_s),
            " ".join(row.sample_ids),
        )
    parts.append(
        types.view() if report.by_error_type else Text("no matching messages", style="green")
    )

    ages = Rows(Column("Age"), Column("Count", "right"), title="By age")
    for bucket in report.age_buckets:
        if bucket.count:
            ages.add(bucket.label, str(bucket.count))
    if report.matched:
        parts.append(ages.view())
        spread = ", ".join(f"{k}×{v}" for k, v in report.receive_counts.histogram.items())
        # "name ×3", not "name×3": a name stays a word of its own, to wrap whole.
        sources = ", ".join(
            f"{queue_name_from_arn(s.source_queue_arn) if s.source_queue_arn else 'unknown'} ×{s.count}"
            for s in report.sources
        )
        queued = any(k.kind in _SQS_KINDS for k in report.kinds) or not report.kinds
        parts.append(
            Text(f"receive counts: {spread}" + (f"\nsource queues: {sources}" if queued else ""))
        )
    if any(k.kind not in _SQS_KINDS for k in report.kinds):
        parts.append(_kinds_table(report))
    if report.estimate is not None:
        parts.append(_estimate_table(report.estimate))
    if report.expiring_within_24h:
        parts.append(
            Text(
                f"{report.expiring_within_24h} messages expire within 24h under the DLQ's retention",
                style="bold red",
            )
        )
    return Group(*parts)


# Kinds whose messages came from a queue: the source-queue line says all there is.
_SQS_KINDS = ("sqs-redrive-policy", "unknown")


def _kinds_table(report: InspectReport) -> RenderableType:
    rows = Rows(
        Column("Kind"), Column("Original target"), Column("Count", "right"), title="By kind"
    )
    for row in report.kinds:
        rows.add(row.kind, row.original_target or "-", str(row.count))
    return rows.view()


def target_name(message: DlqMessage) -> str:
    """Where the message failed, short: a queue's or function's name, or a target's."""
    target = message.original_target or message.source_queue_arn
    name = (
        (target.split(":function:")[-1] if ":function:" in target else target.split(":")[-1])
        if target
        else "-"
    )
    return name if message.kind in _SQS_KINDS else f"{message.kind}: {name}"


def _estimate_table(estimate: Estimate) -> RenderableType:
    rows = Rows(
        Column("Error type"),
        Column("Seen", "right"),
        Column("Share (95 % interval)"),
        Column("In the DLQ", wraps=True),
        title=(
            f"Estimate for ~{estimate.population} messages from a sample of {estimate.sample_size}"
        ),
    )
    for share in estimate.by_error_type:
        rows.add(
            share.value,
            str(share.count),
            f"{share.share:.1%} ({share.low:.1%}-{share.high:.1%})",
            f"~{share.estimated} ({share.estimated_low}-{share.estimated_high})",
        )
    return rows.view()


def body_preview(message: DlqMessage, *, whole: bool = False) -> Text:
    """The body for a table, cut short with its size unless `whole`."""
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
    truncated = not whole and (len(shown) > BODY_PREVIEW_CHARS or len(lines) > BODY_PREVIEW_LINES)
    if truncated:
        shown = "\n".join(lines[:BODY_PREVIEW_LINES])[:BODY_PREVIEW_CHARS]
    text = Text(shown)
    if truncated:
        text.append(f"\n… truncated ({size(message.body_bytes)} in all)", style="dim")
    return text


def peek_view(result: PeekResult, *, with_body: bool, wide: bool = False) -> RenderableType:
    """The messages; `wide` shows bodies in full."""
    columns = [
        Column("Message id"),
        Column("Age", "right"),
        Column("Recv", "right"),
        Column("Error type"),
        Column("From"),
        Column("Size", "right"),
    ]
    if with_body:
        columns.append(Column("Body", body=True))
    rows = Rows(*columns)
    for m in result.messages:
        cells: list[str | Text] = [
            m.message_id,
            format_duration(m.age_s),
            str(m.receive_count),
            f"{m.error_type} ({m.error_source})",
            target_name(m),
            size(m.body_bytes),
        ]
        if with_body:
            cells.append(body_preview(m, whole=wide))
        rows.add(*cells)
    header = Text(
        f"{result.queue.name}  showing {len(result.messages)} of {result.matched} matching"
    )
    return Group(header, coverage_line(result.coverage), rows.view())


def watch_table(queues: list[QueueInfo], refreshed_at: str) -> RenderableType:
    rows = Rows(
        Column("Queue"),
        Column("Visible", "right"),
        Column("In flight", "right"),
        Column("Delayed", "right"),
        Column("Oldest", "right"),
        title=f"dlqctl watch · {refreshed_at} · Ctrl-C to stop",
    )
    for q in queues:
        rows.add(
            Text(q.name, style="bold"),
            Text(str(q.visible), style="red" if q.visible else "green"),
            str(q.in_flight),
            str(q.delayed),
            format_duration(q.oldest_age_s),
        )
    return rows.view()


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
    _touched(text, summary)
    if len(summary.by_target) > 1:
        text.append(
            "\nto: "
            + ", ".join(f"{queue_name_from_arn(t)} {n}" for t, n in summary.by_target.items())
        )
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


def _touched(text: Text, summary: PlanSummary) -> None:
    """What a plan would touch, as every destructive prompt shows it: the counts by error
    type, by age bucket, and the oldest and newest age."""
    if summary.by_error_type:
        text.append(": " + ", ".join(f"{name} {n}" for name, n in summary.by_error_type.items()))
    ages = [f"{bucket.label} {bucket.count}" for bucket in summary.by_age if bucket.count]
    if ages:
        text.append("\nages: " + ", ".join(ages))
    if summary.oldest_age_s is not None and summary.newest_age_s is not None:
        text.append(
            f"\noldest {format_duration(summary.oldest_age_s)}, "
            f"newest {format_duration(summary.newest_age_s)}"
        )


def _plan_table(report: RedriveReport) -> RenderableType:
    rows = Rows(
        Column("Message id"),
        Column("Error type"),
        Column("Age"),
        Column("Delay"),
        Column("Target"),
        Column("Redriven"),
        Column("Predicted", wraps=True),
    )
    for planned in report.planned:
        rows.add(
            planned.message_id,
            planned.error_type,
            format_duration(planned.age_s),
            f"{planned.delay_s}s",
            queue_name_from_arn(planned.target),
            str(planned.redrive_count),
            planned.predicted_outcome or "-",
        )
    return rows.view()


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
    if report.came_back or report.holds_lost or report.failed_again:
        text.append(
            f"\ncame back to the DLQ {report.came_back} · failed again {report.failed_again} · "
            f"holds lost {report.holds_lost}",
            style="yellow",
        )
    if report.stopped_because:
        finished = report.stopped_because.startswith(("end of ", "reached --max-messages"))
        text.append(f"\nstopped: {report.stopped_because}", style="dim" if finished else "red")
    return text


def _failed_table(report: RedriveReport) -> RenderableType:
    where = "still in the file" if report.kind == "replay" else "still in the DLQ"
    rows = Rows(
        Column("Message id"),
        Column("Stage"),
        Column("Reason", wraps=True),
        title=f"Not moved ({where})",
    )
    for failed in report.failed:
        rows.add(failed.message_id, failed.stage, failed.reason)
    return rows.view()


def archive_view(report: ArchiveReport, *, deleting: bool = True) -> RenderableType:
    """The plan (dry run, and before the prompt) or the outcome of an export or purge."""
    if report.dry_run:
        return _archive_plan(report, deleting=deleting)
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
        rows = Rows(
            Column("Message id"),
            Column("Reason", wraps=True),
            title="Not deleted (still in the queue)",
        )
        for failed in report.failed:
            rows.add(failed.message_id, failed.reason)
        parts.append(rows.view())
    return Group(*parts)


def _archive_plan(report: ArchiveReport, *, deleting: bool) -> RenderableType:
    kept = f"archived in {report.file}" if report.file else "with no archive"
    if deleting:
        head, verb = "DELETE PLAN", f"would be deleted ({kept})"
    else:
        head, verb = "EXPORT PLAN", f"would be exported to {report.file}"
    text = Text(f"{report.selected} messages {verb}")
    if report.summary is not None:
        _touched(text, report.summary)
    parts: list[RenderableType] = [
        Text(f"{head} {report.run_id}: {queue_name_from_arn(report.source)}", style="bold"),
        coverage_line(report.coverage),
        text,
    ]
    if report.planned:
        rows = Rows(Column("Message id"), Column("Error type"), Column("Age"), Column("Size"))
        for planned in report.planned:
            rows.add(
                planned.message_id,
                planned.error_type,
                format_duration(planned.age_s),
                size(planned.body_bytes),
            )
        parts.append(rows.view())
    return Group(*parts)


def history_view(found: History, *, wide: bool = False) -> RenderableType:
    """Recent runs; `wide` shows start times as the journal has them, not to the second."""
    rows = Rows(
        Column("Started"),
        Column("Run"),
        Column("User@host"),
        Column("Command", wraps=True),
        Column("Source → target", wraps=True),
        Column("Moved"),
        Column("Outcome"),
        title=f"Recent runs ({found.journal})",
    )
    for run in found.runs:
        started = str(run.get("started_at", "?"))
        targets = run.get("target") or []
        target = ", ".join(
            queue_name_from_arn(t) for t in (targets if isinstance(targets, list) else [targets])
        )
        source = queue_name_from_arn(run["source"]) if run.get("source") else "-"
        rows.add(
            started if wide else started[:19].replace("T", " "),
            str(run["run_id"]),
            f"{run.get('user', '?')}@{run.get('host', '?')}",
            " ".join(["dlqctl", *(run.get("argv") or [str(run.get("command", ""))])]),
            f"{source} → {target or '-'}",
            str(run["moved"]),
            str(run["outcome"]),
        )
    return rows.view()


def move_tasks_view(source: QueueInfo, tasks: list[MoveTask]) -> RenderableType:
    rows = Rows(
        Column("Status"),
        Column("Moved"),
        Column("To move"),
        Column("Rate"),
        Column("Started"),
        Column("Destination"),
        Column("Failure", wraps=True),
        title=f"Move tasks of {source.name}",
    )
    for task in tasks:
        rows.add(
            str(task.status),
            str(task.moved),
            str(task.to_move),
            str(task.rate or "-"),
            task.started_at or "-",
            task.destination or "sources",
            task.failure_reason or "",
        )
    return rows.view()


def describe_report(report: object) -> RenderableType:
    """The view of a destructive run's report, whichever command ran."""
    if isinstance(report, RedriveReport):
        return redrive_view(report)
    if isinstance(report, ArchiveReport):
        return archive_view(report)
    return Text(str(report))
