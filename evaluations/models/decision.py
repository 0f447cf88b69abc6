"""Decision."""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from complaints.models import Complaint

from .evaluation import Evaluation
from .grading import MONEY_REMEDIES, Grade, Measure, Remedy


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
