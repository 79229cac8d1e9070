from django.urls import path

from .views import coding, work

urlpatterns = [
    path("", work.home, name="home"),
    path("next/", work.next_document, name="next-document"),
    path("projects/<int:project_id>/", work.project, name="project"),
    path("projects/<int:project_id>/codes.css", coding.code_styles, name="code-styles"),
    path("documents/<int:document_id>/code/", coding.annotate, name="annotate"),
    path("documents/<int:document_id>/spans/", coding.span_create, name="span-create"),
    path("documents/<int:document_id>/inspect/", coding.inspect, name="inspect"),
    path("documents/<int:document_id>/status/", coding.status, name="assignment-status"),
    path("spans/<int:span_id>/", coding.span_update, name="span-update"),
    path("spans/<int:span_id>/delete/", coding.span_delete, name="span-delete"),
    path("spans/<int:span_id>/restore/", coding.span_restore, name="span-restore"),
]
