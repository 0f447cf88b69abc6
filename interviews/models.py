import uuid

import pghistory
from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from complaints.models import Complaint
from listeners.models import ListenerProfile, ListenerStatus


class InterviewState(models.TextChoices):
    REQUESTED = "requested", _("已提出")
    SCHEDULING = "scheduling", _("预约中")
    MATERIALS_DUE = "materials_due", _("待提交材料")
    SCHEDULED = "scheduled", _("已安排")
    HELD = "held", _("已面试")
    SCORED = "scored", _("已评分")
    RESULT_SENT = "result_sent", _("已通知结果")
    CANCELLED = "cancelled", _("已取消")
    NO_SHOW = "no_show", _("未出席")


# States in which the interview is still ahead of the listener.
OPEN_STATES = [
    InterviewState.REQUESTED,
    InterviewState.SCHEDULING,
    InterviewState.MATERIALS_DUE,
    InterviewState.SCHEDULED,
]


class Band(models.TextChoices):
    PASS = "pass", _("合格：继续执业，按改进计划提升")
    CONDITIONAL = "conditional", _("基本合格：完成改进计划后恢复接单")
    FAIL = "fail", _("不合格：清退，六个月后可重新申请")


# What a supervisor may choose for a listener in the 60–70 band until the plan is done.
INTERIM_STATUSES = [ListenerStatus.HIDDEN, ListenerStatus.SUSPENDED, ListenerStatus.INTERNSHIP]


# Every state change and result is kept in an append-only event table (who is in the *_by fields).
@pghistory.track(
    fields=[
        "state",
        "main_interviewer",
        "meeting_number",
        "held_started_at",
        "held_ended_at",
        "total_score",
        "band",
        "interim_status",
        "result_sent_at",
        "eligible_to_reapply_at",
        "cancel_reason",
    ],
    append_only=True,
    model_name="CompetencyInterviewEvent",
)
class CompetencyInterview(models.Model):
    """The interview that decides whether a listener keeps practising (seed 000 附).

    Opened by a decision's measure or by a supervisor. Every change goes through
    ``interviews.services``; the transitions below only move ``state``.
    """

    listener = models.ForeignKey(ListenerProfile, on_delete=models.PROTECT, related_name="interviews")
    complaint = models.ForeignKey(
        Complaint,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="interviews",
        verbose_name=_("相关投诉"),
    )
    reason = models.TextField(_("原因"))
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    state = FSMField(
        _("状态"), max_length=20, choices=InterviewState.choices, default=InterviewState.REQUESTED, protected=True
    )
    created_at = models.DateTimeField(default=timezone.now)

    meeting_number = models.CharField(_("会议号"), max_length=20, blank=True)
    main_interviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="interviews_led",
        verbose_name=_("主面试官"),
    )
    observers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="interviews_observed", verbose_name=_("观察员")
    )
    held_started_at = models.DateTimeField(_("面试开始"), null=True, blank=True)
    held_ended_at = models.DateTimeField(_("面试结束"), null=True, blank=True)
    total_score = models.DecimalField(_("总分"), max_digits=5, decimal_places=2, null=True, blank=True)
    feedback = models.TextField(_("总体反馈"), blank=True)
    scored_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    scored_at = models.DateTimeField(_("评分时间"), null=True, blank=True)
    band = models.CharField(_("结果"), max_length=16, choices=Band.choices, blank=True)
    interim_status = models.CharField(_("改进期间状态"), max_length=16, choices=ListenerStatus.choices, blank=True)
    result_sent_at = models.DateTimeField(_("结果通知时间"), null=True, blank=True)
    # Whether the listener was shown the total with the result: fixed when the result is sent, so a
    # later change of the setting does not reveal or hide it after the fact.
    total_shown = models.BooleanField(_("向倾听师显示总分"), default=False)
    eligible_to_reapply_at = models.DateTimeField(_("可重新申请时间"), null=True, blank=True)
    cancel_reason = models.TextField(_("取消原因"), blank=True)
    # Bumped by every move (core.workflow): a page or call made on an older version is refused.
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("胜任力考核面试")
        verbose_name_plural = _("胜任力考核面试")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["meeting_number"],
                condition=~models.Q(meeting_number=""),
                name="interview_meeting_number_unique",
            ),
            models.CheckConstraint(
                condition=models.Q(total_score__isnull=True) | models.Q(total_score__gte=0, total_score__lte=100),
                name="interview_total_score_0_100",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.listener_id} {self.get_state_display()}"

    def has_panel(self) -> bool:
        return self.main_interviewer_id is not None and self.observers.exists()

    @staticmethod
    def _panel_named(instance: models.Model) -> bool:
        return isinstance(instance, CompetencyInterview) and instance.has_panel()

    @transition(field=state, source=InterviewState.REQUESTED, target=InterviewState.SCHEDULING)
    def open_scheduling(self) -> None:
        pass

    @transition(
        field=state, source=[InterviewState.REQUESTED, InterviewState.SCHEDULING], target=InterviewState.MATERIALS_DUE
    )
    def book(self) -> None:
        pass

    @transition(field=state, source=InterviewState.MATERIALS_DUE, target=InterviewState.SCHEDULED)
    def confirm(self) -> None:
        pass

    @transition(field=state, source=InterviewState.MATERIALS_DUE, target=InterviewState.SCHEDULING)
    def release_slot(self) -> None:
        pass

    @transition(field=state, source=InterviewState.SCHEDULED, target=InterviewState.HELD, conditions=[_panel_named])
    def hold(self) -> None:
        pass

    @transition(field=state, source=InterviewState.SCHEDULED, target=InterviewState.NO_SHOW)
    def mark_no_show(self) -> None:
        pass

    @transition(field=state, source=InterviewState.HELD, target=InterviewState.SCORED)
    def score(self) -> None:
        pass

    @transition(field=state, source=InterviewState.SCORED, target=InterviewState.RESULT_SENT)
    def send_result(self) -> None:
        pass

    @transition(field=state, source=OPEN_STATES, target=InterviewState.CANCELLED)
    def cancel(self) -> None:
        pass


