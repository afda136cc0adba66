"""The CDK stack, synthesized once per session for both environments.

Synthesis runs the AwsSolutions (cdk-nag) checks as a validation plugin: if it returns at
all, no finding is left unacknowledged. Every test here is marked `infra`
(`pytest -m infra` or `pytest tests/infra`); all skip when the `infra` extra or Node.js
is missing.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

# Before jsii starts its Node.js process: Node 20 works but prints a banner on every start.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

pytest.importorskip("aws_cdk", reason="the `infra` extra is not installed")
pytest.importorskip("cdk_nag", reason="the `infra` extra is not installed")
if shutil.which("node") is None:  # pragma: no cover - depends on the machine
    pytest.skip("Node.js is needed to synthesize CDK apps", allow_module_level=True)

from aws_cdk import App
from aws_cdk.assertions import Template
from infra.app import build_app
from infra.config import ENVIRONMENTS, EnvironmentConfig
from infra.stacks.pipeline_stack import PipelineStack

INFRA_DIR = Path(__file__).resolve().parent
REPO_ROOT = INFRA_DIR.parents[1]
# jsii unpacks aws-cdk-lib into a cache under $HOME (seconds of work): a subprocess with a
# fresh HOME reuses this one. Read now, before any fixture points HOME elsewhere.
JSII_CACHE = os.environ.get("JSII_RUNTIME_PACKAGE_CACHE_ROOT") or str(
    Path.home() / ".cache" / "aws" / "jsii" / "package-cache"
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "infra: synthesizes the CDK stack (needs Node.js)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if INFRA_DIR in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.infra)


def offline_env(home: Path) -> dict[str, str]:
    """An environment with fake credentials and no AWS configuration to find."""
    keep = {"PATH", "LANG", "LC_ALL", "SYSTEMROOT", "TMPDIR"}
    env = {name: value for name, value in os.environ.items() if name in keep}
    env.update(
        HOME=str(home),
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_CONFIG_FILE=str(home / "no-aws-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(home / "no-aws-credentials"),
        AWS_EC2_METADATA_DISABLED="true",
        JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20",
        JSII_RUNTIME_PACKAGE_CACHE_ROOT=JSII_CACHE,
    )
    return env


@dataclass
class Synthesized:
    app: App
    stacks: dict[str, PipelineStack]
    outdir: Path

    def config(self, env: str) -> EnvironmentConfig:
        return self.stacks[env].config

    def template(self, env: str) -> Template:
        return Template.from_stack(self.stacks[env])

    def raw(self, env: str) -> dict[str, Any]:
        path = self.outdir / f"{self.config(env).stack_name}.template.json"
        return dict(json.loads(path.read_text(encoding="utf-8")))

    def resources(self, env: str, type_: str) -> dict[str, dict[str, Any]]:
        return {
            logical_id: resource
            for logical_id, resource in self.raw(env)["Resources"].items()
            if resource["Type"] == type_
        }

    def logical_id(self, env: str, type_: str, **properties: Any) -> str:
        """The logical id of the single resource of `type_` with these properties."""
        found = [
            logical_id
            for logical_id, resource in self.resources(env, type_).items()
            if all(resource["Properties"].get(k) == v for k, v in properties.items())
        ]
        assert len(found) == 1, f"{len(found)} {type_} match {properties} in {env}"
        return found[0]

    def key_arn(self, env: str) -> dict[str, Any]:
        """How the template refers to the stack's KMS key."""
        [logical_id] = self.resources(env, "AWS::KMS::Key")
        return {"Fn::GetAtt": [logical_id, "Arn"]}

    def one(self, env: str, type_: str, **properties: Any) -> dict[str, Any]:
        """The properties of the single resource of `type_` with these properties."""
        return dict(
            self.resources(env, type_)[self.logical_id(env, type_, **properties)]["Properties"]
        )


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synthesized]:
    outdir = tmp_path_factory.mktemp("cdk.out")
    home = tmp_path_factory.mktemp("home")
    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.startswith(("AWS_", "CDK_")):
                patch.delenv(name)
        for name, value in offline_env(home).items():
            patch.setenv(name, value)
        app, stacks = build_app(ENVIRONMENTS, outdir=str(outdir))
        app.synth()
        yield Synthesized(app, stacks, outdir)


@pytest.fixture(params=ENVIRONMENTS)
def env(request: pytest.FixtureRequest) -> str:
    """Run a test once per environment."""
    return str(request.param)
