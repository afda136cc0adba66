"""Browsing: the DLQs, one DLQ's summary, a group's messages, the filter bar, help and
back again. Every look releases what it held: after each test the DLQ is as seeded."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from textual.pilot import Pilot

from dlqctl import build_filter
from dlqctl.errors import UsageError
from dlqctl.ui.screens.dlq import DlqScreen
from dlqctl.ui.screens.help import HelpScreen
from dlqctl.ui.screens.messages import MessagesScreen
from dlqctl.ui.screens.queues import QueuesScreen

from .conftest import ORDERS_DLQ, World, drive, settle, table_column, text_of, type_into

SEEDED = len(ORDERS_DLQ)


@pytest.fixture(autouse=True)
def nothing_held_after(world: World) -> Any:
    yield
    assert world.counts("orders-dlq") == (SEEDED, 0)


def test_from_the_dlqs_to_a_message_and_back(world: World) -> None:
    async def scenario(pilot: Pilot[Any]) -> None:
        assert isinstance(pilot.app.screen, QueuesScreen)
        assert table_column(pilot, "#queues", 0) == ["orders-dlq", "payments-dlq"]  # deepest first
        assert table_column(pilot, "#queues", 1) == [str(SEEDED), "0"]
        assert table_column(pilot, "#queues", 5) == ["orders", "payments"]

        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(pilot.app.screen, DlqScreen)
        assert table_column(pilot, "#groups", 0) == [
            "Timeout",
            "ValidationError",
            "PaymentDeclined",
            "Unknown",
        ]
        assert table_column(pilot, "#groups", 1)[2] == "ledger"
        notes = text_of(pilot, "#notes")
        assert "1 message expires within 24h" in notes
        assert "scanned 8 of ~8 (complete)" in notes
        ages = text_of(pilot, "#ages").splitlines()
        assert ages[2] == "5m-1h  " + "█" * 24 + " 2"  # the largest bucket fills the width
        assert ages[6] == "3d-7d  " + "█" * 12 + " 1"

        await pilot.press("down", "enter")  # ValidationError
        await settle(pilot)
        assert isinstance(pilot.app.screen, MessagesScreen)
        assert table_column(pilot, "#messages", 1) == world.ids["ValidationError"][::-1]
        detail = text_of(pilot, "#detail")
        assert '"email": "***REDACTED***"' in detail  # --redact customer.email
        assert "cy@example.com" not in detail
        assert re.search(r"error type +ValidationError \(from attribute\)", detail)

        await pilot.press("q")
        assert isinstance(pilot.app.screen, DlqScreen)
        await pilot.press("q")
        assert isinstance(pilot.app.screen, QueuesScreen)
        await pilot.press("q")
        await pilot.pause()
        assert not pilot.app.is_running

    drive(world.app(redact=("customer.email",)), scenario)


def test_one_queue_opens_at_once_and_shows_the_ledger_record(world: World) -> None:
    async def scenario(pilot: Pilot[Any]) -> None:
        assert isinstance(pilot.app.screen, DlqScreen)
        await pilot.press("down", "down", "enter")  # PaymentDeclined, from the ledger
        await settle(pilot)
        detail = text_of(pilot, "#detail")
        assert re.search(r"ledger +FAILED", detail)
        body = json.loads(
            detail.split("body (", 1)[1].split("\n", 1)[1].rsplit("\nidempotency", 1)[0]
        )
        assert body == ORDERS_DLQ[6][0]

    drive(world.app(queues=("orders-dlq",), open_queue="orders-dlq"), scenario)


def test_the_filter_bar_takes_the_cli_flags(world: World) -> None:
    async def scenario(pilot: Pilot[Any]) -> None:
        await pilot.press("slash")
        await type_into(pilot, "--min-age 1h --exclude-error-type Unknown")
        await settle(pilot)
        assert table_column(pilot, "#groups", 0) == [
            "ValidationError",
            "PaymentDeclined",
            "Timeout",
        ]
        assert "filter: --min-age 1h --exclude-error-type Unknown" in text_of(pilot, ".look-status")

        # The group's messages keep the filter: one Timeout is older than an hour.
        await pilot.press("down", "down", "enter")
        await settle(pilot)
        assert table_column(pilot, "#messages", 1) == [world.ids["Timeout"][2]]

    drive(world.app(queues=("orders-dlq",), open_queue="orders-dlq"), scenario)


def test_a_bad_filter_is_the_cli_error_and_changes_nothing(world: World) -> None:
    with pytest.raises(UsageError) as cli:
        build_filter(min_age="5x")

    async def scenario(pilot: Pilot[Any]) -> None:
        before = table_column(pilot, "#groups", 0)
        await pilot.press("slash")
        await type_into(pilot, "--min-age 5x")
        await settle(pilot)
        assert text_of(pilot, "#filter-error") == f"dlqctl: error: {cli.value.message}"
        await pilot.press("escape")  # closes the bar; the last good filter stays
        await pilot.press("slash")
        await type_into(pilot, "--nope")
        assert "no such filter option: --nope" in text_of(pilot, "#filter-error")
        await pilot.press("escape")
        assert table_column(pilot, "#groups", 0) == before

    drive(world.app(queues=("orders-dlq",), open_queue="orders-dlq"), scenario)


def test_help_lists_the_keys_of_the_screen_below(world: World) -> None:
    async def scenario(pilot: Pilot[Any]) -> None:
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(pilot.app.screen, HelpScreen)
        shown = str(pilot.app.screen.query_one("Static").content)
        for key, does in [("/", "Filter"), ("r", "Redrive"), ("q", "Back"), ("⏎", "Messages")]:
            assert f"{key:<7}{does}" in shown
        assert "needs --write" in shown  # read-only: the actions are dimmed
        await pilot.press("question_mark")
        assert isinstance(pilot.app.screen, DlqScreen)

    drive(world.app(queues=("orders-dlq",), open_queue="orders-dlq"), scenario)
