"""Server time to render the annotation page: a 50,000-character article with 1,000 spans.

Three coders have coded the article (about 333 spans each, nested and overlapping, in
four codes); the benchmark renders the page for one of them, who sees only their own
spans. The reference, measured in the same run, is the same page for a coder with no
spans, so the ratio shows what the spans cost whatever the machine.
"""

from __future__ import annotations

import random

from . import fresh_database, median, p95, timed

ARTICLE_CHARS = 50_000
SPANS = 1_000
CODERS = 3
REPEAT = 200
WORDS = [
    "the",
    "government",
    "said",
    "officials",
    "claimed",
    "foreign",
    "interference",
    "critics",
    "“confession”",
    "voluntary",
    "sham",
    "election",
    "café",
    "naïve",
    "Phnom",
    "Penh",
    "ក្មែរ",
    "opposition",
    "media",
    "👩\u200d🔬",
    "report",
    "Washington",
    "alleged",
    "campaign",
    "party",
    "court",
    "sentenced",
    "treason",
    "video",
    "statement",
]


def article(rng: random.Random) -> str:
    parts: list[str] = []
    length = 0
    while length < ARTICLE_CHARS:
        sentence = " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 22))) + ". "
        if rng.random() < 0.15:
            sentence += "\n\n"
        parts.append(sentence)
        length += len(sentence)
    return "".join(parts)[: ARTICLE_CHARS - 1].rstrip() + "."


def word_starts(text: str) -> list[int]:
    return [
        i for i in range(len(text)) if not text[i].isspace() and (i == 0 or text[i - 1].isspace())
    ]


def build(rng: random.Random):
    from django.contrib.auth import get_user_model

    from annotations.models import Span
    from annotations.services import assignments, codebook, imports, people, projects

    project = projects.project_create(name="Benchmark", blind=True)
    codes = [
        codebook.code_create(codebook=project.codebook, name=name, shortcut=str(i))
        for i, name in enumerate(("Confession", "Interference", "Sourcing", "Loaded"), start=1)
    ]
    text = article(rng)
    document = imports.documents_import(
        project=project, files=[("long.txt", text.encode("utf-8"))]
    ).created[0]
    users = get_user_model().objects
    coders = [users.create_user(f"coder{i}") for i in range(CODERS + 1)]
    work = []
    for coder in coders:
        people.membership_set(project=project, user=coder, role="coder")
        work.append(assignments.assignment_create(document=document, coder=coder))
    starts = word_starts(text)
    spans, seen = [], set()
    while len(spans) < SPANS:
        assignment = work[len(spans) % CODERS]  # the last coder stays empty
        first = rng.randrange(len(starts) - 15)
        start = starts[first]
        end = starts[first + rng.randint(1, 12)]
        while text[end - 1].isspace():
            end -= 1
        code = rng.choice(codes)
        key = (assignment.pk, code.pk, start, end)
        if key in seen:
            continue
        seen.add(key)
        spans.append(
            Span(assignment=assignment, code=code, start=start, end=end, quote=text[start:end])
        )
    Span.objects.bulk_create(spans)
    return document, coders[0], coders[-1]


def run() -> dict:
    from django.test import Client
    from django.urls import reverse

    from annotations.models import Assignment
    from annotations.selectors import coding as selectors

    with fresh_database("coding_page"):
        document, coder, empty_coder = build(random.Random(20250723))
        url = reverse("annotate", args=[document.pk])
        client, empty_client = Client(), Client()
        client.force_login(coder)
        empty_client.force_login(empty_coder)
        response = client.get(url)
        if response.status_code != 200:
            raise RuntimeError(f"the annotation page answered {response.status_code}")
        visible = response.content.decode().count('class="span-entry"')
        page_bytes = len(response.content)

        full = timed(lambda: client.get(url), repeat=REPEAT)
        fragment = timed(lambda: client.get(url, HTTP_HX_REQUEST="true"), repeat=REPEAT)
        empty = timed(lambda: empty_client.get(url), repeat=REPEAT)
        assignment = Assignment.objects.select_related("document__project").get(
            document=document, coder=coder
        )
        selector = timed(lambda: selectors.coding_screen(assignment), repeat=REPEAT)
        length = len(document.text)

    reference = "Page, coder with 0 spans (median)"
    return {
        "title": "Annotation page: server time per request",
        "description": (
            f"{length:,}-character article, {SPANS:,} spans by {CODERS} coders; "
            f"the coder sees their own {visible} spans (page {page_bytes / 1024:.0f} KiB). "
            f"Django test Client GET, {REPEAT} requests after 5 warm-up requests, "
            "SQLite, DEBUG off. Target: under 50 ms median."
        ),
        "figures": [
            {
                "name": "Page, 1,000 spans (median)",
                "value": median(full),
                "unit": "ms",
                "ratio_to": reference,
                "note": f"{visible} own spans shown",
            },
            {"name": "Page, 1,000 spans (p95)", "value": p95(full), "unit": "ms"},
            {
                "name": "htmx workspace fragment (median)",
                "value": median(fragment),
                "unit": "ms",
                "ratio_to": reference,
            },
            {"name": "htmx workspace fragment (p95)", "value": p95(fragment), "unit": "ms"},
            {
                "name": "coding_screen selector alone (median)",
                "value": median(selector),
                "unit": "ms",
                "note": "queries + splitting + lanes, no template",
            },
            {"name": reference, "value": median(empty), "unit": "ms"},
            {"name": "Spans shown", "value": visible, "unit": "spans"},
        ],
    }
