"""End-to-end tier: the installed `dlqctl` console script against two real SQS servers.

Each test runs once per backend (the `backend` fixture, marked `moto` and `localstack`,
so `-m localstack` runs one): moto's server, in a thread of the test process, reset
before each test; and LocalStack's SQS, a child process (tests/e2e/localstack.py), where
each test gets an account of its own (LocalStack takes a 12-digit access key id as the
account id; its community edition has no state-reset endpoint) whose queues are deleted
afterwards. A test that needs what one backend lacks is marked `only_on(NAME, reason=…)`
and skipped on the other with that reason (docs/testing.md lists them).

Everything here talks to 127.0.0.1 only. Both servers listen on ports the OS picked.
The subprocess gets a scrubbed environment: fake credentials, a temporary HOME and cwd
(no user config file can leak in), no instance metadata, and an HTTP(S) proxy that is a
trap on 127.0.0.1: a request that escaped the test endpoint fails there instead of
leaving the machine, and the run that sent it fails its test.

The `world` fixture seeds queues and, after the test, checks the invariant dlqctl must
keep: every seeded message is still there, unchanged, and visible (nothing held).
"""

from __future__ import annotations

import atexit
import itertools
import json
import logging
import os
import socket
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from . import localstack

HOST = "127.0.0.1"
REGION = "us-east-1"
DLQCTL = Path(sys.executable).parent / "dlqctl"
RUN_TIMEOUT_S = 60

# How a test tells dlqctl where the endpoint is.
ENDPOINT_FLAG = "flag"  # --endpoint-url
ENDPOINT_DLQCTL_ENV = "DLQCTL_ENDPOINT_URL"
ENDPOINT_AWS_ENV = "AWS_ENDPOINT_URL"  # boto3's own, every service
ENDPOINT_AWS_SQS_ENV = "AWS_ENDPOINT_URL_SQS"  # boto3's own, SQS only

# The standard seed of "orders-dlq": (body, ErrorType attribute or None).
BIG_BODY_BYTES = 1_000_000
# DEL and a C1 control: SQS accepts them in a body (it refuses C0 controls such as
# \x01, which moto lets through), and dlqctl shows them as base64.
CONTROL_BODY = "\x7f\x9f"
TEXT_BODY = "upstream said: 502 Bad Gateway"


def _order(n: int, email: str) -> str:
    return json.dumps(
        {"order_id": f"o-{n}", "customer": {"email": email, "tier": "gold"}, "total": 10 * n}
    )


ORDERS_DLQ_SEED: list[tuple[str, str | None]] = [
    (_order(1, "ann@example.com"), "ValidationError"),
    (_order(2, "bob@example.com"), "ValidationError"),
    (_order(3, "cy@example.com"), "ValidationError"),
    (_order(4, "di@example.com"), "Timeout"),
    (_order(5, "ed@example.com"), "Timeout"),
    (_order(6, "fay@example.com"), None),
    (TEXT_BODY, None),
    (CONTROL_BODY, None),
    ("x" * BIG_BODY_BYTES, "PayloadTooLarge"),
]
ORDERS_DLQ_COUNTS = {"ValidationError": 3, "Unknown": 3, "Timeout": 2, "PayloadTooLarge": 1}
FIFO_SEED_GROUPS = ["g0", "g1", "g0", "g1", "g0"]

MOTO = "moto"
LOCALSTACK = "localstack"
BACKENDS = (MOTO, LOCALSTACK)
MOTO_ACCESS_KEY = "testing"  # moto answers every key as account 123456789012
# A test of dlqctl's own surface — parsing, input refused before any AWS call, the
# rendering of what the server returned — has nothing a second SQS could answer
# differently, so it runs on moto's server only. Where it also reads queues, the SQS
# behaviour it relies on is pinned on both backends by the test its `why` names.
CLI_SURFACE = "dlqctl's own surface: a second SQS answers nothing differently"


def cli_surface(why: str = "") -> pytest.MarkDecorator:
    """Mark a test of dlqctl's own surface: moto only (docs/testing.md lists them)."""
    return pytest.mark.only_on(MOTO, reason=f"{CLI_SURFACE}{f' ({why})' if why else ''}")


