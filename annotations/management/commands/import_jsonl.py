"""Import Framing's JSONL (the bundle's spans.jsonl) as one coder's spans: an alias of
``import_documents --format jsonl --coder USERNAME``."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand

from annotations.management.commands.import_documents import add_import_options, run_import


class Command(BaseCommand):
    help = (
        'Import Framing\'s JSONL ({"text": ..., "label": [[start, end, "code"], ...], '
        '"coder": ...}, offsets in code points) into a project: new texts become documents, '
        "labels become the given coder's spans with their offsets unchanged. The same as "
        "import_documents --format jsonl; for doccano's own files use --format doccano there."
    )

    def add_arguments(self, parser):
        parser.add_argument("project", help="project name or id")
        parser.add_argument("path", type=Path)
        add_import_options(parser, coder_required=True)
        parser.set_defaults(format="jsonl")

    def handle(self, *args, project, path: Path, **options):
        run_import(self, project, [path], options)
