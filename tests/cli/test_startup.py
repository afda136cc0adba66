"""What dlqctl loads before it does anything (issue 16, point 5).

`--version`, `--help`, `COMMAND --help` and TAB completion are asked often, by people and
by scripts and shells; none of them makes an AWS call, so none may import boto3, botocore
or moto (the AWS SDK alone takes most of a second), nor, except where completion reads
the config file, dlqctl's pydantic models. Each case runs in a fresh interpreter, as the
shell runs it, and reads what was imported from `python -X importtime`. A time is not
asserted: the modules are the invariant, and the times follow from them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer.main

from dlqctl.cli.app import app

AWS_SDK = ("boto3", "botocore", "moto", "s3transfer")
MODELS = ("dlqctl.models", "dlqctl.config")  # dlqctl's pydantic models: config, data


def imported(*args: str, env: dict[str, str] | None = None) -> tuple[str, set[str]]:
    """`python -X importtime -m dlqctl ARGS`: its stdout and every module it imported."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "dlqctl", *args],
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    modules = {
        line.rsplit("|", 1)[1].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:") and "self [us]" not in line
    }
    assert "dlqctl" in modules, "importtime reported nothing: the probe itself is broken"
    return done.stdout, modules


def loaded(modules: set[str], packages: tuple[str, ...]) -> list[str]:
    """Which of `packages` (or their submodules) were imported."""
    return sorted(m for m in modules if m.split(".")[0] in packages or m in packages)


def test_version_loads_neither_the_cli_nor_aws() -> None:
    stdout, modules = imported("--version")
    assert stdout.startswith("dlqctl ")
    # The fast path in __main__: not even Typer, let alone AWS or the models.
    assert loaded(modules, (*AWS_SDK, "typer", "rich", "pydantic")) == []


def test_help_loads_neither_aws_nor_pydantic() -> None:
    stdout, modules = imported("--help")
    assert "Usage: dlqctl" in stdout and "redrive" in stdout
    assert loaded(modules, AWS_SDK) == []
    assert loaded(modules, ("pydantic", "pydantic_core", *MODELS)) == []


def _command_paths(group: object, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    for name, command in sorted(getattr(group, "commands", {}).items()):
        yield (*prefix, name)
        yield from _command_paths(command, (*prefix, name))


COMMANDS = list(_command_paths(typer.main.get_command(app)))

# Every COMMAND --help in one fresh interpreter (the command modules are all imported for
# any of them, so one process sees what each adds), noting what each run added.
EVERY_HELP = """
import contextlib, io, json, sys
from dlqctl.cli.app import app
added = {}
for path in json.loads(sys.argv[1]):
    before = set(sys.modules)
    shown = io.StringIO()
    try:
        with contextlib.redirect_stdout(shown):
            app([*path, "--help"], prog_name="dlqctl")
    except SystemExit as exit:
        assert exit.code in (0, None), (path, exit.code)
    assert "Usage: dlqctl " + " ".join(path) in shown.getvalue(), (path, shown.getvalue())
    added[" ".join(path)] = sorted(set(sys.modules) - before)
print(json.dumps({"added": added, "all": sorted(sys.modules)}))
"""


def test_every_command_help_loads_neither_aws_nor_the_models() -> None:
    assert {"inspect", "redrive", "move-task", "move-task start", "lab up"} <= {
        " ".join(path) for path in COMMANDS
    }
    done = subprocess.run(
        [sys.executable, "-c", EVERY_HELP, json.dumps(COMMANDS)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    seen = json.loads(done.stdout)
    assert seen["added"].keys() == {" ".join(path) for path in COMMANDS}
    # Typer itself imports pydantic to coerce option values; dlqctl's models stay out.
    assert loaded(set(seen["all"]), (*AWS_SDK, *MODELS)) == []
    by_command = {
        path: loaded(set(added), (*AWS_SDK, *MODELS)) for path, added in seen["added"].items()
    }
    assert {path: heavy for path, heavy in by_command.items() if heavy} == {}


CONFIG = '[pipelines.orders]\ndlq = "orders-dlq"\nsource_queue = "orders"\n'


def test_completion_reads_the_config_without_aws(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the shell's TAB runs: the installed script's variables, a config to read."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "dlqctl.toml").write_text(CONFIG)
    for words, offered in [
        ("dlqctl inspect --pipeline o", "orders\n"),
        ("dlqctl redrive orders-dlq --to orders-", "orders-dlq\n"),
    ]:
        stdout, modules = imported(
            env={
                "_DLQCTL_COMPLETE": "complete_bash",
                "COMP_WORDS": words,
                "COMP_CWORD": str(len(words.split()) - 1),
            }
        )
        assert stdout == offered, words
        assert loaded(modules, AWS_SDK) == [], words


def test_bash_tab_loads_neither_typer_nor_rich_nor_pydantic() -> None:
    """bash's TAB after `dlqctl re`: answered from the command table (cli/tab.py), so
    not even Typer loads (through Typer it also loads pydantic, to coerce values)."""
    stdout, modules = imported(
        env={"_DLQCTL_COMPLETE": "complete_bash", "COMP_WORDS": "dlqctl re", "COMP_CWORD": "1"}
    )
    assert stdout == "redrive\nreplay\n"
    assert loaded(modules, (*AWS_SDK, "typer", "rich", "pydantic", *MODELS)) == []


def test_zsh_tab_loads_neither_typer_nor_pydantic() -> None:
    """zsh's TAB, from the same table; its help beside each value is rendered with Rich,
    as Typer renders it, and nothing else loads."""
    stdout, modules = imported(
        env={"_DLQCTL_COMPLETE": "complete_zsh", "_TYPER_COMPLETE_ARGS": "dlqctl re"}
    )
    assert stdout.startswith("_arguments '*: :((") and '"redrive":' in stdout
    assert loaded(modules, (*AWS_SDK, "typer", "pydantic", *MODELS)) == []
