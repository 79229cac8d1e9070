"""The codebook and its codes: every create, change, reorder, retirement and deletion.

* A definition or guidance edit bumps ``Codebook.version`` and stores a snapshot of the
  whole codebook as the new :class:`CodebookVersion`; the first such edit first stores
  the wording in force until then (version 1) so every version a span can name has its
  wording on record. Renames, colours, shortcuts, order and retirement do not change
  what a code means, so they do not make a version.
* A code used by any span (live or soft-deleted) or gold span cannot be deleted: the
  spans keep pointing at it. It can be retired instead.
"""

from __future__ import annotations

from django.db import transaction

from ..models import Code, Codebook, CodebookVersion, GoldSpan, Project, Span
from .base import ServiceError, actor_or_none, audit_record

COLOUR_HELP = "a colour must be written #rrggbb, for example #0072B2"
DEFAULT_COLOUR = "#0072B2"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def codebook_create(*, project: Project) -> Codebook:
    """The project's (empty) codebook; called by ``project_create`` in its transaction."""
    return Codebook.objects.create(project=project)


def code_state(code: Code) -> dict:
    return {
        "id": code.pk,
        "name": code.name,
        "definition": code.definition,
        "guidance": code.guidance,
        "colour": code.colour,
        "shortcut": code.shortcut,
        "order": code.order,
        "active": code.active,
    }


def _snapshot(codebook: Codebook) -> list[dict]:
    return [code_state(code) for code in Code.objects.filter(codebook=codebook)]


def _check_name(codebook: Codebook, name: str, *, exclude: Code | None = None) -> str:
    name = name.strip()
    if not name:
        raise ServiceError("A code needs a name.")
    if len(name) > Code._meta.get_field("name").max_length:
        raise ServiceError("A code name has at most 100 characters.")
    clash = codebook.codes.filter(name=name)
    if exclude is not None:
        clash = clash.exclude(pk=exclude.pk)
    if clash.exists():
        raise ServiceError(f"The codebook already has a code named “{name}”.")
    return name


def _check_colour(colour: str) -> str:
    colour = colour.strip()
    hex_digits = "0123456789abcdefABCDEF"
    if not (len(colour) == 7 and colour[0] == "#" and all(c in hex_digits for c in colour[1:])):
        raise ServiceError(f"“{colour}” is not a colour: {COLOUR_HELP}.")
    return colour


def _check_shortcut(codebook: Codebook, shortcut: str, *, exclude: Code | None = None) -> str:
    # Only an all-space input is trimmed: a single space is no usable shortcut.
    shortcut = shortcut.strip()
    if len(shortcut) > 1:
        raise ServiceError(f"A shortcut is one key, not “{shortcut}”.")
    if shortcut:
        clash = codebook.codes.filter(shortcut=shortcut)
        if exclude is not None:
            clash = clash.exclude(pk=exclude.pk)
        other = clash.first()
        if other is not None:
            raise ServiceError(f"The shortcut “{shortcut}” is already used by “{other.name}”.")
    return shortcut


@transaction.atomic
def code_create(
    *,
    codebook: Codebook,
    name: str,
    definition: str = "",
    guidance: str = "",
    colour: str = DEFAULT_COLOUR,
    shortcut: str = "",
    order: int | None = None,
    actor=None,
) -> Code:
    """A new code, at the end of the codebook unless ``order`` is given."""
    codebook = Codebook.objects.select_for_update().select_related("project").get(pk=codebook.pk)
    if order is None:
        order = max(codebook.codes.values_list("order", flat=True), default=-1) + 1
    code = Code(
        codebook=codebook,
        name=_check_name(codebook, name),
        definition=definition.strip(),
        guidance=guidance.strip(),
        colour=_check_colour(colour),
        shortcut=_check_shortcut(codebook, shortcut),
        order=order,
    )
    code.full_clean()
    code.save()
    audit_record(
        actor=actor, action="create", obj=code, project=codebook.project, after=code_state(code)
    )
    return code