_localstack_accounts = itertools.count(100_000_000_001)  # one fresh account per test


# -- the server -------------------------------------------------------------------------


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """moto's server on 127.0.0.1 on a port the OS picks; stopped after the session."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log per request
    server = ThreadedMotoServer(ip_address=HOST, port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    assert host == HOST
    try:
        yield f"http://{HOST}:{port}"
    finally:
        server.stop()


@pytest.fixture(scope="session")
def localstack_endpoint(proxy_trap: ProxyTrap) -> Iterator[str]:
    """LocalStack's SQS on 127.0.0.1, started on first use; stopped by its process group
    after the session (also on Ctrl-C, and by the kernel if this process is killed)."""
    reason = localstack.missing()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(reason)  # CI builds it (make test): missing there is a failure
        pytest.skip(reason)
    for attempt in range(3):  # the port the OS handed out may be taken before LocalStack binds it
        server = localstack.LocalStack(HOST, closed_loopback_port(), proxy_trap.url)
        atexit.register(server.stop)
        try:
            server.start()
            break
        except localstack.LocalStackError:
            atexit.unregister(server.stop)
            if attempt == 2:
                raise
    hits = proxy_trap.hits
    try:
        yield server.url
    finally:
        server.stop()
        atexit.unregister(server.stop)
        assert not server.group_alive(), "LocalStack still running after stop()"
    # Between dlqctl runs too (each run checks its own): nothing went past 127.0.0.1.
    assert proxy_trap.hits == hits, f"{proxy_trap.hits - hits} connections reached the trap"


@dataclass
class Backend:
    """The SQS server one test runs against, and the access key that names its account."""

    name: str
    url: str
    access_key: str

    @cached_property
    def client(self) -> Any:
        return boto3.client(
            "sqs",
            endpoint_url=self.url,
            region_name=REGION,
            aws_access_key_id=self.access_key,
            aws_secret_access_key="testing",
        )


@pytest.fixture(params=[pytest.param(name, marks=getattr(pytest.mark, name)) for name in BACKENDS])
def backend(request: pytest.FixtureRequest) -> Backend:
    if request.param == MOTO:
        return Backend(MOTO, request.getfixturevalue("moto_endpoint"), MOTO_ACCESS_KEY)
    account = str(next(_localstack_accounts))
    return Backend(LOCALSTACK, request.getfixturevalue("localstack_endpoint"), account)


@pytest.fixture(autouse=True)
def _moto_reset(backend: Backend) -> Iterator[None]:
    """Every test starts from an empty server: moto's is reset, and on LocalStack the test
    has an account of its own, whose queues go afterwards (only memory is at stake; a
    running move task ends when its queue is gone). test_bad_input_sweep.py replaces this
    fixture by its name."""
    if backend.name == MOTO:
        request = urllib.request.Request(f"{backend.url}/moto-api/reset", method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200
    yield
    if backend.name == LOCALSTACK:
        for url in backend.client.list_queues().get("QueueUrls", []):
            backend.client.delete_queue(QueueUrl=url)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """`only_on(NAME, reason=…)`: skipped on the other backend, with the reason. Tests
    that talk to moto's server without the `backend` fixture are moto's (`-m moto`)."""
    here = Path(__file__).parent
    for item in items:
        if here not in item.path.parents:
            continue
        callspec = getattr(item, "callspec", None)
        name = callspec.params.get("backend") if callspec is not None else None
        if name is None:
            if "moto_endpoint" in getattr(item, "fixturenames", ()):
                item.add_marker(pytest.mark.moto)
            continue
        only = item.get_closest_marker("only_on")
        if only is not None and only.args[0] != name:
            item.add_marker(
                pytest.mark.skip(reason=f"{only.args[0]} only: {only.kwargs['reason']}")
            )


@pytest.fixture
def sqs(backend: Backend) -> Any:
    return backend.client


# -- seeding and the invariant --------------------------------------------------------


@dataclass
class World:
    """Queues seeded for one test, and every message they must still hold afterwards."""

    sqs: Any
    urls: dict[str, str] = field(default_factory=dict)
    expected: dict[str, dict[str, str]] = field(default_factory=dict)  # queue -> id -> body

    def create(self, name: str, *, dlq: str | None = None, max_receive: int = 3) -> str:
        attributes: dict[str, str] = {}
        if name.endswith(".fifo"):
            attributes["FifoQueue"] = "true"
        if dlq is not None:
            policy = {"deadLetterTargetArn": self.arn(dlq), "maxReceiveCount": str(max_receive)}
            attributes["RedrivePolicy"] = json.dumps(policy)
        url = self.sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        self.urls[name] = url
        self.expected.setdefault(name, {})
        return url

    def arn(self, name: str) -> str:
        response = self.sqs.get_queue_attributes(
            QueueUrl=self.urls[name], AttributeNames=["QueueArn"]
        )
        return str(response["Attributes"]["QueueArn"])

    def send(
        self, name: str, body: str, *, error_type: str | None = None, group: str | None = None
    ) -> str:
        kwargs: dict[str, Any] = {"QueueUrl": self.urls[name], "MessageBody": body}
        if error_type is not None:
            kwargs["MessageAttributes"] = {
                "ErrorType": {"DataType": "String", "StringValue": error_type}
            }
        if group is not None:
            kwargs["MessageGroupId"] = group
            kwargs["MessageDeduplicationId"] = f"dedup-{len(self.expected[name])}"
        message_id = str(self.sqs.send_message(**kwargs)["MessageId"])
        self.expected[name][message_id] = body
        return message_id

    def send_many(self, name: str, bodies: list[str]) -> list[str]:
        ids: list[str] = []
        for start in range(0, len(bodies), 10):
            chunk = bodies[start : start + 10]
            entries = [{"Id": str(i), "MessageBody": body} for i, body in enumerate(chunk)]
            response = self.sqs.send_message_batch(QueueUrl=self.urls[name], Entries=entries)
            assert not response.get("Failed"), response.get("Failed")
            for sent in sorted(response["Successful"], key=lambda s: int(s["Id"])):
                ids.append(sent["MessageId"])
                self.expected[name][sent["MessageId"]] = chunk[int(sent["Id"])]
        return ids

    def moved(self, source: str, dlq: str, message_id: str) -> None:
        """SQS's redrive policy moved a message from `source` to `dlq`."""
        self.expected[dlq][message_id] = self.expected[source].pop(message_id)

    def counts(self, name: str) -> tuple[int, int]:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.urls[name],
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return (
            int(attributes["ApproximateNumberOfMessages"]),
            int(attributes["ApproximateNumberOfMessagesNotVisible"]),
        )

    def drain(self, name: str, expect: int) -> dict[str, str]:
        """Message id -> body, each received (and held) once; only for the final check.

        Stops once `expect` distinct messages were seen (the depth check already ruled
        out extra ones) or a receive comes back empty.
        """
        seen: dict[str, str] = {}
        while len(seen) < expect:
            batch = self.sqs.receive_message(
                QueueUrl=self.urls[name],
                MaxNumberOfMessages=10,
                VisibilityTimeout=300,
                WaitTimeSeconds=0,
            ).get("Messages", [])
            if not batch:
                break
            seen.update({m["MessageId"]: m["Body"] for m in batch})
        return seen

    def assert_intact(self) -> None:
        """Every seeded message is still in its queue, unchanged, and visible again."""
        for name, messages in self.expected.items():
            visible, in_flight = self.counts(name)
            assert in_flight == 0, f"{name}: {in_flight} messages still held after dlqctl ran"
            assert visible == len(messages), f"{name}: {visible} visible, seeded {len(messages)}"
        for name, messages in self.expected.items():
            held = self.drain(name, len(messages))
            assert held.keys() == messages.keys(), f"{name}: message ids changed"
            changed = [mid for mid, body in messages.items() if held[mid] != body]
            assert not changed, f"{name}: bodies changed for {changed}"


