"""Import documents, and the spans other annotation tools made on them, into a project."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from annotations.domain.formats import FORMATS
from annotations.management.lookup import find_project
from annotations.services import imports

FORMAT_CHOICES = ["auto", "txt", "csv", "jsonl", *(f.option for f in FORMATS.values()), *FORMATS]


def read_paths(paths: list[Path]) -> list[imports.Upload]:
    """Files as (name, bytes); a folder as (name, [(path inside it, bytes), ...])."""
    uploads: list[imports.Upload] = []
    for path in paths:
        if path.is_dir():
            listing = [
                (item.relative_to(path).as_posix(), item.read_bytes())
                for item in sorted(path.rglob("*"))
                if item.is_file()
            ]
            if not listing:
                raise CommandError(f"{path}: the folder holds no files")
            uploads.append((path.name or str(path), listing))
        elif path.is_file():
            uploads.append((path.name, path.read_bytes()))
        else:
            raise CommandError(f"{path}: no such file or folder")
    return uploads


def add_import_options(parser, *, coder_required: bool = False) -> None:
    parser.add_argument(
        "--format",
        default="auto",
        help="auto (default: from the file names and contents), txt, csv, jsonl (Framing's "
        "own), doccano, labelstudio, brat, webanno (INCEpTION's WebAnno TSV), uima "
        "(INCEpTION's UIMA CAS XMI/JSON), prodigy",
    )
    parser.add_argument(
        "--offsets",
        choices=["codepoints", "utf16", "graphemes"],
        help="the unit the file's offsets count (default: the format's own; doccano, "
        "WebAnno TSV and UIMA CAS count UTF-16 code units, the others code points)",
    )
    parser.add_argument(
        "--coder",
        required=coder_required,
        help="username whose spans these become (needed when the files do not name the "
        "annotator; with files that name several, add --only-coder)",
    )
    parser.add_argument(
        "--only-coder",
        help="import only the spans of this annotator, as the files name them",
    )
    parser.add_argument(
        "--create-coders",
        action="store_true",
        help="add annotators the files name who are not coders here (creating accounts "
        "without a password where none exists)",
    )
    parser.add_argument(
        "--create-codes", action="store_true", help="add codes missing from the codebook"
    )
    parser.add_argument("--done", action="store_true", help="mark the imported work done")
    parser.add_argument("--dry-run", action="store_true", help="check the files, store nothing")


def run_import(command: BaseCommand, project: str, paths: list[Path], options: dict) -> None:
    target = find_project(project)
    uploads = read_paths(paths)
    outcome = imports.import_files(
        project=target,
        files=uploads,
        options=imports.ImportOptions(
            format=options["format"],
            offsets=options["offsets"],
            coder=options["coder"],
            only_coder=options["only_coder"],
            create_coders=options["create_coders"],
            create_codes=options["create_codes"],
            mark_done=options["done"],
            max_bytes=settings.FRAMING_MAX_UPLOAD_BYTES,
        ),
        dry_run=options["dry_run"],
    )
    if not outcome.ok:
        lines = "\n".join(f"  {problem}" for problem in outcome.problems)
        raise CommandError(f"Nothing was imported; fix these problems first:\n{lines}")
    for line in summary(outcome, dry_run=options["dry_run"]):
        command.stdout.write(line)
    if not options["dry_run"]:
        command.stdout.write(f"Into “{target.name}”.")


def summary(outcome: imports.ImportOutcome, *, dry_run: bool) -> list[str]:
    """What was (or would be) imported, and everything that was not, with its reason."""
    verb = "Would import" if dry_run else "Imported"
    lines = [
        f"{verb} {len(outcome.created)} document(s) ({outcome.already_present} already "
        f"present) from {outcome.format or 'the files'} (offsets: {outcome.offsets})."
    ]
    for coder in outcome.coders:
        new = " (new account)" if coder.new_account else " (new member)" * coder.new_member
        lines.append(
            f"  {coder.username or coder.name}{new}: {coder.spans_new} span(s) "
            f"({coder.spans_present} already present) in {coder.documents} document(s)"
        )
    if outcome.codes_created:
        lines.append(f"  new codes: {', '.join(outcome.codes_created)}")
    if outcome.skipped:
        lines.append("Not imported:")
        for what, reason, count, example in outcome.skipped_counts():
            lines.append(f"  {count} × {what}: {reason} (e.g. {example})")
    return lines


class Command(BaseCommand):
    help = (
        "Import articles, and the spans annotation tools made on them, into a project: "
        "Framing's .txt/.csv/.jsonl, doccano JSONL or export ZIP, Label Studio JSON, brat "
        "(.txt + .ann, or a folder per coder), INCEpTION's WebAnno TSV and UIMA CAS, Prodigy "
        "JSONL. Offsets are converted to code points. All or nothing; running it again "
        "stores nothing twice; whatever is not imported is listed with its reason."
    )

    def add_arguments(self, parser):
        parser.add_argument("project", help="project name or id")
        parser.add_argument("paths", nargs="+", type=Path, help="files or folders")
        add_import_options(parser)

    def handle(self, *args, project, paths, **options):
        run_import(self, project, paths, options)
