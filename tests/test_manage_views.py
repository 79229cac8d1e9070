"""The manager's pages: every flow through HTTP, every refusal with its message and no
change, and 404 for anyone who is not the project's manager."""

from __future__ import annotations

import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from annotations.models import (
    AgreementRun,
    Assignment,
    Code,
    Document,
    Membership,
    Project,
    Role,
    RunStatus,
)
from annotations.services import imports, people, spans

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def manager_client(client, study):
    client.force_login(study["manager"])
    return client


def _upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


def _url(name: str, project, *args) -> str:
    return reverse(name, args=[project.pk, *args])


# --- Access -----------------------------------------------------------------------


def _project_urls(study):
    project = study["project"]
    code = study["codes"]["Sourcing"]
    membership = Membership.objects.get(user=study["coder_a"])
    assignment = study["assignment_a"]
    get = [
        _url(n, project)
        for n in (
            "manage-dashboard",
            "manage-settings",
            "manage-documents",
            "manage-codebook",
            "manage-people",
            "manage-assignments",
        )
    ]
    post = [
        _url("manage-settings", project),
        _url("manage-upload", project),
        _url("manage-code-add", project),
        _url("manage-code-update", project, code.pk),
        _url("manage-code-move", project, code.pk),
        _url("manage-code-retire", project, code.pk),
        _url("manage-code-delete", project, code.pk),
        _url("manage-member-add", project),
        _url("manage-member-set", project, membership.pk),
        _url("manage-member-remove", project, membership.pk),
        _url("manage-invitation-link", project, 1),
        _url("manage-assignments-bulk", project),
        _url("manage-assignment-add", project),
        _url("manage-assignment-remove", project, assignment.pk),
    ]
    return get, post


@pytest.mark.parametrize("who", ["coder_a", "reviewer", "outsider"])
def test_every_management_page_is_404_for_anyone_but_a_manager(client, study, make_user, who):
    user = make_user("outsider") if who == "outsider" else study[who]
    client.force_login(user)
    get, post = _project_urls(study)
    before = (Code.objects.count(), Membership.objects.count(), Assignment.objects.count())
    for url in get:
        assert client.get(url).status_code == 404, url
    for url in post:
        data = {"name": "X", "role": "manager", "mode": "every", "document": "1", "coder": "1"}
        assert client.post(url, data).status_code == 404, url
    assert (Code.objects.count(), Membership.objects.count(), Assignment.objects.count()) == before


def test_a_manager_succeeds_on_every_management_url(manager_client, study):
    project = study["project"]
    invited = people.member_invite(
        project=project, username="invited", role=Role.CODER, actor=None
    ).invitation
    code = study["codes"]["Loaded language"]
    coder_b = Membership.objects.get(user=study["coder_b"])
    posts = [
        (_url("manage-settings", project), {"name": "Study", "agreement_unit": "token"}),
        (_url("manage-upload", project), {"files": _upload("a.txt", b"New text.")}),
        (_url("manage-code-add", project), {"name": "New code"}),
        (_url("manage-code-update", project, code.pk), {"name": "Loaded", "colour": "#123456"}),
        (_url("manage-code-move", project, code.pk), {"direction": "up"}),
        (_url("manage-code-retire", project, code.pk), {}),
        (_url("manage-code-delete", project, code.pk), {}),
        (_url("manage-member-add", project), {"username": "newcomer", "role": "coder"}),
        (_url("manage-invitation-link", project, invited.pk), {}),
        (_url("manage-member-set", project, coder_b.pk), {"role": "reviewer"}),
        (_url("manage-assignments-bulk", project), {"mode": "every"}),
        (
            _url("manage-assignment-add", project),
            {"document": study["document"].pk, "coder": study["reviewer"].pk},
        ),
        (_url("manage-assignment-remove", project, study["assignment_b"].pk), {}),
        (_url("manage-member-remove", project, coder_b.pk), {}),
    ]
    for url, data in posts:
        response = manager_client.post(url, data)
        assert response.status_code in (200, 302), (url, response.content[:300])
    get, _ = _project_urls(study)
    for url in [*get, reverse("manage-projects")]:
        assert manager_client.get(url).status_code == 200, url


def test_management_pages_send_anonymous_visitors_to_log_in(client, study):
    response = client.get(_url("manage-dashboard", study["project"]))
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_a_code_or_assignment_of_another_project_is_404(manager_client, study, make_project):
    other = make_project("Other")
    other_code = other.codebook.codes.first()
    url = _url("manage-code-delete", study["project"], other_code.pk)
    assert manager_client.post(url).status_code == 404
    assert Code.objects.filter(pk=other_code.pk).exists()


