"""Who may see and change what: every access rule of the app, and nowhere else.

Every ``access_*`` function answers "not found" (404) both for objects that do not exist
and for objects the user may not see, with the same message, so that an id belonging to
another coder or project reveals nothing (not even that it exists). Views call these;
templates receive the booleans of :class:`Rights` and never look at roles.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from django.http import Http404

from .models import (
    AgreementRun,
    ApiToken,
    Assignment,
    AssignmentStatus,
    Code,
    Document,
    DocumentReview,
    GoldSpan,
    Invitation,
    InvitationStatus,
    Membership,
    Project,
    ReviewStatus,
    Role,
    Span,
)
from .selectors import rights as reads
from .selectors.export.spec import LAYER_CODERS, ExportSpec

NOT_FOUND = "Not found."
REVIEW_ROLES = (Role.REVIEWER, Role.MANAGER)


def _not_found():
    return Http404(NOT_FOUND)


# --- Projects and roles ---------------------------------------------------------------


def membership(user, project: Project | int) -> Membership | None:
    if not user.is_authenticated:
        return None
    project_id = project.pk if isinstance(project, Project) else project
    return Membership.objects.filter(user=user, project_id=project_id).first()


def access_project(user, project_id: int, *, roles=None) -> tuple[Project, Membership]:
    member = (
        Membership.objects.select_related("project")
        .filter(user=user, project_id=project_id)
        .first()
        if user.is_authenticated
        else None
    )
    if member is None or (roles is not None and member.role not in roles):
        raise _not_found()
    return member.project, member


def access_manage(user, project_id: int) -> tuple[Project, Membership]:
    """The project's managers only: settings, documents, codebook, people, assignments."""
    return access_project(user, project_id, roles=(Role.MANAGER,))


def access_review(user, project_id: int) -> tuple[Project, Membership]:
    """Reviewers and managers: the review queue."""
    return access_project(user, project_id, roles=REVIEW_ROLES)


def reviewer_memberships(user) -> list[Membership]:
    """The user's memberships in projects they review or manage, by project name."""
    if not user.is_authenticated:
        return []
    return list(
        Membership.objects.filter(user=user, role__in=REVIEW_ROLES)
        .select_related("project")
        .order_by("project__name", "project_id")
    )


def managed_memberships(user) -> list[Membership]:
    if not user.is_authenticated:
        return []
    return list(
        Membership.objects.filter(user=user, role=Role.MANAGER)
        .select_related("project")
        .order_by("project__name", "project_id")
    )


def can_see_other_coders(member: Membership) -> bool:
    """Reviewers and managers see everyone's work; coders only in open (non-blind) projects."""
    return member.role in REVIEW_ROLES or not member.project.blind


def access_agreement(user, project_id: int) -> tuple[Project, Membership]:
    """Reviewers and managers; coders too in open projects, never in blind ones."""
    project, member = access_project(user, project_id)
    if not can_see_other_coders(member):
        raise _not_found()
    return project, member


def can_export(member: Membership) -> bool:
    return member.role != Role.CODER or member.project.coders_may_export


def access_export(user, project_id: int) -> tuple[Project, Membership]:
    """Every member, except coders of a project that keeps exports to reviewers and managers."""
    project, member = access_project(user, project_id)
    if not can_export(member):
        raise _not_found()
    return project, member


def may_choose_names(member: Membership) -> bool:
    """Only a manager may export a blind project with usernames (and must ask for it)."""
    return member.role == Role.MANAGER and member.project.blind


def export_scope(spec: ExportSpec, member: Membership) -> ExportSpec:
    """Narrow what was asked to what the member may see: a coder gets their own spans and
    nothing derived from other coders in a blind project; only managers see names."""
    blind = member.project.blind
    if member.role == Role.CODER:
        return replace(
            spec,
            layer=LAYER_CODERS,
            coder_id=member.user_id,
            names=not blind,
            audit_actor_id=member.user_id,
            others=not blind,
        )
    if member.role == Role.REVIEWER:
        return replace(spec, names=not blind)
    return replace(spec, names=spec.names or not blind)


@dataclass(frozen=True)
class Rights:
    """What a member may use in a project, for pages to show or hide."""

    is_coder: bool
    can_manage: bool
    can_review: bool
    can_see_agreement: bool
    can_export: bool
    may_choose_names: bool
    sees_feedback: bool  # a coder whose settled documents may be compared with gold


def rights(member: Membership) -> Rights:
    return Rights(
        is_coder=member.role == Role.CODER,
        can_manage=member.role == Role.MANAGER,
        can_review=member.role in REVIEW_ROLES,
        can_see_agreement=can_see_other_coders(member),
        can_export=can_export(member),
        may_choose_names=may_choose_names(member),
        sees_feedback=member.role == Role.CODER and member.project.feedback_to_coders,
    )


# --- Objects inside a project a member manages ---------------------------------------------


def access_project_code(project: Project, code_id: int) -> Code:
    code = Code.objects.filter(pk=code_id, codebook__project=project).first()
    if code is None:
        raise _not_found()
    return code


