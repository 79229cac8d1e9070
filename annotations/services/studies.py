"""Running a study: project settings, codebook editing, people and assignments.

Every function runs in one transaction, records an audit event in it and raises
:class:`ServiceError` with a message for the manager; nothing changes when it does.

Decisions worth knowing:

* A definition or guidance edit bumps ``Codebook.version`` and stores a snapshot of the
  whole codebook as the new :class:`CodebookVersion`; the first such edit first stores
  the wording in force until then (version 1) so every version a span can name has its
  wording on record. Renames, colours, shortcuts, order and retirement do not change
  what a code means, so they do not make a version.
* A code used by any span (live or soft-deleted) or gold span cannot be deleted: the
  spans keep pointing at it. It can be retired instead.
* An assignment that has any span, live or soft-deleted, is never removed: removing it
  would orphan the coder's work. Reassigning means assigning the document to someone
  else as well; the earlier coder's spans stay where they are.
* Removing a member deletes the membership only; their assignments and spans stay.
"""

from __future__ import annotations

import math
import random
import secrets
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from ..models import (
    Assignment,
    Code,
    Codebook,
    CodebookVersion,
    Document,
    GoldSpan,
    Membership,
    Project,
    Role,
    Span,
    UnitKind,
)
from .core import ServiceError, audit_record, code_create, membership_set, project_create

COLOUR_HELP = "a colour must be written #rrggbb, for example #0072B2"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


# --- Projects ----------------------------------------------------------------------


@transaction.atomic
def study_create(
    *,
    name: str,
    description: str = "",
    blind: bool = True,
    feedback_to_coders: bool = False,
    agreement_unit: str = UnitKind.TOKEN,
    coders_may_export: bool = True,
    actor,
) -> Project:
    """A new project whose creator becomes its manager."""
    project = project_create(name=name, description=description, blind=blind, actor=actor)
    if (
        feedback_to_coders
        or agreement_unit != project.agreement_unit
        or coders_may_export != project.coders_may_export
    ):
        project_update(
            project=project,
            name=project.name,
            description=project.description,
            blind=project.blind,
            feedback_to_coders=feedback_to_coders,
            agreement_unit=agreement_unit,
            coders_may_export=coders_may_export,
            actor=actor,
        )
    return project


PROJECT_FIELDS = (
    "name",
    "description",
    "blind",
    "feedback_to_coders",
    "agreement_unit",
    "coders_may_export",
)


@transaction.atomic
def project_update(
    *,
    project: Project,
    name: str,
    description: str,
    blind: bool,
    feedback_to_coders: bool,
    agreement_unit: str,
    coders_may_export: bool | None = None,
    actor,
) -> Project:
    name = name.strip()
    if not name:
        raise ServiceError("A project needs a name.")
    if Project.objects.filter(name=name).exclude(pk=project.pk).exists():
        raise ServiceError(f"A project named “{name}” already exists.")
    if agreement_unit not in UnitKind.values:
        raise ServiceError(f"Unknown agreement unit “{agreement_unit}”.")
    before = {f: getattr(project, f) for f in PROJECT_FIELDS}
    project.name = name
    project.description = description.strip()
    project.blind = bool(blind)
    project.feedback_to_coders = bool(feedback_to_coders)
    project.agreement_unit = agreement_unit
    if coders_may_export is not None:
        project.coders_may_export = bool(coders_may_export)
    after = {f: getattr(project, f) for f in PROJECT_FIELDS}
    if after != before:
        project.save(update_fields=list(PROJECT_FIELDS))
        audit_record(
            actor=actor, action="change", obj=project, project=project, before=before, after=after
        )
    return project


# --- Codebook ---------------------------------------------------------------------


def _check_colour(colour: str) -> str:
    colour = colour.strip()
    if not _is_hex(colour):
        raise ServiceError(f"“{colour}” is not a colour: {COLOUR_HELP}.")
    return colour


def _is_hex(colour: str) -> bool:
    return (
        len(colour) == 7
        and colour[0] == "#"
        and all(c in "0123456789abcdefABCDEF" for c in colour[1:])
    )


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


@transaction.atomic
def code_add(
    *,
    codebook: Codebook,
    name: str,
    definition: str = "",
    guidance: str = "",
    colour: str = "#0072B2",
    shortcut: str = "",
    actor,
) -> Code:
    """A new code at the end of the codebook, with colour and shortcut checked first."""
    colour = _check_colour(colour)
    shortcut = _check_shortcut(codebook, shortcut)
    return code_create(
        codebook=codebook,
        name=name,
        definition=definition.strip(),
        guidance=guidance.strip(),
        colour=colour,
        shortcut=shortcut,
        order=(max((c.order for c in codebook.codes.all()), default=-1) + 1),
        actor=actor,
    )


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
    codebook = Codebook.objects.select_for_update().get(pk=code.codebook_id)
    code = Code.objects.get(pk=code.pk)
    name = name.strip()
    if not name:
        raise ServiceError("A code needs a name.")
    if codebook.codes.filter(name=name).exclude(pk=code.pk).exists():
        raise ServiceError(f"The codebook already has a code named “{name}”.")
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
            created_by=actor if actor is not None and actor.is_authenticated else None,
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
        project=codebook.project,
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
    code = Code.objects.select_related("codebook__project").get(pk=code.pk)
    if code.active == active:
        return code
    code.active = active
    code.save(update_fields=["active"])
    audit_record(
        actor=actor,
        action="reactivate" if active else "retire",
        obj=code,
        project=code.codebook.project,
        before={"active": not active},
        after={"active": active},
    )
    return code


