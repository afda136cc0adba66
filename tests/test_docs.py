"""The docs stay true to the code: docs/cli.md is current and every command is documented."""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
import typer.main
from typer.core import TyperGroup

from dlqctl.cli import reference
from dlqctl.cli.app import app

ROOT = Path(__file__).resolve().parent.parent
CLI_MD = ROOT / "docs" / "cli.md"


def _leaves_and_groups(command: object, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every visible command path, walked here independently of dlqctl.cli.reference."""
    commands = getattr(command, "commands", {})
    for name, sub in commands.items():
        if sub.hidden:
            continue
        yield (*path, name)
        yield from _leaves_and_groups(sub, (*path, name))


ALL_COMMANDS = sorted(_leaves_and_groups(typer.main.get_command(app)))
LEAF_COMMANDS = [
    path
    for path in ALL_COMMANDS
    if not any(other[: len(path)] == path and other != path for other in ALL_COMMANDS)
]


def test_app_has_commands() -> None:
    assert ALL_COMMANDS, "no commands discovered from the Typer app"


def test_cli_reference_is_current() -> None:
    assert CLI_MD.is_file(), "docs/cli.md is missing: run `make docs`"
    fresh = reference.render()
    current = CLI_MD.read_text(encoding="utf-8")
    if current != fresh:
        diff = "".join(
            difflib.unified_diff(
                current.splitlines(keepends=True),
                fresh.splitlines(keepends=True),
                "docs/cli.md",
                "fresh generation",
                n=1,
            )
        )
        pytest.fail(f"docs/cli.md is out of date with the CLI's --help: run `make docs`\n{diff}")


@pytest.mark.parametrize("path", ALL_COMMANDS, ids=" ".join)
def test_every_command_is_in_the_reference(path: tuple[str, ...]) -> None:
    heading = f"## dlqctl {' '.join(path)}"
    lines = CLI_MD.read_text(encoding="utf-8").splitlines()
    assert heading in lines, f"`dlqctl {' '.join(path)}` is not in docs/cli.md: run `make docs`"


@pytest.mark.parametrize("path", LEAF_COMMANDS, ids=" ".join)
def test_every_command_help_has_examples(path: tuple[str, ...]) -> None:
    text = reference.help_text(path)
    assert "Examples" in text, f"`dlqctl {' '.join(path)} --help` has no Examples section"
    invocation = f"dlqctl {' '.join(path)}"
    examples = text.split("Examples", 1)[1]
    assert any(line.strip().startswith(invocation) for line in examples.splitlines()), (
        f"the Examples of `{invocation} --help` never run `{invocation}`"
    )


def test_reference_finds_nested_groups_and_skips_hidden() -> None:
    demo = typer.Typer(name="dlqctl")

    @demo.command("queues")
    def queues() -> None:
        """List queues."""

    @demo.command("secret", hidden=True)
    def secret() -> None:
        """Not for the docs."""

    move = typer.Typer(help="Server-side move tasks.")

    @move.command("start")
    def start() -> None:
        """Start a move task."""

    demo.add_typer(move, name="move-task")

    found = [doc.path for doc in reference.iter_commands(demo)]
    assert found == [("queues",), ("move-task",), ("move-task", "start")]
    assert isinstance(typer.main.get_command(demo), TyperGroup)
    text = reference.render(demo)
    assert "## dlqctl move-task start" in text.splitlines()
    assert "Usage: dlqctl move-task start [OPTIONS]" in text
    assert "secret" not in text
    assert all(line == line.rstrip() for line in text.splitlines())


def test_reference_is_deterministic_and_plain() -> None:
    text = reference.render()
    assert text == reference.render()
    assert "\x1b[" not in text
    assert text.startswith("<!--\n  GENERATED FILE: do not edit by hand.")
    assert "make docs" in text.split("-->", 1)[0]
