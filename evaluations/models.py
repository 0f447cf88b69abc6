"""Investigation records, scored evaluations, the grading scheme, decisions, listener tasks, appeals."""

import uuid

import pghistory
from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from complaints.models import Complaint
from listeners.models import ListenerProfile


class Measure(models.TextChoices):
    FEEDBACK = "feedback", _("书面反馈")
    CONTINUED_LEARNING = "continued_learning", _("继续学习")
    SUPERVISION_SESSIONS = "supervision_sessions", _("接受督导")
    PERSONAL_THERAPY = "personal_therapy", _("个人体验（个人咨询）")
    HIDE_PROFILE = "hide_profile", _("隐藏主页")
    SUSPEND_ORDERS = "suspend_orders", _("暂停接单")
    RETURN_TO_INTERNSHIP = "return_to_internship", _("退回实习")
    COMPETENCY_INTERVIEW = "competency_interview", _("胜任力考核面试")
    DELIST = "delist", _("清退")
    REPORT_TO_AUTHORITIES = "report_to_authorities", _("依法报告有关部门")


# Measures the listener must carry out and staff verify, each a ListenerTask.
TASK_MEASURES = [Measure.FEEDBACK, Measure.CONTINUED_LEARNING, Measure.SUPERVISION_SESSIONS, Measure.PERSONAL_THERAPY]


class Remedy(models.TextChoices):
    COORDINATION = "coordination", _("平台协调沟通")
    EXPLANATION = "explanation", _("解释说明")
    APOLOGY = "apology", _("道歉")
    PARTIAL_REFUND = "partial_refund", _("部分退款")
    FULL_REFUND = "full_refund", _("全额退款")
    COMPENSATION = "compensation", _("补偿")


MONEY_REMEDIES = [Remedy.PARTIAL_REFUND, Remedy.FULL_REFUND, Remedy.COMPENSATION]


@pghistory.track()
class Grade(models.Model):
    """One level of the grading scheme (分级处理). Data, edited by supervisors, with history."""

    level = models.PositiveSmallIntegerField(_("等级"), unique=True)
    name = models.CharField(_("名称"), max_length=60)
    meaning = models.TextField(_("适用情形"))
    measures = ArrayField(
        models.CharField(max_length=32, choices=Measure.choices), default=list, blank=True, verbose_name=_("倾听师处理")
    )
    remedies = ArrayField(
        models.CharField(max_length=32, choices=Remedy.choices), default=list, blank=True, verbose_name=_("用户补救")
    )
    requires_approval = models.BooleanField(_("须督导批准"), default=False)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("处理等级")
        verbose_name_plural = _("处理等级")
        ordering = ["level"]

    def __str__(self) -> str:
        return f"{self.level} · {self.name}"


class ReviewerAssignment(models.Model):
    """Who evaluates a case. The lead (the complaint's assigned reviewer) reconciles."""

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="reviewer_assignments")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    is_lead = models.BooleanField(_("主审"), default=False)
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    assigned_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("评估人")
        verbose_name_plural = _("评估人")
        constraints = [models.UniqueConstraint(fields=["complaint", "reviewer"], name="one_assignment_per_reviewer")]

    def __str__(self) -> str:
        return f"{self.complaint_id}: {self.reviewer_id}"


class Party(models.TextChoices):
    COMPLAINANT = "complainant", _("投诉人")
    LISTENER = "listener", _("倾听师")


class ContactChannel(models.TextChoices):
    PHONE = "phone", _("电话")
    ONLINE = "online", _("线上会议")
    MESSAGE = "message", _("平台消息")
    IN_PERSON = "in_person", _("面谈")


def task_evidence_path(instance: "ListenerTask", filename: str) -> str:
    return f"tasks/{timezone.now():%Y/%m}/{uuid.uuid4().hex}"