@transaction.atomic
def code_delete(*, code: Code, actor) -> None:
    code = Code.objects.select_related("codebook__project").get(pk=code.pk)
    # Soft-deleted spans count: they are still a coder's work and can be restored.
    spans = Span.objects.filter(code=code).count()
    gold = GoldSpan.objects.filter(code=code).count()
    if spans or gold:
        uses = [_plural(n, noun) for n, noun in ((spans, "span"), (gold, "gold span")) if n]
        raise ServiceError(f"“{code.name}” is used by {' and '.join(uses)}; retire it instead.")
    project = code.codebook.project
    before = code_state(code)
    audit_record(actor=actor, action="delete", obj=code, project=project, before=before)
    code.delete()


# --- People -----------------------------------------------------------------------


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


def awaiting_password(user) -> bool:
    """An account created by invitation whose owner has not chosen a password yet."""
    return not user.has_usable_password() and user.last_login is None


@transaction.atomic
def member_add(
    *, project: Project, username: str, role: str, email: str = "", actor
) -> MemberAdded:
    """Add a person to the project, creating their account (without a password) if needed."""
    username = username.strip()
    email = email.strip()
    if role not in Role.values:
        raise ServiceError(f"Unknown role “{role}”.")
    if not username:
        raise ServiceError("Give the person's user name.")
    try:
        UnicodeUsernameValidator()(username)
    except ValidationError:
        raise ServiceError(
            f"“{username}” is not a valid user name: use letters, digits and @ . + - _ only."
        ) from None
    if len(username) > 150:
        raise ServiceError("A user name has at most 150 characters.")
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


@transaction.atomic
def member_set_role(*, membership: Membership, role: str, actor) -> Membership:
    if role not in Role.values:
        raise ServiceError(f"Unknown role “{role}”.")
    membership = (
        Membership.objects.select_for_update()
        .select_related("project", "user")
        .get(pk=membership.pk)
    )
    if membership.role == Role.MANAGER and role != Role.MANAGER and not _other_managers(membership):
        raise ServiceError("A project needs at least one manager; make someone else manager first.")
    return membership_set(project=membership.project, user=membership.user, role=role, actor=actor)


@transaction.atomic
def member_remove(*, membership: Membership, actor) -> None:
    """Take a person off the project; everything they coded stays."""
    membership = (
        Membership.objects.select_for_update()
        .select_related("project", "user")
        .get(pk=membership.pk)
    )
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


# --- Assignments ------------------------------------------------------------------


@transaction.atomic
def assignment_remove(*, assignment: Assignment, actor) -> None:
    """Withdraw a document from a coder, only while they have not coded anything in it."""
    assignment = Assignment.objects.select_related("document__project", "coder").get(
        pk=assignment.pk
    )
    spans = Span.objects.filter(assignment=assignment).count()
    if spans:
        raise ServiceError(
            f"{assignment.coder.username} has {_plural(spans, 'span')} in "
            f"“{assignment.document.title}”; an assignment with spans stays so that "
            "their work is kept. Assign the document to someone else as well instead."
        )
    document = assignment.document
    audit_record(
        actor=actor,
        action="delete",
        obj=assignment,
        document=document,
        before={"coder": assignment.coder.username, "status": assignment.status},
    )
    assignment.delete()


class BulkMode:
    EVERY = "every"
    EACH_N = "each_n"
    SAMPLE = "sample"
    CHOICES = (
        (EVERY, "Every document to every coder"),
        (EACH_N, "Each document to N coders, balanced"),
        (SAMPLE, "Double-code a random sample, the rest once"),
    )


@dataclass
class BulkOutcome:
    created: int = 0
    seed: int | None = None
    double_coded: list[int] = field(default_factory=list)  # document ids in the sample

    @property
    def summary(self) -> str:
        text = f"Created {_plural(self.created, 'assignment')}."
        if self.seed is not None:
            text += (
                f" {_plural(len(self.double_coded), 'document')} double-coded"
                f" (random seed {self.seed}: use it again to draw the same sample)."
            )
        return text


