from django.core.management.base import BaseCommand
from django.db import connection, transaction

from core.crypto import PREFIX, encrypted_fields, keyring

BATCH = 500


class Command(BaseCommand):
    help = (
        "Re-encrypt every encrypted column under the newest key of FIELD_ENCRYPTION_KEYS. "
        "Safe to interrupt and run again; rows already under the newest key are skipped."
    )

    def handle(self, *args, **options):
        current = f"{PREFIX}:{keyring().current_id}:%"
        total = 0
        for model, fields in encrypted_fields():
            table = connection.ops.quote_name(model._meta.db_table)
            pk = connection.ops.quote_name(model._meta.pk.column)
            stale = " OR ".join(
                f"({connection.ops.quote_name(model._meta.get_field(f).column)} <> '' "
                f"AND {connection.ops.quote_name(model._meta.get_field(f).column)} NOT LIKE %s)"
                for f in fields
            )
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT {pk} FROM {table} WHERE {stale} ORDER BY {pk}", [current] * len(fields))  # noqa: S608
                ids = [row[0] for row in cursor.fetchall()]
            for start in range(0, len(ids), BATCH):
                with transaction.atomic():
                    for obj in model._base_manager.select_for_update().filter(pk__in=ids[start : start + BATCH]):
                        obj.save(update_fields=fields)
            total += len(ids)
            self.stdout.write(f"{model._meta.label}: {len(ids)} rows re-encrypted")
        self.stdout.write(f"done: {total} rows now under key {keyring().current_id}")
