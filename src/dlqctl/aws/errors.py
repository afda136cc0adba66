"""Turn botocore's exceptions into dlqctl's, each with one line saying what to do."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    InvalidRegionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
    ReadTimeoutError,
)

from dlqctl.errors import (
    AccessDeniedError,
    AwsError,
    DlqctlError,
    EndpointError,
    NotFoundError,
    QueueNotFoundError,
    RefusedError,
    ThrottledError,
    TransientAwsError,
    UsageError,
)

_QUEUE_MISSING = {
    "AWS.SimpleQueueService.NonExistentQueue",
    "QueueDoesNotExist",
    "NonExistentQueue",
}
_RESOURCE_MISSING = {"ResourceNotFoundException", "ResourceNotFound", "TableNotFoundException"}
_ACCESS_DENIED = {
    "AccessDenied",
    "AccessDeniedException",
    "AuthorizationError",
    "UnauthorizedOperation",
    "KmsAccessDenied",
    "KMS.AccessDeniedException",
}
_BAD_CREDENTIALS = {
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidAccessKeyId",
    "MissingAuthenticationToken",
    "InvalidSecurity",
}
_SERVER_ERRORS = {
    "InternalError",
    "InternalFailure",
    "ServiceUnavailable",
    "ServiceUnavailableException",
}
_THROTTLED = {
    "Throttling",
    "ThrottlingException",
    "RequestThrottled",
    "AWS.SimpleQueueService.RequestThrottled",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "ProvisionedThroughputExceededException",
    "SlowDown",
}

# ReceiveMessage's answer once a queue holds its quota of messages in flight. The code is
# "OverLimit" in both protocols: unlike most SQS errors, the query-protocol model gives it
# no "AWS.SimpleQueueService." prefix (HTTP 403, sender fault), and the JSON protocol's
# x-amzn-query-error header carries the same name. AddPermission answers it too, for
# another limit: only a receive's OverLimit means the in-flight quota.
_OVER_LIMIT = {"OverLimit"}


class InFlightLimitError(RefusedError):
    """SQS refused a receive: the queue already holds its quota of messages in flight.
    Refused like dlqctl's own check of that quota before a look (exit 4); a run that
    meets it stops instead, with a report (core/engine.py)."""


# What an endpoint answers for an operation it does not have: AWS's common error for an
# unknown action (query protocol) and its JSON-protocol twin, and HTTP 501 (LocalStack
# answers an operation it has not implemented so).
_UNKNOWN_OPERATION = {"InvalidAction", "UnknownOperationException"}


def unknown_operation(exc: BaseException | None) -> bool:
    """Whether a failed call means the endpoint does not implement the operation: the
    answers above; moto in-process (NotImplementedError); or moto's server, whose answer
    is a bare HTTP 500 page, not an AWS error (so botocore's code is just "500"). Any
    other 5xx, InternalError included, is the service failing, and says so itself."""
    if isinstance(exc, NotImplementedError):
        return True
    if not isinstance(exc, ClientError):
        return False
    status = _status(exc)
    return bool(
        error_codes(exc) & _UNKNOWN_OPERATION
        or status == 501
        or (status == 500 and error_code(exc) == "500")
    )


def _status(exc: ClientError) -> int:
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)


def error_code(exc: ClientError) -> str:
    error = exc.response.get("Error", {})
    return str(error.get("Code") or error.get("QueryErrorCode") or "Unknown")


def error_codes(exc: ClientError) -> set[str]:
    """Both the JSON-protocol code and the query-compatible one SQS sends beside it."""
    error = exc.response.get("Error", {})
    return {str(code) for code in (error.get("Code"), error.get("QueryErrorCode")) if code}


def translate(exc: Exception, service: str, resource: str) -> DlqctlError:
    """The dlqctl error for a failed call to `service` on `resource`."""
    if isinstance(exc, ClientError):
        return _translate_client_error(exc, service, resource)
    return _translate_botocore_error(exc, resource)


def _translate_client_error(exc: ClientError, service: str, resource: str) -> DlqctlError:
    codes = error_codes(exc)
    action = f"{service}:{exc.operation_name}"
    message = exc.response.get("Error", {}).get("Message", "")
    if codes & _QUEUE_MISSING:
        return QueueNotFoundError(
            f"queue {resource} not found: check the name and the region (--region) or account"
        )
    if codes & _RESOURCE_MISSING:
        said = f" ({message})" if message else ""
        return NotFoundError(
            f"{resource} not found{said}: check the name and the region (--region)"
        )
    if codes & _ACCESS_DENIED:
        return AccessDeniedError(
            f"access denied: {action} on {resource} was refused; "
            f"grant {action} on it to your role (`dlqctl iam-policy` prints a policy) or use "
            "another --profile",
            {"action": action, "resource": resource},
        )
    if codes & _BAD_CREDENTIALS:
        return AccessDeniedError(
            f"AWS rejected the credentials ({error_code(exc)}) calling {action}: refresh them "
            "(e.g. `aws sso login`) or choose another --profile"
        )
    if codes & _OVER_LIMIT and exc.operation_name == "ReceiveMessage":
        return in_flight_limit(resource)
    if codes & _THROTTLED:
        return ThrottledError(
            f"{action} on {resource} is still throttled after retries: wait and retry, "
            "lower --rate, or set DLQCTL_RETRY_MODE=adaptive"
        )
    text = f"{action} on {resource} failed: {error_code(exc)}: {message}".rstrip(": ")
    if _status(exc) >= 500 or codes & _SERVER_ERRORS:
        return TransientAwsError(text, ambiguous=True)
    return AwsError(text)


def in_flight_limit(url: str) -> InFlightLimitError:
    """The error for a queue SQS hands no more messages out of, its in-flight quota full."""
    return InFlightLimitError(
        f"SQS refused to hand out more messages: {_queue_name(url)} already holds its quota "
        "of messages in flight (about 120,000, received and not yet deleted by any reader); "
        "wait for those holds to lapse or their readers to delete them, then look again, or "
        "look at fewer messages (--max-scan)",
        {"action": "sqs:ReceiveMessage", "resource": url},
    )


def _queue_name(resource: str) -> str:
    """A queue's name from its URL (SQS calls name the queue by URL)."""
    return resource.rstrip("/").rpartition("/")[2] or resource


def _translate_botocore_error(exc: Exception, resource: str) -> DlqctlError:
    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return AccessDeniedError(
            "no usable AWS credentials: set AWS_PROFILE (or --profile), run `aws sso login`, "
            "or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
        )
    if isinstance(exc, NoRegionError):
        return UsageError("no AWS region: pass --region or set AWS_REGION")
    if isinstance(exc, InvalidRegionError):
        return UsageError(f"invalid region: {exc}; pass a region like eu-west-1 to --region")
    if isinstance(exc, ProfileNotFound):
        return UsageError(f"{exc}: check --profile or AWS_PROFILE against ~/.aws/config")
    if isinstance(exc, EndpointConnectionError | ConnectTimeoutError):
        endpoint = getattr(exc, "kwargs", {}).get("endpoint_url", "the endpoint")
        return EndpointError(
            f"cannot reach {endpoint} for {resource}: check --endpoint-url, --region and the "
            "network, then retry"
        )
    if isinstance(exc, ReadTimeoutError | ConnectionClosedError):
        # The request went out; whether it took effect is unknown.
        endpoint = getattr(exc, "kwargs", {}).get("endpoint_url", "the endpoint")
        return EndpointError(
            f"lost the answer from {endpoint} for {resource}: check the network, then retry",
            ambiguous=True,
        )
    return AwsError(f"AWS call for {resource} failed: {exc}")


@contextmanager
def aws_call(service: str, resource: str) -> Iterator[None]:
    """Run botocore calls, re-raising their failures as dlqctl errors."""
    try:
        yield
    except (ClientError, BotoCoreError) as exc:
        raise translate(exc, service, resource) from exc
