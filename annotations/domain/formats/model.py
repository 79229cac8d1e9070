"""The neutral model every format reads into and writes from.

Reading gives a `FormatResult`: the documents with their spans, the `Problem`s that refuse
the whole import (each naming file and line), and a `Skipped` record for everything the
file holds that Framing does not import (relations, categories, cancelled annotations,
predictions, extra features...). Nothing is dropped without a `Skipped` saying why.

Offsets in this model are always Framing's own: 0-based, end-exclusive Unicode code points
into the *normalised* text (`textio.normalise_text`), so `text[start:end]` is the span.

Writing takes `ExportDocument`s: a document with its spans grouped by annotator (a coder,
or a layer such as "gold" that the caller names) and gives files as (path, bytes).
"""

from __future__ import annotations

import datetime
from collections import Counter
from dataclasses import dataclass, field

from annotations.domain.textio import Problem

__all__ = [
    "ExportAnnotation",
    "ExportDocument",
    "ExportSpan",
    "FormatResult",
    "ImportedDocument",
    "ImportedSpan",
    "Problem",
    "Skipped",
]


@dataclass(frozen=True)
class ImportedSpan:
    start: int
    end: int
    code: str
    # The coder as the file names them (a username, an e-mail, a Label Studio user id as
    # text); None when the format carries no annotator (doccano's all.jsonl, a plain file).
    coder: str | None = None
    note: str = ""
    # Where the code came from when a format has several label sets: a WebAnno/UIMA layer
    # name, a Label Studio control name. Empty when the format has only one.
    layer: str = ""
    where: str = ""  # "file, line N"


@dataclass(frozen=True)
class ImportedDocument:
    text: str
    title: str
    external_id: str = ""
    outlet: str = ""
    url: str = ""
    published: datetime.date | None = None
    source: str = ""  # "file, line N"
    spans: tuple[ImportedSpan, ...] = ()
    # Coders known to have worked on the document, including those who marked nothing
    # (a finished Label Studio annotation with an empty result): agreement needs to tell
    # "coded, found nothing" from "did not code".
    coders: tuple[str, ...] = ()


@dataclass(frozen=True)
class Skipped:
    """Something in the file that was deliberately not imported.

    `what` is the kind of thing (record, span, relation, category, attribute, annotation,
    prediction, comment, layer, file); `reason` is a fixed sentence so that counts group
    by it; `detail` says which one (a label, a feature value) when that helps.
    """

    what: str
    where: str
    reason: str
    detail: str = ""

    def __str__(self) -> str:
        detail = f" ({self.detail})" if self.detail else ""
        return f"{self.where}: {self.what} not imported: {self.reason}{detail}"


@dataclass(frozen=True)
class FormatResult:
    format: str
    offsets: str  # the unit the file's offsets were read in
    documents: tuple[ImportedDocument, ...] = ()
    problems: tuple[Problem, ...] = ()
    skipped: tuple[Skipped, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems

    def skipped_counts(self) -> dict[tuple[str, str], int]:
        """How many of each (what, reason) were skipped, most frequent first."""
        counts = Counter((item.what, item.reason) for item in self.skipped)
        return dict(counts.most_common())

    @property
    def span_count(self) -> int:
        return sum(len(document.spans) for document in self.documents)


@dataclass(frozen=True)
class ExportSpan:
    start: int  # code points into ExportDocument.text, end-exclusive
    end: int
    code: str
    note: str = ""


@dataclass(frozen=True)
class ExportAnnotation:
    """One annotator's spans on one document (a coder, or a layer such as gold)."""

    annotator: str
    spans: tuple[ExportSpan, ...] = ()


@dataclass(frozen=True)
class ExportDocument:
    id: str  # unique within an export; used for file names and ids
    text: str
    title: str = ""
    external_id: str = ""
    outlet: str = ""
    url: str = ""
    published: datetime.date | None = None
    annotations: tuple[ExportAnnotation, ...] = field(default=())

    def meta(self) -> dict[str, str]:
        """Metadata as strings, empty values left out (the keys textio reads back)."""
        values = {
            "title": self.title,
            "external_id": self.external_id,
            "outlet": self.outlet,
            "url": self.url,
            "published": self.published.isoformat() if self.published else "",
        }
        return {key: value for key, value in values.items() if value}
