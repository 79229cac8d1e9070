"""What the header offers each user, read by a query compiled once per process and run with
each user's id: every flag from real rows, and no answer carried over from one user to
the next."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser, Group, Permission

from annotations.models import Assignment, Role
from annotations.permissions import SiteRights, coding_frozen, site_rights
from annotations.selectors.rows import CompiledOnce
from annotations.services import assignments, people

pytestmark = pytest.mark.django_db


def test_every_flag_comes_from_the_users_own_rows(study, make_user, make_project):
    outsider = make_user("outsider")
    grouped = make_user("grouped")
    creators = Group.objects.create(name="creators")
    creators.permissions.add(
        Permission.objects.get(codename="create_project", content_type__app_label="annotations")
    )
    grouped.groups.add(creators)
    other = make_project("Elsewhere")
    people.member_invite(
        project=other, username="outsider", role=Role.CODER, actor=study["manager"]
    )
    people.member_invite(
        project=study["project"], username="outsider", role=Role.REVIEWER, actor=study["manager"]
    )

    # Asked in turn, each user gets their own answer (the compiled query is shared).
    assert site_rights(study["coder_a"]) == SiteRights(codes=True)
    assert site_rights(study["reviewer"]) == SiteRights(reviews=True)
    assert site_rights(study["manager"]) == SiteRights(
        may_create_projects=True, manages=True, reviews=True
    )
    assert site_rights(outsider) == SiteRights(invitations=2)
    assert site_rights(grouped) == SiteRights(may_create_projects=True)
    assert site_rights(study["coder_a"]) == SiteRights(codes=True)
    assert site_rights(AnonymousUser()) == SiteRights()

    grouped.is_active = False
    grouped.save()
    assert site_rights(grouped) == SiteRights()


def test_work_assigned_without_a_coder_membership_still_counts_as_coding(study, make_user):
    # A reviewer given a document to code (the service allows members of any role).
    assignments.assignment_create(document=study["document"], coder=study["reviewer"])
    assert site_rights(study["reviewer"]) == SiteRights(reviews=True, codes=True)


def test_frozen_work_is_read_for_each_assignment(study):
    a, b = study["assignment_a"], study["assignment_b"]
    assignments.assignment_set_status(assignment=a, status="done", actor=study["coder_a"])
    assert coding_frozen(a)
    assert coding_frozen(b) == ""
    with pytest.raises(Assignment.DoesNotExist):
        coding_frozen(Assignment(pk=10**12))


def test_a_query_that_does_not_use_its_value_is_refused():
    once = CompiledOnce(lambda value: Assignment.objects.filter(pk=1).values("pk"))
    with pytest.raises(ValueError, match="does not use the value"):
        once.rows(5)
