"""The stack synthesized for a region in each partition (aws, aws-cn, aws-us-gov), as
`-c region=… -c powertoolsLayer=…` would: cdk-nag passes, every ARN CDK writes is in that
partition, the layer comes from the right place, and cfn-lint finds every resource and
property available in that region."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from infra.app import build_app
from infra.config import ENVIRONMENTS, ConfigError

from tests.infra.conftest import Synthesized
from tests.infra.test_cfn_lint import IGNORED

cfnlint_api = pytest.importorskip("cfnlint.api")

# Powertools publishes no SSM parameters outside the commercial partition, so these are
# what an operator pins there (ARNs from the Powertools documentation's per-region tables).
PARTITIONS = {
    "aws": ("eu-west-1", None),
    "aws-cn": (
        "cn-north-1",
        "arn:aws-cn:lambda:cn-north-1:498634801083:layer:"
        "AWSLambdaPowertoolsPythonV3-python313-arm64:37",
    ),
    "aws-us-gov": (
        "us-gov-west-1",
        "arn:aws-us-gov:lambda:us-gov-west-1:165093116878:layer:"
        "AWSLambdaPowertoolsPythonV3-python313-arm64:27",
    ),
}


@pytest.fixture(scope="module")
def by_partition(
    synthesized: Synthesized, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Synthesized]:
    """Both environments per partition, synthesized once (asking for `synthesized` keeps
    the offline environment it sets up)."""
    found = {}
    for partition, (region, layer) in PARTITIONS.items():
        outdir = tmp_path_factory.mktemp(f"cdk.out-{partition}")
        context = {"region": region, **({"powertoolsLayer": layer} if layer else {})}
        app, stacks = build_app(ENVIRONMENTS, outdir=str(outdir), context=context)
        app.synth()
        found[partition] = Synthesized(app, stacks, outdir)
    return found


def strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


@pytest.mark.parametrize("partition", PARTITIONS)
def test_every_arn_is_in_the_partition_and_the_layer_resolves_there(
    by_partition: dict[str, Synthesized], partition: str, env: str
) -> None:
    synthesized = by_partition[partition]
    template = synthesized.raw(env)
    region, pinned = PARTITIONS[partition]
    written = {m[1] for s in strings(template) if (m := re.match(r"arn:(aws[a-z-]*):", s))}
    assert written <= {partition}, f"ARNs of {written - {partition}} in a {partition} stack"
    assert region in json.dumps(template), "the region is written, not left to the deploy"
    for function in synthesized.resources(env, "AWS::Lambda::Function").values():
        [layer] = function["Properties"]["Layers"]
        if pinned:
            assert layer == pinned
        else:
            parameter = template["Parameters"][layer["Ref"]]
            assert parameter["Type"] == "AWS::SSM::Parameter::Value<String>"
            assert parameter["Default"].startswith("/aws/service/powertools/python/arm64/")


# The commercial partition's templates are linted in test_cfn_lint; prod's resource types
# and properties are a superset of dev's.
@pytest.mark.parametrize("partition", ["aws-cn", "aws-us-gov"])
def test_the_template_is_cfn_lint_clean_in_its_region(
    by_partition: dict[str, Synthesized], partition: str
) -> None:
    synthesized, env = by_partition[partition], "prod"
    path = synthesized.outdir / f"{synthesized.config(env).stack_name}.template.json"
    region, _ = PARTITIONS[partition]
    matches = cfnlint_api.lint(
        Path(path).read_text(encoding="utf-8"),
        config=cfnlint_api.ManualArgs(regions=[region], ignore_checks=IGNORED),
    )
    assert [str(match) for match in matches] == []


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({"region": "cn-north-1"}, "Powertools publishes no SSM parameters in aws-cn"),
        ({"region": "us-gov-east-1"}, "Powertools publishes no SSM parameters in aws-us-gov"),
        (
            {"region": "cn-northwest-1", "powertoolsLayer": PARTITIONS["aws-cn"][1]},
            "it is in cn-north-1, the stack in cn-northwest-1",
        ),
        (
            {
                "region": "cn-north-1",
                "powertoolsLayer": str(PARTITIONS["aws-cn"][1]).replace("arm64", "x86_64"),
            },
            "the functions need AWSLambdaPowertoolsPythonV3-python313-arm64",
        ),
    ],
)
def test_a_layer_that_cannot_work_in_the_region_fails_the_synth(
    synthesized: Synthesized, tmp_path: Path, context: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        build_app(["prod"], outdir=str(tmp_path), context=context)
