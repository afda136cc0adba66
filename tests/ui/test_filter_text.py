"""The filter bar reads the CLI's filter flags, with the CLI's errors for bad values."""

from __future__ import annotations

from pathlib import Path

import pytest

from dlqctl import build_filter
from dlqctl.errors import UsageError
from dlqctl.ui.filter_text import parse_filter_text


def test_flags_read_as_the_cli_reads_them() -> None:
    parsed = parse_filter_text(
        "--error-type Timeout --error-type=ValidationError --exclude-error-type Unknown "
        "--min-age 15m --max-age=2h --query 'total > `100`' --attribute tenant=acme"
    )
    assert parsed.message_filter == build_filter(
        error_types=["Timeout", "ValidationError"],
        exclude_error_types=["Unknown"],
        min_age="15m",
        max_age="2h",
        query="total > `100`",
        attributes=["tenant=acme"],
    )


def test_empty_text_is_every_message() -> None:
    assert parse_filter_text("  ").message_filter.is_empty


def test_narrowing_replaces_the_error_types_and_keeps_the_rest() -> None:
    parsed = parse_filter_text("--error-type Timeout --error-type Other --min-age 1h")
    narrowed = parsed.narrowed(error_types=["Timeout"], message_ids=["m-1"])
    assert narrowed == build_filter(error_types=["Timeout"], min_age="1h", message_ids=["m-1"])


def test_message_ids_from_a_file(tmp_path: Path) -> None:
    ids = tmp_path / "ids.txt"
    ids.write_text("m-1\nm-2\n", encoding="utf-8")
    parsed = parse_filter_text(f"--message-ids-from {ids}")
    assert parsed.message_filter.message_ids == {"m-1", "m-2"}


@pytest.mark.parametrize(
    ("text", "same_as"),
    [
        ("--min-age 5x", {"min_age": "5x"}),
        ("--query 'a ==='", {"query": "a ==="}),
        ("--attribute novalue", {"attributes": ["novalue"]}),
        ("--min-age 2h --max-age 1h", {"min_age": "2h", "max_age": "1h"}),
    ],
)
def test_a_bad_value_is_the_cli_error(text: str, same_as: dict[str, object]) -> None:
    with pytest.raises(UsageError) as expected:
        build_filter(**same_as)
    with pytest.raises(UsageError) as got:
        parse_filter_text(text)
    assert got.value.message == expected.value.message


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("--limit 5", "no such filter option: --limit"),
        ("Timeout", "no such filter option: Timeout"),
        ("--error-type", "option --error-type requires an argument"),
        ("--query 'open", "cannot read the filter: No closing quotation"),
    ],
)
def test_what_is_not_a_filter_says_why(text: str, says: str) -> None:
    with pytest.raises(UsageError, match=says):
        parse_filter_text(text)
