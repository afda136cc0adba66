"""Exit codes and error lines, through the real process boundary."""

from __future__ import annotations

import pytest

import dlqctl as package

from .conftest import (
    Runner,
    World,
    assert_one_error_line,
    cli_surface,
    closed_loopback_port,
)

pytestmark = pytest.mark.e2e


@cli_surface()
def test_version(dlqctl: Runner) -> None:
    result = dlqctl("--version", endpoint=None)
    assert result.code == 0, result.describe()
    assert result.stdout == f"dlqctl {package.__version__}\n"


@pytest.mark.parametrize("command", ["inspect", "peek"])
@cli_surface()
def test_bad_duration_is_a_usage_error(dlqctl: Runner, orders: World, command: str) -> None:
    line = assert_one_error_line(dlqctl(command, "orders-dlq", "--max-age", "5x"), 2)
    assert "'5x'" in line


@cli_surface()
def test_malformed_arn_is_a_usage_error(dlqctl: Runner, orders: World) -> None:
    line = assert_one_error_line(dlqctl("inspect", "arn:aws:sqs:us-east-1:12:orders-dlq"), 2)
    assert "malformed queue ARN" in line


@cli_surface()
def test_invalid_queue_name_is_a_usage_error(dlqctl: Runner, orders: World) -> None:
    assert_one_error_line(dlqctl("peek", "orders dlq!"), 2)


@cli_surface()
def test_bad_redact_path_is_a_usage_error(dlqctl: Runner, orders: World) -> None:
    line = assert_one_error_line(dlqctl("peek", "orders-dlq", "--redact", "a | b"), 2)
    assert "--redact" in line


@cli_surface()
def test_bad_query_is_one_usage_error_line(dlqctl: Runner, orders: World) -> None:
    line = assert_one_error_line(dlqctl("peek", "orders-dlq", "--query", "[["), 2)
    assert "--query" in line


@cli_surface()
def test_unknown_option_is_a_usage_error(dlqctl: Runner) -> None:
    result = dlqctl("peek", "orders-dlq", "--bogus")
    assert result.code == 2, result.describe()
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("command", ["inspect", "peek", "watch"])
def test_unknown_queue_is_not_found(dlqctl: Runner, orders: World, command: str) -> None:
    args = [command, "no-such-dlq"] + (["--count", "1"] if command == "watch" else [])
    line = assert_one_error_line(dlqctl(*args), 5)
    assert "no-such-dlq" in line


def test_unknown_queue_by_arn_is_not_found(dlqctl: Runner, orders: World) -> None:
    arn = orders.arn("orders-dlq").replace("orders-dlq", "gone-dlq")
    line = assert_one_error_line(dlqctl("inspect", arn, "-o", "json"), 5)
    assert "gone-dlq" in line


@cli_surface("it reaches no server")
def test_unreachable_endpoint_is_a_runtime_error(dlqctl: Runner) -> None:
    endpoint = f"http://127.0.0.1:{closed_loopback_port()}"
    result = dlqctl(
        "inspect",
        "orders-dlq",
        "--endpoint-url",
        endpoint,
        endpoint=None,
        env={"DLQCTL_MAX_ATTEMPTS": "1"},
    )
    line = assert_one_error_line(result, 1)
    assert "cannot reach" in line


@cli_surface("an unknown queue on both: test_unknown_queue_is_not_found")
def test_verbose_shows_the_traceback(dlqctl: Runner, orders: World) -> None:
    result = dlqctl("inspect", "no-such-dlq", "-v")
    assert result.code == 5
    assert "Traceback" in result.stderr
    assert result.stderr.splitlines()[-1].startswith("dlqctl: error: ")
