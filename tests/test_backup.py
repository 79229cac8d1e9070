"""Backup and restore: a consistent copy while the app runs, and a tested way back."""

from __future__ import annotations

import io
import stat

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from annotations.models import Span
from annotations.services import spans

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "sqlite", reason="SQLite backup; PostgreSQL uses pg_dump"
    ),
]


def test_a_backup_restores_every_span_and_undoes_later_changes(study, tmp_path, capsys):
    text = study["document"].text
    span = spans.span_create(
        assignment=study["assignment_a"],
        code_id=study["codes"]["Sourcing"].pk,
        start=0,
        end=9,
        quote=text[:9],
    )
    target = tmp_path / "copy.sqlite3"
    call_command("backup", str(target))
    assert "Backup written" in capsys.readouterr().out
    spans.span_delete(span=span, expected_version=span.version)
    spans.span_create(
        assignment=study["assignment_b"],
        code_id=study["codes"]["Sourcing"].pk,
        start=0,
        end=9,
        quote=text[:9],
    )
    assert Span.objects.live().count() == 1
    call_command("restore", str(target), "--yes")
    restored = list(Span.objects.all())
    assert [(s.pk, s.deleted_at, s.quote) for s in restored] == [(span.pk, None, text[:9])]


def test_backup_refuses_to_overwrite_and_restore_refuses_a_foreign_file(study, tmp_path):
    text = study["document"].text
    spans.span_create(
        assignment=study["assignment_a"],
        code_id=study["codes"]["Sourcing"].pk,
        start=0,
        end=9,
        quote=text[:9],
    )
    target = tmp_path / "copy.sqlite3"
    call_command("backup", str(target))
    with pytest.raises(CommandError, match="exists already"):
        call_command("backup", str(target))
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"not a database at all" * 100)
    with pytest.raises(CommandError):
        call_command("restore", str(junk), "--yes")
    assert Span.objects.live().count() == 1


def test_a_backup_is_readable_by_its_owner_only(study, tmp_path):
    """It holds password hashes and sessions."""
    target = tmp_path / "copy.sqlite3"
    call_command("backup", str(target), stdout=io.StringIO())
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
