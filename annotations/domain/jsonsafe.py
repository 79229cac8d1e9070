"""JSON from uploaded files, parsed without risk: a JSON value is refused before parsing
when it is nested deeper than any corpus file needs (deep nesting exhausts the parser's
recursion) and while parsing when a number has more digits than an offset can (a
5,000-digit number exceeds Python's int conversion limit) or a key repeats (json would
silently keep the last one). Every refusal is a ``ValueError`` with a message for people.
"""

from __future__ import annotations

import json
from typing import Any

MAX_DEPTH = 64
MAX_NUMBER_DIGITS = 18


class UnsafeJson(ValueError):
    """A JSON value that would be unsafe to parse; the message says why."""


class DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(f"key '{key}' appears more than once")
        self.key = key


def loads(raw: str | bytes) -> Any:
    """``json.loads``, refusing deep nesting, huge numbers, NaN/Infinity and repeated keys."""
    text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    if nesting_depth(text) > MAX_DEPTH:
        raise UnsafeJson(f"nested more than {MAX_DEPTH} levels deep")
    return json.loads(
        text, object_pairs_hook=_unique_keys, parse_int=_bounded_int, parse_constant=_no_constant
    )


def nesting_depth(text: str) -> int:
    """The deepest bracket nesting outside strings (a linear scan, no recursion)."""
    if "[" not in text and "{" not in text:
        return 0
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def _bounded_int(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_NUMBER_DIGITS:
        raise UnsafeJson(f"the number {digits[:12]}… has more than {MAX_NUMBER_DIGITS} digits")
    return int(digits)


def _no_constant(name: str) -> Any:
    raise UnsafeJson(f"{name} is not a JSON number")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise DuplicateKey(key)
        result[key] = value
    return result


def json_type(value: object) -> str:
    """How a message names a JSON value's type ("a string", "null", ...)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"
