"""Retention: archived cases past the retention period lose their personal data, and only they do."""

from datetime import date, timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db import DatabaseError, transaction
from django.utils import timezone

from complaints.models import Attachment, Complaint, ConflictDeclaration, TimelineEvent
from core.models import Notification
from evaluations.models import (
    Appeal,
    ContactRecord,
    Decision,
    Evaluation,
    Grade,
    InformationRequest,
    ListenerStatement,
    ListenerTask,
)
from supervision.metrics import Period, dashboard_metrics
from supervision.retention import PLACEHOLDER, anonymize_archived, retention_cutoff

from ..complaints.helpers import REAL_NAME, VALID_ID, file_complaint
from ..factories import UserFactory

pytestmark = pytest.mark.django_db


def _archived(archived_days_ago: int, **fields):
    """A complaint moved to archived that many days ago (the timeline says when)."""
    complaint = file_complaint(consent_ip="203.0.113.7")
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
    closed_old = file_complaint(consent_ip="203.0.113.7")
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


# --- everything a case holds ----------------------------------------------------------------

SECRET = "张晓明住在朝阳区，手机 13812345678"
# Each personal text field of each related model, filled with SECRET by _with_case_files.
TEXTS = {
    ContactRecord: (
        "summary",
        "expectations",
        "conflict_points",
        "evidence_notes",
        "confirmed_demands",
        "listener_account",
        "listener_understanding",
        "listener_view_of_demands",
    ),
    InformationRequest: ("question", "answer"),
    ListenerStatement: ("body", "shared_content", "shared_demands_other"),
    Evaluation: (
        "facts_rationale",
        "evidence_cited",
        "demand_rationale",
        "competence_rationale",
        "awareness_rationale",
        "outcome_rationale",
        "disagreements",
    ),
    Decision: ("adjustment_reason", "text_to_complainant", "text_to_listener", "listener_response_reason"),
    Appeal: ("reason", "outcome_note"),
    ConflictDeclaration: ("reason",),
}


def _with_case_files(complaint):
    """Fill every personal part of a case: contact records, questions, statement, evaluation,
    decision, appeal, conflict, evidence files, a listener task and notifications about it."""
    staff = UserFactory(roles=["reviewer"])
    fill = {model: dict.fromkeys(names, SECRET) for model, names in TEXTS.items()}
    Attachment.objects.create(
        complaint=complaint,
        file=default_storage.save(f"complaints/{complaint.pk}-chat", ContentFile(b"chat")),
        original_name="张晓明聊天记录.png",
        content_type="image/png",
        size=4,
        sha256="a" * 64,
        uploaded_by=complaint.complainant,
    )
    ContactRecord.objects.create(
        complaint=complaint,
        party="complainant",
        channel="phone",
        contacted_at=timezone.now(),
        recorded_by=staff,
        file=default_storage.save(f"tasks/{complaint.pk}-call", ContentFile(b"call")),
        file_name="通话录音.mp3",
        file_type="audio/mpeg",
        **fill[ContactRecord],
    )
    InformationRequest.objects.create(
        complaint=complaint, party="complainant", asked_by=staff, due_at=timezone.now(), **fill[InformationRequest]
    )
    ListenerStatement.objects.create(complaint=complaint, listener=complaint.listener, **fill[ListenerStatement])
    evaluation = Evaluation.objects.create(
        complaint=complaint, reviewer=staff, is_final=True, facts="substantiated", awareness=2, outcome="B",
        **fill[Evaluation],
    )  # fmt: skip
    decision = Decision.objects.create(
        complaint=complaint, evaluation=evaluation, grade=Grade.objects.get(level=2), measures=["feedback"],
        decided_by=staff, **fill[Decision],
    )  # fmt: skip
    Appeal.objects.create(decision=decision, party="complainant", appellant=complaint.complainant, **fill[Appeal])
    ConflictDeclaration.objects.create(complaint=complaint, reviewer=staff, **fill[ConflictDeclaration])
    ListenerTask.objects.create(
        decision=decision,
        listener=complaint.listener,
        kind="feedback",
        description="写一份书面反馈",
        due_at=timezone.now(),
        evidence=default_storage.save(f"tasks/{complaint.pk}-feedback", ContentFile(b"feedback")),
        evidence_note="已完成",
    )
    for recipient, link in (
        (complaint.complainant, f"/complaints/{complaint.reference}/"),
        (complaint.complainant, f"/complaints/{complaint.reference}/questions/"),
        (complaint.listener.user, f"/portal/complaints/{complaint.pk}/"),
        (staff, f"/review/{complaint.reference}/"),
        (staff, f"/admin/complaints/complaint/{complaint.pk}/change/"),
    ):
        Notification.objects.create(
            recipient=recipient, kind="complaint.message", subject=f"关于您的投诉 {complaint.reference}",
            body=SECRET, link=link, email_error=f"550 {recipient.email} rejected",
        )  # fmt: skip
    return complaint


