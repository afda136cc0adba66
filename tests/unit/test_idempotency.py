import hashlib
import json

from hypothesis import given
from hypothesis import strategies as st

from dlqctl.core.idempotency import body_sha256, canonical_json, idempotency_key

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


def test_key_is_sha256_of_canonical_json() -> None:
    body = '{ "b": 1,\n "a": [1, 2] }'
    assert idempotency_key(body) == hashlib.sha256(b'{"a":[1,2],"b":1}').hexdigest()


def test_non_json_body_is_hashed_raw() -> None:
    assert idempotency_key("not json") == hashlib.sha256(b"not json").hexdigest()


def test_unicode_is_hashed_as_utf8_not_escaped() -> None:
    assert (
        idempotency_key('{"name": "Zoë"}') == hashlib.sha256('{"name":"Zoë"}'.encode()).hexdigest()
    )


@given(json_values, st.integers(0, 4))
def test_key_ignores_formatting_and_key_order(payload: object, indent: int) -> None:
    compact = json.dumps(payload)
    pretty = json.dumps(payload, indent=indent, sort_keys=True)
    assert idempotency_key(compact) == idempotency_key(pretty)
    assert idempotency_key(compact) == hashlib.sha256(canonical_json(payload).encode()).hexdigest()


def test_body_digest_is_of_the_exact_text() -> None:
    assert body_sha256('{"a":1}') != body_sha256('{"a": 1}')
    assert body_sha256("x") == hashlib.sha256(b"x").hexdigest()


@given(json_values)
def test_the_parsed_shortcut_gives_the_same_key(payload: object) -> None:
    from dlqctl.core.idempotency import payload_key

    assert payload_key(payload) == idempotency_key(json.dumps(payload))
