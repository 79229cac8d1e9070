"""Running a study: the services behind the manager's pages refuse bad requests with a
message and change nothing, and never lose a coder's work."""

from __future__ import annotations

from collections import Counter

import pytest
from django.contrib.auth import get_user_model

from annotations.models import (
    AgreementRun,
    Assignment,
    AuditEvent,
    Code,
    CodebookVersion,
    Document,
    Membership,
    Role,
    RunStatus,
    Span,
)
from annotations.selectors import agreement as agreement_selectors
from annotations.selectors import manage as selectors_studies
from annotations.services import assignments, base, codebook, imports, people, projects, spans

pytestmark = pytest.mark.django_db

TEXT = "Officials said the “confession” was voluntary. Critics called it a sham.\n"


def _tag(assignment, word="Critics"):
    start = assignment.document.text.index(word)
    code = assignment.document.project.codebook.codes.first()
    return spans.span_create(
        assignment=assignment,
        code_id=code.pk,
        start=start,
        end=start + len(word),
        quote=word,
    )


def _codes(project):
    return list(project.codebook.codes.order_by("order", "pk"))


# --- Projects ---------------------------------------------------------------------


def test_a_new_study_makes_its_creator_manager_and_keeps_every_setting(make_user):
    pi = make_user("pi")
    project = projects.project_create(
        name="Elections", blind=False, feedback_to_coders=True, agreement_unit="sentence", actor=pi
    )
    project.refresh_from_db()
    assert (project.blind, project.feedback_to_coders, project.agreement_unit) == (
        False,
        True,
        "sentence",
    )
    assert Membership.objects.get(project=project, user=pi).role == Role.MANAGER


def test_project_update_refuses_a_name_the_same_creator_already_uses(make_project, make_user):
    make_project("Taken")
    project = make_project("Mine")
    with pytest.raises(base.ServiceError, match="You already have a project named “Taken”"):
        projects.project_update(
            project=project,
            name="Taken",
            description="x",
            blind=False,
            feedback_to_coders=True,
            agreement_unit="token",
            actor=make_user(),
        )
    project.refresh_from_db()
    assert (project.name, project.blind) == ("Mine", True)


# --- Codebook ---------------------------------------------------------------------


def test_a_definition_edit_snapshots_version_one_then_records_version_two(study):
    project, manager = study["project"], study["manager"]
    _tag(study["assignment_a"])
    code = study["codes"]["Sourcing"]
    codebook.code_update(
        code=code,
        name="Sourcing",
        definition="Who is quoted.",
        guidance="",
        colour=code.colour,
        shortcut=code.shortcut,
        note="Clarified",
        actor=manager,
    )
    project.codebook.refresh_from_db()
    assert project.codebook.version == 2
    v1, v2 = CodebookVersion.objects.filter(codebook=project.codebook).order_by("number")
    assert (v1.number, v2.number, v2.note, v2.created_by) == (1, 2, "Clarified", manager)
    assert next(c for c in v1.snapshot if c["name"] == "Sourcing")["definition"] == ""
    assert next(c for c in v2.snapshot if c["name"] == "Sourcing")["definition"] == "Who is quoted."
    later = _tag(study["assignment_b"], "Officials")
    assert later.codebook_version == 2
    _, rows = selectors_studies.codebook_page(project)
    assert [(r.number, r.spans) for r in rows] == [(2, 1), (1, 1)]


def test_renaming_recolouring_and_rekeying_do_not_make_a_version(study):
    code = study["codes"]["Sourcing"]
    codebook.code_update(
        code=code,
        name="Sources",
        definition="",
        guidance="",
        colour="#112233",
        shortcut="s",
        actor=study["manager"],
    )
    code.refresh_from_db()
    assert (code.name, code.colour, code.shortcut) == ("Sources", "#112233", "s")
    assert study["project"].codebook.version == 1
    assert not CodebookVersion.objects.exists()


def test_a_shortcut_used_by_another_code_is_refused_and_nothing_changes(study):
    code = study["codes"]["Loaded language"]
    with pytest.raises(base.ServiceError, match="The shortcut “1” is already used by “Sourcing”"):
        codebook.code_update(
            code=code,
            name="Renamed",
            definition="New wording",
            guidance="",
            colour=code.colour,
            shortcut="1",
            actor=study["manager"],
        )
    code.refresh_from_db()
    assert (code.name, code.shortcut, code.definition) == ("Loaded language", "2", "")
    assert not CodebookVersion.objects.exists()


def test_a_new_code_with_a_taken_shortcut_or_bad_colour_is_refused(study):
    book = study["project"].codebook
    with pytest.raises(base.ServiceError, match="already used by “Sourcing”"):
        codebook.code_create(codebook=book, name="New", shortcut="1", actor=None)
    with pytest.raises(base.ServiceError, match="is not a colour"):
        codebook.code_create(codebook=book, name="New", colour="red", actor=None)
    assert book.codes.count() == 2


