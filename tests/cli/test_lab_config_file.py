"""Where `lab up` writes its `lab` pipeline: never into a project ./dlqctl.toml (a file
people commit) unless someone at a terminal says so; otherwise the user config.

The installed `dlqctl` as subprocesses, as in tests/lab: stdin is /dev/null for "no
terminal", a pseudo-terminal for "a terminal", with the answer typed ahead.
"""

import json
import os
import pty
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ..lab.test_lab import isolated_env, lab_processes

DLQCTL = str(Path(sys.executable).parent / "dlqctl")
NOTE = "# written by `dlqctl lab up`; `dlqctl lab down` removes it"
PROJECT = """\
# committed with the service: `lab up` must not touch it unasked
[pipelines.orders]
dlq = "orders-dlq"
"""

pytestmark = pytest.mark.e2e


@pytest.fixture
def home(tmp_path: Path) -> Iterator[dict[str, str]]:
    """A clean HOME, state and config dir, no AWS settings, and a project directory."""
    env = isolated_env(tmp_path, columns=80)
    (tmp_path / "project").mkdir()
    (tmp_path / "project" / "dlqctl.toml").write_text(PROJECT)
    yield env
    dlqctl(env, "lab", "down")  # whatever a failed test left behind
    assert lab_processes(tmp_path) == [], "a lab process outlived its test"


def dlqctl(
    env: dict[str, str], *args: str, expect: int = 0, answer: str | None = None
) -> subprocess.CompletedProcess[str]:
    """`dlqctl ARGS` in the project directory: without a terminal, or, with `answer`, at
    one where `answer` is typed."""
    if answer is None:
        stdin = subprocess.DEVNULL
    else:
        typist, stdin = pty.openpty()
        os.write(typist, answer.encode())
    try:
        done = subprocess.run(
            [DLQCTL, *args],
            env=env,
            cwd=Path(env["HOME"]) / "project",
            stdin=stdin,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        if answer is not None:
            os.close(stdin)
            os.close(typist)
    assert done.returncode == expect, f"dlqctl {' '.join(args)}\n{done.stdout}\n{done.stderr}"
    return done


def files(env: dict[str, str]) -> tuple[Path, Path]:
    home = Path(env["HOME"])
    return home / "project" / "dlqctl.toml", home / "config" / "dlqctl" / "config.toml"


def test_without_a_terminal_the_user_config_gets_it(home: dict[str, str]) -> None:
    project, user = files(home)
    result = dlqctl(home, "lab", "up")
    assert f"lab pipeline written to {user}" in result.stdout.splitlines()
    assert "project file" not in result.stderr  # nobody was asked
    assert project.read_text() == PROJECT
    written = user.read_text()
    assert written.startswith(f"[pipelines.lab]\n{NOTE}\n")
    # Merged under the project file, the lab's pipeline works from the project too.
    report = json.loads(dlqctl(home, "inspect", "--pipeline", "lab", "-o", "json").stdout)
    assert report["queue"]["name"] == "dlq-pipeline-dlq"
    listed = json.loads(dlqctl(home, "config", "list", "-o", "json").stdout)
    assert {p["name"]: p["config"] for p in listed["pipelines"]} == {
        "lab": str(user),
        "orders": str(project),
    }
    down = dlqctl(home, "lab", "down").stdout
    assert down.endswith(f"; removed the lab pipeline from {user}\n")
    assert project.read_text() == PROJECT and user.read_text() == ""


def test_yes_does_not_ask_and_json_names_the_file(home: dict[str, str]) -> None:
    project, user = files(home)
    result = dlqctl(home, "lab", "up", "--yes", "-o", "json", answer="y\n")
    assert json.loads(result.stdout)["config_file"] == str(user)
    assert result.stderr == ""
    assert project.read_text() == PROJECT and "[pipelines.lab]" in user.read_text()


@pytest.mark.parametrize("answer", ["y", "n"])
def test_at_a_terminal_it_asks_first(home: dict[str, str], answer: str) -> None:
    project, user = files(home)
    result = dlqctl(home, "lab", "up", answer=f"{answer}\n")
    assert f"{project} is a project file (often committed): write the `lab` pipeline" in (
        result.stderr
    )
    chosen, other = (project, user) if answer == "y" else (user, project)
    assert f"lab pipeline written to {chosen}" in result.stdout.splitlines()
    assert NOTE in chosen.read_text()
    assert not other.exists() or NOTE not in other.read_text()
    dlqctl(home, "lab", "down")
    assert project.read_text() == PROJECT


def test_a_project_lab_pipeline_of_someones_own_is_refused(home: dict[str, str]) -> None:
    project, user = files(home)
    own = PROJECT + '\n[pipelines.lab]\ndlq = "my-lab-dlq"\n'
    project.write_text(own)
    # Written to the user config, the lab's pipeline would be hidden by this one.
    refused = dlqctl(home, "lab", "up", expect=4).stderr
    assert refused == (
        f"dlqctl: error: config file {project} already has a `lab` pipeline that "
        "`dlqctl lab up` did not write: rename it, then run `dlqctl lab up` again\n"
    )
    assert json.loads(dlqctl(home, "lab", "status", "-o", "json").stdout)["running"] is False
    assert project.read_text() == own and not user.exists()


def test_a_lab_table_up_wrote_into_the_project_is_refreshed_where_it_is(
    home: dict[str, str],
) -> None:
    """Left by a lab that was never taken down: in the user config, the new one would be
    hidden by it, so it is replaced in place, without a question, and `down` removes it."""
    project, user = files(home)
    stale = '[pipelines.lab]\n{NOTE}\ndlq = "http://127.0.0.1:1/123456789012/dlq-pipeline-dlq"\n'
    project.write_text(PROJECT + "\n" + stale.format(NOTE=NOTE))
    started = json.loads(dlqctl(home, "lab", "up", "-o", "json").stdout)
    assert started["config_file"] == str(project) and not user.exists()
    written = project.read_text()
    assert written.startswith(PROJECT) and written.count("[pipelines.lab]") == 1
    assert f'endpoint_url = "{started["endpoint"]}"' in written
    dlqctl(home, "lab", "down")
    assert project.read_text() == PROJECT
