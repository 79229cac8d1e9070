"""How many key presses a span costs on the coding page, measured in the browser.

The spans are the demo coders' spans on the two seed articles (fixtures/demo.json, the
ones ``load_seed --demo`` stores): every distinct extent, coded in text order, each from
where the previous one left the caret (the first from the top of the article). For each,
``keyplan`` finds the fewest presses with the page's keys; the test presses exactly those
keys and checks the span the server stored. The figure is written to
var/reports/keypresses.md. Goal (issue 15): a median of at most 8 presses.
"""

from __future__ import annotations

import json
import statistics
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from annotations.models import Role, Span
from annotations.services import assignments, people
from annotations.services.seed import SEED_DIR, load_seed

from .keyplan import Text, plan

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

REPORT = Path(settings.BASE_DIR) / "var" / "reports" / "keypresses.md"
GOAL = 8


def targets(document, spec) -> list[tuple[int, int, str]]:
    """Distinct extents of the demo coders' spans on a document, in text order, with the
    code the first coder gave."""
    text = document.text
    found: dict[tuple[int, int], str] = {}
    for rows in spec["spans"][document.external_id].values():
        for code, quote, *_ in rows:
            start = text.index(quote)
            found.setdefault((start, start + len(quote)), code)
    return [(s, e, code) for (s, e), code in sorted(found.items())]


def test_the_median_span_on_the_seed_articles_takes_at_most_8_key_presses(coding, make_user):
    project = load_seed().project
    spec = json.loads((SEED_DIR / "demo.json").read_text(encoding="utf-8"))
    shortcuts = {code.name: code.shortcut for code in project.codebook.codes.all()}
    coder = make_user("keyboard_coder")
    people.membership_set(project=project, user=coder, role=Role.CODER)
    context = coding.context(coder)
    rows = []
    for document in project.documents.order_by("pk"):
        assignments.assignment_create(document=document, coder=coder)
        model = Text(document.text, snap=project.snap_to_words)
        page = coding.open(context, reverse("annotate", args=[document.pk]))
        page.focus("#doc-text")
        caret = 0
        for start, end, code in targets(document, spec):
            keys = plan(model, caret, (start, end), shortcuts[code])
            before = Span.objects.count()
            mine = Span.objects.filter(assignment__coder=coder, assignment__document=document)
            expected = mine.count() + 1
            for key in keys.keys:
                if isinstance(key, tuple):
                    page.keyboard.type(key[1])
                else:
                    page.keyboard.press(key)
            page.wait_for_function(
                "n => document.querySelectorAll('.span-entry').length === n", arg=expected
            )
            assert Span.objects.count() == before + 1
            stored = Span.objects.latest("pk")
            quote = document.text[start:end]
            assert (stored.start, stored.end) == (start, end), (quote, keys.keys, stored.quote)
            rows.append((document.outlet, quote, keys))
            caret = end
    presses = [keys.presses for _, _, keys in rows]
    median = statistics.median(presses)
    distribution = sorted(Counter(presses).items())
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    lines = [
        "# Key presses per span on the seed articles",
        "",
        f"{len(rows)} spans (the demo coders' distinct extents), each from where the previous "
        "one left the caret; snap to words on. Produced by "
        "`pytest tests/browser/test_keypresses.py`.",
        "",
        f"**Median: {median:g} presses** (goal: at most {GOAL}); mean "
        f"{statistics.mean(presses):.1f}; min {min(presses)}, max {max(presses)}.",
        "",
        "Distribution (presses: spans): " + ", ".join(f"{n}: {count}" for n, count in distribution),
        "",
        "| outlet | span | presses | keys |",
        "| --- | --- | ---: | --- |",
    ]
    for outlet, quote, keys in rows:
        shown = " ".join(f"“{k[1]}”" if isinstance(k, tuple) else k for k in keys.keys)
        short = quote if len(quote) <= 60 else quote[:57] + "…"
        lines.append(f"| {outlet} | {short} | {keys.presses} | {shown} |")
    REPORT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"\nkey presses per span: median {median:g}, distribution {distribution}")
    assert median <= GOAL, f"median {median} key presses per span (goal {GOAL}); see {REPORT}"
