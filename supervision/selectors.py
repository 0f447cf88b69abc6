"""What an ethics investigation may see first: session metadata, with the other party pseudonymised.

Least breach of confidentiality (DOMAIN §5): the investigator sees when, how long, which channel
and what rating; who the user is stays hidden until a supervisor gives a reason to reveal it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from accounts.policy import is_supervisor
from core import access
from listeners.models import ListeningSession

from .models import AnomalyKind, ConfidentialityBreakReport, EthicsCase, ListenerReport, QualityAudit

if TYPE_CHECKING:
    from accounts.models import User

SESSION_LIMIT = 50


@dataclass(frozen=True)
class SessionRow:
    order_no: str
    started_at: datetime
    duration_minutes: int
    channel: str
    rating: int | None
    party: str


def _pseudonym(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return _("用户 %(p)s") % {"p": letters}


def ethics_case_sessions(case: EthicsCase) -> tuple[list[SessionRow], bool]:
    """The sessions behind the case (the anomaly's window, or the listener's latest), newest first,
    and whether there were more than the page shows."""
    qs = ListeningSession.objects.filter(listener_id=case.listener_id)
    rule = case.anomaly_rule
    if rule is not None and case.window_start is not None:
        span = rule.window * 2 if rule.kind == AnomalyKind.RATING_SWING_AFTER_REPORT else rule.window
        qs = qs.filter(started_at__gte=case.window_start, started_at__lt=case.window_start + span)
    if case.user_id is not None:
        qs = qs.filter(complainant_id=case.user_id)
    rows = list(
        qs.order_by("-started_at", "-pk").values_list(
            "order_no", "started_at", "duration_minutes", "channel", "rating", "complainant_id"
        )[: SESSION_LIMIT + 1]
    )
    parties: dict[int, str] = {}
    if case.user_id is not None:
        parties[case.user_id] = _("相关用户")
    for *_rest, party in reversed(rows):
        parties.setdefault(party, _pseudonym(len(parties)))
    channels = dict(ListeningSession._meta.get_field("channel").choices or [])
    shown = [
        SessionRow(order_no, started, minutes, str(channels.get(channel, channel)), rating, parties[party])
        for order_no, started, minutes, channel, rating, party in rows[:SESSION_LIMIT]
    ]
    return shown, len(rows) > SESSION_LIMIT


# --- the access policy for supervision records ------------------------------------------------------


def ethics_cases_visible(user: User, qs: QuerySet[EthicsCase]) -> QuerySet[EthicsCase]:
    """Supervisors see every ethics case; a listener sees their own (the portal shows its outcome)."""
    return qs if is_supervisor(user) else qs.filter(listener__user=user)


def supervisors_only(user: User, qs: QuerySet) -> QuerySet:
    """Reports, confidentiality breaks and quality audits: supervisors only."""
    return qs if is_supervisor(user) else qs.none()


def access_register() -> None:
    access.register(EthicsCase, visible=ethics_cases_visible)
    for model in (ListenerReport, ConfidentialityBreakReport, QualityAudit):
        access.register(model, visible=supervisors_only)