class ContactRecord(models.Model):
    """A conversation with one party during the investigation (seed 000 §二)."""

    complaint = models.ForeignKey(Complaint, on_delete=models.PROTECT, related_name="contact_records")
    party = models.CharField(_("对象"), max_length=16, choices=Party.choices)
    channel = models.CharField(_("方式"), max_length=16, choices=ContactChannel.choices)
    contacted_at = models.DateTimeField(_("联系时间"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    summary = models.TextField(_("概要"))
    # With the complainant
    expectations = models.TextField(_("期望与失望"), blank=True)
    conflict_points = models.TextField(_("冲突点"), blank=True)
    evidence_notes = models.TextField(_("证据"), blank=True)
    confirmed_demands = models.TextField(_("确认的诉求"), blank=True)
    # With the listener
    consent_disclosed = models.BooleanField(_("已告知投诉人签署了知情同意书"), default=False)
    listener_account = models.TextField(_("倾听师的陈述"), blank=True)
    listener_understanding = models.TextField(_("对投诉的理解"), blank=True)
    listener_view_of_demands = models.TextField(_("对诉求的看法"), blank=True)
    # A recording, chat export or note scan; served only to the case's reviewers and supervisors.
    file = models.FileField(upload_to=task_evidence_path, blank=True, max_length=200)
    file_name = models.CharField(_("附件"), max_length=200, blank=True)
    file_type = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("沟通记录")
        verbose_name_plural = _("沟通记录")
        ordering = ["contacted_at", "id"]

    def __str__(self) -> str:
        return f"{self.complaint_id} {self.party} {self.contacted_at:%Y-%m-%d}"


class InformationRequest(models.Model):
    """A question to one party through the platform, with its own answer form and deadline."""

    complaint = models.ForeignKey(Complaint, on_delete=models.PROTECT, related_name="information_requests")
    party = models.CharField(_("对象"), max_length=16, choices=Party.choices)
    question = models.TextField(_("问题"))
    asked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    asked_at = models.DateTimeField(default=timezone.now)
    due_at = models.DateTimeField(_("回复期限"))
    answer = models.TextField(_("回复"), blank=True)
    answered_at = models.DateTimeField(_("回复时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("补充信息请求")
        verbose_name_plural = _("补充信息请求")
        ordering = ["asked_at", "id"]

    def __str__(self) -> str:
        return f"{self.complaint_id} {self.party}"


class ListenerStatement(models.Model):
    """The listener's own account of the complained session: drafted, then submitted (read-only)."""

    complaint = models.OneToOneField(Complaint, on_delete=models.PROTECT, related_name="listener_statement")
    listener = models.ForeignKey(ListenerProfile, on_delete=models.PROTECT, related_name="statements")
    body = models.TextField(_("陈述"), blank=True)
    # What the group chose to share of the complaint, edited of anything that could identify the
    # complainant. Empty on statements asked for before this existed: the complaint's own text.
    shared_content = models.TextField(_("与倾听师分享的投诉内容"), blank=True)
    shared_demands_other = models.TextField(_("与倾听师分享的其他诉求"), blank=True)
    due_at = models.DateTimeField(_("提交期限"), null=True, blank=True)
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("倾听师陈述")
        verbose_name_plural = _("倾听师陈述")

    def __str__(self) -> str:
        return f"{self.complaint_id}"


class Facts(models.TextChoices):
    SUBSTANTIATED = "substantiated", _("属实且有证据")
    PARTLY = "partly", _("部分属实")
    NOT = "not", _("不属实或无法证实")


class Reasonableness(models.TextChoices):
    REASONABLE = "reasonable", _("合理")
    PARTLY = "partly", _("部分合理")
    UNREASONABLE = "unreasonable", _("不合理")


class Outcome(models.TextChoices):
    A = "A", _("A：没有明确不足，尊重倾听师意见，平台与用户协调")
    B = "B", _("B：存在不足、伦理或法律问题，按等级处理")


AWARENESS_SCALE = [
    (1, _("1 · 没有觉察")),
    (2, _("2 · 事后经提示才觉察")),
    (3, _("3 · 部分觉察")),
    (4, _("4 · 清楚觉察并能反思")),
]


class Evaluation(models.Model):
    """One reviewer's scoring of the four dimensions (seed 000 §二). Read-only once submitted.

    ``is_final`` marks the lead reviewer's reconciliation; the individual ones are kept.
    """

    complaint = models.ForeignKey(Complaint, on_delete=models.PROTECT, related_name="evaluations")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    is_final = models.BooleanField(_("最终评估"), default=False)
    # (1) Is the complaint true and evidenced?
    facts = models.CharField(_("投诉是否属实"), max_length=16, choices=Facts.choices, blank=True)
    facts_rationale = models.TextField(_("理由"), blank=True)
    evidence_cited = models.TextField(_("引用的证据"), blank=True)
    # (2) Is the demand reasonable?
    demand = models.CharField(_("诉求是否合理"), max_length=16, choices=Reasonableness.choices, blank=True)
    demand_rationale = models.TextField(_("理由"), blank=True)
    # (3) Competence, harm, inducing orders, illegality.
    finding_competence_gap = models.BooleanField(_("专业胜任力不足"), default=False)
    finding_subjective_harm = models.BooleanField(_("造成用户主观伤害"), default=False)
    finding_inducing_orders = models.BooleanField(_("诱导下单"), default=False)
    finding_illegality = models.BooleanField(_("涉嫌违法"), default=False)
    competence_rationale = models.TextField(_("理由"), blank=True)
    # (4) Awareness in the session, reflection while the complaint was handled.
    awareness = models.PositiveSmallIntegerField(
        _("倾诉中的觉察"), choices=AWARENESS_SCALE, null=True, blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(4)],
    )  # fmt: skip
    reflection = models.PositiveSmallIntegerField(
        _("处理过程中的反思"), choices=AWARENESS_SCALE, null=True, blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(4)],
    )  # fmt: skip
    awareness_rationale = models.TextField(_("理由"), blank=True)
    outcome = models.CharField(_("结论"), max_length=1, choices=Outcome.choices, blank=True)
    proposed_grade = models.ForeignKey(
        Grade, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("建议等级")
    )
    outcome_rationale = models.TextField(_("结论理由"), blank=True)
    disagreements = models.TextField(_("评估人之间的分歧"), blank=True)
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("专业评估")
        verbose_name_plural = _("专业评估")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["complaint", "reviewer"], condition=models.Q(is_final=False), name="one_evaluation_per_reviewer"
            ),
            models.UniqueConstraint(
                fields=["complaint"], condition=models.Q(is_final=True), name="one_final_evaluation"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.complaint_id} {self.reviewer_id}{' final' if self.is_final else ''}"

    @property
    def submitted(self) -> bool:
        return self.submitted_at is not None


class DecisionState(models.TextChoices):
    DRAFT = "draft", _("草稿")
    PENDING_APPROVAL = "pending_approval", _("待督导批准")
    APPROVED = "approved", _("已批准")
    NOTIFIED = "notified", _("已送达")


class ListenerResponse(models.TextChoices):
    PENDING = "pending", _("尚未沟通")
    AGREES = "agrees", _("同意")
    DISAGREES = "disagrees", _("不同意")


class Decision(ConcurrentTransitionMixin, models.Model):
    """The graded outcome of a case: measures for the listener, remedies for the complainant."""

    complaint = models.OneToOneField(Complaint, on_delete=models.PROTECT, related_name="decision")
    evaluation = models.ForeignKey(Evaluation, on_delete=models.PROTECT, related_name="+")
    grade = models.ForeignKey(Grade, on_delete=models.PROTECT, verbose_name=_("等级"))
    measures = ArrayField(models.CharField(max_length=32, choices=Measure.choices), default=list, blank=True)
    remedies = ArrayField(models.CharField(max_length=32, choices=Remedy.choices), default=list, blank=True)
    refund_amount = models.DecimalField(_("退款金额"), max_digits=10, decimal_places=2, null=True, blank=True)
    compensation_amount = models.DecimalField(_("补偿金额"), max_digits=10, decimal_places=2, null=True, blank=True)
    adjustment_reason = models.TextField(_("调整理由"), blank=True)
    text_to_complainant = models.TextField(_("给投诉人的说明"))
    text_to_listener = models.TextField(_("给倾听师的说明"))
    listener_response = models.CharField(
        _("倾听师意见"), max_length=16, choices=ListenerResponse.choices, default=ListenerResponse.PENDING
    )
    listener_response_reason = models.TextField(_("倾听师的理由"), blank=True)
    state = FSMField(
        _("状态"),
        max_length=20,
        choices=DecisionState.choices,
        default=DecisionState.DRAFT,
        protected=True,
        db_index=True,
    )
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    returned_reason = models.TextField(_("退回理由"), blank=True)
    notified_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("处理决定")
        verbose_name_plural = _("处理决定")
        permissions = [("approve_decision", _("可批准处理决定"))]

    def __str__(self) -> str:
        return f"{self.complaint_id} · {self.grade_id}"

    @property
    def needs_approval(self) -> bool:
        """Money remedies and serious grades need a supervisor (seed 001 3.2)."""
        return self.grade.requires_approval or any(r in MONEY_REMEDIES for r in self.remedies)

    def needs_no_approval(self) -> bool:
        return not self.needs_approval

    def approval_needed(self) -> bool:
        return self.needs_approval

    @transition(
        field=state, source=DecisionState.DRAFT, target=DecisionState.PENDING_APPROVAL, conditions=[approval_needed]
    )
    def request_approval(self) -> None:
        pass

    @transition(field=state, source=DecisionState.DRAFT, target=DecisionState.APPROVED, conditions=[needs_no_approval])
    def confirm(self) -> None:
        pass

    @transition(
        field=state,
        source=DecisionState.PENDING_APPROVAL,
        target=DecisionState.APPROVED,
        permission="evaluations.approve_decision",
    )
    def approve(self) -> None:
        pass

    @transition(
        field=state,
        source=DecisionState.PENDING_APPROVAL,
        target=DecisionState.DRAFT,
        permission="evaluations.approve_decision",
    )
    def send_back(self) -> None:
        pass

    @transition(field=state, source=DecisionState.APPROVED, target=DecisionState.NOTIFIED)
    def notify(self) -> None:
        pass


class TaskState(models.TextChoices):
    OPEN = "open", _("待完成")
    SUBMITTED = "submitted", _("已提交，待核实")
    VERIFIED = "verified", _("已核实")
    CANCELLED = "cancelled", _("已取消")


class ListenerTask(models.Model):
    """Something a decision asks the listener to do, with evidence of completion verified by staff."""

    # A complaint's decision, or another source (an ethics case) named generically below, so
    # higher apps reuse tasks without this app knowing them.
    decision = models.ForeignKey(Decision, on_delete=models.PROTECT, null=True, blank=True, related_name="tasks")
    source_type = models.ForeignKey(
        ContentType, on_delete=models.PROTECT, null=True, blank=True, related_name="+", editable=False
    )
    source_id = models.PositiveBigIntegerField(null=True, blank=True, editable=False)
    source = GenericForeignKey("source_type", "source_id")
    case_reference = models.CharField(_("案件编号"), max_length=32, blank=True)
    case_link = models.CharField(max_length=200, blank=True, editable=False)
    listener = models.ForeignKey(ListenerProfile, on_delete=models.PROTECT, related_name="tasks")
    kind = models.CharField(_("类型"), max_length=32, choices=Measure.choices)
    description = models.TextField(_("要求"))
    due_at = models.DateTimeField(_("期限"))
    # An FSM field so the runner moves it like every case; not protected, because an appeal's
    # rework cancels the tasks it drops in bulk (one UPDATE, as before).
    state = FSMField(_("状态"), max_length=16, choices=TaskState.choices, default=TaskState.OPEN)
    evidence = models.FileField(upload_to=task_evidence_path, blank=True, max_length=200)
    evidence_name = models.CharField(max_length=200, blank=True)
    evidence_type = models.CharField(max_length=100, blank=True)
    evidence_note = models.TextField(_("完成说明"), blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    verified_at = models.DateTimeField(null=True, blank=True)
    review_note = models.TextField(_("核实意见"), blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("倾听师任务")
        verbose_name_plural = _("倾听师任务")
        ordering = ["due_at", "id"]
        indexes = [models.Index(fields=["source_type", "source_id"], name="listenertask_source")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(decision__isnull=False)
                | models.Q(source_type__isnull=False, source_id__isnull=False),
                name="listener_task_has_source",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.listener_id}"

    @property
    def description_display(self) -> str:
        """The description in the reader's language when it is still the standard one of its kind
        (stored in the source language when the task was created); edited text as written."""
        from django.utils.translation import override

        from .measures import TASK_DESCRIPTIONS

        standard = TASK_DESCRIPTIONS.get(Measure(self.kind)) if self.kind in Measure.values else None
        if standard is None:
            return self.description
        with override(settings.LANGUAGE_CODE):
            source = str(standard)
        return str(standard) if self.description == source else self.description

    # --- transitions: declarative, no side effects (evaluations.services moves them) ---
    @transition(field=state, source=TaskState.OPEN, target=TaskState.SUBMITTED)
    def submit(self) -> None:
        pass

    @transition(field=state, source=TaskState.SUBMITTED, target=TaskState.VERIFIED)
    def verify(self) -> None:
        pass

    @transition(field=state, source=TaskState.SUBMITTED, target=TaskState.OPEN)
    def send_back(self) -> None:
        pass

    @transition(field=state, source=[TaskState.OPEN, TaskState.SUBMITTED], target=TaskState.CANCELLED)
    def cancel(self) -> None:
        pass


class AppealState(models.TextChoices):
    SUBMITTED = "submitted", _("已提交")
    REVIEWING = "reviewing", _("复核中")
    CONFIRMED = "confirmed", _("维持原决定")
    CHANGED = "changed", _("变更决定")
    ANNULLED = "annulled", _("撤销决定")


class Appeal(models.Model):
    """A listener's appeal (once, within 7 days) or a complainant's request to reopen (14 days after closing)."""

    decision = models.ForeignKey(Decision, on_delete=models.PROTECT, related_name="appeals")
    party = models.CharField(_("申请人身份"), max_length=16, choices=Party.choices)
    appellant = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(_("理由"))
    state = FSMField(_("状态"), max_length=16, choices=AppealState.choices, default=AppealState.SUBMITTED)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("复核专业组成员"),
    )  # fmt: skip
    supervisor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("复核督导"),
    )  # fmt: skip
    outcome_note = models.TextField(_("复核结论"), blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("申诉与复核")
        verbose_name_plural = _("申诉与复核")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["decision"], condition=models.Q(party="listener"), name="one_listener_appeal_per_decision"
            )
        ]

    def __str__(self) -> str:
        return f"{self.decision_id} {self.party} {self.state}"

    # --- transitions: declarative, no side effects (evaluations.services moves them) ---
    @transition(field=state, source=AppealState.SUBMITTED, target=AppealState.REVIEWING)
    def assign(self) -> None:
        pass

    @transition(field=state, source=AppealState.REVIEWING, target=AppealState.CONFIRMED)
    def confirm_decision(self) -> None:
        pass

    @transition(field=state, source=AppealState.REVIEWING, target=AppealState.CHANGED)
    def change_decision(self) -> None:
        pass

    @transition(field=state, source=AppealState.REVIEWING, target=AppealState.ANNULLED)
    def annul_decision(self) -> None:
        pass
