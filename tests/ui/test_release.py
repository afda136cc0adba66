"""Nothing stays held: a look is ended — and releases what it held — when its view
closes mid-look, on Ctrl+C, on a crash, and when the app exits while a run is going."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from dlqctl import Dlqctl
from dlqctl.core.journal import read_journal
from dlqctl.core.scan import ProgressCallback
from dlqctl.models import InspectReport
from dlqctl.ui.app import TriageApp, UiOptions
from dlqctl.ui.screens.dlq import DlqScreen
from dlqctl.ui.screens.queues import QueuesScreen

from .conftest import ORDERS_DLQ, World, settle, type_into

SEEDED = len(ORDERS_DLQ)


class HeldLook(Dlqctl):
    """`inspect` that pauses inside the scan after its first receive — messages held —
    until the test lets it go on: the moment a look is most exposed."""

    def __init__(self, base: Dlqctl) -> None:
        super().__init__(base.settings, clock=base.clock, sleep=base.sleep)
        self.holding = threading.Event()
        self.go_on = threading.Event()

    def inspect(
        self, *args: Any, on_progress: ProgressCallback | None = None, **kw: Any
    ) -> InspectReport:
        def paused(scanned: int, expected: int) -> None:
            self.holding.set()
            assert self.go_on.wait(10), "the test never let the look go on"
            if on_progress is not None:
                on_progress(scanned, expected)

        return super().inspect(*args, on_progress=paused, **kw)


async def held(pilot: Pilot[Any], api: HeldLook, world: World) -> None:
    """Until the look is inside its scan, holding messages."""
    for _ in range(400):
        if api.holding.is_set():
            break
        await asyncio.sleep(0.025)
    assert api.holding.is_set(), "the look never started"
    assert world.counts("orders-dlq")[1] > 0, "the look holds nothing: nothing to prove"


def start(world: World) -> tuple[TriageApp, HeldLook]:
    api = HeldLook(world.api())
    return TriageApp(api, UiOptions(queues=("orders-dlq",), refresh_s=3600)), api


def test_leaving_the_view_mid_look_releases_it(world: World) -> None:
    app, api = start(world)

    async def main() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await pilot.press("enter")
            await held(pilot, api, world)
            await pilot.press("q")  # the DLQ screen goes; its worker is cancelled
            assert isinstance(pilot.app.screen, QueuesScreen)
            api.go_on.set()
            await settle(pilot)
            assert world.counts("orders-dlq") == (SEEDED, 0)  # released while still running

    asyncio.run(main())


def test_ctrl_c_mid_look_releases_it(world: World) -> None:
    app, api = start(world)

    async def main() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await pilot.press("enter")
            await held(pilot, api, world)
            # The look goes on a moment after the app was told to quit: the exit
            # waits for it to release.
            threading.Timer(0.2, api.go_on.set).start()
            await pilot.press("ctrl+c")

    asyncio.run(main())
    assert not app.is_running
    assert world.counts("orders-dlq") == (SEEDED, 0)


def test_a_crash_mid_look_releases_it_and_is_reported_without_locals(world: World) -> None:
    app, api = start(world)

    async def main() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await pilot.press("enter")
            await held(pilot, api, world)
            threading.Timer(0.2, api.go_on.set).start()
            screen = pilot.app.screen
            assert isinstance(screen, DlqScreen)
            screen.call_later(lambda: 1 / 0)  # a bug in a handler
            await pilot.pause()

    with pytest.raises(ZeroDivisionError):
        asyncio.run(main())
    assert isinstance(app.crash, ZeroDivisionError)
    assert app._exit_renderables == []  # no Textual traceback (it would show locals)
    assert world.counts("orders-dlq") == (SEEDED, 0)


class HeldRun(Dlqctl):
    """`redrive` whose run pauses after its first batch until the test lets it go on."""

    def __init__(self, base: Dlqctl) -> None:
        super().__init__(base.settings, clock=base.clock, sleep=base.sleep)
        self.first_batch = threading.Event()
        self.go_on = threading.Event()

    def redrive(self, *args: Any, on_progress: ProgressCallback | None = None, **kw: Any) -> Any:
        options = args[2] if len(args) > 2 else kw.get("options")
        if options is None or options.dry_run:  # the plan goes as usual
            return super().redrive(*args, on_progress=on_progress, **kw)

        def paused(moved: int, cap: int) -> None:
            self.first_batch.set()
            assert self.go_on.wait(10), "the test never let the run go on"

        return super().redrive(*args, on_progress=paused, **kw)


def test_quitting_during_a_run_stops_it_after_the_batch_in_hand_and_journals_it(
    world: World, tmp_path: Path
) -> None:
    more = [
        {
            "Id": str(i),
            "MessageBody": f'{{"order_id": "late-{i}"}}',
            "MessageAttributes": {"ErrorType": {"DataType": "String", "StringValue": "Timeout"}},
        }
        for i in range(10)
    ]
    world.sqs.send_message_batch(QueueUrl=world.urls["orders-dlq"], Entries=more)
    total = SEEDED + len(more)
    journal = tmp_path / "journal.jsonl"
    api = HeldRun(world.api())
    options = UiOptions(
        queues=("orders-dlq",), open_queue="orders-dlq", write=True, journal=journal
    )
    app = TriageApp(api, options)

    async def main() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await pilot.press("r")  # Timeout: 13 messages, two batches
            await settle(pilot)
            await type_into(pilot, "orders-dlq")
            for _ in range(400):
                if api.first_batch.is_set():
                    break
                await asyncio.sleep(0.025)
            assert api.first_batch.is_set()
            await pilot.press("ctrl+c")  # first: stop after the batch in hand
            assert app.is_running
            threading.Timer(0.2, api.go_on.set).start()
            await pilot.press("ctrl+c")  # second: quit; the exit waits for the run

    asyncio.run(main())
    dlq, orders = world.counts("orders-dlq"), world.counts("orders")
    assert dlq[1] == 0 and orders[1] == 0
    records = list(read_journal(journal))
    moved = [i for r in records if r["kind"] == "batch" for i in r["deleted"]]
    assert 0 < len(moved) < 13  # the batch in hand, not the rest
    assert orders[0] == len(moved) and dlq[0] + orders[0] == total
    assert records[-1]["kind"] == "end"
    assert records[-1]["outcome"] == "interrupted"
