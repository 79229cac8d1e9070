"""Hostile values in every typed parameter of every URL: a clear 4xx, never a 5xx, and
nothing changes.

Parameters are parsed at the edge (``annotations.forms``); services and selectors only see
ints, bools and known choices. ``PARAMS`` lists, per URL of the authorization matrix, the
parameters that must parse; a URL added to the matrix without an entry here fails
``test_every_url_declares_its_typed_parameters``.
"""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import transaction
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .test_authorization import MATRIX

pytestmark = pytest.mark.django_db

ID, OFFSET, INT, CHOICE, FLAG, DECIMAL, IDS = "id", "offset", "int", "choice", "flag", "dec", "ids"

PARAMS: dict[str, dict[str, str]] = {
    "home": {},
    "next-document": {"after": ID},
    "project": {},
    "code-styles": {},
    "annotate": {},
    "span-create": {"code": ID, "start": OFFSET, "end": OFFSET},
    "inspect": {"at": OFFSET},
    "assignment-status": {"status": CHOICE},
    "span-update": {
        "version": INT,
        "code": ID,
        "start": OFFSET,
        "end": OFFSET,
        "adjust": CHOICE,
        "by": CHOICE,
        "keep": IDS,
    },
    "span-delete": {"version": INT, "keep": IDS},
    "span-restore": {"version": INT, "keep": IDS},
    "agreement": {},
    "agreement-run": {"include_in_progress": FLAG},
    "agreement-rerun": {},
    "review-queue": {"code": ID, "kind": CHOICE, "coder": CHOICE, "finished": FLAG, "sort": CHOICE},
    "review-next": {},
    "review-home": {},
    "review": {"item": INT, "row": INT},
    "review-settle": {"code": ID, "start": OFFSET, "end": OFFSET, "item": INT, "row": INT},
    "review-accept-agreed": {"item": INT, "row": INT},
    "review-finish": {"item": INT, "row": INT},
    "review-reopen": {"item": INT, "row": INT},
    "review-feedback": {},
    "gold-edit": {
        "version": INT,
        "code": ID,
        "start": OFFSET,
        "end": OFFSET,
        "adjust": CHOICE,
        "by": CHOICE,
    },
    "export": {},
    "export-spans-csv": {"layer": CHOICE, "code": IDS, "documents": CHOICE, "flavour": CHOICE},
    "export-spans-jsonl": {"layer": CHOICE, "code": IDS, "documents": CHOICE, "names": FLAG},
    "export-bundle": {"layer": CHOICE, "code": IDS, "flavour": CHOICE, "names": FLAG},
    "export-tool": {"format": CHOICE, "offsets": CHOICE, "layer": CHOICE, "code": IDS},
    "manage-projects": {},
    "manage-project-create": {"agreement_unit": CHOICE, "blind": FLAG},
    "manage-dashboard": {},
    "manage-settings": {},
    "manage-documents": {"page": INT},
    "manage-upload": {
        "format": CHOICE,
        "offsets": CHOICE,
        "coder": CHOICE,
        "create_codes": FLAG,
        "mark_done": FLAG,
    },
    "manage-codebook": {},
    "manage-code-add": {},
    "manage-code-update": {},
    "manage-code-move": {"direction": CHOICE},
    "manage-code-retire": {"active": CHOICE},
    "manage-code-delete": {},
    "manage-people": {},
    "manage-member-add": {"role": CHOICE},
    "manage-member-set": {"role": CHOICE},
    "manage-member-remove": {},
    "manage-invitation-link": {},
    "manage-invitation-withdraw": {},
    "invitation-accept": {},
    "invitation-decline": {},
    "review-reopen-coding": {"item": INT, "row": INT},
    "manage-assignments": {"page": INT},
    "manage-audit": {"document": ID, "user": ID, "page": INT},
    "manage-assignments-bulk": {
        "mode": CHOICE,
        "coders": IDS,
        "per_document": INT,
        "percent": DECIMAL,
        "seed": INT,
        "stratify": FLAG,
    },
    "manage-assignment-add": {"document": ID, "coder": ID, "page": INT},
    "manage-assignment-remove": {"page": INT},
    "api-tokens": {},
    "api-token-revoke": {},
}

