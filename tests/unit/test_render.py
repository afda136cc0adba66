import io
import time
import uuid
from collections.abc import Callable, Sequence

import pytest
from rich.cells import cell_len
from rich.console import Console

from dlqctl.cli.render import (
    archive_view,
    body_preview,
    history_view,
    inspect_view,
    move_tasks_view,
    peek_view,
    queues_table,
    redrive_view,
    size,
    watch_table,
)
from dlqctl.core.inspect import InspectTally
from dlqctl.core.messages import receive
from dlqctl.core.queues import queue_info
from dlqctl.models import (
    ArchiveReport,
    Coverage,
    DlqMessage,
    FailedEntry,
    History,
    InspectReport,
    MoveTask,
    PeekResult,
    PlannedMessage,
    PredictedOutcome,
    RedriveReport,
)

from .helpers import raw_message, received

QUEUE = queue_info(
    "https://sqs.us-east-1.amazonaws.com/123456789012/orders-dlq",
    {
        "QueueArn": "arn:aws:sqs:us-east-1:123456789012:orders-dlq",
        "ApproximateNumberOfMessages": "3",
    },
    ["orders"],
)
COVERAGE = Coverage(scanned=3, approximate_depth=3, complete=True, stopped_because="end of queue")


def render(renderable: object) -> str:
    console = Console(file=io.StringIO(), width=160, no_color=True)
    console.print(renderable)
    return console.file.getvalue()  # type: ignore[attr-defined]


def test_sizes() -> None:
    assert [size(10), size(2048), size(3 * 1024 * 1024)] == ["10 B", "2.0 KiB", "3.00 MiB"]


def test_long_bodies_are_truncated_with_their_size() -> None:
    m = received({"blob": "x" * 5000}).to_message("Unknown", "none", None)
    text = body_preview(m).plain
    assert len(text) < 700 and "truncated (4.9 KiB in all)" in text


def test_markup_in_bodies_is_shown_literally() -> None:
    m = received("[bold red]boom[/]").to_message("Unknown", "none", None)
    assert "[bold red]boom[/]" in render(body_preview(m))


def test_binary_bodies_are_described_not_dumped() -> None:
    m = received("\x01\x02raw").to_message("Unknown", "none", None)
    assert "binary or unprintable" in body_preview(m).plain


def test_inspect_view_shows_types_ages_and_coverage() -> None:
    tally = InspectTally(retention_s=QUEUE.retention_s)
    for error_type in ["Timeout", "Timeout", "Poison"]:
        tally.add(received({"n": 1}, age_s=7200).to_message(error_type, "attribute", None))
    out = render(inspect_view(tally.report(QUEUE, COVERAGE, [])))
    assert "scanned 3 of ~3 (complete)" in out
    assert "Timeout" in out and "Poison" in out
    assert "1h-6h" in out
    assert "sources: orders" in out


def test_expiring_messages_are_flagged() -> None:
    tally = InspectTally(retention_s=86_400 + 3600)
    tally.add(received({"n": 1}, age_s=7200).to_message("Timeout", "attribute", None))
    report = tally.report(QUEUE, COVERAGE, [])
    assert report.expiring_within_24h == 1
    assert "1 messages expire within 24h" in render(inspect_view(report))


def test_peek_view_and_queue_table() -> None:
    messages = [received({"order": 7}).to_message("Timeout", "ledger", "FAILED")]
    result = PeekResult(queue=QUEUE, coverage=COVERAGE, matched=1, messages=messages, warnings=[])
    out = render(peek_view(result, with_body=True))
    assert "Timeout (ledger)" in out and '"order": 7' in out
    assert "orders-dlq" in render(queues_table([QUEUE], all_queues=False))


# -- at 80 and 120 columns: no identifier cut, no line too wide --------------------------

