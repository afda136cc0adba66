"""The feed's book of holds when a round is received ahead (engine, several lanes)."""

from __future__ import annotations

import itertools
from typing import Any

from dlqctl.core.feed import QueueFeed


class Sqs:
    """Hands out new messages on each receive and records each visibility change."""

    def __init__(self) -> None:
        self.ids = itertools.count()
        self.changes: list[tuple[list[str], int]] = []

    def receive(self, url: str, *, max_messages: int, wait_s: int, visibility_s: int) -> Any:
        return [
            {"MessageId": f"m{n}", "ReceiptHandle": f"h{n}"}
            for n in itertools.islice(self.ids, max_messages)
        ]

    def change_visibility(self, url: str, handles: list[str], timeout: int, *, lanes: int) -> Any:
        self.changes.append((sorted(handles), timeout))
        return []


def test_a_round_received_ahead_is_renewed_by_the_time_its_own_holds_run_out() -> None:
    """Its holds began when it was sent; a renewal of the others before it was taken
    must not push its next renewal past the end of its hold."""
    now = [0.0]
    sqs = Sqs()
    feed = QueueFeed(
        sqs,  # type: ignore[arg-type]
        "url",
        fifo=False,
        visible_at_start=100,
        depth=100,
        max_receive=1_000,
        hold_s=100,
        wait_s=0,
        lanes=2,
        clock=lambda: now[0],
    )
    feed.receive(2)  # m0, m1 held from t=0
    now[0] = 50.0
    ahead = feed.start(2)  # m2, m3 held from t=50, until t=150
    now[0] = 95.0
    feed.renew_if_due()  # m0, m1 renewed at t=95 (due at 60)
    assert sqs.changes[-1] == (["h0", "h1"], 100)
    feed.collect(ahead)
    now[0] = 140.0  # 90 s into m2's and m3's hold: due, though only 45 s since t=95
    assert feed.renew_if_due() == set()
    assert sqs.changes[-1] == (["h0", "h1", "h2", "h3"], 100)
    feed.release()