def access_project_member(project: Project, membership_id: int) -> Membership:
    member = (
        Membership.objects.select_related("user", "project")
        .filter(pk=membership_id, project=project)
        .first()
    )
    if member is None:
        raise _not_found()
    return member


def access_project_document(project: Project, document_id: int) -> Document:
    document = Document.objects.filter(pk=document_id, project=project).first()
    if document is None:
        raise _not_found()
    return document


def access_project_assignment(project: Project, assignment_id: int) -> Assignment:
    assignment = (
        Assignment.objects.select_related("document", "coder")
        .filter(pk=assignment_id, document__project=project)
        .first()
    )
    if assignment is None:
        raise _not_found()
    return assignment


def access_run(project: Project, run_id: int) -> AgreementRun:
    run = AgreementRun.objects.filter(pk=run_id, project=project).first()
    if run is None:
        raise _not_found()
    return run


# --- Coding -----------------------------------------------------------------------------


def access_assignment(user, document_id: int) -> Assignment:
    """The user's own assignment for a document: the only way into the coding screen."""
    # A coder removed from the project keeps their rows but not their way in: the
    # membership is part of the one query (unique per project and user, so no duplicates).
    assignment = (
        Assignment.objects.select_related("document__project__codebook")
        .filter(document_id=document_id, coder=user, document__project__memberships__user=user)
        .first()
        if user.is_authenticated
        else None
    )
    if assignment is None:
        raise _not_found()
    return assignment


def access_own_span(user, span_id: int) -> Span:
    """A live or deleted span of the user's own: coders change only their own work."""
    span = (
        Span.objects.select_related("assignment__document__project__codebook", "code")
        .filter(
            pk=span_id,
            assignment__coder=user,
            assignment__document__project__memberships__user=user,
        )
        .first()
        if user.is_authenticated
        else None
    )
    if span is None:
        raise _not_found()
    return span


UNDER_REVIEW = (
    "A reviewer has started on this document, so its spans can no longer change: the gold "
    "layer is being settled from them. The project's manager can reopen it for coding."
)
MARKED_DONE = "You marked this document done. Reopen it to change its spans."


def coding_frozen(assignment: Assignment) -> str:
    """Why a coder may not change their spans on this document now, or "" if they may.

    Work under review is frozen (the gold layer is settled from it) until a manager
    reopens the document for coding; work the coder marked done changes once reopened.
    """
    return _frozen(*reads.coding_state(assignment.pk))


def _frozen(status: str, review_status: str | None) -> str:
    if review_status is not None and review_status != ReviewStatus.REOPENED:
        return UNDER_REVIEW
    if status == AssignmentStatus.DONE:
        return MARKED_DONE
    return ""


# The same reasons, told to whoever imports spans into a coder's work ({name}: the coder).
FROZEN_FOR_IMPORT = {
    UNDER_REVIEW: (
        "a reviewer has started on it, so {name}'s spans there can no longer change: the "
        "project's manager can reopen it for coding"
    ),
    MARKED_DONE: "{name} marked it done, so their spans there change only once they reopen it",
}


def frozen_for_import(documents, coders) -> dict[tuple[int, int], str]:
    """(document id, coder id) → why an import may not add to that coder's spans there
    now (``coding_frozen``, worded for the importer), for the pairs that are frozen."""
    if not documents or not coders:
        return {}
    return {
        (document_id, coder_id): FROZEN_FOR_IMPORT.get(reason, reason)
        for document_id, coder_id, status, review in reads.coding_states(documents, coders)
        if (reason := _frozen(status, review))
    }


def can_see_feedback(assignment: Assignment) -> bool:
    """A coder may compare a document with its gold layer once its review is finished, in
    projects that allow it."""
    document = assignment.document
    return document.project.feedback_to_coders and (
        DocumentReview.objects.filter(document=document, status=ReviewStatus.SETTLED).exists()
    )


def access_feedback(user, document_id: int) -> Assignment:
    assignment = access_assignment(user, document_id)
    if not can_see_feedback(assignment):
        raise _not_found()
    return assignment


# --- Review ------------------------------------------------------------------------------


def access_document_for_review(user, document_id: int) -> tuple[Document, Membership]:
    document = Document.objects.select_related("project").filter(pk=document_id).first()
    if document is None:
        raise _not_found()
    _, member = access_project(user, document.project_id, roles=REVIEW_ROLES)
    return document, member


def access_document_to_manage(user, document_id: int) -> tuple[Document, Membership]:
    """A document of a project the user manages (reopening it for coding, say)."""
    document = Document.objects.select_related("project").filter(pk=document_id).first()
    if document is None:
        raise _not_found()
    _, member = access_manage(user, document.project_id)
    return document, member


def access_gold(user, gold_id: int) -> tuple[GoldSpan, Document, Membership]:
    gold = GoldSpan.objects.filter(pk=gold_id).first()
    if gold is None:
        raise _not_found()
    document, member = access_document_for_review(user, gold.document_id)
    gold.document = document
    return gold, document, member


