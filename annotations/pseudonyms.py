"""Stable pseudonyms for coders: "Coder A", "Coder B", ... in the order they joined the project.

Blind projects show these instead of user names wherever one coder's work could be tied to
a person (review lanes, agreement tables, exports). The order is by membership id, so a
coder keeps the same letter for the life of the project.
"""

from __future__ import annotations

from .models import Membership


def letters(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA, like spreadsheet columns."""
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(ord("A") + rest) + name
    return name


def coder_pseudonyms(project_id: int) -> dict[int, str]:
    """User id → "Coder X" for every member of the project, in the order they joined."""
    user_ids = (
        Membership.objects.filter(project_id=project_id)
        .order_by("pk")
        .values_list("user_id", flat=True)
    )
    return {user_id: f"Coder {letters(i)}" for i, user_id in enumerate(user_ids)}


def coder_labels(project, *, with_names: bool = False) -> dict[int, str]:
    """What to call each coder in this project's displays: names only when allowed."""
    from django.contrib.auth import get_user_model

    if with_names or not project.blind:
        users = get_user_model().objects.filter(assignments__document__project=project).distinct()
        names = {user.pk: user.get_username() for user in users}
        return {**coder_pseudonyms(project.pk), **names}
    return coder_pseudonyms(project.pk)