WIDTHS = (80, 120)
ARN = "arn:aws:sqs:eu-west-1:123456789012:"
# SQS's longest queue name: 80 characters, as wide as the narrowest terminal.
DLQ = "payments-settlement-reconciliation-eu-west-1-production-blue-green-canary-v2-dlq"
SOURCE = DLQ.removesuffix("-dlq")
ERROR = "com.example.payments.SettlementTimeoutException"
IDS = [str(uuid.uuid5(uuid.NAMESPACE_URL, f"message-{n}")) for n in range(3)]
RUN_ID = "3f9c2a7b41d0"
REASON = "AWS.SimpleQueueService.NonExistentQueue: the destination queue was deleted meanwhile"
BODY = {"order": {"id": "o-17", "total": "150"}, "customer": {"email": "ann@example.com"}}
LONG_QUEUE = queue_info(
    f"https://sqs.eu-west-1.amazonaws.com/123456789012/{DLQ}",
    {"QueueArn": ARN + DLQ, "ApproximateNumberOfMessages": "3"},
    [SOURCE],
)


def at_width(renderable: object, width: int) -> str:
    console = Console(width=width, record=True, no_color=True, file=io.StringIO())
    console.print(renderable)
    return console.export_text()


def assert_fits(
    out: str, width: int, identifiers: Sequence[str], prose: Sequence[str] = ()
) -> None:
    """No line wider than the width; each identifier whole on one line; each piece of
    prose all there, in order (it may wrap between words)."""
    lines = out.splitlines()
    assert max(cell_len(line) for line in lines) <= width, out
    for identifier in identifiers:
        assert len(identifier) <= width  # a longer one could only fold
        assert any(identifier in line for line in lines), f"{identifier!r} cut in:\n{out}"
    flowing = " ".join(out.split())
    for text in prose:
        assert " ".join(text.split()) in flowing, f"{text!r} lost in:\n{out}"


def long_message(n: int, error_type: str = ERROR) -> DlqMessage:
    raw = raw_message(
        BODY, error_type=error_type, system={"DeadLetterQueueSourceArn": ARN + SOURCE}
    )
    raw["MessageId"] = IDS[n]
    return receive(raw, time.time()).to_message(error_type, "ledger", None)


MESSAGES = [long_message(0), long_message(1), long_message(2, "Timeout")]
LONG_COVERAGE = Coverage(scanned=3, approximate_depth=3, complete=True, stopped_because="end")


def planned(message: DlqMessage, outcome: PredictedOutcome) -> PlannedMessage:
    return PlannedMessage(
        message_id=message.message_id,
        error_type=message.error_type,
        age_s=message.age_s,
        delay_s=12,
        target=ARN + SOURCE,
        body_sha256=message.body_sha256,
        body_bytes=message.body_bytes,
        idempotency_key=message.idempotency_key,
        redrive_count=1,
        predicted_outcome=outcome,
    )


def redrive_report(*, dry_run: bool) -> RedriveReport:
    return RedriveReport(
        run_id=RUN_ID,
        dry_run=dry_run,
        source=ARN + DLQ,
        target=ARN + SOURCE,
        selected=3,
        sent=0 if dry_run else 2,
        deleted=0 if dry_run else 2,
        failed=[] if dry_run else [FailedEntry(message_id=IDS[2], stage="send", reason=REASON)],
        possible_duplicates=0,
        planned=[
            planned(MESSAGES[0], "no-op (already COMPLETED)"),
            planned(MESSAGES[1], "will run"),
        ]
        if dry_run
        else [],
        duration_s=1.5,
        coverage=LONG_COVERAGE,
    )


def inspect_report(*, sampled: bool = False) -> InspectReport:
    tally = InspectTally(retention_s=LONG_QUEUE.retention_s)
    for message in MESSAGES:
        tally.add(message)
    return tally.report(LONG_QUEUE, LONG_COVERAGE, [], sampled=sampled)


