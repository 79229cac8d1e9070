"""Templates format; they never decide who sees what (that is permissions.py's job)."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings

# A role named inside a template tag or variable: {% if member.role == ... %}, {{ x.role }}.
ROLE_IN_TAG = re.compile(r"\{[%{][^%}]*\brole\b")


def test_no_template_looks_at_a_role():
    offenders = []
    for path in sorted(Path(settings.BASE_DIR, "templates").rglob("*.html")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if ROLE_IN_TAG.search(line):
                offenders.append(f"{path.relative_to(settings.BASE_DIR)}:{number}: {line.strip()}")
    assert not offenders, (
        "Templates deciding by role (pass booleans from permissions.rights):\n"
        + "\n".join(offenders)
    )


def test_the_check_would_catch_a_role_test():
    assert ROLE_IN_TAG.search('{% if member.role == "manager" %}')
    assert ROLE_IN_TAG.search("{{ c.role }}")
    assert not ROLE_IN_TAG.search('<p role="status">{{ rights.can_manage }}</p>')
