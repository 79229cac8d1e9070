from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from annotations.management.lookup import find_project
from annotations.services import imports


class Command(BaseCommand):
    help = (
        "Import articles into a project from .txt (one article per file), .csv (a 'text' "
        "column) or .jsonl (one object with 'text' per line). All or nothing; texts already "
        "in the project are skipped."
    )

    def add_arguments(self, parser):
        parser.add_argument("project", help="project name or id")
        parser.add_argument("paths", nargs="+", type=Path)
        parser.add_argument("--dry-run", action="store_true", help="check the files, store nothing")

    def handle(self, *args, project, paths, dry_run, **options):
        target = find_project(project)
        files = []
        for path in paths:
            if not path.is_file():
                raise CommandError(f"{path}: no such file")
            files.append((path.name, path.read_bytes()))
        outcome = imports.documents_import(
            project=target,
            files=files,
            max_bytes=settings.FRAMING_MAX_UPLOAD_BYTES,
            dry_run=dry_run,
        )
        if not outcome.ok:
            lines = "\n".join(f"  {problem}" for problem in outcome.problems)
            raise CommandError(f"Nothing was imported; fix these problems first:\n{lines}")
        verb = "Would import" if dry_run else "Imported"
        self.stdout.write(
            f"{verb} {len(outcome.created)} document(s) into “{target.name}”; "
            f"{outcome.already_present} already present."
        )
