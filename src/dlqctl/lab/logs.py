"""Where the pipeline's own output goes in the lab: a file to tail, not the terminal."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any


def private_log(path: Path, mode: str = "a") -> IO[Any]:
    """A log file only its owner can read (0600, whatever the umask): the pipeline logs
    order payloads."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.chmod(path, 0o600)  # a log an older dlqctl created with the umask's mode
    return os.fdopen(descriptor, mode)


@contextmanager
def pipeline_logs_to(log: Path) -> Iterator[None]:
    """The handlers' JSON logs go to `log`; moto's per-request log is silenced."""
    from dlqctl.pipeline import ingest, worker

    with private_log(log) as sink:
        handlers = [
            h
            for lg in (worker.logger, ingest.logger)
            for h in lg.handlers
            if isinstance(h, logging.StreamHandler)
        ]
        previous = [h.setStream(sink) for h in handlers]
        werkzeug = logging.getLogger("werkzeug")
        level = werkzeug.level
        werkzeug.setLevel(logging.ERROR)
        try:
            yield
        finally:
            werkzeug.setLevel(level)
            for handler, stream in zip(handlers, previous, strict=True):
                handler.setStream(stream)
