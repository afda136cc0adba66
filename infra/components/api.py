"""The ingest API: REST, IAM (SigV4) auth on every method, a JSON-schema gate on the body,
stage throttling, access logs and X-Ray."""

from __future__ import annotations

import json
from typing import Any

from aws_cdk import RemovalPolicy
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra import nag
from infra.components.functions import RETENTION
from infra.config import EnvironmentConfig

ORDERS_PATH = "orders"
# The public contract of POST /orders, checked by API Gateway before any Lambda runs, so a
# malformed body costs neither an invocation nor a queue message. The ingest handler's
# pydantic model checks the finer rules (two decimal places, cross-field rules) behind it.
ORDER_SCHEMA: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-04/schema#",
    "title": "Order",
    "type": "object",
    "additionalProperties": False,
    "required": ["order_id", "customer_id", "amount", "currency"],
    "properties": {
        "order_id": {"type": "string", "minLength": 1, "maxLength": 64},
        "customer_id": {"type": "string", "minLength": 1, "maxLength": 64},
        # Money travels as a JSON number or as a decimal string; both reach pydantic's Decimal.
        "amount": {
            "type": ["number", "string"],
            "minimum": 0,
            "exclusiveMinimum": True,
            "maximum": 9999999999.99,
            "pattern": "^[0-9]{1,10}(\\.[0-9]{1,2})?$",
        },
        "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
        "items": {
            "type": "array",
            "maxItems": 100,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["sku", "quantity"],
                "properties": {
                    "sku": {"type": "string", "minLength": 1, "maxLength": 64},
                    "quantity": {"type": "integer", "minimum": 1, "maximum": 10000},
                },
            },
        },
        "poison": {"type": "boolean"},
    },
}
# One JSON object per request: what the API-5xx runbook's queries select on.
ACCESS_LOG_FORMAT = {
    "requestId": "$context.requestId",
    "extendedRequestId": "$context.extendedRequestId",
    "requestTime": "$context.requestTime",
    "httpMethod": "$context.httpMethod",
    "resourcePath": "$context.resourcePath",
    "status": "$context.status",
    "protocol": "$context.protocol",
    "responseLength": "$context.responseLength",
    "responseLatency": "$context.responseLatency",
    "sourceIp": "$context.identity.sourceIp",
    "caller": "$context.identity.caller",
    "userArn": "$context.identity.userArn",
    "integrationStatus": "$context.integration.status",
    "integrationLatency": "$context.integration.latency",
    "integrationError": "$context.integration.error",
    "errorMessage": "$context.error.message",
    "errorResponseType": "$context.error.responseType",
    "xrayTraceId": "$context.xrayTraceId",
}


class IngestApi(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: EnvironmentConfig,
        handler: lambda_.IFunction,
        key: kms.IKey | None = None,
    ) -> None:
        super().__init__(scope, id)
        name = f"{config.prefix}-dlq-pipeline-ingest"
        self.access_logs = logs.LogGroup(
            self,
            "AccessLogs",
            log_group_name=f"/aws/apigateway/{name}/access",
            encryption_key=key,
            retention=RETENTION[config.log_retention_days],
            removal_policy=RemovalPolicy.RETAIN if config.retain_data else RemovalPolicy.DESTROY,
        )
        self.api = apigateway.RestApi(
            self,
            "Api",
            rest_api_name=name,
            description=f"dlq-pipeline ({config.name}): POST /{ORDERS_PATH} enqueues an order",
            endpoint_types=[apigateway.EndpointType.REGIONAL],
            # Execution logging (below) needs the account's API Gateway CloudWatch role.
            cloud_watch_role=True,
            default_method_options=apigateway.MethodOptions(
                authorization_type=apigateway.AuthorizationType.IAM
            ),
            deploy_options=apigateway.StageOptions(
                stage_name=config.name,
                access_log_destination=apigateway.LogGroupLogDestination(self.access_logs),
                access_log_format=apigateway.AccessLogFormat.custom(json.dumps(ACCESS_LOG_FORMAT)),
                logging_level=apigateway.MethodLoggingLevel.ERROR,
                # Never log request bodies: they are customer orders.
                data_trace_enabled=False,
                metrics_enabled=True,
                tracing_enabled=True,
                throttling_rate_limit=config.api_throttle_rate_limit,
                throttling_burst_limit=config.api_throttle_burst_limit,
            ),
        )
        model = apigateway.CfnModel(
            self,
            "OrderModel",
            rest_api_id=self.api.rest_api_id,
            content_type="application/json",
            name="Order",
            description="The body of POST /orders",
            schema=ORDER_SCHEMA,
        )
        # A changed schema must produce a new deployment, or the stage keeps the old one.
        deployment = self.api.latest_deployment
        assert deployment is not None, "RestApi deploys by default"
        deployment.add_to_logical_id(ORDER_SCHEMA)
        validator = self.api.add_request_validator(
            "BodyValidator", validate_request_body=True, validate_request_parameters=True
        )
        self.api.root.add_resource(ORDERS_PATH).add_method(
            "POST",
            apigateway.LambdaIntegration(handler, allow_test_invoke=False),
            request_validator=validator,
            request_models={
                "application/json": apigateway.Model.from_model_name(self, "Order", model.ref)
            },
        )
        self.api.add_gateway_response(
            "InvalidBody",
            type=apigateway.ResponseType.BAD_REQUEST_BODY,
            status_code="400",
            templates={
                "application/json": '{"message": "invalid order", '
                '"errors": "$context.error.validationErrorString"}'
            },
        )

        nag.acknowledge(
            self.api,
            "AwsSolutions-APIG3",
            "No WAF web ACL: every method requires SigV4-signed IAM credentials, and the "
            "stage's throttling bounds request rates; a web ACL would add cost without "
            "filtering anything an anonymous caller could reach.",
        )
        nag.acknowledge(
            self.api,
            "AwsSolutions-COG4",
            "Callers are services, not end users: methods use IAM (SigV4) authorization, "
            "which is stronger than a Cognito user pool for machine-to-machine calls.",
        )
        nag.acknowledge(
            self.api,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]",
            "The account-level role API Gateway assumes to write execution logs: this AWS "
            "managed policy is the one AWS documents for it, and it is scoped by AWS.",
        )
