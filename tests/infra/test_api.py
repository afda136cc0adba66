"""The ingest API: IAM auth, request validation against a JSON-schema model, access logs,
throttling, tracing; and the model agrees with the handler's pydantic model."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Match
from infra.components.api import ACCESS_LOG_FORMAT, ORDER_SCHEMA, ORDERS_PATH

from tests.infra.conftest import Synthesized

jsonschema = pytest.importorskip("jsonschema")


def test_every_method_requires_iam_and_post_orders_validates_the_body(
    synthesized: Synthesized, env: str
) -> None:
    methods = synthesized.resources(env, "AWS::ApiGateway::Method")
    assert methods, "the API has methods"
    assert {m["Properties"]["AuthorizationType"] for m in methods.values()} == {"AWS_IAM"}
    [validator_id] = synthesized.resources(env, "AWS::ApiGateway::RequestValidator")
    [model_id] = synthesized.resources(env, "AWS::ApiGateway::Model")
    synthesized.template(env).has_resource_properties(
        "AWS::ApiGateway::Method",
        {
            "HttpMethod": "POST",
            "AuthorizationType": "AWS_IAM",
            "RequestValidatorId": {"Ref": validator_id},
            "RequestModels": {"application/json": {"Ref": model_id}},
            "Integration": {"Type": "AWS_PROXY"},
        },
    )
    synthesized.template(env).has_resource_properties(
        "AWS::ApiGateway::RequestValidator",
        {"ValidateRequestBody": True, "ValidateRequestParameters": True},
    )
    model = synthesized.one(env, "AWS::ApiGateway::Model")
    assert model["Schema"] == ORDER_SCHEMA and model["ContentType"] == "application/json"
    resource = synthesized.one(env, "AWS::ApiGateway::Resource")
    assert resource["PathPart"] == ORDERS_PATH


def test_stage_logs_throttles_and_traces(synthesized: Synthesized, env: str) -> None:
    config = synthesized.config(env)
    [access_logs] = [
        logical_id
        for logical_id, group in synthesized.resources(env, "AWS::Logs::LogGroup").items()
        if group["Properties"]["LogGroupName"].startswith("/aws/apigateway/")
    ]
    synthesized.template(env).has_resource_properties(
        "AWS::ApiGateway::Stage",
        {
            "StageName": config.name,
            "TracingEnabled": True,
            "AccessLogSetting": {
                "DestinationArn": {"Fn::GetAtt": [access_logs, "Arn"]},
                "Format": json.dumps(ACCESS_LOG_FORMAT),
            },
            "MethodSettings": [
                Match.object_like(
                    {
                        "HttpMethod": "*",
                        "ResourcePath": "/*",
                        "LoggingLevel": "ERROR",
                        "DataTraceEnabled": False,
                        "ThrottlingRateLimit": config.api_throttle_rate_limit,
                        "ThrottlingBurstLimit": config.api_throttle_burst_limit,
                    }
                )
            ],
        },
    )


def test_lambda_permission_is_scoped_to_post_orders_on_the_stage(
    synthesized: Synthesized, env: str
) -> None:
    [permission] = synthesized.resources(env, "AWS::Lambda::Permission").values()
    source = permission["Properties"]["SourceArn"]["Fn::Join"][1]
    assert source[-1] == f"/POST/{ORDERS_PATH}"


VALID: list[dict[str, Any]] = [
    {"order_id": "o-1", "customer_id": "c-1", "amount": 12.5, "currency": "EUR"},
    {"order_id": "o-2", "customer_id": "c-1", "amount": "12.50", "currency": "USD"},
    {
        "order_id": "o-3",
        "customer_id": "c-2",
        "amount": 1,
        "currency": "GBP",
        "items": [{"sku": "A-1", "quantity": 2}],
        "poison": True,
    },
]
INVALID: list[dict[str, Any]] = [
    {"customer_id": "c-1", "amount": 1, "currency": "EUR"},
    {"order_id": "o-1", "customer_id": "c-1", "amount": 1, "currency": "EUR", "extra": 1},
    {"order_id": "", "customer_id": "c-1", "amount": 1, "currency": "EUR"},
    {"order_id": "o-1", "customer_id": "c-1", "amount": 0, "currency": "EUR"},
    {"order_id": "o-1", "customer_id": "c-1", "amount": -3, "currency": "EUR"},
    {"order_id": "o-1", "customer_id": "c-1", "amount": "ten", "currency": "EUR"},
    {"order_id": "o-1", "customer_id": "c-1", "amount": 1, "currency": "eur"},
    {
        "order_id": "o-1",
        "customer_id": "c-1",
        "amount": 1,
        "currency": "EUR",
        "items": [{"sku": "A", "quantity": 0}],
    },
    {
        "order_id": "o-1",
        "customer_id": "c-1",
        "amount": 1,
        "currency": "EUR",
        "items": [{"sku": "A", "quantity": 1, "colour": "red"}],
    },
    {
        "order_id": "o-1",
        "customer_id": "c-1",
        "amount": 1,
        "currency": "EUR",
        "items": [{"sku": "A", "quantity": 1}] * 101,
    },
]


def gateway_accepts(body: dict[str, Any]) -> bool:
    return jsonschema.Draft4Validator(ORDER_SCHEMA).is_valid(body)


def handler_accepts(body: dict[str, Any]) -> bool:
    pytest.importorskip("aws_lambda_powertools")
    from pydantic import ValidationError

    from dlqctl.pipeline.ingest import Order

    try:
        Order.model_validate(body)
    except ValidationError:
        return False
    return True


def test_schema_is_valid_draft4() -> None:
    jsonschema.Draft4Validator.check_schema(ORDER_SCHEMA)


@pytest.mark.parametrize("body", VALID, ids=lambda b: str(b["order_id"]))
def test_gateway_and_handler_both_accept_valid_orders(body: dict[str, Any]) -> None:
    assert gateway_accepts(body) and handler_accepts(body)


@pytest.mark.parametrize("body", INVALID, ids=str)
def test_gateway_and_handler_both_refuse_malformed_orders(body: dict[str, Any]) -> None:
    assert not gateway_accepts(body) and not handler_accepts(body)


def test_gateway_is_the_coarser_gate_the_handler_checks_decimal_places() -> None:
    body = {"order_id": "o-1", "customer_id": "c-1", "amount": 1.234, "currency": "EUR"}
    assert gateway_accepts(body) and not handler_accepts(body)
