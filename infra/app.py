"""The CDK app: `npx cdk synth -c env=prod` from infra/, or `python infra/app.py`.

Synthesis needs no AWS credentials and no network: account and region resolve at deploy
time (unless `-c region=…` names the region) and nothing is bundled.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

# Run as a script (by the CDK CLI or by hand), the repository root is not on sys.path.
REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from aws_cdk import App  # noqa: E402

from infra import config, nag  # noqa: E402
from infra.stacks.pipeline_stack import PipelineStack  # noqa: E402


def build_app(
    environments: Iterable[str] | None = None,
    *,
    outdir: str | None = None,
    context: Mapping[str, Any] | None = None,
) -> tuple[App, dict[str, PipelineStack]]:
    """The app with one stack per environment (default: the one `-c env=` selects), and
    the AwsSolutions checks that make synth fail on any unacknowledged finding.

    cdk.json's context is the default, `context` (what `-c` would pass) goes over it, and
    the CLI's context (cdk.json plus `-c`, passed in CDK_CONTEXT_JSON) overrides both.
    """
    app = App(context={**config.cdk_json_context(), **(context or {})}, outdir=outdir)
    values = {key: app.node.try_get_context(key) for key in config.CONTEXT_KEYS}
    region = values[config.REGION_CONTEXT_KEY]
    stacks = {}
    for name in environments or [values[config.ENV_CONTEXT_KEY]]:
        env = config.load(values, name)
        stacks[name] = PipelineStack(app, env.stack_name, config=env, region=region)
    nag.add_checks(app)
    return app, stacks


def main() -> None:
    app, _ = build_app()
    app.synth()


if __name__ == "__main__":
    main()
