"""Shell completion of pipeline and queue names from the config file, through Typer's
completion machinery: the `_DLQCTL_COMPLETE` variable the installed script sets."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from dlqctl.cli.app import app

DLQCTL = Path(sys.executable).parent / "dlqctl"

CONFIG = """\
[pipelines.orders]
dlq = "orders-dlq"
source_queue = "orders"

[pipelines.prod]
dlq = "https://sqs.eu-west-1.amazonaws.com/123456789012/prod-dlq-pipeline-dlq"
source_queue = "arn:aws:sqs:eu-west-1:123456789012:prod-dlq-pipeline"

[pipelines.typo]
dlq = "not a queue"
"""


@pytest.fixture
def configured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "dlqctl.toml").write_text(CONFIG)
    return tmp_path


def complete(*words: str, shell: str = "bash") -> Result:
    """What the shell gets for `dlqctl WORDS…` with the cursor at the end of the last word
    ("" for a new word), as the bash (or zsh) script Typer installs asks for it."""
    line = " ".join(["dlqctl", *words])
    env = {"_DLQCTL_COMPLETE": f"complete_{shell}"}
    if shell == "bash":
        env |= {"COMP_WORDS": line, "COMP_CWORD": str(len(words))}
    else:
        env["_TYPER_COMPLETE_ARGS"] = line
    return CliRunner().invoke(app, [], env=env, prog_name="dlqctl", catch_exceptions=False)


def offered(*words: str) -> set[str]:
    result = complete(*words)
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    return set(result.stdout.split())


def test_pipeline_names(configured: Path) -> None:
    assert offered("inspect", "--pipeline", "") == {"orders", "prod", "typo"}
    assert offered("redrive", "--dry-run", "--pipeline", "p") == {"prod"}
    assert offered("config", "show", "") == {"orders", "prod", "typo"}


def test_queue_names_from_every_pipeline(configured: Path) -> None:
    # URLs and ARNs are offered by name, which every QUEUE accepts; a value no command
    # would accept is left out.
    everything = {"orders-dlq", "orders", "prod-dlq-pipeline-dlq", "prod-dlq-pipeline"}
    assert offered("redrive", "orders-dlq", "--to", "") == everything
    assert offered("replay", "f.jsonl", "--to", "prod") == {
        "prod-dlq-pipeline-dlq",
        "prod-dlq-pipeline",
    }


@pytest.mark.parametrize("command", ["inspect", "peek", "redrive", "export", "purge", "watch"])
def test_queue_arguments_offer_the_configs_queues(configured: Path, command: str) -> None:
    assert offered(command, "orders") == {"orders-dlq", "orders"}
    assert offered(command, "prod-dlq-pipeline-") == {"prod-dlq-pipeline-dlq"}


def test_hints_name_the_pipeline(configured: Path) -> None:
    zsh = complete("redrive", "--to", "", shell="zsh").stdout
    assert '"orders-dlq":"DLQ of pipeline orders"' in zsh
    assert '"prod-dlq-pipeline":"source of pipeline prod"' in zsh
    assert '"orders":"DLQ orders-dlq"' in complete("peek", "--pipeline", "", shell="zsh").stdout


def test_the_config_named_earlier_on_the_line(configured: Path) -> None:
    other = configured / "other.toml"
    other.write_text('[pipelines.elsewhere]\ndlq = "e-dlq"\n')
    assert offered("inspect", "--config", str(other), "--pipeline", "") == {"elsewhere"}


def test_the_user_config_without_a_local_one() -> None:
    user = Path(os.environ["XDG_CONFIG_HOME"]) / "dlqctl" / "config.toml"
    user.parent.mkdir(parents=True)
    user.write_text('[pipelines.mine]\ndlq = "mine-dlq"\n')
    assert offered("watch", "--pipeline", "") == {"mine"}


def test_the_user_config_under_a_local_one(configured: Path) -> None:
    """The files merged, as a command reads them: the user's pipelines too."""
    user = Path(os.environ["XDG_CONFIG_HOME"]) / "dlqctl" / "config.toml"
    user.parent.mkdir(parents=True)
    user.write_text('[pipelines.mine]\ndlq = "mine-dlq"\n\n[pipelines.orders]\ndlq = "old-dlq"\n')
    assert offered("watch", "--pipeline", "") == {"mine", "orders", "prod", "typo"}
    # The project's [pipelines.orders] replaces the user's: its queues, not the user's.
    assert "old-dlq" not in offered("peek", "")
    assert {"mine-dlq", "orders-dlq"} <= offered("peek", "")


