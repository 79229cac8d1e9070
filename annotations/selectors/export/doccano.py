"""spans.jsonl: the corpus and its spans in Framing's JSONL (doccano's record shape, offsets
in code points, notes as comments), one line per document and annotator."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from ...domain import export as shape
from ...models import Assignment, DocumentReview, Project, ReviewStatus
from .reads import (
    _code_names,
    _coder_span_rows,
    _counting_statuses,
    _documents,
    _gold_span_rows,
    document_batches,
)
from .spec import ExportSpec, people_labels


def doccano_chunks(project: Project, spec: ExportSpec) -> Iterator[str]:
    """One line per document and annotator (each coder, or gold); a document nobody coded
    gets one line without labels, so the file holds the whole corpus."""
    labels = people_labels(project, spec)
    codes = _code_names(project)
    statuses = _counting_statuses(spec)
    lines: list[str] = []
    for batch in document_batches(project, spec):
        documents = _documents(batch)
        annotators: dict[int, list[tuple[str, int | None]]] = defaultdict(list)
        labelled: dict[tuple[int, str, int | None], list[tuple]] = defaultdict(list)
        if spec.coders:
            assignments = Assignment.objects.filter(document_id__in=batch, status__in=statuses)
            if spec.coder_id is not None:
                assignments = assignments.filter(coder_id=spec.coder_id)
            for doc, coder in assignments.order_by("document_id", "coder_id").values_list(
                "document_id", "coder_id"
            ):
                annotators[doc].append(("coder", coder))
            for doc, coder, code, start, end, note, *_ in _coder_span_rows(spec, batch):
                labelled[(doc, "coder", coder)].append((start, end, codes[code], note))
        if spec.gold:
            reviews = DocumentReview.objects.filter(document_id__in=batch)
            if spec.done_only:
                reviews = reviews.filter(status=ReviewStatus.SETTLED)
            reviewed = set(reviews.values_list("document_id", flat=True))
            for doc, _, code, start, end, *_ in _gold_span_rows(spec, batch):
                reviewed.add(doc)
                labelled[(doc, "gold", None)].append((start, end, codes[code]))
            for doc in sorted(reviewed):
                annotators[doc].append(("gold", None))
        for pk in batch:
            document = documents[pk]
            for layer, person in annotators.get(pk) or [("", None)]:
                meta = {
                    **document.metadata(),
                    "layer": layer,
                    "coder": labels.get(person, "") if person is not None else "",
                }
                line = shape.doccano_line(
                    document.text, labelled.get((pk, layer, person), ()), meta
                )
                lines.append(line + "\n")
        yield "".join(lines)
        lines.clear()
