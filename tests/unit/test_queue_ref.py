import pytest

from dlqctl.core.queue_ref import parse_queue_ref
from dlqctl.errors import UsageError


def test_plain_name() -> None:
    ref = parse_queue_ref("orders-dlq")
    assert (ref.kind, ref.name, ref.region, ref.account) == ("name", "orders-dlq", None, None)


def test_fifo_name() -> None:
    assert parse_queue_ref("orders-dlq.fifo").fifo


def test_arn_gives_region_and_account() -> None:
    ref = parse_queue_ref("arn:aws:sqs:eu-west-1:123456789012:orders-dlq")
    assert (ref.kind, ref.name, ref.region, ref.account) == (
        "arn",
        "orders-dlq",
        "eu-west-1",
        "123456789012",
    )


def test_china_partition_arn() -> None:
    assert parse_queue_ref("arn:aws-cn:sqs:cn-north-1:123456789012:q").region == "cn-north-1"


@pytest.mark.parametrize(
    ("url", "region"),
    [
        ("https://sqs.eu-west-1.amazonaws.com/123456789012/orders-dlq", "eu-west-1"),
        ("https://eu-west-1.queue.amazonaws.com/123456789012/orders-dlq", "eu-west-1"),
        ("http://127.0.0.1:5000/123456789012/orders-dlq", None),
    ],
)
def test_url_gives_name_account_and_region_where_the_host_says(
    url: str, region: str | None
) -> None:
    ref = parse_queue_ref(url)
    assert (ref.kind, ref.name, ref.account, ref.region, ref.url) == (
        "url",
        "orders-dlq",
        "123456789012",
        region,
        url,
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("arn:aws:sqs:eu-west-1:orders", "malformed queue ARN"),
        ("arn:aws:sns:eu-west-1:123456789012:topic", "malformed queue ARN"),
        ("arn:aws:sqs:eu-west-1:123456789012:bad name", "malformed queue ARN"),
        ("https://sqs.eu-west-1.amazonaws.com/orders", "malformed queue URL"),
        ("ftp://host/1/q", "malformed queue URL"),
        ("https://sqs.eu-west-1.amazonaws.com/1/bad!name", "not a valid queue name"),
        ("bad name", "invalid queue"),
        ("x" * 81, "invalid queue"),
    ],
)
def test_malformed_references_are_usage_errors(text: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse_queue_ref(text)
