"""Pacing a redrive: a token bucket for --rate and random per-message delays for --jitter."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable

MAX_DELAY_S = 900  # SQS's ceiling for DelaySeconds


class TokenBucket:
    """`rate` messages a second on average, bursts of at most `burst`.

    One bucket is shared by every lane of a run, so --rate holds for the run as a whole.
    """

    def __init__(
        self, rate: float, burst: float, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.capacity = max(burst, 1.0)
        self.tokens = self.capacity
        self.clock = clock
        self._updated = clock()
        self._lock = threading.Lock()

    def reserve(self, n: int = 1) -> float:
        """Take `n` messages' tokens; the seconds to wait before they may go. The caller
        waits, so it can renew holds and stop on Ctrl-C meanwhile."""
        with self._lock:
            now = self.clock()
            self.tokens = min(self.capacity, self.tokens + (now - self._updated) * self.rate)
            self._updated = now
            self.tokens -= n
            return -self.tokens / self.rate if self.tokens < 0 else 0.0


def jitter_delays(count: int, span_s: float, rng: random.Random) -> list[int]:
    """A random whole-second delay in [0, span] for each message (SQS takes whole seconds)."""
    if span_s <= 0:
        return [0] * count
    top = min(int(span_s), MAX_DELAY_S)
    return [rng.randint(0, top) for _ in range(count)]
