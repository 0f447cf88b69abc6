import re
import uuid

import pgtrigger
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from core.crypto import EncryptedTextField
from core.masking import mask_id_number, mask_name, mask_phone
from listeners.models import ListenerProfile, ListeningSession


class ComplaintState(models.TextChoices):
    SUBMITTED = "submitted", _("已提交")
    TRIAGE = "triage", _("初步处理中")
    RESOLVED = "resolved", _("已直接处理")
    REJECTED = "rejected", _("不予受理")
    INVESTIGATION = "investigation", _("调查中")
    EVALUATION = "evaluation", _("专业评估中")
    DECIDED = "decided", _("已作出处理决定")
    FOLLOW_UP = "follow_up", _("跟进落实中")
    CLOSED = "closed", _("已结案")
    ARCHIVED = "archived", _("已归档")
    WITHDRAWN = "withdrawn", _("已撤回")


S = ComplaintState
# States in which the case is still being worked on (duplicates, queues, deadlines).
OPEN_STATES = [S.SUBMITTED, S.TRIAGE, S.INVESTIGATION, S.EVALUATION, S.DECIDED, S.FOLLOW_UP]
# The complainant may withdraw until a decision is made.
WITHDRAWABLE_STATES = [S.SUBMITTED, S.TRIAGE, S.INVESTIGATION, S.EVALUATION]


class Category(models.TextChoices):
    CALL_QUALITY = "call_quality", _("通话质量")
    ORDER_ANOMALY = "order_anomaly", _("订单异常")
    PROFESSIONAL_COMPETENCE = "professional_competence", _("专业能力")
    ETHICS = "ethics", _("职业伦理")
    OTHER = "other", _("其他")


# Categories the consultant handles directly; the others go to the professional group.
DIRECT_CATEGORIES = {Category.CALL_QUALITY, Category.ORDER_ANOMALY}


class Priority(models.IntegerChoices):
    LOW = 1, _("低")
    NORMAL = 2, _("普通")
    HIGH = 3, _("高")
    URGENT = 4, _("紧急")


class Demand(models.TextChoices):
    REFUND = "refund", _("退款")
    APOLOGY = "apology", _("道歉")
    EXPLANATION = "explanation", _("解释说明")
    LISTENER_HANDLING = "listener_handling", _("对倾听师进行处理")
    OTHER = "other", _("其他")


class IntakeChannel(models.TextChoices):
    WEB = "web", _("网页表单")
    API = "api", _("接口")
    PHONE = "phone", _("电话")
    EMAIL = "email", _("邮件")
    IN_PERSON = "in_person", _("当面")


class ConsentMethod(models.TextChoices):
    CHECKBOX = "checkbox", _("网页勾选")
    VERBAL = "verbal", _("口头同意（由工作人员记录）")


class ConsentText(models.Model):
    """A version of the real-name complaint consent (实名投诉知情同意书). Never edited once used."""

    version = models.CharField(_("版本"), max_length=32, unique=True)
    title = models.CharField(_("标题"), max_length=120)
    body = models.TextField(_("正文"))
    is_current = models.BooleanField(_("当前版本"), default=False)
    published_at = models.DateTimeField(_("发布时间"), default=timezone.now)

    class Meta:
        verbose_name = _("知情同意书")
        verbose_name_plural = _("知情同意书")
        constraints = [
            models.UniqueConstraint(
                fields=["is_current"], condition=models.Q(is_current=True), name="one_current_consent"
            )
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.version})"


