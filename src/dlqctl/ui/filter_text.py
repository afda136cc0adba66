"""The filter bar's text: the CLI's filter flags, typed on one line.

`--error-type Timeout --min-age 15m --query 'total > `100`'` reads as `dlqctl peek` would
read it, and every value goes through `build_filter`, so a bad duration or JMESPath
expression is the same one-line error the CLI gives.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dlqctl.core.filters import MessageFilter, build_filter
from dlqctl.errors import UsageError

# flag -> (build_filter keyword, repeatable)
_FLAGS: dict[str, tuple[str, bool]] = {
    "--error-type": ("error_types", True),
    "--exclude-error-type": ("exclude_error_types", True),
    "--min-age": ("min_age", False),
    "--max-age": ("max_age", False),
    "--query": ("query", False),
    "--attribute": ("attributes", True),
    "--message-id": ("message_ids", True),
    "--message-ids-from": ("message_ids_from", False),
    "--kind": ("kinds", True),
}
FILTER_FLAGS = tuple(_FLAGS)


@dataclass(frozen=True)
class FilterText:
    """What was typed, the `build_filter` arguments it stands for, and their filter."""

    text: str = ""
    arguments: dict[str, Any] = field(default_factory=dict)
    message_filter: MessageFilter = field(default_factory=MessageFilter)

    def narrowed(self, **more: Any) -> MessageFilter:
        """This filter, further limited (to one error type, or to message ids)."""
        return build_filter(**{**self.arguments, **more})


def parse_filter_text(text: str) -> FilterText:
    """Read the filter bar; raises UsageError (exit code 2) as the CLI would."""
    try:
        words = shlex.split(text)
    except ValueError as exc:  # an unclosed quote
        raise UsageError(f"cannot read the filter: {exc}") from None
    arguments: dict[str, Any] = {}
    position = 0
    while position < len(words):
        flag, has_value, value = words[position].partition("=")
        if flag not in _FLAGS:
            raise UsageError(
                f"no such filter option: {flag} (the filter takes {', '.join(FILTER_FLAGS)})"
            )
        if not has_value:
            position += 1
            if position == len(words):
                raise UsageError(f"option {flag} requires an argument")
            value = words[position]
        keyword, repeatable = _FLAGS[flag]
        if repeatable:
            arguments.setdefault(keyword, []).append(value)
        elif keyword == "message_ids_from":
            arguments[keyword] = Path(value)
        else:
            arguments[keyword] = value
        position += 1
    return FilterText(text.strip(), arguments, build_filter(**arguments))
