"""Retention: archived cases past the retention period lose their personal data, and only they do."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import DatabaseError, transaction
from django.utils import timezone

from complaints.models import Complaint, TimelineEvent
from supervision.retention import PLACEHOLDER, anonymize_archived, retention_cutoff

from ..complaints.helpers import REAL_NAME, VALID_ID, file_complaint

pytestmark = pytest.mark.django_db


def _archived(archived_days_ago: int, **fields):
    """A complaint moved to archived that many days ago (the timeline says when)."""
    complaint = file_complaint()
    archived_at = timezone.now() - timedelta(days=archived_days_ago)
    Complaint.objects.filter(pk=complaint.pk).update(
        state="archived",
        resolution="已向张晓明本人电话说明，手机 13812345678。",
        satisfaction_score=4,
        satisfaction_comment="谢谢王老师的耐心。",
        **fields,
    )
    TimelineEvent.objects.create(
        complaint=complaint,
        kind=TimelineEvent.Kind.NOTE,
        note="投诉人张晓明来电补充了家庭住址。",
        created_at=archived_at - timedelta(days=1),
    )
    TimelineEvent.objects.create(
        complaint=complaint,
        kind=TimelineEvent.Kind.TRANSITION,
        from_state="closed",
        to_state="archived",
        transition="archive",
        note="已归档。",
        created_at=archived_at,
    )
    return Complaint.objects.get(pk=complaint.pk)


@pytest.fixture
def cases():
    old = _archived(4 * 365)
    recent = _archived(200)
    closed_old = file_complaint()
    Complaint.objects.filter(pk=closed_old.pk).update(state="closed", updated_at=timezone.now() - timedelta(days=2000))
    return old, recent, Complaint.objects.get(pk=closed_old.pk)


def test_the_cutoff_reads_retention_years_from_settings(settings):
    now = timezone.now()
    assert retention_cutoff(now) == now - timedelta(days=round(365.25 * 3))
    settings.RETENTION_YEARS = 1
    assert retention_cutoff(now) == now - timedelta(days=365)


def test_a_dry_run_changes_nothing_and_says_what_would_change(cases, capsys):
    old, recent, closed_old = cases
    before = {c.pk: (c.content, c.resolution, c.real_name) for c in Complaint.objects.all()}
    notes_before = list(TimelineEvent.objects.order_by("id").values_list("note", flat=True))

    call_command("anonymize_archived", "--dry-run")

    out = capsys.readouterr().out
    assert old.reference in out
    assert recent.reference not in out and closed_old.reference not in out
    assert "未做任何修改" in out
    after = {c.pk: (c.content, c.resolution, c.real_name) for c in Complaint.objects.all()}
    assert after == before
    assert list(TimelineEvent.objects.order_by("id").values_list("note", flat=True)) == notes_before


def test_the_run_anonymises_exactly_the_eligible_cases_and_keeps_statistics(cases):
    old, recent, closed_old = cases

    report = anonymize_archived(before=retention_cutoff())

    assert report.references == [old.reference]
    done = Complaint.objects.get(pk=old.pk)
    for name in ("real_name", "id_number", "phone", "content", "resolution", "satisfaction_comment"):
        assert getattr(done, name) == PLACEHOLDER, name
    assert done.demands_other == "" and done.rejection_reason == ""  # empty stays empty
    assert (done.state, done.category, done.satisfaction_score, done.listener_id, done.submitted_at) == (
        old.state,
        old.category,
        old.satisfaction_score,
        old.listener_id,
        old.submitted_at,
    )
    assert set(TimelineEvent.objects.filter(complaint=old).values_list("note", flat=True)) == {""}
    for untouched in (recent, closed_old):
        fresh = Complaint.objects.get(pk=untouched.pk)
        assert (fresh.real_name, fresh.id_number, fresh.content) == (REAL_NAME, VALID_ID, untouched.content)
        assert TimelineEvent.objects.filter(complaint=untouched).exclude(note="").exists()


def test_a_second_run_finds_nothing_more_to_do(cases):
    anonymize_archived(before=retention_cutoff())

    assert anonymize_archived(before=retention_cutoff()).complaints == 0


def test_the_timeline_stays_append_only_after_the_run(cases):
    old, _recent, _closed = cases
    anonymize_archived(before=retention_cutoff())

    with pytest.raises(DatabaseError), transaction.atomic():
        TimelineEvent.objects.filter(complaint=old).update(note="改写")


def test_the_command_reports_what_it_anonymised(cases, capsys):
    old, _recent, _closed = cases

    call_command("anonymize_archived")

    out = capsys.readouterr().out
    assert "已匿名化" in out and old.reference in out
    assert Complaint.objects.get(pk=old.pk).real_name == PLACEHOLDER