@pytest.mark.parametrize(
    "content",
    [
        b"[pipelines.orders\n",  # not TOML
        b'[pipelines.orders]\nqueue = "orders-dlq"\n',  # no dlq, an unknown key
        b"\xff\xfe[pipelines]\n",  # not UTF-8
    ],
    ids=["not-toml", "invalid", "not-utf8"],
)
def test_a_broken_config_offers_nothing_silently(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: bytes
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "dlqctl.toml").write_bytes(content)
    assert offered("inspect", "--pipeline", "") == set()
    assert offered("redrive", "--to", "") == set()


def test_a_missing_config_offers_nothing_silently(
    configured: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert offered("inspect", "--config", "/nonexistent/c.toml", "--pipeline", "") == set()
    monkeypatch.setenv("DLQCTL_CONFIG", "/nonexistent/c.toml")
    assert offered("inspect", "--pipeline", "") == set()


def test_the_installed_script_completes(configured: Path) -> None:
    """The real path: the shell runs the installed `dlqctl` with the completion variables
    (what that process imports, boto3 not among it, is pinned in test_startup.py)."""
    env = {
        **os.environ,
        "_DLQCTL_COMPLETE": "complete_bash",
        "COMP_WORDS": "dlqctl inspect --pipeline o",
        "COMP_CWORD": "3",
    }
    done = subprocess.run([DLQCTL], env=env, capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout, done.stderr) == (0, "orders\n", "")


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_bash_itself(configured: Path) -> None:
    """The script `dlqctl completion bash` prints, sourced into bash and called
    the way bash calls it on TAB."""
    script = (
        'source <("$DLQCTL" completion bash); '
        'COMP_WORDS=(dlqctl inspect --pipeline ""); COMP_CWORD=3; '
        '_dlqctl_completion "$DLQCTL"; printf "%s\\n" "${COMPREPLY[@]}"'
    )
    env = {**os.environ, "DLQCTL": str(DLQCTL)}
    done = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert sorted(done.stdout.split()) == ["orders", "prod", "typo"], done.stderr


@pytest.mark.parametrize(
    ("shell", "installed", "marker"),
    [
        ("zsh", ".zfunc/_dlqctl", "#compdef dlqctl"),
        ("fish", ".config/fish/completions/dlqctl.fish", "complete --command dlqctl"),
        ("bash", ".bash_completions/dlqctl.sh", "complete -o default -F _dlqctl_completion"),
    ],
)
def test_install_writes_the_named_shells_script_whatever_shell_runs_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shell: str, installed: str, marker: str
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("SHELL", "/bin/bash")  # the shell dlqctl is run from is not asked
    result = CliRunner().invoke(app, ["completion", shell, "--install"])
    assert result.exit_code == 0, result.stderr
    assert f"{shell} completion installed in" in result.stderr
    assert marker in (tmp_path / installed).read_text()


def test_printing_a_script_names_its_shell_and_an_unknown_one_is_a_usage_error() -> None:
    assert CliRunner().invoke(app, ["completion", "zsh"]).stdout.startswith("#compdef dlqctl")
    refused = CliRunner().invoke(app, ["completion", "tcsh"])
    assert refused.exit_code == 2 and "'tcsh' is not one of" in refused.stderr
