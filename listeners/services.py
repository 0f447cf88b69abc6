"""The import of listening sessions from the main platform (a listener's status: ``holds``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils.translation import gettext_lazy

from accounts.models import User
from accounts.roles import Role

from .holds import listener_set_status
from .models import Channel, ListenerProfile, ListeningSession

IMPORT_BATCH_SIZE = 1000


class SessionRowForm(forms.Form):
    """One row of an import, checked without touching the database."""

    order_no = forms.CharField(max_length=40)
    user_email = forms.EmailField()
    listener_code = forms.CharField(max_length=40)
    channel = forms.ChoiceField(choices=Channel.choices)
    started_at = forms.DateTimeField()
    duration_minutes = forms.IntegerField(min_value=0, max_value=24 * 60)
    amount = forms.DecimalField(min_value=0, max_digits=10, decimal_places=2)
    rating = forms.IntegerField(min_value=1, max_value=5, required=False)


@dataclass
class RowError:
    row: int
    order_no: str
    errors: dict[str, list[str]]


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return len(self.errors)

    def as_dict(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "updated": self.updated,
            "failed": self.failed,
            "errors": [{"row": e.row, "order_no": e.order_no, "errors": e.errors} for e in self.errors],
        }


UNKNOWN_LISTENER = gettext_lazy("没有编号为 %(code)s 的倾听师。")
DUPLICATE_IN_FILE = gettext_lazy("订单号与第 %(row)s 行重复。")
NOT_A_SINGLE_VALUE = gettext_lazy("应为单个值（文字或数字），不能是列表或对象。")


def _form_value(value: Any) -> str:
    """A cell as the form reads it: JSON numbers and text become text, so a bad type is a row
    error and never an exception."""
    return "" if value is None else value if isinstance(value, str) else str(value)


def sessions_import(*, rows: Iterable[Mapping[str, Any]], first_row: int = 1) -> ImportResult:
    """Create or update sessions by order number; bad rows are reported, good rows are kept.

    Idempotent: importing the same rows again updates them in place. Queries per batch of
    IMPORT_BATCH_SIZE rows are constant, whatever the batch holds.
    """
    result = ImportResult()
    batch: list[tuple[int, dict[str, Any]]] = []
    seen: dict[str, int] = {}
    for number, raw in enumerate(rows, start=first_row):
        order_no = str(raw.get("order_no") or "").strip()
        nested = [k for k, v in raw.items() if isinstance(v, list | dict)]
        if nested:
            result.errors.append(RowError(number, order_no, {k: [str(NOT_A_SINGLE_VALUE)] for k in nested}))
            continue
        form = SessionRowForm(data={k: _form_value(v) for k, v in raw.items()})
        if not form.is_valid():
            result.errors.append(RowError(number, order_no, {k: [str(m) for m in v] for k, v in form.errors.items()}))
            continue
        cleaned = form.cleaned_data
        if cleaned["order_no"] in seen:
            msg = DUPLICATE_IN_FILE % {"row": seen[cleaned["order_no"]]}
            result.errors.append(RowError(number, order_no, {"order_no": [str(msg)]}))
            continue
        seen[cleaned["order_no"]] = number
        batch.append((number, cleaned))
        if len(batch) >= IMPORT_BATCH_SIZE:
            _import_batch(batch, result)
            batch = []
    if batch:
        _import_batch(batch, result)
    result.errors.sort(key=lambda e: e.row)
    return result


@transaction.atomic
def _import_batch(batch: list[tuple[int, dict[str, Any]]], result: ImportResult) -> None:
    codes = {row["listener_code"] for _, row in batch}
    listeners = {p.code: p.pk for p in ListenerProfile.objects.filter(code__in=codes).only("pk", "code")}
    good: list[tuple[int, dict[str, Any]]] = []
    for number, row in batch:
        if row["listener_code"] not in listeners:
            msg = UNKNOWN_LISTENER % {"code": row["listener_code"]}
            result.errors.append(RowError(number, row["order_no"], {"listener_code": [str(msg)]}))
        else:
            good.append((number, row))
    if not good:
        return
    users = _complainants_for({row["user_email"].lower() for _, row in good})
    order_nos = [row["order_no"] for _, row in good]
    existing = set(ListeningSession.objects.filter(order_no__in=order_nos).values_list("order_no", flat=True))
    ListeningSession.objects.bulk_create(
        [
            ListeningSession(
                order_no=row["order_no"],
                complainant_id=users[row["user_email"].lower()],
                listener_id=listeners[row["listener_code"]],
                channel=row["channel"],
                started_at=row["started_at"],
                duration_minutes=row["duration_minutes"],
                amount=row["amount"],
                rating=row["rating"],
            )
            for _, row in good
        ],
        update_conflicts=True,
        unique_fields=["order_no"],
        update_fields=[
            "complainant",
            "listener",
            "channel",
            "started_at",
            "duration_minutes",
            "amount",
            "rating",
            "imported_at",
        ],
    )
    result.updated += len(existing)
    result.created += len(good) - len(existing)


def _complainants_for(emails: set[str]) -> dict[str, int]:
    """User ids by email; platform users not yet known here get an account with no password
    (they claim it through password reset) and the complainant role."""
    found = dict(User.objects.filter(email__in=emails).values_list("email", "pk"))
    missing = sorted(emails - found.keys())
    if missing:
        new_users = [User(email=email) for email in missing]
        for user in new_users:
            user.set_unusable_password()
        User.objects.bulk_create(new_users, ignore_conflicts=True)
        found.update(User.objects.filter(email__in=missing).values_list("email", "pk"))
        group, _ = Group.objects.get_or_create(name=Role.COMPLAINANT)
        through = User.groups.through
        through.objects.bulk_create(
            [through(user_id=found[email], group_id=group.pk) for email in missing], ignore_conflicts=True
        )
    return found


__all__ = ["ImportResult", "listener_set_status", "sessions_import"]
