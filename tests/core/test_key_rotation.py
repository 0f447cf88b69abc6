import base64
import io

from django.core.management import call_command
from django.db import connection
from django.test import override_settings

from ..complaints.helpers import REAL_NAME, VALID_ID, file_complaint

NEW = "k2:" + base64.b64encode(b"r" * 32).decode()


def raw_identity(pk):
    with connection.cursor() as cursor:
        cursor.execute("SELECT real_name, id_number, phone FROM complaints_complaint WHERE id = %s", [pk])
        return cursor.fetchone()


def test_rotation_re_encrypts_every_row_under_the_newest_key_and_old_keys_stay_readable(db, settings):
    old_keys = list(settings.FIELD_ENCRYPTION_KEYS)
    complaint = file_complaint()
    assert all(v.startswith("v1:dev1:") for v in raw_identity(complaint.pk))

    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW, *old_keys]):
        complaint.refresh_from_db()
        assert complaint.real_name == REAL_NAME  # readable before rotation
        out = io.StringIO()
        call_command("rotate_field_keys", stdout=out)
        call_command("rotate_field_keys", stdout=out)  # a second run finds nothing to do

        assert all(v.startswith("v1:k2:") for v in raw_identity(complaint.pk))
        complaint.refresh_from_db()
        assert (complaint.real_name, complaint.id_number) == (REAL_NAME, VALID_ID)
    assert "complaints.Complaint: 1 rows re-encrypted" in out.getvalue()
    assert "complaints.Complaint: 0 rows re-encrypted" in out.getvalue()


def test_encrypted_fields_refuse_lookups_that_could_never_match(db):
    import pytest
    from django.core.exceptions import FieldError

    from complaints.models import Complaint

    with pytest.raises(FieldError):
        list(Complaint.objects.filter(id_number=VALID_ID))
    assert list(Complaint.objects.filter(phone__isnull=True)) == []
