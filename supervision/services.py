"""Every change to an ethics case, a listener report or a confidentiality-break report goes
through here: locked, permission-checked, and written to the case history in one transaction."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.policy import is_supervisor
from accounts.roles import Role
from core.deadlines import deadline_open
from core.errors import Conflict, WrongState
from core.models import DeadlineKind
from core.notifications import notify
from core.workflow import Move, Workflow, transition_run, version_check
from evaluations.measures import interview_unfinished, measures_apply, open_tasks_of
from evaluations.models import Grade, ListenerResponse, Measure
from listeners.holds import holds_settle
from listeners.models import ListenerProfile

from .models import (
    BreakCategory,
    ConfidentialityBreakReport,
    EthicsCase,
    EthicsCaseEvent,
    EthicsCaseState,
    EthicsSource,
    ListenerReport,
    ReportKind,
)

if TYPE_CHECKING:
    from accounts.models import User

E = EthicsCaseState


RECORD_CHANGED = gettext_lazy("这条记录刚被其他人修改过。请刷新页面查看最新情况后再操作。")
# The conflict family's old name here: catching it catches stale versions and wrong states alike.
SupervisionConflict = Conflict


def supervisors() -> models.QuerySet:
    return get_user_model().objects.filter(groups__name=Role.SUPERVISOR, is_active=True)


def _require_supervisor(actor: User) -> None:
    if not is_supervisor(actor):
        raise PermissionDenied(_("只有督导可以进行这个操作。"))


# --- ethics cases ---------------------------------------------------------------------------


def ethics_case_link(case: EthicsCase) -> str:
    return reverse("supervision:ethics_detail", args=[case.pk])


def _event(case: EthicsCase, kind: str, *, actor: User | None, note: str = "", **fields) -> EthicsCaseEvent:
    return EthicsCaseEvent.objects.create(case=case, kind=kind, actor=actor, note=note, **fields)


def _case_for_update(case: EthicsCase) -> EthicsCase:
    return EthicsCase.objects.select_for_update(of=("self",)).get(pk=case.pk)


def _record(move: Move[EthicsCase]) -> None:
    _event(
        move.instance,
        EthicsCaseEvent.Kind.TRANSITION,
        actor=move.actor,
        note=move.note,
        from_state=move.from_state,
        to_state=move.to_state,
        transition=move.name,
    )


ETHICS_FLOW: Workflow[EthicsCase] = Workflow(model=EthicsCase, record=_record, stale_message=RECORD_CHANGED)
BREAK_REPORT_FLOW: Workflow[ConfidentialityBreakReport] = Workflow(
    model=ConfidentialityBreakReport, stale_message=RECORD_CHANGED
)


def _case_transition(
    case: EthicsCase,
    name: str,
    *,
    actor: User,
    note: str = "",
    prepare: dict | None = None,
    expected_version: int | None = None,
    condition_message: str = "",
) -> EthicsCase:
    return transition_run(
        ETHICS_FLOW,
        case,
        name,
        actor=actor,
        note=note,
        prepare=prepare,
        expected_version=expected_version,
        condition_message=condition_message,
    ).instance


@transaction.atomic
def ethics_case_open(
    *,
    listener: ListenerProfile,
    source: str,
    summary: str,
    actor: User,
) -> EthicsCase:
    """A supervisor opens an ethics case (anomaly cases are opened by the scan, in bulk)."""
    _require_supervisor(actor)
    if not summary.strip():
        raise ValidationError({"summary": [_("请写下案情摘要。")]})
    case = EthicsCase.objects.create(listener=listener, source=source, summary=summary.strip(), opened_by=actor)
    _event(case, EthicsCaseEvent.Kind.OPENED, actor=actor, to_state=case.state, note=case.summary)
    return case


@transaction.atomic
def ethics_case_start_investigating(
    *, case: EthicsCase, actor: User, note: str = "", expected_version: int | None = None
) -> EthicsCase:
    """Supervisors only. The investigation should breach confidentiality as little as it can."""
    return _case_transition(case, "start_investigating", actor=actor, note=note, expected_version=expected_version)


@transaction.atomic
def ethics_case_record_evaluation(
    *, case: EthicsCase, actor: User, evaluation_summary: str, grade: Grade, expected_version: int | None = None
) -> EthicsCase:
    """Record the evaluation and the proposed grade of the shared grading scheme. Supervisors only."""
    if not grade.active:
        raise ValidationError({"grade": [_("这个处理等级已停用。")]})
    return _case_transition(
        case,
        "evaluate",
        actor=actor,
        note=evaluation_summary.strip(),
        prepare={"evaluation_summary": evaluation_summary.strip(), "grade": grade},
        expected_version=expected_version,
        condition_message=_("请写下评估意见。"),
    )


def _decision_measures(grade: Grade, measures: list[str] | None, adjustment_reason: str) -> list[str]:
    """The grade's default measures, or others with a reason, as for a complaint's decision."""
    if measures is None or not measures:
        return list(grade.measures)
    unknown = [m for m in measures if m not in Measure.values]
    if unknown:
        raise ValidationError({"measures": [_("未知的处理措施：%(m)s") % {"m": "、".join(unknown)}]})
    chosen = [m for m in Measure.values if m in set(measures)]
    if set(chosen) != set(grade.measures) and not adjustment_reason.strip():
        raise ValidationError({"adjustment_reason": [_("处理措施与该等级的默认措施不同，请写明调整理由。")]})
    return chosen


@transaction.atomic
def ethics_case_decide(
    *,
    case: EthicsCase,
    actor: User,
    text_to_listener: str,
    grade: Grade | None = None,
    measures: list[str] | None = None,
    adjustment_reason: str = "",
    expected_version: int | None = None,
) -> EthicsCase:
    """Decide with the shared grading scheme and apply it as a complaint's decision is applied:
    tasks with deadlines, the status change (history names this case), an interview request.
    The listener is told; with nothing left for them to do the case closes at once."""
    locked = _case_for_update(case)
    chosen_grade = grade or locked.grade
    if chosen_grade is None:
        raise ValidationError({"grade": [_("请选择处理等级。")]})
    if not chosen_grade.active:
        raise ValidationError({"grade": [_("这个处理等级已停用。")]})
    if not text_to_listener.strip():
        raise ValidationError({"text_to_listener": [_("请写下给倾听师的说明。")]})
    chosen = _decision_measures(chosen_grade, measures, adjustment_reason)
    labels = "、".join(str(Measure(m).label) for m in chosen) or _("无")
    decided = _case_transition(
        locked,
        "decide",
        actor=actor,
        note=_("%(grade)s；处理措施：%(measures)s") % {"grade": chosen_grade, "measures": labels}
        + (f"\n{adjustment_reason.strip()}" if adjustment_reason.strip() else ""),
        prepare={
            "grade": chosen_grade,
            "measures": chosen,
            "adjustment_reason": adjustment_reason.strip(),
            "text_to_listener": text_to_listener.strip(),
            "decided_at": timezone.now(),
        },
        expected_version=expected_version,
        condition_message=_("请选择处理等级。"),
    )
    link = ethics_case_link(decided)
    tasks = measures_apply(
        listener=decided.listener,
        measures=chosen,
        actor=actor,
        reference=decided.reference,
        status_reason=_("伦理案件 %(ref)s（%(g)s 级）") % {"ref": decided.reference, "g": chosen_grade.level},
        source=decided,
        link=link,
        case_link=link,
    )
    notify(
        recipients=[decided.listener.user],
        kind="ethics.decided",
        template="ethics_decision",
        context={
            "reference": decided.reference,
            "grade": str(chosen_grade),
            "measures": labels,
            "text": decided.text_to_listener,
            "tasks": len(tasks),
        },
        link=reverse("portal:ethics_decisions") + f"#{decided.reference}",
    )
    if not tasks:
        return _case_transition(
            decided,
            "close",
            actor=actor,
            note=_("处理决定已送达倾听师，没有需要核实的任务，案件结案。"),
            prepare={"closed_at": timezone.now()},
        )
    return decided


@transaction.atomic
def ethics_case_add_note(
    *, case: EthicsCase, actor: User, note: str, expected_version: int | None = None
) -> EthicsCaseEvent:
    """What the investigation learned (a talk with the listener, a record seen), on the case's
    append-only history. Supervisors only; a closed case takes no more notes."""
    _require_supervisor(actor)
    locked = _case_for_update(case)
    version_check(locked, expected_version, RECORD_CHANGED)
    if locked.state == E.CLOSED:
        raise WrongState(_("案件已结案，不能再添加记录。"))
    if not note.strip():
        raise ValidationError({"note": [_("请写下记录内容。")]})
    return _event(locked, EthicsCaseEvent.Kind.NOTE, actor=actor, note=note.strip())


@transaction.atomic
def ethics_case_listener_respond(*, case: EthicsCase, actor: User, response: str, reason: str = "") -> EthicsCase:
    """The listener's agreement with the decision, or dissent with reasons, once; supervisors are told."""
    locked = _case_for_update(case)
    if locked.listener.user_id != actor.pk:
        raise PermissionDenied(_("只有被处理的倾听师本人可以回复。"))
    if locked.decided_at is None:
        raise WrongState(_("处理决定作出后才能回复意见。"))
    if locked.listener_response != ListenerResponse.PENDING:
        raise WrongState(_("您已经回复过对这个处理决定的意见。"))
    if response not in (ListenerResponse.AGREES, ListenerResponse.DISAGREES):
        raise ValidationError({"response": [_("请选择同意或不同意。")]})
    if response == ListenerResponse.DISAGREES and not reason.strip():
        raise ValidationError({"reason": [_("不同意时请写明理由。")]})
    locked.listener_response, locked.listener_response_reason = response, reason.strip()
    locked.listener_responded_at = timezone.now()
    locked.save(update_fields=["listener_response", "listener_response_reason", "listener_responded_at"])
    label = str(ListenerResponse(response).label)
    _event(
        locked,
        EthicsCaseEvent.Kind.NOTE,
        actor=actor,
        note=_("倾听师对处理决定的意见：%(r)s") % {"r": label}
        + (f"\n{locked.listener_response_reason}" if locked.listener_response_reason else ""),
    )
    notify(
        recipients=supervisors(),
        kind="ethics.listener_responded",
        template="ethics_listener_response",
        context={"reference": locked.reference, "response": label},
        link=ethics_case_link(locked),
        dedupe_key=f"ethics_listener_response:{locked.pk}",
    )
    return locked


