import os
import re
import shutil
import sqlite3
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils import timezone


def open_sqlite(path) -> sqlite3.Connection:
    """A plain connection that can check Django's REGEXP constraints (colour codes)."""
    conn = sqlite3.connect(path)
    conn.create_function(
        "REGEXP",
        2,
        lambda pattern, value: value is not None and re.search(pattern, value) is not None,
    )
    return conn


class Command(BaseCommand):
    help = (
        "Write a consistent copy of the database while the app keeps running (SQLite: the "
        "online backup API). For PostgreSQL it prints the pg_dump command to use instead."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "target",
            nargs="?",
            type=Path,
            help="file to write (default: var/backups/framing-<time>.sqlite3)",
        )

    def handle(self, *args, target, **options):
        if connection.vendor != "sqlite":
            settings = connection.settings_dict
            self.stdout.write(
                "This database is PostgreSQL: back it up with its own tools, e.g.\n"
                f"  pg_dump --format=custom --file=framing.dump "
                f"--host={settings['HOST'] or 'localhost'} --port={settings['PORT'] or 5432} "
                f"--username={settings['USER']} {settings['NAME']}\n"
                "and restore with pg_restore --clean --dbname=… framing.dump (see README)."
            )
            return
        source = Path(connection.settings_dict["NAME"])
        if target is None:
            stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
            target = source.parent / "backups" / f"framing-{stamp}.sqlite3"
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            raise CommandError(f"{target} exists already; choose another file name.")
        partial = target.with_suffix(target.suffix + ".partial")
        # The copy holds password hashes and sessions: readable by its owner only, from
        # the moment it exists.
        os.close(os.open(partial, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        # The backup API copies a consistent snapshot even while web and worker write.
        with open_sqlite(source) as live, open_sqlite(partial) as copy:
            live.backup(copy)
            check = copy.execute("PRAGMA integrity_check").fetchone()[0]
        if check != "ok":
            partial.unlink(missing_ok=True)
            raise CommandError(f"The copy failed its integrity check: {check}")
        shutil.move(partial, target)
        target.chmod(0o600)
        self.stdout.write(f"Backup written to {target}")
