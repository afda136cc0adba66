"""The Powertools for AWS Lambda (Python) layer, found for the stack's region and partition.

Powertools publishes each layer version's ARN as a public SSM parameter in every commercial
region, one per architecture, runtime and release:

    /aws/service/powertools/python/<architecture>/<runtime>/<release or "latest">

for example /aws/service/powertools/python/arm64/python3.13/latest. The stack names that
parameter and CloudFormation reads it at every deploy (a template parameter of type
AWS::SSM::Parameter::Value<String>), so the template holds no publisher account and each
region gets its own copy of the layer. China and GovCloud have no such parameters: there
`powertoolsLayer` must be the exact layer version ARN (docs/deploy.md says where to find it).
"""

from __future__ import annotations

import re

from aws_cdk import Stack, Token
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_ssm as ssm
from aws_cdk.region_info import RegionInfo
from constructs import Construct

from infra.config import LAYER_VERSION_ARN, ConfigError

PARAMETER_PREFIX = "/aws/service/powertools/python"
# The only partition whose regions have the parameters.
SSM_PARTITION = "aws"


def layer_name(runtime: lambda_.Runtime, architecture: lambda_.Architecture) -> str:
    """The layer's name in its ARN, e.g. AWSLambdaPowertoolsPythonV3-python313-arm64."""
    return f"AWSLambdaPowertoolsPythonV3-{runtime.name.replace('.', '')}-{architecture.name}"


def parameter_name(
    release: str, runtime: lambda_.Runtime, architecture: lambda_.Architecture
) -> str:
    """The public SSM parameter holding the ARN of `release` ("latest" or e.g. "3.37.0")."""
    return f"{PARAMETER_PREFIX}/{architecture.name}/{runtime.name}/{release}"


def powertools_layer(
    scope: Construct,
    id: str,
    *,
    setting: str,
    runtime: lambda_.Runtime,
    architecture: lambda_.Architecture,
) -> lambda_.ILayerVersion:
    """The layer `setting` (cdk.json's powertoolsLayer) names for this runtime."""
    region = Stack.of(scope).region
    # Known when the stack is synthesized for a region (-c region=…), else None.
    partition = None if Token.is_unresolved(region) else RegionInfo.get(region).partition
    pinned = LAYER_VERSION_ARN.fullmatch(setting)
    if pinned:
        _check_pinned(pinned, region, partition, layer_name(runtime, architecture))
        arn = setting
    else:
        if partition not in (None, SSM_PARTITION):
            raise ConfigError(
                f"powertoolsLayer {setting!r}: Powertools publishes no SSM parameters in "
                f"{partition} ({region}); pin the layer version ARN of "
                f"{layer_name(runtime, architecture)} for this region instead (docs/deploy.md)"
            )
        arn = ssm.StringParameter.value_for_string_parameter(
            scope, parameter_name(setting, runtime, architecture)
        )
    return lambda_.LayerVersion.from_layer_version_arn(scope, id, arn)


def _check_pinned(
    pinned: re.Match[str], region: str, partition: str | None, expected_name: str
) -> None:
    """A pinned ARN must be this runtime's layer and, when the region is known at synth,
    be in that region: Lambda accepts layers from its own region only."""
    problems = []
    if pinned["name"] != expected_name:
        problems.append(f"the layer is {pinned['name']}, the functions need {expected_name}")
    if partition and (pinned["region"], pinned["partition"]) != (region, partition):
        problems.append(f"it is in {pinned['region']}, the stack in {region}")
    if problems:
        raise ConfigError(f"powertoolsLayer {pinned[0]}: " + "; ".join(problems))
