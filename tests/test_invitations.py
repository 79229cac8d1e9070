"""Invitations, not take-overs: nobody joins a project without saying yes, no link sets the
password of an existing account, and nothing a manager types tells whether an account
exists elsewhere. Each test replays an attack found by probing the running app."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from annotations.models import Invitation, InvitationStatus, Membership, Project, Role
from annotations.services import people
from annotations.services.base import ServiceError

pytestmark = pytest.mark.django_db

PASSWORD = "a quiet river 42"


def invite(client, manager, project, username, role="coder"):
    client.force_login(manager)
    return client.post(
        reverse("manage-member-add", args=[project.pk]), {"username": username, "role": role}
    )


def link_of(response) -> str:
    return re.search(r'value="http://testserver(/invitations/[^"]+)"', response.content.decode())[1]


def test_a_coder_cannot_start_a_project_to_chain_into_other_accounts(client, study):
    """The chain began with any logged-in user creating a project of their own."""
    client.force_login(study["coder_a"])
    before = Project.objects.count()
    response = client.post(reverse("manage-project-create"), {"name": "Mine"})
    assert response.status_code == 404
    assert Project.objects.count() == before
    page = client.get(reverse("home")).content.decode()
    assert reverse("manage-projects") not in page  # the header offers nothing to use


def test_inviting_an_existing_account_neither_adds_it_nor_touches_its_password(
    client, study, make_user
):
    victim = make_user("victim")  # a member of some other lab's project
    response = invite(client, study["manager"], study["project"], "victim")
    assert response.status_code == 200
    assert not Membership.objects.filter(user=victim).exists()
    link = link_of(response)
    client.logout()
    # The link never sets the password of an account that exists, new link or not.
    attempt = client.post(link, {"password1": "taken over 1234", "password2": "taken over 1234"})
    assert attempt.status_code == 422
    victim.refresh_from_db()
    assert victim.check_password("correct horse battery staple")
    assert not victim.check_password("taken over 1234")
    invitation = Invitation.objects.get(username="victim")
    renewed = client.post  # the manager may renew; still no password can be set
    client.force_login(study["manager"])
    response = renewed(reverse("manage-invitation-link", args=[study["project"].pk, invitation.pk]))
    client.logout()
    again = client.post(
        link_of(response), {"password1": "taken over 1234", "password2": "taken over 1234"}
    )
    assert again.status_code == 422
    victim.refresh_from_db()
    assert victim.check_password("correct horse battery staple")


def test_until_accepted_the_project_sees_only_the_user_name_and_the_person_only_the_invitation(
    client, study, make_user
):
    victim = make_user("victim", email="victim@example.org", first_name="Vera")
    invite(client, study["manager"], study["project"], "victim")
    people_page = client.get(reverse("manage-people", args=[study["project"].pk]))
    text = people_page.content.decode()
    assert "victim" in text and "victim@example.org" not in text and "Vera" not in text
    client.force_login(victim)
    home = client.get(reverse("home")).content.decode()
    assert "invites you" in home
    assert reverse("project", args=[study["project"].pk]) not in home
    assert client.get(reverse("project", args=[study["project"].pk])).status_code == 404
    invitation = Invitation.objects.get(user=victim)
    client.post(reverse("invitation-accept", args=[invitation.pk]))
    assert Membership.objects.get(user=victim, project=study["project"]).role == Role.CODER
    assert client.get(reverse("project", args=[study["project"].pk])).status_code == 200


def test_a_declined_invitation_adds_nothing_and_only_the_invitee_may_answer(
    client, study, make_user
):
    victim = make_user("victim")
    invite(client, study["manager"], study["project"], "victim")
    invitation = Invitation.objects.get(user=victim)
    client.force_login(study["coder_a"])
    assert client.post(reverse("invitation-accept", args=[invitation.pk])).status_code == 404
    client.force_login(victim)
    client.post(reverse("invitation-decline", args=[invitation.pk]))
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.DECLINED
    assert not Membership.objects.filter(user=victim).exists()


def test_nothing_a_manager_types_tells_whether_an_account_exists(client, study, make_user):
    make_user("existing")
    answers = []
    for name in ("existing", "nobodyhere"):
        response = invite(client, study["manager"], study["project"], name)
        people.invitation_withdraw(invitation=Invitation.objects.get(username=name), actor=None)
        body = response.content.decode().replace(name, "NAME")
        body = re.sub(r"/invitations/[^\"/]+/", "/invitations/TOKEN/", body)
        body = re.sub(r"[A-Za-z0-9]{64}", "CSRF", body)
        body = re.sub(r"\d{1,2} \w{3} \d{4} \d\d:\d\d", "DATE", body)
        answers.append((response.status_code, body))
    assert answers[0] == answers[1]
    assert not get_user_model().objects.filter(username="nobodyhere").exists()


def test_a_new_person_chooses_a_password_through_the_link_once(client, study):
    response = invite(client, study["manager"], study["project"], "newbie")
    link = link_of(response)
    client.logout()
    page = client.get(link)
    assert page.status_code == 200 and "Choose a password" in page.content.decode()
    done = client.post(link, {"password1": PASSWORD, "password2": PASSWORD})
    assert done.status_code == 302
    user = get_user_model().objects.get(username="newbie")
    assert user.check_password(PASSWORD)
    assert Membership.objects.get(user=user).role == Role.CODER
    client.logout()
    assert client.get(link).status_code == 404  # used: the link stops working


def test_a_new_link_replaces_the_old_one_and_links_expire(client, study, settings):
    first = link_of(invite(client, study["manager"], study["project"], "newbie"))
    invitation = Invitation.objects.get(username="newbie")
    second = link_of(
        client.post(reverse("manage-invitation-link", args=[study["project"].pk, invitation.pk]))
    )
    client.logout()
    assert client.get(first).status_code == 404
    assert client.get(second).status_code == 200
    Invitation.objects.filter(pk=invitation.pk).update(
        token_issued_at=timezone.now() - timedelta(hours=settings.FRAMING_INVITATION_HOURS + 1)
    )
    expired = client.post(second, {"password1": PASSWORD, "password2": PASSWORD})
    assert expired.status_code == 404
    assert not get_user_model().objects.filter(username="newbie").exists()


def test_a_second_projects_link_for_the_same_new_name_cannot_capture_the_first_invitation(
    study, make_project
):
    """A manager elsewhere invites the same new name and uses their own link first: they own
    that account, but never the invitation the first project made."""
    other = make_project("Other lab")
    real = people.member_invite(project=study["project"], username="bob", role="coder", actor=None)
    rogue = people.member_invite(project=other, username="bob", role="coder", actor=None)
    squatter = people.invitation_create_account(token=rogue.token, password=PASSWORD)
    with pytest.raises(ServiceError):
        people.invitation_create_account(token=real.token, password="another pass 99")
    with pytest.raises(ServiceError):
        people.invitation_accept(invitation=real.invitation, user=squatter)
    assert not Membership.objects.filter(user=squatter, project=study["project"]).exists()


def test_an_invalid_link_says_what_to_do(client, study):
    response = client.get(reverse("invitation", args=["not-a-token"]))
    assert response.status_code == 404
    assert "for a new link" in response.content.decode()
