"""`--redact PATH`: mask fields of JSON bodies before any output format sees them.

JMESPath selects but cannot assign, so the path is turned into steps (field, index,
"every element", "every value") and the masked copy is built by walking them.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from dlqctl.core.jmes import compile_expression
from dlqctl.errors import UsageError

MASK = "***REDACTED***"

Step = tuple[str, object]


class Redactor:
    def __init__(self, paths: Sequence[str]) -> None:
        self.paths = list(paths)
        self._steps = [
            _steps(dict(compile_expression(p, "--redact").parsed), p) for p in self.paths
        ]

    def __bool__(self) -> bool:
        return bool(self._steps)

    def apply(self, document: Any) -> Any:
        """A masked copy of `document`; the original is left as it was."""
        if not self._steps:
            return document
        masked = copy.deepcopy(document)
        for steps in self._steps:
            masked = _mask(masked, steps)
        return masked


def _steps(node: dict[str, Any], path: str) -> list[Step]:
    kind = node["type"]
    children = node.get("children", [])
    if kind == "field":
        return [("field", node["value"])]
    if kind == "identity":
        return []
    if kind == "subexpression":
        return _steps(children[0], path) + _steps(children[1], path)
    if kind == "index_expression":
        return _steps(children[0], path) + _steps(children[1], path)
    if kind == "index":
        return [("index", node["value"])]
    if kind == "projection":
        return [*_steps(children[0], path), ("each", None), *_steps(children[1], path)]
    if kind == "flatten":
        return _steps(children[0], path)
    if kind == "value_projection":
        return [*_steps(children[0], path), ("values", None), *_steps(children[1], path)]
    raise UsageError(
        f"--redact {path!r} is not a field path: use forms like card.number, "
        "items[*].pan, items[0].email or *.secret"
    )


def _mask(value: Any, steps: list[Step]) -> Any:
    if not steps:
        return MASK
    (kind, arg), rest = steps[0], steps[1:]
    if kind == "field" and isinstance(value, dict) and arg in value:
        value[arg] = _mask(value[arg], rest)
    elif kind == "index" and isinstance(value, list) and isinstance(arg, int):
        if -len(value) <= arg < len(value):
            value[arg] = _mask(value[arg], rest)
    elif kind == "each" and isinstance(value, list):
        value[:] = [_mask(item, rest) for item in value]
    elif kind == "values" and isinstance(value, dict):
        for key in value:
            value[key] = _mask(value[key], rest)
    return value
