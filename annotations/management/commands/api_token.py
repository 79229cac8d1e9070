"""Make a personal API token for an account; the token is printed once, on the last line."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from ...services import tokens
from ...services.base import ServiceError


class Command(BaseCommand):
    help = (
        "Make a personal API token for USERNAME (send it as 'Authorization: Bearer …'). "
        "The token is printed once, alone on the last line; only its hash is stored. "
        "Its owner can revoke it on their API tokens page."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="command line", help="to tell tokens apart")

    def handle(self, *args, username, name, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No account named “{username}”.")
        if not user.is_active:
            raise CommandError(f"The account “{username}” is inactive; its tokens would not work.")
        try:
            token, secret = tokens.api_token_create(user=user, name=name, actor=None)
        except ServiceError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            f"Token “{token.name}” for {username} (starts {token.prefix}…), shown only now:"
        )
        self.stdout.write(secret)