# --- Reading documents, spans, assignments and runs by id (the JSON API) -------------------


def visible_documents(project: Project, member: Membership):
    """The project's documents a member may read: all for reviewers and managers, a coder's
    assigned ones for a coder."""
    documents = Document.objects.filter(project=project)
    if member.role in REVIEW_ROLES:
        return documents
    return documents.filter(assignments__coder_id=member.user_id)


def access_document(user, document_id: int) -> tuple[Document, Membership]:
    """A document its project's reviewers and managers may read, and its assigned coders."""
    document = Document.objects.select_related("project").filter(pk=document_id).first()
    if document is None:
        raise _not_found()
    _, member = access_project(user, document.project_id)
    if member.role not in REVIEW_ROLES and not document.assignments.filter(coder=user).exists():
        raise _not_found()
    return document, member


def visible_spans(document: Document, member: Membership):
    """The live coders' spans of a document a member may read: every coder's for reviewers
    and managers, only their own for a coder (in open projects too, as on every page)."""
    spans = Span.objects.live().filter(assignment__document=document)
    if member.role in REVIEW_ROLES:
        return spans
    return spans.filter(assignment__coder_id=member.user_id)


def access_own_assignment(user, assignment_id: int) -> Assignment:
    """The user's own assignment, by its id (see :func:`access_assignment`)."""
    document_id = (
        Assignment.objects.filter(pk=assignment_id, coder=user)
        .values_list("document_id", flat=True)
        .first()
        if user.is_authenticated
        else None
    )
    if document_id is None:
        raise _not_found()
    return access_assignment(user, document_id)


def access_agreement_run(user, run_id: int) -> tuple[AgreementRun, Membership]:
    """A run of a project whose agreement the user may see (see :func:`access_agreement`)."""
    project_id = AgreementRun.objects.filter(pk=run_id).values_list("project_id", flat=True).first()
    if project_id is None:
        raise _not_found()
    project, member = access_agreement(user, project_id)
    return access_run(project, run_id), member


def export_coder_layers(project: Project, member: Membership) -> dict[str, int]:
    """One coder's export layer, by the label the member sees (never a user id): every
    coder's for reviewers and managers, only their own for a coder."""
    from .selectors.export.rows import reliability_coders
    from .selectors.export.spec import coder_labels

    labels = coder_labels(project, names=may_choose_names(member) or not project.blind)
    coders = reliability_coders(project, ExportSpec())
    if member.role == Role.CODER:
        coders = [uid for uid in coders if uid == member.user_id]
    return {labels[uid]: uid for uid in coders if uid in labels}


# --- Accounts and the whole site --------------------------------------------------------------


def may_create_projects(user) -> bool:
    """A site-level right: the administrator has it, new accounts do not (grant it with
    ``manage.py project_creators add USERNAME``)."""
    return user.is_authenticated and (
        user.is_superuser or user.has_perm("annotations.create_project")
    )


@dataclass(frozen=True)
class SiteRights:
    """What the header offers a user, whatever project they are in."""

    may_create_projects: bool = False
    manages: bool = False  # manages at least one project
    reviews: bool = False  # reviews or manages at least one project
    invitations: int = 0  # pending invitations waiting for their answer
    codes: bool = False  # codes in at least one project (or has documents assigned)

    @property
    def offers_work(self) -> bool:
        """ "My work" is worth a link: the user codes, has invitations to answer, or has
        nothing else (it then says they are in no project yet)."""
        return self.codes or bool(self.invitations) or not (self.reviews or self.manages)


def site_rights(user) -> SiteRights:
    """One query, as every page's header asks."""
    if not user.is_authenticated:
        return SiteRights()
    row = reads.site_flags(user.pk)
    if row is None:
        return SiteRights()
    return SiteRights(
        may_create_projects=bool(row["is_active"] and (row["is_superuser"] or row["creator"])),
        manages=bool(row["manages"]),
        reviews=bool(row["manages"] or row["reviewer"]),  # REVIEW_ROLES
        invitations=row["waiting"] or 0,
        codes=bool(row["codes"]),
    )


def access_own_invitation(user, invitation_id: int) -> Invitation:
    """A pending invitation addressed to this account: only its invitee may answer it."""
    invitation = (
        Invitation.objects.select_related("project")
        .filter(pk=invitation_id, user=user, status=InvitationStatus.PENDING)
        .first()
        if user.is_authenticated
        else None
    )
    if invitation is None:
        raise _not_found()
    return invitation


def access_project_invitation(project: Project, invitation_id: int) -> Invitation:
    invitation = (
        Invitation.objects.select_related("project")
        .filter(pk=invitation_id, project=project, status=InvitationStatus.PENDING)
        .first()
    )
    if invitation is None:
        raise _not_found()
    return invitation


def access_own_token(user, token_id: int) -> ApiToken:
    """One of the user's own API tokens: nobody else may see or revoke it."""
    token = (
        ApiToken.objects.filter(pk=token_id, user=user).first() if user.is_authenticated else None
    )
    if token is None:
        raise _not_found()
    return token
