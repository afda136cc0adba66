"""checkov, a second scanner beside cdk-nag, on both synthesized templates.

Every failed check must be excused in infra/checkov_skips.toml, for that environment and
that resource, with a reason; and every excuse there must still match a failure, so the
file says only what is true. checkov 3 pins boto3 and packaging versions of its own, so it
runs from `.venv-checkov` (`make checkov`; `make test` builds it), offline: no API key,
no download of its guidelines or external checks, and a proxy on 127.0.0.1 that refuses
whatever it might still try to send.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest
from infra.config import ENVIRONMENTS

from tests.infra.conftest import REPO_ROOT, Synthesized

CHECKOV = Path(os.environ.get("DLQCTL_CHECKOV", REPO_ROOT / ".venv-checkov" / "bin" / "checkov"))
SKIPS_FILE = REPO_ROOT / "infra" / "checkov_skips.toml"
# The hash CDK appends to a logical id: a skip names the resource without it.
LOGICAL_ID_HASH = re.compile(r"[0-9A-F]{8}$")
# --skip-download: no external checks or suppressions from the platform; --quiet and
# --compact: only the failed checks, without their code.
CHECKOV_ARGS = [
    *("--framework", "cloudformation", "--output", "json"),
    *("--skip-download", "--quiet", "--compact"),
]
# Nothing listens on the discard port: a request that gets past the flags fails at once.
TRAP = "http://127.0.0.1:9"


@dataclass(frozen=True, order=True)
class Finding:
    env: str
    check: str
    resource: str  # logical id without its hash

    def __str__(self) -> str:
        return f"{self.env}: {self.check} on {self.resource}"


@dataclass(frozen=True)
class Skip:
    check: str
    name: str
    environments: tuple[str, ...]
    resources: tuple[str, ...]
    reason: str

    def findings(self) -> set[Finding]:
        return {
            Finding(env, self.check, resource.format(env=env))
            for env in self.environments
            for resource in self.resources
        }


def load_skips() -> list[Skip]:
    entries = tomllib.loads(SKIPS_FILE.read_text(encoding="utf-8"))["skip"]
    return [
        Skip(
            check=entry["check"],
            name=entry["name"],
            environments=tuple(entry["environments"]),
            resources=tuple(entry["resources"]),
            reason=entry["reason"],
        )
        for entry in entries
    ]


def excused() -> set[Finding]:
    return {finding for skip in load_skips() for finding in skip.findings()}


def checkov_env(home: Path) -> dict[str, str]:
    env = {name: os.environ[name] for name in ("PATH", "LANG", "LC_ALL") if name in os.environ}
    env.update(
        HOME=str(home),
        # No platform: without an API key checkov uploads nothing; BC_SKIP_MAPPING stops it
        # fetching the guideline links for its output.
        BC_SKIP_MAPPING="TRUE",
        CHECKOV_NO_OUTPUT_COLOR="1",
        HTTP_PROXY=TRAP,
        HTTPS_PROXY=TRAP,
        http_proxy=TRAP,
        https_proxy=TRAP,
    )
    return env


@pytest.fixture(scope="module")
def failures(synthesized: Synthesized, tmp_path_factory: pytest.TempPathFactory) -> set[Finding]:
    """Every failed check of both templates, from one checkov run over both."""
    if not CHECKOV.exists():
        reason = f"{CHECKOV} is missing: `make checkov` builds it"
        if os.environ.get("CI"):
            pytest.fail(reason)  # CI builds it (make test): missing there is a failure
        pytest.skip(reason)
    templates = {
        env: synthesized.outdir / f"{synthesized.config(env).stack_name}.template.json"
        for env in ENVIRONMENTS
    }
    files = [arg for path in templates.values() for arg in ("--file", str(path))]
    home = tmp_path_factory.mktemp("checkov-home")
    result = subprocess.run(
        [CHECKOV, *files, *CHECKOV_ARGS],
        env=checkov_env(home),
        cwd=home,
        capture_output=True,
        text=True,
        timeout=180,
    )
    # 1 is checkov's answer when a check failed; anything else is checkov failing.
    assert result.returncode in (0, 1), result.stderr
    report = json.loads(result.stdout)
    assert report["summary"]["parsing_errors"] == 0, report["summary"]
    assert report["summary"]["resource_count"] > 0, report["summary"]
    env_of = {path.name: env for env, path in templates.items()}
    found = set()
    for failed in report["results"]["failed_checks"]:
        _, logical_id = failed["resource"].rsplit(".", 1)
        found.add(
            Finding(
                env_of[Path(failed["file_path"]).name],
                failed["check_id"],
                LOGICAL_ID_HASH.sub("", logical_id),
            )
        )
    return found


def test_every_failed_check_is_excused(failures: set[Finding]) -> None:
    unexcused = sorted(failures - excused())
    assert not unexcused, (
        "checkov failed checks that infra/checkov_skips.toml does not excuse: fix the stack, "
        "or add a skip with its reason:\n" + "\n".join(map(str, unexcused))
    )


def test_no_skip_is_stale(failures: set[Finding]) -> None:
    stale = sorted(excused() - failures)
    assert not stale, (
        "infra/checkov_skips.toml excuses checks that now pass: remove them:\n"
        + "\n".join(map(str, stale))
    )


def test_each_skip_names_a_check_and_says_why() -> None:
    skips = load_skips()
    assert skips
    for skip in skips:
        assert re.fullmatch(r"CKV2?_AWS_\d+", skip.check), skip
        assert skip.name.strip() and len(skip.reason.split()) >= 10, skip
        assert skip.environments and set(skip.environments) <= set(ENVIRONMENTS), skip
        assert skip.resources and all(not LOGICAL_ID_HASH.search(r) for r in skip.resources)
    # One entry per check, environment and resource: a second would be a second reason.
    all_findings = [finding for skip in skips for finding in skip.findings()]
    assert len(all_findings) == len(set(all_findings))
