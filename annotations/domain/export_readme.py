"""README.txt, the data dictionary of an export: every file and column it holds, and who
sees what. Sections for files an export leaves out (a coder's export in a blind project has
no agreement and no reliability matrices) are left out of its README too.

`RELIABILITY_PLACEHOLDER` stands for a matrix's file name in the one-liners; a test runs the
Python one-liner on real matrices, so what the README tells researchers is what works.
"""

from __future__ import annotations

import datetime

from annotations.domain.export import CsvFlavour, format_value

__all__ = [
    "PYTHON_ONE_LINER",
    "README_TEXT",
    "RELIABILITY_PLACEHOLDER",
    "R_ONE_LINER",
    "render_readme",
]

RELIABILITY_PLACEHOLDER = "reliability_<code id>_<code>.csv"

_HEADER = """\
Framing export: {project}
Exported: {exported_at}
CSV flavour: {flavour}
Layer: {layer}
Made for: {audience}

This file describes every file and column in the export. All files are UTF-8.
CSV files follow RFC 4180: comma-separated, double quotes around values that contain
commas, quotes or line breaks, rows ending in CRLF. Line breaks inside texts are LF.
Empty cells mean "no value". Dates are YYYY-MM-DD; timestamps are ISO 8601 with a
time zone offset. Booleans are true/false.
"""

_WHO = """

WHO SEES WHAT
-------------
An export holds what the person who made it may see in the project:
coder     Their own spans, the documents assigned to them, the codebook and their own
          audit events. In a blind project nothing derived from other coders' work: no
          agreement, no reliability matrices, no counts, no run; the coder is named
          "You". In an open project they also get agreement.csv, naming coders by
          username.
reviewer  Every coder's spans, the gold layer, agreement.csv, the reliability matrices
          and the whole audit trail. In a blind project every person is pseudonymised
          in every file, cell and nested value: a coder as "Coder" and a letter (fixed
          per project, also for removed members), reviewers and managers by role and a
          letter, anyone else the audit trail names as "Other person" and a number;
          people's user ids are left out.
manager   What a reviewer gets; only a manager may ask for usernames instead of
          pseudonyms (the "Use usernames" box; export_corpus uses usernames unless
          given --pseudonyms).
In an open (not blind) project everyone is named by username.
"""

_FLAVOURS = """

CSV FLAVOURS
------------
analysis  Every value exactly as stored. Use it for any computation.
excel     Starts with a byte-order mark so Excel recognises UTF-8, and every text cell
          (in any column, header cells included) that begins with = + - @ a tab or a
          carriage return has an apostrophe (') added in front, so that Excel shows it
          instead of running it as a formula. Numbers, dates and true/false are never
          changed. Such quotes no longer match the text exactly, so never compute
          offsets or agreement from this flavour. Excel also shows at most 32,767
          characters per cell and cuts longer texts.
          pandas: pd.read_csv(path, encoding="utf-8-sig", dtype=str,
          keep_default_na=False) reads both flavours without turning values into NaN.
"""

_OFFSETS = """

OFFSETS
-------
start and end count Unicode code points from the start of the document text,
0-based and end-exclusive, exactly like Python string slicing:

    Python:      text[start:end] == quote
    R:           substr(text, start + 1, end) == quote   (substr is 1-based, inclusive)
    JavaScript:  Array.from(text).slice(start, end).join("") == quote

JavaScript's text.slice(), Excel's MID() and Java count UTF-16 code units, in which
an emoji or another character outside the Basic Multilingual Plane counts twice:
after such a character their positions are larger than these offsets. Texts were
normalised once at import (CRLF and CR became LF, a leading byte-order mark was
dropped) and never changed afterwards, so offsets stay valid.
"""