@pytest.fixture
def world(sqs: Any) -> Iterator[World]:
    """Seed through this; after the test every seeded message must be intact and visible."""
    seeded = World(sqs)
    yield seeded
    seeded.assert_intact()


@pytest.fixture
def orders(world: World) -> World:
    """The standard layout: orders → orders-dlq (9 messages), payments → payments-dlq
    (empty), x.fifo → x-dlq.fifo (5 messages in 2 groups) and audit (not a DLQ)."""
    world.create("orders-dlq")
    world.create("orders", dlq="orders-dlq", max_receive=3)
    for body, error_type in ORDERS_DLQ_SEED:
        world.send("orders-dlq", body, error_type=error_type)
    world.create("payments-dlq")
    world.create("payments", dlq="payments-dlq", max_receive=5)
    world.create("x-dlq.fifo")
    world.create("x.fifo", dlq="x-dlq.fifo", max_receive=3)
    for i, group in enumerate(FIFO_SEED_GROUPS):
        world.send("x-dlq.fifo", json.dumps({"seq": i}), group=group)
    world.create("audit")
    return world


# -- running the CLI --------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    args: list[str]
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        assert self.code == 0, self.describe()
        return json.loads(self.stdout)

    def ndjson(self) -> list[Any]:
        assert self.code == 0, self.describe()
        return [json.loads(line) for line in self.stdout.splitlines()]

    def describe(self) -> str:
        return f"dlqctl {' '.join(self.args)} -> {self.code}\nstdout: {self.stdout[:2000]}\nstderr: {self.stderr}"


