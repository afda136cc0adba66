"""Where the lab lives: its endpoint, its resource names, and the environment that points
boto3 (the handlers, dlqctl, the AWS CLI) at it and never at AWS."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

import boto3

from dlqctl.pipeline import spec
from dlqctl.pipeline.failure_modes import parse_failure_mode

REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's default account
LAB_PIPELINE = "lab"


@dataclass(frozen=True)
class LabResources:
    endpoint: str
    queue_url: str
    queue_arn: str
    dlq_url: str
    dlq_arn: str
    table: str
    parameter: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def environment(endpoint: str, resources: LabResources | None = None) -> dict[str, str]:
    """Variables for anything that should talk to the lab: fake credentials, the endpoint
    for every service, and the handlers' configuration."""
    env = {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        spec.ENV_FAILURE_MODE_PARAMETER: spec.FAILURE_MODE_PARAMETER,
        spec.ENV_FAILURE_MODE_CACHE_S: str(spec.LAB_FAILURE_MODE_CACHE_S),
        "POWERTOOLS_SERVICE_NAME": spec.SERVICE_NAME,
    }
    if resources is not None:
        env[spec.ENV_QUEUE_URL] = resources.queue_url
        env[spec.ENV_LEDGER_TABLE] = resources.table
    return env


def shell_environment(endpoint: str) -> dict[str, str]:
    """What `lab env` exports: the lab's environment, and `lab` as the default pipeline."""
    return {**environment(endpoint), "DLQCTL_PIPELINE": LAB_PIPELINE}


def shell_variable_names() -> list[str]:
    """The names `lab env` exports, which `lab env --unset` clears once the lab is gone.
    They do not depend on the endpoint, so none is needed to list them."""
    return list(shell_environment(endpoint=""))


def client(service: str, endpoint: str) -> Any:
    return boto3.client(
        service,  # type: ignore[call-overload]
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 - moto's fake credentials
    )


def create_resources(endpoint: str) -> LabResources:
    """The pipeline's queues, ledger and parameter, shaped by the spec with lab timings."""
    sqs = client("sqs", endpoint)
    dlq_url = sqs.create_queue(
        QueueName=spec.DLQ_NAME,
        Attributes={"MessageRetentionPeriod": str(spec.DLQ_RETENTION_S)},
    )["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    redrive = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(spec.MAX_RECEIVE_COUNT)}
    queue_url = sqs.create_queue(
        QueueName=spec.MAIN_QUEUE_NAME,
        Attributes={
            "VisibilityTimeout": str(spec.LAB_VISIBILITY_S),
            "MessageRetentionPeriod": str(spec.MAIN_QUEUE_RETENTION_S),
            "MaximumMessageSize": str(spec.QUEUE_MAX_MESSAGE_BYTES),
            "RedrivePolicy": json.dumps(redrive),
        },
    )["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]

    dynamodb = client("dynamodb", endpoint)
    dynamodb.create_table(
        TableName=spec.LEDGER_TABLE_NAME,
        KeySchema=[{"AttributeName": spec.LEDGER_KEY, "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": spec.LEDGER_KEY, "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.update_time_to_live(
        TableName=spec.LEDGER_TABLE_NAME,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": spec.LEDGER_EXPIRES_AT},
    )
    client("ssm", endpoint).put_parameter(
        Name=spec.FAILURE_MODE_PARAMETER, Value="none", Type="String", Overwrite=True
    )
    return LabResources(
        endpoint=endpoint,
        queue_url=queue_url,
        queue_arn=queue_arn,
        dlq_url=dlq_url,
        dlq_arn=dlq_arn,
        table=spec.LEDGER_TABLE_NAME,
        parameter=spec.FAILURE_MODE_PARAMETER,
    )


def set_failure_mode(endpoint: str, mode: str) -> None:
    """Flip the GameDay switch; the worker sees it within its cache time."""
    value = str(parse_failure_mode(mode))
    client("ssm", endpoint).put_parameter(
        Name=spec.FAILURE_MODE_PARAMETER, Value=value, Type="String", Overwrite=True
    )


def failure_mode(endpoint: str) -> str:
    return str(
        client("ssm", endpoint).get_parameter(Name=spec.FAILURE_MODE_PARAMETER)["Parameter"][
            "Value"
        ]
    )