_FILES = """

spans.csv (one row per span)
---------
project         Project name.
document_id     The document's id in Framing; joins to documents.csv.
external_id     The id the document had in the imported file, if any.
title           Document title.
outlet          Publishing outlet.
url             Address of the original article.
published       Publication date (YYYY-MM-DD).
text_sha256     SHA-256 of the UTF-8 document text: check you hold the same text.
span_id         A stable id of the span: "s" and a number for a coder's span, "g" and
                a number for a gold span. The same span has the same id in every export.
layer           "coder" for a coder's own span, "gold" for the settled reference.
coder           The coder, named as WHO SEES WHAT says (for gold spans: who settled it).
code            Code identifier from codebook.csv.
start           Offset where the span begins (see OFFSETS).
end             Offset just after the span ends.
quote           The selected characters: text[start:end].
context_before  Up to 40 characters of text before the span.
context_after   Up to 40 characters of text after the span.
note            The coder's note on the span.
created         When the span was created.
updated         When the span was last changed.
provenance      For gold spans, how they were settled: unanimous, majority, decision
                (a reviewer chose one version) or edit (a reviewer drew it); empty for
                coder spans.
rationale       For gold spans, why the settler chose it.
source_span_ids For gold spans, the span_id of each coder span it was settled from,
                separated by spaces (they join to span_id; a span deleted since no
                longer has a row).
source_coders   For gold spans, the coders those spans were by, separated by " | ".
settling_action For gold spans, what the reviewer did: accept (one coder's version),
                union, intersection, edit, or accept-agreed (every coder agreed).

documents.csv (one row per document)
-------------
document_id, external_id, title, outlet, url, published, text_sha256
                As in spans.csv.
length          Length of the text in code points (Python len(text)).
text            The full document text, to which all offsets refer.

codebook.csv (one row per code)
------------
code            Identifier used in the code column of the other files.
name            Human-readable name.
definition      What the code means.
guidance        Instructions to coders: when to apply it and when not.
colour          Display colour (#rrggbb).
shortcut        Keyboard shortcut in the coding screen.
active          false if the code was retired; its spans remain in the export.
order           Position of the code in the codebook.

spans.jsonl (one line per document and annotator: Framing's JSONL)
-----------
Each line is a JSON object in doccano's shape with the offsets above (code points):
"text", "label" (a list of [start, end, "code"]), "Comments" (the notes, each written
[start, end, "code"] note), the document's metadata, "layer" (coder or gold) and
"coder". manage.py import_documents PROJECT spans.jsonl --format jsonl imports it back.
doccano itself counts UTF-16 code units: for doccano, download the doccano format.
"""

_AGREEMENT_FILE = """

agreement.csv (one row per coefficient x code x scope)
-------------
coefficient     alpha_u (Krippendorff 2004 unitizing), u_alpha, bu_alpha, cu_alpha,
                ku_alpha and coverage (the 2016 unitizing family), alpha_nominal,
                fleiss_kappa, cohen_kappa_mean, span_f1_exact_mean, span_f1_overlap_mean,
                prevalence; per pair: cohen_kappa, span_f1_exact, span_f1_overlap.
code            The code it was computed for; empty for "all codes".
scope           corpus (the whole run), document (one document) or pair (two coders).
document_id     For scope document: the document (joins to documents.csv).
pair            For scope pair: the two coders, named as in the other files.
value           The figure; empty when undefined (the note says why).
ci_low, ci_high The 95% bootstrap interval over documents; empty when the coefficient
                has none, or when it could not be estimated (the note says why).
ci_resamples    How many bootstrap resamples defined the coefficient.
note            Why a value or an interval is missing, if it is.
run             Id of the agreement run (the latest finished one).
computed        When that run finished.
unit            The units of the nominal coefficients (token, sentence or char).
include_in_progress
                true when the run also counted work not yet marked done.
The file has only a header when no agreement run has finished yet.
"""