VIEWS: dict[str, tuple[Callable[[], object], list[str], list[str]]] = {
    "queues": (
        lambda: queues_table([LONG_QUEUE, QUEUE], all_queues=False),
        [DLQ, SOURCE, "orders-dlq"],
        [],
    ),
    "watch": (lambda: watch_table([LONG_QUEUE, QUEUE], "08:00:00Z"), [DLQ, "orders-dlq"], []),
    "inspect": (lambda: inspect_view(inspect_report()), [DLQ, SOURCE, ERROR, *IDS], []),
    "inspect sampled": (
        lambda: inspect_view(inspect_report(sampled=True)),
        [DLQ, ERROR],
        ["Estimate for ~", "(95 % interval)"],
    ),
    "peek": (
        lambda: peek_view(
            PeekResult(
                queue=LONG_QUEUE, coverage=LONG_COVERAGE, matched=3, messages=MESSAGES, warnings=[]
            ),
            with_body=True,
        ),
        # A body is not squeezed: its longest line is whole too.
        [DLQ, SOURCE, *IDS, f"{ERROR} (ledger)", '"email": "ann@example.com"'],
        [],
    ),
    "redrive plan": (
        lambda: redrive_view(redrive_report(dry_run=True)),
        [RUN_ID, DLQ, SOURCE, *IDS[:2], ERROR],
        ["no-op (already COMPLETED)"],
    ),
    "redrive report": (
        lambda: redrive_view(redrive_report(dry_run=False)),
        [RUN_ID, DLQ, SOURCE, IDS[2]],
        [REASON],
    ),
    "export report": (
        lambda: archive_view(
            ArchiveReport(
                run_id=RUN_ID,
                source=ARN + DLQ,
                file="/var/tmp/incident-42.jsonl",
                exported=3,
                deleted=2,
                failed=[FailedEntry(message_id=IDS[2], stage="delete", reason=REASON)],
                coverage=LONG_COVERAGE,
                duration_s=0.4,
            )
        ),
        [IDS[2], "/var/tmp/incident-42.jsonl"],
        [REASON],
    ),
    "history": (
        lambda: history_view(
            History(
                journal="/home/ann/.local/state/dlqctl/journal.jsonl",
                runs=[
                    {
                        "run_id": RUN_ID,
                        "started_at": "2027-01-15T08:00:00.123456Z",
                        "user": "ann",
                        "host": "bastion-eu-west-1",
                        "argv": ["redrive", DLQ, "--error-type", ERROR, "--rate", "20"],
                        "source": ARN + DLQ,
                        "target": [ARN + SOURCE],
                        "moved": 2,
                        "outcome": "complete",
                    }
                ],
            )
        ),
        [RUN_ID, DLQ, SOURCE, ERROR, "ann@bastion-eu-west-1", "2027-01-15 08:00:00"],
        [f"dlqctl redrive {DLQ} --error-type {ERROR} --rate 20"],
    ),
    "move-task status": (
        lambda: move_tasks_view(
            LONG_QUEUE,
            [
                MoveTask(
                    task_handle="h1",
                    status="FAILED",
                    source=ARN + DLQ,
                    destination=ARN + "orders-replay-eu-west-1",
                    rate=50,
                    moved=10,
                    to_move=42,
                    failure_reason=REASON,
                    started_at="2027-01-15T08:00:00.123456Z",
                )
            ],
        ),
        [DLQ, ARN + "orders-replay-eu-west-1", "2027-01-15T08:00:00.123456Z"],
        [REASON],
    ),
}


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", VIEWS)
def test_every_identifier_is_whole_and_no_line_too_wide(name: str, width: int) -> None:
    view, identifiers, prose = VIEWS[name]
    assert_fits(at_width(view(), width), width, identifiers, prose)


def test_a_table_too_wide_for_its_narrowest_columns_becomes_blocks_with_every_cell() -> None:
    # Rich would squeeze the failure column to nothing, and the reason would vanish.
    task = MoveTask(
        task_handle="h1",
        status="FAILED",
        source=ARN + DLQ,
        destination=None,
        rate=None,
        moved=10,
        to_move=42,
        failure_reason=REASON,
        started_at="2027-01-15T08:00:00.123456Z",
    )
    out = at_width(move_tasks_view(QUEUE, [task]), 80)
    assert_fits(out, 80, ["2027-01-15T08:00:00.123456Z"], [REASON])


def test_the_table_where_it_fits_and_bodies_in_full_when_wide() -> None:
    short = [received({"blob": "x" * 5000}).to_message("Timeout", "ledger", None)]
    result = PeekResult(queue=QUEUE, coverage=COVERAGE, matched=1, messages=short, warnings=[])
    table = at_width(peek_view(result, with_body=False), 80)
    assert any("Message id" in line and "Error type" in line for line in table.splitlines())
    assert "truncated" in render(peek_view(result, with_body=True))
    whole = render(peek_view(result, with_body=True, wide=True))
    assert "truncated" not in whole and "".join(whole.split()).count("x") == 5000
