"""Waiting for a lane: its answer is needed whatever happens meanwhile.

A lane's request may already have acted (a message received and held, a copy sent), so
its outcome must be booked before anything is raised: a Ctrl-C while waiting does not
end the wait, it is handed back to be raised once every lane is booked.
"""

from __future__ import annotations

from concurrent.futures import Future
from typing import Any


def wait_for(future: Future[Any]) -> BaseException | None:
    """Wait until the lane has finished (its result or its own error is then at hand);
    what was raised here while waiting (Ctrl-C), if anything."""
    interrupted: BaseException | None = None
    while True:
        try:
            future.exception()  # waits; hands back the lane's own error, never raises it
            return interrupted
        except BaseException as exc:
            interrupted = interrupted or exc