def test_a_used_code_cannot_be_deleted_only_retired(study):
    span = _tag(study["assignment_a"])
    spans.span_delete(span=span, expected_version=span.version)  # still counts
    _tag(study["assignment_b"])
    code = span.code
    with pytest.raises(
        base.ServiceError, match=f"“{code.name}” is used by 2 spans; retire it instead."
    ):
        codebook.code_delete(code=code, actor=study["manager"])
    assert Code.objects.filter(pk=code.pk).exists()
    codebook.code_retire(code=code, actor=study["manager"])
    code.refresh_from_db()
    assert not code.active
    assert Span.objects.filter(code=code).count() == 2


def test_an_unused_code_is_deleted_with_an_audit_record(study):
    code = study["codes"]["Loaded language"]
    codebook.code_delete(code=code, actor=study["manager"])
    assert not Code.objects.filter(pk=code.pk).exists()
    assert AuditEvent.objects.filter(action="delete", object_type="code", object_id=code.pk)


def test_codes_are_reordered_and_a_stale_order_is_refused(study):
    book = study["project"].codebook
    first, second = _codes(study["project"])
    codebook.code_move(code=second, offset=-1, actor=None)
    assert _codes(study["project"]) == [second, first]
    with pytest.raises(base.ServiceError, match="codebook changed"):
        codebook.code_reorder(codebook=book, code_ids=[first.pk], actor=None)
    assert _codes(study["project"]) == [second, first]


# --- People -----------------------------------------------------------------------


def test_inviting_an_unknown_name_creates_no_account_and_no_membership_yet(study):
    invited = people.member_invite(
        project=study["project"], username="newcoder", role=Role.CODER, actor=study["manager"]
    )
    assert invited.invitation.creates_account and invited.token
    assert not get_user_model().objects.filter(username="newcoder").exists()
    assert people.invitation_by_token(invited.token) == invited.invitation
    assert people.invitation_by_token(invited.token + "x") is None


def test_inviting_an_existing_member_again_is_refused(study):
    with pytest.raises(base.ServiceError, match="coder_a is already a member of this project"):
        people.member_invite(
            project=study["project"], username="coder_a", role=Role.MANAGER, actor=None
        )
    assert Membership.objects.get(user=study["coder_a"]).role == Role.CODER


def test_an_invalid_user_name_is_refused(study):
    with pytest.raises(base.ServiceError, match="is not a valid user name"):
        people.member_invite(project=study["project"], username="a b", role=Role.CODER, actor=None)


def test_no_new_link_once_an_invitation_was_answered(study, make_user):
    make_user("answered")
    invited = people.member_invite(
        project=study["project"], username="answered", role=Role.CODER, actor=None
    )
    people.invitation_decline(invitation=invited.invitation, user=invited.invitation.user)
    with pytest.raises(base.ServiceError, match="already declined"):
        people.invitation_link_renew(invitation=invited.invitation, actor=None)


def test_the_last_manager_cannot_be_demoted_or_removed(study):
    membership = Membership.objects.get(user=study["manager"])
    message = "A project needs at least one manager"
    with pytest.raises(base.ServiceError, match=message):
        people.member_set_role(membership=membership, role=Role.CODER, actor=None)
    with pytest.raises(base.ServiceError, match=message):
        people.member_remove(membership=membership, actor=None)
    assert Membership.objects.get(pk=membership.pk).role == Role.MANAGER


def test_removing_a_member_keeps_their_assignments_and_spans(study):
    span = _tag(study["assignment_a"])
    people.member_remove(
        membership=Membership.objects.get(user=study["coder_a"]), actor=study["manager"]
    )
    assert not Membership.objects.filter(user=study["coder_a"]).exists()
    assert Assignment.objects.filter(pk=study["assignment_a"].pk).exists()
    assert Span.objects.live().filter(pk=span.pk).exists()
    board = selectors_studies.dashboard(study["project"])
    former = next(c for c in board.coders if c.user == study["coder_a"])
    assert (former.role, former.spans) == ("", 1)


# --- Assignments ------------------------------------------------------------------


def test_an_assignment_with_spans_is_not_removed(study):
    _tag(study["assignment_a"])
    with pytest.raises(
        base.ServiceError, match=r"coder_a has 1 span in .*an assignment with spans stays"
    ):
        assignments.assignment_remove(assignment=study["assignment_a"], actor=None)
    assert Assignment.objects.filter(pk=study["assignment_a"].pk).exists()


def test_an_assignment_without_spans_is_removed(study):
    assignments.assignment_remove(assignment=study["assignment_b"], actor=study["manager"])
    assert not Assignment.objects.filter(pk=study["assignment_b"].pk).exists()


def test_assigning_to_a_non_member_is_refused(study, make_user):
    outsider = make_user("outsider")
    with pytest.raises(base.ServiceError, match="outsider is not a member of this project"):
        assignments.assignments_bulk(
            project=study["project"], mode="every", coders=[outsider], actor=None
        )
    with pytest.raises(base.ServiceError, match="outsider is not a member of this project"):
        assignments.assignment_create(document=study["document"], coder=outsider)
    assert not Assignment.objects.filter(coder=outsider).exists()


