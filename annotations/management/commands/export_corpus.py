"""Write a project's export files into a folder: the ZIP bundle's files, unzipped."""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from annotations.management.commands.import_documents import find_project
from annotations.services import ServiceError
from annotations.services import export as exports


class Command(BaseCommand):
    help = (
        "Export a project (spans.csv, documents.csv, codebook.csv, agreement.csv, "
        "reliability_<code>.csv, audit.csv, spans.jsonl, README.txt) into a folder, "
        "streaming, for corpora too large for a browser download."
    )

    def add_arguments(self, parser):
        parser.add_argument("project", help="project name or id")
        parser.add_argument("outdir", type=Path)
        parser.add_argument(
            "--layer",
            default=exports.LAYER_CODERS,
            help="coders (default), gold, all (coders and gold), or one coder's username",
        )
        parser.add_argument("--flavour", choices=["analysis", "excel"], default="analysis")
        parser.add_argument("--done-only", action="store_true", help="only work marked done")
        parser.add_argument(
            "--pseudonyms",
            action="store_true",
            help="name coders Coder A, Coder B, ... (the command has a manager's view: "
            "usernames by default)",
        )
        parser.add_argument("--code", action="append", default=[], help="a code name (repeat)")

    def handle(
        self, *args, project, outdir: Path, layer, flavour, done_only, pseudonyms, code, **options
    ):
        target = find_project(project)
        coder_id = None
        if layer not in exports.LAYERS:
            user = get_user_model().objects.filter(username=layer).first()
            if user is None:
                raise CommandError(f"--layer: no user named “{layer}”.")
            layer, coder_id = exports.LAYER_CODERS, user.pk
        codes = dict(target.codebook.codes.values_list("name", "pk"))
        unknown = [name for name in code if name not in codes]
        if unknown:
            raise CommandError(f"--code: the codebook has no code named {', '.join(unknown)}.")
        try:
            spec = exports.export_spec(
                target,
                layer=layer,
                coder_id=coder_id,
                code_ids=[codes[name] for name in code],
                done_only=done_only,
                flavour=flavour,
                names=not pseudonyms,
            )
        except ServiceError as error:
            raise CommandError(str(error)) from None
        outdir.mkdir(parents=True, exist_ok=True)
        for name, source in exports.export_files(target, spec):
            # Bytes, so that the CRLF row ends of CSV are written unchanged on every system.
            with (outdir / name).open("wb") as stream:
                for chunk in source():
                    stream.write(chunk.encode("utf-8"))
            self.stdout.write(f"  {outdir / name}")
        self.stdout.write(f"Exported “{target.name}” into {outdir}.")
