"""One coder, one letter, everywhere in a project, for the life of the project."""

from __future__ import annotations

import pytest

from annotations.models import Membership, Role
from annotations.selectors.export.spec import coder_labels as export_labels
from annotations.selectors.labels import coder_labels, letters
from annotations.services import people, projects

pytestmark = pytest.mark.django_db


def test_letters_continue_past_z():
    assert [letters(i) for i in (0, 25, 26, 27, 701, 702)] == ["A", "Z", "AA", "AB", "ZZ", "AAA"]


def test_coders_are_lettered_in_joining_order_and_the_creator_takes_no_letter(make_user):
    pi = make_user("pi")
    project = projects.project_create(name="Letters", actor=pi)
    first, second = make_user("zed"), make_user("amy")
    people.membership_set(project=project, user=first, role=Role.CODER)
    people.membership_set(project=project, user=second, role=Role.CODER)
    labels = coder_labels(project)
    assert (labels[first.pk], labels[second.pk], labels[pi.pk]) == (
        "Coder A",
        "Coder B",
        "Manager A",
    )


def test_removing_a_member_renumbers_nobody(study):
    project = study["project"]
    before = coder_labels(project)[study["coder_b"].pk]
    membership = Membership.objects.get(project=project, user=study["coder_a"])
    people.member_remove(membership=membership, actor=study["manager"])
    assert coder_labels(project)[study["coder_b"].pk] == before == "Coder B"
    assert coder_labels(project)[study["coder_a"].pk] == "Coder A"


def test_exports_and_pages_use_the_same_letters(study):
    project = study["project"]
    assert export_labels(project, names=False) == coder_labels(project)
    assert export_labels(project, names=True)[study["coder_a"].pk] == "coder_a"
