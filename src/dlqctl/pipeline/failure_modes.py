"""GameDay failure modes, read from an SSM parameter: none, poison, timeout, error-rate:P."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["none", "poison", "timeout", "error-rate"]


class PoisonPayloadError(Exception):
    """The payload itself is bad: retrying will never help."""


class DownstreamError(Exception):
    """A dependency failed: transient, a retry may succeed."""


class WorkerTimedOut(BaseException):
    """The invocation ran past its deadline. A BaseException, so no handler records it:
    in Lambda the process is killed before anything could be written."""


@dataclass(frozen=True)
class FailureMode:
    kind: Kind = "none"
    rate: float = 0.0

    def __str__(self) -> str:
        return f"error-rate:{self.rate:g}" if self.kind == "error-rate" else self.kind


def parse_failure_mode(text: str) -> FailureMode:
    """`none`, `poison`, `timeout` or `error-rate:P` with 0 ≤ P ≤ 1; ValueError otherwise."""
    value = text.strip().lower()
    if value in ("none", "poison", "timeout"):
        return FailureMode(value)  # type: ignore[arg-type]
    name, _, rate = value.partition(":")
    if name == "error-rate":
        try:
            probability = float(rate)
        except ValueError:
            probability = -1.0
        if 0.0 <= probability <= 1.0:
            return FailureMode("error-rate", probability)
    raise ValueError(
        f"unknown failure mode {text!r}: use none, poison, timeout or error-rate:P (0-1)"
    )
