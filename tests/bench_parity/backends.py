"""The same script against both backends: moto in-process, and bench/'s simulator.

One after the other, never nested: inside mock_aws() moto's before-send handler would see
(and act on) the simulator's requests too.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

import boto3
from bench.sim import SimTransport, SqsService
from botocore.exceptions import ClientError
from moto import mock_aws

from ..conftest import REGION

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# Values that differ between any two runs, not between the backends: compared by form.
_VOLATILE = {
    "MessageId": lambda v: bool(_UUID.fullmatch(v)),
    "ReceiptHandle": lambda v: isinstance(v, str) and len(v) > 20,
    "SentTimestamp": str.isdigit,
    "ApproximateFirstReceiveTimestamp": str.isdigit,
    "SenderId": lambda v: bool(re.fullmatch(r"[A-Z0-9]{10,}", v)),
    # moto draws 20 random digits, SQS (and the simulator) count up: compared by form.
    "SequenceNumber": lambda v: bool(re.fullmatch(r"\d{20}", v)),
    # moto writes seconds with a fraction, SQS whole seconds; dlqctl reads neither.
    "CreatedTimestamp": lambda v: bool(re.fullmatch(r"\d+(\.\d+)?", v)),
    "LastModifiedTimestamp": lambda v: bool(re.fullmatch(r"\d+(\.\d+)?", v)),
    # A failed batch entry's wording: dlqctl shows it but decides by Code and SenderFault.
    "Message": lambda v: bool(v),
}


def normalise(value: Any) -> Any:
    """A response with its per-run values replaced by their kind, after checking their
    form; ResponseMetadata dropped."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key == "ResponseMetadata":
                continue
            if key in _VOLATILE and isinstance(item, str):
                assert _VOLATILE[key](item), f"{key}={item!r} is not in SQS's form"
                out[key] = f"<{key}>"
            else:
                out[key] = normalise(item)
        return out
    if isinstance(value, list):
        return [normalise(item) for item in value]
    return value


def outcome(call: Callable[[], Any]) -> Any:
    """The normalised answer, or the error as botocore reports it (codes, not wording)."""
    try:
        return normalise(call())
    except ClientError as exc:
        error = exc.response["Error"]
        return {
            "error": error.get("Code"),
            "query_error": error.get("QueryErrorCode"),
            "type": error.get("Type"),
            "status": exc.response["ResponseMetadata"]["HTTPStatusCode"],
        }


Script = Callable[[Any], Any]


def on_moto(script: Script) -> Any:
    with mock_aws():
        return script(boto3.client("sqs", region_name=REGION))


@functools.cache
def _shared_transport() -> tuple[SimTransport, Any]:
    transport = SimTransport(latency_s=0)
    return transport, transport.client()


def sim_client(service: SqsService | None = None) -> Any:
    """A simulator client on `service` (default: a new one). One client serves every
    test, one at a time: building a boto3 client costs about 0.2 s, the service nothing."""
    transport, client = _shared_transport()
    transport.service = service or SqsService()
    return client


def on_sim(script: Script) -> Any:
    return script(sim_client())


def assert_same(script: Script) -> Any:
    """Run `script` on both; its transcripts must be equal. Returns the simulator's."""
    moto, sim = on_moto(script), on_sim(script)
    if sim != moto:  # say which step differs: this module is not assertion-rewritten
        steps = zip(sim, moto, strict=True) if isinstance(sim, list) else [(sim, moto)]
        for number, (ours, theirs) in enumerate(steps):
            assert ours == theirs, f"step {number}:\n sim:  {ours!r}\n moto: {theirs!r}"
    return sim
