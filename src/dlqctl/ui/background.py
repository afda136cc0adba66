"""The looks and runs the UI starts in worker threads, and how each is ended.

A look (inspect, peek, a plan) holds every message it has seen until it returns; the API
releases them on return and on any exception. So a look is stopped by raising from its
progress callback, which the scan calls after every receive: the view that started it
went away, or the app is exiting. A run (redrive, purge, export) is stopped by its
`StopSignal`, as Ctrl-C stops the CLI's: the batch in hand is finished and journaled,
the rest released.

Looks take turns: a second look over a DLQ while the first still holds messages would
miss those, and report a queue smaller than it is.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from dlqctl.core.engine import StopSignal
from dlqctl.core.scan import ProgressCallback

# How long a stopped run gets to finish its round before a second request also
# abandons the retries in hand (the CLI's second Ctrl-C).
RUN_GRACE_S = 10.0
# How often a look waiting for its turn checks whether it is still wanted.
TURN_POLL_S = 0.05


class LookCancelled(Exception):
    """Raised inside a look whose view is gone; the scan releases what it held."""


@dataclass
class _Activity:
    stop: Callable[[], None]
    is_run: bool
    done: threading.Event = field(default_factory=threading.Event)
    stopping: bool = False


class Background:
    """Every look and run in flight, so that leaving a view, quitting, Ctrl-C or a crash
    can stop them and wait until each has released what it held."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._turn = threading.Lock()
        self._activities: list[_Activity] = []

    @contextmanager
    def look(
        self, cancelled: threading.Event, report: ProgressCallback | None = None
    ) -> Iterator[ProgressCallback]:
        """A look that ends as soon as `cancelled` is set (a worker's `cancelled_event`):
        use the progress callback it yields as the API call's `on_progress`."""

        def progress(scanned: int, expected: int) -> None:
            if cancelled.is_set():
                raise LookCancelled
            if report is not None:
                report(scanned, expected)

        with self._tracked(cancelled.set, is_run=False), self._my_turn(cancelled):
            yield progress

    @contextmanager
    def run(self, stop: StopSignal) -> Iterator[None]:
        """A destructive run, stopped through `stop` like the CLI's on Ctrl-C."""
        with self._tracked(lambda: stop.request("interrupted"), is_run=True), self._my_turn(stop):
            yield

    @property
    def busy(self) -> bool:
        """Some look or run has not ended yet."""
        with self._guard:
            return bool(self._activities)

    def interrupt_runs(self) -> bool:
        """Ask every run not yet asked to stop after the batch in hand; False when there
        was none (nothing destructive is going on)."""
        with self._guard:
            fresh = [a for a in self._activities if a.is_run and not a.stopping]
            for activity in fresh:
                activity.stopping = True
        for activity in fresh:
            activity.stop()
        return bool(fresh)

    def settle(self) -> None:
        """Stop everything still running and wait until each has released what it held.
        Called when the app exits, however it exits."""
        with self._guard:
            activities = list(self._activities)
        for activity in activities:
            activity.stop()
        for activity in activities:
            if not activity.done.wait(RUN_GRACE_S):
                activity.stop()  # a run's second request: give up the retries in hand
                activity.done.wait()

    @contextmanager
    def _tracked(self, stop: Callable[[], None], *, is_run: bool) -> Iterator[None]:
        activity = _Activity(stop, is_run)
        with self._guard:
            self._activities.append(activity)
        try:
            yield
        finally:
            with self._guard:
                self._activities.remove(activity)
            activity.done.set()

    @contextmanager
    def _my_turn(self, cancelled: threading.Event) -> Iterator[None]:
        while not self._turn.acquire(timeout=TURN_POLL_S):
            if cancelled.is_set():
                raise LookCancelled
        try:
            yield
        finally:
            self._turn.release()
