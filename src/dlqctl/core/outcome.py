"""What a destructive run's report means: its journal outcome and its exit code.

The one place that decides both (design §3), for redrive, replay, export and purge.
"""

from __future__ import annotations

from dlqctl.errors import ExitCode, RefusedError
from dlqctl.models import ArchiveReport, RedriveReport

# Stop reasons of a run that went as far as it was asked to.
_FINISHED = ("end of ", "reached --max-messages", "no message matched")


def finished(report: RedriveReport | ArchiveReport) -> bool:
    return (report.stopped_because or "").startswith(_FINISHED)


def _all_done(report: RedriveReport | ArchiveReport) -> bool:
    if isinstance(report, RedriveReport):
        return report.moved_all
    return not report.failed


def journal_outcome(report: RedriveReport | ArchiveReport) -> str:
    reason = report.stopped_because or ""
    if report.interrupted:
        return "interrupted"
    if reason.startswith("error"):
        return "error"
    if not finished(report):
        return "stopped"
    return "complete" if _all_done(report) else "partial"


def all_refused(report: RedriveReport) -> bool:
    """Every selected message was refused by a safety check (a plan's or a run's)."""
    refused = sum(1 for f in report.failed if f.stage == "refused")
    return report.sent == 0 and 0 < refused == report.selected


def refused_error(report: RedriveReport) -> RefusedError:
    first = next(f for f in report.failed if f.stage == "refused")
    return RefusedError(
        f"all {report.selected} selected messages were refused, e.g. "
        f"{first.message_id}: {first.reason}"
    )


def exit_code(report: RedriveReport | ArchiveReport) -> ExitCode:
    """The exit status a run deserves: 0 only when it did all it was asked to."""
    if report.interrupted:
        terminated = report.stopped_because == "terminated"
        return ExitCode.TERMINATED if terminated else ExitCode.INTERRUPTED
    if report.dry_run:  # a plan changed nothing, whatever it found
        return ExitCode.OK
    reason = report.stopped_because or ""
    if reason.startswith(("canary", "circuit")):
        return ExitCode.REFUSED
    if isinstance(report, RedriveReport) and all_refused(report):
        return ExitCode.REFUSED
    if not finished(report):
        return ExitCode.PARTIAL  # stopped early (in-flight limit, scan ceiling): some remain
    return ExitCode.OK if _all_done(report) else ExitCode.PARTIAL
