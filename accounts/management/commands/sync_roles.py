from django.core.management.base import BaseCommand

from accounts.roles import roles_sync


class Command(BaseCommand):
    help = "Create the role groups and set their permissions to what accounts.roles declares."

    def handle(self, *args, **options):
        roles_sync()
        self.stdout.write("roles in sync")
