"""JMESPath helpers: compiling user expressions with a clear error, and its truthiness."""

from __future__ import annotations

import re
from typing import Any

import jmespath
from jmespath.exceptions import JMESPathError, JMESPathTypeError
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


class Unevaluable(Exception):
    """An expression that fails on one document: bad data in one message, not bad input."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def search_truthy(expression: ParsedResult, document: Any) -> bool:
    """JMESPath's own truth: empty strings, lists and objects, false and null are false.

    Unlike Python, 0 is true. A missing field is null, so false. An expression that fails
    on this document (a function given the wrong type, or a comparison jmespath leaves to
    Python, such as "150" > 100, which raises TypeError) raises Unevaluable, so the caller
    can count it as not matching instead of ending a whole scan.
    """
    try:
        result = expression.search(document)
    except JMESPathTypeError as exc:
        expected = " or ".join(_type_name(t) for t in exc.expected_types)
        raise Unevaluable(
            f"{exc.function_name}() was given a {_type_name(exc.actual_type)}, expects {expected}"
        ) from None
    except TypeError as exc:
        raise Unevaluable(_comparison(str(exc))) from None
    except (JMESPathError, ValueError) as exc:
        raise Unevaluable(str(exc).splitlines()[0]) from None
    if result is None or result is False:
        return False
    return not (isinstance(result, str | list | dict) and len(result) == 0)


# Python's names for JSON's types, as jmespath sometimes reports them.
_JSON_TYPES = {
    "str": "string",
    "int": "number",
    "float": "number",
    "bool": "boolean",
    "list": "array",
    "dict": "object",
    "NoneType": "null",
}
_UNSUPPORTED = re.compile(r"'(.+)' not supported between instances of '(\w+)' and '(\w+)'")


def _type_name(name: str) -> str:
    return _JSON_TYPES.get(name, name)


def _comparison(message: str) -> str:
    """'>' not supported between instances of 'str' and 'int' → '>' compares a string
    with a number."""
    found = _UNSUPPORTED.match(message)
    if found is None:
        return message.splitlines()[0]
    operator, left, right = found.groups()
    return f"'{operator}' compares a {_type_name(left)} with a {_type_name(right)}"
