import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dlqctl.core.redact import MASK, Redactor
from dlqctl.errors import UsageError

DOC = {
    "customer": {"email": "a@b.c", "name": "Ann"},
    "items": [{"pan": "4111", "sku": "x"}, {"pan": "5500", "sku": "y"}],
    "tokens": {"a": {"secret": "s1"}, "b": {"secret": "s2"}},
}


@pytest.mark.parametrize(
    ("path", "check"),
    [
        ("customer.email", lambda d: d["customer"] == {"email": MASK, "name": "Ann"}),
        (
            "items[*].pan",
            lambda d: (
                [i["pan"] for i in d["items"]] == [MASK, MASK] and d["items"][0]["sku"] == "x"
            ),
        ),
        ("items[0].pan", lambda d: [i["pan"] for i in d["items"]] == [MASK, "5500"]),
        ("items[-1]", lambda d: d["items"][1] == MASK),
        ("items[].pan", lambda d: [i["pan"] for i in d["items"]] == [MASK, MASK]),
        (
            "tokens.*.secret",
            lambda d: d["tokens"] == {"a": {"secret": MASK}, "b": {"secret": MASK}},
        ),
        ("customer", lambda d: d["customer"] == MASK),
        ("missing.field", lambda d: d == DOC),
        ("items[7].pan", lambda d: d == DOC),
    ],
)
def test_paths_mask_exactly_their_fields(path: str, check: object) -> None:
    masked = Redactor([path]).apply(DOC)
    assert check(masked)  # type: ignore[operator]


def test_original_document_is_not_changed() -> None:
    before = json.dumps(DOC, sort_keys=True)
    Redactor(["customer.email", "items[*].pan"]).apply(DOC)
    assert json.dumps(DOC, sort_keys=True) == before


@pytest.mark.parametrize("path", ["length(items)", "items[?pan=='1']", "a || b"])
def test_expressions_that_are_not_field_paths_are_refused(path: str) -> None:
    with pytest.raises(UsageError, match="not a field path"):
        Redactor([path])


def test_invalid_jmespath_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="invalid JMESPath in --redact"):
        Redactor(["customer."])


@given(
    st.dictionaries(st.from_regex(r"[a-z]{1,6}", fullmatch=True), st.text(min_size=1), min_size=1),
    st.lists(st.integers(0, 5), min_size=1, max_size=3),
)
def test_each_element_path_masks_every_copy_and_nothing_else(
    record: dict[str, str], shape: list[int]
) -> None:
    field = sorted(record)[0]
    document = {"rows": [dict(record) for _ in shape]}
    masked = Redactor([f"rows[*].{field}"]).apply(document)
    for row in masked["rows"]:
        assert row[field] == MASK
        assert {k: v for k, v in row.items() if k != field} == {
            k: v for k, v in record.items() if k != field
        }
