"""Documents: a project's (paginated), one with its text, and imports by managers.

An import goes through the import pipeline (``services.imports``) exactly as the upload
page's: every format it reads, all or nothing, ``dry_run`` to check without storing.
JSON documents are handed to it as Framing's own JSONL.
"""

from __future__ import annotations

import datetime
import json

from django.conf import settings
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import ValidationError
from pydantic import BaseModel
from pydantic import ValidationError as PydanticError

from ..domain.formats.uploads import Hints
from ..forms import MAX_COUNT, InputError, Params
from ..permissions import access_document, access_manage, access_project, visible_documents
from ..selectors import api as selectors
from ..services import imports
from .schemas import In, PathId, inline_schema, responses, write_responses

router = Router(tags=["documents"])

TEXT_LIMIT = 10_000_000
PAGE_SIZE_LIMIT = 500
JSON_FILE = "documents.jsonl"
API_HINTS = Hints(
    coder="“coder” (a member's username)",
    only_coder="“only_coder”",
    create_coders="adding them as coders first (the People page)",
    create_codes="“create_codes”",
    format="“format”",
)


class AssignmentRef(Schema):
    id: int
    status: str


class DocumentOut(Schema):
    id: int
    project_id: int
    title: str
    external_id: str
    outlet: str
    url: str
    published: datetime.date | None
    length: int = Field(description="Length of the text in Unicode code points.")
    sha256: str
    created_at: datetime.datetime
    my_assignment: AssignmentRef | None = Field(description="My own assignment, if I code it.")
    text: str | None = Field(description="The text (with include_text=true, or one document).")


class DocumentsPageOut(Schema):
    count: int
    page: int
    page_size: int
    items: list[DocumentOut]


def _document(document, *, assignment=None, text: bool) -> dict:
    if assignment is not None:
        mine = {"id": assignment.pk, "status": assignment.status}
    elif getattr(document, "my_assignment_id", None) is not None:
        mine = {"id": document.my_assignment_id, "status": document.my_status}
    else:
        mine = None
    return {
        "id": document.pk,
        "project_id": document.project_id,
        "title": document.title,
        "external_id": document.external_id,
        "outlet": document.outlet,
        "url": document.url,
        "published": document.published,
        "length": document.length,
        "sha256": document.sha256,
        "created_at": document.created_at,
        "my_assignment": mine,
        "text": document.text if text else None,
    }


@router.get("/projects/{project_id}/documents", response=responses({200: DocumentsPageOut}))
def list_documents(
    request,
    project_id: PathId,
    page: int = Query(1, ge=1, le=MAX_COUNT),
    page_size: int = Query(50, ge=1, le=PAGE_SIZE_LIMIT),
    include_text: bool = False,
):
    """The documents I may read, by id: every document for reviewers and managers, my
    assigned ones for a coder."""
    project, member = access_project(request.auth, project_id)
    found = selectors.documents_page(
        visible_documents(project, member),
        user=request.auth,
        page=page,
        page_size=page_size,
        include_text=include_text,
    )
    return {
        "count": found.count,
        "page": found.page,
        "page_size": found.page_size,
        "items": [_document(d, text=include_text) for d in found.items],
    }


@router.get("/documents/{document_id}", response=responses({200: DocumentOut}))
def get_document(request, document_id: PathId):
    """One document with its text (a coder reads only the documents assigned to them)."""
    document, _ = access_document(request.auth, document_id)
    mine = selectors.own_assignment(document, request.auth)
    return _document(document, assignment=mine, text=True)


# --- Import ---------------------------------------------------------------------------------


class DocumentIn(In):
    text: str = Field(min_length=1, max_length=TEXT_LIMIT)
    title: str = Field("", max_length=300, description="Empty: the text's first sentence.")
    external_id: str = Field("", max_length=200)
    outlet: str = Field("", max_length=200)
    url: str = Field("", max_length=2000)
    published: str | None = Field(None, pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


class DocumentsImportIn(In):
    documents: list[DocumentIn] = Field(min_length=1, max_length=10_000)
    dry_run: bool = Field(False, description="Check everything, store nothing.")


class DocumentsUploadIn(BaseModel):
    """The multipart form: files in any format the import reads (see the README)."""

    files: list[bytes] = Field(
        description="One or more files (.txt, .csv, .jsonl, .json, .ann, .tsv, .xmi, .zip …)."
    )
    format: str = Field("auto", description="auto, txt, csv, jsonl, doccano, labelstudio …")
    offsets: str | None = Field(None, description="codepoints, utf16 or graphemes")
    coder: str | None = Field(None, description="A member's username that takes every span.")
    only_coder: str | None = Field(None, description="Only the spans of this annotator.")
    create_codes: bool = False
    mark_done: bool = False
    dry_run: bool = False


class CoderOut(Schema):
    name: str = Field(description="As the files name the annotator.")
    username: str
    new_member: bool
    documents: int
    spans_new: int
    spans_present: int


class SkippedOut(Schema):
    what: str
    reason: str
    count: int
    example: str


class CreatedOut(Schema):
    id: int | None = Field(description="None in a dry run.")
    title: str


class ImportOut(Schema):
    stored: bool
    dry_run: bool
    format: str
    offsets: str
    documents_created: list[CreatedOut]
    documents_present: int
    spans_created: int
    spans_present: int
    codes_created: list[str]
    coders: list[CoderOut]
    skipped: list[SkippedOut] = Field(description="What the files hold that is not imported.")


UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": inline_schema(DocumentsImportIn)},
            "multipart/form-data": {"schema": inline_schema(DocumentsUploadIn)},
        },
    }
}


