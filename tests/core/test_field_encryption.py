import base64

import pytest
from django.conf import settings
from django.db import connection
from django.test import override_settings

from core import crypto
from core.masking import mask_id_number, mask_name, mask_phone

NEW_KEY = "k2:" + base64.b64encode(b"n" * 32).decode()


def raw_phone(user) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT phone FROM accounts_user WHERE id = %s", [user.pk])
        return cursor.fetchone()[0]


def test_phone_is_encrypted_at_rest_and_readable_in_python(make_user):
    user = make_user("complainant", phone="13812345678")

    stored = raw_phone(user)

    assert "13812345678" not in stored
    assert stored.startswith("v1:dev1:")
    user.refresh_from_db()
    assert user.phone == "13812345678"


def test_a_ciphertext_moved_to_another_column_does_not_decrypt():
    token = crypto.encrypt("110101199003074514", label="accounts.User.phone")

    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(token, label="complaints.Complaint.id_number")


def test_old_keys_stay_readable_after_a_new_key_is_added(make_user):
    user = make_user("complainant", phone="13900001111")
    old_keys = list(crypto.keyring().keys)

    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW_KEY, *settings.FIELD_ENCRYPTION_KEYS]):
        user.refresh_from_db()
        assert user.phone == "13900001111"
        user.save(update_fields=["phone"])
        assert raw_phone(user).startswith("v1:k2:")
    assert "k2" not in old_keys


def test_masks_show_enough_to_recognise_and_no_more():
    assert mask_name("张三丰") == "张**"
    assert mask_name("李") == "李*"
    assert mask_id_number("110101199003074514") == "1101**********4514"
    assert mask_phone("13812345678") == "138****5678"