@transaction.atomic
def code_update(
    *,
    code: Code,
    name: str,
    definition: str,
    guidance: str,
    colour: str,
    shortcut: str,
    note: str = "",
    actor,
) -> Code:
    """Rename, recolour, re-key or re-word a code; a new wording makes a codebook version."""
    codebook = (
        Codebook.objects.select_for_update().select_related("project").get(pk=code.codebook_id)
    )
    code = Code.objects.get(pk=code.pk)
    name = _check_name(codebook, name, exclude=code)
    colour = _check_colour(colour)
    shortcut = _check_shortcut(codebook, shortcut, exclude=code)
    definition, guidance = definition.strip(), guidance.strip()
    before = code_state(code)
    reworded = (definition, guidance) != (code.definition, code.guidance)
    if reworded and not codebook.versions.filter(number=codebook.version).exists():
        # Record the wording the existing spans were coded under before changing it.
        CodebookVersion.objects.create(
            codebook=codebook,
            number=codebook.version,
            snapshot=_snapshot(codebook),
            note="Wording before the first recorded edit.",
            created_by=None,
        )
    code.name, code.definition, code.guidance = name, definition, guidance
    code.colour, code.shortcut = colour, shortcut
    after = code_state(code)
    if after == before:
        return code
    code.save()
    if reworded:
        codebook.version += 1
        codebook.save(update_fields=["version", "updated_at"])
        CodebookVersion.objects.create(
            codebook=codebook,
            number=codebook.version,
            snapshot=_snapshot(codebook),
            note=(note.strip() or f"Changed the wording of “{name}”.")[:300],
            created_by=actor_or_none(actor),
        )
    audit_record(
        actor=actor,
        action="change",
        obj=code,
        project=codebook.project,
        before=before,
        after={**after, "codebook_version": codebook.version},
    )
    return code


@transaction.atomic
def code_reorder(*, codebook: Codebook, code_ids: list[int], actor) -> None:
    """Put the codes in the given order; the list must name every code exactly once."""
    codes = {code.pk: code for code in Code.objects.select_for_update().filter(codebook=codebook)}
    if sorted(code_ids) != sorted(codes):
        raise ServiceError("The codebook changed since you loaded it; reload and try again.")
    before = [c.pk for c in sorted(codes.values(), key=lambda c: (c.order, c.pk))]
    if before == list(code_ids):
        return
    for order, pk in enumerate(code_ids):
        codes[pk].order = order
    Code.objects.bulk_update(codes.values(), ["order"])
    audit_record(
        actor=actor,
        action="reorder",
        obj=codebook,
        project=codebook.project_id,
        before={"order": before},
        after={"order": list(code_ids)},
    )


def code_move(*, code: Code, offset: int, actor) -> None:
    """Move a code up (-1) or down (+1) one place."""
    ids = list(Code.objects.filter(codebook_id=code.codebook_id).values_list("pk", flat=True))
    index = ids.index(code.pk)
    target = index + offset
    if 0 <= target < len(ids):
        ids[index], ids[target] = ids[target], ids[index]
        code_reorder(codebook=code.codebook, code_ids=ids, actor=actor)


@transaction.atomic
def code_retire(*, code: Code, active: bool = False, actor) -> Code:
    """Retire a code (coders no longer see it for new spans) or bring it back."""
    code = Code.objects.select_related("codebook").get(pk=code.pk)
    if code.active == active:
        return code
    code.active = active
    code.save(update_fields=["active"])
    audit_record(
        actor=actor,
        action="reactivate" if active else "retire",
        obj=code,
        project=code.codebook.project_id,
        before={"active": not active},
        after={"active": active},
    )
    return code


@transaction.atomic
def code_delete(*, code: Code, actor) -> None:
    code = Code.objects.select_related("codebook").get(pk=code.pk)
    # Soft-deleted spans count: they are still a coder's work and can be restored.
    spans = Span.objects.filter(code=code).count()
    gold = GoldSpan.objects.filter(code=code).count()
    if spans or gold:
        uses = [_plural(n, noun) for n, noun in ((spans, "span"), (gold, "gold span")) if n]
        raise ServiceError(f"“{code.name}” is used by {' and '.join(uses)}; retire it instead.")
    audit_record(
        actor=actor,
        action="delete",
        obj=code,
        project=code.codebook.project_id,
        before=code_state(code),
    )
    code.delete()
