from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from portal.demo import DEMO_PASSWORD, seed_demo


class Command(BaseCommand):
    help = "Create demo users (one per role), listeners and sessions. Safe to run again."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="run even with DEBUG off")

    def handle(self, *args, force: bool = False, **options):
        if not settings.DEBUG and not force:
            raise CommandError("seed_demo creates known passwords: it runs only with DEBUG on (or --force)")
        people = seed_demo()
        out = self.stdout
        out.write("")
        out.write(
            f"Demo accounts (password for all: {DEMO_PASSWORD}) — sign in at http://127.0.0.1:8000/accounts/login/"
        )
        for person in people:
            line = f"  {person.role:<12} {person.email}"
            if person.backup_code:
                line += "   second factor: `make otp` prints the current code"
                line += f" (or backup code {person.backup_code}, once)"
            out.write(line)
        out.write(
            "  API token for the platform integration: "
            ".venv/bin/python manage.py drf_create_token platform@demo.hearken.cn"
        )
        out.write("")