def sample_sizes(strata: dict[str, int], percent: float) -> dict[str, int]:
    """How many documents to draw from each stratum: proportional, rounded so that the
    total is round(percent of all) (largest remainder), so small strata are not all lost."""
    total = sum(strata.values())
    wanted = math.floor(total * percent / 100 + 0.5)
    exact = {key: size * percent / 100 for key, size in strata.items()}
    sizes = {key: math.floor(value) for key, value in exact.items()}
    left = wanted - sum(sizes.values())
    by_remainder = sorted(exact, key=lambda key: (-(exact[key] - sizes[key]), key))
    for key in by_remainder[:left]:
        sizes[key] += 1
    return sizes


def _parse_seed(seed) -> int:
    if seed in (None, ""):
        return secrets.randbelow(1_000_000)
    try:
        return int(seed)
    except (TypeError, ValueError):
        raise ServiceError(f"The random seed must be a whole number, not “{seed}”.") from None


@transaction.atomic
def assignments_bulk(
    *,
    project: Project,
    mode: str,
    coders: list | None = None,
    per_document: int = 2,
    percent: float = 10,
    stratify_by_outlet: bool = False,
    seed=None,
    actor,
) -> BulkOutcome:
    """Assign every document of the project at once; existing assignments count towards
    the target and are never removed.

    ``coders`` defaults to every member with the coder role; anyone else given is refused.
    Load is balanced by giving each document to the coders with the fewest assignments
    in the project so far, ties broken at random from the seed.
    """
    members = {
        m.user_id: m.user for m in Membership.objects.filter(project=project).select_related("user")
    }
    if coders is None:
        pool = [
            m.user
            for m in Membership.objects.filter(project=project, role=Role.CODER)
            .select_related("user")
            .order_by("user__username")
        ]
    else:
        pool = []
        for coder in coders:
            if coder.pk not in members:
                raise ServiceError(f"{coder.username} is not a member of this project.")
            pool.append(coder)
    if not pool:
        raise ServiceError("There are no coders to assign to; add coders on the People page first.")
    documents = list(Document.objects.filter(project=project).order_by("pk"))
    if not documents:
        raise ServiceError("The project has no documents yet; upload some first.")

    outcome = BulkOutcome()
    rng = random.Random()
    sample: set[int] = set()
    if mode == BulkMode.EVERY:
        target = dict.fromkeys((d.pk for d in documents), len(pool))
    elif mode == BulkMode.EACH_N:
        try:
            per_document = int(per_document)
        except (TypeError, ValueError):
            raise ServiceError(
                "Give the number of coders per document as a whole number."
            ) from None
        if not 1 <= per_document <= len(pool):
            raise ServiceError(
                f"Each document to {per_document} coders needs between 1 and {len(pool)} "
                f"(the number of coders chosen)."
            )
        target = dict.fromkeys((d.pk for d in documents), per_document)
    elif mode == BulkMode.SAMPLE:
        if len(pool) < 2:
            raise ServiceError("Double coding needs at least two coders.")
        try:
            percent = float(percent)
        except (TypeError, ValueError):
            raise ServiceError("Give the sample as a percentage between 0 and 100.") from None
        if not 0 <= percent <= 100:
            raise ServiceError("Give the sample as a percentage between 0 and 100.")
        outcome.seed = _parse_seed(seed)
        rng.seed(outcome.seed)
        strata: dict[str, list[Document]] = defaultdict(list)
        for document in documents:
            strata[document.outlet if stratify_by_outlet else ""].append(document)
        sizes = sample_sizes({k: len(v) for k, v in strata.items()}, percent)
        for key in sorted(strata):
            sample.update(d.pk for d in rng.sample(strata[key], sizes[key]))
        outcome.double_coded = sorted(sample)
        target = {d.pk: 2 if d.pk in sample else 1 for d in documents}
    else:
        raise ServiceError("Choose how to assign the documents.")

    pool_ids = {c.pk for c in pool}
    existing = Assignment.objects.filter(document__project=project).values_list(
        "document_id", "coder_id"
    )
    assigned: dict[int, set[int]] = defaultdict(set)
    load: Counter[int] = Counter()
    for document_id, coder_id in existing:
        assigned[document_id].add(coder_id)
        load[coder_id] += 1
    new: list[Assignment] = []
    for document in documents:
        have = assigned[document.pk]
        missing = target[document.pk] - len(have & pool_ids)
        candidates = [c for c in pool if c.pk not in have]
        rng.shuffle(candidates)
        candidates.sort(key=lambda c: load[c.pk])  # stable: shuffled order breaks ties
        for coder in candidates[: max(missing, 0)]:
            new.append(Assignment(document=document, coder=coder))
            load[coder.pk] += 1
            have.add(coder.pk)
    Assignment.objects.bulk_create(new)
    outcome.created = len(new)
    audit_record(
        actor=actor,
        action="bulk_assign",
        obj=project,
        project=project,
        after={
            "mode": mode,
            "created": [[a.document_id, a.coder.username] for a in new],
            "seed": outcome.seed,
            "double_coded": outcome.double_coded,
        },
    )
    return outcome


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
