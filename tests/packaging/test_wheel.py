"""The package as a user gets it: sdist and wheel built from this tree, the wheel installed
with its `lab` extra into a fresh venv, and the installed `dlqctl` run from there.

uv installs the build environments and the venv's dependencies (from its cache, or the
package index): pip takes minutes for what uv does in seconds. Everything here shares one
build and one venv, and the tests are marked `packaging` (`-m "not packaging"` leaves them
out).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from email.parser import Parser
from pathlib import Path

import pytest

from tests.lab.test_lab import isolated_env, lab_processes

try:
    from uv import find_uv_bin
except ImportError:  # pragma: no cover - the dev extra has it
    pytest.skip(
        "uv (the dev extra) is needed to build and install quickly", allow_module_level=True
    )

REPO_ROOT = Path(__file__).resolve().parents[2]
UV = find_uv_bin()
PROJECT = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]

# Read now, before tests/conftest.py points HOME at a temporary directory for each test.
UV_CACHE = os.environ.get("UV_CACHE_DIR") or str(Path.home() / ".cache" / "uv")

pytestmark = [pytest.mark.packaging, pytest.mark.timeout(300)]


@dataclass(frozen=True)
class Dist:
    wheel: Path
    sdist: Path


@dataclass(frozen=True)
class Installed:
    venv: Path

    @property
    def dlqctl(self) -> str:
        return str(self.venv / "bin" / "dlqctl")


def run(
    argv: list[str], *, cwd: Path | str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(argv, capture_output=True, text=True, timeout=300, cwd=cwd, env=env)
    assert result.returncode == 0, (
        f"{argv} exited {result.returncode}\n{result.stdout}\n{result.stderr}"
    )
    return result


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Dist:
    """The sdist, and the wheel built from it (python -m build's default), as `make dist`."""
    outdir = tmp_path_factory.mktemp("dist")
    run(
        [
            sys.executable,
            "-m",
            "build",
            "--installer",
            "uv",
            "--outdir",
            str(outdir),
            str(REPO_ROOT),
        ],
        env={**os.environ, "UV_CACHE_DIR": UV_CACHE},
    )
    [wheel] = outdir.glob("*.whl")
    [sdist] = outdir.glob("*.tar.gz")
    return Dist(wheel, sdist)


@pytest.fixture(scope="module")
def installed(dist: Dist, tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """A fresh venv with `dlqctl[lab]` from the wheel, at constraints.txt's versions."""
    venv = tmp_path_factory.mktemp("venv")
    run([sys.executable, "-m", "venv", str(venv)])
    install = [
        UV,
        "pip",
        "install",
        "--quiet",
        "--compile-bytecode",
        "--python",
        str(venv / "bin" / "python"),
    ]
    run(
        [
            *install,
            "-c",
            str(REPO_ROOT / "constraints.txt"),
            f"dlqctl[lab] @ {dist.wheel.as_uri()}",
        ],
        env={**os.environ, "UV_CACHE_DIR": UV_CACHE},
    )
    return Installed(venv)


@pytest.fixture
def home(tmp_path: Path) -> Iterator[dict[str, str]]:
    """As tests/lab: a clean HOME, state and config dir, with no AWS settings at all."""
    env = isolated_env(tmp_path)
    yield env
    assert lab_processes(tmp_path) == [], "a lab process outlived its test"


def test_dists_pass_twine_check_strict(dist: Dist) -> None:
    run([sys.executable, "-m", "twine", "check", "--strict", str(dist.wheel), str(dist.sdist)])


def test_wheel_metadata_and_files(dist: Dist) -> None:
    with zipfile.ZipFile(dist.wheel) as wheel:
        names = wheel.namelist()
        [metadata_name] = [n for n in names if n.endswith(".dist-info/METADATA")]
        metadata = Parser().parsestr(wheel.read(metadata_name).decode())
    assert metadata["Name"] == "dlqctl" and metadata["Version"] == PROJECT["version"]
    assert metadata["License-Expression"] == "Apache-2.0"
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert "dlqctl/py.typed" in names
    assert metadata.get_all("Classifier") == PROJECT["classifiers"]
    assert sorted(metadata.get_all("Project-URL") or []) == sorted(
        f"{label}, {url}" for label, url in PROJECT["urls"].items()
    )
    # What the floor job installs at its lower bounds is what a user's pip will read.
    runtime = [r for r in metadata.get_all("Requires-Dist") or [] if "extra ==" not in r]
    assert runtime == PROJECT["dependencies"]
    # The long description is the README as it is (test_readme_links: links work off GitHub).
    assert metadata["Description-Content-Type"] == "text/markdown"
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    assert str(metadata.get_payload()).strip() == readme.strip()


def test_installed_version(installed: Installed, tmp_path: Path) -> None:
    assert run([installed.dlqctl, "--version"], cwd=tmp_path).stdout.strip() == (
        f"dlqctl {PROJECT['version']}"
    )
    # The venv's own copy, not this checkout's src/.
    where = run(
        [str(installed.venv / "bin" / "python"), "-c", "import dlqctl; print(dlqctl.__file__)"],
        cwd=tmp_path,
    )
    assert Path(where.stdout.strip()).is_relative_to(installed.venv)


def test_installed_lab_up_and_down(installed: Installed, home: dict[str, str]) -> None:
    started = json.loads(
        run([installed.dlqctl, "lab", "up", "-o", "json"], env=home, cwd=home["HOME"]).stdout
    )
    try:
        assert started["endpoint"].startswith("http://127.0.0.1:")
        # The lab's server runs on the venv's Python, where the `lab` extra put moto.
        server = Path(f"/proc/{started['server_pid']}/cmdline").read_bytes().split(b"\0")
        assert Path(server[0].decode()).is_relative_to(installed.venv)
        report = run([installed.dlqctl, "lab", "status", "-o", "json"], env=home, cwd=home["HOME"])
        assert json.loads(report.stdout)["running"]
    finally:
        stopped = run([installed.dlqctl, "lab", "down"], env=home, cwd=home["HOME"])
    assert "stopped poller" in stopped.stdout
    assert not json.loads(
        run([installed.dlqctl, "lab", "status", "-o", "json"], env=home, cwd=home["HOME"]).stdout
    )["running"]
