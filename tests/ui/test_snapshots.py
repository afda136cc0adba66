"""Each screen at 80×24 and 120×40, compared with the SVG accepted before
(`pytest tests/ui/test_snapshots.py --snapshot-update` to accept a change, after looking
at it). Deterministic: moto's ids are seeded, the clock and every age are fixed."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from .conftest import World, settle, type_into

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]
ONE_DLQ = {"queues": ("orders-dlq",), "open_queue": "orders-dlq"}
Steps = Callable[[Pilot[Any]], Awaitable[None]]


def after(*keys: str, typed: str | None = None) -> Steps:
    """Press `keys` (then type `typed`), letting every look finish; no blinking cursor."""

    async def steps(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)
        if typed is not None:
            await type_into(pilot, typed)
            await settle(pilot)
        for field in pilot.app.screen.query(Input):
            field.cursor_blink = False
        # A DataTable sizes its columns to the rows added in an idle callback: give it
        # that turn before the screenshot (a loaded CI once caught the header widths).
        await pilot.pause(0.05)
        await settle(pilot)

    return steps


@pytest.mark.parametrize("size", SIZES)
def test_the_dlqs(world: World, snap_compare: Any, size: tuple[int, int]) -> None:
    assert snap_compare(world.app(), terminal_size=size, run_before=after())


@pytest.mark.parametrize("size", SIZES)
def test_one_dlq(world: World, snap_compare: Any, size: tuple[int, int]) -> None:
    assert snap_compare(world.app(**ONE_DLQ), terminal_size=size, run_before=after())


@pytest.mark.parametrize("size", SIZES)
def test_a_groups_messages(world: World, snap_compare: Any, size: tuple[int, int]) -> None:
    app = world.app(redact=("customer.email",), **ONE_DLQ)
    assert snap_compare(app, terminal_size=size, run_before=after("down", "enter"))


@pytest.mark.parametrize("size", SIZES)
def test_a_bad_filter(world: World, snap_compare: Any, size: tuple[int, int]) -> None:
    steps = after("slash", typed="--error-type Timeout --min-age 5x")
    assert snap_compare(world.app(**ONE_DLQ), terminal_size=size, run_before=steps)


@pytest.mark.parametrize("size", SIZES)
def test_help(world: World, snap_compare: Any, size: tuple[int, int]) -> None:
    steps = after("question_mark")
    assert snap_compare(world.app(**ONE_DLQ), terminal_size=size, run_before=steps)


@pytest.mark.parametrize("size", SIZES)
def test_a_redrive_plan(world: World, snap_compare: Any, size: tuple[int, int]) -> None:
    app = world.app(write=True, **ONE_DLQ)
    assert snap_compare(app, terminal_size=size, run_before=after("r"))
