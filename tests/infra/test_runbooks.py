"""The runbooks' dlqctl commands are real: every command exists and every option is one
that command accepts, so a page cannot drift from the CLI unnoticed."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import typer.main
from infra.components.observability import RUNBOOK_DIR

from dlqctl.cli.app import app
from tests.infra.conftest import REPO_ROOT

PAGES = sorted((REPO_ROOT / RUNBOOK_DIR).glob("*.md"))
SEPARATORS = {"|", "||", "&&", ";", "(", ")", "$("}
FENCE = re.compile(r"^```(?:sh|bash)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def dlqctl_commands(page: Path) -> list[list[str]]:
    """Each `dlqctl …` invocation in the page's shell blocks, as tokens."""
    found = []
    for block in FENCE.findall(page.read_text(encoding="utf-8")):
        for line in block.replace("\\\n", " ").splitlines():
            lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
            lexer.whitespace_split = True
            lexer.commenters = "#"
            tokens = list(lexer)
            for i, token in enumerate(tokens):
                if token == "dlqctl" and (i == 0 or tokens[i - 1] in SEPARATORS):
                    end = next(
                        (j for j in range(i + 1, len(tokens)) if tokens[j] in SEPARATORS),
                        len(tokens),
                    )
                    found.append(tokens[i + 1 : end])
    return found


def resolve(tokens: list[str]) -> tuple[Any, list[str]]:
    """The (sub)command the tokens name, and the tokens after it. Typer vendors its own
    click, so groups are recognised by having subcommands."""
    command: Any = typer.main.get_command(app)
    rest = list(tokens)
    while hasattr(command, "commands") and rest and rest[0] in command.commands:
        command = command.commands[rest.pop(0)]
    assert not hasattr(command, "commands"), f"`dlqctl {' '.join(tokens)}` names no command"
    return command, rest


def test_there_is_a_page_per_alarm_and_a_gameday() -> None:
    names = {page.stem for page in PAGES}
    assert {"gameday", "dlq-not-empty", "worker-errors", "api-5xx"} <= names


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_runbook_commands_use_real_commands_and_options(page: Path) -> None:
    for tokens in dlqctl_commands(page):
        command, rest = resolve(tokens)
        options = {opt for param in command.params for opt in (*param.opts, *param.secondary_opts)}
        for token in rest:
            if token.startswith("-") and token != "-":
                option = token.split("=", 1)[0]
                assert option in options, f"{page.name}: `dlqctl {' '.join(tokens)}`: {option}?"


def test_the_pages_that_fix_alarms_run_dlqctl() -> None:
    for page in PAGES:
        if page.stem not in ("README", "gameday", "api-5xx"):
            assert dlqctl_commands(page), f"{page.name} has no dlqctl command"
