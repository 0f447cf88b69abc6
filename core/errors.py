"""The errors a service raises when a move cannot be made as asked, whatever app it is in.

Every edge knows them: the API answers 409 (core.api_errors), pages and the admin show the
message (core.service_errors). Apps keep their old names as aliases (``ComplaintConflict``,
``SupervisionConflict``), so a caller catching those catches the whole family.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

CHANGED_MESSAGE = gettext_lazy("这个案件刚被其他人修改过。请刷新页面查看最新情况后再操作。")


class Conflict(Exception):
    """The record is not as the caller saw it: someone else changed it, or its state no longer
    allows the move. The message is for the person and says what to do."""

    default_message: StrOrPromise = CHANGED_MESSAGE

    def __init__(self, message: StrOrPromise | None = None) -> None:
        self.message = str(message or self.default_message)
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


class StaleVersion(Conflict):
    """The caller acted on an older version of the record than the one stored."""


class WrongState(Conflict):
    """The record's state does not allow this move (it moved on, or never could)."""
