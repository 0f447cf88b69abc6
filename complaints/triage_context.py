"""What the triage page shows at its top: the facts a consultant decides on, in a fixed number of queries.

The session (channel, local start time, duration, amount, rating), the listener's code and current
status as their active holds make it, the complainant's earlier complaints (count and links, never
anyone else's) and the crisis flag with the text that raised it, the matched terms marked. The
complainant's identity is not part of it: the page shows it masked, in its own block.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from django.db.models import Count, Exists, OuterRef, Window
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from core import access
from listeners.holds import active_holds, status_from
from listeners.models import ListenerStatus

from .models import Complaint

if TYPE_CHECKING:
    from accounts.models import User

# The platform and its users are in mainland China: session times are read in Beijing time.
PLATFORM_TZ = ZoneInfo("Asia/Shanghai")
# Links listed on the page; the count above them is always the full one.
EARLIER_SHOWN = 20


@dataclass(frozen=True)
class CrisisSource:
    """One text a person wrote, with the crisis terms found in it."""

    label: str
    text: str
    terms: list[str]


# Higher apps (or later work) add texts of the case to screen on the page: added information,
# answers, statements. ``source(complaint) -> CrisisSource items``.
CrisisSourceFinder = Callable[[Complaint], Iterable[CrisisSource]]
_crisis_source_finders: list[CrisisSourceFinder] = []


def register_crisis_source(finder: CrisisSourceFinder) -> None:
    _crisis_source_finders.append(finder)


@dataclass(frozen=True)
class EarlierComplaint:
    reference: str
    state: str
    category: str
    submitted_at: datetime
    url: str


@dataclass
class TriagePanel:
    order_no: str
    channel: str
    started_at: datetime
    ended_at: datetime
    duration_minutes: int
    amount: Decimal
    rating: int | None
    listener_code: str
    listener_status: str
    listener_status_reason: str
    active_hold_count: int
    earlier_count: int
    earlier: list[EarlierComplaint]
    crisis: bool
    crisis_terms: list[str]
    crisis_sources: list[CrisisSource] = field(default_factory=list)

    @property
    def earlier_more(self) -> int:
        return max(self.earlier_count - len(self.earlier), 0)


# What the panel reads from the case, its session and listener: no identity column is fetched.
PANEL_FIELDS = (
    "pk",
    "state",
    "complainant",
    "submitted_at",
    "content",
    "demands_other",
    "crisis",
    "crisis_terms",
    "session__order_no",
    "session__channel",
    "session__started_at",
    "session__duration_minutes",
    "session__amount",
    "session__rating",
    "listener__code",
)


def terms_in(text: str, terms: Iterable[str]) -> list[str]:
    """Those of ``terms`` that occur in ``text``, case-insensitively, in their given order."""
    lowered = text.lower()
    return [t for t in terms if t and t.lower() in lowered]


def complaint_crisis_sources(complaint: Complaint) -> list[CrisisSource]:
    """The texts screened at submission (the complaint and its other demands), with the stored terms."""
    sources = [CrisisSource(_("投诉内容"), complaint.content, terms_in(complaint.content, complaint.crisis_terms))]
    if complaint.demands_other.strip():
        found = terms_in(complaint.demands_other, complaint.crisis_terms)
        if found:
            sources.append(CrisisSource(_("其他诉求"), complaint.demands_other, found))
    return sources


def crisis_sources_for(complaint: Complaint) -> list[CrisisSource]:
    sources = complaint_crisis_sources(complaint)
    for finder in _crisis_source_finders:
        sources.extend(finder(complaint))
    return sources


def _earlier(user: User, complaint: Complaint) -> tuple[int, list[EarlierComplaint]]:
    """The same complainant's complaints submitted before this one, newest first, in one query:
    the window's count is the full number whatever the slice. All are counted (how often this
    person has complained is what triage weighs); only those ``user`` may open get a link."""
    rows = list(
        Complaint.objects.filter(complainant_id=complaint.complainant_id, submitted_at__lt=complaint.submitted_at)
        .exclude(pk=complaint.pk)
        .only("pk", "reference", "state", "category", "submitted_at")
        .annotate(
            total=Window(Count("pk")),
            may_open=Exists(access.visible(user, Complaint.objects.filter(pk=OuterRef("pk")))),
        )
        .order_by("-submitted_at", "-pk")[:EARLIER_SHOWN]
    )
    earlier = [
        EarlierComplaint(
            reference=c.reference if c.may_open else "",
            state=c.get_state_display() if c.may_open else "",
            category=c.get_category_display() if c.may_open else "",
            submitted_at=c.submitted_at,
            url=reverse("admin:complaints_complaint_change", args=[c.pk]) if c.may_open else "",
        )
        for c in rows
    ]
    return (rows[0].total if rows else 0), earlier


def triage_context(user: User, complaint_id: int | str) -> TriagePanel | None:
    """The panel for the case, or None when ``user`` may not see it."""
    complaint = (
        access.visible(user, Complaint.objects.select_related("session", "listener"))
        .only(*PANEL_FIELDS)
        .filter(pk=complaint_id)
        .first()
    )
    if complaint is None:
        return None
    session, listener = complaint.session, complaint.listener
    holds = list(active_holds(listener).only("effect", "placed_at", "reason", "listener_id"))
    status, deciding = status_from(holds)
    count, earlier = _earlier(user, complaint)
    started = timezone.localtime(session.started_at, PLATFORM_TZ)
    return TriagePanel(
        order_no=session.order_no,
        channel=session.get_channel_display(),
        started_at=started,
        ended_at=started + timedelta(minutes=session.duration_minutes),
        duration_minutes=session.duration_minutes,
        amount=session.amount,
        rating=session.rating,
        listener_code=listener.code,
        listener_status=str(ListenerStatus(status).label),
        listener_status_reason=deciding.reason if deciding is not None else "",
        active_hold_count=len(holds),
        earlier_count=count,
        earlier=earlier,
        crisis=complaint.crisis,
        crisis_terms=list(complaint.crisis_terms),
        crisis_sources=crisis_sources_for(complaint) if complaint.crisis else [],
    )
