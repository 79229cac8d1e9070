"""Projects I belong to, with my role, and a project's codebook."""

from __future__ import annotations

from ninja import Field, Router, Schema

from ..permissions import access_project, rights
from ..selectors import api as selectors
from .schemas import PathId, responses

router = Router(tags=["projects"])


class ProjectOut(Schema):
    id: int
    name: str
    description: str
    role: str = Field(description="Mine: coder, reviewer or manager.")
    blind: bool = Field(description="Coders see only their own spans, never another coder's.")
    agreement_unit: str
    feedback_to_coders: bool
    may_export: bool = Field(description="Whether I may download (GET …/export/{file}).")
    may_see_agreement: bool = Field(description="Whether I may request and read agreement runs.")
    may_review: bool
    may_manage: bool


class CodeOut(Schema):
    id: int
    name: str
    definition: str
    guidance: str
    colour: str = Field(description="#rrggbb")
    shortcut: str
    order: int
    active: bool = Field(description="Retired codes stay on their spans but take no new ones.")


@router.get("/projects", response=responses({200: list[ProjectOut]}))
def list_projects(request):
    """The projects I belong to, with my role and what it lets me do."""
    rows = []
    for member in selectors.member_projects(request.auth):
        project, allowed = member.project, rights(member)
        rows.append(
            {
                "id": project.pk,
                "name": project.name,
                "description": project.description,
                "role": member.role,
                "blind": project.blind,
                "agreement_unit": project.agreement_unit,
                "feedback_to_coders": project.feedback_to_coders,
                "may_export": allowed.can_export,
                "may_see_agreement": allowed.can_see_agreement,
                "may_review": allowed.can_review,
                "may_manage": allowed.can_manage,
            }
        )
    return rows


@router.get("/projects/{project_id}/codes", response=responses({200: list[CodeOut]}))
def list_codes(request, project_id: PathId):
    """The project's codebook, in its order: every member may read it."""
    access_project(request.auth, project_id)
    return selectors.project_codes(project_id)
