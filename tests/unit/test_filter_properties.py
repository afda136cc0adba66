"""Arbitrary JSON bodies against JMESPath comparisons: a selection never raises, and
every message is accounted for as selected, not matching or unevaluable."""

from __future__ import annotations

import json
from typing import Any

import jmespath
from hypothesis import given, settings
from hypothesis import strategies as st

from dlqctl.config import ErrorTypeRule
from dlqctl.core.classify import Classifier
from dlqctl.core.filters import build_filter
from dlqctl.core.select import SelectionNotes, select
from dlqctl.models import Coverage

from .helpers import raw_message

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.floats(allow_nan=False, allow_infinity=False, width=32)
    | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.sampled_from(["a", "b", "total"]), children, max_size=3)
    ),
    max_leaves=8,
)
bodies = st.dictionaries(st.sampled_from(["a", "b", "total", "order"]), json_values, max_size=4)
literals = st.sampled_from(["`100`", "`1.5`", "'150'", "`null`", "`[1]`", "`{}`", "`true`"])
operators = st.sampled_from(["<", "<=", ">", ">=", "==", "!="])
fields = st.sampled_from(["a", "b", "total", "order.total", "a[0]", "length(a)", "sum(b)"])


def _outcome(expression: str, body: Any) -> bool | None:
    """jmespath's own verdict: truthy, falsy, or None when it raises on this body."""
    try:
        result = jmespath.search(expression, body)
    except Exception:
        return None
    return result not in (None, False, "", [], {})


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.one_of(bodies, st.text(max_size=8)), min_size=1, max_size=12),
    fields,
    operators,
    literals,
)
def test_selection_accounts_for_every_message_and_never_raises(
    documents: list[Any], field: str, operator: str, literal: str
) -> None:
    query = f"{field} {operator} {literal}"
    raws = [raw_message(doc if isinstance(doc, dict) else f"text {doc}") for doc in documents]
    notes = SelectionNotes(build_filter(query=query))
    rules = [ErrorTypeRule(when=query, error_type="Ruled")]
    chosen = list(
        select(
            raws,
            classifier=Classifier(rules=rules),
            message_filter=build_filter(query=query),
            notes=notes,
        )
    )

    expected_selected, expected_unevaluable = [], 0
    for raw in raws:
        body = _json(raw["Body"])
        verdict = None if body is None else _outcome(query, body)
        if verdict is None:
            expected_unevaluable += 1
        elif verdict:
            expected_selected.append(raw["MessageId"])
    assert [c.message.message_id for c in chosen] == expected_selected
    # Every selected message satisfied the same expression as a rule, so it is typed by it.
    assert all(c.message.error_type == "Ruled" for c in chosen)
    assert sum(notes.unevaluated.values()) == expected_unevaluable
    coverage = notes.coverage(
        Coverage(
            scanned=len(raws), approximate_depth=len(raws), complete=True, stopped_because="end"
        )
    )
    assert coverage.unevaluated == expected_unevaluable
    assert bool(notes.warnings()) is (expected_unevaluable > 0)


def _json(text: str) -> Any:
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict | list) else None
