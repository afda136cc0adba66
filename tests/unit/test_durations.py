import pytest
from hypothesis import given
from hypothesis import strategies as st

from dlqctl.core.durations import format_duration, parse_duration
from dlqctl.errors import ExitCode, UsageError


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90s", 90),
        ("15m", 900),
        ("2h", 7200),
        ("3d", 259_200),
        ("1w", 604_800),
        ("1h30m", 5400),
        ("1.5h", 5400),
        (" 2H ", 7200),
    ],
)
def test_parses_units_and_compounds(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "5", "5x", "m5", "-5m", "1h 30m", "1y", "abc"])
def test_rejects_missing_or_unknown_units_with_a_usage_error(text: str) -> None:
    with pytest.raises(UsageError, match="invalid duration") as caught:
        parse_duration(text)
    assert caught.value.exit_code == ExitCode.USAGE


@given(
    st.lists(st.tuples(st.integers(0, 10_000), st.sampled_from("smhdw")), min_size=1, max_size=4)
)
def test_compound_durations_add_up(parts: list[tuple[int, str]]) -> None:
    unit = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
    text = "".join(f"{n}{u}" for n, u in parts)
    assert parse_duration(text) == sum(n * unit[u] for n, u in parts)


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (None, "-"),
        (0, "0s"),
        (59.9, "59s"),
        (60, "1m"),
        (3600, "1h"),
        (3660, "1h 1m"),
        (86_400, "1d"),
        (90_000, "1d 1h"),
        (-5, "0s"),
    ],
)
def test_formats_ages_compactly(seconds: float | None, shown: str) -> None:
    assert format_duration(seconds) == shown
