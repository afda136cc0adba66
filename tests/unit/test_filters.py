import pytest
from hypothesis import given
from hypothesis import strategies as st

from dlqctl.core.filters import MessageFilter, build_filter
from dlqctl.core.jmes import Unevaluable
from dlqctl.errors import UsageError

from .helpers import received


def test_empty_filter_matches_everything() -> None:
    f = build_filter()
    assert f.is_empty
    assert f.matches_message(received("anything")) and f.matches_error_type("Unknown")


def test_error_types_include_and_exclude() -> None:
    f = build_filter(error_types=["Timeout", "Poison"], exclude_error_types=["Poison"])
    assert f.matches_error_type("Timeout")
    assert not f.matches_error_type("Poison")
    assert not f.matches_error_type("Unknown")
    assert build_filter(exclude_error_types=["Poison"]).matches_error_type("Unknown")


def test_age_window() -> None:
    f = build_filter(min_age="10m", max_age="2h")
    assert not f.matches_message(received(age_s=60))
    assert f.matches_message(received(age_s=3600))
    assert not f.matches_message(received(age_s=3 * 3600))


def test_min_age_above_max_age_is_refused() -> None:
    with pytest.raises(UsageError, match="--min-age is larger"):
        build_filter(min_age="2h", max_age="1h")


def test_a_body_the_query_cannot_compare_is_unevaluable_and_says_why() -> None:
    f = build_filter(query="order.total > `100`")
    with pytest.raises(Unevaluable) as raised:
        f.matches_message(received({"order": {"total": "150"}}))  # str > int
    assert raised.value.reason == "--query: '>' compares a string with a number"
    assert not f.matches_message(received({"order": None}))  # a missing field: null
    assert f.matches_message(received({"order": {"total": 150}}))


def test_query_keeps_truthy_results_on_json_bodies_only() -> None:
    f = build_filter(query="order.total > `100`")
    assert f.matches_message(received({"order": {"total": 150}}))
    assert not f.matches_message(received({"order": {"total": 50}}))
    assert not f.matches_message(received({"other": 1}))
    with pytest.raises(Unevaluable, match="the body is not JSON"):
        f.matches_message(received("order.total > 100, but not json"))


@pytest.mark.parametrize(
    ("value", "kept"),
    [
        (0, True),
        ("", False),
        ([], False),
        ({}, False),
        (None, False),
        (False, False),
        ("x", True),
        ([0], True),
    ],
)
def test_query_uses_jmespath_truthiness(value: object, kept: bool) -> None:
    assert build_filter(query="v").matches_message(received({"v": value})) is kept


def test_query_that_fails_on_a_body_names_the_function_and_the_types() -> None:
    f = build_filter(query="contains(v, 'x')")
    with pytest.raises(Unevaluable, match=r"contains\(\) was given a number, expects"):
        f.matches_message(received({"v": 5}))
    assert f.matches_message(received({"v": "xyz"}))


def test_other_conditions_decide_before_the_query_is_evaluated() -> None:
    f = build_filter(query="order.total > `100`", attributes=["tenant=acme"])
    assert not f.matches_message(received({"order": {"total": "150"}}))  # no tenant


def test_bad_jmespath_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match=r"invalid JMESPath in --query 'order\.\[': .*Incomplete"):
        build_filter(query="order.[")


def test_unknown_function_is_caught_before_scanning() -> None:
    with pytest.raises(UsageError, match=r"unknown function frobnicate\(\)"):
        build_filter(query="length(a) > `1` && frobnicate(b)")


def test_attribute_filter_reads_message_then_system_attributes() -> None:
    m = received(attributes={"tenant": "acme"}, system={"MessageGroupId": "g1"})
    assert build_filter(attributes=["tenant=acme"]).matches_message(m)
    assert build_filter(attributes=["MessageGroupId=g1"]).matches_message(m)
    assert not build_filter(attributes=["tenant=other"]).matches_message(m)
    assert not build_filter(attributes=["missing=x"]).matches_message(m)
    assert build_filter(attributes=["expr=a=b"]).attributes == {"expr": "a=b"}


@pytest.mark.parametrize("text", ["novalue", "=x", " =x"])
def test_attribute_without_name_or_equals_is_a_usage_error(text: str) -> None:
    with pytest.raises(UsageError, match="NAME=VALUE"):
        build_filter(attributes=[text])


@given(st.floats(0, 1e7), st.floats(0, 1e7), st.floats(0, 1e7))
def test_age_window_is_inclusive_and_exact(low: float, high: float, age: float) -> None:
    low, high = min(low, high), max(low, high)
    f = MessageFilter(min_age_s=low, max_age_s=high)
    message = received(age_s=0)
    message.age_s = age
    assert f.matches_message(message) is (low <= age <= high)
