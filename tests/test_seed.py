"""The seed corpus: the two articles, byte for byte, and the default codebook."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from annotations.models import Code, Document, Project
from annotations.services.seed import load_seed

pytestmark = pytest.mark.django_db

FIXTURES = Path(settings.BASE_DIR) / "fixtures"


def test_seed_loads_both_articles_byte_identical_with_known_lengths():
    outcome = load_seed()
    assert outcome.documents_created == 2
    documents = {d.external_id: d for d in Document.objects.filter(project=outcome.project)}
    for external_id, length, outlet in [
        ("000_3af986219eb20bdc", 9993, "Red Fire Online"),
        ("003_5b647f9d2f4fad63", 6751, "Coda Story"),
    ]:
        document = documents[external_id]
        data = (FIXTURES / "corpus" / f"{external_id}.txt").read_bytes()
        assert document.text.encode("utf-8") == data
        assert len(document.text) == document.length == length
        assert document.sha256 == hashlib.sha256(data).hexdigest()
        assert document.outlet == outlet
        assert "\u00a0" in document.text or "’" in document.text


def test_seed_creates_the_four_default_codes_with_guidance():
    project = load_seed().project
    codes = list(Code.objects.filter(codebook__project=project))
    assert [c.name for c in codes] == [
        "Forced confession",
        "Foreign-interference claim",
        "Sourcing",
        "Loaded language",
    ]
    assert len({c.shortcut for c in codes}) == 4
    assert all(c.definition and "Example" in c.guidance for c in codes)
    assert project.blind


def test_codebook_examples_quote_the_corpus_exactly():
    spec = json.loads((FIXTURES / "seed.json").read_text(encoding="utf-8"))
    corpus = "".join(
        (FIXTURES / doc["file"]).read_text(encoding="utf-8") for doc in spec["documents"]
    )
    examples = [
        "released over 30 seemingly forced “confession” videos from his supporters",
        "Facebook is being utilised by the US deep state to prosecute its ongoing meddling",
        "he said in an email to Coda",
        "U.S. imperialism is up to its old tricks",
        "terrifying and disgusting",
    ]
    guidance = " ".join(code["guidance"] for code in spec["codes"])
    for example in examples:
        assert example in guidance
        assert example in corpus


def test_loading_the_seed_twice_stores_nothing_twice(capsys):
    call_command("load_seed")
    call_command("load_seed")
    assert "0 document(s) and 0 code(s) added" in capsys.readouterr().out
    assert Project.objects.count() == 1
    assert Document.objects.count() == 2
    assert Code.objects.count() == 4


def test_ensure_admin_creates_the_account_once_to_manage_the_seed(monkeypatch, capsys):
    from django.contrib.auth import get_user_model

    load_seed()
    monkeypatch.delenv("FRAMING_ADMIN_PASSWORD", raising=False)
    call_command("ensure_admin")
    first = capsys.readouterr().out
    assert "user: admin" in first and "shown this once" in first
    password = first.split("password: ")[1].split()[0]
    admin = get_user_model().objects.get(username="admin")
    assert admin.check_password(password) and admin.is_superuser
    # The administrator manages the seed project and codes nothing: agreement and review
    # then count only real coders.
    assert admin.memberships.get().role == "manager"
    assert admin.assignments.count() == 0
    call_command("ensure_admin")
    assert "shown this once" not in capsys.readouterr().out
    assert admin.memberships.count() == 1 and admin.assignments.count() == 0
    assert get_user_model().objects.filter(username="admin").count() == 1
