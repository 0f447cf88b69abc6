"""Authenticated field encryption (AES-256-GCM) with key ids, so keys can be rotated.

A stored value reads ``v1:<key id>:<base64(nonce || ciphertext+tag)>``. The column's
label (``app.Model.field``) is bound in as associated data, so a ciphertext copied into
another column or table fails to decrypt instead of leaking there.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.db import models

PREFIX = "v1"


class DecryptionError(Exception):
    """A stored value could not be authenticated under any configured key."""


@dataclass(frozen=True)
class Keyring:
    current_id: str
    keys: dict[str, AESGCM]


@lru_cache(maxsize=8)
def _keyring(spec: tuple[str, ...]) -> Keyring:
    keys: dict[str, AESGCM] = {}
    for item in spec:
        kid, sep, b64 = item.partition(":")
        if not sep or not kid:
            raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS entries look like 'id:base64key'")
        raw = base64.b64decode(b64)
        if len(raw) != 32:
            raise ImproperlyConfigured(f"field encryption key {kid!r} must be 32 bytes")
        keys[kid] = AESGCM(raw)
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS is empty")
    return Keyring(current_id=spec[0].partition(":")[0], keys=keys)


def keyring() -> Keyring:
    return _keyring(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt(plaintext: str, *, label: str) -> str:
    ring = keyring()
    nonce = os.urandom(12)
    sealed = ring.keys[ring.current_id].encrypt(nonce, plaintext.encode(), label.encode())
    return f"{PREFIX}:{ring.current_id}:{base64.b64encode(nonce + sealed).decode()}"


def key_id_of(token: str) -> str:
    return token.split(":", 2)[1]


def decrypt(token: str, *, label: str) -> str:
    try:
        prefix, kid, b64 = token.split(":", 2)
    except ValueError as exc:
        raise DecryptionError("not an encrypted value") from exc
    if prefix != PREFIX:
        raise DecryptionError("unknown format")
    key = keyring().keys.get(kid)
    if key is None:
        raise DecryptionError(f"no key with id {kid!r} is configured")
    blob = base64.b64decode(b64)
    try:
        return key.decrypt(blob[:12], blob[12:], label.encode()).decode()
    except InvalidTag as exc:
        raise DecryptionError("value failed authentication") from exc


class EncryptedTextField(models.TextField):
    """A text column stored encrypted; Python code sees plaintext.

    Only ``isnull`` lookups make sense on it: equality on ciphertext never matches.
    """

    def contribute_to_class(self, cls, name, *args, **kwargs):
        super().contribute_to_class(cls, name, *args, **kwargs)
        self.crypto_label = f"{cls._meta.app_label}.{cls._meta.object_name}.{name}"

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return decrypt(value, label=self.crypto_label)

    def get_lookup(self, lookup_name):
        # A lookup would compare against fresh ciphertext and silently match nothing.
        if lookup_name != "isnull":
            raise FieldError(f"encrypted fields support only isnull lookups, not {lookup_name!r}")
        return super().get_lookup(lookup_name)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(value, label=self.crypto_label)


def encrypted_fields() -> list[tuple[type[models.Model], list[str]]]:
    """Every concrete model with encrypted columns, and those columns' names."""
    from django.apps import apps

    found = []
    for model in apps.get_models():
        names = [f.name for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
        if names and not model._meta.proxy:
            found.append((model, names))
    return found
