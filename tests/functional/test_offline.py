"""A local endpoint with no credentials configured: nothing leaves 127.0.0.0/8, not even
botocore's probe of the EC2 instance metadata service (169.254.169.254)."""

import ipaddress
import socket
from pathlib import Path
from typing import Any

import pytest

from dlqctl.aws.session import AwsSession
from dlqctl.config import Settings

_connect = socket.socket.connect


@pytest.fixture
def outside(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[Any]:
    """Every connection attempted off the loopback network (refused here), with the
    environment of a machine that has no AWS credentials and nothing disabling IMDS."""
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_EC2_METADATA_DISABLED",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_SQS",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    attempts: list[Any] = []

    def guarded(sock: socket.socket, address: Any) -> Any:
        host = address[0] if isinstance(address, tuple) else None
        if host is not None and not ipaddress.ip_address(host).is_loopback:
            attempts.append(address)
            raise ConnectionRefusedError(f"test guard: {address} is off this machine")
        return _connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)
    return attempts


@pytest.mark.parametrize("how", ["flag", "AWS_ENDPOINT_URL"])
def test_a_local_endpoint_never_asks_the_metadata_service(
    outside: list[Any], monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    endpoint = "http://127.0.0.1:4566"
    if how == "flag":
        session = AwsSession(Settings(endpoint_url=endpoint, region="us-east-1"))
    else:
        monkeypatch.setenv(how, endpoint)
        session = AwsSession(Settings(region="us-east-1"))
    credentials = session.boto_session.get_credentials()
    assert credentials is not None and credentials.access_key == "testing"
    assert outside == []


@pytest.mark.parametrize(
    "variables",
    [
        {"AWS_ENDPOINT_URL_SQS": "http://127.0.0.1:4566"},  # other services still go to AWS
        {
            "AWS_ENDPOINT_URL": "http://127.0.0.1:4566",
            "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true",
        },
    ],
)
def test_stand_in_keys_only_when_every_service_is_local(
    outside: list[Any], monkeypatch: pytest.MonkeyPatch, variables: dict[str, str]
) -> None:
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    assert AwsSession(Settings(region="us-east-1")).boto_session.get_credentials() is None


def test_the_guard_sees_a_probe_when_nothing_prevents_it(outside: list[Any]) -> None:
    # The invariant above can fail: the same chain for AWS itself asks the metadata service.
    session = AwsSession(Settings(region="us-east-1"))
    assert session.boto_session.get_credentials() is None
    assert any(address[0] == "169.254.169.254" for address in outside)
