import sqlite3
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from .backup import open_sqlite


class Command(BaseCommand):
    help = (
        "Replace the SQLite database with a backup made by `manage.py backup`. Stop the web "
        "server and worker first. The current database is kept beside it as *.before-restore."
    )

    def add_arguments(self, parser):
        parser.add_argument("backup", type=Path)
        parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    def handle(self, *args, backup, yes, **options):
        if connection.vendor != "sqlite":
            raise CommandError("For PostgreSQL use pg_restore (see README).")
        if not backup.is_file():
            raise CommandError(f"{backup}: no such file")
        try:
            with open_sqlite(backup) as source:
                check = source.execute("PRAGMA integrity_check").fetchone()[0]
                tables = {row[0] for row in source.execute("SELECT name FROM sqlite_master")}
        except sqlite3.DatabaseError as error:
            raise CommandError(f"{backup} is not a SQLite database ({error}).") from None
        if check != "ok" or "annotations_span" not in tables:
            raise CommandError(f"{backup} is not a sound Framing backup ({check}).")
        if not yes and input(f"Replace the database with {backup}? [y/N] ").lower() != "y":
            raise CommandError("Nothing restored.")
        live = Path(connection.settings_dict["NAME"])
        connection.close()
        keep = live.with_suffix(live.suffix + ".before-restore")
        with open_sqlite(live) as current, open_sqlite(keep) as old:
            current.backup(old)
        # Restoring through the backup API rewrites the file in place, WAL included.
        with open_sqlite(backup) as source, open_sqlite(live) as target:
            source.backup(target)
        self.stdout.write(f"Restored {backup}; the previous database is in {keep}")
