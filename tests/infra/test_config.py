"""cdk.json's contexts: both environments load, differ where they should, and bad values fail
before any resource is built."""

from __future__ import annotations

import re
from typing import Any

import pytest
from infra.config import ConfigError, EnvironmentConfig

from dlqctl.pipeline import spec
from infra import config
from tests.infra.conftest import REPO_ROOT


def raw(name: str) -> dict[str, Any]:
    return dict(config.cdk_json_context()[name])


def test_cdk_json_declares_dev_and_prod_and_selects_dev_by_default() -> None:
    context = config.cdk_json_context()
    assert context[config.ENV_CONTEXT_KEY] == "dev"
    assert {name: config.load(context, name).name for name in config.ENVIRONMENTS} == {
        "dev": "dev",
        "prod": "prod",
    }


def test_prod_keeps_data_and_uses_customer_managed_keys_dev_does_not() -> None:
    context = config.cdk_json_context()
    dev, prod = config.load(context, "dev"), config.load(context, "prod")
    assert (dev.removal_policy, dev.customer_managed_keys) == ("destroy", False)
    assert (prod.removal_policy, prod.customer_managed_keys) == ("retain", True)
    assert prod.log_retention_days > dev.log_retention_days
    assert dev.stack_name != prod.stack_name


def test_only_prod_reserves_worker_concurrency() -> None:
    """A reservation needs account quota to spare (docs/deploy.md); dev deploys anywhere."""
    context = config.cdk_json_context()
    dev, prod = config.load(context, "dev"), config.load(context, "prod")
    assert dev.worker_reserved_concurrency is None
    assert prod.worker_reserved_concurrency is not None
    assert prod.worker_reserved_concurrency >= prod.worker_max_concurrency


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"workerMaxConcurrency": 1}, "workerMaxConcurrency must be at least 2"),
        (
            {"workerReservedConcurrency": 2, "workerMaxConcurrency": 3},
            "workerReservedConcurrency must be null or at least workerMaxConcurrency",
        ),
        ({"powertoolsLayer": "27"}, "powertoolsLayer must be 'latest', a Powertools release"),
        ({"powertoolsLayer": "arn:aws:lambda:eu-west-1:1:layer:x:1"}, "powertoolsLayer must be"),
        ({"logRetentionDays": 13}, "logRetentionDays must be one of"),
        ({"removalPolicy": "snapshot"}, "removalPolicy must be"),
        (
            {"mainQueueAgeAlarmSeconds": spec.MAX_RECEIVE_COUNT * spec.MAIN_QUEUE_VISIBILITY_S},
            "mainQueueAgeAlarmSeconds must exceed",
        ),
        ({"apiThrottleBurstLimit": 1, "apiThrottleRateLimit": 5}, "apiThrottleBurstLimit"),
        ({"api5xxAlarmThreshold": 0}, "api5xxAlarmThreshold must be positive"),
        ({"surprise": 1}, "unknown keys ['surprise']"),
    ],
)
def test_invalid_context_is_refused_with_the_key_named(
    change: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        EnvironmentConfig.from_context("dev", {**raw("dev"), **change})


def test_missing_keys_are_named_and_alarm_email_is_optional() -> None:
    values = raw("prod")
    values.pop("alarmEmail", None)
    assert EnvironmentConfig.from_context("prod", values).alarm_email is None
    del values["logRetentionDays"]
    with pytest.raises(ConfigError, match=r"missing keys \['logRetentionDays'\]"):
        EnvironmentConfig.from_context("prod", values)


def test_powertools_layer_on_the_command_line_overrides_the_block() -> None:
    arn = "arn:aws-cn:lambda:cn-north-1:123456789012:layer:AWSLambdaPowertoolsPythonV3-python313-arm64:37"
    context = {**config.cdk_json_context(), config.POWERTOOLS_LAYER_CONTEXT_KEY: arn}
    assert config.load(context, "prod").powertools_layer == arn
    assert config.load(config.cdk_json_context(), "dev").powertools_layer == "latest"


def test_prod_runs_the_powertools_release_the_suite_runs() -> None:
    """prod pins its layer to a release; it must be the one constraints.txt tests against."""
    pins = {
        re.sub(r"[-_.]+", "-", name).lower(): version.strip()
        for name, _, version in (
            line.partition("==")
            for line in (REPO_ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines()
        )
    }
    tested = pins["aws-lambda-powertools"]
    assert config.load(config.cdk_json_context(), "prod").powertools_layer == tested


def test_unknown_environment_says_how_to_choose() -> None:
    with pytest.raises(ConfigError, match="-c env=dev or -c env=prod"):
        config.load(config.cdk_json_context(), "staging")
