"""The manager's pages: projects, settings, documents, codebook, people, assignments and
progress. Every project page is for the project's managers only: anyone else gets 404.

Writes use plain forms that redirect after success (post/redirect/get) and answer 422
with the message and the page as it was when a service refuses.
"""

from django.urls import path

from . import assignments, codebook, documents, people, projects

P = "manage/<id:project_id>/"

urlpatterns = [
    path("manage/", projects.projects, name="manage-projects"),
    path("manage/new/", projects.project_create, name="manage-project-create"),
    path(P, projects.dashboard, name="manage-dashboard"),
    path(P + "settings/", projects.project_settings, name="manage-settings"),
    path(P + "documents/", documents.documents, name="manage-documents"),
    path(P + "documents/upload/", documents.documents_upload, name="manage-upload"),
    path(P + "codebook/", codebook.codebook, name="manage-codebook"),
    path(P + "codes/", codebook.code_add, name="manage-code-add"),
    path(P + "codes/<id:code_id>/", codebook.code_update, name="manage-code-update"),
    path(P + "codes/<id:code_id>/move/", codebook.code_move, name="manage-code-move"),
    path(P + "codes/<id:code_id>/retire/", codebook.code_retire, name="manage-code-retire"),
    path(P + "codes/<id:code_id>/delete/", codebook.code_delete, name="manage-code-delete"),
    path(P + "people/", people.people, name="manage-people"),
    path(P + "people/add/", people.member_add, name="manage-member-add"),
    path(P + "people/<id:membership_id>/role/", people.member_role, name="manage-member-set"),
    path(
        P + "people/<id:membership_id>/remove/", people.member_remove, name="manage-member-remove"
    ),
    path(
        P + "invitations/<id:invitation_id>/link/",
        people.invitation_link,
        name="manage-invitation-link",
    ),
    path(
        P + "invitations/<id:invitation_id>/withdraw/",
        people.invitation_withdraw,
        name="manage-invitation-withdraw",
    ),
    path(P + "assignments/", assignments.assignments, name="manage-assignments"),
    path(P + "assignments/bulk/", assignments.assignments_bulk, name="manage-assignments-bulk"),
    path(P + "assignments/add/", assignments.assignment_add, name="manage-assignment-add"),
    path(
        P + "assignments/<id:assignment_id>/remove/",
        assignments.assignment_remove,
        name="manage-assignment-remove",
    ),
]