def ethics_case_hold_ended(case: EthicsCase) -> str | None:
    """An ethics decision's hold ends once its tasks are verified and the interview it asked for
    (one with no complaint) is over."""
    if open_tasks_of(case).exists() or interview_unfinished(case.listener_id, None):
        return None
    return _("伦理案件 %(ref)s 的任务已全部完成。") % {"ref": case.reference}


def ethics_case_tasks_done(case: EthicsCase, actor: User) -> None:
    """Every task of the decision is verified: lift a temporary status and close the case."""
    locked = _case_for_update(case)
    if locked.state != E.DECIDED:
        return
    holds_settle(listener=ListenerProfile.objects.get(pk=locked.listener_id), actor=actor)
    _case_transition(
        locked,
        "close",
        actor=actor,
        note=_("处理决定的各项任务已核实，案件结案。"),
        prepare={"closed_at": timezone.now()},
    )


@transaction.atomic
def ethics_case_close(*, case: EthicsCase, actor: User, note: str, expected_version: int | None = None) -> EthicsCase:
    """Close at once when the case is unfounded (a note says why), or a decided case none of whose
    tasks is left open (the last verification closes it by itself)."""
    if not note.strip():
        raise ValidationError({"note": [_("请写明结案说明。")]})
    return _case_transition(
        case,
        "close",
        actor=actor,
        note=note.strip(),
        prepare={"closed_at": timezone.now()},
        expected_version=expected_version,
        condition_message=_("处理决定还有未核实的任务；任务全部核实后案件会自动结案。"),
    )


