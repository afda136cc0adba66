"""The interactive part of redrive and replay: plan, confirm, move, report, exit code."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType
from typing import TYPE_CHECKING

import typer

from dlqctl.cli.common import Invocation
from dlqctl.cli.formats import OutputFormat
from dlqctl.errors import ExitCode, RefusedError

# The commands that move messages import this module at their top, so `--help` does too:
# the engine, the rendering and the models load when a run starts.
if TYPE_CHECKING:
    from dlqctl.cli.output import Output
    from dlqctl.core.engine import StopSignal
    from dlqctl.core.scan import ProgressCallback
    from dlqctl.models import PlannedMessage, RedriveReport


@dataclass(frozen=True)
class Hooks:
    """What the CLI hands a run: the prompt, Ctrl-C, the progress bar, and where a dry
    run's planned messages go as they are planned (ndjson streams them)."""

    confirm: Callable[[RedriveReport], bool] | None
    stop: StopSignal
    on_progress: ProgressCallback | None
    on_planned: Callable[[PlannedMessage], None] | None


RunCall = Callable[[Hooks], "RedriveReport"]


def can_prompt() -> bool:
    """A person is there to answer the confirmation."""
    return sys.stdin.isatty()


def require_consent(inv: Invocation) -> None:
    """Refuse before any AWS call when nobody could confirm and --yes was not given."""
    if not (inv.values.get("dry_run") or inv.values.get("yes") or can_prompt()):
        raise RefusedError("no terminal to confirm on: pass --yes (or --dry-run to only look)")


def drive(inv: Invocation, run: RunCall, *, verb: str) -> None:
    """Plan (dry run, or before the prompt), confirm, run, report, exit with its code."""
    from dlqctl.cli.render import redrive_view
    from dlqctl.core.outcome import exit_code
    from dlqctl.core.plan import movable

    def confirm(plan: RedriveReport) -> bool:
        if bar is not None:
            bar.pause()  # the look's bar off the screen: the prompt gets a clean line
        # What the question is about goes with the question, on stderr, whatever -o says.
        inv.out.err.print(redrive_view(plan, summary_only=True))
        for warning in plan.warnings:
            inv.out.warn(warning)
        inv.out.note(
            f"the {verb} re-selects with the same filters and caps as it goes: if the DLQ "
            "changed since this look, what moves can differ"
        )
        with plain_interrupts():
            return typer.confirm(
                f"{verb.capitalize()} up to {movable(plan)} messages?", default=False, err=True
            )

    asks = not (inv.values.get("yes") or inv.values.get("dry_run"))
    streams = inv.out.format is OutputFormat.ndjson and inv.values.get("dry_run")
    # The handlers stay until the report is out: a late Ctrl-C must not cut it short.
    with graceful_interrupt(inv.out) as stop:
        with inv.out.progress(verb) as bar:
            report = run(
                Hooks(
                    confirm=confirm if asks else None,
                    stop=stop,
                    on_progress=bar,
                    on_planned=(lambda planned: inv.out.emit_lines([planned])) if streams else None,
                )
            )
        if not streams:  # a streamed plan's lines are all out already
            show(inv.out, report)
        else:
            for warning in report.warnings:
                inv.out.warn(warning)
        if not report.selected:
            inv.out.note(f"nothing to {verb}: no message matched")
        elif report.dry_run and not movable(report):
            inv.out.note(f"nothing to {verb}: every selected message was refused")
    code = exit_code(report)
    if code is not ExitCode.OK:
        raise typer.Exit(int(code))


def show(out: Output, report: RedriveReport) -> None:
    from dlqctl.cli.render import redrive_view

    if out.format is OutputFormat.json:
        out.emit(report)
    elif out.format is OutputFormat.ndjson:
        out.emit_lines(report.planned if report.dry_run else [report])
    else:
        out.console.print(redrive_view(report))
        for warning in report.warnings:
            out.warn(warning)


@contextmanager
def plain_interrupts() -> Iterator[None]:
    """Ctrl-C (SIGINT) raises KeyboardInterrupt here, at once: at a prompt it means "no",
    nothing having changed yet; in `watch` it is the way to stop. Also when the process
    started with SIGINT ignored, as a script's background job does, where Python would
    otherwise never raise it and `kill -INT` could not stop the command."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@contextmanager
def graceful_interrupt(out: Output) -> Iterator[StopSignal]:
    """First Ctrl-C or SIGTERM: finish the round in hand, release, report. Second: also
    give up the retries in hand. Either way the run ends with its report and journal."""
    from dlqctl.core.engine import StopSignal

    stop = StopSignal()

    def handler(signum: int, frame: FrameType | None) -> None:
        # Only flags and one unbuffered write: a signal may arrive while Rich is writing
        # to stderr, and a buffered write from inside that write raises RuntimeError.
        again = stop.is_set()
        stop.request("terminated" if signum == signal.SIGTERM else "interrupted")
        text = (
            "stopping now: retries in hand are abandoned; the report follows"
            if again
            else "stopping after the batch in hand; Ctrl-C again to stop at once"
        )
        os.write(sys.stderr.fileno(), f"warning: {text}\n".encode())

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
