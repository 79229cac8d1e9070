"""What every part of the API shares: typed ids and offsets, input models that refuse
unknown fields, the error bodies and the error responses each operation documents."""

from __future__ import annotations

from typing import Annotated, Any

from ninja import Field, Path, Schema
from pydantic import BaseModel, ConfigDict, model_validator

from ..forms import MAX_COUNT, MAX_ID

OFFSETS = (
    "Offsets are 0-based and end-exclusive, counted in Unicode code points (Python's "
    "`text[start:end]`), not in UTF-16 code units as JavaScript counts."
)

Id = Annotated[int, Field(ge=1, le=MAX_ID)]
PathId = Annotated[int, Path(ge=1, le=MAX_ID)]
Offset = Annotated[
    int, Field(ge=0, le=MAX_COUNT, description="A position in a document's text. " + OFFSETS)
]
Version = Annotated[
    int,
    Field(ge=1, le=MAX_COUNT, description="The version last read: a stale one is refused (409)."),
]


def _has_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


class In(BaseModel):
    """A request body: unknown fields and values of the wrong JSON type are refused, and so
    is a NUL character anywhere (PostgreSQL cannot store it; see the NUL middleware)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data):
        if _has_nul(data):
            raise ValueError("The request contains a NUL character, which cannot be stored.")
        return data


class FieldError(Schema):
    loc: list[str | int] = Field(description="Where: e.g. ['body', 'start'] or ['query', 'page'].")
    msg: str
    type: str


class Error(Schema):
    detail: str | list[FieldError] = Field(
        description="Why the request was refused: a message, or one entry per field."
    )


# Documented for every operation: a NUL character or a body that is not JSON (400); no
# credentials (401); a CSRF failure with a session or a token over plain HTTP (403); a
# missing or forbidden object, which answer alike (404); a value that does not parse (422).
COMMON_ERRORS = (400, 401, 403, 404, 422)
WRITE_ERRORS = (429,)  # the token's writes per minute are used up


def responses(ok: dict[int, Any], *extra: int) -> dict[int, Any]:
    """An operation's responses: its successes and every error it may answer with."""
    errors = {status: Error for status in (*COMMON_ERRORS, *extra)}
    return {**ok, **errors}


def write_responses(ok: dict[int, Any], *extra: int) -> dict[int, Any]:
    return responses(ok, *WRITE_ERRORS, *extra)


def inline_schema(model: type[BaseModel]) -> dict:
    """A model's JSON schema with its definitions inlined, for request bodies the API
    parses itself (one operation taking JSON or a multipart upload)."""
    schema = model.model_json_schema()
    definitions = schema.pop("$defs", {})

    def resolve(node):
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/$defs/"):
                return resolve(definitions[ref.removeprefix("#/$defs/")])
            return {key: resolve(value) for key, value in node.items()}
        if isinstance(node, list):
            return [resolve(value) for value in node]
        return node

    return resolve(schema)
