"""Create an API token for a user and print it, once: `create_api_token <username> [--name N] [--expires-days D]`.

The token alone goes to standard output (so `TOKEN=$(manage.py create_api_token bot)` works); what it
is goes to standard error. Only its hash is stored: it cannot be shown again.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from incidents import tokens


class Command(BaseCommand):
    help = "Create an API token for a user and print it once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", default="Command line", help="What the token is for (default: %(default)s).")
        parser.add_argument(
            "--expires-days",
            type=int,
            default=None,
            help=f"Days until it expires, 1 to {tokens.MAX_EXPIRY_DAYS}; without it, it never expires.",
        )

    def handle(self, *args, username: str, name: str, expires_days: int | None, **options) -> None:
        user_model = get_user_model()
        try:
            user = user_model.objects.get(**{user_model.USERNAME_FIELD: username})
        except user_model.DoesNotExist:
            raise CommandError(f"No user is called {username!r}.") from None
        if expires_days is not None and not 1 <= expires_days <= tokens.MAX_EXPIRY_DAYS:
            raise CommandError(f"--expires-days must be from 1 to {tokens.MAX_EXPIRY_DAYS}.")
        try:
            token, raw = tokens.issue_token(
                user, name=name, expires_in=timedelta(days=expires_days) if expires_days else None
            )
        except tokens.TokenError as exc:
            raise CommandError(str(exc)) from None
        expiry = f"expires {token.expires_at:%Y-%m-%d %H:%M} UTC" if token.expires_at else "never expires"
        self.stderr.write(
            f"Token “{token.name}” for {username} ({expiry}). It is shown only now; store it safely.",
            style_func=None,
        )
        self.stdout.write(raw)
