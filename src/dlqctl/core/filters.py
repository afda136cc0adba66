"""Which messages a command acts on: error type, kind, age window, body query, attributes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import get_args

from jmespath.parser import ParsedResult

from dlqctl.core.durations import parse_duration
from dlqctl.core.jmes import Unevaluable, compile_expression, search_truthy
from dlqctl.core.messages import Received
from dlqctl.errors import UsageError
from dlqctl.models import DlqKind

KINDS: tuple[DlqKind, ...] = get_args(DlqKind)


@dataclass(frozen=True)
class MessageFilter:
    """All given conditions must hold. Empty means "every message"."""

    error_types: frozenset[str] = frozenset()
    exclude_error_types: frozenset[str] = frozenset()
    min_age_s: float | None = None
    max_age_s: float | None = None
    query: str | None = None
    attributes: Mapping[str, str] = field(default_factory=dict)
    message_ids: frozenset[str] = frozenset()
    kinds: frozenset[DlqKind] = frozenset()
    _compiled: ParsedResult | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.query is not None:
            object.__setattr__(self, "_compiled", compile_expression(self.query, "--query"))
        if (
            self.min_age_s is not None
            and self.max_age_s is not None
            and self.min_age_s > self.max_age_s
        ):
            raise UsageError("--min-age is larger than --max-age: no message can match")

    @property
    def is_empty(self) -> bool:
        return not (
            self.error_types
            or self.exclude_error_types
            or self.min_age_s is not None
            or self.max_age_s is not None
            or self.query
            or self.attributes
            or self.message_ids
            or self.kinds
        )

    def matches_message(self, message: Received) -> bool:
        """The conditions that need no error type, checked before any ledger read; the
        body query last, so only messages it alone decides can be unevaluable."""
        if self.message_ids and message.message_id not in self.message_ids:
            return False
        if self.min_age_s is not None and message.age_s < self.min_age_s:
            return False
        if self.max_age_s is not None and message.age_s > self.max_age_s:
            return False
        if not all(
            _attribute_value(message, name) == value for name, value in self.attributes.items()
        ):
            return False
        return self._compiled is None or self._query_matches(message)

    def _query_matches(self, message: Received) -> bool:
        """Raises Unevaluable when --query cannot be evaluated on this body: the caller
        counts it (and treats it as not matching)."""
        assert self._compiled is not None
        if message.encoding != "json":
            raise Unevaluable("--query: the body is not JSON")
        try:
            return search_truthy(self._compiled, message.body)
        except Unevaluable as exc:
            raise Unevaluable(f"--query: {exc.reason}") from None

    def matches_error_type(self, error_type: str, kind: DlqKind = "unknown") -> bool:
        """The conditions that need the classification: error type and kind."""
        if self.kinds and kind not in self.kinds:
            return False
        if self.error_types and error_type not in self.error_types:
            return False
        return error_type not in self.exclude_error_types

    def describe(self) -> dict[str, object]:
        """The filter as given, for reports and the audit journal."""
        return {
            "error_types": sorted(self.error_types),
            "exclude_error_types": sorted(self.exclude_error_types),
            "min_age_s": self.min_age_s,
            "max_age_s": self.max_age_s,
            "query": self.query,
            "attributes": dict(self.attributes),
            "message_ids": sorted(self.message_ids),
            "kinds": sorted(self.kinds),
        }


def build_filter(
    *,
    error_types: Iterable[str] = (),
    exclude_error_types: Iterable[str] = (),
    min_age: str | None = None,
    max_age: str | None = None,
    query: str | None = None,
    attributes: Iterable[str] = (),
    message_ids: Iterable[str] = (),
    message_ids_from: Path | None = None,
    kinds: Iterable[str] = (),
) -> MessageFilter:
    """A MessageFilter from command-line text, with usage errors for bad input."""
    ids = {i.strip() for i in message_ids if i.strip()}
    if message_ids_from is not None:
        ids |= _read_ids(message_ids_from)
    return MessageFilter(
        error_types=frozenset(error_types),
        exclude_error_types=frozenset(exclude_error_types),
        min_age_s=parse_duration(min_age) if min_age else None,
        max_age_s=parse_duration(max_age) if max_age else None,
        query=query,
        attributes=dict(_parse_attribute(text) for text in attributes),
        message_ids=frozenset(ids),
        kinds=frozenset(_kind(text) for text in kinds),
    )


def _kind(text: str) -> DlqKind:
    for kind in KINDS:
        if text == kind:
            return kind
    raise UsageError(f"invalid --kind {text!r}: use one of {', '.join(KINDS)}")


def _read_ids(path: Path) -> set[str]:
    """One message id a line (blank lines and # comments skipped), e.g. from
    `dlqctl peek Q -o ndjson | jq -r .message_id`."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise UsageError(f"cannot read --message-ids-from {path}: {exc.strerror}") from None
    ids = {line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")}
    if not ids:
        raise UsageError(f"--message-ids-from {path} names no message id: one id a line")
    return ids


def _parse_attribute(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise UsageError(f"invalid --attribute {text!r}: use NAME=VALUE")
    return name.strip(), value


def _attribute_value(message: Received, name: str) -> str | None:
    """A message attribute's value, else a system attribute (e.g. MessageGroupId)."""
    attribute = message.message_attributes.get(name)
    if attribute is not None:
        return str(attribute.get("StringValue", ""))
    system = message.system.get(name)
    return None if system is None else str(system)