# --- reports about listeners ----------------------------------------------------------------


def listener_by_code(code: str) -> ListenerProfile:
    listener = ListenerProfile.objects.filter(code__iexact=code.strip()).first()
    if listener is None:
        raise ValidationError({"listener_code": [_("没有找到这个倾听师编号，请核对后重新填写。")]})
    return listener


@transaction.atomic
def listener_report_submit(
    *,
    kind: str,
    listener_code: str,
    content: str,
    reporter: User | None = None,
    contact: str = "",
) -> ListenerReport:
    """File a report about a listener: real-name when ``reporter`` is given, anonymous otherwise.

    A report never starts a complaint. Supervisors are told, without any detail of the report.
    """
    if kind not in ReportKind.values:
        raise ValidationError({"kind": [_("请选择举报类型。")]})
    if not content.strip():
        raise ValidationError({"content": [_("请写下您看到或经历的情况。")]})
    listener = listener_by_code(listener_code)
    report = ListenerReport.objects.create(
        kind=kind,
        listener_code=listener.code,
        listener=listener,
        content=content.strip(),
        anonymous=reporter is None,
        reporter=reporter,
        contact=contact.strip(),
    )
    notify(
        recipients=supervisors(),
        kind="supervision.report",
        template="ethics_report_received",
        context={"reference": str(report), "kind": str(report.get_kind_display())},
        link=reverse("supervision:report_detail", args=[report.pk]),
        dedupe_key=f"listener_report:{report.pk}",
    )
    return report


