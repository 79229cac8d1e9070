"""The Django admin, for looking only: every model of the app is shown read-only.

Every change to a project's data goes through its service, which checks it, records an
audit event and bumps versions; the admin would do none of that. Managers change studies
on the app's own pages; a superuser can still look at everything here.
"""

from django.contrib import admin

from .models import (
    AgreementRun,
    ApiToken,
    Assignment,
    AuditEvent,
    Code,
    Codebook,
    CodebookVersion,
    Document,
    DocumentReview,
    GoldSpan,
    Invitation,
    Membership,
    Project,
    Pseudonym,
    ReviewDecision,
    Span,
    WorkerCheck,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shown, never changed: no add, change or delete, and no bulk actions."""

    actions = None

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Project)
class ProjectAdmin(ReadOnlyAdmin):
    list_display = ["name", "blind", "agreement_unit", "created_at"]
    search_fields = ["name"]


@admin.register(Membership)
class MembershipAdmin(ReadOnlyAdmin):
    list_display = ["user", "project", "role"]
    list_filter = ["role", "project"]


@admin.register(Invitation)
class InvitationAdmin(ReadOnlyAdmin):
    list_display = ["username", "project", "role", "status", "created_at", "decided_at"]
    list_filter = ["status", "project"]
    exclude = ["token_hash"]


@admin.register(Pseudonym)
class PseudonymAdmin(ReadOnlyAdmin):
    list_display = ["project", "user", "number"]


@admin.register(Codebook)
class CodebookAdmin(ReadOnlyAdmin):
    list_display = ["project", "version", "updated_at"]


@admin.register(CodebookVersion)
class CodebookVersionAdmin(ReadOnlyAdmin):
    list_display = ["codebook", "number", "created_at", "created_by"]


@admin.register(Code)
class CodeAdmin(ReadOnlyAdmin):
    list_display = ["name", "codebook", "shortcut", "colour", "order", "active"]
    list_filter = ["active", "codebook__project"]


@admin.register(Document)
class DocumentAdmin(ReadOnlyAdmin):
    list_display = ["title", "project", "outlet", "published", "length"]
    list_filter = ["project", "outlet"]
    search_fields = ["title", "external_id"]


@admin.register(Assignment)
class AssignmentAdmin(ReadOnlyAdmin):
    list_display = ["document", "coder", "status", "updated_at"]
    list_filter = ["status", "document__project"]


@admin.register(Span)
class SpanAdmin(ReadOnlyAdmin):
    list_display = ["code", "start", "end", "assignment", "version", "deleted_at"]
    list_filter = ["code", "assignment__document__project"]


@admin.register(GoldSpan)
class GoldSpanAdmin(ReadOnlyAdmin):
    list_display = ["code", "start", "end", "document", "provenance", "version", "deleted_at"]
    list_filter = ["provenance", "document__project"]


@admin.register(DocumentReview)
class DocumentReviewAdmin(ReadOnlyAdmin):
    list_display = ["document", "status", "started_by", "started_at", "settled_at"]


@admin.register(ReviewDecision)
class ReviewDecisionAdmin(ReadOnlyAdmin):
    list_display = ["document", "kind", "action", "start", "end", "decided_by", "decided_at"]


@admin.register(AgreementRun)
class AgreementRunAdmin(ReadOnlyAdmin):
    list_display = ["pk", "project", "status", "requested_at", "finished_at", "attempts"]
    list_filter = ["status", "project"]


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "actor", "action", "object_type", "object_id", "project", "via"]
    list_filter = ["action", "object_type", "project"]


@admin.register(WorkerCheck)
class WorkerCheckAdmin(ReadOnlyAdmin):
    list_display = ["token", "hostname", "at"]


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    # The secret is never stored; its hash is no use to anyone and is not shown.
    list_display = ["name", "user", "prefix", "created_at", "last_used_at", "revoked_at"]
    exclude = ["token_hash"]
