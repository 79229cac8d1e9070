"""People in a project: memberships, their pseudonyms and password links.

Anyone who gets work in a project (joins as coder, or is assigned a document whatever
their role) gets a fixed pseudonym number there, through :func:`pseudonym_ensure`; every
path that gives work calls it, so no coder is ever shown without one.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from ..models import Membership, Project, Pseudonym, Role
from ..permissions import awaiting_password
from .base import ServiceError, audit_record


def pseudonym_ensure(*, project_id: int, user_id: int) -> Pseudonym:
    """Give a person their fixed number in a project when they first get work there."""
    existing = Pseudonym.objects.filter(project_id=project_id, user_id=user_id).first()
    if existing is not None:
        return existing
    # Lock the project row so two people joining at once cannot take the same number.
    Project.objects.select_for_update().filter(pk=project_id).first()
    taken = Pseudonym.objects.filter(project_id=project_id).count()
    return Pseudonym.objects.create(project_id=project_id, user_id=user_id, number=taken)


def _checked_role(role: str) -> str:
    if role not in Role.values:
        raise ServiceError(f"Unknown role “{role}”.")
    return role


@transaction.atomic
def membership_set(*, project: Project, user, role: str, actor=None) -> Membership:
    """Make ``user`` a member with ``role`` (creating or changing the membership)."""
    role = _checked_role(role)
    member, created = Membership.objects.get_or_create(
        project=project, user=user, defaults={"role": role}
    )
    if role == Role.CODER:
        pseudonym_ensure(project_id=project.pk, user_id=user.pk)
    if not created and member.role == role:
        return member
    before = None if created else {"role": member.role}
    if not created:
        member.role = role
        member.save(update_fields=["role"])
    audit_record(
        actor=actor,
        action="create" if created else "change",
        obj=member,
        project=project,
        before=before,
        after={"user": user.get_username(), "role": role},
    )
    return member


@dataclass
class MemberAdded:
    membership: Membership
    created_account: bool
    # Relative URL of the one-time password-set page, for accounts created here.
    password_link: str = ""


def password_set_link(user) -> str:
    """A one-time link to choose a password: valid until used (the token is tied to the
    password hash) or until PASSWORD_RESET_TIMEOUT passes."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return reverse("password_reset_confirm", kwargs={"uidb64": uid, "token": token})


def _checked_username(username: str) -> str:
    username = username.strip()
    if not username:
        raise ServiceError("Give the person's user name.")
    if len(username) > 150:
        raise ServiceError("A user name has at most 150 characters.")
    try:
        UnicodeUsernameValidator()(username)
    except ValidationError:
        raise ServiceError(
            f"“{username}” is not a valid user name: use letters, digits and @ . + - _ only."
        ) from None
    return username


@transaction.atomic
def member_add(
    *, project: Project, username: str, role: str, email: str = "", actor
) -> MemberAdded:
    """Add a person to the project, creating their account (without a password) if needed."""
    role = _checked_role(role)
    username = _checked_username(username)
    email = email.strip()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise ServiceError(f"“{email}” is not a valid e-mail address.") from None
    User = get_user_model()
    user = User.objects.filter(username__iexact=username).first()
    created = user is None
    if created:
        user = User(username=username, email=email)
        user.set_unusable_password()
        user.save()
        audit_record(
            actor=actor, action="create", obj=user, project=project, after={"username": username}
        )
    else:
        existing = Membership.objects.filter(project=project, user=user).first()
        if existing is not None:
            raise ServiceError(
                f"{user.username} is already a member, as {existing.get_role_display().lower()}."
            )
    membership = membership_set(project=project, user=user, role=role, actor=actor)
    return MemberAdded(
        membership=membership,
        created_account=created,
        password_link=password_set_link(user) if created else "",
    )


def _other_managers(membership: Membership) -> bool:
    return (
        Membership.objects.filter(project=membership.project_id, role=Role.MANAGER)
        .exclude(pk=membership.pk)
        .exists()
    )


def _locked(membership: Membership) -> Membership:
    return (
        Membership.objects.select_for_update()
        .select_related("project", "user")
        .get(pk=membership.pk)
    )


@transaction.atomic
def member_set_role(*, membership: Membership, role: str, actor) -> Membership:
    role = _checked_role(role)
    membership = _locked(membership)
    if membership.role == Role.MANAGER and role != Role.MANAGER and not _other_managers(membership):
        raise ServiceError("A project needs at least one manager; make someone else manager first.")
    return membership_set(project=membership.project, user=membership.user, role=role, actor=actor)


@transaction.atomic
def member_remove(*, membership: Membership, actor) -> None:
    """Take a person off the project; everything they coded stays."""
    membership = _locked(membership)
    if membership.role == Role.MANAGER and not _other_managers(membership):
        raise ServiceError("A project needs at least one manager; make someone else manager first.")
    audit_record(
        actor=actor,
        action="delete",
        obj=membership,
        project=membership.project,
        before={"user": membership.user.username, "role": membership.role},
    )
    membership.delete()


@transaction.atomic
def password_link_renew(*, membership: Membership, actor) -> str:
    """A fresh password-set link for a member invited here who has not used theirs.

    Never for an account with a password: a manager must not be able to take over
    someone's account."""
    user = membership.user
    if not awaiting_password(user):
        raise ServiceError(f"{user.username} has already chosen a password; they log in as usual.")
    audit_record(
        actor=actor,
        action="password_link",
        obj=user,
        project=membership.project,
        after={"username": user.username},
    )
    return password_set_link(user)
