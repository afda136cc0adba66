"""TAB from the table (cli/tab.py) answers exactly as Typer does, in bash, zsh and fish.

Every command path, with an empty word, option prefixes, each option's values, each
argument's values (the config's pipelines and queues too), and options already given:
the fast answer must be Typer's answer — the same words, and in zsh and fish the same
help beside each — wherever it gives one, and it must give one for nearly all of them,
or it would only be a slower path to Typer.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

import pytest

from dlqctl.cli.app import app
from dlqctl.cli.tab import complete
from dlqctl.cli.tab_build import build
from dlqctl.cli.tab_table import TREE

CONFIG = """
[pipelines.orders]
dlq = "orders-dlq"
source_queue = "orders"

[pipelines.payments]
dlq = "arn:aws:sqs:eu-west-1:123456789012:payments-dlq"
source_queue = "https://sqs.eu-west-1.amazonaws.com/123456789012/payments"
"""


def test_the_table_is_the_command_tree_of_this_code() -> None:
    assert build() == TREE, "stale: run `make docs` (python -m dlqctl.cli.tab_build)"


def _lines(node: dict[str, Any], path: list[str]) -> Iterator[tuple[list[str], str]]:
    """(words typed, incomplete word) cases for one command and, recursively, its
    subcommands."""
    yield path, ""
    for prefix in ("-", "--c", "o"):
        yield path, prefix
    options = [p for p in node["params"] if p["option"] and not p["hidden"]]
    for option in options:
        name = option["opts"][-1]
        yield path, name[:4]
        if option["takes_value"]:
            yield [*path, name], "o"
            yield [*path, name], "-"  # its value still to come: Click still offers it
            for choice in option.get("choices", [])[:2]:
                yield [*path, name], choice[:1]
            yield [*path, name, "value"], "-"
        else:
            yield [*path, name], "-"
    if options and options[0]["takes_value"]:
        yield [*path, f"{options[0]['opts'][-1]}=v"], ""
    for name, sub in node["commands"].items():
        yield path, name[:2]
        yield from _lines(sub, [*path, name])
    if not node["group"]:
        yield [*path, "first"], ""
        yield [*path, "first", "second"], "o"
        yield [*path, "--config", "dlqctl.toml"], ""


CASES = list(_lines(TREE, []))


@pytest.fixture
def configured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("DLQCTL_CONFIG", raising=False)
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    (tmp_path / "dlqctl.toml").write_text(CONFIG)


def _typer(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> tuple[str, int]:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    shown = io.StringIO()
    with redirect_stdout(shown), pytest.raises(SystemExit) as done:
        app(prog_name="dlqctl")
    return shown.getvalue(), int(done.value.code or 0)


def _env(shell: str, words: list[str], incomplete: str) -> dict[str, str]:
    typed = ["dlqctl", *words, incomplete]
    if shell == "bash":
        return {"COMP_WORDS": " ".join(typed), "COMP_CWORD": str(len(typed) - 1)}
    env = {"_TYPER_COMPLETE_ARGS": " ".join(typed)}
    return {**env, "_TYPER_COMPLETE_FISH_ACTION": "get-args"} if shell == "fish" else env


def _items(text: str) -> list[str]:
    """An answer as a sorted list of its items: bash sorts what it offers, and Click's
    order of an option's names varies from run to run (a set inside)."""
    inner = text.removeprefix("_arguments '*: :((").removesuffix("))'\n")
    return sorted(inner.splitlines())


@pytest.mark.usefixtures("configured")
@pytest.mark.parametrize(("shell", "every"), [("bash", 2), ("zsh", 4), ("fish", 4)])
def test_every_fast_answer_is_typers_answer(
    shell: str, every: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """bash on every second line typed; zsh and fish (the same walk, another format)
    on every fourth, to keep the suite's time."""
    # Both paths wrap help at the same width: Typer reads TERMINAL_WIDTH when it is
    # imported, tab.py when it answers, so the variable is left as the process has it.
    cases = CASES[::every]
    answered = 0
    for words, incomplete in cases:
        env = {"_DLQCTL_COMPLETE": f"complete_{shell}", **_env(shell, words, incomplete)}
        fast = complete(env["_DLQCTL_COMPLETE"], {**os.environ, **env})
        if fast is None:
            continue
        answered += 1
        text, status = _typer(env, monkeypatch)
        assert (_items(fast[0]), fast[1]) == (_items(text), status), env
    assert len(cases) > 300
    assert answered >= 0.9 * len(cases), f"answered {answered} of {len(cases)}"


@pytest.mark.usefixtures("configured")
def test_fish_asks_first_whether_there_is_anything_to_offer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for line, status in [("dlqctl inspect --pipeline ", 0), ("dlqctl inspect --max-age ", 1)]:
        env = {
            "_DLQCTL_COMPLETE": "complete_fish",
            "_TYPER_COMPLETE_ARGS": line,
            "_TYPER_COMPLETE_FISH_ACTION": "is-args",
        }
        assert complete("complete_fish", env) == ("", status) == _typer(env, monkeypatch)


@pytest.mark.usefixtures("configured")
def test_the_config_reaches_the_fast_answer() -> None:
    def tab(line: str) -> str | None:
        words = line.split(" ")
        env = {"COMP_WORDS": line, "COMP_CWORD": str(len(words) - 1)}
        answer = complete("complete_bash", env)
        return None if answer is None else answer[0]

    assert tab("dlqctl inspect --pipeline ") == "orders\npayments\n"
    assert tab("dlqctl redrive orders-dlq --to pay") == "payments-dlq\npayments\n"
    assert tab("dlqctl inspect ") == "orders-dlq\norders\npayments-dlq\npayments\n"
    assert tab("dlqctl config show o") == "orders\n"
    # Words it cannot be sure of are left to Typer.
    assert tab("dlqctl inspect --no-such-option ") is None
    assert tab("dlqctl no-such-command ") is None
