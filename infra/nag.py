"""cdk-nag 3.x wiring: the AwsSolutions pack as a synth-time validation plugin, and the one
way this app acknowledges a finding.

cdk-nag 3 runs through CDK's policy-validation plugins: any unacknowledged finding makes
`app.synth()` fail. An acknowledgment names the full finding id (`RuleId[Finding]` where
a rule reports several per resource) and must say why, next to the resource it excuses.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Acknowledgment, App, Stack, Validations
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct


def add_checks(app: App) -> None:
    Validations.of(app).add_plugins(AwsSolutionsChecks(app, verbose=True))


def acknowledge(scope: IConstruct, finding: str, reason: str) -> None:
    if not reason.strip():
        raise ValueError(f"acknowledging {finding} needs a reason")
    Validations.of(scope).acknowledge(Acknowledgment(id=finding, reason=reason))


def rendered(scope: IConstruct, value: str) -> str:
    """`value` as a finding id spells it: what CDK resolved at synth as is, the rest as
    <AWS::Region>, <Logical.Arn>. A stack synthesized for a known region spells its ARNs
    with the region written out, so an id built from the same value matches either way."""
    resolved: Any = Stack.of(scope).resolve(value)
    if isinstance(resolved, dict) and "Fn::Join" in resolved:
        separator, parts = resolved["Fn::Join"]
        return str(separator).join(_spelled(part) for part in parts)
    return _spelled(resolved)


def _spelled(part: Any) -> str:
    if isinstance(part, dict) and "Ref" in part:
        return f"<{part['Ref']}>"
    if isinstance(part, dict) and "Fn::GetAtt" in part:
        return "<{}.{}>".format(*part["Fn::GetAtt"])
    return str(part)
