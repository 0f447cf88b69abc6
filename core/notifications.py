"""Sending mail after the transaction that caused it commits."""

from collections.abc import Iterable
from functools import partial

from django.db import transaction


def email_after_commit(*, user_ids: Iterable[int], template: str, context: dict) -> None:
    """Queue one email per recipient once the surrounding transaction commits (never on rollback).

    ``context`` must be plain JSON data and must not carry identity data: emails leave the platform.
    """
    from .tasks import send_templated_email

    for user_id in dict.fromkeys(user_ids):
        transaction.on_commit(partial(send_templated_email.delay, user_id, template, context))
