"""Imports: documents and their spans from files in every supported format, all or nothing.

One pipeline behind ``manage.py import_documents``, ``import_jsonl`` and the upload page:

1. read the files (``annotations.domain.formats``: doccano, Label Studio, brat, WebAnno TSV,
   UIMA CAS, Prodigy, Framing's own .txt/.csv/.jsonl), offsets converted to code points;
2. decide whose every span is (``--coder``, ``--only-coder``, or the annotator the file
   names) and find those people and the codes in the project;
3. check everything a store would check (documents by the model's validation, notes by
   the span service's limit) and count what is new, present and not imported;
4. unless that found a problem or it is a dry run, store it in one transaction, only
   through the services of each entity (people, codebook, documents, assignments, spans).

It never stores a text, an assignment or a span twice, so running it again changes
nothing. What a file holds that is not imported is a ``Skipped`` with its reason, counted
in the outcome that the command prints and the upload preview shows.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q

from ..domain.formats import FORMATS, format_name
from ..domain.formats.model import ImportedDocument, Skipped
from ..domain.formats.uploads import (
    CLI_HINTS,
    CoderWork,
    Hints,
    PlannedDocument,
    Upload,
    assign_coders,
    count_skipped,
    read_upload,
)
from ..domain.offsets import SpanError, check_span
from ..domain.textio import ParsedDocument, Problem
from ..models import AssignmentStatus, Code, Document, Membership, Project, Role, Span
from ..permissions import frozen_for_import
from . import assignments, codebook, documents, people, spans
from .base import ServiceError

# The web page looks people up among the project's members only: nothing a manager
# uploads may reveal whether an account exists elsewhere.
WEB_HINTS = Hints(
    coder="a member under “Spans go to”",
    only_coder="“Only the spans of”",
    create_coders="adding them as coders on the People page",
    create_codes="“Add codes the codebook lacks”",
    format="“Format”",
)


@dataclass(frozen=True)
class ImportOptions:
    format: str = "auto"  # "auto", a FORMATS name, or a --format option (txt, labelstudio...)
    offsets: str | None = None  # None: the format's own unit
    coder: str | None = None  # a username that every span goes to
    only_coder: str | None = None  # import only the spans of this annotator (as the file names)
    create_coders: bool = False
    create_codes: bool = False
    mark_done: bool = False
    max_bytes: int | None = None
    hints: Hints = CLI_HINTS
    # Whether a name may be any account (the command line) or only a member (the page).
    any_account: bool = True


@dataclass
class ImportOutcome:
    created: list[Document] = field(default_factory=list)
    already_present: int = 0
    problems: list[Problem] = field(default_factory=list)
    parsed: int = 0
    format: str = ""
    offsets: str = ""
    coders: list[CoderWork] = field(default_factory=list)
    codes_created: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    planned: list[PlannedDocument] = field(default_factory=list)
    stored: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def spans_created(self) -> int:
        return sum(coder.spans_new for coder in self.coders)

    @property
    def spans_present(self) -> int:
        return sum(coder.spans_present for coder in self.coders)

    def skipped_counts(self) -> list[tuple[str, str, int, str]]:
        """(what, reason, how many, an example) for everything not imported, most first."""
        return count_skipped(self.skipped)


def import_files(
    *,
    project: Project,
    files: list[Upload],
    options: ImportOptions = ImportOptions(),
    actor=None,
    dry_run: bool = False,
) -> ImportOutcome:
    """Read, check and (unless ``dry_run`` or a problem) store the files; see the module."""
    outcome = ImportOutcome()
    chosen = format_name(options.format)
    if chosen is None:
        known = ", ".join(["auto", "txt", "csv", "jsonl", *(f.option for f in FORMATS.values())])
        outcome.problems.append(
            Problem("upload", None, f"unknown format “{options.format}”; use one of {known}")
        )
        return outcome
    outcome.problems.extend(_too_large(files, options.max_bytes))
    if outcome.problems:
        return outcome
    result = read_upload(files, format=chosen, offsets=options.offsets)
    outcome.format, outcome.offsets = result.format, result.offsets
    outcome.skipped.extend(result.skipped)
    outcome.parsed = len(result.documents)
    if not result.ok:
        outcome.problems.extend(result.problems)
        return outcome
    assigned = assign_coders(
        result.documents, coder=options.coder, only_coder=options.only_coder, hints=options.hints
    )
    outcome.skipped.extend(assigned.skipped)
    outcome.problems.extend(assigned.problems)
    if outcome.problems:
        return outcome
    plan = _plan(project, assigned.documents, options, outcome)
    if outcome.problems or dry_run:
        return outcome
    source = ", ".join(name for name, _ in files)
    try:
        with transaction.atomic():
            _store(project, plan, options, actor=actor, source=source)
    except ServiceError as error:  # refused by a service (frozen work...): nothing stored
        outcome.problems.append(Problem("upload", None, str(error)))
        return outcome
    except IntegrityError:  # the same text or span stored by someone else meanwhile
        outcome.problems.append(
            Problem("upload", None, "the project changed while importing; import again")
        )
        return outcome
    outcome.stored = True
    return outcome


def _too_large(files: list[Upload], limit: int | None) -> list[Problem]:
    if limit is None:
        return []
    problems = []
    for name, data in files:
        listing = [(name, data)] if isinstance(data, bytes | bytearray) else data
        for path, content in listing:
            if len(content) > limit:
                problems.append(Problem(path, None, _size_message(len(content), limit)))
    return problems


def _size_message(size: int, limit: int) -> str:
    shown, limit_shown = f"{size / 1e6:.1f} MB", f"{limit / 1e6:.1f} MB"
    if shown == limit_shown:
        shown, limit_shown = f"{size:,} bytes", f"{limit:,} bytes"
    return f"file is {shown}; the limit is {limit_shown}"


@dataclass
class _Plan:
    prepared: documents.Prepared
    pairs: list[tuple[ImportedDocument, Document]]
    coders: dict[str, CoderWork]
    users: dict[str, object]  # name -> user (None: an account to create)
    codes: dict[str, Code | None]  # name -> code (None: a code to create)
    new_spans: dict[tuple[int, str], list] = field(default_factory=dict)  # (pair index, name)


def _plan(project, imported: list[ImportedDocument], options, outcome) -> _Plan | None:
    parsed = [
        ParsedDocument(
            text=d.text,
            title=d.title,
            external_id=d.external_id,
            outlet=d.outlet,
            url=d.url,
            published=d.published,
            source=d.source,
        )
        for d in imported
    ]
    prepared = documents.documents_prepare(project=project, parsed=parsed)
    outcome.problems.extend(prepared.problems)
    outcome.created = prepared.new
    outcome.already_present = len(prepared.present)
    names = list(
        dict.fromkeys(c for d in imported for c in (*(s.coder for s in d.spans), *d.coders) if c)
    )
    coders = {name: CoderWork(name) for name in names}
    users = _people(project, coders, options, outcome)
    codes = _codes(project, {s.code for d in imported for s in d.spans}, options, outcome)
    plan = _Plan(
        prepared, list(zip(imported, prepared.matched, strict=False)), coders, users, codes
    )
    if outcome.problems:
        return plan
    _count_spans(plan, outcome)
    outcome.coders = list(coders.values())
    return plan


def _people(project, coders: dict[str, CoderWork], options, outcome) -> dict[str, object]:
    """Each annotator's account, or None for one to create; problems for the rest."""
    members = {
        m.user_id: m.user for m in Membership.objects.filter(project=project).select_related("user")
    }
    users: dict[str, object] = {}
    hints = options.hints
    for name, work in coders.items():
        user = _find(name, members.values())
        if user is None and options.any_account:
            user = _find_account(name)
        if user is not None and user.pk in members:
            users[name], work.username = user, user.get_username()
            continue
        if not options.any_account:  # the same answer whether or not an account exists
            message = (
                f"“{name}” is not a member of this project: add them on the People page "
                f"first, or choose {hints.coder}"
            )
        elif not options.create_coders and user is None:
            message = (
                f"no account is named “{name}”: import with {hints.create_coders} to create "
                f"their account as a coder of this project, or give {hints.coder} to import "
                "the spans as someone else's"
            )
        elif not options.create_coders:
            message = (
                f"“{name}” is not a member of this project: add them as a coder on the "
                f"People page, or import with {hints.create_coders}"
            )
        else:
            message = _username_problem(name) if user is None else ""
        if message:
            outcome.problems.append(Problem("upload", None, message))
            continue
        work.new_member = True
        work.new_account = user is None
        work.username = name if user is None else user.get_username()
        users[name] = user
    return users


