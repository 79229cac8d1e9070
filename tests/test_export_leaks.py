"""What exports reveal (issue 13): a coder's downloads in a blind project hold nothing of other
coders; reviewers' exports name nobody, in any cell or nested value, removed members and
bulk assignments included; a manager gets names only by asking; and the Excel flavour
defends every text column of every file."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from itertools import product

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from annotations.domain.formats import FORMATS
from annotations.models import (
    AssignmentStatus,
    Code,
    Document,
    GoldSpan,
    Membership,
    Project,
    Provenance,
    Role,
    Span,
)
from annotations.selectors.export import formats as tool_formats
from annotations.services import agreement, assignments, imports, people, review, spans
from annotations.services.agreement import RunSettings

pytestmark = pytest.mark.django_db

TEXTS = [
    "Officials said the “confession” was voluntary. Critics called it a sham.\n",
    "Le 👩\u200d🔬 a dit « non », puis partit. The court met on Monday.\n",
]
OTHERS = ("zelda_secret", "yannick_hidden", "xavier_gone")
STAFF = ("rhonda_rev", "rita_left", "morgan_mgr")
VIEWER = "victor_viewer"


def tag(assignment, code, piece, note=""):
    text = assignment.document.text
    start = text.index(piece)
    return spans.span_create(
        assignment=assignment,
        code_id=code.pk,
        start=start,
        end=start + len(piece),
        quote=piece,
        note=note,
    )


@pytest.fixture
def leaky(make_project, make_user, member, add_document):
    """A blind project with history: bulk assignment, an import whose file names a coder,
    gold, a finished agreement run, a removed coder and a removed reviewer."""
    project = make_project("Leaky")
    users = {}
    for name in (VIEWER, *OTHERS):
        users[name] = member(project, make_user(name, email=f"{name}@mail.example"))
    for name, role in zip(STAFF, (Role.REVIEWER, Role.REVIEWER, Role.MANAGER), strict=True):
        users[name] = member(project, make_user(name, email=f"{name}@mail.example"), role)
    documents = [add_document(project, text, f"t{n}.txt") for n, text in enumerate(TEXTS)]
    manager = users["morgan_mgr"]
    assignments.assignments_bulk(project=project, mode="every", actor=manager)
    codes = {c.name: c for c in project.codebook.codes.all()}
    work = {
        VIEWER: [("Officials said", "Sourcing"), ("sham", "Loaded language")],
        "zelda_secret": [("Officials", "Sourcing"), ("a sham", "Loaded language")],
        "yannick_hidden": [("Critics called", "Sourcing")],
        "xavier_gone": [("voluntary", "Loaded language")],
    }
    for name, items in work.items():
        assignment = assignments.assignment_ensure(document=documents[0], coder=users[name])
        for piece, code in items:
            tag(assignment, codes[code], piece, note="a note")
        assignments.assignment_set_status(assignment=assignment, status=AssignmentStatus.DONE)
    line = {
        "text": TEXTS[1],
        "label": [[0, 2, "Sourcing"]],
        "coder": "zelda_secret",
    }
    outcome = imports.import_files(
        project=project,
        files=[("zelda_secret.jsonl", json.dumps(line, ensure_ascii=False).encode())],
        options=imports.ImportOptions(format="jsonl"),
        actor=manager,
    )
    assert outcome.ok, outcome.problems
    newbie = {"text": TEXTS[0], "label": [[0, 9, "Sourcing"]], "coder": "newbie_acct"}
    outcome = imports.import_files(
        project=project,
        files=[("newbie_acct.jsonl", json.dumps(newbie, ensure_ascii=False).encode())],
        options=imports.ImportOptions(format="jsonl", create_coders=True),
        actor=manager,
    )
    assert outcome.ok, outcome.problems  # creates the account: a "user" event names it
    review.gold_accept_agreed(document=documents[0], actor=users["rhonda_rev"])
    review.review_start(document=documents[1], actor=users["rita_left"])
    run = agreement.agreement_request(
        project=project, run_settings=RunSettings(n_bootstrap=20), enqueue=False
    ).run
    agreement.agreement_execute(run_id=run.pk)
    for name in ("xavier_gone", "rita_left"):
        people.member_remove(
            membership=Membership.objects.get(project=project, user=users[name]), actor=manager
        )
    return project, users


def zip_or_file(response) -> dict[str, bytes]:
    data = b"".join(response.streaming_content)
    if data[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return {name: archive.read(name) for name in archive.namelist()}
    return {"download": data}


def every_download(client, project) -> list[tuple[str, dict[str, bytes]]]:
    """Every file a member can download, with every choice of the download page."""
    layers = ("coders", "gold", "all")
    results = []
    codes = [""] + [str(pk) for pk in project.codebook.codes.values_list("pk", flat=True)]
    for name, layer, documents, flavour, code in product(
        ("export-bundle", "export-spans-csv", "export-spans-jsonl"),
        layers,
        ("all", "done"),
        ("analysis", "excel"),
        codes[:2],
    ):
        query = {"layer": layer, "documents": documents, "flavour": flavour, "names": "on"}
        if code:
            query["code"] = code
        response = client.get(reverse(name, args=[project.pk]), query)
        assert response.status_code == 200, (name, query)
        results.append((f"{name} {query}", zip_or_file(response)))
    for tool, units in tool_formats.WRITER_UNITS.items():
        for unit, layer in product(units, layers):
            query = {"format": FORMATS[tool].option, "offsets": unit.value, "layer": layer}
            response = client.get(reverse("export-tool", args=[project.pk]), query)
            assert response.status_code == 200, query
            results.append((f"tool {query}", zip_or_file(response)))
    return results


def identities(users, names) -> list[str]:
    found = []
    for name in names:
        user = users[name]
        found += [user.username, user.email, f"u{user.pk}"]
    return found


def cells(name: str, data: bytes):
    """Every cell of a CSV file, else the whole text (README, JSON, XML, brat, TSV)."""
    text = data.decode("utf-8-sig")
    if name.endswith(".csv"):
        for row in csv.reader(io.StringIO(text, newline="")):
            yield from row
    else:
        yield text


def test_a_coder_of_a_blind_project_downloads_nothing_of_other_coders(client, leaky):
    project, users = leaky
    client.force_login(users[VIEWER])
    forbidden = identities(users, (*OTHERS, *STAFF))
    pseudonym = re.compile(r"\b(Coder|Reviewer|Manager) [A-Z]{1,3}\b|Other person \d|Coder #")
    other_ids = {str(users[n].pk) for n in (*OTHERS, *STAFF)}
    downloads = every_download(client, project)
    assert len(downloads) > 100
    for label, contents in downloads:
        for name, data in contents.items():
            assert "agreement" not in name and not name.startswith("reliability_"), label
            for cell in cells(name, data):
                for secret in forbidden:
                    assert secret.lower() not in cell.lower(), (label, name, secret)
                assert not pseudonym.search(cell), (label, name, cell[:200])
            if name == "README.txt":
                text = data.decode()
                assert "Agreement run" not in text and "run " not in text.split("WHO SEES")[0]
            if name in ("spans.csv", "audit.csv"):
                for row in csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")):
                    for column in ("coder", "actor", "source_coders"):
                        assert row.get(column, "") in ("", "You"), (label, name, row)
                    assert row.get("layer", "coder") == "coder"
                    assert row.get("object_id", "") not in other_ids or row["object_type"] not in (
                        "user",
                    )


def test_a_reviewers_exports_name_nobody_in_any_cell_or_nested_value(client, leaky):
    project, users = leaky
    client.force_login(users["rhonda_rev"])
    everyone = [*identities(users, (VIEWER, *OTHERS, *STAFF)), "newbie_acct"]
    user_ids = {str(u.pk) for u in users.values()}
    downloads = every_download(client, project)
    audit_seen = False
    for label, contents in downloads:
        for name, data in contents.items():
            for cell in cells(name, data):
                for secret in everyone:
                    assert secret.lower() not in cell.lower(), (label, name, secret)
            if name == "audit.csv":
                audit_seen = True
                rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))
                for row in rows:
                    if row["object_type"] == "user":
                        assert row["object_id"] == ""
                    for value in (row["before"], row["after"]):
                        _no_person_ids(json.loads(value) if value else None, user_ids)
                bulk = next(r for r in rows if r["action"] == "bulk_assign")
                assert "Coder A" in bulk["after"] and "Coder B" in bulk["after"]
                assert any(r["actor"].startswith("Other person") for r in rows)  # rita, removed
    assert audit_seen


def _no_person_ids(value, user_ids, key=""):
    if isinstance(value, dict):
        for k, v in value.items():
            _no_person_ids(v, user_ids, k)
    elif isinstance(value, list):
        for item in value:
            _no_person_ids(item, user_ids, key)
    elif isinstance(value, int) and key in ("user", "coder", "source_coders", "actor"):
        assert str(value) not in user_ids, (key, value)


def test_a_manager_gets_usernames_only_when_asking(client, leaky):
    project, users = leaky
    client.force_login(users["morgan_mgr"])
    url = reverse("export-bundle", args=[project.pk])
    plain = zip_or_file(client.get(url))
    named = zip_or_file(client.get(url, {"names": "on"}))
    assert "zelda_secret" not in b"".join(plain.values()).decode("utf-8", "replace")
    assert "zelda_secret" in named["spans.csv"].decode()
    assert "zelda_secret" in named["audit.csv"].decode()
    assert "a manager who asked for usernames" in named["README.txt"].decode()
    assert "a reviewer or manager: everyone pseudonymised" in plain["README.txt"].decode()


# --- Excel flavour: every text column of every file ----------------------------------------

DANGEROUS = ("=", "+", "-", "@", "\t", "\r")
NOT_TEXT = {
    "document_id", "length", "start", "end", "created", "updated", "published", "event_id",
    "at", "object_id", "unit_start", "unit_end", "active", "order", "ci_low", "ci_high",
    "ci_resamples", "value", "run", "computed", "include_in_progress",
}  # fmt: skip
# Text columns Framing itself fills (ids, hashes, names of its own choices), never typed by
# anyone: they cannot start with a dangerous character, so the test cannot plant one there.
GENERATED = {
    "text_sha256", "span_id", "layer", "provenance", "source_span_ids", "settling_action",
    "colour", "coefficient", "scope", "unit", "action", "object_type", "before", "after",
    "note_agreement", "via",
}  # fmt: skip


@pytest.fixture
def hostile(make_project, make_user, member, add_document):
    def build(char: str) -> Project:
        project = make_project(f"Hostile {ord(char)}")
        Project.objects.filter(pk=project.pk).update(name=f"{char}Project {ord(char)}")
        project.refresh_from_db()
        users = []
        for n, role in enumerate((Role.CODER, Role.CODER, Role.MANAGER)):
            user = get_user_model().objects.create_user(username=f"{char}user{n}{ord(char)}")
            users.append(member(project, user, role))
        # A span on "opens" has contexts that start with the character on both sides.
        document = add_document(project, f"{char}1+1 opens{char}2 the text. A second one.")
        Document.objects.filter(pk=document.pk).update(
            title=f"{char}title",
            external_id=f"{char}ext1",
            outlet=f"{char}outlet",
            url=f"{char}http://x",
        )
        for code in Code.objects.filter(codebook__project=project):
            Code.objects.filter(pk=code.pk).update(
                name=f"{char}{code.name}", definition=f"{char}def", guidance=f"{char}guide"
            )
        Code.objects.filter(codebook__project=project).order_by("pk").filter(
            pk=project.codebook.codes.order_by("pk").first().pk
        ).update(shortcut=char)
        code = project.codebook.codes.order_by("pk").first()
        for user in users[:2]:
            assignment = assignments.assignment_ensure(document=document, coder=user)
            start = 0 if char != "\r" else 1
            middle = document.text.index("opens")
            for first, last in ((start, start + 4), (middle, middle + 5)):
                Span.objects.create(
                    assignment=assignment,
                    code=code,
                    start=first,
                    end=last,
                    quote=document.text[first:last],
                    note=f"{char}note",
                )
            assignments.assignment_set_status(
                assignment=assignment, status=AssignmentStatus.DONE, actor=user
            )
        GoldSpan.objects.create(
            document=document,
            code=code,
            start=0,
            end=4,
            quote=document.text[:4],
            provenance=Provenance.DECISION,
            rationale=f"{char}why",
            settled_by=users[2],
            source_coders=[users[0].pk],
        )
        run = agreement.agreement_request(
            project=project, run_settings=RunSettings(n_bootstrap=20), enqueue=False
        ).run
        agreement.agreement_execute(run_id=run.pk)
        return project

    return build


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("char", DANGEROUS)
def test_excel_flavour_defends_every_text_column_of_every_file(client, hostile, char):
    project = hostile(char)
    manager = project.memberships.get(role=Role.MANAGER).user
    client.force_login(manager)
    response = client.get(
        reverse("export-bundle", args=[project.pk]),
        {"flavour": "excel", "names": "on", "layer": "all"},
    )
    contents = zip_or_file(response)
    csv_files = [name for name in contents if name.endswith(".csv")]
    assert len(csv_files) >= 7
    for name in csv_files:
        text = contents[name].decode("utf-8")
        assert text.startswith("\ufeff"), name
        rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline="")))
        header, body = rows[0], rows[1:]
        for column, values in zip(header, zip(*body, strict=True) if body else [], strict=False):
            for cell in values:
                assert not (cell.startswith(DANGEROUS) and not _is_number(cell)), (
                    name,
                    column,
                    cell,
                )
            planted = column.removeprefix("'")
            if planted in NOT_TEXT or planted in GENERATED or name == "agreement.csv":
                continue
            if name.startswith("reliability_"):
                assert column == "'" + planted or planted in ("unit_start", "unit_end"), column
                continue  # coder columns hold 1, 0 or nothing; their headers are names
            if char == "\r" and planted in ("quote", "text", "context_before", "context_after"):
                continue  # stored texts have no CR: import turns it into LF
            assert any(cell.startswith("'" + char) for cell in values), (name, column)
        for cell in header:
            assert not cell.startswith(DANGEROUS), (name, cell)
    agreement_rows = list(
        csv.DictReader(io.StringIO(contents["agreement.csv"].decode("utf-8-sig")))
    )
    pairs = [row["pair"] for row in agreement_rows if row["pair"]]
    assert pairs and all(pair.startswith("'" + char) for pair in pairs)
