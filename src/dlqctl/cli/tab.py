"""TAB without Typer: the same answers as Typer's completion, from a table.

The shell runs `dlqctl` at every TAB; through Typer that costs Typer, pydantic (Typer
coerces values with it) and every command module, ~170 ms here. `complete` answers bash,
zsh and fish from tab_table.TREE instead, following Click's completion rules
(cli/tab_build.py writes the table; tests/cli/test_tab.py checks each answer against
Typer's): the words typed so far pick the command, then the incomplete word is an option
name, an option's value, an argument's value or a subcommand. Where the words are not
plain enough to be sure (an unknown option or command, `--`, a short option with its
value attached, a value that only Typer can complete), it answers None and Typer answers
instead; PowerShell always goes to Typer. zsh and fish show help beside each value,
rendered as Typer renders it (Rich, at the width Typer would use). The config-reading
completers live here too, for both paths.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

Items = list[tuple[str, str]]
Item = tuple[str, str | None]  # a value, and its help (None: none)
WHITESPACE = re.compile(r"\s")


def pipeline_items(config: str | None) -> Items:
    """Each pipeline, with its DLQ as the hint."""
    return [(name, f"DLQ {pipeline.dlq}") for name, pipeline in _config(config).pipelines.items()]


def queue_items(config: str | None) -> Items:
    """Every DLQ and source queue a pipeline names, as the queue name (what people type),
    with the pipeline it comes from as the hint."""
    offered: dict[str, str] = {}
    for name, pipeline in _config(config).pipelines.items():
        for role, ref in (("DLQ", pipeline.dlq), ("source", pipeline.source_queue)):
            queue = queue_name(ref)
            if queue and queue not in offered:
                offered[queue] = f"{role} of pipeline {name}"
    return list(offered.items())


def queue_name(ref: str | None) -> str | None:
    """A pipeline's queue as a bare name; None for a value no command would accept."""
    if not ref:
        return None
    from dlqctl.core.queue_ref import parse_queue_ref
    from dlqctl.errors import UsageError

    try:
        return parse_queue_ref(ref).name
    except UsageError:
        return None


def _config(config: str | None) -> Any:
    """The config files the command being completed would read: `config` (its --config,
    when typed earlier on the line), else DLQCTL_CONFIG's, else the user config with
    ./dlqctl.toml merged over it. Whatever is wrong gives nothing: a message here would
    land in the prompt, and the next real command reports it."""
    from dlqctl.config import MergedConfig, read_config

    try:
        return read_config(config, os.environ)
    except Exception:
        return MergedConfig()


DYNAMIC = {"pipeline": pipeline_items, "queue": queue_items}


class Unsure(Exception):
    """The words are not plain enough to answer as Click would: Typer answers."""


@dataclass
class _Parsed:
    """One command's share of the words: which of its options were given (and the
    value of each), and how many positional values."""

    node: dict[str, Any]
    given: set[str] = field(default_factory=set)
    values: dict[str, str] = field(default_factory=dict)
    positionals: int = 0


def complete(instruction: str, environ: Mapping[str, str]) -> tuple[str, int] | None:
    """What Typer prints for a TAB (`_DLQCTL_COMPLETE=complete_bash` and the shell's
    variables) and the exit status, or None where Typer must answer."""
    shell = SHELLS.get(instruction)
    if shell is None:
        return None
    try:
        return shell(environ)
    except (Unsure, KeyError, ValueError):
        return None


def _bash(environ: Mapping[str, str]) -> tuple[str, int]:
    words = _split(environ["COMP_WORDS"])
    cword = int(environ["COMP_CWORD"])
    incomplete = words[cword] if cword < len(words) else ""
    items = _complete(words[1:cword], incomplete)
    return "\n".join(value for value, _ in items) + "\n", 0


def _typer_args(environ: Mapping[str, str]) -> tuple[list[str], str]:
    """zsh's and fish's line, as Typer reads it: the last word is the incomplete one
    unless the line ends with a space."""
    line = environ.get("_TYPER_COMPLETE_ARGS", "")
    args = _split(line)[1:]
    if args and not line.endswith(" "):
        return args[:-1], args[-1]
    return args, ""


def _zsh(environ: Mapping[str, str]) -> tuple[str, int]:
    items = _complete(*_typer_args(environ))

    def escape(text: str) -> str:
        return (
            text.replace('"', '""')
            .replace("'", "''")
            .replace("$", "\\$")
            .replace("`", "\\`")
            .replace(":", r"\\:")
        )

    shown = [
        f'"{escape(value)}":"{_rendered(escape(help_))}"' if help_ else f'"{escape(value)}"'
        for value, help_ in items
    ]
    if not shown:
        return "_files\n", 0
    joined = "\n".join(shown)
    return f"_arguments '*: :(({joined}))'\n", 0


def _fish(environ: Mapping[str, str]) -> tuple[str, int]:
    items = _complete(*_typer_args(environ))
    shown = [
        f"{value}\t{_rendered(WHITESPACE.sub(' ', help_))}" if help_ else value
        for value, help_ in items
    ]
    action = environ.get("_TYPER_COMPLETE_FISH_ACTION", "")
    if action == "is-args":  # whether to offer these rather than files: the exit status
        return "", 0 if shown else 1
    if action == "get-args" and shown:
        return "\n".join(shown) + "\n", 0
    return "\n", 0