# --- Projects ---------------------------------------------------------------------


def test_a_user_allowed_to_start_projects_creates_one_and_becomes_its_manager(client, make_user):
    user = make_user("pi")
    call_command("project_creators", "add", "pi", stdout=io.StringIO())
    client.force_login(user)
    assert client.get(reverse("manage-projects")).status_code == 200
    response = client.post(
        reverse("manage-project-create"),
        {"name": "Elections", "description": "", "blind": "on", "agreement_unit": "token"},
    )
    project = Project.objects.get(name="Elections")
    assert response["Location"] == _url("manage-documents", project)
    assert Membership.objects.get(project=project, user=user).role == Role.MANAGER
    listing = client.get(reverse("manage-projects"))
    assert "Elections" in listing.content.decode()


def test_a_name_is_refused_only_among_ones_own_projects(client, make_user, study):
    """Whether someone else has a project of that name is neither checked nor revealed."""
    other = make_user("pi")
    call_command("project_creators", "add", "pi", stdout=io.StringIO())
    client.force_login(other)
    response = client.post(reverse("manage-project-create"), {"name": "Study"})
    assert response.status_code == 302
    assert Project.objects.filter(name="Study").count() == 2
    response = client.post(
        reverse("manage-project-create"), {"name": "Study", "description": "Mine"}
    )
    assert response.status_code == 422
    assert "You already have a project named “Study”." in response.content.decode()
    assert 'value="Study"' in response.content.decode()  # the form is kept
    assert Project.objects.filter(name="Study").count() == 2


def test_settings_are_saved(manager_client, study):
    project = study["project"]
    response = manager_client.post(
        _url("manage-settings", project),
        {
            "name": "Study 2",
            "description": "d",
            "feedback_to_coders": "on",
            "agreement_unit": "char",
        },
    )
    assert response.status_code == 302
    project.refresh_from_db()
    assert (project.name, project.blind, project.feedback_to_coders) == ("Study 2", False, True)


# --- Documents --------------------------------------------------------------------

CSV = b"text,title,outlet\nFirst article.,One,Daily\nSecond article.,Two,Weekly\n"


def _preview(client, project, *files, **extra):
    return client.post(
        _url("manage-upload", project), {"files": list(files), "preview": "1"}, **extra
    )


def _token(response) -> str:
    match = re.search(r'name="confirm" value="([^"]+)"', response.content.decode())
    assert match, response.content.decode()
    return match.group(1)


def test_the_preview_counts_documents_and_stores_nothing_then_confirm_imports(
    manager_client, study
):
    project = study["project"]
    response = _preview(
        manager_client, project, _upload("batch.csv", CSV), _upload("a.txt", b"Third."), **HTMX
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in page  # the preview fragment only
    assert "3 documents will be created" in page
    assert Document.objects.filter(project=project).count() == 1
    response = manager_client.post(
        _url("manage-upload", project),
        {
            "files": [_upload("batch.csv", CSV), _upload("a.txt", b"Third.")],
            "confirm": _token(response),
        },
        **HTMX,
    )
    assert response.status_code == 200
    assert response["HX-Redirect"] == _url("manage-documents", project)
    assert set(Document.objects.filter(project=project).values_list("title", flat=True)) >= {
        "One",
        "Two",
        "Third.",
    }


def test_confirming_with_other_files_than_previewed_previews_again(manager_client, study):
    project = study["project"]
    token = _token(_preview(manager_client, project, _upload("batch.csv", CSV)))
    response = manager_client.post(
        _url("manage-upload", project),
        {"files": [_upload("other.txt", b"Something else.")], "confirm": token},
    )
    assert response.status_code == 422
    assert "These files differ from the ones previewed" in response.content.decode()
    assert Document.objects.filter(project=project).count() == 1


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("bad.txt", b"Fine line\nbroken \x00 line\n", "bad.txt, line 2: contains a NUL byte"),
        (
            "latin.txt",
            b"First\nSecond\ncaf\xe9\n",
            "latin.txt, line 3: invalid UTF-8 (byte 0xe9); save the file with UTF-8 encoding",
        ),
        ("doc.pdf", b"%PDF", "doc.pdf: unsupported file type &#x27;.pdf&#x27;"),
    ],
)
def test_a_bad_file_is_rejected_with_file_and_line_and_nothing_is_imported(
    manager_client, study, name, data, message
):
    project = study["project"]
    response = _preview(manager_client, project, _upload("good.csv", CSV), _upload(name, data))
    page = response.content.decode()
    assert response.status_code == 422
    assert message in page
    assert 'name="confirm"' not in page
    assert Document.objects.filter(project=project).count() == 1