def closed_loopback_port() -> int:
    """A loopback port nothing listens on (the OS just handed it out and it was closed)."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


class ProxyTrap:
    """A listener on 127.0.0.1 set as dlqctl's HTTP(S) proxy: it counts and drops every
    connection, so a request aimed anywhere but the test endpoint (e.g. real AWS) never
    leaves the machine, and the test can tell it happened."""

    def __init__(self) -> None:
        self._socket = socket.create_server((HOST, 0))
        self.url = f"http://{HOST}:{self._socket.getsockname()[1]}"
        self.hits = 0
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self._socket.accept()
            except OSError:
                return  # closed
            self.hits += 1
            connection.close()

    def close(self) -> None:
        self._socket.close()


@pytest.fixture(scope="session")
def proxy_trap() -> Iterator[ProxyTrap]:
    trap = ProxyTrap()
    try:
        yield trap
    finally:
        trap.close()


def base_env(home: Path, proxy: str, access_key: str = MOTO_ACCESS_KEY) -> dict[str, str]:
    """A clean environment: nothing of the caller's AWS setup or config leaks in."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "AWS_ACCESS_KEY_ID": access_key,
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_EC2_METADATA_DISABLED": "true",
        # moto's backends are not thread-safe: parallel lanes can hand one message to two
        # receives, and the tests are written for rounds of one receive. Lanes are proven
        # on the simulated transport (tests/bench_parity) and, where a test sets this
        # itself, on LocalStack.
        "DLQCTL_CONCURRENCY": "1",
        # Anything not aimed at 127.0.0.1 goes to the trap instead of the network.
        "HTTP_PROXY": proxy,
        "HTTPS_PROXY": proxy,
        "NO_PROXY": f"{HOST},localhost",
    }


class Runner:
    def __init__(
        self, endpoint: str, tmp: Path, trap: ProxyTrap, access_key: str = MOTO_ACCESS_KEY
    ) -> None:
        self.endpoint = endpoint
        self.access_key = access_key
        self.trap = trap
        self.home = tmp / "home"
        self.cwd = tmp / "cwd"
        self.home.mkdir()
        self.cwd.mkdir()

    def __call__(
        self,
        *args: str,
        endpoint: str | None = ENDPOINT_FLAG,
        env: dict[str, str] | None = None,
    ) -> Result:
        argv = list(args)
        run_env = base_env(self.home, self.trap.url, self.access_key)
        if endpoint == ENDPOINT_FLAG:
            argv += ["--endpoint-url", self.endpoint]
        elif endpoint is not None:
            run_env[endpoint] = self.endpoint
        run_env.update(env or {})
        hits = self.trap.hits
        done = subprocess.run(
            [str(DLQCTL), *argv],
            cwd=self.cwd,
            env=run_env,
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT_S,
            check=False,
        )
        result = Result(argv, done.returncode, done.stdout, done.stderr)
        escaped = self.trap.hits - hits
        assert escaped == 0, (
            f"{escaped} connections went past the test endpoint\n{result.describe()}"
        )
        return result


