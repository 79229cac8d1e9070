"""Streamed reads of a project's data as export files (CSV, JSONL, the ZIP bundle).

Documents are visited in batches of ids (bounded by count and by characters), and each
batch's spans come from one ``.iterator(chunk_size=2000)`` query, so memory stays constant
however large the corpus is. Row shaping and CSV writing are in
:mod:`annotations.domain.export`. Modules, each importing only those above it: ``spec``
(what is exported, who is called what), ``reads``, ``rows``, ``agreement``, ``audit``,
``doccano``, ``files`` (the README, the bundle's file list and the streamed ZIP).
"""
