"""The append-only tables (timeline, access log, audit event tables) refuse UPDATE, DELETE and TRUNCATE."""

import pgtrigger
import pytest
from django.apps import apps
from django.db import DatabaseError, connection, transaction

from complaints.models import TimelineEvent
from core.models import AccessLog

from ..factories import UserFactory


def append_only_tables() -> list[str]:
    """Every table with a row trigger refusing UPDATE and DELETE: a new one is checked without a list."""
    return sorted(
        model._meta.db_table
        for model in apps.get_models()
        for trigger in getattr(model._meta, "triggers", [])
        if isinstance(trigger, pgtrigger.Protect)
        and {"UPDATE", "DELETE"} <= set(str(trigger.operation).replace(" OR ", " ").split())
    )


def test_the_known_append_only_tables_are_found():
    assert {"complaints_timelineevent", "core_accesslog", "supervision_ethicscaseevent"} <= set(append_only_tables())


@pytest.mark.parametrize("table", append_only_tables())
def test_every_append_only_table_has_the_triggers_no_setting_lifts(db, table):
    with connection.cursor() as cursor:
        cursor.execute("SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND tgenabled = 'O'", [table])
        names = {row[0] for row in cursor.fetchall()}

    assert {"hearken_refuse_truncate", "hearken_refuse_rewrite"} <= names


@pytest.mark.parametrize("table", append_only_tables())
def test_truncate_is_refused(db, table):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {table} CASCADE")


def test_truncate_is_refused_when_it_reaches_the_table_by_cascade(db):
    # TimelineEvent references the complaint: truncating complaints cascades into the timeline.
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("TRUNCATE complaints_complaint CASCADE")


@pytest.mark.django_db(transaction=True)
def test_a_transactional_test_writes_to_append_only_tables_and_its_flush_still_empties_them():
    AccessLog.objects.create(
        actor=UserFactory(), action="view", object_type="test", object_id="1", field="-", reason="test"
    )

    assert AccessLog.objects.count() == 1
    # The flush after this test TRUNCATEs every table; the next test sees none of this row.


@pytest.mark.django_db(transaction=True)
def test_the_next_transactional_test_starts_empty():
    assert not AccessLog.objects.filter(object_type="test").exists()
    assert not TimelineEvent.objects.exists()
