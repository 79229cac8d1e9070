"""Export a project's corpus and spans as files, and import doccano JSONL as a coder's spans.

Reads stream: documents are visited in batches of ids (bounded by count and by characters),
and each batch's spans come from one ``.iterator(chunk_size=2000)`` query, so memory stays
constant however large the corpus is. Row shaping and CSV writing are in
:mod:`annotations.domain.export`; this package decides what is read and who is called what.

Each ``*_chunks`` function returns an iterator of ``str`` chunks; a caller encodes them
as UTF-8 for an HTTP response, a zip entry or a file.

Modules, each importing only those above it:

- ``spec``: what is exported (:class:`ExportSpec`, layers) and who is called what.
- ``reads``: batched, streaming reads of documents and spans shared by every file.
- ``rows``: rows of spans.csv, documents.csv, codebook.csv and the reliability matrices.
- ``agreement``, ``audit``: rows of agreement.csv and audit.csv.
- ``doccano``: spans.jsonl, one line per document and annotator.
- ``files``: the README, the bundle's file list, spans.csv chunks and the streamed ZIP.
- ``importing``: doccano JSONL import.

Callers use ``from annotations.services import export as exports``; every name below is
re-exported so that keeps working.
"""

from .agreement import (
    AGREEMENT_COLUMNS,
    AGREEMENT_FILE,
    agreement_rows,
    flatten_agreement,
    latest_agreement_run,
)
from .audit import AUDIT_COLUMNS, AUDIT_FILE, audit_rows
from .doccano import doccano_chunks
from .files import (
    README_SUPPLEMENT,
    ZIP_CHUNK,
    ChunkSource,
    export_files,
    readme_text,
    spans_csv_chunks,
    zip_chunks,
)
from .importing import JsonlImportOutcome, jsonl_import
from .reads import (
    BATCH_CHARACTERS,
    BATCH_DOCUMENTS,
    CHUNK,
    document_batches,
    documents_queryset,
)
from .rows import (
    codebook_rows,
    document_rows,
    reliability_coders,
    reliability_matrix_rows,
    span_rows,
)
from .spec import (
    LAYER_ALL,
    LAYER_CODERS,
    LAYER_GOLD,
    LAYERS,
    ExportSpec,
    coder_labels,
    export_spec,
    layer_description,
    restrict_to_member,
)

__all__ = [
    "AGREEMENT_COLUMNS",
    "AGREEMENT_FILE",
    "AUDIT_COLUMNS",
    "AUDIT_FILE",
    "BATCH_CHARACTERS",
    "BATCH_DOCUMENTS",
    "CHUNK",
    "LAYERS",
    "LAYER_ALL",
    "LAYER_CODERS",
    "LAYER_GOLD",
    "README_SUPPLEMENT",
    "ZIP_CHUNK",
    "ChunkSource",
    "ExportSpec",
    "JsonlImportOutcome",
    "agreement_rows",
    "audit_rows",
    "codebook_rows",
    "coder_labels",
    "doccano_chunks",
    "document_batches",
    "document_rows",
    "documents_queryset",
    "export_files",
    "export_spec",
    "flatten_agreement",
    "jsonl_import",
    "latest_agreement_run",
    "layer_description",
    "readme_text",
    "reliability_coders",
    "reliability_matrix_rows",
    "restrict_to_member",
    "span_rows",
    "spans_csv_chunks",
    "zip_chunks",
]
