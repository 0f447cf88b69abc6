import csv
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from listeners.services import sessions_import


class Command(BaseCommand):
    help = "Import listening sessions from the main platform's CSV export (idempotent by order_no)."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)

    def handle(self, *args, file: Path, **options):
        try:
            handle = file.open(newline="", encoding="utf-8-sig")
        except OSError as exc:
            raise CommandError(f"cannot read {file}: {exc}") from exc
        with handle:
            reader = csv.DictReader(handle)
            # Row 1 is the header, so data rows are numbered as a spreadsheet shows them.
            result = sessions_import(rows=reader, first_row=2)
        for error in result.errors:
            details = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in error.errors.items())
            self.stderr.write(f"row {error.row} ({error.order_no or '-'}): {details}")
        self.stdout.write(f"created {result.created}, updated {result.updated}, failed {result.failed}")