PYTHON_ONE_LINER = (
    "import pandas as pd, krippendorff; "
    f'm = pd.read_csv("{RELIABILITY_PLACEHOLDER}", encoding="utf-8-sig"); '
    "print(krippendorff.alpha(reliability_data=m.iloc[:, 3:].to_numpy(dtype=float).T, "
    'level_of_measurement="nominal"))'
)
R_ONE_LINER = (
    "library(irr); "
    f'm <- read.csv("{RELIABILITY_PLACEHOLDER}", fileEncoding = "UTF-8-BOM", '
    "check.names = FALSE); "
    'kripp.alpha(t(as.matrix(m[, -(1:3)])), method = "nominal")$value'
)

_MATRICES = """

reliability_<code id>_<code>.csv (one file per code: a reliability matrix)
--------------------------------
Exactly the input of the agreement run named under THIS EXPORT: the same documents
(those at least two coders' counted work covers), the same coders, the same rule for
done and unfinished work and the same units. The code's id in the name keeps every
file name unique.
document_id     The document containing the unit.
unit_start      Offset where the unit begins.
unit_end        Offset just after the unit ends.
one column per coder
                1 if the coder applied the code to any part of the unit, 0 if the
                coder's work on the document counts but did not apply the code there,
                empty if the coder's work on the document does not count (missing,
                not 0).
Rows are units and columns are coders; the krippendorff Python package and R's irr
want coders as rows, so each one-liner transposes (.T, t()) and reads empty cells as
missing. Nominal alpha of a code, as agreement.csv reports it:

""" + (f"  Python:  {PYTHON_ONE_LINER}\n  R:       {R_ONE_LINER}\n")


_AUDIT = """

audit.csv (one row per recorded change, oldest first)
---------
event_id        Id of the event.
at              When it happened.
actor           Who did it (named like the coder column).
action          create, change, delete, restore, import, status, ...
object_type     What was changed (span, document, assignment, ...).
object_id       Its id; for spans, span_id without its "s". Empty for a person (a user
                account) when people are pseudonymised.
document_id     The document concerned, if any.
before, after   The recorded state as JSON text (the only JSON cells in the export);
                people in them are named like the actor, in every nested value.
via             "api" when the change came through the JSON API (/api/v1/); empty when
                it came through the pages, a command or a background job.
"""

_METHODS = """

AGREEMENT
---------
Unitized alpha (Krippendorff's alpha-u) is computed per code on the character
continuum of each document: it compares where coders placed span boundaries, not
just whether they used the code, and counts a stretch as disagreement when one
coder marked it and another did not.
Nominal alpha is computed per code on the agreement units: the reliability matrices
are exactly its input, with missing cells left out of the pairing.
Confidence intervals are percentile bootstrap intervals that resample whole
documents with replacement, because units within a document are not independent.
"""


def render_readme(
    *,
    project: str,
    exported_at: datetime.datetime,
    flavour: CsvFlavour | str,
    layer: str,
    audience: str = "",
    agreement: bool = True,
    matrices: bool = True,
    facts: str = "",
) -> str:
    """The README for one export; `agreement` and `matrices` say which files it holds."""
    header = _HEADER.format(
        project=project,
        exported_at=format_value(exported_at),
        flavour=CsvFlavour(flavour).value,
        layer=layer,
        audience=audience or "see WHO SEES WHAT",
    )
    parts = [header, _WHO, _FLAVOURS, _OFFSETS, _FILES]
    if agreement:
        parts.append(_AGREEMENT_FILE)
    if matrices:
        parts.append(_MATRICES)
    parts.append(_AUDIT)
    if agreement or matrices:
        parts.append(_METHODS)
    if facts:
        parts.append(f"\n\nTHIS EXPORT\n-----------\n{facts.rstrip()}\n")
    return "".join(parts)


# Every section, for documentation and tests.
README_TEXT = "".join(
    [_HEADER, _WHO, _FLAVOURS, _OFFSETS, _FILES, _AGREEMENT_FILE, _MATRICES, _AUDIT, _METHODS]
)