def _find(name: str, users) -> object | None:
    """A member by username (exactly, then ignoring case), else by e-mail (Label Studio
    names annotators by e-mail)."""
    users = list(users)
    lowered = name.lower()
    for found in (
        [u for u in users if u.get_username() == name],
        [u for u in users if u.get_username().lower() == lowered],
        [u for u in users if u.email and u.email.lower() == lowered],
    ):
        if len(found) == 1:
            return found[0]
    return None


def _find_account(name: str):
    User = get_user_model()
    user = User.objects.filter(username=name).first()
    if user is None:
        matches = list(User.objects.filter(Q(username__iexact=name) | Q(email__iexact=name))[:2])
        user = matches[0] if len(matches) == 1 else None
    return user


def _username_problem(name: str) -> str:
    try:
        UnicodeUsernameValidator()(name)
    except ValidationError:
        return (
            f"“{name}” cannot be a user name (letters, digits and @ . + - _ only): give "
            "--coder USERNAME, or rename the annotator in the file"
        )
    if len(name) > 150:
        return f"“{name[:40]}…” is longer than a user name may be (150 characters)"
    return ""


def _codes(project, wanted: set[str], options, outcome) -> dict[str, Code | None]:
    codes: dict[str, Code | None] = {
        c.name: c for c in Code.objects.filter(codebook__project=project)
    }
    missing = sorted(wanted - codes.keys())
    if missing and not options.create_codes:
        outcome.problems.append(
            Problem(
                "upload",
                None,
                "the codebook has no code named "
                + ", ".join(f"“{n}”" for n in missing)
                + f": add the codes first, or import with {options.hints.create_codes} to add them",
            )
        )
        return codes
    for name in missing:
        if name != name.strip() or len(name) > Code._meta.get_field("name").max_length:
            outcome.problems.append(
                Problem(
                    "upload",
                    None,
                    f"“{name[:60]}” cannot be a code name (no spaces at its edges, at most "
                    "100 characters): rename it in the file",
                )
            )
        codes[name] = None
    outcome.codes_created = [name for name in missing]
    retired = sorted(n for n in wanted if codes.get(n) is not None and not codes[n].active)
    if retired:
        outcome.problems.append(
            Problem("upload", None, "retired codes cannot be imported: " + ", ".join(retired))
        )
    return codes


