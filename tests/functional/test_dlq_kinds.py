"""Every kind of DLQ against moto: inspect names its kind, target and error types; a
redrive sends each message back where it failed, and deletes it from the DLQ only once
the target took it. What arrived is checked at the target (a queue's messages, the
function's invocations), what stayed in the DLQ by message id."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from dlqctl import Dlqctl, build_filter
from dlqctl.config import Settings
from dlqctl.core.guardrails import RedriveOptions
from dlqctl.errors import RefusedError

from ..conftest import REGION, invoke_json
from ..unit import kind_fixtures as shapes

ACCOUNT = "123456789012"
MACHINE = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:billing"


def no_sleep(seconds: float) -> None:
    pass


@dataclass
class Aws:
    sqs: Any
    sns: Any
    events: Any
    lambda_: Any

    def queue(self, name: str) -> tuple[str, str]:
        url = self.sqs.create_queue(QueueName=name)["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        return url, arn

    def put(self, url: str, *entries: dict[str, Any]) -> list[str]:
        return [self.sqs.send_message(QueueUrl=url, **entry)["MessageId"] for entry in entries]

    def visible(self, url: str) -> int:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"])

    def messages(self, url: str) -> list[dict[str, Any]]:
        """Every message in a queue, consumed: only for assertions at the end of a test."""
        found: dict[str, dict[str, Any]] = {}
        while batch := self.sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=10,
            MessageAttributeNames=["All"],
            VisibilityTimeout=300,
        ).get("Messages", []):
            found.update({m["MessageId"]: m for m in batch})
        return list(found.values())

    def function(self, name: str, dlq_arn: str | None = None) -> str:
        role = boto3.client("iam", region_name=REGION).create_role(
            RoleName=f"{name}-role", AssumeRolePolicyDocument="{}"
        )["Role"]["Arn"]
        code = io.BytesIO()
        with zipfile.ZipFile(code, "w") as archive:
            archive.writestr("app.py", "def handler(event, context):\n    return event\n")
        kwargs: dict[str, Any] = {}
        if dlq_arn:
            kwargs["DeadLetterConfig"] = {"TargetArn": dlq_arn}
        return str(
            self.lambda_.create_function(
                FunctionName=name,
                Runtime="python3.13",
                Role=role,
                Handler="app.handler",
                Code={"ZipFile": code.getvalue()},
                **kwargs,
            )["FunctionArn"]
        )


@pytest.fixture
def aws() -> Iterator[Aws]:
    # moto's Lambda without Docker: an invoke succeeds and answers with its payload.
    with mock_aws(config={"lambda": {"use_docker": False}}):
        yield Aws(
            sqs=boto3.client("sqs", region_name=REGION),
            sns=boto3.client("sns", region_name=REGION),
            events=boto3.client("events", region_name=REGION),
            lambda_=boto3.client("lambda", region_name=REGION),
        )


class Invocations:
    """A Lambda client that records every Invoke as it goes out (to moto)."""

    def __init__(self) -> None:
        self.client = boto3.client("lambda", region_name=REGION)
        self.calls: list[dict[str, Any]] = []
        self.client.meta.events.register("provide-client-params.lambda.Invoke", self._record)

    def _record(self, params: dict[str, Any], **_: Any) -> None:
        self.calls.append(
            {
                "function": params["FunctionName"],
                "type": params["InvocationType"],
                "payload": json.loads(params["Payload"]),
            }
        )


def dlqctl(settings: Settings | None = None, **clients: Any) -> Dlqctl:
    return Dlqctl(settings, clients=clients or None, sleep=no_sleep)


def run(api: Dlqctl, dlq: str, **options: Any) -> Any:
    return api.redrive(dlq, build_filter(), RedriveOptions(select_all=True, **options))


def test_inspect_names_each_kind_its_target_and_error_types(aws: Aws) -> None:
    url, _ = aws.queue("mixed-dlq")
    billing_url, billing = aws.queue("billing")
    topic = aws.sns.create_topic(Name="orders")["TopicArn"]
    aws.put(
        url,
        shapes.lambda_async({"image": 1}),
        shapes.destination_record({"image": 2}),
        shapes.eventbridge(shapes.event({"order": 3}), target=billing),
        shapes.scheduler({"job": "nightly"}, target=billing),
        shapes.sns_envelope(topic, "hello"),
    )
    report = invoke_json("inspect", "mixed-dlq", "-o", "json")
    kinds = {(k["kind"], k["original_target"]): k["count"] for k in report["kinds"]}
    assert kinds == {
        ("lambda-async", None): 1,
        ("lambda-destination", f"{shapes.FUNCTION}:$LATEST"): 1,
        ("eventbridge-rule", billing): 1,
        ("scheduler", billing): 1,
        ("sns-subscription", topic): 1,
    }
    types = {row["error_type"]: row["sources"] for row in report["by_error_type"]}
    assert types == {
        "Task timed out after 3.00 seconds": ["ErrorMessage"],
        "ValueError": ["responsePayload.errorType"],
        "SDK_CLIENT_ERROR": ["ERROR_CODE"],
        "AWS.SQS.QueueDoesNotExist": ["ERROR_CODE"],
        "Unknown": ["none"],
    }
    only = invoke_json("peek", "mixed-dlq", "--kind", "eventbridge-rule", "-o", "json")
    assert [m["kind"] for m in only["messages"]] == ["eventbridge-rule"]
    assert (
        aws.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])[
            "Attributes"
        ]["ApproximateNumberOfMessages"]
        == "5"
    )  # a look changes nothing
    assert not aws.messages(billing_url)


def test_lambda_async_is_invoked_again_on_the_function_that_names_the_dlq(aws: Aws) -> None:
    """moto keeps no DeadLetterConfig: ListFunctions answers as AWS documents it."""
    url, arn = aws.queue("resize-dlq")
    aws.put(url, *(shapes.lambda_async({"image": n}) for n in range(3)))
    invocations = Invocations()
    stubber = Stubber(invocations.client)
    other = shapes.FUNCTION.replace("resize-images", "unrelated")
    stubber.add_response(
        "list_functions",
        {
            "Functions": [
                {"FunctionName": "unrelated", "FunctionArn": other},
                {
                    "FunctionName": "resize-images",
                    "FunctionArn": shapes.FUNCTION,
                    "DeadLetterConfig": {"TargetArn": arn},
                },
            ]
        },
    )
    for _ in range(3):
        stubber.add_response("invoke", {"StatusCode": 202})
    with stubber:
        report = run(dlqctl(**{"lambda": invocations.client}), "resize-dlq")
    stubber.assert_no_pending_responses()
    assert (report.selected, report.sent, report.deleted, report.failed) == (3, 3, 3, [])
    assert report.target == shapes.FUNCTION
    assert sorted(c["payload"]["image"] for c in invocations.calls) == [0, 1, 2]
    assert {(c["function"], c["type"]) for c in invocations.calls} == {(shapes.FUNCTION, "Event")}
    assert not aws.messages(url)


def test_lambda_async_without_a_function_that_names_it_is_refused(aws: Aws) -> None:
    url, _ = aws.queue("orphan-dlq")
    ids = aws.put(url, shapes.lambda_async({"image": 1}))
    with pytest.raises(RefusedError, match="set original_target"):
        run(dlqctl(), "orphan-dlq")
    assert [m["MessageId"] for m in aws.messages(url)] == ids


def test_sync_invoke_keeps_what_the_function_failed_on_in_the_dlq(aws: Aws) -> None:
    url, _ = aws.queue("resize-dlq")
    ids = aws.put(url, *(shapes.lambda_async({"image": n}) for n in range(3)))
    client = boto3.client("lambda", region_name=REGION)
    stubber = Stubber(client)
    for n in range(3):
        answer: dict[str, Any] = {"StatusCode": 200, "Payload": io.BytesIO(b"null")}
        if n == 1:
            failure = {"errorType": "ValueError", "errorMessage": "bad size"}
            answer = {
                "StatusCode": 200,
                "FunctionError": "Unhandled",
                "Payload": io.BytesIO(json.dumps(failure).encode()),
            }
        stubber.add_response("invoke", answer)
    settings = Settings(kind="lambda-async", original_target=shapes.FUNCTION, concurrency=1)
    with stubber:
        report = run(dlqctl(settings, **{"lambda": client}), "resize-dlq", invoke="sync")
    stubber.assert_no_pending_responses()
    assert (report.selected, report.sent, report.deleted, report.failed_again) == (3, 2, 2, 1)
    [failed] = report.failed
    assert failed.stage == "failed-again" and "ValueError: bad size" in failed.reason
    left = aws.messages(url)
    assert [m["MessageId"] for m in left] == [failed.message_id]
    assert failed.message_id in ids


def test_destination_record_resends_its_payload_and_refuses_what_it_cannot(aws: Aws) -> None:
    url, _ = aws.queue("resize-destination")
    function = aws.function("resize-images")
    resend, dropped, stream = aws.put(
        url,
        shapes.destination_record({"image": 9}, function=f"{function}:$LATEST"),
        shapes.destination_record(None, function=f"{function}:$LATEST"),
        shapes.stream_record(),
    )
    invocations = Invocations()
    api = dlqctl(**{"lambda": invocations.client})
    plan = run(api, "resize-destination", dry_run=True)
    assert {m.message_id: m.target for m in plan.planned} == {resend: f"{function}:$LATEST"}
    report = run(api, "resize-destination")
    assert invocations.calls == [
        {"function": f"{function}:$LATEST", "type": "Event", "payload": {"image": 9}}
    ]
    assert report.deleted == 1
    reasons = {f.message_id: f.reason for f in report.failed}
    assert set(reasons) == {dropped, stream}
    assert "requestPayload" in reasons[dropped] and "stream" in reasons[stream]
    assert {m["MessageId"] for m in aws.messages(url)} == {dropped, stream}


def test_eventbridge_target_queue_gets_the_event_without_the_dlq_attributes(aws: Aws) -> None:
    url, _ = aws.queue("rule-dlq")
    billing_url, billing = aws.queue("billing")
    body = shapes.event({"order": 42})
    aws.put(url, shapes.eventbridge(body, target=billing))
    report = run(dlqctl(), "rule-dlq")
    assert (report.deleted, report.target) == (1, billing)
    [arrived] = aws.messages(billing_url)
    assert json.loads(arrived["Body"]) == body
    assert set(arrived.get("MessageAttributes", {})) <= {"dlqctl-redrive-count"}
    assert not aws.messages(url)


def test_eventbridge_other_target_needs_fan_out_to_go_back_on_the_bus(aws: Aws) -> None:
    url, _ = aws.queue("rule-dlq")
    listener_url, listener = aws.queue("orders-listener")
    aws.events.create_event_bus(Name="orders-bus")
    aws.events.put_rule(
        Name="orders-to-listener",
        EventBusName="orders-bus",
        EventPattern=json.dumps({"source": ["shop.orders"]}),
    )
    aws.events.put_targets(
        Rule="orders-to-listener",
        EventBusName="orders-bus",
        Targets=[{"Id": "listener", "Arn": listener}],
    )
    [message_id] = aws.put(url, shapes.eventbridge(shapes.event({"order": 7}), target=MACHINE))
    refused = run(dlqctl(), "rule-dlq", dry_run=True)
    assert [(f.message_id, f.stage) for f in refused.failed] == [(message_id, "refused")]
    assert "--fan-out" in refused.failed[0].reason

    report = run(dlqctl(), "rule-dlq", fan_out=True)
    assert report.deleted == 1
    assert report.target == f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/orders-bus"
    [arrived] = aws.messages(listener_url)
    event = json.loads(arrived["Body"])
    assert (event["source"], event["detail-type"], event["detail"]) == (
        "shop.orders",
        "OrderPlaced",
        {"order": 7},
    )
    assert not aws.messages(url)


def test_scheduler_payload_goes_to_its_target_unless_truncated(aws: Aws) -> None:
    url, _ = aws.queue("schedule-dlq")
    jobs_url, jobs = aws.queue("jobs")
    whole, truncated = aws.put(
        url,
        shapes.scheduler({"job": "nightly"}, target=jobs),
        shapes.scheduler({"job": "nigh"}, target=jobs, truncated=True),
    )
    report = run(dlqctl(), "schedule-dlq")
    assert report.deleted == 1
    assert [f.message_id for f in report.failed] == [truncated]
    [arrived] = aws.messages(jobs_url)
    assert json.loads(arrived["Body"]) == {"job": "nightly"}
    assert [m["MessageId"] for m in aws.messages(url)] == [truncated]
    assert whole not in {f.message_id for f in report.failed}


def test_sns_subscription_is_published_again_only_with_fan_out(aws: Aws) -> None:
    url, _ = aws.queue("orders-subscription-dlq")
    subscriber_url, subscriber = aws.queue("orders-subscriber")
    topic = aws.sns.create_topic(Name="orders")["TopicArn"]
    aws.sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=subscriber)
    attributes = {"tenant": {"Type": "String", "Value": "acme"}}
    aws.put(url, shapes.sns_envelope(topic, "order 5", attributes=attributes))

    plan = run(dlqctl(), "orders-subscription-dlq", dry_run=True)
    assert "--fan-out" in plan.failed[0].reason
    assert aws.visible(url) == 1

    report = run(dlqctl(), "orders-subscription-dlq", fan_out=True)
    assert (report.deleted, report.target) == (1, topic)
    [arrived] = aws.messages(subscriber_url)
    envelope = json.loads(arrived["Body"])
    assert (envelope["Message"], envelope["Subject"]) == ("order 5", "order")
    assert envelope["MessageAttributes"]["tenant"]["Value"] == "acme"
    assert not aws.messages(url)


def test_iam_policy_grants_each_adapter_its_action(aws: Aws) -> None:
    aws.queue("resize-dlq")
    topic = aws.sns.create_topic(Name="orders")["TopicArn"]
    policy = invoke_json(
        "iam-policy",
        "--queue",
        "resize-dlq",
        "--target",
        shapes.FUNCTION,
        "--target",
        topic,
        "--target",
        f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/orders-bus",
    )
    granted = {s["Sid"]: (s["Action"], s["Resource"]) for s in policy["Statement"]}
    assert granted["InvokeTheFunctions"] == (
        ["lambda:InvokeFunction"],
        [shapes.FUNCTION, f"{shapes.FUNCTION}:*"],
    )
    assert granted["PublishToTheTopics"] == (["sns:Publish"], [topic])
    assert granted["PutOnTheBuses"] == (
        ["events:PutEvents"],
        [f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/orders-bus"],
    )
    assert "SendToTargets" not in granted


def test_queues_lists_the_dlqs_no_queue_redrives_to(aws: Aws) -> None:
    """Lambda, EventBridge and SNS name their DLQs in their own settings: `queues` also
    lists the pipeline's DLQ (with its configured kind) and queues named like a DLQ."""
    aws.queue("resize-images-dlq")
    aws.queue("work-failures")
    aws.queue("orders")
    listed = {q["name"]: q["kind"] for q in invoke_json("queues", "-o", "json")["queues"]}
    assert listed == {"resize-images-dlq": "unknown"}
    settings = Settings(dlq="work-failures", kind="lambda-async", concurrency=1)
    found = {q.name: q.kind for q in dlqctl(settings).queues()}
    assert found == {"resize-images-dlq": "unknown", "work-failures": "lambda-async"}


