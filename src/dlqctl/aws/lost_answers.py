"""Counting a batch call's attempts whose answer was lost (a 5xx, a read timeout).

botocore retries those by itself, and each such attempt may have acted: a retried send
may leave a second copy, a retried delete may have deleted already. dlqctl must know, to
report possible duplicates instead of hiding them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

from botocore.exceptions import ConnectionClosedError, ReadTimeoutError

from dlqctl.errors import DlqctlError


class _Count(threading.local):
    value = 0


class LostAnswers:
    """Registers on `client` for `operations` (e.g. "SendMessageBatch"); `counted` runs
    one call and says how many of its attempts lost their answer (per thread)."""

    def __init__(self, client: Any, operations: Iterable[str]) -> None:
        self._count = _Count()
        service = client.meta.service_model.service_id.hyphenize()
        for operation in operations:
            client.meta.events.register(
                f"needs-retry.{service}.{operation}",
                self._note_attempt,
                unique_id=f"dlqctl-lost-answers-{id(self)}-{operation}",
            )

    def _note_attempt(
        self,
        response: tuple[Any, Any] | None = None,
        caught_exception: Exception | None = None,
        **_: Any,
    ) -> None:
        """Count an attempt whose answer was lost; returns None, so botocore's own retry
        handler still decides whether to retry."""
        lost = isinstance(caught_exception, ReadTimeoutError | ConnectionClosedError) or (
            response is not None and getattr(response[0], "status_code", 0) >= 500
        )
        if lost:
            self._count.value += 1

    def counted(self, call: Callable[[], dict[str, Any]]) -> tuple[dict[str, Any], int]:
        """Run one call; its answer and how many of its attempts lost their answer."""
        self._count.value = 0
        try:
            response = call()
        except DlqctlError as exc:  # also AccessDenied after a lost answer: it may have acted
            exc.lost_answers = max(exc.lost_answers, self._count.value)
            raise
        return response, self._count.value
