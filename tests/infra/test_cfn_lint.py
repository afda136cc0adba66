"""cfn-lint on the synthesized templates: clean, but for the documented ignores."""

from __future__ import annotations

import pytest
from infra.config import ENVIRONMENTS

from tests.infra.conftest import Synthesized

cfnlint_api = pytest.importorskip("cfnlint.api")

# W3005: CDK writes a DependsOn that a GetAtt already implies (a Lambda function on its
# role's default policy); redundant, and harmless.
IGNORED = ["W3005"]
REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2"]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_template_is_cfn_lint_clean(synthesized: Synthesized, env: str) -> None:
    path = synthesized.outdir / f"{synthesized.config(env).stack_name}.template.json"
    matches = cfnlint_api.lint(
        path.read_text(encoding="utf-8"),
        config=cfnlint_api.ManualArgs(regions=REGIONS, ignore_checks=IGNORED),
    )
    assert [str(match) for match in matches] == []
