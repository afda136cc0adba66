"""The interactive part of redrive and replay: plan, confirm, move, report, exit code."""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from types import FrameType

import typer

from dlqctl.cli.common import Invocation
from dlqctl.cli.output import Output, OutputFormat
from dlqctl.cli.render import redrive_view
from dlqctl.core.redrive import Redrive, exit_code
from dlqctl.core.scan import ProgressCallback
from dlqctl.errors import ExitCode, RefusedError
from dlqctl.models import RedriveReport

SessionFactory = Callable[[ProgressCallback | None], AbstractContextManager[Redrive]]


def can_prompt() -> bool:
    """A person is there to answer the confirmation."""
    return sys.stdin.isatty()


def require_consent(inv: Invocation) -> None:
    """Refuse before any AWS call when nobody could confirm and --yes was not given."""
    if not (inv.values.get("dry_run") or inv.values.get("yes") or can_prompt()):
        raise RefusedError("no terminal to confirm on: pass --yes (or --dry-run to only look)")


def drive(inv: Invocation, open_session: SessionFactory, *, verb: str) -> None:
    """Open the session (which selects and holds), show or confirm the plan, execute,
    report, and exit with the run's code."""
    with ExitStack() as held:
        with inv.out.progress("selecting") as on_scan:
            run = held.enter_context(open_session(on_scan))
        plan = run.plan
        if not run.options.dry_run:
            run.check_movable()
        if run.options.dry_run or not plan.planned:
            show(inv.out, plan)
            if not plan.planned:
                why = "every selected message was refused" if plan.failed else "no message matched"
                inv.out.note(f"nothing to {verb}: {why}")
            return
        if not inv.values.get("yes"):
            show(inv.out, plan, summary_only=True)
            run.hold_for_confirmation()
            if not typer.confirm(
                f"{verb.capitalize()} {len(plan.planned)} messages?", default=False, err=True
            ):
                raise RefusedError("not confirmed: nothing was changed")
        with graceful_interrupt(inv.out) as stop, inv.out.progress(verb) as on_progress:
            report = run.execute(stop=stop, on_progress=on_progress)
    show(inv.out, report)
    code = exit_code(report)
    if code is not ExitCode.OK:
        raise typer.Exit(int(code))


def show(out: Output, report: RedriveReport, *, summary_only: bool = False) -> None:
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
def graceful_interrupt(out: Output) -> Iterator[threading.Event]:
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
