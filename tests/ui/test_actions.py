"""With --write: redrive, purge and export open the plan, ask for the DLQ's name, run
through the API with the journal, and act on exactly the plan's messages. Without it,
the same keys change nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from dlqctl.core.journal import read_journal
from dlqctl.ui.screens.action import ActionScreen
from dlqctl.ui.screens.dlq import DlqScreen
from dlqctl.ui.screens.messages import MessagesScreen

from .conftest import ORDERS_DLQ, World, drive, settle, text_of, type_into

ONE_DLQ = {"queues": ("orders-dlq",), "open_queue": "orders-dlq"}


def every_id(world: World) -> set[str]:
    return {i for ids in world.ids.values() for i in ids}


def journal_runs(path: Path) -> dict[str, list[dict[str, Any]]]:
    runs: dict[str, list[dict[str, Any]]] = {}
    for record in read_journal(path):
        runs.setdefault(record["run_id"], []).append(record)
    return runs


def test_read_only_keys_change_nothing(world: World, tmp_path: Path) -> None:
    journal = tmp_path / "journal.jsonl"

    async def scenario(pilot: Pilot[Any]) -> None:
        for screen in (DlqScreen, MessagesScreen):
            assert isinstance(pilot.app.screen, screen)
            await pilot.press("space", "r", "p", "e")
            await settle(pilot)
            assert isinstance(pilot.app.screen, screen), "an action opened without --write"
            await pilot.press("enter")
            await settle(pilot)

    drive(world.app(journal=journal, export_dir=tmp_path, **ONE_DLQ), scenario)
    assert world.counts("orders-dlq") == (len(ORDERS_DLQ), 0)
    assert world.message_ids("orders-dlq") == every_id(world)
    assert world.counts("orders") == (0, 0)
    assert not journal.exists()
    assert list(tmp_path.iterdir()) == []  # no export file either


def test_a_confirmed_redrive_moves_exactly_the_plan_and_journals_it(
    world: World, tmp_path: Path
) -> None:
    journal = tmp_path / "journal.jsonl"
    timeouts = set(world.ids["Timeout"])
    seen: dict[str, Any] = {}

    async def scenario(pilot: Pilot[Any]) -> None:
        await pilot.press("r")  # the first group: Timeout
        await settle(pilot)
        dialog = pilot.app.screen
        assert isinstance(dialog, ActionScreen)
        plan = text_of(pilot, "#plan-text")
        assert "REDRIVE PLAN for error type Timeout" in plan
        assert "3 messages would move to orders" in plan
        assert "by error type: Timeout 3" in plan
        assert "by target: orders 3" in plan
        assert dialog.plan is not None and dialog.plan.dry_run
        seen["planned"] = {p.message_id for p in dialog.plan.planned}
        assert world.counts("orders-dlq") == (len(ORDERS_DLQ), 0)  # the plan released all

        await type_into(pilot, "orders")  # not the DLQ's name
        await settle(pilot)
        assert "that is not orders-dlq: nothing was changed" in text_of(pilot, "#hint")
        assert world.counts("orders") == (0, 0)

        dialog.query_one("Input").clear()
        await type_into(pilot, "orders-dlq")
        await settle(pilot)
        report = text_of(pilot, "#plan-text")
        assert "selected 3 · sent 3 · deleted 3 · failed 0" in report
        assert "stopped: reached --max-messages (3)" in report or "stopped: end of queue" in report

        await pilot.press("escape")  # back to the DLQ, which looks again
        await settle(pilot)
        assert isinstance(pilot.app.screen, DlqScreen)
        groups = pilot.app.screen.query_one("#groups")
        assert "Timeout" not in {str(groups.get_row_at(i)[0]) for i in range(groups.row_count)}

    drive(world.app(write=True, journal=journal, **ONE_DLQ), scenario)
    assert seen["planned"] == timeouts
    assert world.message_ids("orders-dlq") == every_id(world) - timeouts
    assert world.counts("orders-dlq") == (len(ORDERS_DLQ) - 3, 0)
    assert world.counts("orders") == (3, 0)
    (run,) = journal_runs(journal).values()
    assert run[0]["kind"] == "start" and run[0]["command"] == "redrive"
    assert run[-1]["kind"] == "end"
    deleted = {i for record in run if record["kind"] == "batch" for i in record["deleted"]}
    assert deleted == timeouts


def test_a_marked_message_is_purged_alone_and_archived(world: World, tmp_path: Path) -> None:
    journal = tmp_path / "journal.jsonl"
    chosen = world.ids["ValidationError"][1]  # the second oldest: the table's second row
    archive: dict[str, str | None] = {}

    async def scenario(pilot: Pilot[Any]) -> None:
        await pilot.press("down", "enter")  # the ValidationError group
        await settle(pilot)
        await pilot.press("down", "space", "p")
        await settle(pilot)
        dialog = pilot.app.screen
        assert isinstance(dialog, ActionScreen)
        assert dialog.plan is not None
        archive["file"] = dialog.plan.file
        assert f"PURGE PLAN for message {chosen}" in text_of(pilot, "#plan-text")
        assert "1 message would be deleted, archived first in" in text_of(pilot, "#plan-text")
        await type_into(pilot, "orders-dlq")
        await settle(pilot)
        assert "deleted 1 · failed 0" in text_of(pilot, "#plan-text")

    drive(world.app(write=True, journal=journal, **ONE_DLQ), scenario)
    assert world.message_ids("orders-dlq") == every_id(world) - {chosen}
    assert archive["file"] is not None
    lines = Path(archive["file"]).read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["message_id"] for line in lines] == [chosen]
    (run,) = journal_runs(journal).values()
    assert {i for r in run if r["kind"] == "batch" for i in r["deleted"]} == {chosen}


def test_an_export_writes_the_group_and_the_dlq_keeps_it(world: World, tmp_path: Path) -> None:
    async def scenario(pilot: Pilot[Any]) -> None:
        await pilot.press("down", "down", "down", "e")  # the Unknown group
        await settle(pilot)
        assert "1 message would be exported to" in text_of(pilot, "#plan-text")
        await type_into(pilot, "orders-dlq")
        await settle(pilot)
        assert "exported 1 to" in text_of(pilot, "#plan-text")

    drive(world.app(write=True, export_dir=tmp_path, **ONE_DLQ), scenario)
    (written,) = tmp_path.glob("orders-dlq-*.jsonl")
    records = [json.loads(line) for line in written.read_text(encoding="utf-8").splitlines()]
    assert [r["message_id"] for r in records] == world.ids["Unknown"]
    assert world.counts("orders-dlq") == (len(ORDERS_DLQ), 0)
    assert world.message_ids("orders-dlq") == every_id(world)


def test_leaving_the_plan_changes_nothing(world: World, tmp_path: Path) -> None:
    async def scenario(pilot: Pilot[Any]) -> None:
        await pilot.press("p")
        await settle(pilot)
        assert isinstance(pilot.app.screen, ActionScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(pilot.app.screen, DlqScreen)

    drive(world.app(write=True, journal=tmp_path / "journal.jsonl", **ONE_DLQ), scenario)
    assert world.message_ids("orders-dlq") == every_id(world)
    assert world.counts("orders-dlq") == (len(ORDERS_DLQ), 0)
    assert not (tmp_path / "journal.jsonl").exists()