REPORT_SOURCE: dict[str, EthicsSource] = {ReportKind.RATING_MANIPULATION: EthicsSource.RATING_MANIPULATION_REPORT}


@transaction.atomic
def ethics_case_open_from_report(*, report: ListenerReport, actor: User, summary: str = "") -> EthicsCase:
    """Open an ethics case from a report (once: a second call returns the same case). Supervisors only."""
    _require_supervisor(actor)
    locked = ListenerReport.objects.select_for_update().get(pk=report.pk)
    if locked.ethics_case is not None:
        return locked.ethics_case
    if locked.anonymous:
        source = EthicsSource.ANONYMOUS_REPORT
    else:
        source = REPORT_SOURCE.get(locked.kind, EthicsSource.REAL_NAME_REPORT)
    text = summary.strip() or _("由举报 %(ref)s 立案：%(kind)s") % {
        "ref": str(locked),
        "kind": locked.get_kind_display(),
    }
    case = ethics_case_open(listener=locked.listener, source=source, summary=text, actor=actor)
    locked.ethics_case = case
    locked.save(update_fields=["ethics_case"])
    report.ethics_case = case
    return case


# --- confidentiality-break reports ----------------------------------------------------------


def break_report_link(report: ConfidentialityBreakReport) -> str:
    return reverse("supervision:confidentiality_detail", args=[report.pk])