def _count_spans(plan: _Plan, outcome: ImportOutcome) -> None:
    """New and present spans per document and coder, checked as the span service checks."""
    stored = [document for _, document in plan.pairs if document.pk is not None]
    users = {name: user for name, user in plan.users.items() if user is not None}
    existing: dict[tuple[int, int], set] = defaultdict(set)
    rows = Span.objects.live().filter(
        assignment__document__in=stored, assignment__coder__in=list(users.values())
    )
    for doc, coder, code, start, end in rows.values_list(
        "assignment__document_id", "assignment__coder_id", "code__name", "start", "end"
    ):
        existing[(doc, coder)].add((code, start, end))
    frozen = frozen_for_import(stored, list(users.values()))
    for index, (imported, document) in enumerate(plan.pairs):
        by_coder: dict[str, list] = defaultdict(list)
        for name in imported.coders:
            by_coder.setdefault(name, [])
        for span in imported.spans:
            by_coder[span.coder].append(span)
        count = 0
        for name, items in by_coder.items():
            user = plan.users.get(name)
            have = existing.get((document.pk, user.pk), set()) if user is not None else set()
            work = plan.coders[name]
            work.documents += 1
            new = []
            for span in items:
                problem = _span_problem(document.text, span)
                if problem:
                    outcome.problems.append(Problem(span.where or "upload", None, problem))
                elif (span.code, span.start, span.end) in have:
                    work.spans_present += 1
                else:
                    new.append(span)
            reason = frozen.get((document.pk, user.pk)) if new and user is not None else None
            if reason:
                where = imported.source or "upload"
                message = f"“{document.title}”: {reason.format(name=work.username)}"
                outcome.problems.append(Problem(where, None, message))
            work.spans_new += len(new)
            count += len(new)
            plan.new_spans[(index, name)] = new
        outcome.planned.append(
            PlannedDocument(document.title, document.outlet, document.pk is None, count)
        )


