from django.contrib import admin

from .models import (
    Assignment,
    AuditEvent,
    Code,
    Codebook,
    Document,
    Membership,
    Project,
    Span,
    WorkerCheck,
)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["name", "blind", "agreement_unit", "created_at"]
    search_fields = ["name"]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "project", "role"]
    list_filter = ["role", "project"]


class CodeInline(admin.TabularInline):
    model = Code
    extra = 0
    fields = ["name", "shortcut", "colour", "order", "active"]


@admin.register(Codebook)
class CodebookAdmin(admin.ModelAdmin):
    list_display = ["project", "version", "updated_at"]
    inlines = [CodeInline]


@admin.register(Code)
class CodeAdmin(admin.ModelAdmin):
    list_display = ["name", "codebook", "shortcut", "colour", "order", "active"]
    list_filter = ["active", "codebook__project"]

    def has_delete_permission(self, request, obj=None):
        # Codes in use are retired (active = False), never deleted.
        return obj is None or not obj.spans.exists()


@admin.register(Document)
class DocumentAdmin(admin.ModelAdmin):
    list_display = ["title", "project", "outlet", "published", "length"]
    list_filter = ["project", "outlet"]
    search_fields = ["title", "external_id"]
    readonly_fields = ["text", "sha256", "length"]


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    list_display = ["document", "coder", "status", "updated_at"]
    list_filter = ["status", "document__project"]


@admin.register(Span)
class SpanAdmin(admin.ModelAdmin):
    list_display = ["code", "start", "end", "assignment", "version", "deleted_at"]
    list_filter = ["code", "assignment__document__project"]
    readonly_fields = ["quote", "start", "end", "version", "created_at", "updated_at"]

    def has_delete_permission(self, request, obj=None):
        return False  # a coder's work is soft-deleted through the app, never erased


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["at", "actor", "action", "object_type", "object_id", "project"]
    list_filter = ["action", "object_type", "project"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(WorkerCheck)
class WorkerCheckAdmin(admin.ModelAdmin):
    list_display = ["token", "hostname", "at"]
