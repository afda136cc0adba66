"""The CLI reference, docs/cli.md, generated from `--help`: `python -m dlqctl.cli.reference`.

`make docs` writes it; tests/test_docs.py fails when the file and a fresh generation differ,
so the reference can never drift from the code. Commands are discovered from the Typer
app, so a new command (or a nested group such as `move-task start`) appears on its own.

The help is rendered at a fixed width, without colour, so the output is the same on
every machine and in CI.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import typer
import typer.main
from typer.core import TyperGroup
from typer.testing import CliRunner

from dlqctl.cli.app import app

PROG = "dlqctl"
WIDTH = 100
ENV = {
    "COLUMNS": str(WIDTH),
    "TERMINAL_WIDTH": str(WIDTH),
    "NO_COLOR": "1",
    "TERM": "dumb",
}
HEADER = """\
<!--
  GENERATED FILE: do not edit by hand.
  It is the `--help` of every dlqctl command; regenerate it with `make docs`
  (python -m dlqctl.cli.reference > docs/cli.md). tests/test_docs.py checks it is current.
-->

# dlqctl command reference

Every command's `--help`, as printed at a width of 100 columns. Options shared by all
AWS commands (`--region`, `--profile`, `--endpoint-url`, `-o/--output`, …) are explained
in the [README](../README.md#configuration); how `inspect` and `peek` look at a queue without
consuming it is in [scanning.md](scanning.md).
"""

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@dataclass(frozen=True)
class CommandDoc:
    """One command of the app: its words after `dlqctl` and its one-line summary."""

    path: tuple[str, ...]
    summary: str
    is_group: bool

    @property
    def title(self) -> str:
        return " ".join((PROG, *self.path))


def iter_commands(root: typer.Typer = app) -> Iterator[CommandDoc]:
    """Every visible command and group below the root, depth first, in the app's order."""
    yield from _walk(typer.main.get_command(root), ())


def _walk(command: object, path: tuple[str, ...]) -> Iterator[CommandDoc]:
    if not isinstance(command, TyperGroup):
        return
    ctx = typer.Context(command, info_name=" ".join((PROG, *path)))
    for name in command.list_commands(ctx):
        sub = command.get_command(ctx, name)
        if sub is None or sub.hidden:
            continue
        sub_path = (*path, name)
        yield CommandDoc(
            path=sub_path,
            summary=sub.get_short_help_str(limit=200),
            is_group=isinstance(sub, TyperGroup),
        )
        yield from _walk(sub, sub_path)


@contextmanager
def _fixed_terminal() -> Iterator[None]:
    """Pin the width and turn off forced colour that typer reads once, at import.

    Typer reads TERMINAL_WIDTH and GITHUB_ACTIONS/FORCE_COLOR when it is imported, so the
    runner's environment alone cannot undo what the calling shell had set.
    """
    from typer import rich_utils

    saved = (rich_utils.MAX_WIDTH, rich_utils.FORCE_TERMINAL)
    rich_utils.MAX_WIDTH = WIDTH
    rich_utils.FORCE_TERMINAL = False
    try:
        yield
    finally:
        rich_utils.MAX_WIDTH, rich_utils.FORCE_TERMINAL = saved


def help_text(path: Sequence[str] = (), root: typer.Typer = app) -> str:
    """`dlqctl [path…] --help`, deterministic: fixed width, no colour, no trailing spaces."""
    with _fixed_terminal():
        result = CliRunner().invoke(root, [*path, "--help"], prog_name=PROG, env=ENV)
    if result.exit_code != 0:
        raise RuntimeError(
            f"`{' '.join((PROG, *path, '--help'))}` exited {result.exit_code}: {result.output}"
        )
    lines = [_ANSI.sub("", line).rstrip() for line in result.output.splitlines()]
    return "\n".join(lines).strip("\n")


def _fenced(text: str) -> str:
    """A ```text block whose fence is longer than any backtick run inside it."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{text}\n{fence}"


def _anchor(title: str) -> str:
    """The anchor GitHub gives a heading like `## dlqctl move-task start`."""
    return re.sub(r"[^a-z0-9 _-]", "", title.lower()).replace(" ", "-")


def render(root: typer.Typer = app) -> str:
    """The whole of docs/cli.md (`root` is replaceable for tests)."""
    commands = list(iter_commands(root))
    parts = [HEADER, "## Commands\n"]
    index = []
    for doc in commands:
        indent = "  " * (len(doc.path) - 1)
        summary = f": {doc.summary}" if doc.summary else ""
        index.append(f"{indent}- [`{doc.title}`](#{_anchor(doc.title)}){summary}")
    parts.append("\n".join(index) + "\n")
    parts.append(f"## {PROG}\n\n{_fenced(help_text((), root))}\n")
    for doc in commands:
        parts.append(f"## {doc.title}\n\n{_fenced(help_text(doc.path, root))}\n")
    text = "\n".join(parts)
    return "\n".join(line.rstrip() for line in text.splitlines()) + "\n"


def main() -> None:
    sys.stdout.write(render())


if __name__ == "__main__":
    main()