class InterviewSlot(models.Model):
    """A time a staff member offers for an interview; a listener books one."""

    starts_at = models.DateTimeField(_("开始时间"), db_index=True)
    ends_at = models.DateTimeField(_("结束时间"))
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("发布人")
    )
    interview = models.OneToOneField(
        CompetencyInterview,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="slot",
        verbose_name=_("已预约的面试"),
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("面试时段")
        verbose_name_plural = _("面试时段")
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(condition=models.Q(ends_at__gt=models.F("starts_at")), name="slot_ends_after_start")
        ]

    def __str__(self) -> str:
        return f"{timezone.localtime(self.starts_at):%Y-%m-%d %H:%M}–{timezone.localtime(self.ends_at):%H:%M}"


class MaterialKind(models.TextChoices):
    CASE_REPORT = "case_report", _("被投诉个案的个案报告（必交）")
    SECOND_CASE_REPORT = "second_case_report", _("自选个案报告（可选）")
    CV = "cv", _("个人简历（可选）")


def material_path(instance: "InterviewMaterial", filename: str) -> str:
    # A random name, no user-supplied part.
    return f"interviews/{timezone.now():%Y/%m}/{uuid.uuid4().hex}"


class InterviewMaterial(models.Model):
    interview = models.ForeignKey(CompetencyInterview, on_delete=models.PROTECT, related_name="materials")
    kind = models.CharField(_("类型"), max_length=24, choices=MaterialKind.choices)
    file = models.FileField(upload_to=material_path, max_length=200)
    file_name = models.CharField(_("文件名"), max_length=200)
    content_type = models.CharField(max_length=100)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(_("上传时间"), default=timezone.now)

    class Meta:
        verbose_name = _("面试材料")
        verbose_name_plural = _("面试材料")
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.file_name}"


