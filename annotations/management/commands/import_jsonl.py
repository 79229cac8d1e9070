"""Import a doccano JSONL file into a project as one coder's spans."""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from annotations.management.lookup import find_project
from annotations.services.base import ServiceError
from annotations.services.imports import jsonl_import


class Command(BaseCommand):
    help = (
        'Import doccano sequence-labelling JSONL ({"text": ..., "label": [[start, end, '
        '"code"], ...]}) into a project: new texts become documents, labels become the '
        "given coder's spans with their offsets unchanged. All or nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("project", help="project name or id")
        parser.add_argument("path", type=Path)
        parser.add_argument("--coder", required=True, help="username whose spans these become")
        parser.add_argument(
            "--only-coder",
            help='import only the lines whose "coder" is this (a Framing export has one '
            "line per document and coder)",
        )
        parser.add_argument(
            "--create-codes", action="store_true", help="add codes missing from the codebook"
        )
        parser.add_argument("--done", action="store_true", help="mark the assignments done")

    def handle(self, *args, project, path: Path, coder, only_coder, create_codes, done, **_):
        target = find_project(project)
        user = get_user_model().objects.filter(username=coder).first()
        if user is None:
            raise CommandError(f"No user named “{coder}”.")
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        try:
            outcome = jsonl_import(
                project=target,
                name=path.name,
                data=path.read_bytes(),
                coder=user,
                only_coder=only_coder,
                create_codes=create_codes,
                mark_done=done,
            )
        except ServiceError as error:
            raise CommandError(f"Nothing was imported:\n{error}") from None
        self.stdout.write(
            f"Imported {outcome.documents_created} new document(s) "
            f"({outcome.documents_present} already present) and {outcome.spans_created} "
            f"span(s) for {user.username} ({outcome.spans_present} already present)."
        )