@pytest.fixture
def corpus(make_project, make_user, member):
    """A project with 20 documents from two outlets (15 + 5) and three coders."""
    project = make_project("Corpus")
    body = "text,outlet\n" + "".join(
        f"Article number {i}.,{'Daily' if i < 15 else 'Weekly'}\n" for i in range(20)
    )
    outcome = imports.documents_import(project=project, files=[("c.csv", body.encode())])
    assert outcome.ok
    coders = [member(project, make_user(f"c{i}")) for i in range(3)]
    return project, coders


def _per_document(project) -> Counter:
    return Counter(
        Assignment.objects.filter(document__project=project).values_list("document_id", flat=True)
    )


def test_every_document_goes_to_every_coder_and_repeating_adds_nothing(corpus):
    project, _ = corpus
    outcome = assignments.assignments_bulk(project=project, mode="every", actor=None)
    assert outcome.created == 60
    assert set(_per_document(project).values()) == {3}
    assert assignments.assignments_bulk(project=project, mode="every", actor=None).created == 0


def test_each_document_to_two_coders_is_balanced(corpus):
    project, _ = corpus
    assignments.assignments_bulk(project=project, mode="each_n", per_document=2, actor=None)
    assert set(_per_document(project).values()) == {2}
    loads = Counter(Assignment.objects.values_list("coder_id", flat=True))
    assert max(loads.values()) - min(loads.values()) <= 1


def test_more_coders_per_document_than_coders_is_refused(corpus):
    project, _ = corpus
    with pytest.raises(base.ServiceError, match="Each document to 4 coders needs between"):
        assignments.assignments_bulk(project=project, mode="each_n", per_document=4, actor=None)
    assert not Assignment.objects.exists()


def test_a_stratified_sample_is_double_coded_the_rest_once_and_the_seed_repeats_it(corpus):
    project, _ = corpus
    outcome = assignments.assignments_bulk(
        project=project, mode="sample", percent=20, stratify_by_outlet=True, seed=7, actor=None
    )
    per_document = _per_document(project)
    assert sorted(Counter(per_document.values()).items()) == [(1, 16), (2, 4)]
    sampled = Document.objects.filter(pk__in=outcome.double_coded)
    assert Counter(sampled.values_list("outlet", flat=True)) == {"Daily": 3, "Weekly": 1}
    assert {d for d, n in per_document.items() if n == 2} == set(outcome.double_coded)
    loads = Counter(Assignment.objects.values_list("coder_id", flat=True))
    assert max(loads.values()) - min(loads.values()) <= 1
    Assignment.objects.all().delete()
    again = assignments.assignments_bulk(
        project=project, mode="sample", percent=20, stratify_by_outlet=True, seed=7, actor=None
    )
    assert again.double_coded == outcome.double_coded


def test_sample_sizes_keep_the_total_and_do_not_lose_small_strata():
    assert assignments.sample_sizes({"a": 1, "b": 1, "c": 1, "d": 7}, 30) == {
        "a": 1,
        "b": 0,
        "c": 0,
        "d": 2,
    }
    assert assignments.sample_sizes({"a": 15, "b": 5}, 20) == {"a": 3, "b": 1}
    assert sum(assignments.sample_sizes({str(i): 1 for i in range(10)}, 10).values()) == 1


# --- Dashboard --------------------------------------------------------------------


def test_the_dashboard_counts_statuses_spans_and_reads_agreement_history(study):
    _tag(study["assignment_a"])
    assignments.assignment_set_status(assignment=study["assignment_b"], status="done")
    project = study["project"]
    for alpha in (0.5, 0.75):
        AgreementRun.objects.create(
            project=project,
            status=RunStatus.DONE,
            fingerprint=str(alpha),
            results={"per_code": {"Sourcing": {"alpha_u": alpha}}, "alpha_u": alpha},
        )
    AgreementRun.objects.create(
        project=project, status=RunStatus.DONE, fingerprint="odd", results=[]
    )
    board = selectors_studies.dashboard(project)
    by_name = {c.user.username: c for c in board.coders}
    assert by_name["coder_a"].counts == {"in_progress": 1} and by_name["coder_a"].spans == 1
    assert by_name["coder_b"].done == 1 and by_name["coder_b"].last_activity is not None
    assert board.document_states["in_progress"] == 1
    assert {c.name: c.span_count for c in board.codes}["Sourcing"] == 1
    agreement = agreement_selectors.project_agreement(project)
    assert agreement.runs == 3 and agreement.per_code == []  # the latest run has no per_code
    assert [len(line.dots) for line in agreement.chart.lines] == [2]


def test_agreement_is_empty_without_runs(study):
    agreement = agreement_selectors.project_agreement(study["project"])
    assert agreement.latest is None and agreement.chart is None