class ScoringArea(models.Model):
    """One of the six scored areas (DOMAIN §4). Weights are data: the area weights add up to 100."""

    code = models.SlugField(_("代码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=80)
    weight = models.DecimalField(_("权重（分）"), max_digits=5, decimal_places=2, validators=[MinValueValidator(0)])
    position = models.PositiveSmallIntegerField(_("顺序"), default=0)

    class Meta:
        verbose_name = _("评分维度")
        verbose_name_plural = _("评分维度")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class ScoringItem(models.Model):
    """A sub-item of an area, scored 0..max_score; an area's score is its weight times the
    weighted share of its items' scores."""

    area = models.ForeignKey(ScoringArea, on_delete=models.PROTECT, related_name="items")
    code = models.SlugField(_("代码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=80)
    weight = models.DecimalField(
        _("维度内权重"), max_digits=5, decimal_places=2, default=1, validators=[MinValueValidator(0)]
    )
    max_score = models.DecimalField(_("满分"), max_digits=5, decimal_places=2, default=10)
    position = models.PositiveSmallIntegerField(_("顺序"), default=0)

    class Meta:
        verbose_name = _("评分细项")
        verbose_name_plural = _("评分细项")
        ordering = ["area__position", "position", "id"]

    def __str__(self) -> str:
        return f"{self.area.name} · {self.name}"


class InterviewScore(models.Model):
    interview = models.ForeignKey(CompetencyInterview, on_delete=models.CASCADE, related_name="scores")
    item = models.ForeignKey(ScoringItem, on_delete=models.PROTECT, related_name="+")
    score = models.DecimalField(_("得分"), max_digits=5, decimal_places=2)
    comment = models.TextField(_("评语"))

    class Meta:
        verbose_name = _("面试评分")
        verbose_name_plural = _("面试评分")
        ordering = ["item__area__position", "item__position", "id"]
        constraints = [models.UniqueConstraint(fields=["interview", "item"], name="interview_score_once_per_item")]

    def __str__(self) -> str:
        return f"{self.item} {self.score}"


class PlanItemKind(models.TextChoices):
    STUDY = "study", _("专业学习")
    SUPERVISION = "supervision", _("接受督导")
    PERSONAL_THERAPY = "personal_therapy", _("个人体验（个人咨询）")


class PlanItemState(models.TextChoices):
    OPEN = "open", _("待完成")
    SUBMITTED = "submitted", _("已提交")
    VERIFIED = "verified", _("已核实")


def plan_evidence_path(instance: "InterviewPlanItem", filename: str) -> str:
    # A random name, no user-supplied part.
    return f"interviews/plan/{timezone.now():%Y/%m}/{uuid.uuid4().hex}"


@pghistory.track(
    fields=["state", "verified_by", "verified_at", "review_note"], append_only=True, model_name="InterviewPlanItemEvent"
)
class InterviewPlanItem(models.Model):
    """One item of the improvement plan an interview result gives the listener."""

    interview = models.ForeignKey(CompetencyInterview, on_delete=models.PROTECT, related_name="plan_items")
    kind = models.CharField(_("类型"), max_length=24, choices=PlanItemKind.choices)
    description = models.TextField(_("要求"))
    due_at = models.DateTimeField(_("期限"))
    state = models.CharField(_("状态"), max_length=16, choices=PlanItemState.choices, default=PlanItemState.OPEN)
    completion_note = models.TextField(_("完成说明"), blank=True)
    # Proof of completion; served only through permission-checked views, never by its storage URL.
    evidence = models.FileField(upload_to=plan_evidence_path, blank=True, max_length=200)
    evidence_name = models.CharField(_("证明文件"), max_length=200, blank=True)
    evidence_type = models.CharField(max_length=100, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    verified_at = models.DateTimeField(null=True, blank=True)
    review_note = models.TextField(_("核实意见"), blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("改进计划项")
        verbose_name_plural = _("改进计划项")
        ordering = ["due_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.interview_id}"
