"""Agreement benchmarks (issue 4).

(a) nominal alpha, 3 coders x 1,000,000 units, 5 categories: ours against the
    ``krippendorff`` package on the same matrix, in the same run (value to 1e-9, speed ratio);
(b) alpha_u per code on a 1,000-document corpus laid end to end;
(c) the whole agreement job for 1,000 documents x 3 coders x ~50 spans, read from the
    database, with 1,000 bootstrap resamples: wall time and peak memory.
"""

from __future__ import annotations

import os
import resource
import statistics
import time
import tracemalloc

import numpy as np

from . import goal

N_DOCS = 1000
DOC_LENGTH = 5000
SPANS_PER_CODER = 50
CODES = ("Forced confession", "Foreign-interference claim", "Sourcing", "Loaded language")
CODERS = ("c1", "c2", "c3")


def timed(func, repeat: int = 3) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def bincount_matmul_alpha(data: np.ndarray) -> float:
    """Nominal alpha the plain numpy way, as the issue's limit: per-unit value counts by one
    bincount, the coincidence matrix by one matrix product."""
    n_units = data.shape[1]
    present = ~np.isnan(data)
    values = data[present].astype(np.int64)
    units = np.broadcast_to(np.arange(n_units), data.shape)[present]
    k = int(values.max()) + 1
    counts = np.bincount(units * k + values, minlength=n_units * k).reshape(n_units, k)
    pairable = counts.sum(axis=1)
    with np.errstate(divide="ignore"):
        weight = np.where(pairable >= 2, 1.0 / (pairable - 1.0), 0.0)
    weighted = counts * weight[:, None]
    o = weighted.T @ counts - np.diag(weighted.sum(axis=0))
    n_c = o.sum(axis=1)
    n = n_c.sum()
    return 1.0 - (n - 1.0) * (n - np.trace(o)) / (n * n - n_c @ n_c)


def nominal_alpha_figures() -> list[dict]:
    import krippendorff

    from annotations.agreement import krippendorff_alpha

    rng = np.random.default_rng(1)
    data = rng.integers(0, 5, size=(3, 1_000_000)).astype(float)
    data[rng.random(data.shape) < 0.1] = np.nan
    krippendorff.alpha(reliability_data=data[:, :1000], level_of_measurement="nominal")  # warm
    ours_s, ours = timed(lambda: krippendorff_alpha(data, level="nominal"), repeat=7)
    plain_s, plain = timed(lambda: bincount_matmul_alpha(data), repeat=7)
    ref_s, ref = timed(
        lambda: krippendorff.alpha(reliability_data=data, level_of_measurement="nominal")
    )
    assert abs(ours - ref) < 1e-9 and abs(plain - ref) < 1e-9, (ours, plain, ref)
    package = "nominal alpha (krippendorff package, warm)"
    return [
        {
            "name": "nominal alpha, 3 x 1,000,000 units (ours)",
            "value": round(ours_s * 1000, 1),
            "unit": "ms",
            "ratio_to": package,
            "target": goal(ref_s / ours_s, ">=", 20, "x faster than the package"),
            "note": f"same value to 1e-9 (|diff| = {abs(ours - ref):.1e}); "
            f"{ref_s / ours_s:.1f}x faster than the package, "
            f"{plain_s / ours_s:.1f}x the plain bincount-and-matmul formulation",
        },
        {
            "name": "nominal alpha, plain numpy bincount + matmul (the limit)",
            "value": round(plain_s * 1000, 1),
            "unit": "ms",
            "ratio_to": package,
            "note": "per-unit counts by one bincount, coincidences by one matrix product",
        },
        {"name": package, "value": round(ref_s * 1000, 1), "unit": "ms"},
    ]


