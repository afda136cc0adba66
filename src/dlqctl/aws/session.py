"""Clients built from settings, or injected: tests and scripts may hand in their own.

boto3 and botocore are imported where the first client or session is made, not here:
core modules import this one for their signatures, and `dlqctl --help` and TAB
completion, which load those modules, never make a client (tests/cli/test_startup.py).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from dlqctl import __version__
from dlqctl.errors import UsageError

if TYPE_CHECKING:
    import boto3

    from dlqctl.aws.cloudformation import CloudFormationGateway
    from dlqctl.aws.cloudwatch import CloudWatchGateway
    from dlqctl.aws.ledger import LedgerGateway
    from dlqctl.aws.sqs import SqsGateway
    from dlqctl.config import Settings


# Lambda's longest function timeout, and a little more for the answer to arrive.
LONGEST_WAIT_S = 905


class AwsSession:
    """Makes one client per (service, region), lazily, so moto can start first.

    `session` replaces the boto3 session dlqctl would build; `clients` maps a service
    name ("sqs", "dynamodb", "cloudwatch") to a ready client used for every region.
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        session: boto3.Session | None = None,
        clients: dict[str, Any] | None = None,
    ) -> None:
        if settings is None:
            from dlqctl.config import Settings

            settings = Settings()
        self.settings = settings
        self._session = session
        self._clients: dict[tuple[str, str | None, bool], Any] = {}
        self._injected = dict(clients or {})

    @property
    def boto_session(self) -> boto3.Session:
        if self._session is None:
            import boto3

            from dlqctl.aws.errors import aws_call

            # boto3 reads AWS_DEFAULT_REGION and the profile; AWS_REGION is the newer
            # convention that the SDKs and the AWS CLI v2 also honour.
            region = self.settings.region or os.environ.get("AWS_REGION") or None
            with aws_call("sts", "the AWS profile"):
                if _is_loopback(self.settings.endpoint_url or _endpoint_from_environment()):
                    self._session = _local_session(self.settings.profile, region)
                else:
                    self._session = boto3.Session(
                        profile_name=self.settings.profile, region_name=region
                    )
        return self._session

    def client(self, service: str, region: str | None = None, *, waits: bool = False) -> Any:
        """`waits`: for calls that last as long as the work they wait on (a synchronous
        Lambda invoke, up to its 15-minute timeout), and that botocore must not repeat
        when the answer is lost, since the work may have been done."""
        if service in self._injected:
            return self._injected[service]
        key = (service, region, waits)
        if key not in self._clients:
            from botocore.config import Config

            from dlqctl.aws.errors import aws_call

            config = Config(
                retries={
                    "mode": self.settings.retry_mode,
                    "max_attempts": 1 if waits else self.settings.max_attempts,
                },
                user_agent_extra=f"dlqctl/{__version__}",
                connect_timeout=5,
                read_timeout=LONGEST_WAIT_S if waits else 60,
                # A lane count of receives and as many sends or deletes may be in the
                # air at once (--concurrency ≤ 32): a smaller pool would reconnect.
                max_pool_connections=64,
                # dlqctl builds every request itself: skipping botocore's client-side
                # validation saves 5-10 % of CPU per message (docs/performance.md).
                parameter_validation=False,
            )
            with aws_call(service, "the client configuration"):
                self._clients[key] = self.boto_session.client(
                    service,  # type: ignore[call-overload]
                    region_name=region or self.region,
                    endpoint_url=self.settings.endpoint_url,
                    config=config,
                )
        return self._clients[key]

    @property
    def region(self) -> str | None:
        if "sqs" in self._injected:
            return str(self._injected["sqs"].meta.region_name)
        return self.settings.region or self.boto_session.region_name

    def sqs(self, region: str | None = None) -> SqsGateway:
        from dlqctl.aws.sqs import SqsGateway

        return SqsGateway(self.client("sqs", region))

    def ledger(self, table: str, region: str | None = None) -> LedgerGateway:
        from dlqctl.aws.ledger import LedgerGateway

        client = self.client("dynamodb", region)
        if self._mixes_local_sqs_with_aws(client, region):
            raise UsageError(
                f"SQS points at a local endpoint but the ledger table {table} would be read from "
                "AWS: set AWS_ENDPOINT_URL (or AWS_ENDPOINT_URL_DYNAMODB) too, or --endpoint-url"
            )
        return LedgerGateway(client, table)

    def cloudformation(self, region: str | None = None) -> CloudFormationGateway:
        from dlqctl.aws.cloudformation import CloudFormationGateway

        return CloudFormationGateway(self.client("cloudformation", region))

    def cloudwatch(self, region: str | None = None) -> CloudWatchGateway | None:
        """CloudWatch, but only where it is the same backend as SQS.

        With only AWS_ENDPOINT_URL_SQS pointing at a local server, CloudWatch would go to
        AWS itself: an optional lookup must not send traffic somewhere the user did not
        point dlqctl at.
        """
        from dlqctl.aws.cloudwatch import CloudWatchGateway

        client = self.client("cloudwatch", region)
        if self._mixes_local_sqs_with_aws(client, region):
            return None
        return CloudWatchGateway(client)

    def _mixes_local_sqs_with_aws(self, client: Any, region: str | None) -> bool:
        sqs_local = not _is_aws_endpoint(self.client("sqs", region).meta.endpoint_url)
        return sqs_local and _is_aws_endpoint(client.meta.endpoint_url)


def _local_session(profile: str | None, region: str | None) -> boto3.Session:
    """A session for an emulator on this machine (the lab, moto, LocalStack). Without
    configured keys, botocore's credential chain would end at the EC2 instance metadata
    service (169.254.169.254: traffic off the machine and a wait of seconds), so that
    link is taken out; an emulator accepts any keys, so fixed ones stand in."""
    import boto3
    import botocore.session

    core = botocore.session.Session(profile=profile)
    core.get_component("credential_provider").remove("iam-role")
    session = boto3.Session(botocore_session=core, region_name=region)
    if session.get_credentials() is None:
        session = boto3.Session(
            aws_access_key_id="testing",
            aws_secret_access_key="testing",  # noqa: S106 - emulator keys
            region_name=region,
        )
    return session


def _endpoint_from_environment() -> str | None:
    """The endpoint boto3 itself gives every service from the environment (`eval
    "$(dlqctl lab env)"` sets it). Only one for all services counts: with just
    AWS_ENDPOINT_URL_SQS local, other services (CloudFormation, DynamoDB) would still go
    to AWS, which must not get stand-in keys."""
    if os.environ.get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "").lower() == "true":
        return None
    return os.environ.get("AWS_ENDPOINT_URL")


def _is_loopback(url: str | None) -> bool:
    host = urlparse(url).hostname if url else None
    return host in ("127.0.0.1", "localhost", "::1")


def _is_aws_endpoint(url: str) -> bool:
    host = urlparse(url).hostname or ""
    return host.endswith((".amazonaws.com", ".amazonaws.com.cn", ".api.aws"))