def _json_upload(request) -> tuple[list, imports.ImportOptions, bool]:
    try:
        body = DocumentsImportIn.model_validate_json(request.body or b"{}")
    except PydanticError as error:
        raise _invalid(error) from None
    lines = []
    for document in body.documents:
        record = document.model_dump(exclude_defaults=True)
        lines.append(json.dumps(record, ensure_ascii=False))
    data = ("\n".join(lines) + "\n").encode("utf-8")
    options = imports.ImportOptions(
        format="jsonl",
        max_bytes=settings.FRAMING_MAX_UPLOAD_BYTES,
        hints=API_HINTS,
        any_account=False,
    )
    return [(JSON_FILE, data)], options, body.dry_run


def _form_upload(request) -> tuple[list, imports.ImportOptions, bool]:
    params = Params(request.POST)
    known = DocumentsUploadIn.model_fields.keys() - {"files"} | {"csrfmiddlewaretoken"}
    unknown = set(request.POST) - known
    unknown |= set(request.FILES) - {"files"}
    if unknown:
        raise InputError(f"Unknown field “{sorted(unknown)[0][:40]}”.")
    uploads = request.FILES.getlist("files")
    if not uploads:
        raise InputError("Send one or more files as “files”.")
    limit = settings.FRAMING_MAX_UPLOAD_BYTES
    if sum(upload.size for upload in uploads) > limit:
        raise InputError(f"The files add up to more than the upload limit ({limit:,} bytes).")
    options = imports.ImportOptions(
        format=params.text("format", max_length=40, default="auto") or "auto",
        offsets=params.choice("offsets", ("codepoints", "utf16", "graphemes"), label="offsets"),
        coder=params.text("coder", max_length=150, default=None) or None,
        only_coder=params.text("only_coder", max_length=200, default=None) or None,
        create_codes=params.flag("create_codes"),
        mark_done=params.flag("mark_done"),
        max_bytes=limit,
        hints=API_HINTS,
        any_account=False,
    )
    dry_run = params.flag("dry_run")
    return [(upload.name or "upload", upload.read()) for upload in uploads], options, dry_run


def _invalid(error: PydanticError) -> ValidationError:
    return ValidationError(
        [
            {"loc": ("body", *item["loc"]), "msg": item["msg"], "type": item["type"]}
            for item in error.errors(include_url=False)
        ]
    )


def _problems(outcome) -> ValidationError:
    """The import's problems as field errors: a JSON document by its index, a file by name
    (and line)."""
    errors = []
    for problem in outcome.problems:
        if problem.source == JSON_FILE and problem.line is not None:
            loc = ("body", "documents", problem.line - 1)
        else:
            loc = ("body", "files", problem.source)
            if problem.line is not None:
                loc += (problem.line,)
        errors.append({"loc": loc, "msg": problem.message, "type": "import"})
    return ValidationError(errors)


@router.post(
    "/projects/{project_id}/documents",
    response=write_responses({200: ImportOut, 201: ImportOut}, 413),
    openapi_extra=UPLOAD_BODY,
)
def import_documents(request, project_id: PathId):
    """Import documents (managers): JSON documents, or files in any importable format as
    multipart/form-data, with the spans other tools made on them. All or nothing: a
    problem anywhere stores nothing (422, each problem with its file and line); a text
    already in the project is not stored twice. 201 when stored, 200 for a dry run."""
    project, _ = access_manage(request.auth, project_id)
    if request.content_type == "multipart/form-data":
        files, options, dry_run = _form_upload(request)
    elif request.content_type == "application/json":
        files, options, dry_run = _json_upload(request)
    else:
        raise InputError("Send application/json or multipart/form-data.")
    outcome = imports.documents_import(
        project=project, files=files, actor=request.auth, dry_run=dry_run, options=options
    )
    if not outcome.ok:
        raise _problems(outcome)
    body = {
        "stored": outcome.stored,
        "dry_run": dry_run,
        "format": outcome.format,
        "offsets": outcome.offsets,
        "documents_created": [{"id": d.pk, "title": d.title} for d in outcome.created],
        "documents_present": outcome.already_present,
        "spans_created": outcome.spans_created,
        "spans_present": outcome.spans_present,
        "codes_created": outcome.codes_created,
        "coders": [
            {
                "name": c.name,
                "username": c.username,
                "new_member": c.new_member,
                "documents": c.documents,
                "spans_new": c.spans_new,
                "spans_present": c.spans_present,
            }
            for c in outcome.coders
        ],
        "skipped": [
            {"what": what, "reason": reason, "count": count, "example": example}
            for what, reason, count, example in outcome.skipped_counts()
        ],
    }
    return Status(201 if outcome.stored else 200, body)
