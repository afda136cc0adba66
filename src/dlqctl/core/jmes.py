"""JMESPath helpers: compiling user expressions with a clear error, and its truthiness."""

from __future__ import annotations

from typing import Any

import jmespath
from jmespath.exceptions import JMESPathError
from jmespath.functions import Functions
from jmespath.parser import ParsedResult

from dlqctl.errors import UsageError


def compile_expression(expression: str, option: str) -> ParsedResult:
    try:
        compiled = jmespath.compile(expression)
    except JMESPathError as exc:
        raise UsageError(f"invalid JMESPath in {option} {expression!r}: {describe(exc)}") from None
    unknown = sorted(_function_names(compiled.parsed) - set(Functions.FUNCTION_TABLE))
    if unknown:
        # jmespath only notices at search time, where it would silently match nothing.
        raise UsageError(
            f"invalid JMESPath in {option} {expression!r}: unknown function {unknown[0]}()"
        )
    return compiled


def _function_names(node: Any) -> set[str]:
    names = {str(node["value"])} if node.get("type") == "function_expression" else set()
    for child in node.get("children", []):
        if isinstance(child, dict):
            names |= _function_names(child)
    return names


def describe(exc: JMESPathError) -> str:
    """jmespath's message on one line (its own draws a caret on a second line)."""
    message = str(exc).splitlines()[0].rstrip(": ")
    position = getattr(exc, "lex_position", None)
    return f"{message} at position {position}" if position is not None else message


def search_truthy(expression: ParsedResult, document: Any) -> bool:
    """JMESPath's own truth: empty strings, lists and objects, false and null are false.

    Unlike Python, 0 is true. An expression that fails on this document (a function given
    the wrong type, or a comparison jmespath leaves to Python, such as "150" > 100, which
    raises TypeError) is false for it, not an error for the whole scan: one odd body is
    bad data, not bad input.
    """
    try:
        result = expression.search(document)
    except (JMESPathError, TypeError, ValueError):
        return False
    if result is None or result is False:
        return False
    return not (isinstance(result, str | list | dict) and len(result) == 0)
