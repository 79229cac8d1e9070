"""What the manager's pages share: rendering under ``annotations/manage/`` and the form of
a project's settings."""

from __future__ import annotations

from dataclasses import dataclass

from ...forms import Params
from ...models import UnitKind
from .. import htmx

DESCRIPTION_LIMIT = 20_000


def render(request, template: str, context: dict, *, status: int = 200, partial: str = ""):
    return htmx.render(
        request, f"annotations/manage/{template}", context, partial=partial, status=status
    )


@dataclass(frozen=True)
class ProjectInput:
    name: str
    description: str
    blind: bool
    feedback_to_coders: bool
    agreement_unit: str
    coders_may_export: bool
    snap_to_words: bool


def project_input(data) -> ProjectInput:
    params = Params(data)
    return ProjectInput(
        name=params.text("name", max_length=200, label="the name"),
        description=params.text("description", max_length=DESCRIPTION_LIMIT, label="description"),
        blind=params.flag("blind"),
        feedback_to_coders=params.flag("feedback_to_coders"),
        agreement_unit=params.choice(
            "agreement_unit", UnitKind.values, default=UnitKind.TOKEN, label="agreement unit"
        ),
        coders_may_export=params.flag("coders_may_export"),
        snap_to_words=params.flag("snap_to_words"),
    )
