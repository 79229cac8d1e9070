"""Who may start new projects: list, grant or revoke the site-level right."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "List the accounts that may start new projects, or grant (add) or revoke (remove) "
        "that right. Superusers always have it."
    )

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["list", "add", "remove"])
        parser.add_argument("usernames", nargs="*")

    def handle(self, *args, action, usernames, **options):
        permission = Permission.objects.get(
            codename="create_project", content_type__app_label="annotations"
        )
        User = get_user_model()
        if action == "list":
            users = User.objects.filter(user_permissions=permission) | User.objects.filter(
                is_superuser=True
            )
            for user in users.distinct().order_by("username"):
                note = " (superuser)" if user.is_superuser else ""
                self.stdout.write(f"{user.get_username()}{note}")
            return
        if not usernames:
            raise CommandError(f"Name the accounts to {action}.")
        for username in usernames:
            user = User.objects.filter(username=username).first()
            if user is None:
                raise CommandError(f"No account named “{username}”; nothing was changed.")
        for username in usernames:
            user = User.objects.get(username=username)
            if action == "add":
                user.user_permissions.add(permission)
            else:
                user.user_permissions.remove(permission)
            verb = "may now" if action == "add" else "may no longer"
            self.stdout.write(f"{username} {verb} start projects.")
