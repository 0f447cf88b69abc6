from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from interviews.defaults import rubric_load
from interviews.models import MaterialKind
from interviews.selectors import rubric_items
from interviews.services import (
    interview_book,
    interview_hold,
    interview_request,
    interview_score,
    material_upload,
    panel_set,
    slot_publish,
)
from listeners.models import ListenerStatus

from ..factories import ListenerProfileFactory, UserFactory

START = datetime(2026, 3, 2, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n%%EOF\n"


@pytest.fixture(autouse=True)
def _rubric_and_media(db, settings, tmp_path):
    # A transactional test's flush removes what the data migration created.
    rubric_load()
    settings.MEDIA_ROOT = str(tmp_path)


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def supervisor(db):
    return UserFactory(roles=["supervisor"])


@pytest.fixture
def reviewer(db):
    return UserFactory(roles=["reviewer"])


@pytest.fixture
def observer(db):
    return UserFactory(roles=["reviewer"])


@pytest.fixture
def listener(db):
    return ListenerProfileFactory(status=ListenerStatus.ACTIVE)


@pytest.fixture
def interview(listener, supervisor):
    return interview_request(listener=listener, reason="处理决定要求进行胜任力考核面试。", actor=supervisor)


def pdf(name="report.pdf"):
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def upload_report(interview):
    return material_upload(
        interview=interview, kind=MaterialKind.CASE_REPORT, upload=pdf(), actor=interview.listener.user
    )


def publish(actor, starts_in: timedelta, minutes: int = 60):
    from django.utils import timezone

    starts = timezone.now() + starts_in
    return slot_publish(starts_at=starts, ends_at=starts + timedelta(minutes=minutes), actor=actor)


def scheduled(interview, supervisor, reviewer, observer):
    """Report in, a slot three days away booked, panel set."""
    upload_report(interview)
    slot = publish(supervisor, timedelta(days=3))
    interview = interview_book(interview=interview, slot=slot, actor=interview.listener.user)
    panel_set(interview=interview, main_interviewer=reviewer, observers=[observer], actor=supervisor)
    return interview, slot


def held(interview, supervisor, reviewer, observer, clock, minutes=50):
    interview, slot = scheduled(interview, supervisor, reviewer, observer)
    clock.move_to(slot.starts_at + timedelta(minutes=minutes + 5))
    return interview_hold(
        interview=interview,
        started_at=slot.starts_at,
        ended_at=slot.starts_at + timedelta(minutes=minutes),
        actor=reviewer,
    ), slot


def all_scores(value, identity=None):
    """Every item at ``value``; the identity-and-planning item (weight 10, alone in its area)
    at ``identity``, which moves the total by exactly its own value."""
    scores = {i.code: (Decimal(str(value)), f"{i.name}：表现说明") for i in rubric_items()}
    if identity is not None:
        scores["identity_planning"] = (Decimal(str(identity)), "专业认同说明")
    return scores


def scored(interview, supervisor, reviewer, observer, clock, value, identity=None):
    interview, _slot = held(interview, supervisor, reviewer, observer, clock)
    return interview_score(
        interview=interview, scores=all_scores(value, identity), feedback="整体反馈。", actor=reviewer
    )
