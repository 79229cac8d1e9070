"""Every URL of the project, requested as every kind of user, against objects of others.

Expected: anonymous users are sent to the login page; a user who may not see an object gets
404 (never 403, which would confirm the object exists); a user whose role allows the request
succeeds. A URL pattern without an entry in MATRIX fails ``test_every_url_has_an_entry``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from annotations.domain.settling import item_key
from annotations.models import AssignmentStatus
from annotations.selectors.review import document_alignment
from annotations.services import assignments, review, tokens

ROLES = ("anonymous", "outsider", "coder_a", "coder_b", "reviewer", "manager")
USERS = frozenset(ROLES) - {"anonymous"}
MEMBERS = USERS - {"outsider"}
REVIEWERS = frozenset({"reviewer", "manager"})
MANAGERS = frozenset({"manager"})
CODERS_ASSIGNED = frozenset({"coder_a", "coder_b"})
CODER_A = frozenset({"coder_a"})
OUTSIDER = frozenset({"outsider"})

# Django's own pages: not ours to authorise (the admin checks is_staff itself). The JSON
# API has its own matrix over its operations (tests/api/test_api_authorization.py).
EXEMPT_NAMESPACES = {"admin", "api"}
# Password-set links work without logging in: the signed token is the credential.
# An invitation link works without logging in: its token is the credential (tested in
# test_invitations).
EXEMPT_NAMES = {"login", "logout", "invitation"}


@dataclass(frozen=True)
class Route:
    method: str
    allowed: frozenset[str]
    kwargs: Callable[[dict], dict] = lambda w: {}
    data: Callable[[dict], dict] = lambda w: {}
    query: Callable[[dict], str] = lambda w: ""
    # Brings the world into the state the request needs (e.g. a settled review).
    prepare: Callable[[dict], None] = lambda w: None


def project_kw(w):
    return {"project_id": w["project"].pk}


def document_kw(w):
    return {"document_id": w["document"].pk}


def span_kw(w):
    return {"span_id": w["span_a"].pk}


def code_kw(w):
    # "Loaded language" is unused, so deleting it is allowed (a used code gives 422).
    return {"project_id": w["project"].pk, "code_id": w["codes"]["Loaded language"].pk}


def membership_kw(w):
    return {"project_id": w["project"].pk, "membership_id": w["membership_b"].pk}


def open_item_key(w) -> str:
    alignment = document_alignment(w["document"])
    return next(item_key(i) for i in alignment.items if i.kind != "agreed")


def both_done(w):
    for key in ("assignment_a", "assignment_b"):
        assignments.assignment_set_status(assignment=w[key], status=AssignmentStatus.DONE)


def settled(w):
    both_done(w)
    decision = review.gold_settle(
        document=w["document"],
        item_key=open_item_key(w),
        action=review.Action.ACCEPT,
        coder=w["coder_a"].pk,
        actor=w["reviewer"],
    )
    w["gold"] = decision.gold_span


def finished(w):
    settled(w)
    review.review_finish(document=w["document"], actor=w["reviewer"])


def finished_with_feedback(w):
    finished(w)
    w["project"].feedback_to_coders = True
    w["project"].save()


def coder_a_token(w):
    w["token"] = tokens.api_token_create(user=w["coder_a"], name="laptop")[0]


def new_span_data(w):
    text = w["document"].text
    start = text.index("Critics")
    return {"start": start, "end": start + 7, "quote": "Critics", "code": w["code"].pk}


MATRIX: dict[str, Route] = {
    # Landing pages: any logged-in user; they list only the user's own work.
    "home": Route("GET", USERS),
    "next-document": Route("GET", USERS),
    "project": Route("GET", MEMBERS, project_kw),
    "code-styles": Route("GET", MEMBERS, project_kw),
    # Coding: only coders assigned to the document, only on their own spans.
    "annotate": Route("GET", CODERS_ASSIGNED, document_kw),
    "span-create": Route("POST", CODERS_ASSIGNED, document_kw, new_span_data),
    "inspect": Route("GET", CODERS_ASSIGNED, document_kw, query=lambda w: "?at=1"),
    "assignment-status": Route(
        "POST", CODERS_ASSIGNED, document_kw, lambda w: {"status": "in_progress"}
    ),
    "span-update": Route(
        "POST", CODER_A, span_kw, lambda w: {"version": w["span_a"].version, "note": "n"}
    ),
    "span-delete": Route("POST", CODER_A, span_kw, lambda w: {"version": w["span_a"].version}),
    "span-restore": Route("POST", CODER_A, span_kw, lambda w: {"version": w["span_a"].version}),
    # Agreement: reviewers and managers (coders only in open projects; this one is blind).
    "agreement": Route("GET", REVIEWERS, project_kw),
    "agreement-run": Route("POST", REVIEWERS, project_kw),
    "agreement-rerun": Route(
        "POST", REVIEWERS, lambda w: {"project_id": w["project"].pk, "run_id": w["run"].pk}
    ),
    # Review: reviewers and managers; feedback only for the document's own coders.
    # Lists only the projects the user reviews (none: says so), so everyone may open it.
    "review-home": Route("GET", USERS),
    "review-queue": Route("GET", REVIEWERS, project_kw),
    "review-next": Route("GET", REVIEWERS, project_kw),
    "review": Route("GET", REVIEWERS, document_kw, prepare=both_done),
    "review-settle": Route(
        "POST",
        REVIEWERS,
        document_kw,
        lambda w: {"item_key": open_item_key(w), "choice": "reject", "rationale": "no"},
        prepare=both_done,
    ),
    "review-accept-agreed": Route("POST", REVIEWERS, document_kw, prepare=both_done),
    "review-finish": Route("POST", REVIEWERS, document_kw, prepare=settled),
    "review-reopen": Route("POST", REVIEWERS, document_kw, prepare=finished),
    "review-reopen-coding": Route("POST", MANAGERS, document_kw, prepare=settled),
    "review-feedback": Route("GET", CODERS_ASSIGNED, document_kw, prepare=finished_with_feedback),
    "gold-edit": Route(
        "POST",
        REVIEWERS,
        lambda w: {"gold_id": w["gold"].pk},
        lambda w: {"version": w["gold"].version, "adjust": "end-later"},
        prepare=settled,
    ),
    # Export: every member; what a coder's download holds is tested in test_export_views.
    "export": Route("GET", MEMBERS, project_kw),
    "export-spans-csv": Route("GET", MEMBERS, project_kw),
    "export-spans-jsonl": Route("GET", MEMBERS, project_kw),
    "export-bundle": Route("GET", MEMBERS, project_kw),
    "export-tool": Route("GET", MEMBERS, project_kw, query=lambda w: "?format=doccano"),
    # Study management: the project's managers only.
    "manage-projects": Route("GET", USERS),
    # Starting projects is a site-level right (the study's manager has it here).
    "manage-project-create": Route("POST", MANAGERS, data=lambda w: {"name": "New project"}),
    "manage-dashboard": Route("GET", MANAGERS, project_kw),
    "manage-settings": Route("GET", MANAGERS, project_kw),
    "manage-documents": Route("GET", MANAGERS, project_kw),
    "manage-upload": Route(
        "POST",
        MANAGERS,
        project_kw,
        lambda w: {"files": SimpleUploadedFile("a.txt", b"New text.")},
    ),
    "manage-codebook": Route("GET", MANAGERS, project_kw),
    "manage-code-add": Route("POST", MANAGERS, project_kw, lambda w: {"name": "New code"}),
    "manage-code-update": Route(
        "POST", MANAGERS, code_kw, lambda w: {"name": "Loaded", "colour": "#123456"}
    ),
    "manage-code-move": Route("POST", MANAGERS, code_kw, lambda w: {"direction": "up"}),
    "manage-code-retire": Route("POST", MANAGERS, code_kw),
    "manage-code-delete": Route("POST", MANAGERS, code_kw),
    "manage-people": Route("GET", MANAGERS, project_kw),
    "manage-member-add": Route(
        "POST", MANAGERS, project_kw, lambda w: {"username": "newcomer", "role": "coder"}
    ),
    "manage-member-set": Route("POST", MANAGERS, membership_kw, lambda w: {"role": "reviewer"}),
    "manage-member-remove": Route("POST", MANAGERS, membership_kw),
    "manage-invitation-link": Route(
        "POST",
        MANAGERS,
        lambda w: {"project_id": w["project"].pk, "invitation_id": w["invited"].pk},
    ),
    "manage-invitation-withdraw": Route(
        "POST",
        MANAGERS,
        lambda w: {"project_id": w["project"].pk, "invitation_id": w["invited"].pk},
    ),
    # Only the invited account answers an invitation (here: the outsider).
    "invitation-accept": Route("POST", OUTSIDER, lambda w: {"invitation_id": w["invitation"].pk}),
    "invitation-decline": Route("POST", OUTSIDER, lambda w: {"invitation_id": w["invitation"].pk}),
    "manage-assignments": Route("GET", MANAGERS, project_kw),
    "manage-audit": Route("GET", MANAGERS, project_kw),
    "manage-assignments-bulk": Route("POST", MANAGERS, project_kw, lambda w: {"mode": "every"}),
    "manage-assignment-add": Route(
        "POST",
        MANAGERS,
        project_kw,
        lambda w: {"document": w["document"].pk, "coder": w["reviewer"].pk},
    ),
    "manage-assignment-remove": Route(
        "POST",
        MANAGERS,
        lambda w: {"project_id": w["project"].pk, "assignment_id": w["assignment_b"].pk},
    ),
    # API tokens: every user has their own page; only a token's owner may revoke it.
    "api-tokens": Route("GET", USERS),
    "api-token-revoke": Route(
        "POST", CODER_A, lambda w: {"token_id": w["token"].pk}, prepare=coder_a_token
    ),
}


def url_names() -> set[str]:
    names: set[str] = set()

    def walk(patterns, namespace=None):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if pattern.namespace in EXEMPT_NAMESPACES:
                    continue
                walk(pattern.url_patterns, pattern.namespace or namespace)
            elif isinstance(pattern, URLPattern):
                assert pattern.name, f"URL pattern {pattern.pattern} has no name"
                if pattern.name not in EXEMPT_NAMES:
                    names.add(f"{namespace}:{pattern.name}" if namespace else pattern.name)

    walk(get_resolver().url_patterns)
    return names


def test_every_url_has_an_entry_in_the_matrix():
    missing = url_names() - MATRIX.keys()
    stale = MATRIX.keys() - url_names()
    assert not missing, f"URLs without an authorization entry: {sorted(missing)}"
    assert not stale, f"Matrix entries for URLs that no longer exist: {sorted(stale)}"


CASES = [(name, role) for name in sorted(MATRIX) for role in ROLES]


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "role"), CASES)
def test_each_role_gets_exactly_what_it_may(client, world, name, role):
    route = MATRIX[name]
    route.prepare(world)
    url = reverse(name, kwargs=route.kwargs(world)) + route.query(world)
    if role != "anonymous":
        client.force_login(world[role])
    send = client.get if route.method == "GET" else client.post
    response = send(url, route.data(world)) if route.method == "POST" else send(url)
    if role == "anonymous":
        assert response.status_code == 302, response.status_code
        assert response["Location"].startswith(reverse("login"))
    elif role in route.allowed:
        assert response.status_code < 400, (response.status_code, response.content[:300])
        if response.status_code == 302:
            assert not response["Location"].startswith(reverse("login"))
    else:
        assert response.status_code == 404, (response.status_code, response.content[:300])
