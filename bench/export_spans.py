"""Export 1,000,000 spans to spans.csv and show that memory does not grow with the corpus.

Each corpus is built once in a throwaway SQLite database under var/bench/ (bulk_create:
documents × 500 spans, two coders per document) and reused by later runs. Every
measurement runs in a fresh process, so ru_maxrss (a high-water mark) starts clean:

- throughput: spans.csv streamed through the same generator the download view uses,
  encoded to UTF-8 and discarded; rows per second and time to the first chunk;
- memory: the export loop's tracemalloc peak (a separate process, since tracing slows
  Python down) and the ru_maxrss growth during the loop.

The same figures at 100,000 spans are the same-run reference: equal memory at ten times
the spans is what "constant memory" means.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from bench import goal

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "var" / "bench"
SPANS_PER_DOCUMENT = 500
SIZES = (100_000, 1_000_000)
PROJECT = "Export benchmark"


def _database(spans: int) -> Path:
    return BENCH_DIR / f"export_{spans}.sqlite3"


def _child(mode: str, spans: int) -> dict:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{_database(spans)}",
        "DJANGO_SETTINGS_MODULE": "framing.settings",
    }
    done = subprocess.run(
        [sys.executable, "-m", "bench.export_spans", mode, str(spans)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"bench child {mode} {spans} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run() -> dict:
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    results = {}
    for spans in SIZES:
        build = _child("build", spans)
        speed = _child("speed", spans)
        memory = _child("memory", spans)
        limit = _child("limit", spans)
        results[spans] = {**build, **speed, **memory, **limit}
    small, large = results[SIZES[0]], results[SIZES[1]]
    small_name, large_name = f"{SIZES[0]:,}", f"{SIZES[1]:,}"
    bundle = _child("bundle", SIZES[0])
    limit_name = f"the database's own CSV of the same rows ({large_name} spans, sqlite3 -csv)"
    figures = [
        {
            "name": f"rows per second ({large_name} spans)",
            "value": round(large["rows_per_s"]),
            "unit": "rows/s",
            "ratio_to": limit_name if large.get("limit_rows_per_s") else None,
            "target": goal(large["rows_per_s"], ">=", 150_000, "rows/s"),
            "note": f"{large['rows']:,} rows, {large['mb_out']:.0f} MB of CSV in "
            f"{large['seconds']:.1f} s; first chunk after {large['first_ms']:.0f} ms",
        },
        {
            "name": limit_name,
            "value": round(large.get("limit_rows_per_s") or 0),
            "unit": "rows/s",
            "note": large["limit_note"],
        },
        {
            "name": f"export_corpus, every file of the bundle ({small_name} spans)",
            "value": round(bundle["bundle_s"], 2),
            "unit": "s",
            "target": goal(bundle["bundle_s"], "<", 5, "s"),
            "note": f"{bundle['files']} files, {bundle['mb_out']:.0f} MB; the "
            f"{bundle['matrices']} reliability matrices {bundle['matrices_s']:.2f} s of it; "
            f"process peak {bundle['rss_peak_mb']:.0f} MB",
        },
        {
            "name": f"rows per second ({small_name} spans)",
            "value": round(small["rows_per_s"]),
            "unit": "rows/s",
            "note": f"first chunk after {small['first_ms']:.0f} ms",
        },
        {
            "name": f"tracemalloc peak of the export loop ({small_name} spans)",
            "value": round(small["traced_peak_mb"], 2),
            "unit": "MB",
            "note": "same-run reference",
        },
        {
            "name": f"tracemalloc peak of the export loop ({large_name} spans)",
            "value": round(large["traced_peak_mb"], 2),
            "unit": "MB",
            "ratio_to": f"tracemalloc peak of the export loop ({small_name} spans)",
            "target": goal(large["traced_peak_mb"], "<", 100, "MB"),
            "note": "independent of corpus size: the ratio to the 100,000-span run is near 1",
        },
        {
            "name": f"ru_maxrss growth during the export ({small_name} spans)",
            "value": round(small["rss_delta_mb"], 1),
            "unit": "MB",
            "note": "same-run reference",
        },
        {
            "name": f"ru_maxrss growth during the export ({large_name} spans)",
            "value": round(large["rss_delta_mb"], 1),
            "unit": "MB",
            "ratio_to": f"ru_maxrss growth during the export ({small_name} spans)",
            "note": f"process peak {large['rss_peak_mb']:.0f} MB including Django itself",
        },
        {
            "name": f"corpus build ({large_name} spans, bulk_create)",
            "value": round(large["build_s"], 1),
            "unit": "s",
            "note": "0 when the database was reused from an earlier run",
        },
    ]
    return {"title": "Streaming spans.csv export", "figures": figures}


# --- Child processes ------------------------------------------------------------------------


def _setup() -> None:
    import django

    django.setup()


def _build(spans: int) -> dict:
    _setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection, transaction

    from annotations.domain.textio import sha256_text
    from annotations.models import Assignment, AssignmentStatus, Document, Project, Span
    from annotations.services import codebook, people, projects

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    if Project.objects.filter(name=PROJECT).exists():
        return {"build_s": 0.0}
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA synchronous=OFF")
    users = get_user_model()
    coders = [users.objects.create_user(username=f"bench{i}") for i in range(2)]
    project = projects.project_create(name=PROJECT)
    for coder in coders:
        people.membership_set(project=project, user=coder, role="coder")
    codes = [
        codebook.code_create(codebook=project.codebook, name=f"Code {i}", shortcut=str(i))
        for i in range(5)
    ]
    per_coder = SPANS_PER_DOCUMENT // len(coders)
    filler = "Officials said the “confession” was voluntary; critics, a sham. 😀 "
    body = (filler * (SPANS_PER_DOCUMENT * 6 // len(filler) + 1))[: SPANS_PER_DOCUMENT * 6]
    with transaction.atomic():
        for first in range(0, spans // SPANS_PER_DOCUMENT, 200):
            batch = range(first, min(first + 200, spans // SPANS_PER_DOCUMENT))
            texts = [f"Article {n}. {body}" for n in batch]
            documents = Document.objects.bulk_create(
                Document(
                    project=project,
                    title=f"Article {n}",
                    outlet="=Bench Daily",
                    text=text,
                    sha256=sha256_text(text),
                )
                for n, text in zip(batch, texts, strict=True)
            )
            assignments = Assignment.objects.bulk_create(
                Assignment(document=d, coder=c, status=AssignmentStatus.DONE)
                for d in documents
                for c in coders
            )
            rows = []
            for assignment in assignments:
                text = assignment.document.text
                offset = 0 if assignment.coder_id == coders[0].pk else 3
                for i in range(per_coder):
                    start = offset + i * 12
                    end = start + 7
                    rows.append(
                        Span(
                            assignment=assignment,
                            code=codes[i % len(codes)],
                            start=start,
                            end=end,
                            quote=text[start:end],
                            note="-check" if i % 50 == 0 else "",
                        )
                    )
            Span.objects.bulk_create(rows, batch_size=5000)
    return {"build_s": time.perf_counter() - started}


def _export_loop(spans_wanted: int):
    from annotations import forms
    from annotations.models import Project
    from annotations.selectors.export import files

    project = Project.objects.get(name=PROJECT)
    spec = forms.export_spec(project, names=True)
    rows = -1  # the header
    size = 0
    first = None
    started = time.perf_counter()
    for chunk in files.spans_csv_chunks(project, spec):
        if first is None:
            first = time.perf_counter() - started
        data = chunk.encode("utf-8")
        size += len(data)
        rows += chunk.count("\r\n")  # no value in this corpus holds CRLF
    seconds = time.perf_counter() - started
    if rows != spans_wanted:
        raise RuntimeError(f"exported {rows} rows, expected {spans_wanted}")
    return rows, size, seconds, first


def _maxrss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _speed(spans: int) -> dict:
    _setup()
    from annotations.models import Project

    Project.objects.get(name=PROJECT)  # connect and import before the baseline
    before = _maxrss_mb()
    rows, size, seconds, first = _export_loop(spans)
    after = _maxrss_mb()
    return {
        "rows": rows,
        "mb_out": size / 1e6,
        "seconds": seconds,
        "rows_per_s": rows / seconds,
        "first_ms": first * 1000,
        "rss_delta_mb": after - before,
        "rss_peak_mb": after,
    }


def _memory(spans: int) -> dict:
    import tracemalloc

    _setup()
    from annotations.models import Project

    Project.objects.get(name=PROJECT)
    tracemalloc.start()
    _export_loop(spans)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"traced_peak_mb": peak / 1e6}


# The spans.csv rows as one SQL query: what SQLite itself writes as CSV is the limit a
# Python export can approach (same rows and columns; quote and context cut by substr).
LIMIT_SQL = """
SELECT p.name, d.id, d.external_id, d.title, d.outlet, d.url, d.published, d.sha256,
  'c' || s.id, 'coder', u.username, c.name, s.start, s."end",
  substr(d.text, s.start + 1, s."end" - s.start),
  substr(d.text, max(s.start - 40, 0) + 1, min(s.start, 40)),
  substr(d.text, s."end" + 1, 40), s.note, s.created_at, s.updated_at, '', '', '', '', ''
