"""Messages as each AWS service puts them in a DLQ, shaped as AWS documents them.

Shared by the unit tests (classification) and the functional ones (sent to moto).
- Lambda asynchronous invocation: the event unchanged, with RequestID, ErrorCode
  (Number) and ErrorMessage attributes.
- Lambda on-failure destination: the invocation record (version, timestamp,
  requestContext, requestPayload, responseContext, responsePayload).
- EventBridge rule target: the event, with RULE_ARN, TARGET_ARN, ERROR_CODE,
  ERROR_MESSAGE, EXHAUSTED_RETRY_CONDITION, RETRY_ATTEMPTS.
- EventBridge Scheduler: the target's input, with SCHEDULE_ARN, TARGET_ARN, ERROR_CODE,
  ERROR_MESSAGE, EXECUTION_ID, IS_PAYLOAD_TRUNCATED, RETRY_ATTEMPTS, SCHEDULED_TIME.
- SNS subscription: the SNS envelope, no error attributes.
"""

from __future__ import annotations

import json
from typing import Any

ACCOUNT = "123456789012"
REGION = "us-east-1"
FUNCTION = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:resize-images"


def string(value: str) -> dict[str, str]:
    return {"DataType": "String", "StringValue": value}


def number(value: str) -> dict[str, str]:
    return {"DataType": "Number", "StringValue": value}


def lambda_async(
    event: dict[str, Any], *, error: str = "Task timed out after 3.00 seconds"
) -> dict[str, Any]:
    return {
        "MessageBody": json.dumps(event),
        "MessageAttributes": {
            "RequestID": string("d9b1e6a2-8f8c-4f1e-9c6b-1f0c6a1e2b3c"),
            "ErrorCode": number("200"),
            "ErrorMessage": string(error),
        },
    }


def destination_record(
    payload: dict[str, Any] | None,
    *,
    function: str = f"{FUNCTION}:$LATEST",
    error_type: str | None = "ValueError",
    condition: str = "RetriesExhausted",
) -> dict[str, Any]:
    record: dict[str, Any] = {
        "version": "1.0",
        "timestamp": "2026-12-01T10:15:42.411Z",
        "requestContext": {
            "requestId": "e4b46cbf-b738-xmpl-8880-a18cdf61200e",
            "functionArn": function,
            "condition": condition,
            "approximateInvokeCount": 3,
        },
        "responseContext": {
            "statusCode": 200,
            "executedVersion": "$LATEST",
            "functionError": "Unhandled",
        },
        "responsePayload": (
            {"errorType": error_type, "errorMessage": "bad size", "stackTrace": []}
            if error_type
            else {"errorMessage": "2026-12-01T10:15:42Z Task timed out after 3.00 seconds"}
        ),
    }
    if payload is not None:
        record["requestPayload"] = payload
    return {"MessageBody": json.dumps(record)}


def stream_record() -> dict[str, Any]:
    record = json.loads(destination_record(None)["MessageBody"])
    record["requestContext"]["condition"] = "RetryAttemptsExhausted"
    record["KinesisBatchInfo"] = {
        "shardId": "shardId-000000000001",
        "startSequenceNumber": "49601189658422359378836298521827638475320189012309704722",
        "endSequenceNumber": "49601189658422359378836298522902373528957594348623495186",
        "approximateArrivalOfFirstRecord": "2026-12-01T10:11:42.000Z",
        "approximateArrivalOfLastRecord": "2026-12-01T10:11:42.000Z",
        "batchSize": 500,
        "streamArn": f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/clicks",
    }
    return {"MessageBody": json.dumps(record)}


def event(detail: dict[str, Any], *, source: str = "shop.orders") -> dict[str, Any]:
    return {
        "version": "0",
        "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "detail-type": "OrderPlaced",
        "source": source,
        "account": ACCOUNT,
        "time": "2026-12-01T10:00:00Z",
        "region": REGION,
        "resources": [],
        "detail": detail,
    }


def eventbridge(
    body: dict[str, Any],
    *,
    target: str,
    rule: str = f"arn:aws:events:{REGION}:{ACCOUNT}:rule/orders-bus/orders-to-billing",
    code: str = "SDK_CLIENT_ERROR",
) -> dict[str, Any]:
    return {
        "MessageBody": json.dumps(body),
        "MessageAttributes": {
            "RULE_ARN": string(rule),
            "TARGET_ARN": string(target),
            "ERROR_CODE": string(code),
            "ERROR_MESSAGE": string("Unable to invoke the target"),
            "EXHAUSTED_RETRY_CONDITION": string("MaximumRetryAttempts"),
            "RETRY_ATTEMPTS": number("185"),
        },
    }


def scheduler(
    payload: dict[str, Any],
    *,
    target: str,
    truncated: bool = False,
    code: str = "AWS.SQS.QueueDoesNotExist",
) -> dict[str, Any]:
    return {
        "MessageBody": json.dumps(payload),
        "MessageAttributes": {
            "SCHEDULE_ARN": string(
                f"arn:aws:scheduler:{REGION}:{ACCOUNT}:schedule/default/nightly"
            ),
            "TARGET_ARN": string(target),
            "ERROR_CODE": string(code),
            "ERROR_MESSAGE": string("The specified queue does not exist."),
            "EXECUTION_ID": string("9f6c5a3b-1c2d-4e5f-8a9b-0c1d2e3f4a5b"),
            "IS_PAYLOAD_TRUNCATED": string("true" if truncated else "false"),
            "RETRY_ATTEMPTS": number("185"),
            "SCHEDULED_TIME": string("2026-12-01T02:00:00Z"),
        },
    }


def sns_envelope(
    topic: str, message: str, *, attributes: dict[str, Any] | None = None
) -> dict[str, Any]:
    envelope = {
        "Type": "Notification",
        "MessageId": "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
        "TopicArn": topic,
        "Subject": "order",
        "Message": message,
        "Timestamp": "2026-12-01T10:00:00.000Z",
        "SignatureVersion": "1",
        "Signature": "EXAMPLE",
        "SigningCertURL": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0000.pem",
        "UnsubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe",
        "MessageAttributes": attributes or {},
    }
    return {"MessageBody": json.dumps(envelope)}
