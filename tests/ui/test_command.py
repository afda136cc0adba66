"""`dlqctl ui` itself: its options reach the app, and without Textual (or a terminal)
it says so in one line, exit 2, never a traceback."""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path
from typing import Any

import pytest

import dlqctl
import dlqctl.ui
from dlqctl.ui.app import TriageApp, UiOptions

from ..conftest import invoke
from .conftest import World, drive


def one_error_line(stderr: str) -> str:
    assert "Traceback" not in stderr
    (line,) = stderr.splitlines()
    assert line.startswith("dlqctl: error: ")
    return line


def test_without_textual_it_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    # As on a machine without the extra: nothing of dlqctl.ui imported yet (and the
    # package's attribute put back afterwards, with the modules).
    monkeypatch.setattr(dlqctl, "ui", dlqctl.ui)
    for name in list(sys.modules):
        if name.startswith("dlqctl.ui"):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "textual", None)  # "import textual" now fails
    result = invoke("ui", expect=2)
    assert one_error_line(result.stderr) == (
        "dlqctl: error: dlqctl ui needs Textual, which is not installed: pip install 'dlqctl[ui]'"
    )


def test_without_a_terminal_it_refuses_in_one_line() -> None:
    result = invoke("ui", "orders-dlq", expect=2)
    assert "dlqctl ui needs a terminal" in one_error_line(result.stderr)


def test_a_bad_interval_is_a_usage_error() -> None:
    result = invoke("ui", "--interval", "0s", expect=2)
    assert "--interval must be at least 1s" in one_error_line(result.stderr)


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[TriageApp]:
    """`dlqctl ui` as from a terminal, with the app captured instead of run."""
    tty = types.SimpleNamespace(isatty=lambda: True)
    monkeypatch.setattr("dlqctl.cli.commands.ui.sys", types.SimpleNamespace(stdin=tty, stdout=tty))
    apps: list[TriageApp] = []
    monkeypatch.setattr("dlqctl.ui.app.run", apps.append)
    return apps


def test_the_options_reach_the_app(started: list[TriageApp], tmp_path: Path) -> None:
    invoke(
        "ui",
        "orders-dlq",
        "--write",
        "--redact",
        "card.number",
        "--limit",
        "7",
        "--interval",
        "30s",
        "--journal",
        str(tmp_path / "j.jsonl"),
        "--endpoint-url",
        "http://127.0.0.1:9",
    )
    (app,) = started
    assert app.options == UiOptions(
        queues=("orders-dlq",),
        write=True,
        refresh_s=30,
        limit=7,
        redact=("card.number",),
        journal=tmp_path / "j.jsonl",
        open_queue="orders-dlq",
    )
    assert app.api.settings.endpoint_url == "http://127.0.0.1:9"
    assert app.sub_title == "read-write"


def test_read_only_by_default_and_a_pipeline_names_the_dlq(
    started: list[TriageApp], tmp_path: Path
) -> None:
    config = tmp_path / "dlqctl.toml"
    config.write_text('[pipelines.orders]\ndlq = "orders-dlq"\n', encoding="utf-8")
    invoke("ui", "--pipeline", "orders", "--config", str(config))
    (app,) = started
    assert app.options.write is False
    assert app.options.open_queue == "orders-dlq"
    assert app.sub_title == "read-only"


def test_every_dlq_without_a_queue(started: list[TriageApp]) -> None:
    invoke("ui")
    (app,) = started
    assert app.options.queues == () and app.options.open_queue is None


def test_no_color_leaves_only_greys(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "")  # restored afterwards; --no-color sets it for Textual
    monkeypatch.delenv("NO_COLOR")
    app = TriageApp(world.api(), UiOptions(refresh_s=3600), no_color=True)
    assert app.no_color
    shots: list[str] = []

    async def scenario(pilot: Any) -> None:
        shots.append(pilot.app.export_screenshot())

    drive(app, scenario)
    frame = {"ff5f57", "febc2e", "28c840", "c5c8c6"}  # the SVG window and title, not the app
    colours = set(re.findall(r"#([0-9a-f]{6})\b", shots[0])) - frame
    assert colours, "no colours found in the screenshot"
    assert all(c[0:2] == c[2:4] == c[4:6] for c in colours), colours
