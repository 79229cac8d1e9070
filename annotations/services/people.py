"""People in a project: invitations, memberships and pseudonyms.

Nobody becomes a member without saying yes: a manager invites a user name, and the
person accepts (or declines) on their own page, or through the invitation's link, which
for a name nobody has yet lets its owner choose a password. A link is good for
``FRAMING_INVITATION_HOURS`` (72) and a new one replaces it; it never sets the password of
an account that exists, so no one can take an account over by inviting it.

Anyone who gets work in a project (joins as coder, or is assigned a document whatever
their role) gets a fixed pseudonym number there, through :func:`pseudonym_ensure`; every
path that gives work calls it, so no coder is ever shown without one.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ..models import Invitation, InvitationStatus, Membership, Project, Pseudonym, Role
from .base import ServiceError, actor_or_none, audit_record


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


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_token(invitation: Invitation) -> str:
    """A fresh link token for the invitation; the previous one stops working."""
    token = secrets.token_urlsafe(32)
    invitation.token_hash = _token_hash(token)
    invitation.token_issued_at = timezone.now()
    invitation.save(update_fields=["token_hash", "token_issued_at"])
    return token


@dataclass
class Invited:
    invitation: Invitation
    # The link's token, shown to the manager once: only its hash is stored.
    token: str


@transaction.atomic
def member_invite(*, project: Project, username: str, role: str, actor) -> Invited:
    """Invite someone by user name; they join only when they accept.

    The answer is the same whether an account of that name exists or not, so a manager
    learns nothing about accounts elsewhere: an existing account accepts on its own page,
    and for a name nobody has, the link lets its owner choose a password.
    """
    role = _checked_role(role)
    username = _checked_username(username)
    user = get_user_model().objects.filter(username__iexact=username).first()
    if user is not None and Membership.objects.filter(project=project, user=user).exists():
        raise ServiceError(f"{username} is already a member of this project.")
    if Invitation.objects.filter(
        project=project, username__iexact=username, status=InvitationStatus.PENDING
    ).exists():
        raise ServiceError(f"{username} is already invited; give them a new link if needed.")
    invitation = Invitation.objects.create(
        project=project,
        username=user.get_username() if user is not None else username,
        user=user,
        creates_account=user is None,
        role=role,
        invited_by=actor_or_none(actor),
    )
    token = _new_token(invitation)
    audit_record(
        actor=actor,
        action="invite",
        obj=invitation,
        project=project,
        after={"username": invitation.username, "role": role},
    )
    return Invited(invitation, token)


def _pending(invitation: Invitation) -> Invitation:
    locked = Invitation.objects.select_for_update().select_related("project").get(pk=invitation.pk)
    if locked.status != InvitationStatus.PENDING:
        raise ServiceError(f"This invitation was already {locked.get_status_display().lower()}.")
    return locked


def _decide(invitation: Invitation, status: str, *, actor) -> Invitation:
    invitation = _pending(invitation)
    invitation.status = status
    invitation.decided_at = timezone.now()
    invitation.token_hash = ""
    invitation.save(update_fields=["status", "decided_at", "token_hash"])
    audit_record(
        actor=actor,
        action=status,
        obj=invitation,
        project=invitation.project,
        before={"status": InvitationStatus.PENDING},
        after={"username": invitation.username, "status": status},
    )
    return invitation


@transaction.atomic
def invitation_link_renew(*, invitation: Invitation, actor) -> Invited:
    """A new link for a pending invitation; the old link stops working."""
    invitation = _pending(invitation)
    token = _new_token(invitation)
    audit_record(
        actor=actor,
        action="invitation_link",
        obj=invitation,
        project=invitation.project,
        after={"username": invitation.username},
    )
    return Invited(invitation, token)


@transaction.atomic
def invitation_withdraw(*, invitation: Invitation, actor) -> Invitation:
    return _decide(invitation, InvitationStatus.WITHDRAWN, actor=actor)


@transaction.atomic
def invitation_accept(*, invitation: Invitation, user) -> Membership:
    """The invited person joins the project with the role they were invited for."""
    invitation = _pending(invitation)
    if invitation.user_id != user.pk:
        raise ServiceError("This invitation is for another account.")
    _decide(invitation, InvitationStatus.ACCEPTED, actor=user)
    existing = Membership.objects.filter(project=invitation.project, user=user).first()
    if existing is not None:
        return existing
    return membership_set(project=invitation.project, user=user, role=invitation.role, actor=user)


@transaction.atomic
def invitation_decline(*, invitation: Invitation, user) -> Invitation:
    invitation = _pending(invitation)
    if invitation.user_id != user.pk:
        raise ServiceError("This invitation is for another account.")
    return _decide(invitation, InvitationStatus.DECLINED, actor=user)


INVALID_LINK = (
    "This invitation link is not valid: it was used, replaced by a newer one, withdrawn or "
    "has expired. Ask the project's manager for a new link."
)


def invitation_by_token(token: str) -> Invitation | None:
    """The pending invitation a link's token opens, while the link is valid."""
    if not token or len(token) > 100:
        return None
    invitation = (
        Invitation.objects.select_related("project", "user")
        .filter(token_hash=_token_hash(token), status=InvitationStatus.PENDING)
        .first()
    )
    if invitation is None or invitation.token_issued_at is None:
        return None
    age = timezone.now() - invitation.token_issued_at
    if age > timedelta(hours=settings.FRAMING_INVITATION_HOURS):
        return None
    return invitation


@transaction.atomic
def invitation_create_account(*, token: str, password: str):
    """Through the link of an invitation for a name nobody had: create the account with the
    password its owner chose, and accept. Never sets the password of an existing account."""
    found = invitation_by_token(token)
    if found is None:
        raise ServiceError(INVALID_LINK)
    invitation = _pending(found)
    User = get_user_model()
    if (
        not invitation.creates_account
        or User.objects.filter(username__iexact=invitation.username).exists()
    ):
        raise ServiceError(
            f"An account named {invitation.username} exists. If it is yours, log in and accept "
            "the invitation on your page; if it is not there, ask the project's manager to "
            "invite your account again."
        )
    user = User(username=invitation.username)
    try:
        password_validation.validate_password(password, user)
    except ValidationError as error:
        raise ServiceError(" ".join(error.messages)) from None
    user.set_password(password)
    user.save()
    audit_record(
        actor=None,
        action="create",
        obj=user,
        project=invitation.project,
        after={"username": user.get_username(), "through": "invitation"},
    )
    # Only this invitation is bound to the new account. Another project's invitation of the
    # same name stays unbound: whoever created the account through one link must never
    # inherit invitations meant for whoever else was given that name.
    invitation.user = user
    invitation.save(update_fields=["user"])
    invitation_accept(invitation=invitation, user=user)
    return user


@transaction.atomic
def account_for_import(*, project: Project, username: str, actor):
    """An account for an annotator a file names and nobody here has (--create-coders, on the
    command line only): it carries their spans and cannot log in (no usable password; an
    administrator can give it one). Not an invitation: an import's annotators are names from
    another tool, not people to ask."""
    username = _checked_username(username)
    user = get_user_model()(username=username, email=username if "@" in username else "")
    user.set_unusable_password()
    user.save()
    audit_record(
        actor=actor,
        action="create",
        obj=user,
        project=project,
        after={"username": username, "through": "import"},
    )
    return user


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
