from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django_otp.oath import TOTP

from portal.demo import DEMO_TOTP_KEY


class Command(BaseCommand):
    help = "Print the current TOTP code of the demo staff users (DEBUG only): the demo's phone app."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("demo_otp is for local demos only (DEBUG on)")
        self.stdout.write(f"{TOTP(bytes.fromhex(DEMO_TOTP_KEY)).token():06d}")
