"""Configuration: safe defaults with nothing set, and a production mode that refuses to guess."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.db import connection

STRONG_KEY = "k" * 20 + "Zq7#pL0v!x9Rm2@wT5^bN8&cF1*hJ4(e" + "s" * 10


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_mode_refuses_to_start_without_a_secret_key():
    result = run_manage("check", DJANGO_DEBUG="false", DJANGO_ALLOWED_HOSTS="framing.example.org")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_production_mode_refuses_to_start_without_allowed_hosts():
    result = run_manage("check", DJANGO_DEBUG="false", DJANGO_SECRET_KEY=STRONG_KEY)
    assert result.returncode != 0
    assert "DJANGO_ALLOWED_HOSTS" in result.stderr


def test_check_deploy_is_clean_under_production_settings():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY=STRONG_KEY,
        DJANGO_ALLOWED_HOSTS="framing.example.org",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite defaults only")
def test_sqlite_is_configured_for_concurrent_web_and_worker_writes():
    options = settings.DATABASES["default"]["OPTIONS"]
    assert options["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in options["init_command"]
    assert options["timeout"] >= 5


def test_every_setting_read_from_the_environment_is_in_the_readmes_table():
    """An operator learns the settings from the README's table: one the code reads but the
    table leaves out cannot be found (FRAMING_API_WRITES_PER_MINUTE was, once)."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    code = (root / "framing" / "settings.py").read_text(encoding="utf-8")
    read = set(re.findall(r"""environ(?:\.get)?\(\s*["']([A-Z][A-Z0-9_]+)["']""", code))
    read |= set(re.findall(r"""env_\w+\(\s*["']([A-Z][A-Z0-9_]+)["']""", code))
    readme = (root / "README.md").read_text(encoding="utf-8")
    table = set(re.findall(r"^\| `([A-Z][A-Z0-9_]+)` \|", readme, flags=re.MULTILINE))
    assert read, "no settings found: the pattern no longer matches settings.py"
    assert sorted(read - table) == []
