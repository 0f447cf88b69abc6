"""Web and workers connect as an app role that does not own the tables (manage.py grant_app_role):
it reads and writes rows, and cannot rewrite history or the schema. Checked on the real PostgreSQL."""

import uuid

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection

from complaints.models import TimelineEvent
from core.models import AccessLog

from ..complaints.helpers import file_complaint

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def app_role(monkeypatch):
    """A fresh role granted as production grants it; dropped afterwards (roles are cluster-wide)."""
    role = f"hearken_app_test_{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("APP_ROLE_TEST_PASSWORD", "app-role-test-password")
    call_command("grant_app_role", role, password_env="APP_ROLE_TEST_PASSWORD")
    yield role
    with connection.cursor() as cursor:
        cursor.execute(f'DROP OWNED BY "{role}"')
        cursor.execute(f'DROP ROLE "{role}"')


@pytest.fixture
def as_app_role(app_role):
    settings = connection.settings_dict
    with psycopg.connect(
        host=settings["HOST"] or None,
        port=settings["PORT"] or None,
        dbname=settings["NAME"],
        user=app_role,
        password="app-role-test-password",
        autocommit=True,
    ) as conn:
        yield conn


def refused(conn, statement: str, params=()) -> bool:
    try:
        conn.execute(statement, params)
    except psycopg.Error:
        return True
    return False


def test_the_app_role_reads_and_writes_rows(as_app_role):
    complaint = file_complaint()

    as_app_role.execute(
        "INSERT INTO complaints_timelineevent (complaint_id, kind, from_state, to_state, transition, note, "
        "visible_to_complainant, created_at) VALUES (%s, 'note', '', '', '', 'as the app role', false, now())",
        [complaint.pk],
    )
    as_app_role.execute("UPDATE complaints_complaint SET priority = priority WHERE id = %s", [complaint.pk])
    as_app_role.execute("SELECT nextval(pg_get_serial_sequence('core_accesslog', 'id'))")

    assert TimelineEvent.objects.filter(complaint=complaint, note="as the app role").exists()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE complaints_timelineevent SET note = 'rewritten'",
        "DELETE FROM complaints_timelineevent",
        "TRUNCATE complaints_timelineevent CASCADE",
        "UPDATE core_accesslog SET reason = 'rewritten'",
        "DELETE FROM core_accesslog",
        "TRUNCATE core_accesslog",
        "TRUNCATE supervision_ethicscaseevent",
        "ALTER TABLE complaints_timelineevent DISABLE TRIGGER ALL",
        "ALTER TABLE complaints_timelineevent DISABLE TRIGGER hearken_refuse_truncate",
        "ALTER TABLE complaints_complaint ADD COLUMN sneaky text",
        "DROP TABLE core_accesslog",
        "DROP TRIGGER hearken_refuse_truncate ON core_accesslog",
        "CREATE TABLE sneaky (id int)",
        "SET session_replication_role = replica",
    ],
)
def test_the_app_role_cannot_rewrite_history_or_the_schema(as_app_role, statement):
    complaint = file_complaint()  # rows for UPDATE and DELETE to be refused on
    AccessLog.objects.create(
        actor=complaint.complainant, object_type="complaint", object_id=str(complaint.pk), field="-", reason="test"
    )
    history = list(TimelineEvent.objects.values_list("pk", "note")), list(AccessLog.objects.values_list("pk", "reason"))

    assert refused(as_app_role, statement)
    assert (
        list(TimelineEvent.objects.values_list("pk", "note")),
        list(AccessLog.objects.values_list("pk", "reason")),
    ) == history


def ignore_every_pgtrigger(conn) -> None:
    """What pgtrigger.ignore() does, for every pgtrigger trigger: any role may set it."""
    names = [row[0] for row in conn.execute("SELECT tgname FROM pg_trigger WHERE tgname LIKE 'pgtrigger_%'")]
    conn.execute("SELECT set_config('pgtrigger.ignore', %s, false)", ["{" + ",".join(names) + "}"])


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE complaints_timelineevent SET note = 'rewritten'",
        "UPDATE complaints_timelineevent SET note = '', kind = 'note'",
        "UPDATE complaints_timelineevent SET created_at = now() - interval '1 year'",
        "DELETE FROM complaints_timelineevent",
        "UPDATE core_accesslog SET reason = 'rewritten'",
        "DELETE FROM core_accesslog",
    ],
)
def test_setting_pgtrigger_ignore_does_not_let_the_app_role_rewrite_history(as_app_role, statement):
    complaint = file_complaint()
    AccessLog.objects.create(
        actor=complaint.complainant, object_type="complaint", object_id=str(complaint.pk), field="-", reason="test"
    )
    history = (
        list(TimelineEvent.objects.values_list("pk", "kind", "note", "created_at")),
        list(AccessLog.objects.values_list("pk", "reason")),
    )
    ignore_every_pgtrigger(as_app_role)

    assert refused(as_app_role, statement)
    assert (
        list(TimelineEvent.objects.values_list("pk", "kind", "note", "created_at")),
        list(AccessLog.objects.values_list("pk", "reason")),
    ) == history


def test_the_app_role_may_only_blank_timeline_notes_as_retention_does(as_app_role):
    complaint = file_complaint()
    before = list(TimelineEvent.objects.filter(complaint=complaint).values_list("pk", "kind", "created_at"))
    ignore_every_pgtrigger(as_app_role)  # retention lifts the pgtrigger trigger with pgtrigger.ignore()

    as_app_role.execute("UPDATE complaints_timelineevent SET note = '' WHERE complaint_id = %s", [complaint.pk])

    assert set(TimelineEvent.objects.filter(complaint=complaint).values_list("note", flat=True)) == {""}
    assert list(TimelineEvent.objects.filter(complaint=complaint).values_list("pk", "kind", "created_at")) == before


def test_tables_created_by_a_later_migration_are_granted_by_default(app_role, as_app_role):
    with connection.cursor() as cursor:  # as the owner, as a migration would
        cursor.execute("CREATE TABLE later_migration_table (id serial PRIMARY KEY, note text)")
    try:
        as_app_role.execute("INSERT INTO later_migration_table (note) VALUES ('x')")
        assert refused(as_app_role, "DROP TABLE later_migration_table")
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE later_migration_table")