@pytest.fixture
def dlqctl(backend: Backend, tmp_path: Path, proxy_trap: ProxyTrap) -> Runner:
    assert DLQCTL.is_file(), f"{DLQCTL} missing: pip install -e '.[dev]' in this venv"
    return Runner(backend.url, tmp_path, proxy_trap, backend.access_key)


def assert_one_error_line(result: Result, code: int) -> str:
    """A failed run: the exit code, nothing on stdout, one `dlqctl: error:` line on stderr."""
    assert result.code == code, result.describe()
    assert result.stdout == "", result.describe()
    assert "Traceback" not in result.stderr, result.describe()
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.describe()
    assert lines[0].startswith("dlqctl: error: "), result.describe()
    return lines[0]


# -- long-running processes (signals) and reading queues back ---------------------------


class Started:
    """A `dlqctl` process still running: signal it, then `finish()` for its Result."""

    def __init__(self, runner: Runner, argv: list[str], run_env: dict[str, str]) -> None:
        self.argv = argv
        self.trap = runner.trap
        self.hits = runner.trap.hits
        self.proc = subprocess.Popen(
            [str(DLQCTL), *argv],
            cwd=runner.cwd,
            env=run_env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def finish(self, timeout: float = RUN_TIMEOUT_S) -> Result:
        """Wait for the exit (killing the process if it overruns) and collect its output."""
        try:
            stdout, stderr = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            stdout, stderr = self.proc.communicate()
            pytest.fail(f"dlqctl {' '.join(self.argv)} still running after {timeout}s: {stderr}")
        result = Result(self.argv, self.proc.returncode, stdout, stderr)
        escaped = self.trap.hits - self.hits
        assert escaped == 0, (
            f"{escaped} connections went past the test endpoint\n{result.describe()}"
        )
        return result


def start_dlqctl(runner: Runner, *args: str, env: dict[str, str] | None = None) -> Started:
    """Like `runner(*args)` with --endpoint-url, but returns at once; stdin is /dev/null."""
    run_env = base_env(runner.home, runner.trap.url, runner.access_key)
    run_env.update(env or {})
    return Started(runner, [*args, "--endpoint-url", runner.endpoint], run_env)


def run_without_terminal(runner: Runner, *args: str) -> Result:
    """`runner(*args)` with stdin on /dev/null: dlqctl sees no terminal to prompt on."""
    return start_dlqctl(runner, *args).finish()


def receive_all(sqs: Any, url: str, *, hold_s: int = 60) -> list[dict[str, Any]]:
    """Every message in the queue (with attributes), each once, in receive order.

    Holds them while reading (so the next receive returns new ones); `release` them to
    hand the queue back as it was.
    """
    seen: dict[str, dict[str, Any]] = {}
    empty = 0
    while empty < 2:
        batch = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=10,
            VisibilityTimeout=hold_s,
            WaitTimeSeconds=0,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        empty = 0 if batch else empty + 1
        for message in batch:
            seen.setdefault(message["MessageId"], message)
    return list(seen.values())


def release(sqs: Any, url: str, messages: list[dict[str, Any]]) -> None:
    """Make messages read by `receive_all` visible again at once."""
    for start in range(0, len(messages), 10):
        chunk = messages[start : start + 10]
        response = sqs.change_message_visibility_batch(
            QueueUrl=url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
                for i, m in enumerate(chunk)
            ],
        )
        assert not response.get("Failed"), response.get("Failed")
