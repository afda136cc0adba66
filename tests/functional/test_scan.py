"""Hold-and-release scanning against moto: every message seen once, all released after."""

from typing import Any

import pytest

from dlqctl.aws.sqs import SqsGateway
from dlqctl.core.scan import MIN_HOLD_S, Scan, ScanLimits

from ..conftest import Pipeline


def fill(pipeline: Pipeline, n: int) -> set[str]:
    return {pipeline.put(f"m{i}") for i in range(n)}


def scan(pipeline: Pipeline, **limits: Any) -> Scan:
    visible = pipeline.counts()[0]
    return Scan(
        SqsGateway(pipeline.sqs),
        pipeline.dlq_url,
        visible_at_start=visible,
        limits=ScanLimits(wait_s=0, **limits),
    )


def test_sees_every_message_once_and_releases_them(pipeline: Pipeline) -> None:
    ids = fill(pipeline, 35)
    with scan(pipeline) as s:
        seen = [m["MessageId"] for m in s.messages()]
        assert pipeline.counts() == (0, 35)  # held while the scan runs
    assert sorted(seen) == sorted(ids)
    assert (s.scanned, s.complete, s.stopped_because) == (35, True, "reached approximate depth")
    pipeline.assert_untouched(35)


def test_empty_queue_ends_after_empty_receives(pipeline: Pipeline) -> None:
    with scan(pipeline) as s:
        assert list(s.messages()) == []
    assert (s.scanned, s.stopped_because, s.complete) == (0, "end of queue", True)


def test_scan_ceiling_stops_early_and_says_so(pipeline: Pipeline) -> None:
    fill(pipeline, 25)
    with scan(pipeline, max_scan=12) as s:
        assert len(list(s.messages())) == 12
    assert not s.complete and "scan ceiling" in s.stopped_because
    pipeline.assert_untouched(25)


def test_exception_mid_scan_still_releases(pipeline: Pipeline) -> None:
    fill(pipeline, 20)
    with pytest.raises(KeyboardInterrupt), scan(pipeline) as s:
        for i, _ in enumerate(s.messages()):
            if i == 11:
                raise KeyboardInterrupt
    assert s.stopped_because == "interrupted"
    pipeline.assert_untouched(20)


def test_stop_requested_by_the_consumer(pipeline: Pipeline) -> None:
    fill(pipeline, 30)
    with scan(pipeline) as s:
        for i, _ in enumerate(s.messages()):
            if i == 4:
                s.stop("limit reached")
    assert s.stopped_because == "limit reached" and s.scanned == 10
    pipeline.assert_untouched(30)


def test_release_after_the_hold_lapsed_is_counted_not_fatal(pipeline: Pipeline) -> None:
    fill(pipeline, 3)
    with scan(pipeline) as s:
        list(s.messages())
        s._held = {k: "bogus-handle" for k in s._held}
    assert s.release_refused == 3


def test_hold_is_sized_to_the_expected_scan_and_capped() -> None:
    assert ScanLimits().hold_for(0) == MIN_HOLD_S
    assert ScanLimits().hold_for(10_000) == MIN_HOLD_S + 100
    assert ScanLimits().hold_for(10**9) == 43_200
    assert ScanLimits(hold_s=5).hold_for(10_000) == 5


def test_long_scans_renew_the_hold(pipeline: Pipeline) -> None:
    fill(pipeline, 20)
    now = [0.0]

    class CountingGateway(SqsGateway):
        renewals: list[int] = []

        def change_visibility(
            self, url: str, receipt_handles: Any, timeout_s: int, *, lanes: int = 1
        ) -> int:
            if timeout_s:
                self.renewals.append(len(receipt_handles))
            return super().change_visibility(url, receipt_handles, timeout_s, lanes=lanes)

        def receive(self, url: str, **kwargs: Any) -> list[dict[str, Any]]:
            now[0] += 20  # each receive "takes" 20 s of a 30 s hold
            return super().receive(url, **kwargs)

    gateway = CountingGateway(pipeline.sqs)
    with Scan(
        gateway,
        pipeline.dlq_url,
        visible_at_start=20,
        limits=ScanLimits(wait_s=0, hold_s=30),
        clock=lambda: now[0],
    ) as s:
        assert len(list(s.messages())) == 20
    assert gateway.renewals == [10]
    pipeline.assert_untouched(20)


def test_fifo_scan_sees_only_the_head_of_each_group(sqs: Any) -> None:
    from ..conftest import make_pipeline

    fifo = make_pipeline(sqs, "pay", fifo=True)
    for i in range(25):
        sqs.send_message(
            QueueUrl=fifo.dlq_url, MessageBody=f"m{i}", MessageGroupId="g1" if i < 15 else "g2"
        )
    with scan(fifo) as s:
        bodies = [m["Body"] for m in s.messages()]
    assert bodies[:10] == [f"m{i}" for i in range(10)]  # order kept within a group
    assert s.scanned < 25 and s.stopped_because == "end of queue"
    fifo.assert_untouched(25)
