"""`dlqctl redrive`: put the right messages back, safely."""

import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer

from dlqctl.cli.app import app
from dlqctl.cli.common import Invocation, command
from dlqctl.cli.output import Output, OutputFormat
from dlqctl.cli.render import redrive_view
from dlqctl.core.durations import parse_duration
from dlqctl.core.redrive import RedriveOptions, exit_code
from dlqctl.errors import ExitCode, RefusedError
from dlqctl.models import RedriveReport


@command(app, "redrive", groups=("aws", "classify", "filters", "output"))
def redrive(
    inv: Invocation,
    queue: Annotated[
        str | None,
        typer.Argument(help="The DLQ: name, URL or ARN (default: the --pipeline's DLQ)."),
    ] = None,
    to: Annotated[
        str | None,
        typer.Option(
            help="Target queue (default: each message's source queue, else the DLQ's only source)."
        ),
    ] = None,
    select_all: Annotated[
        bool, typer.Option("--all", help="Select every message: required when no filter is given.")
    ] = False,
    max_messages: Annotated[
        int, typer.Option(help="Move at most this many (above 1000 needs --force).")
    ] = 100,
    force: Annotated[bool, typer.Option(help="Allow --max-messages above 1000.")] = False,
    batch_size: Annotated[int, typer.Option(help="Messages per SendMessageBatch, 1-10.")] = 10,
    rate: Annotated[float | None, typer.Option(help="At most this many messages a second.")] = None,
    jitter: Annotated[
        str, typer.Option(help="Random per-message delay up to this (at most 15m), e.g. 30s.")
    ] = "0s",
    max_redrives: Annotated[
        int | None,
        typer.Option(help="Refuse messages dlqctl has already redriven this many times."),
    ] = None,
    canary: Annotated[
        int,
        typer.Option(
            help="Send this many first, wait --canary-wait, go on only if none came back."
        ),
    ] = 0,
    canary_wait: Annotated[str, typer.Option(help="How long the canary waits, e.g. 2m.")] = "60s",
    stop_after_failures: Annotated[
        int | None,
        typer.Option(help="Circuit breaker: stop when this many redriven messages fail again."),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the full plan and change nothing.")
    ] = False,
    yes: Annotated[
        bool,
        typer.Option(
            "--yes", "-y", help="Do not ask for confirmation (needed without a terminal)."
        ),
    ] = False,
    journal: Annotated[
        Path | None,
        typer.Option(help="Audit journal (default: $XDG_STATE_HOME/dlqctl/journal.jsonl)."),
    ] = None,
) -> None:
    """Move selected messages from a DLQ back to their source queue, safely.

    A filter (or --all) is required. Messages are sent in batches, then deleted from the
    DLQ only once the target accepted them; what fails stays in the DLQ. Ctrl-C finishes
    the batch in hand, releases the rest and prints the report (exit 130).

    **Examples:**

        dlqctl redrive orders-dlq --error-type Timeout --max-age 2h --dry-run

        dlqctl redrive orders-dlq --error-type Timeout --rate 20 --jitter 30s --canary 5 --canary-wait 2m

        dlqctl redrive orders-dlq --all --max-messages 500 --yes -o json | jq '.deleted'
    """
    options = RedriveOptions(
        to=to,
        select_all=select_all,
        max_messages=max_messages,
        force=force,
        batch_size=batch_size,
        rate=rate,
        jitter_s=parse_duration(jitter),
        max_redrives=max_redrives,
        canary=canary,
        canary_wait_s=parse_duration(canary_wait),
        stop_after_failures=stop_after_failures,
        dry_run=dry_run,
    )
    message_filter = inv.message_filter()
    if not (dry_run or yes or can_prompt()):
        raise RefusedError("no terminal to confirm on: pass --yes (or --dry-run to only look)")
    name = inv.queue(queue)
    with ExitStack() as held:
        with inv.out.progress(f"selecting from {name}") as on_scan:
            run = held.enter_context(
                inv.api.redrive_session(
                    name,
                    message_filter,
                    options,
                    journal=journal,
                    max_scan=inv.values.get("max_scan"),
                    on_progress=on_scan,
                )
            )
        plan = run.plan
        if not dry_run:
            run.check_movable()
        if dry_run or not plan.planned:
            _show(inv.out, plan)
            if not plan.planned:
                inv.out.note("nothing to redrive: no message matched")
            return
        if not yes:
            _show(inv.out, plan, summary_only=True)
            run.hold_for_confirmation()
            if not typer.confirm(f"Redrive {len(plan.planned)} messages?", default=False, err=True):
                raise RefusedError("not confirmed: nothing was changed")
        with _graceful_interrupt(inv.out) as stop, inv.out.progress("redriving") as on_progress:
            report = run.execute(stop=stop, on_progress=on_progress)
    _show(inv.out, report)
    code = exit_code(report)
    if code is not ExitCode.OK:
        raise typer.Exit(int(code))


def can_prompt() -> bool:
    """A person is there to answer the confirmation."""
    return sys.stdin.isatty()


def _show(out: Output, report: RedriveReport, *, summary_only: bool = False) -> None:
    if out.format is OutputFormat.json:
        if not summary_only:
            out.emit(report)
    elif out.format is OutputFormat.ndjson:
        if not summary_only:
            out.emit_lines(report.planned if report.dry_run else [report])
    else:
        out.console.print(redrive_view(report, summary_only=summary_only))
        for warning in report.warnings:
            out.warn(warning)


@contextmanager
def _graceful_interrupt(out: Output) -> Iterator[threading.Event]:
    """First Ctrl-C: finish the batch in hand, then stop. Second: stop at once."""
    stop = threading.Event()

    def handler(signum: int, frame: FrameType | None) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        out.warn("stopping after the batch in hand; Ctrl-C again to stop at once")

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield stop
    finally:
        signal.signal(signal.SIGINT, previous)
