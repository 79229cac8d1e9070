"""Request input parsed into typed values at the edge, before any service or selector.

Views read parameters only through :class:`Params`; anything that does not parse (a
5,000-digit number, an id past what the database stores, an unknown choice, a word where
a number belongs) raises :class:`InputError`, which views answer with 422 and the message,
and which changes nothing. Services and selectors receive ints, bools and known choices.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from .services.base import ServiceError

MAX_ID = 2**63 - 1  # a 64-bit primary key, on SQLite and PostgreSQL alike
MAX_COUNT = 2**31 - 1  # offsets, versions, page numbers, counts
_INTEGER = re.compile(r"-?[0-9]{1,19}")
_DIGITS = re.compile(r"-?[0-9]+")
_DECIMAL = re.compile(r"-?[0-9]{1,9}(\.[0-9]{1,9})?")
TRUE = frozenset({"on", "true", "1", "yes"})
FALSE = frozenset({"", "off", "false", "0", "no"})


class InputError(ServiceError):
    """A request parameter that does not parse; the message says which and why (422)."""


class Params:
    """Typed, checked access to one request's query string or form data."""

    def __init__(self, data) -> None:
        self.data = data

    def __contains__(self, name: str) -> bool:
        return name in self.data

    def raw(self, name: str) -> str | None:
        value = self.data.get(name)
        return None if value is None else str(value)

    def integer(
        self,
        name: str,
        *,
        label: str = "",
        minimum: int = 0,
        maximum: int = MAX_COUNT,
        default: int | None = None,
        required: bool = False,
    ) -> int | None:
        value = self.raw(name)
        if value is None or value.strip() == "":
            if required:
                raise InputError(f"Give {label or name}.")
            return default
        return parse_integer(value.strip(), label or name, minimum=minimum, maximum=maximum)

    def id(self, name: str, *, label: str = "", required: bool = False) -> int | None:
        return self.integer(name, label=label, minimum=1, maximum=MAX_ID, required=required)

    def ids(self, name: str, *, label: str = "") -> list[int]:
        return [
            parse_integer(v.strip(), label or name, minimum=1, maximum=MAX_ID)
            for v in self.data.getlist(name)
            if v.strip()  # an empty option ("any") or a blank field gives no value
        ]

    def offset(self, name: str, *, required: bool = False) -> int | None:
        """A position in a text: a whole number from 0 (checked against the text later)."""
        value = self.raw(name)
        if value is None or value.strip() == "":
            if required:
                raise InputError(f"The {name} offset is missing.")
            return None
        value = value.strip()
        if _DIGITS.fullmatch(value) and not _INTEGER.fullmatch(value):
            raise InputError(f"The {name} offset {value[:12]}… is beyond any text.")
        if not _INTEGER.fullmatch(value):
            raise InputError(f"The {name} offset must be a whole number.")
        number = int(value)
        if number < 0:
            raise InputError(f"The {name} offset must not be negative.")
        if number > MAX_COUNT:
            raise InputError(f"The {name} offset {value[:12]} is beyond any text.")
        return number

    def decimal(self, name: str, *, label: str, minimum: float, maximum: float) -> float | None:
        value = self.raw(name)
        if value is None or value.strip() == "":
            return None
        value = value.strip()
        if not _DECIMAL.fullmatch(value) or not minimum <= float(value) <= maximum:
            raise InputError(f"{label} must be a number from {minimum:g} to {maximum:g}.")
        return float(value)

    def choice(
        self, name: str, choices: Iterable[str], *, default: str | None = None, label: str = ""
    ) -> str | None:
        choices = tuple(choices)
        value = self.raw(name)
        if value is None or value == "":
            return default
        if value not in choices:
            raise InputError(
                f"Unknown {label or name} “{value[:40]}”; use one of: {', '.join(choices)}."
            )
        return value

    def choices(self, name: str, choices: Iterable[str], *, label: str = "") -> list[str]:
        allowed = set(choices)
        values = [v for v in self.data.getlist(name) if v != ""]
        unknown = [v for v in values if v not in allowed]
        if unknown:
            raise InputError(f"Unknown {label or name} “{unknown[0][:40]}”.")
        return values

    def text(self, name: str, *, max_length: int, default=..., label: str = ""):
        """The value as sent (at most ``max_length`` characters); ``default`` when absent."""
        value = self.raw(name)
        if value is None:
            return "" if default is ... else default
        if len(value) > max_length:
            raise InputError(
                f"{(label or name).capitalize()} has at most {max_length:,} characters; "
                f"{len(value):,} were sent."
            )
        return value

    def flag(self, name: str) -> bool:
        """A checkbox: present and on, or absent/off."""
        value = self.raw(name)
        if value is None:
            return False
        value = value.strip().lower()
        if value in TRUE:
            return True
        if value in FALSE:
            return False
        raise InputError(f"“{name}” must be on or off.")


def parse_integer(value: str, label: str, *, minimum: int, maximum: int) -> int:
    if _DIGITS.fullmatch(value) and not _INTEGER.fullmatch(value):
        raise InputError(f"{label.capitalize()} {value[:12]}… is too large.")
    if not _INTEGER.fullmatch(value):
        raise InputError(f"{label.capitalize()} must be a whole number, not “{value[:20]}”.")
    number = int(value)
    if not minimum <= number <= maximum:
        if number < minimum:
            raise InputError(f"{label.capitalize()} must be at least {minimum}.")
        raise InputError(f"{label.capitalize()} {value[:20]} is too large.")
    return number


def export_spec(
    project,
    *,
    layer: str = "coders",
    coder_id: int | None = None,
    code_ids: Iterable[int] = (),
    done_only: bool = False,
    flavour: str = "analysis",
    names: bool = False,
):
    """An export asked for by a page, the API or a command, checked against the project.

    What the asker may see is narrowed afterwards by ``permissions.export_scope``.
    """
    from .domain.export import CsvFlavour
    from .models import Code
    from .selectors.export.rows import reliability_coders
    from .selectors.export.spec import LAYER_CODERS, LAYERS, ExportSpec

    if layer not in LAYERS:
        raise InputError(f"Unknown layer “{layer[:40]}”; use coders, gold or all.")
    try:
        csv_flavour = CsvFlavour(flavour)
    except ValueError:
        raise InputError(f"Unknown format “{flavour[:40]}”; use analysis or excel.") from None
    if coder_id is not None:
        if layer != LAYER_CODERS:
            raise InputError("Choose one coder or a layer, not both.")
        if coder_id not in reliability_coders(project, ExportSpec()):
            raise InputError("That coder has no work in this project.")
    wanted = set(code_ids)
    known = set(Code.objects.filter(codebook__project=project).values_list("pk", flat=True))
    if wanted - known:
        raise InputError("Unknown code.")
    return ExportSpec(
        layer=layer,
        coder_id=coder_id,
        code_ids=tuple(sorted(wanted)),
        done_only=done_only,
        flavour=csv_flavour,
        names=names or not project.blind,
    )