def test_a_missing_rule_target_refuses_only_its_messages(aws: Aws) -> None:
    """A target that no longer exists (or is in another account) is one message's
    problem: the others still go where they failed."""
    url, _ = aws.queue("rule-dlq")
    billing_url, billing = aws.queue("billing")
    gone = billing.replace("billing", "deleted-queue")
    elsewhere = billing.replace(ACCOUNT, "210987654321")
    sent, missing, foreign = aws.put(
        url,
        shapes.eventbridge(shapes.event({"order": 1}), target=billing),
        shapes.eventbridge(shapes.event({"order": 2}), target=gone),
        shapes.eventbridge(shapes.event({"order": 3}), target=elsewhere),
    )
    report = run(dlqctl(), "rule-dlq")
    assert report.deleted == 1
    reasons = {f.message_id: f.reason for f in report.failed}
    assert set(reasons) == {missing, foreign}
    assert "not found" in reasons[missing] and "another account" in reasons[foreign]
    assert [json.loads(m["Body"])["detail"] for m in aws.messages(billing_url)] == [{"order": 1}]
    assert {m["MessageId"] for m in aws.messages(url)} == {missing, foreign}
    assert sent not in reasons


def test_journal_names_each_refused_message_with_its_reason(aws: Aws, tmp_path: Any) -> None:
    url, _ = aws.queue("resize-destination")
    function = aws.function("resize-images")
    kept, dropped = aws.put(
        url,
        shapes.destination_record({"image": 1}, function=f"{function}:$LATEST"),
        shapes.destination_record(None, function=f"{function}:$LATEST"),
    )
    journal = tmp_path / "journal.jsonl"
    invocations = Invocations()
    api = dlqctl(**{"lambda": invocations.client})
    report = api.redrive(
        "resize-destination", build_filter(), RedriveOptions(select_all=True), journal=journal
    )
    assert report.deleted == 1
    records = [json.loads(line) for line in journal.read_text().splitlines()]
    stayed = [m for r in records if r["kind"] == "not_moved" for m in r["messages"]]
    assert [(m["message_id"], m["stage"]) for m in stayed] == [(dropped, "refused")]
    assert "requestPayload" in stayed[0]["reason"]
    sent = [s["message_id"] for r in records if r["kind"] == "batch" for s in r["sent"]]
    assert sent == [kept]
    assert [r["kind"] for r in records][-1] == "end"
