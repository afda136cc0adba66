import base64
import json

import pytest

from dlqctl.core.messages import convert_attributes, decode_body

from ..conftest import MESSAGE_CONTRACT_FIELDS
from .helpers import received


def test_json_body_is_parsed() -> None:
    assert decode_body('{"a": 1}') == ({"a": 1}, "json")


def test_plain_text_stays_text() -> None:
    assert decode_body("hello [bold]world[/bold]") == ("hello [bold]world[/bold]", "text")


@pytest.mark.parametrize("text", ["bin\x01\x02", "esc\x1b[31m", "lone \ud800 surrogate", "del\x7f"])
def test_unprintable_bodies_become_base64(text: str) -> None:
    body, encoding = decode_body(text)
    assert encoding == "base64"
    assert base64.b64decode(body) == text.encode("utf-8", "surrogatepass")


def test_the_replacement_character_is_text() -> None:
    assert decode_body("caf\ufffd au lait") == ("caf\ufffd au lait", "text")


def test_tabs_and_newlines_are_printable() -> None:
    assert decode_body("a\tb\r\nc")[1] == "text"


def test_binary_message_attributes_are_base64() -> None:
    converted = convert_attributes(
        {
            "blob": {"DataType": "Binary", "BinaryValue": b"\x00\xff"},
            "n": {"DataType": "Number", "StringValue": "42"},
            "custom": {"DataType": "String.tenant", "StringValue": "acme"},
        }
    )
    assert converted["blob"].value == base64.b64encode(b"\x00\xff").decode()
    assert (converted["n"].data_type, converted["n"].value) == ("Number", "42")
    assert converted["custom"].data_type == "String.tenant"


def test_message_contract_fields() -> None:
    m = received(
        {"x": "é"}, age_s=120, system={"DeadLetterQueueSourceArn": "arn:aws:sqs:us-east-1:1:orders"}
    ).to_message("Timeout", "attribute", None)
    dumped = json.loads(m.model_dump_json())
    assert set(MESSAGE_CONTRACT_FIELDS) <= set(dumped)
    assert dumped["body_bytes"] == len('{"x": "\\u00e9"}')
    assert 119 <= dumped["age_s"] <= 125
    assert dumped["sent_at"].endswith("Z")
    assert dumped["source_queue_arn"].endswith(":orders")