def synthetic_documents(seed: int = 2):
    """1,000 documents with three coders who mostly agree, so alpha is far from 0."""
    from annotations.domain.agreement.corpus import DocumentData, SpanData

    rng = np.random.default_rng(seed)
    word = "lorem ipsum dolor sit amet consectetur "
    text = (word * (DOC_LENGTH // len(word) + 1))[:DOC_LENGTH]
    documents = []
    for doc_id in range(1, N_DOCS + 1):
        base = []
        for _ in range(SPANS_PER_CODER):
            start = int(rng.integers(0, DOC_LENGTH - 80))
            base.append((start, start + int(rng.integers(5, 80)), CODES[int(rng.integers(0, 4))]))
        spans = []
        for coder in CODERS:
            for start, end, code in base:
                jitter = int(rng.integers(-3, 4)) if rng.random() < 0.3 else 0
                s, e = max(0, start + jitter), min(DOC_LENGTH, end + jitter)
                if s < e and rng.random() > 0.05:
                    spans.append(SpanData(coder, s, e, code))
        documents.append(DocumentData(doc_id, text, CODERS, tuple(spans)))
    return documents


def alpha_u_figures(documents) -> list[dict]:
    from annotations.agreement import unitized_alpha

    spans = []
    for offset, doc in enumerate(documents):
        base = offset * DOC_LENGTH
        spans.extend((s.coder, base + s.start, base + s.end, s.code) for s in doc.spans)
    length = DOC_LENGTH * len(documents)
    seconds, values = timed(
        lambda: [unitized_alpha(spans, length, code=c, coders=CODERS) for c in CODES], repeat=3
    )
    name_2004 = f"alpha_u (2004) per code, {len(documents)} documents, {len(spans)} spans, 4 codes"
    return [
        {
            "name": name_2004,
            "value": round(seconds, 4),
            "unit": "s",
            "note": "values " + ", ".join(f"{v:.3f}" for v in values),
        },
        *family_figures(documents, name_2004),
    ]


def family_figures(documents, reference: str) -> list[dict]:
    """The 2016 family as the report computes it: per-document parts of every code's layer and
    of the all-codes layer, pooled. Beside the 2004 alpha_u on the same spans, same run."""
    from annotations.domain.agreement.corpus import Corpus
    from annotations.domain.agreement.family_report import family_estimates

    corpus = Corpus(list(documents), list(CODES), "token")
    no_resamples = np.zeros((0, corpus.n_docs))
    used = list(range(len(CODES)))
    seconds, (per_code, overall, _, overlaps) = timed(
        lambda: family_estimates(corpus, used, no_resamples), repeat=3
    )
    values = ", ".join(f"{per_code[c].value:.3f}" for c in used)
    layer = (
        f"all codes not applicable ({len(overlaps)} documents with overlapping codes)"
        if overlaps
        else f"all codes u_alpha {overall['u_alpha'].value:.3f}"
    )
    return [
        {
            "name": f"u_alpha (2016 family) per code and all codes, {corpus.n_docs} documents",
            "value": round(seconds, 4),
            "unit": "s",
            "ratio_to": reference,
            "note": f"per code {values}; {layer}",
        }
    ]


def job_figures(documents) -> list[dict]:
    """The real job: rows in a fresh database, gathered and computed by the service."""
    from django.contrib.auth import get_user_model
    from django.test.utils import setup_databases, teardown_databases

    from annotations.models import (
        AgreementRun,
        Assignment,
        AssignmentStatus,
        Code,
        Codebook,
        Document,
        Project,
        Span,
    )
    from annotations.services import agreement as service

    old = setup_databases(verbosity=0, interactive=False)
    try:
        project = Project.objects.create(name="bench")
        codebook = Codebook.objects.create(project=project)
        codes = {
            name: Code.objects.create(codebook=codebook, name=name, order=i)
            for i, name in enumerate(CODES)
        }
        users = {c: get_user_model().objects.create_user(username=c, password=None) for c in CODERS}
        text = documents[0].text
        docs = Document.objects.bulk_create(
            Document(project=project, title=f"d{d.id}", text=text, sha256=f"{d.id:064d}")
            for d in documents
        )
        assignments = Assignment.objects.bulk_create(
            Assignment(document=doc, coder=users[c], status=AssignmentStatus.DONE)
            for doc in docs
            for c in CODERS
        )
        by_key = {(a.document_id, a.coder_id): a for a in assignments}
        rows, seen = [], set()
        for doc, data in zip(docs, documents, strict=True):
            for s in data.spans:
                key = (doc.pk, s.coder, s.start, s.end, s.code)
                if key in seen:
                    continue
                seen.add(key)
                rows.append(
                    Span(
                        assignment=by_key[(doc.pk, users[s.coder].pk)],
                        code=codes[s.code],
                        start=s.start,
                        end=s.end,
                        quote=text[s.start : s.end],
                    )
                )
        Span.objects.bulk_create(rows, batch_size=5000)
        started = time.perf_counter()
        run = service.agreement_request(project=project, enqueue=False).run
        run = service.agreement_execute(run_id=run.pk)
        wall = time.perf_counter() - started
        # Memory in a second pass: tracemalloc slows numpy-heavy code several-fold.
        AgreementRun.objects.all().delete()
        tracemalloc.start()
        again = service.agreement_request(project=project, enqueue=False).run
        service.agreement_execute(run_id=again.pk)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        overall = run.results["overall"]
        # What a web request pays to find out whether a run is needed: the fingerprint of
        # span ids and versions. The reference is gathering every span and document text,
        # which is what the request did before (and what the worker still does).
        request_s, _ = timed(lambda: service.agreement_request(project=project, enqueue=False), 5)
        gather_s, _ = timed(lambda: service.gather(project, service.RunSettings()), 5)
        return [
            {
                "name": f"agreement request (web), {len(docs)} documents x 3 coders",
                "value": round(request_s * 1000, 1),
                "unit": "ms",
                "note": f"fingerprint without texts; reference: gathering spans and texts as the "
                f"request did before, {gather_s * 1000:.0f} ms "
                f"({gather_s / request_s:.1f}x the request)",
            },
            {
                "name": f"agreement job, {len(docs)} documents x 3 coders, {len(rows)} spans, "
                "1,000 resamples, from the database",
                "value": round(wall, 3),
                "unit": "s",
                "target": goal(wall, "<", 2, "s"),
                "note": f"gather {run.timings['gather_s']} s, compute "
                f"{run.timings['compute_s']} s; overall alpha_u {overall['alpha_u']:.3f}",
            },
            {
                "name": "agreement job, peak Python memory (tracemalloc)",
                "value": round(peak / 2**20, 1),
                "unit": "MiB",
                "note": f"process max RSS {rss / 1024:.0f} MiB (includes benchmark (a)'s matrix)",
            },
        ]
    finally:
        teardown_databases(old, verbosity=0)


def run() -> dict:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "framing.settings")
    import django

    django.setup()
    documents = synthetic_documents()
    figures = nominal_alpha_figures() + alpha_u_figures(documents) + job_figures(documents)
    return {"title": "Inter-annotator agreement", "figures": figures}


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
