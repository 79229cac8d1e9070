"""Write a project's export into a folder: the ZIP bundle's files, unzipped, or the corpus in
another annotation tool's format."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from annotations import forms
from annotations.domain.export import CsvFlavour
from annotations.domain.formats import FORMATS, format_name
from annotations.management.lookup import find_project
from annotations.selectors.export import files
from annotations.selectors.export import formats as tool_formats
from annotations.selectors.export.rows import reliability_coders
from annotations.selectors.export.spec import LAYER_CODERS, LAYERS, ExportSpec, coder_labels


class Command(BaseCommand):
    help = (
        "Export a project (spans.csv, documents.csv, codebook.csv, agreement.csv, "
        "reliability_<code id>_<code>.csv, audit.csv, spans.jsonl, README.txt) into a "
        "folder, streaming, for corpora too large for a browser download; or, with --format, "
        "the corpus in another annotation tool's format."
    )

    def add_arguments(self, parser):
        parser.add_argument("project", help="project name or id")
        parser.add_argument("outdir", type=Path)
        parser.add_argument(
            "--layer",
            default=LAYER_CODERS,
            help="coders (default), gold, all (coders and gold), or one coder's username",
        )
        parser.add_argument("--flavour", choices=[f.value for f in CsvFlavour], default="analysis")
        parser.add_argument("--done-only", action="store_true", help="only work marked done")
        parser.add_argument(
            "--pseudonyms",
            action="store_true",
            help="name coders Coder A, Coder B, ... (the command has a manager's view: "
            "usernames by default)",
        )
        parser.add_argument("--code", action="append", default=[], help="a code name (repeat)")
        parser.add_argument(
            "--format",
            default="csv",
            choices=["csv", *(FORMATS[name].option for name in tool_formats.WRITER_UNITS)],
            help="csv (default: the bundle's files) or another tool's format: doccano, "
            "labelstudio, brat, webanno (INCEpTION's WebAnno TSV), uima (UIMA CAS XMI), prodigy",
        )
        parser.add_argument(
            "--offsets",
            choices=["codepoints", "utf16"],
            help="the offset unit of a tool's format (default: the tool's own)",
        )

    def handle(
        self,
        *args,
        project,
        outdir: Path,
        layer,
        flavour,
        done_only,
        pseudonyms,
        code,
        format,
        offsets,
        **options,
    ):
        target = find_project(project)
        tool = None if format == "csv" else format_name(format)
        if tool is not None and (problem := tool_formats.offsets_problem(tool, offsets)):
            raise CommandError(f"--offsets: {problem}")
        if tool is None and offsets is not None:
            raise CommandError(
                "--offsets is for another tool's format; the csv files count code points."
            )
        coder_id = None
        if layer not in LAYERS:
            by_name = {
                name: uid
                for uid, name in coder_labels(target, names=True).items()
                if uid in reliability_coders(target, ExportSpec())
            }
            if layer not in by_name:
                raise CommandError(f"--layer: no coder named “{layer}” has work in this project.")
            layer, coder_id = LAYER_CODERS, by_name[layer]
        codes = dict(target.codebook.codes.values_list("name", "pk"))
        unknown = [name for name in code if name not in codes]
        if unknown:
            raise CommandError(
                f"--code: the codebook has no code named {', '.join(unknown)}; "
                f"its codes are {', '.join(codes)}."
            )
        try:
            spec = forms.export_spec(
                target,
                layer=layer,
                coder_id=coder_id,
                code_ids=[codes[name] for name in code],
                done_only=done_only,
                flavour=flavour,
                names=not pseudonyms,
            )
        except forms.InputError as error:
            raise CommandError(str(error)) from None
        outdir.mkdir(parents=True, exist_ok=True)
        if tool is not None:
            chunks = files.snapshot(lambda: tool_formats.format_files(target, spec, tool, offsets))
            for name, content in chunks:
                path = _inside(outdir, name)
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(content)
                self.stdout.write(f"  {path}")
            self.stdout.write(f"Exported “{target.name}” as {FORMATS[tool].title} into {outdir}.")
            return
        written: set[str] = set()
        # One state of the database for every file, however long the export takes.
        for name, source in files.snapshot(lambda: files.export_files(target, spec)):
            if name.lower() in written:  # file names are unique by construction
                raise CommandError(f"two export files are named {name}; nothing more written")
            written.add(name.lower())
            # Bytes, so that the CRLF row ends of CSV are written unchanged on every system.
            with _inside(outdir, name).open("wb") as stream:
                for chunk in source():
                    stream.write(chunk.encode("utf-8"))
            self.stdout.write(f"  {outdir / name}")
        self.stdout.write(f"Exported “{target.name}” into {outdir}.")


def _inside(outdir: Path, name: str) -> Path:
    """`outdir / name`, refusing a name that would leave the folder."""
    path = (outdir / name).resolve()
    if not path.is_relative_to(outdir.resolve()):
        raise CommandError(f"refusing to write {name!r} outside {outdir}")
    return path