def _rendered(text: str) -> str:
    """Help as Typer shows it beside a value: through a Rich console as Typer builds it
    (markup and emoji read, wrapped at TERMINAL_WIDTH or the terminal's width)."""
    from rich.console import Console

    force = bool(os.getenv("GITHUB_ACTIONS") or os.getenv("FORCE_COLOR") or os.getenv("PY_COLORS"))
    width = os.getenv("TERMINAL_WIDTH")
    console = Console(
        width=int(width) if width else None,
        force_terminal=False if os.getenv("_TYPER_FORCE_DISABLE_TERMINAL") else force or None,
    )
    return "".join(segment.text for segment in console.render(text)).rstrip("\n")


SHELLS: dict[str, Callable[[Mapping[str, str]], tuple[str, int]]] = {
    "complete_bash": _bash,
    "complete_zsh": _zsh,
    "complete_fish": _fish,
}


def _split(text: str) -> list[str]:
    """Click's split_arg_string: shell words, an unclosed quote taken as it stands."""
    lexer = shlex.shlex(text, posix=True)
    lexer.whitespace_split = True
    lexer.commenters = ""
    out: list[str] = []
    try:
        out.extend(lexer)
    except ValueError:
        out.append(lexer.token)
    return out


def _complete(args: list[str], incomplete: str) -> list[Item]:
    from dlqctl.cli.tab_table import TREE

    parsed = _walk(TREE, args)
    params = parsed.node["params"]
    if incomplete == "=" or ("=" in incomplete and incomplete.startswith("-")):
        raise Unsure  # Click splits `--opt=value`; rare at a TAB, left to Typer
    if incomplete.startswith("-"):  # option names ("--" was never typed: _walk)
        return _command_items(parsed, incomplete)
    if args and args[-1].startswith("-"):
        option = _option(params, args[-1], primary_only=True)
        if option is not None and option["takes_value"]:
            return _values(option, incomplete, parsed)
    for param in params:
        if not param["option"] and (param["nargs"] == -1 or param["name"] not in parsed.given):
            return _values(param, incomplete, parsed)
    return _command_items(parsed, incomplete)


def _walk(tree: dict[str, Any], args: list[str]) -> _Parsed:
    """Follow the subcommands in `args` to the command being completed, parsing each
    command's options as Click would; Unsure on anything it cannot parse for certain."""
    parsed = _Parsed(tree)
    pending: dict[str, Any] | None = None  # an option waiting for its value
    for arg in args:
        if pending is not None:
            parsed.values[pending["name"]] = arg
            parsed.given.add(pending["name"])
            pending = None
            continue
        if arg == "--" or (arg.startswith("-") and arg != "-"):
            name, equals, value = arg.partition("=")
            option = _option(parsed.node["params"], name)
            if option is None or option["nargs"] != 1 or (equals and not option["takes_value"]):
                raise Unsure
            # An option is given once it has its value: Click does not record one whose
            # value is still to come (and so still offers it).
            if equals:
                parsed.values[option["name"]] = value
                parsed.given.add(option["name"])
            elif option["takes_value"]:
                pending = option
            else:
                parsed.given.add(option["name"])
            continue
        if parsed.node["group"]:
            sub = parsed.node["commands"].get(arg)
            if sub is None:
                raise Unsure
            parsed = _Parsed(sub)
            continue
        _take_positional(parsed)
    return parsed


def _take_positional(parsed: _Parsed) -> None:
    arguments = [p for p in parsed.node["params"] if not p["option"]]
    if parsed.positionals < len(arguments):
        argument = arguments[parsed.positionals]
        if argument["nargs"] != 1:
            raise Unsure  # a variadic argument's share of the words: Click's to decide
        parsed.given.add(argument["name"])
    parsed.positionals += 1


def _option(
    params: list[dict[str, Any]], name: str, *, primary_only: bool = False
) -> dict[str, Any] | None:
    for param in params:
        if param.get("unknown_kind"):
            raise Unsure
        if not param["option"]:
            continue
        names = param["opts"] if primary_only else [*param["opts"], *param["secondary"]]
        if name in names:
            return param
    return None


def _command_items(parsed: _Parsed, incomplete: str) -> list[Item]:
    """A command's answer: its subcommands (a group's) and, for an incomplete word that
    starts with a non-alphanumeric character, its options not given yet."""
    node = parsed.node
    found: list[Item] = [
        (name, sub["help"])
        for name, sub in node["commands"].items()
        if name.startswith(incomplete) and not sub["hidden"]
    ]
    if incomplete and not incomplete[0].isalnum():
        for param in node["params"]:
            if not param["option"] or param["hidden"]:
                continue
            if not param["multiple"] and param["name"] in parsed.given:
                continue
            names = [*param["opts"], *param["secondary"]]
            found += [(n, param["help"]) for n in names if n.startswith(incomplete)]
    return found


def _values(param: dict[str, Any], incomplete: str, parsed: _Parsed) -> list[Item]:
    if "dynamic" in param:
        offered = DYNAMIC[param["dynamic"]](parsed.values.get("config"))
        return [(value, help_) for value, help_ in offered if value.startswith(incomplete)]
    if "choices" in param:
        if param["case_sensitive"]:
            return [(c, None) for c in param["choices"] if c.startswith(incomplete)]
        lowered = incomplete.lower()
        return [(c, None) for c in param["choices"] if c.lower().startswith(lowered)]
    return []
