"""What an export holds and who is called what in it.

:class:`ExportSpec` says which layer, coder, codes and work are exported, in which CSV
flavour, and whether people are named or pseudonymised; :func:`export_spec` checks what a
caller asks for and :func:`restrict_to_member` narrows it to what a member may see.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

from ... import pseudonyms
from ...domain import export as shape
from ...models import Code, Membership, Project, Role
from ..core import ServiceError

LAYER_CODERS = "coders"
LAYER_GOLD = "gold"
LAYER_ALL = "all"
LAYERS = (LAYER_CODERS, LAYER_GOLD, LAYER_ALL)


@dataclass(frozen=True)
class ExportSpec:
    """What to export. Build it with :func:`export_spec`, which checks every value."""

    layer: str = LAYER_CODERS
    coder_id: int | None = None  # with the coders layer: only this coder's spans
    code_ids: tuple[int, ...] = ()  # empty: every code
    done_only: bool = False
    flavour: shape.CsvFlavour = shape.CsvFlavour.ANALYSIS
    names: bool = False  # usernames instead of pseudonyms in a blind project
    audit_actor_id: int | None = None  # a coder's bundle holds only their own audit events

    @property
    def coders(self) -> bool:
        return self.layer in (LAYER_CODERS, LAYER_ALL)

    @property
    def gold(self) -> bool:
        return self.layer in (LAYER_GOLD, LAYER_ALL)


def export_spec(
    project: Project,
    *,
    layer: str = LAYER_CODERS,
    coder_id: int | None = None,
    code_ids: Iterable[Any] = (),
    done_only: bool = False,
    flavour: str = shape.CsvFlavour.ANALYSIS,
    names: bool = False,
) -> ExportSpec:
    if layer not in LAYERS:
        raise ServiceError(f"Unknown layer “{layer}”; use coders, gold or all.")
    try:
        csv_flavour = shape.CsvFlavour(flavour)
    except ValueError:
        raise ServiceError(f"Unknown format “{flavour}”; use analysis or excel.") from None
    if coder_id is not None:
        if layer != LAYER_CODERS:
            raise ServiceError("Choose one coder or a layer, not both.")
        if coder_id not in coder_labels(project, names=True):
            raise ServiceError("That coder has no work in this project.")
    try:
        wanted = {int(code) for code in code_ids}
    except (TypeError, ValueError):
        raise ServiceError("Unknown code.") from None
    known = set(Code.objects.filter(codebook__project=project).values_list("pk", flat=True))
    if wanted - known:
        raise ServiceError("Unknown code.")
    return ExportSpec(
        layer=layer,
        coder_id=coder_id,
        code_ids=tuple(sorted(wanted)),
        done_only=done_only,
        flavour=csv_flavour,
        names=names or not project.blind,
    )


def restrict_to_member(spec: ExportSpec, member: Membership) -> ExportSpec:
    """Coders export only their own spans; only managers may see names in a blind project."""
    if member.role == Role.CODER:
        return replace(
            spec,
            layer=LAYER_CODERS,
            coder_id=member.user_id,
            names=not member.project.blind,
            audit_actor_id=member.user_id,
        )
    if member.role == Role.REVIEWER:
        return replace(spec, names=not member.project.blind)
    return spec


# --- Who is called what ---------------------------------------------------------------------


def coder_labels(project: Project, *, names: bool) -> dict[int, str]:
    """User id → the name shown in exports: the project's pseudonyms unless names are asked."""
    return pseudonyms.coder_labels(project, with_names=names)


def layer_description(spec: ExportSpec, labels: dict[int, str]) -> str:
    if spec.coder_id is not None:
        return f"spans of one coder ({labels.get(spec.coder_id, '')})"
    return {
        LAYER_CODERS: "spans of all coders",
        LAYER_GOLD: "gold (settled) spans",
        LAYER_ALL: "spans of all coders and gold spans",
    }[spec.layer]


def _neutraliser(spec: ExportSpec) -> Callable[[str], str]:
    """Columns outside FREE_TEXT_COLUMNS that may hold typed text still need the guard."""
    if spec.flavour is shape.CsvFlavour.EXCEL:
        return shape.neutralise_formula
    return lambda value: value