def _span_problem(text: str, span) -> str:
    try:
        check_span(text, span.start, span.end)
    except SpanError as error:
        return str(error)
    if len(span.note.strip()) > spans.NOTE_LIMIT:
        return (
            f"a note has at most {spans.NOTE_LIMIT:,} characters; this one has {len(span.note):,}"
        )
    return ""


def _store(project: Project, plan: _Plan, options: ImportOptions, *, actor, source: str) -> None:
    users = dict(plan.users)
    for name, work in plan.coders.items():
        if work.new_account:
            users[name] = people.account_for_import(project=project, username=name, actor=actor)
        if work.new_member:
            people.membership_set(project=project, user=users[name], role=Role.CODER, actor=actor)
    codes = dict(plan.codes)
    for name, code in plan.codes.items():
        if code is None:
            codes[name] = codebook.code_create(codebook=project.codebook, name=name, actor=actor)
    documents.documents_store(documents=plan.prepared.new, actor=actor, source=source)
    for index, (imported, document) in enumerate(plan.pairs):
        names = dict.fromkeys([*imported.coders, *(s.coder for s in imported.spans)])
        for name in names:
            assignment = assignments.assignment_ensure(
                document=document, coder=users[name], actor=actor
            )
            new = plan.new_spans.get((index, name), [])
            if new:
                spans.spans_import(
                    assignment=assignment,
                    spans=[spans.ImportedSpan(s.start, s.end, codes[s.code], s.note) for s in new],
                    actor=actor,
                    source=imported.source or source,
                )
            if options.mark_done:
                assignments.assignment_set_status(
                    assignment=assignment, status=AssignmentStatus.DONE, actor=actor
                )


# --- The entry points the rest of the app calls -----------------------------------------------


def documents_import(
    *,
    project: Project,
    files: list[Upload],
    actor=None,
    max_bytes: int | None = None,
    dry_run: bool = False,
    options: ImportOptions | None = None,
) -> ImportOutcome:
    """Import files (any format, detected), all or nothing; ``dry_run`` stores nothing."""
    options = options or ImportOptions(max_bytes=max_bytes)
    return import_files(project=project, files=files, options=options, actor=actor, dry_run=dry_run)


@dataclass
class JsonlImportOutcome:
    documents_created: int = 0
    documents_present: int = 0
    spans_created: int = 0
    spans_present: int = 0
    problems: list[str] = field(default_factory=list)


def jsonl_import(
    *,
    project: Project,
    name: str,
    data: bytes,
    coder,
    actor=None,
    only_coder: str | None = None,
    create_codes: bool = False,
    mark_done: bool = False,
) -> JsonlImportOutcome:
    """Framing's JSONL (the bundle's spans.jsonl, doccano-shaped in code points) as ``coder``'s
    spans: the pipeline with ``--format jsonl --coder``. Raises ServiceError on any problem."""
    options = ImportOptions(
        format="jsonl",
        coder=coder.get_username(),
        only_coder=only_coder,
        create_codes=create_codes,
        mark_done=mark_done,
    )
    outcome = import_files(project=project, files=[(name, data)], options=options, actor=actor)
    if not outcome.ok:
        raise ServiceError("\n".join(str(problem) for problem in outcome.problems))
    return JsonlImportOutcome(
        documents_created=len(outcome.created),
        documents_present=outcome.already_present,
        spans_created=outcome.spans_created,
        spans_present=outcome.spans_present,
    )