@pytest.fixture
def full_cases(cases, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    for complaint in cases:
        _with_case_files(complaint)
    unrelated = Notification.objects.create(
        recipient=cases[0].complainant, kind="account", subject="欢迎", body=SECRET, link="/complaints/"
    )
    return (*cases, unrelated)


def _stored(complaint):
    return [
        *Attachment.objects.filter(complaint=complaint).values_list("file", flat=True),
        *ContactRecord.objects.filter(complaint=complaint).values_list("file", flat=True),
    ]


def _links(complaint):
    return Notification.objects.filter(
        link__in=[
            f"/complaints/{complaint.reference}/",
            f"/complaints/{complaint.reference}/questions/",
            f"/portal/complaints/{complaint.pk}/",
            f"/review/{complaint.reference}/",
            f"/admin/complaints/complaint/{complaint.pk}/change/",
        ]
    )


def test_the_run_anonymises_every_personal_part_of_an_eligible_case(full_cases, django_capture_on_commit_callbacks):
    old, recent, closed_old, unrelated = full_cases
    old_files = _stored(old)
    task_file = ListenerTask.objects.get(decision__complaint=old).evidence.name

    with django_capture_on_commit_callbacks(execute=True):
        report = anonymize_archived(before=retention_cutoff())

    # then: the complaint's own fields
    done = Complaint.objects.get(pk=old.pk)
    assert done.consent_ip is None
    assert (done.content, done.real_name) == (PLACEHOLDER, PLACEHOLDER)
    # every related free text
    for model, names in TEXTS.items():
        lookup = "decision__complaint" if model is Appeal else "complaint"
        for row in model.objects.filter(**{lookup: old}).values(*names):
            assert row == dict.fromkeys(names, PLACEHOLDER), model.__name__
    # evidence files: gone from storage, no name left
    attachment = Attachment.objects.get(complaint=old)
    record = ContactRecord.objects.get(complaint=old)
    assert (attachment.file.name, attachment.original_name, attachment.sha256) == ("", "", "")
    assert (record.file.name, record.file_name, record.file_type) == ("", "", "")
    assert old_files and not any(default_storage.exists(name) for name in old_files)
    # the listener's own task and its evidence stay
    task = ListenerTask.objects.get(decision__complaint=old)
    assert (task.evidence.name, task.evidence_note) == (task_file, "已完成") and default_storage.exists(task_file)
    # notifications about the case, to anyone: body gone, subject (reference only) kept
    assert set(_links(old).values_list("body", "email_error")) == {(PLACEHOLDER, "")}
    assert _links(old).filter(subject=f"关于您的投诉 {old.reference}").count() == 5
    # the report counts each kind
    assert report.counts == {
        "complaints": 1,
        "timeline_notes": 3,
        "attachments": 1,
        "contact_records": 1,
        "information_requests": 1,
        "listener_statements": 1,
        "evaluations": 1,
        "decisions": 1,
        "appeals": 1,
        "conflict_declarations": 1,
        "notifications": 6,  # the five above and the "complaint received" one sent on filing
        "files": 2,
    }
    # and nothing else changed
    assert Notification.objects.get(pk=unrelated.pk).body == SECRET
    for untouched in (recent, closed_old):
        fresh = Complaint.objects.get(pk=untouched.pk)
        assert (fresh.consent_ip, fresh.real_name, fresh.content) == ("203.0.113.7", REAL_NAME, untouched.content)
        for model, names in TEXTS.items():
            lookup = "decision__complaint" if model is Appeal else "complaint"
            for row in model.objects.filter(**{lookup: untouched}).values(*names):
                assert row == dict.fromkeys(names, SECRET), model.__name__
        assert Attachment.objects.get(complaint=untouched).original_name == "张晓明聊天记录.png"
        assert ContactRecord.objects.get(complaint=untouched).file_name == "通话录音.mp3"
        assert all(default_storage.exists(name) for name in _stored(untouched))
        assert _links(untouched).filter(body=SECRET).count() == 5
        assert not _links(untouched).filter(body=PLACEHOLDER).exists()


def test_a_dry_run_counts_each_kind_and_changes_nothing(full_cases, django_capture_on_commit_callbacks, capsys):
    old, *_rest = full_cases
    files = _stored(old)
    texts_before = {model: list(model.objects.order_by("pk").values_list(*names)) for model, names in TEXTS.items()}

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        report = anonymize_archived(before=retention_cutoff(), dry_run=True)
        call_command("anonymize_archived", "--dry-run")

    assert callbacks == []
    assert report.counts["notifications"] == 6 and report.counts["files"] == 2 and report.counts["appeals"] == 1
    assert {model: list(model.objects.order_by("pk").values_list(*names)) for model, names in TEXTS.items()} == (
        texts_before
    )
    assert Complaint.objects.get(pk=old.pk).consent_ip == "203.0.113.7"
    assert all(default_storage.exists(name) for name in files)
    assert _links(old).filter(body=SECRET).count() == 5
    out = capsys.readouterr().out
    assert "通知正文: 6" in out and "删除的存储文件: 2" in out and "未做任何修改" in out


def test_the_dashboard_figures_do_not_move(full_cases):
    period = Period(start=date(2000, 1, 1), end=timezone.localdate())

    def figures():
        data = dashboard_metrics(period)
        data.pop("computed_at")
        return data

    before = figures()
    anonymize_archived(before=retention_cutoff())

    assert figures() == before


def test_batches_each_commit_and_together_do_everything(cases, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    more = [_archived(5 * 365) for _ in range(4)]

    report = anonymize_archived(before=retention_cutoff(), batch_size=2)

    assert sorted(report.references) == sorted([cases[0].reference, *(c.reference for c in more)])
    assert not Complaint.objects.filter(pk__in=[c.pk for c in more]).exclude(content=PLACEHOLDER).exists()
    assert Complaint.objects.get(pk=cases[1].pk).content != PLACEHOLDER


def test_the_run_takes_a_constant_number_of_queries_per_batch(cases, settings, tmp_path, django_assert_max_num_queries):
    settings.MEDIA_ROOT = str(tmp_path)
    for _ in range(20):
        _with_case_files(_archived(5 * 365))

    with django_assert_max_num_queries(20):  # one batch: a select, the files, 11 updates, savepoints
        report = anonymize_archived(before=retention_cutoff())

    assert report.complaints == 21