HUGE = st.sampled_from(["9" * 5000, "1" + "0" * 24, str(2**63), str(2**64), "-" + "9" * 30])
# A blank value counts as not given (an empty form field), so it is not among these.
NOT_A_NUMBER = st.sampled_from(["abc", "1.5", "1e9", "²", "٣", "0x10", "--5", "+-1", "NaN"])
NEGATIVE = st.integers(max_value=-1).map(str)
HOSTILE = {
    ID: st.one_of(HUGE, NOT_A_NUMBER, NEGATIVE, st.just("0")),
    INT: st.one_of(HUGE, NOT_A_NUMBER, NEGATIVE),
    OFFSET: st.one_of(HUGE, NOT_A_NUMBER, NEGATIVE),
    IDS: st.one_of(HUGE, NOT_A_NUMBER, NEGATIVE, st.just("0")),
    DECIMAL: st.one_of(HUGE, st.sampled_from(["abc", "1e9", "101", "-1", "inf", "nan"])),
    # Never one of the valid choices: the mark is in no choice of the app.
    CHOICE: st.text(max_size=60).map(lambda v: "✗" + v).filter(lambda v: "\x00" not in v),
    FLAG: st.sampled_from(["maybe", "2", "yes please", "onn", "9" * 5000]),
}
CASES = sorted((name, param) for name, params in PARAMS.items() for param in params)


def test_every_url_declares_its_typed_parameters():
    assert set(PARAMS) == set(MATRIX)


def snapshot() -> tuple:
    """Every row count of the app, and the audit trail that every write extends."""
    return tuple(model.objects.count() for model in apps.get_app_config("annotations").get_models())


def user_for(route) -> str:
    for role in ("manager", "reviewer", "coder_a", "coder_b", "outsider"):
        if role in route.allowed:
            return role
    raise AssertionError("no user may use this route")


@pytest.mark.parametrize(("name", "param"), CASES)
@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_a_hostile_value_is_refused_with_a_message_and_changes_nothing(
    client, world, name, param, data
):
    route = MATRIX[name]
    kind = PARAMS[name][param]
    value = data.draw(HOSTILE[kind], label=param)
    with transaction.atomic():
        route.prepare(world)
        client.force_login(world[user_for(route)])
        url = reverse(name, kwargs=route.kwargs(world))
        before = snapshot()
        if route.method == "GET":
            response = client.get(url, {param: value})
        else:
            response = client.post(url, {**route.data(world), param: value})
        assert response.status_code < 500, (name, param, value, response.status_code)
        # Refused, and refused for a reason the person can read.
        assert 400 <= response.status_code < 500, (name, param, value, response.status_code)
        if response.status_code == 422 and not getattr(response, "streaming", False):
            assert response.content.strip()
        assert snapshot() == before, (name, param, value)
        transaction.set_rollback(True)


WITH_IDS = sorted(
    name
    for name, route in MATRIX.items()
    if route.kwargs is not type(route).__dataclass_fields__["kwargs"].default
)


@pytest.mark.parametrize("name", WITH_IDS)
@pytest.mark.parametrize("huge", ["1" + "0" * 24, str(2**63), "9" * 400])
def test_a_huge_id_in_a_path_is_not_found(client, world, name, huge):
    route = MATRIX[name]
    route.prepare(world)
    kwargs = route.kwargs(world)
    client.force_login(world[user_for(route)])
    url = reverse(name, kwargs=kwargs)
    for value in {str(v) for v in kwargs.values()}:
        hostile = url.replace(f"/{value}/", f"/{huge}/", 1)
        send = client.get if route.method == "GET" else client.post
        assert send(hostile).status_code == 404, (name, hostile)
