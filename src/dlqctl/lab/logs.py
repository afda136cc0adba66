"""Where the pipeline's own output goes in the lab: a file to tail, not the terminal."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def pipeline_logs_to(log: Path) -> Iterator[None]:
    """The handlers' JSON logs go to `log`; moto's per-request log is silenced."""
    from dlqctl.pipeline import ingest, worker

    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a") as sink:
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
