"""Per-environment settings: the `dev` and `prod` blocks of cdk.json's context.

The pipeline's shape (names, timeouts, visibility, maxReceiveCount, batching, retention,
ledger attributes) comes from dlqctl.pipeline.spec and is the same everywhere; what differs
between environments is only what an operator tunes: capacity, thresholds, retention,
keys and what happens to data when the stack is deleted.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, fields
from pathlib import Path
from typing import Any, Literal

from dlqctl.pipeline import spec

CDK_JSON = Path(__file__).resolve().parent / "cdk.json"
ENV_CONTEXT_KEY = "env"
ENVIRONMENTS = ("dev", "prod")
# Optional: the region to synthesize for (`-c region=cn-north-1`). Without it the stack is
# environment-agnostic and CloudFormation fills in region and partition at deploy time;
# with it, partition-specific mistakes (a layer from another partition) fail at synth.
REGION_CONTEXT_KEY = "region"
# `-c powertoolsLayer=…` overrides the environment block's value for one synth or deploy.
POWERTOOLS_LAYER_CONTEXT_KEY = "powertoolsLayer"
CONTEXT_KEYS = (ENV_CONTEXT_KEY, *ENVIRONMENTS, REGION_CONTEXT_KEY, POWERTOOLS_LAYER_CONTEXT_KEY)

# Only the stack needs these, so they live here rather than in the shared spec.
INGEST_TIMEOUT_S = 10
INGEST_MEMORY_MB = 256
WORKER_MEMORY_MB = 512
# An SQS event source mapping's maximum concurrency cannot be set below 2.
MIN_EVENT_SOURCE_CONCURRENCY = 2
# The retention periods CloudWatch Logs accepts that this stack allows.
LOG_RETENTION_DAYS = (7, 14, 30, 60, 90, 180, 365)
# powertoolsLayer: "latest" or a Powertools release (3.x.y), both looked up in the public
# SSM parameters Powertools publishes, or an exact layer version ARN.
POWERTOOLS_RELEASE = re.compile(r"latest|\d+\.\d+\.\d+")
LAYER_VERSION_ARN = re.compile(
    r"arn:(?P<partition>aws|aws-cn|aws-us-gov):lambda:(?P<region>[a-z0-9-]+):\d{12}:"
    r"layer:(?P<name>[A-Za-z0-9_-]+):\d+"
)


class ConfigError(ValueError):
    """cdk.json's context does not describe a deployable environment."""


@dataclass(frozen=True)
class EnvironmentConfig:
    """One environment's settings; field names are the camelCase keys of cdk.json."""

    name: str
    stack_name: str
    removal_policy: Literal["destroy", "retain"]
    customer_managed_keys: bool
    log_retention_days: int
    worker_max_concurrency: int
    api_throttle_rate_limit: int
    api_throttle_burst_limit: int
    main_queue_age_alarm_seconds: int
    main_queue_depth_alarm: int
    api_5xx_alarm_threshold: int
    powertools_layer: str
    # Optional (null or absent: none): a reservation for the worker. Without one it draws
    # on the account's unreserved pool (docs/deploy.md gives the quota a reservation
    # needs); the event source's maximum concurrency is the limit either way.
    worker_reserved_concurrency: int | None = None
    # Optional: an address to subscribe to the alarm topic (null or absent: none).
    alarm_email: str | None = None

    @property
    def prefix(self) -> str:
        """What the stack puts before every physical name (queues, table, parameter)."""
        return self.name

    @property
    def retain_data(self) -> bool:
        return self.removal_policy == "retain"

    @classmethod
    def from_context(cls, name: str, raw: Mapping[str, Any]) -> EnvironmentConfig:
        expected = {_camel(f.name): f.name for f in fields(cls) if f.name != "name"}
        optional = {_camel(f.name) for f in fields(cls) if f.default is not MISSING}
        missing = sorted(set(expected) - optional - set(raw))
        unknown = sorted(set(raw) - set(expected))
        if missing or unknown:
            raise ConfigError(
                f"context {name!r}: missing keys {missing or 'none'}, unknown keys {unknown or 'none'}"
            )
        config = cls(name=name, **{expected[key]: value for key, value in raw.items()})
        config._validate()
        return config

    def _validate(self) -> None:
        problems = []
        if self.removal_policy not in ("destroy", "retain"):
            problems.append("removalPolicy must be 'destroy' or 'retain'")
        if self.log_retention_days not in LOG_RETENTION_DAYS:
            problems.append(f"logRetentionDays must be one of {LOG_RETENTION_DAYS}")
        if self.worker_max_concurrency < MIN_EVENT_SOURCE_CONCURRENCY:
            problems.append(f"workerMaxConcurrency must be at least {MIN_EVENT_SOURCE_CONCURRENCY}")
        # Below the event source's maximum concurrency, Lambda throttles the pollers'
        # invocations and the throttled batches burn receive counts toward the DLQ.
        reserved = self.worker_reserved_concurrency
        if reserved is not None and reserved < self.worker_max_concurrency:
            problems.append(
                "workerReservedConcurrency must be null or at least workerMaxConcurrency"
            )
        # A message that fails every delivery legitimately stays this long on the main
        # queue before SQS moves it to the DLQ; an age alarm below it pages on normal retries.
        retry_span = spec.MAX_RECEIVE_COUNT * spec.MAIN_QUEUE_VISIBILITY_S
        if self.main_queue_age_alarm_seconds <= retry_span:
            problems.append(
                f"mainQueueAgeAlarmSeconds must exceed maxReceiveCount x visibility ({retry_span} s)"
            )
        if self.api_throttle_burst_limit < self.api_throttle_rate_limit:
            problems.append("apiThrottleBurstLimit must be at least apiThrottleRateLimit")
        positive = (
            "api_throttle_rate_limit",
            "main_queue_age_alarm_seconds",
            "main_queue_depth_alarm",
            "api_5xx_alarm_threshold",
        )
        problems += [f"{_camel(f)} must be positive" for f in positive if getattr(self, f) <= 0]
        layer = self.powertools_layer
        if not (POWERTOOLS_RELEASE.fullmatch(layer) or LAYER_VERSION_ARN.fullmatch(layer)):
            problems.append(
                "powertoolsLayer must be 'latest', a Powertools release such as 3.37.0, "
                "or a layer version ARN"
            )
        if problems:
            raise ConfigError(f"context {self.name!r}: " + "; ".join(problems))


def cdk_json_context() -> dict[str, Any]:
    """The context cdk.json declares: what `cdk synth` passes the app, read directly when
    the app runs without the CDK CLI (tests, `python infra/app.py`)."""
    return dict(json.loads(CDK_JSON.read_text(encoding="utf-8"))["context"])


def load(context: Mapping[str, Any], name: str | None = None) -> EnvironmentConfig:
    """The environment `name`, or the one the `env` context key selects, with a
    `powertoolsLayer` given on the command line in place of the block's."""
    name = name or str(context.get(ENV_CONTEXT_KEY) or "")
    if name not in ENVIRONMENTS:
        raise ConfigError(f"unknown environment {name!r}: pass -c env=dev or -c env=prod")
    raw = context.get(name)
    if not isinstance(raw, Mapping):
        raise ConfigError(f"cdk.json has no {name!r} context block")
    layer = context.get(POWERTOOLS_LAYER_CONTEXT_KEY)
    if layer:  # the block's own key has the same name
        raw = {**raw, POWERTOOLS_LAYER_CONTEXT_KEY: str(layer)}
    return EnvironmentConfig.from_context(name, raw)


def _camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)