class ReferenceSequence(models.Model):
    """Last reference number issued per year; bumped with one atomic upsert per complaint."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("编号序列")
        verbose_name_plural = _("编号序列")

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"


def _is_complainant(instance: "Complaint", user) -> bool:
    return user is not None and user.pk == instance.complainant_id


class Complaint(ConcurrentTransitionMixin, models.Model):
    """A complaint about one listening session. ``state`` moves only through complaints.services.

    ConcurrentTransitionMixin makes a save whose state changed underneath it fail, as a second
    guard behind the row lock the services take.
    """

    reference = models.CharField(_("投诉编号"), max_length=20, unique=True)
    complainant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="complaints", verbose_name=_("投诉人")
    )
    session = models.ForeignKey(
        ListeningSession, on_delete=models.PROTECT, related_name="complaints", verbose_name=_("倾诉订单")
    )
    listener = models.ForeignKey(
        ListenerProfile, on_delete=models.PROTECT, related_name="complaints", verbose_name=_("倾听师")
    )
    category = models.CharField(_("类别"), max_length=32, choices=Category.choices, default=Category.OTHER)
    priority = models.PositiveSmallIntegerField(_("优先级"), choices=Priority.choices, default=Priority.NORMAL)
    content = models.TextField(_("投诉内容"))
    demands = ArrayField(models.CharField(max_length=32, choices=Demand.choices), default=list, verbose_name=_("诉求"))
    demands_other = models.TextField(_("其他诉求"), blank=True)
    intake_channel = models.CharField(
        _("投诉渠道"), max_length=16, choices=IntakeChannel.choices, default=IntakeChannel.WEB
    )

    # Identity (实名): encrypted at rest, masked on screen, revealed only with a logged reason.
    real_name = EncryptedTextField(_("真实姓名"))
    id_number = EncryptedTextField(_("身份证号"))
    phone = EncryptedTextField(_("手机号"))

    consent_text = models.ForeignKey(ConsentText, on_delete=models.PROTECT, verbose_name=_("知情同意书版本"))
    consent_method = models.CharField(_("同意方式"), max_length=16, choices=ConsentMethod.choices)
    consent_at = models.DateTimeField(_("同意时间"))
    consent_ip = models.GenericIPAddressField(_("同意时 IP"), null=True, blank=True)
    consent_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("记录口头同意的工作人员"),
    )

    crisis = models.BooleanField(_("危机信号"), default=False, db_index=True)
    crisis_terms = ArrayField(models.CharField(max_length=64), default=list, blank=True, verbose_name=_("命中词"))
    duplicate_of = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("疑似重复")
    )
    merged_into = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="merged", verbose_name=_("合并至")
    )

    assigned_consultant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="consultant_complaints",
        verbose_name=_("负责顾问"),
    )
    assigned_reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reviewer_complaints",
        verbose_name=_("负责专业组成员"),
    )

    state = FSMField(_("状态"), max_length=20, choices=ComplaintState.choices, default=S.SUBMITTED, protected=True)
    resolution = models.TextField(_("处理结果"), blank=True)
    rejection_reason = models.TextField(_("不予受理理由"), blank=True)

    satisfaction_score = models.PositiveSmallIntegerField(
        _("满意度"), null=True, blank=True, choices=[(i, str(i)) for i in range(1, 6)]
    )
    satisfaction_comment = models.TextField(_("满意度评价"), blank=True)
    satisfaction_at = models.DateTimeField(_("评价时间"), null=True, blank=True)

    submitted_at = models.DateTimeField(_("提交时间"), default=timezone.now, db_index=True)
    first_response_due = models.DateTimeField(_("首次回应期限"), db_index=True)
    first_response_at = models.DateTimeField(_("首次回应时间"), null=True, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    # Bumped by every service write: a form or API call made on an older version is refused.
    version = models.PositiveIntegerField(default=1)
    # One complaint per form or Idempotency-Key, whatever the number of clicks.
    submission_key = models.UUIDField(null=True, blank=True, unique=True, editable=False)

    class Meta:
        verbose_name = _("投诉")
        verbose_name_plural = _("投诉")
        ordering = ["-submitted_at"]
        permissions = [
            ("triage_complaint", _("可初步处理投诉")),
            ("escalate_complaint", _("可将投诉转专业组")),
            ("evaluate_complaint", _("可进行专业评估")),
            ("decide_complaint", _("可作出和送达处理决定")),
            ("close_complaint", _("可结案和归档投诉")),
            ("merge_complaint", _("可合并重复投诉")),
            ("assign_complaint", _("可分派投诉")),
            ("reveal_identity", _("可查看投诉人身份信息")),
            ("view_all_complaints", _("可查看全部投诉")),
        ]
        indexes = [
            models.Index(fields=["state", "-priority", "submitted_at"]),
            models.Index(fields=["complainant", "session"]),
            # The supervision dashboard counts a period's complaints from this index alone.
            models.Index(
                fields=["submitted_at"],
                include=[
                    "state",
                    "category",
                    "intake_channel",
                    "satisfaction_score",
                    "listener",
                    "first_response_at",
                    "first_response_due",
                ],
                name="complaint_dashboard_idx",
            ),
            # ... and each listener's complaints in a period from this one.
            models.Index(fields=["listener", "submitted_at"], name="complaint_listener_period_idx"),
        ]

    def __str__(self) -> str:
        return self.reference

    # --- masked identity: what every screen shows ---------------------------
    @property
    def masked_real_name(self) -> str:
        return mask_name(self.real_name)

    @property
    def masked_id_number(self) -> str:
        return mask_id_number(self.id_number)

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def first_response_overdue(self) -> bool:
        return self.first_response_at is None and self.first_response_due < timezone.now()

    # --- conditions ---------------------------------------------------------
    def has_resolution(self) -> bool:
        return bool(self.resolution.strip())

    def has_rejection_reason(self) -> bool:
        return bool(self.rejection_reason.strip())

    def has_assigned_reviewer(self) -> bool:
        return self.assigned_reviewer_id is not None

    def has_merge_target(self) -> bool:
        return self.merged_into_id is not None and self.merged_into_id != self.pk

    # --- transitions: declarative, no side effects (services do the rest) ---
    @transition(field=state, source=S.SUBMITTED, target=S.TRIAGE, permission="complaints.triage_complaint")
    def start_triage(self) -> None:
        pass

    @transition(
        field=state,
        source=S.TRIAGE,
        target=S.RESOLVED,
        permission="complaints.triage_complaint",
        conditions=[has_resolution],
    )
    def resolve_directly(self) -> None:
        pass

    @transition(
        field=state,
        source=[S.SUBMITTED, S.TRIAGE],
        target=S.REJECTED,
        permission="complaints.triage_complaint",
        conditions=[has_rejection_reason],
    )
    def reject(self) -> None:
        pass

    @transition(
        field=state,
        source=S.TRIAGE,
        target=S.INVESTIGATION,
        permission="complaints.escalate_complaint",
        conditions=[has_assigned_reviewer],
    )
    def escalate(self) -> None:
        pass

    @transition(field=state, source=WITHDRAWABLE_STATES, target=S.WITHDRAWN, permission=_is_complainant)
    def withdraw(self) -> None:
        pass

    @transition(
        field=state,
        source=[S.SUBMITTED, S.TRIAGE],
        target=S.CLOSED,
        permission="complaints.merge_complaint",
        conditions=[has_merge_target],
    )
    def merge(self) -> None:
        pass

    @transition(field=state, source=S.INVESTIGATION, target=S.EVALUATION, permission="complaints.evaluate_complaint")
    def begin_evaluation(self) -> None:
        pass

    # evaluations.services checks the approved decision before calling the services behind these.
    @transition(field=state, source=S.EVALUATION, target=S.DECIDED, permission="complaints.decide_complaint")
    def decide(self) -> None:
        pass

    @transition(field=state, source=S.DECIDED, target=S.FOLLOW_UP, permission="complaints.decide_complaint")
    def start_follow_up(self) -> None:
        pass

    @transition(
        field=state,
        source=[S.RESOLVED, S.REJECTED, S.DECIDED, S.FOLLOW_UP],
        target=S.CLOSED,
        permission="complaints.close_complaint",
    )
    def close(self) -> None:
        pass

    @transition(field=state, source=[S.CLOSED, S.WITHDRAWN], target=S.ARCHIVED, permission="complaints.close_complaint")
    def archive(self) -> None:
        pass


class TimelineEvent(models.Model):
    """Append-only history of a complaint: every transition, note and assignment."""

    class Kind(models.TextChoices):
        TRANSITION = "transition", _("状态变更")
        NOTE = "note", _("备注")
        INFO_ADDED = "info_added", _("投诉人补充信息")
        ASSIGNMENT = "assignment", _("分派")
        DUPLICATE = "duplicate", _("疑似重复")
        MERGE = "merge", _("合并")
        CRISIS = "crisis", _("危机信号")

    complaint = models.ForeignKey(Complaint, on_delete=models.PROTECT, related_name="timeline")
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("操作人")
    )
    from_state = models.CharField(_("原状态"), max_length=20, choices=ComplaintState.choices, blank=True)
    to_state = models.CharField(_("新状态"), max_length=20, choices=ComplaintState.choices, blank=True)
    transition = models.CharField(_("操作"), max_length=32, blank=True)
    note = models.TextField(_("说明"), blank=True)
    visible_to_complainant = models.BooleanField(_("投诉人可见"), default=False)
    created_at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("处理记录")
        verbose_name_plural = _("处理记录")
        ordering = ["created_at", "id"]
        triggers = [pgtrigger.Protect(name="timeline_append_only", operation=pgtrigger.Update | pgtrigger.Delete)]

    def __str__(self) -> str:
        return f"{self.complaint_id} {self.kind} {self.created_at:%Y-%m-%d %H:%M}"


def attachment_path(instance: "Attachment", filename: str) -> str:
    # A random name, no user-supplied part: nothing to traverse, nothing to guess.
    return f"complaints/{timezone.now():%Y/%m}/{uuid.uuid4().hex}"


class Attachment(models.Model):
    """Evidence file. Served only by complaints.views.attachment_download after a permission check."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    complaint = models.ForeignKey(Complaint, on_delete=models.PROTECT, related_name="attachments")
    file = models.FileField(upload_to=attachment_path, max_length=200)
    original_name = models.CharField(_("文件名"), max_length=200)
    content_type = models.CharField(_("类型"), max_length=100)
    size = models.PositiveIntegerField(_("大小（字节）"))
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("上传时间"), default=timezone.now)

    class Meta:
        verbose_name = _("证据文件")
        verbose_name_plural = _("证据文件")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.original_name