def test_a_confirm_of_files_with_problems_imports_nothing(manager_client, study):
    project = study["project"]
    response = manager_client.post(
        _url("manage-upload", project),
        {"files": [_upload("good.csv", CSV), _upload("bad.txt", b"x\x00")], "confirm": "forged"},
    )
    assert response.status_code == 422
    assert Document.objects.filter(project=project).count() == 1


def test_an_upload_over_the_size_limit_is_refused_before_parsing(manager_client, study, settings):
    settings.FRAMING_MAX_UPLOAD_BYTES = 50
    response = _preview(manager_client, study["project"], _upload("big.csv", CSV))
    assert response.status_code == 422
    expected = f"The files add up to {len(CSV)} bytes; the upload limit is 50 bytes."
    assert expected in response.content.decode()
    assert Document.objects.filter(project=study["project"]).count() == 1


def test_an_upload_without_files_says_what_to_do(manager_client, study):
    response = manager_client.post(_url("manage-upload", study["project"]), {"confirm": "x"})
    assert response.status_code == 422
    assert "choose the same files, then press Import" in response.content.decode()


def test_documents_are_searched_by_text_and_metadata(manager_client, study):
    project = study["project"]
    imports.documents_import(project=project, files=[("b.csv", CSV)])
    page = manager_client.get(_url("manage-documents", project), {"q": "weekly"}).content.decode()
    assert "Two" in page and "First article" not in page and "1 document match" in page
    page = manager_client.get(_url("manage-documents", project), {"q": "sham"}).content.decode()
    assert "1 document match" in page and "Officials said" in page


# --- Codebook ---------------------------------------------------------------------


def test_a_duplicate_shortcut_is_refused_and_nothing_changes(manager_client, study):
    code = study["codes"]["Loaded language"]
    response = manager_client.post(
        _url("manage-code-update", study["project"], code.pk),
        {"name": "Loaded", "shortcut": "1", "colour": "#112233", "definition": "New"},
    )
    assert response.status_code == 422
    assert "The shortcut “1” is already used by “Sourcing”." in response.content.decode()
    code.refresh_from_db()
    assert (code.name, code.shortcut, code.definition) == ("Loaded language", "2", "")


def test_deleting_a_used_code_is_refused_and_retiring_it_works(manager_client, study):
    project, assignment = study["project"], study["assignment_a"]
    code = study["codes"]["Sourcing"]
    spans.span_create(assignment=assignment, code_id=code.pk, start=0, end=9, quote="Officials")
    response = manager_client.post(_url("manage-code-delete", project, code.pk))
    assert response.status_code == 422
    assert "“Sourcing” is used by 1 span; retire it instead." in response.content.decode()
    assert Code.objects.filter(pk=code.pk).exists()
    manager_client.post(_url("manage-code-retire", project, code.pk), {"active": "0"})
    code.refresh_from_db()
    assert not code.active


def test_adding_editing_and_moving_codes(manager_client, study):
    project = study["project"]
    response = manager_client.post(
        _url("manage-code-add", project),
        {"name": "Victims", "colour": "#aa0000", "shortcut": "v", "definition": "Who suffers."},
    )
    assert response.status_code == 302
    code = Code.objects.get(name="Victims")
    manager_client.post(_url("manage-code-move", project, code.pk), {"direction": "up"})
    assert list(project.codebook.codes.values_list("name", flat=True)) == [
        "Sourcing",
        "Victims",
        "Loaded language",
    ]
    manager_client.post(
        _url("manage-code-update", project, code.pk),
        {"name": "Victims", "colour": "#aa0000", "shortcut": "v", "definition": "Who is hurt."},
    )
    page = manager_client.get(_url("manage-codebook", project)).content.decode()
    assert "version 2" in page and "Changed the wording of “Victims”." in page


def test_a_bad_colour_is_refused(manager_client, study):
    response = manager_client.post(
        _url("manage-code-add", study["project"]), {"name": "X", "colour": "red"}
    )
    assert response.status_code == 422
    assert "“red” is not a colour" in response.content.decode()
    assert not Code.objects.filter(name="X").exists()


# --- People -----------------------------------------------------------------------


