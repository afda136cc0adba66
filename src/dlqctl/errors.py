"""The exception hierarchy: every error knows its exit code (design §3).

The core raises these; only the CLI entry point turns them into an exit status.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    ERROR = 1
    USAGE = 2
    PARTIAL = 3
    REFUSED = 4
    NOT_FOUND = 5
    ACCESS_DENIED = 6
    INTERRUPTED = 130
    TERMINATED = 143


class DlqctlError(Exception):
    """Base class. `message` is one line saying what failed and what to do."""

    exit_code: ExitCode = ExitCode.ERROR

    def __init__(self, message: str, details: dict[str, object] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}
        # What a destructive run had done when this error stopped it: the CLI prints it
        # before the error line, so no moved message goes unreported.
        self.report: object | None = None
        # Attempts of the failed call (botocore's own retries included) whose answer was
        # lost: each may have acted, e.g. sent a copy, before this error ended the call.
        self.lost_answers = 0


class AwsError(DlqctlError):
    """An AWS call failed for a reason the user cannot fix with different input."""


class TransientAwsError(AwsError):
    """Worth retrying later. `ambiguous`: the request may have taken effect anyway
    (a lost response, a 5xx), so a retried send can leave a duplicate."""

    def __init__(
        self, message: str, details: dict[str, object] | None = None, *, ambiguous: bool = False
    ) -> None:
        super().__init__(message, details)
        self.ambiguous = ambiguous
        self.lost_answers = 1 if ambiguous else 0


class ThrottledError(TransientAwsError):
    """Still throttled after botocore's retries; the request was refused, not run."""


class EndpointError(TransientAwsError):
    """The endpoint could not be reached, or its answer was lost."""


class UsageError(DlqctlError):
    exit_code = ExitCode.USAGE


class ConfigError(UsageError):
    """The config file or a setting is invalid."""


class RefusedError(DlqctlError):
    exit_code = ExitCode.REFUSED


class NotFoundError(DlqctlError):
    exit_code = ExitCode.NOT_FOUND


class QueueNotFoundError(NotFoundError):
    pass


class AccessDeniedError(DlqctlError):
    exit_code = ExitCode.ACCESS_DENIED
