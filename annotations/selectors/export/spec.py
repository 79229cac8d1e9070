"""What an export holds and who is called what in it.

:class:`ExportSpec` says which layer, coder, codes and work are exported, in which CSV
flavour, and whether people are named or pseudonymised. Requests are parsed into one at
the edge (``annotations.forms``) and narrowed to what the member may see by
``annotations.permissions.export_scope``; the readers here trust it.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...domain import export as shape
from ...models import Project
from ..labels import coder_labels as project_labels

LAYER_CODERS = "coders"
LAYER_GOLD = "gold"
LAYER_ALL = "all"
LAYERS = (LAYER_CODERS, LAYER_GOLD, LAYER_ALL)


@dataclass(frozen=True)
class ExportSpec:
    """What to export."""

    layer: str = LAYER_CODERS
    coder_id: int | None = None  # with the coders layer: only this coder's spans
    code_ids: tuple[int, ...] = ()  # empty: every code
    done_only: bool = False
    flavour: shape.CsvFlavour = shape.CsvFlavour.ANALYSIS
    names: bool = False  # usernames instead of pseudonyms in a blind project
    audit_actor_id: int | None = None  # a coder's bundle holds only their own audit events
    # False for a coder of a blind project: nothing derived from other coders' work.
    others: bool = True

    @property
    def coders(self) -> bool:
        return self.layer in (LAYER_CODERS, LAYER_ALL)

    @property
    def gold(self) -> bool:
        return self.layer in (LAYER_GOLD, LAYER_ALL)


# How a coder's own export names them in a blind project: never a letter, which would
# tell them how many coders there are.
YOU = "You"
GOLD = "gold"  # the annotator of gold spans in other tools' formats


def coder_labels(project: Project, *, names: bool) -> dict[int, str]:
    """User id → the name shown in exports: the project's pseudonyms unless names are asked."""
    return project_labels(project, with_names=names)


def people_labels(project: Project, spec: ExportSpec) -> dict[int, str]:
    """User id → the name every file of this export gives them. A coder's export in a
    blind project knows only its coder, as "You"."""
    if not spec.others and spec.coder_id is not None:
        return {spec.coder_id: YOU}
    return coder_labels(project, names=spec.names)


def has_matrices(spec: ExportSpec) -> bool:
    """Reliability matrices lay out every coder's work unit by unit: they go only in exports
    of all coders by someone who may see others' work (agreement.csv needs only the
    second: it holds figures, which the agreement page shows too)."""
    return spec.others and spec.coder_id is None


def layer_description(spec: ExportSpec, labels: dict[int, str]) -> str:
    if spec.coder_id is not None:
        return f"spans of one coder ({labels.get(spec.coder_id, '')})"
    return {
        LAYER_CODERS: "spans of all coders",
        LAYER_GOLD: "gold (settled) spans",
        LAYER_ALL: "spans of all coders and gold spans",
    }[spec.layer]