@transaction.atomic
def confidentiality_report_file(
    *, reporter: User, category: str, what_happened: str, session_order_no: str = ""
) -> ConfidentialityBreakReport:
    """A listener reports an illegal act learned in a session. Every supervisor is told at once
    (urgent, no detail in the message) and the acknowledgement deadline opens (BREAK_ACK policy: one
    hour by default, counted around the clock; a breach escalates to every supervisor)."""
    listener = ListenerProfile.objects.filter(user=reporter).first()
    if listener is None or not reporter.has_role(Role.LISTENER):
        raise PermissionDenied(_("只有倾听师可以提交突破保密报告。"))
    if not what_happened.strip():
        raise ValidationError({"what_happened": [_("请写下经过。")]})
    if category not in BreakCategory.values:
        raise ValidationError({"category": [_("请选择情形。")]})
    report = ConfidentialityBreakReport.objects.create(
        reporter=reporter,
        listener=listener,
        category=category,
        session_order_no=session_order_no.strip(),
        what_happened=what_happened.strip(),
    )
    link = break_report_link(report)
    deadline = deadline_open(
        subject=report,
        kind=DeadlineKind.BREAK_ACK,
        label=report.reference,
        link=link,
        owner_role=Role.SUPERVISOR,
        starts_at=report.filed_at,
    )
    notify(
        recipients=supervisors(),
        kind="supervision.confidentiality_break",
        template="confidentiality_break_filed",
        context={
            "reference": report.reference,
            "category": str(report.get_category_display()),
            "due": date_format(timezone.localtime(deadline.due_at), "Y-m-d H:i"),
        },
        link=link,
        urgent=True,
        dedupe_key=f"confidentiality_break:{report.pk}",
    )
    return report


@transaction.atomic
def confidentiality_report_acknowledge(
    *, report: ConfidentialityBreakReport, actor: User, expected_version: int | None = None
) -> ConfidentialityBreakReport:
    """A supervisor takes the report; the acknowledgement deadline is met. Supervisors only."""
    _require_supervisor(actor)
    return transition_run(
        BREAK_REPORT_FLOW,
        report,
        "acknowledge",
        actor=actor,
        expected_version=expected_version,
        prepare={"acknowledged_at": timezone.now(), "acknowledged_by": actor},
        meet=[DeadlineKind.BREAK_ACK],
    ).instance


@transaction.atomic
def confidentiality_report_record_outcome(
    *,
    report: ConfidentialityBreakReport,
    actor: User,
    authority_notified: bool,
    outcome: str,
    authority_name: str = "",
    authority_notified_at=None,
    authority_notified_by: User | None = None,
    expected_version: int | None = None,
) -> ConfidentialityBreakReport:
    """Record what was done, and whether, when and by whom (a supervisor; ``actor`` unless
    another is named) the police or another authority was told. Acknowledges the report too if
    nobody had. Supervisors only."""
    _require_supervisor(actor)
    errors: dict[str, list] = {}
    if not outcome.strip():
        errors["outcome"] = [_("请写明处理结果。")]
    if authority_notified and not authority_name.strip():
        errors["authority_name"] = [_("请写明报告的部门。")]
    if authority_notified and authority_notified_at is not None and authority_notified_at > timezone.now():
        errors["authority_notified_at"] = [_("报告时间不能晚于现在。")]
    if authority_notified_by is not None and not is_supervisor(authority_notified_by):
        errors["authority_notified_by"] = [_("报告人须是督导。")]
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    prepare = {
        "authority_notified": authority_notified,
        "outcome": outcome.strip(),
        "outcome_recorded_at": now,
        "outcome_recorded_by": actor,
    }
    if authority_notified:
        prepare |= {
            "authority_name": authority_name.strip(),
            "authority_notified_at": authority_notified_at or now,
            "authority_notified_by": authority_notified_by or actor,
        }

    def acknowledge_too(locked: ConfidentialityBreakReport) -> list[str]:
        if locked.acknowledged_at is not None:
            return []
        locked.acknowledged_at, locked.acknowledged_by = now, actor
        return ["acknowledged_at", "acknowledged_by"]

    return transition_run(
        BREAK_REPORT_FLOW,
        report,
        "conclude",
        actor=actor,
        expected_version=expected_version,
        prepare=prepare,
        before_save=acknowledge_too,
        meet=[DeadlineKind.BREAK_ACK],
    ).instance
