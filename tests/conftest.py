"""Shared fixtures: real database rows built through the services, as users would create them."""

from __future__ import annotations

import itertools
import os

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from hypothesis import settings as hypothesis_settings

from annotations.domain.textio import sha256_text
from annotations.models import AgreementRun, Membership, Role
from annotations.services import assignments, codebook, imports, people, projects, spans

_names = itertools.count(1)

# The same examples on every run: a CI run that fails fails again for whoever looks, and a
# green run does not turn red by chance. (HYPOTHESIS_PROFILE=random explores further.)
hypothesis_settings.register_profile("framing", derandomize=True)
hypothesis_settings.register_profile("random", derandomize=False)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "framing"))


@pytest.fixture(autouse=True, scope="session")
def _private_embedded_broker(tmp_path_factory):
    """Tests never leave messages in the developer's broker folder (a running `make run`
    worker would take them); worker processes started by tests inherit the same folder."""
    if not django_settings.CELERY_BROKER_URL.startswith("filesystem://"):
        yield
        return
    from framing.celery import app

    folder = tmp_path_factory.mktemp("broker")
    for name in ("messages", "control"):
        (folder / name).mkdir()
    previous = app.conf.broker_transport_options
    app.conf.broker_transport_options = {
        **previous,
        "data_folder_in": str(folder / "messages"),
        "data_folder_out": str(folder / "messages"),
        "control_folder": str(folder / "control"),
    }
    os.environ["FRAMING_BROKER_DIR"] = str(folder)
    yield
    app.conf.broker_transport_options = previous


@pytest.fixture(autouse=True)
def _empty_render_cache():
    """A test's rolled-back rows give their ids again to the next test's (SQLite reuses
    them), which a real database never does: the coding page's cache starts empty."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _plain_static_storage(settings):
    # Manifest storage needs collectstatic; tests render {% static %} without it.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def make_user(db):
    def make(username: str | None = None, **extra):
        username = username or f"user{next(_names)}"
        return get_user_model().objects.create_user(
            username=username, password="correct horse battery staple", **extra
        )

    return make


@pytest.fixture
def make_project(db):
    def make(name: str | None = None, *, blind: bool = True, codes=("Sourcing", "Loaded language")):
        project = projects.project_create(name=name or f"Project {next(_names)}", blind=blind)
        for i, code in enumerate(codes, start=1):
            codebook.code_create(codebook=project.codebook, name=code, shortcut=str(i))
        return project

    return make


@pytest.fixture
def add_document(db):
    def add(project, text: str, name: str = "doc.txt"):
        outcome = imports.documents_import(project=project, files=[(name, text.encode("utf-8"))])
        assert outcome.ok, outcome.problems
        if outcome.created:
            return outcome.created[0]
        return project.documents.get(sha256=sha256_text(text))

    return add


@pytest.fixture
def member(db):
    def add(project, user, role: str = Role.CODER):
        people.membership_set(project=project, user=user, role=role)
        return user

    return add


@pytest.fixture
def study(make_user, make_project, add_document, member):
    """A blind project with two coders, a reviewer, a manager and one assigned document."""
    project = make_project("Study")
    document = add_document(
        project, "Officials said the “confession” was voluntary. Critics called it a sham.\n"
    )
    coder_a = member(project, make_user("coder_a"))
    coder_b = member(project, make_user("coder_b"))
    reviewer = member(project, make_user("reviewer"), Role.REVIEWER)
    manager = member(project, make_user("manager"), Role.MANAGER)
    manager.user_permissions.add(
        Permission.objects.get(codename="create_project", content_type__app_label="annotations")
    )
    assignment_a = assignments.assignment_create(document=document, coder=coder_a)
    assignment_b = assignments.assignment_create(document=document, coder=coder_b)
    codes = {code.name: code for code in project.codebook.codes.all()}
    return {
        "project": project,
        "document": document,
        "coder_a": coder_a,
        "coder_b": coder_b,
        "reviewer": reviewer,
        "manager": manager,
        "assignment_a": assignment_a,
        "assignment_b": assignment_b,
        "codes": codes,
    }


@pytest.fixture
def world(study, make_user):
    """The study fixture plus an outsider, a span of coder A and an agreement run."""
    text = study["document"].text
    code = study["codes"]["Sourcing"]
    span_a = spans.span_create(
        assignment=study["assignment_a"],
        code_id=code.pk,
        start=0,
        end=len("Officials"),
        quote=text[: len("Officials")],
    )
    run = AgreementRun.objects.create(project=study["project"], fingerprint="f" * 64)
    outsider = make_user("outsider")
    # One invitation for a name nobody has, one the outsider may answer.
    invited = people.member_invite(
        project=study["project"], username="invited", role=Role.CODER, actor=None
    ).invitation
    invitation = people.member_invite(
        project=study["project"], username="outsider", role=Role.CODER, actor=None
    ).invitation
    return {
        **study,
        "outsider": outsider,
        "invitation": invitation,
        "span_a": span_a,
        "code": code,
        "run": run,
        "invited": invited,
        "membership_b": Membership.objects.get(project=study["project"], user=study["coder_b"]),
    }