REPLY_PLACEHOLDER = re.compile(r"\{(reference|order_no|listener)\}")


class ReplyTemplate(models.Model):
    """Reusable text for common resolutions. Placeholders: {reference}, {order_no}, {listener}."""

    title = models.CharField(_("名称"), max_length=80)
    category = models.CharField(_("适用类别"), max_length=32, choices=Category.choices, blank=True)
    body = models.TextField(_("正文"))
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("回复模板")
        verbose_name_plural = _("回复模板")
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title

    def render(self, complaint: Complaint) -> str:
        """The text with {reference}, {order_no} and {listener} filled in one pass.

        Staff write these texts, so they never reach ``str.format``: a stray brace or an
        attribute lookup such as ``{reference.__class__}`` stays plain text.
        """
        values = {
            "reference": complaint.reference,
            "order_no": complaint.session.order_no,
            "listener": complaint.listener.display_name,
        }
        return REPLY_PLACEHOLDER.sub(lambda m: values[m.group(1)], self.body)


class CrisisTerm(models.Model):
    """A phrase that signals risk to life. Maintained by supervisors in the admin."""

    phrase = models.CharField(_("词语"), max_length=64, unique=True)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("危机信号词")
        verbose_name_plural = _("危机信号词")
        ordering = ["phrase"]

    def __str__(self) -> str:
        return self.phrase


class ConflictDeclaration(models.Model):
    """A reviewer's own statement that they should not handle a case."""

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="conflicts")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(_("原因"))
    declared_at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        verbose_name = _("利益冲突声明")
        verbose_name_plural = _("利益冲突声明")
        constraints = [models.UniqueConstraint(fields=["complaint", "reviewer"], name="one_conflict_per_reviewer")]

    def __str__(self) -> str:
        return f"{self.complaint_id}: {self.reviewer_id}"