def test_a_role_change_and_a_removal_keep_the_work(manager_client, study):
    project = study["project"]
    membership = Membership.objects.get(user=study["coder_b"])
    manager_client.post(_url("manage-member-set", project, membership.pk), {"role": "reviewer"})
    membership.refresh_from_db()
    assert membership.role == Role.REVIEWER
    response = manager_client.post(_url("manage-member-remove", project, membership.pk))
    assert response.status_code == 302
    assert not Membership.objects.filter(pk=membership.pk).exists()
    assert Assignment.objects.filter(pk=study["assignment_b"].pk).exists()


def test_the_last_manager_cannot_leave(manager_client, study):
    membership = Membership.objects.get(user=study["manager"])
    response = manager_client.post(_url("manage-member-remove", study["project"], membership.pk))
    assert response.status_code == 422
    assert "A project needs at least one manager" in response.content.decode()
    assert Membership.objects.filter(pk=membership.pk).exists()


# --- Assignments ------------------------------------------------------------------


def test_assigning_a_document_to_a_non_member_is_refused(manager_client, study, make_user):
    outsider = make_user("outsider")
    response = manager_client.post(
        _url("manage-assignment-add", study["project"]),
        {"document": study["document"].pk, "coder": outsider.pk},
    )
    assert response.status_code == 422
    # The same answer as for an id nobody has: a manager learns nothing about other accounts.
    assert "Choose a member of this project." in response.content.decode()
    assert not Assignment.objects.filter(coder=outsider).exists()


def test_bulk_assigning_to_a_non_member_is_refused(manager_client, study, make_user):
    outsider = make_user("outsider")
    response = manager_client.post(
        _url("manage-assignments-bulk", study["project"]),
        {"mode": "every", "coders": [study["coder_a"].pk, outsider.pk]},
    )
    assert response.status_code == 422
    # The same answer as for an id nobody has: a manager learns nothing about other accounts.
    assert "Choose a member of this project." in response.content.decode()
    assert not Assignment.objects.filter(coder=outsider).exists()


def test_assigning_by_hand_and_in_bulk(manager_client, study, make_user, member):
    project = study["project"]
    third = member(project, make_user("coder_c"))
    second_doc = imports.documents_import(project=project, files=[("b.txt", b"Another one.")])
    response = manager_client.post(
        _url("manage-assignment-add", project),
        {"document": study["document"].pk, "coder": third.pk},
    )
    assert response.status_code == 302
    response = manager_client.post(
        _url("manage-assignments-bulk", project), {"mode": "every"}, follow=True
    )
    assert "Created 3 assignments." in response.content.decode()
    assert Assignment.objects.filter(document=second_doc.created[0]).count() == 3
    assert Assignment.objects.filter(document=study["document"]).count() == 3


def test_withdrawing_an_assignment_with_spans_is_refused(manager_client, study):
    assignment = study["assignment_a"]
    code = study["codes"]["Sourcing"]
    spans.span_create(assignment=assignment, code_id=code.pk, start=0, end=9, quote="Officials")
    response = manager_client.post(
        _url("manage-assignment-remove", study["project"], assignment.pk)
    )
    assert response.status_code == 422
    assert "an assignment with spans stays so that their work is kept" in (
        response.content.decode()
    )
    assert Assignment.objects.filter(pk=assignment.pk).exists()


# --- Dashboard --------------------------------------------------------------------


def test_the_dashboard_shows_progress_and_an_agreement_chart(manager_client, study):
    project = study["project"]
    for alpha in (0.41, 0.83):
        AgreementRun.objects.create(
            project=project,
            status=RunStatus.DONE,
            fingerprint=str(alpha),
            results={"per_code": {"Sourcing": {"alpha_u": alpha}}},
        )
    page = manager_client.get(_url("manage-dashboard", project)).content.decode()
    assert "coder_a" in page and "coder_b" in page
    assert "<svg" in page and "<polyline" in page and "Sourcing: 0.830" in page
    assert "style=" not in page and "<script>" not in page


def test_the_dashboard_without_runs_says_so(manager_client, study):
    page = manager_client.get(_url("manage-dashboard", study["project"])).content.decode()
    assert "No agreement run has finished yet." in page


def test_the_project_list_only_shows_managed_projects(client, study):
    client.force_login(study["coder_a"])
    page = client.get(reverse("manage-projects")).content.decode()
    assert "You do not manage any project" in page and "Study" not in page
    assert "New project" not in page  # starting projects is not theirs to do
