import os
import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from annotations.services.seed import seed_manager


class Command(BaseCommand):
    help = (
        "Create the administrator account once (password from FRAMING_ADMIN_PASSWORD, "
        "otherwise generated and printed once) and make it manager of the seed project."
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", default=os.environ.get("FRAMING_ADMIN_USER", "admin"))
        parser.add_argument("--url", default="http://127.0.0.1:8000/")

    @transaction.atomic
    def handle(self, *args, username, url, **options):
        User = get_user_model()
        user = User.objects.filter(username=username).first()
        password_line = "password: the one set when the account was created"  # noqa: S105
        if user is None:
            password = os.environ.get("FRAMING_ADMIN_PASSWORD") or secrets.token_urlsafe(12)
            user = User.objects.create_superuser(username=username, email="", password=password)
            if os.environ.get("FRAMING_ADMIN_PASSWORD"):
                password_line = "password: the value of FRAMING_ADMIN_PASSWORD"  # noqa: S105
            else:
                password_line = f"password: {password}   (shown this once; note it down)"
        # The administrator manages the seed project; coders, added on its People page,
        # do the coding, so agreement and review count only real coders.
        seed_manager(user=user)
        self.stdout.write(
            "\n".join(
                [
                    "",
                    "Framing is starting.",
                    f"  Open {url} and log in as",
                    f"  user: {username}",
                    f"  {password_line}",
                    "  Stop with Ctrl-C.",
                    "",
                ]
            )
        )
