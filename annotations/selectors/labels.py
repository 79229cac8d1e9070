"""What to call people where their identity must not show: "Coder A", "Coder B", ...

Every page, export and agreement table reads names from here, so one coder has one letter
everywhere in a project. Coders' letters follow the order they joined or were first
assigned and are stored (:class:`~annotations.models.Pseudonym`), so removing a member
renumbers nobody. Reviewers and managers who never code are named by role.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth import get_user_model

from ..models import Membership, Project, Pseudonym, Role


def letters(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA, like spreadsheet columns, so any number of coders fits."""
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(ord("A") + rest) + name
    return name


def coder_pseudonyms(project_id: int) -> dict[int, str]:
    """User id → "Coder X" for everyone who ever coded or was assigned in the project."""
    rows = Pseudonym.objects.filter(project_id=project_id).values_list("user_id", "number")
    return {user_id: f"Coder {letters(number)}" for user_id, number in rows}


def coder_labels(
    project: Project, *, with_names: bool = False, also: Iterable[int] = ()
) -> dict[int, str]:
    """User id → the label to show: usernames in open projects or when a manager asks for
    names, pseudonyms otherwise. ``also`` adds ids that have no pseudonym row (never
    expected; they get "Coder #id" rather than a letter that could collide)."""
    labels = coder_pseudonyms(project.pk)
    counters: dict[str, int] = {}
    for user_id, role in (
        Membership.objects.filter(project=project).order_by("pk").values_list("user_id", "role")
    ):
        if user_id not in labels:
            kind = str(Role(role).label)
            labels[user_id] = f"{kind} {letters(counters.get(kind, 0))}"
            counters[kind] = counters.get(kind, 0) + 1
    for user_id in also:
        labels.setdefault(user_id, f"Coder #{user_id}")
    if with_names or not project.blind:
        users = get_user_model().objects.filter(pk__in=labels.keys())
        labels.update({user.pk: user.get_username() for user in users})
    return labels