FROM annotations_span s
JOIN annotations_assignment a ON a.id = s.assignment_id
JOIN annotations_document d ON d.id = a.document_id
JOIN annotations_project p ON p.id = d.project_id
JOIN auth_user u ON u.id = a.coder_id
JOIN annotations_code c ON c.id = s.code_id
WHERE s.deleted_at IS NULL AND p.name = 'Export benchmark'
ORDER BY a.document_id, a.coder_id, s.start, s."end", s.id;
"""


def _limit(spans: int) -> dict:
    import shutil

    binary = shutil.which("sqlite3")
    if binary is None:
        return {"limit_rows_per_s": None, "limit_note": "not measured: no sqlite3 program here"}
    started = time.perf_counter()
    done = subprocess.run(
        [binary, "-csv", "-header", str(_database(spans)), LIMIT_SQL],
        capture_output=True,
        check=True,
    )
    seconds = time.perf_counter() - started
    rows = done.stdout.count(b"\n") - 1
    return {
        "limit_rows_per_s": rows / seconds,
        "limit_note": f"{rows:,} rows, {len(done.stdout) / 1e6:.0f} MB in {seconds:.2f} s "
        "(the sqlite3 program, same machine, same run)",
    }


def _bundle(spans: int) -> dict:
    import tempfile

    _setup()
    from django.core.management import call_command

    from annotations.models import Project

    Project.objects.get(name=PROJECT)
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        call_command("export_corpus", PROJECT, folder, stdout=open(os.devnull, "w"))  # noqa: SIM115
        seconds = time.perf_counter() - started
        written = list(Path(folder).iterdir())
        matrices = [p for p in written if p.name.startswith("reliability_")]
        # The matrices alone, read again: how much of the export they are.
        from annotations import forms
        from annotations.selectors.export import files

        project = Project.objects.get(name=PROJECT)
        spec = forms.export_spec(project, names=True)
        again = time.perf_counter()
        for name, source in files.export_files(project, spec):
            if name.startswith("reliability_"):
                for _ in source():
                    pass
        return {
            "bundle_s": seconds,
            "files": len(written),
            "mb_out": sum(p.stat().st_size for p in written) / 1e6,
            "matrices": len(matrices),
            "matrices_s": time.perf_counter() - again,
            "rss_peak_mb": _maxrss_mb(),
        }


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    mode, count = sys.argv[1], int(sys.argv[2])
    modes = {"build": _build, "speed": _speed, "memory": _memory, "limit": _limit}
    result = {**modes, "bundle": _bundle}[mode](count)
    print(json.dumps(result))
