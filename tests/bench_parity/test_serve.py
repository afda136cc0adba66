"""The simulator over HTTP (bench/sim/serve.py): the same answers as in-process, in SQS's
JSON protocol and in its query protocol, with the same faults and the in-flight quota.

The server binds 127.0.0.1 on a free port in a thread of the test process; nothing
leaves the machine.
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import pytest
from bench.sim import serve
from bench.sim.md5 import md5_of_attributes
from botocore.config import Config
from botocore.exceptions import ClientError

from .backends import on_sim, outcome
from .test_operations import ALL

NS = {"sqs": serve.XMLNS}
ATTRIBUTES = {
    "ErrorType": {"DataType": "String", "StringValue": "Timeout"},
    "Amount": {"DataType": "Number", "StringValue": "12.50"},
    "Attempt": {"DataType": "Number.int", "StringValue": "3"},
    "Payload": {"DataType": "Binary", "BinaryValue": bytes([0, 1, 254, 255])},
    "Tenant": {"DataType": "String.custom", "StringValue": "acme & <co>"},
}


@contextmanager
def served(*flags: str) -> Iterator[serve.Server]:
    server = serve.serve(serve.parse(["--latency-ms", "0", *flags]))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _endpoint(server: serve.Server) -> str:
    return serve.address(server)


def _client(endpoint: str, **config: Any) -> Any:
    return boto3.client(
        "sqs",
        endpoint_url=endpoint,
        region_name="us-east-1",
        config=Config(retries={"mode": "standard", "total_max_attempts": 1}, **config),
    )


def _script(sqs: Any) -> list[Any]:
    """Queues, every attribute type, holds, batches with a bad entry, errors."""
    url = sqs.create_queue(QueueName="orders", Attributes={"VisibilityTimeout": "60"})["QueueUrl"]
    fifo = sqs.create_queue(QueueName="orders.fifo", Attributes={"FifoQueue": "true"})
    log: list[Any] = [outcome(lambda: sqs.list_queues(QueueNamePrefix="orders"))]
    entries = [
        {"Id": f"m{i}", "MessageBody": f"body {i} é", "MessageAttributes": ATTRIBUTES}
        for i in range(3)
    ]
    log.append(outcome(lambda: sqs.send_message_batch(QueueUrl=url, Entries=entries)))
    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, **ALL)
    log.append(outcome(lambda: received))
    handles = [m["ReceiptHandle"] for m in received["Messages"]]
    log.append(
        outcome(
            lambda: sqs.delete_message_batch(
                QueueUrl=url,
                Entries=[{"Id": "bad", "ReceiptHandle": "nonsense"}]
                + [{"Id": f"d{i}", "ReceiptHandle": h} for i, h in enumerate(handles[:2])],
            )
        )
    )
    log.append(
        outcome(
            lambda: sqs.get_queue_attributes(
                QueueUrl=url, AttributeNames=["ApproximateNumberOfMessagesNotVisible"]
            )
        )
    )
    log.append(outcome(lambda: sqs.get_queue_url(QueueName="missing")))
    log.append(outcome(lambda: sqs.send_message(QueueUrl=fifo["QueueUrl"], MessageBody="no group")))
    return log


def _local_urls(value: Any, endpoint: str) -> Any:
    """Queue URLs name the server over HTTP; compare them as the in-process form."""
    text = _json(value).replace(endpoint, "https://sqs.us-east-1.amazonaws.com")
    return json.loads(text)


def _json(value: Any) -> str:
    return json.dumps(value, default=bytes.hex)  # binary attribute values, as hex


def test_the_json_protocol_over_http_answers_as_the_simulator_in_process() -> None:
    with served() as server:
        endpoint = _endpoint(server)
        over_http = _local_urls(_script(_client(endpoint)), endpoint)
    assert over_http == json.loads(_json(on_sim(_script)))
    # and the transcript is SQS's: three messages, each attribute type back intact
    messages = over_http[2]["Messages"]
    assert [m["Body"] for m in messages] == ["body 0 é", "body 1 é", "body 2 é"]
    assert over_http[3]["Failed"][0]["Code"] == "ReceiptHandleIsInvalid"
    assert over_http[5]["error"] == "AWS.SimpleQueueService.NonExistentQueue"


def _query(endpoint: str, params: dict[str, str], *, via_url: bool = False) -> ET.Element:
    form = urllib.parse.urlencode({"Version": "2012-11-05", **params})
    request = (
        urllib.request.Request(f"{endpoint}/?{form}")
        if via_url
        else urllib.request.Request(endpoint, data=form.encode())
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return ET.fromstring(answer.read())
    except urllib.error.HTTPError as error:
        root = ET.fromstring(error.read())
        root.set("status", str(error.code))
        return root


def _flattened(prefix: str, attributes: dict[str, Any]) -> dict[str, str]:
    form = {}
    for number, (name, value) in enumerate(attributes.items(), start=1):
        form[f"{prefix}.{number}.Name"] = name
        form[f"{prefix}.{number}.Value.DataType"] = value["DataType"]
        if "BinaryValue" in value:
            form[f"{prefix}.{number}.Value.BinaryValue"] = "AAH+/w=="  # bytes 0 1 254 255
        else:
            form[f"{prefix}.{number}.Value.StringValue"] = value["StringValue"]
    return form


def test_the_query_protocol_carries_lists_maps_and_every_attribute_type() -> None:
    with served() as server:
        endpoint = _endpoint(server)
        created = _query(endpoint, {"Action": "CreateQueue", "QueueName": "q"})
        url = created.findtext("sqs:CreateQueueResult/sqs:QueueUrl", namespaces=NS)
        assert url == f"{endpoint}/123456789012/q"  # queue URLs name the server

        batch = {"Action": "SendMessageBatch", "QueueUrl": url}
        for number in (1, 2):
            batch[f"SendMessageBatchRequestEntry.{number}.Id"] = f"e{number}"
            batch[f"SendMessageBatchRequestEntry.{number}.MessageBody"] = f"<body {number}>"
            batch.update(
                _flattened(f"SendMessageBatchRequestEntry.{number}.MessageAttribute", ATTRIBUTES)
            )
        sent = _query(endpoint, batch)
        entries = sent.findall(
            "sqs:SendMessageBatchResult/sqs:SendMessageBatchResultEntry", namespaces=NS
        )
        assert [e.findtext("sqs:Id", namespaces=NS) for e in entries] == ["e1", "e2"]

        received = _query(
            endpoint,
            {
                "Action": "ReceiveMessage",
                "QueueUrl": url,
                "MaxNumberOfMessages": "10",
                "AttributeName.1": "All",
                "MessageAttributeName.1": "All",
            },
            via_url=True,  # the query protocol also comes as a GET
        )
        messages = received.findall("sqs:ReceiveMessageResult/sqs:Message", namespaces=NS)
        assert [m.findtext("sqs:Body", namespaces=NS) for m in messages] == [
            "<body 1>",
            "<body 2>",
        ]
        first = messages[0]
        attributes: dict[str, Any] = {
            str(a.findtext("sqs:Name", namespaces=NS)): {
                child.tag.split("}")[1]: child.text for child in a.find("sqs:Value", NS) or []
            }
            for a in first.findall("sqs:MessageAttribute", NS)
        }
        assert attributes["Payload"] == {"DataType": "Binary", "BinaryValue": "AAH+/w=="}
        assert attributes["Attempt"] == {"DataType": "Number.int", "StringValue": "3"}
        assert attributes["Tenant"]["StringValue"] == "acme & <co>"
        assert first.findtext("sqs:MD5OfMessageAttributes", namespaces=NS) == (
            md5_of_attributes(attributes)
        )
        system = {
            a.findtext("sqs:Name", namespaces=NS): a.findtext("sqs:Value", namespaces=NS)
            for a in first.findall("sqs:Attribute", NS)
        }
        assert system["ApproximateReceiveCount"] == "1"

        deleted = _query(
            endpoint,
            {
                "Action": "DeleteMessageBatch",
                "QueueUrl": url,
                "DeleteMessageBatchRequestEntry.1.Id": "ok",
                "DeleteMessageBatchRequestEntry.1.ReceiptHandle": first.findtext(
                    "sqs:ReceiptHandle", namespaces=NS
                )
                or "",
                "DeleteMessageBatchRequestEntry.2.Id": "bad",
                "DeleteMessageBatchRequestEntry.2.ReceiptHandle": "nonsense",
            },
        )
        result = deleted.find("sqs:DeleteMessageBatchResult", NS)
        assert result is not None
        ok = result.findall("sqs:DeleteMessageBatchResultEntry/sqs:Id", NS)
        assert [e.text for e in ok] == ["ok"]
        error = result.find("sqs:BatchResultErrorEntry", NS)
        assert error is not None
        assert error.findtext("sqs:Code", namespaces=NS) == "ReceiptHandleIsInvalid"
        assert error.findtext("sqs:SenderFault", namespaces=NS) == "true"

        missing = _query(endpoint, {"Action": "GetQueueUrl", "QueueName": "nope"})
        assert missing.get("status") == "400"
        assert missing.findtext("sqs:Error/sqs:Code", namespaces=NS) == (
            "AWS.SimpleQueueService.NonExistentQueue"
        )
        assert missing.findtext("sqs:Error/sqs:Type", namespaces=NS) == "Sender"
        counts = _query(
            endpoint,
            {"Action": "GetQueueAttributes", "QueueUrl": url, "AttributeName.1": "All"},
        )
        values = {
            a.findtext("sqs:Name", namespaces=NS): a.findtext("sqs:Value", namespaces=NS)
            for a in counts.findall("sqs:GetQueueAttributesResult/sqs:Attribute", NS)
        }
        assert (
            values["ApproximateNumberOfMessages"],
            values["ApproximateNumberOfMessagesNotVisible"],
        ) == ("0", "1")
        stats = json.loads(urllib.request.urlopen(f"{endpoint}/_sim/stats").read())
    assert stats["requests"] == {
        "CreateQueue": 1,
        "SendMessageBatch": 1,
        "ReceiveMessage": 1,
        "DeleteMessageBatch": 1,
        "GetQueueUrl": 1,
        "GetQueueAttributes": 1,
    }


def test_query_parameters_take_the_json_protocols_shape() -> None:
    operation, params = serve.query_params(
        {
            "Action": "SendMessageBatch",
            "Version": "2012-11-05",
            "QueueUrl": "u",
            "SendMessageBatchRequestEntry.10.Id": "j",
            "SendMessageBatchRequestEntry.2.Id": "b",
            "SendMessageBatchRequestEntry.2.DelaySeconds": "5",
            "SendMessageBatchRequestEntry.2.MessageAttribute.1.Name": "n",
            "SendMessageBatchRequestEntry.2.MessageAttribute.1.Value.DataType": "Number",
            "SendMessageBatchRequestEntry.2.MessageAttribute.1.Value.StringValue": "1",
        }
    )
    assert operation == "SendMessageBatch"
    assert params == {
        "QueueUrl": "u",
        "Entries": [
            {
                "Id": "b",
                "DelaySeconds": 5,
                "MessageAttributes": {"n": {"DataType": "Number", "StringValue": "1"}},
            },
            {"Id": "j"},
        ],
    }


def test_faults_and_the_in_flight_quota_reach_http_clients() -> None:
    with served("--throttle-rate", "1", "--depth", "3") as server:
        sqs = _client(_endpoint(server))
        with pytest.raises(ClientError) as raised:
            sqs.get_queue_url(QueueName="bench-orders-dlq")
        assert raised.value.response["Error"]["Code"] == "RequestThrottled"
    with served("--depth", "5", "--in-flight-limit", "3") as server:
        endpoint = _endpoint(server)
        sqs = _client(endpoint)
        url = sqs.get_queue_url(QueueName="bench-orders-dlq")["QueueUrl"]
        assert len(sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]) == 3
        with pytest.raises(ClientError) as raised:
            sqs.receive_message(QueueUrl=url)
        assert raised.value.response["Error"]["Code"] == "OverLimit"
        assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
        refused = _query(endpoint, {"Action": "ReceiveMessage", "QueueUrl": url})
        assert refused.findtext("sqs:Error/sqs:Code", namespaces=NS) == "OverLimit"


def test_the_bench_reads_what_arrived_intact() -> None:
    with served("--depth", "4", "--attributes", "rich") as server:
        endpoint = _endpoint(server)
        sqs = _client(endpoint)
        dlq = sqs.get_queue_url(QueueName="bench-orders-dlq")["QueueUrl"]
        source = sqs.get_queue_url(QueueName="bench-orders")["QueueUrl"]
        messages = sqs.receive_message(
            QueueUrl=dlq, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
        )["Messages"]
        kept, dropped = messages[:2], messages[2:]
        entries = [
            {"Id": f"k{i}", "MessageBody": m["Body"], "MessageAttributes": m["MessageAttributes"]}
            for i, m in enumerate(kept)
        ] + [
            {
                "Id": f"d{i}",
                "MessageBody": m["Body"],
                "MessageAttributes": {
                    k: v for k, v in m["MessageAttributes"].items() if v["DataType"] == "String"
                },
            }
            for i, m in enumerate(dropped)
        ]
        sqs.send_message_batch(QueueUrl=source, Entries=entries)
        state = json.loads(urllib.request.urlopen(f"{endpoint}/_sim/state").read())
    assert state["copies"] == 4
    assert state["intact"] == {
        "copies": 4,
        "bodies_intact": 4,
        "attributes_intact": 2,
        "kept_by_type": {
            "String": 4,
            "Number": 2,
            "Binary": 2,
            "Number.int": 2,
            "String.custom": 2,
        },
        "attributes_added": [],
        "not_bench_messages": 0,
    }


def test_only_loopback_is_served() -> None:
    with pytest.raises(SystemExit):
        serve.serve(serve.parse(["--host", "0.0.0.0"]))
