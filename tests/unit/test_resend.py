"""What the other targets receive, and how their answers are counted: the Lambda gateway
gives every entry its own outcome and its own lost answers; building an entry from any
message's data never raises (bad data is that message's refusal)."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from dlqctl.aws.targets import LambdaGateway
from dlqctl.core.kinds import Reading
from dlqctl.core.moving import Mover, Outgoing, RetryPolicy
from dlqctl.core.resend import entry_for
from dlqctl.core.targets import EVENTS_MAX, SNS_MAX, Target
from dlqctl.errors import AccessDeniedError, AwsError, TransientAwsError

FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:resize"


class _Status:
    def __init__(self, status_code: int) -> None:
        self.status_code = status_code


class FakeLambda:
    """Stands in for boto3's Lambda client: each invoke answers from `script`, in order.
    An answer may first report lost attempts to the registered retry handler, as botocore
    does when it retries a 5xx."""

    def __init__(self, script: list[Callable[[], dict[str, Any]] | tuple[int, dict[str, Any]]]):
        self.script = list(script)
        self.handlers: list[Callable[..., None]] = []
        self.calls: list[dict[str, Any]] = []
        outer = self

        class Events:
            def register(self, name: str, handler: Callable[..., None], unique_id: str) -> None:
                outer.handlers.append(handler)

        class ServiceId:
            def hyphenize(self) -> str:
                return "lambda"

        class Model:
            service_id = ServiceId()

        class Meta:
            events = Events()
            service_model = Model()

        self.meta = Meta()

    def invoke(self, **params: Any) -> dict[str, Any]:
        self.calls.append(params)
        step = self.script.pop(0)
        if callable(step):
            return step()
        lost, answer = step
        for _ in range(lost):
            for handler in self.handlers:
                handler(response=(_Status(503), {}))
        return answer


def accepted(request_id: str) -> tuple[int, dict[str, Any]]:
    return 0, {"StatusCode": 202, "ResponseMetadata": {"RequestId": request_id}}


def raises(error: Exception) -> Callable[[], dict[str, Any]]:
    def answer() -> dict[str, Any]:
        raise error

    return answer


def entries(n: int, invocation: str = "Event") -> list[dict[str, Any]]:
    return [
        {"Id": f"e{i}", "Payload": json.dumps({"n": i}), "InvocationType": invocation}
        for i in range(n)
    ]


def test_a_lost_answer_counts_only_for_its_own_entry() -> None:
    client = FakeLambda([accepted("r0"), (1, accepted("r1")[1]), accepted("r2")])
    result = LambdaGateway(client).send_batch(FUNCTION, entries(3))
    assert result.succeeded == {"e0": "r0", "e1": "r1", "e2": "r2"}
    assert result.lost_by_entry == {"e0": 0, "e1": 1, "e2": 0}


def test_a_later_failure_keeps_the_successes_and_what_may_have_run() -> None:
    lost = TransientAwsError("lost the answer", ambiguous=True)
    client = FakeLambda(
        [accepted("r0"), raises(lost), raises(ValueError("broken stream")), accepted("r3")]
    )
    result = LambdaGateway(client).send_batch(FUNCTION, entries(4))
    assert result.succeeded == {"e0": "r0", "e3": "r3"}
    assert {f.entry_id: f.sender_fault for f in result.failed} == {"e1": False, "e2": True}
    assert result.lost_by_entry is not None and result.lost_by_entry["e1"] == 1


def test_access_denied_before_anything_ran_is_the_runs_error() -> None:
    client = FakeLambda([raises(AccessDeniedError("denied"))])
    try:
        LambdaGateway(client).send_batch(FUNCTION, entries(2))
    except AccessDeniedError:
        pass
    else:
        raise AssertionError("access denied on the first invoke must stop the run")
    assert len(client.calls) == 1


def test_a_refused_payload_fails_only_its_entry() -> None:
    refused = AwsError("lambda:Invoke failed: InvalidRequestContentException")
    client = FakeLambda([raises(refused), accepted("r1")])
    result = LambdaGateway(client).send_batch(FUNCTION, entries(2))
    assert result.succeeded == {"e1": "r1"}
    assert [(f.entry_id, f.sender_fault) for f in result.failed] == [("e0", True)]


def test_a_sync_invoke_whose_answer_was_lost_is_not_retried_and_may_be_a_duplicate() -> None:
    """The function may have run: the mover must not run it again, and must count it."""
    lost = TransientAwsError("lost the answer", ambiguous=True)
    failure = {"errorType": "ValueError", "errorMessage": "bad size"}
    client = FakeLambda(
        [
            raises(lost),
            (
                0,
                {
                    "StatusCode": 200,
                    "FunctionError": "Unhandled",
                    "Payload": io.BytesIO(json.dumps(failure).encode()),
                },
            ),
            (
                0,
                {
                    "StatusCode": 200,
                    "Payload": io.BytesIO(b"null"),
                    "ResponseMetadata": {"RequestId": "r2"},
                },
            ),
        ]
    )
    mover = Mover(None, fifo=False, retry=RetryPolicy(sleep=lambda s: None))
    batch = [Outgoing(e["Id"], f"m{i}", "", e) for i, e in enumerate(entries(3, "RequestResponse"))]
    outcome = mover.send(LambdaGateway(client), FUNCTION, batch)
    assert len(client.calls) == 3  # nothing was invoked twice
    assert outcome.sent == {"e2": "r2"}
    stages = {f.message_id: f.stage for f in outcome.failed}
    assert stages == {"m0": "send", "m1": "failed-again"}
    assert outcome.possible_duplicates == 1


def _target(service: str, key: str) -> Target:
    limit = {"sns": SNS_MAX, "events": EVENTS_MAX}.get(service, 1_048_576)
    return Target(key, key.rsplit(":", 1)[-1], service, None, key, limit, limit)  # type: ignore[arg-type]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=10,
)
envelope_like = st.fixed_dictionaries(
    {},
    optional={
        "Message": json_values,
        "Subject": json_values,
        "MessageAttributes": st.dictionaries(
            st.text(max_size=5),
            st.fixed_dictionaries(
                {"Type": st.sampled_from(["String", "Binary", "Number"])},
                optional={"Value": st.text(max_size=10)},
            )
            | json_values,
            max_size=3,
        )
        | json_values,
    },
)
event_like = st.fixed_dictionaries(
    {"source": st.text(max_size=10), "detail-type": json_values, "detail": json_values},
    optional={"resources": json_values, "time": st.text(max_size=25)},
)


@given(
    body=st.one_of(envelope_like, event_like, json_values).map(json.dumps) | st.text(max_size=40),
    service=st.sampled_from(["sns", "events", "lambda", "sqs"]),
    kind=st.sampled_from(["sns-subscription", "eventbridge-rule", "lambda-destination"]),
    as_is=st.booleans(),
)
def test_building_an_entry_from_any_message_never_raises(
    body: str, service: str, kind: str, as_is: bool
) -> None:
    raw = {"MessageId": "m", "Body": body, "Attributes": {}, "MessageAttributes": {}}
    key = {
        "sns": "arn:aws:sns:us-east-1:123456789012:orders.fifo",
        "events": "arn:aws:events:us-east-1:123456789012:event-bus/orders",
        "lambda": FUNCTION,
        "sqs": "arn:aws:sqs:us-east-1:123456789012:orders",
    }[service]
    built = entry_for(
        _target(service, key),
        raw,
        Reading(kind),  # type: ignore[arg-type]
        as_is=as_is,
        fifo=False,
        deduplication_id="d",
        delay_s=0,
        invoke="async",
    )
    assert isinstance(built, str) or built.size >= 0
