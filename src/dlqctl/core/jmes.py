"""JMESPath helpers: compiling user expressions with a clear error, and its truthiness."""

from __future__ import annotations

from typing import Any

import jmespath
from jmespath.exceptions import JMESPathError
from jmespath.parser import ParsedResult

from dlqctl.errors import UsageError


def compile_expression(expression: str, option: str) -> ParsedResult:
    try:
        return jmespath.compile(expression)
    except JMESPathError as exc:
        raise UsageError(f"invalid JMESPath in {option} {expression!r}: {exc}") from None


def search_truthy(expression: ParsedResult, document: Any) -> bool:
    """JMESPath's own truth: empty strings, lists and objects, false and null are false.

    Unlike Python, 0 is true. An expression that fails on this document (a function given
    the wrong type) is false for it, not an error for the whole scan.
    """
    try:
        result = expression.search(document)
    except JMESPathError:
        return False
    if result is None or result is False:
        return False
    return not (isinstance(result, str | list | dict) and len(result) == 0)
