import io

from rich.console import Console

from dlqctl.cli.render import body_preview, inspect_view, peek_view, queues_table, size
from dlqctl.core.inspect import InspectTally
from dlqctl.core.queues import queue_info
from dlqctl.models import Coverage, PeekResult

from .helpers import received

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
