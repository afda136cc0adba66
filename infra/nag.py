"""cdk-nag 3.x wiring: the AwsSolutions pack as a synth-time validation plugin, and the one
way this app acknowledges a finding.

cdk-nag 3 runs through CDK's policy-validation plugins: any unacknowledged finding makes
`app.synth()` fail. An acknowledgment names the full finding id (`RuleId[Finding]` where
a rule reports several per resource) and must say why, next to the resource it excuses.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, App, Validations
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct


def add_checks(app: App) -> None:
    Validations.of(app).add_plugins(AwsSolutionsChecks(app, verbose=True))


def acknowledge(scope: IConstruct, finding: str, reason: str) -> None:
    if not reason.strip():
        raise ValueError(f"acknowledging {finding} needs a reason")
    Validations.of(scope).acknowledge(Acknowledgment(id=finding, reason=reason))
