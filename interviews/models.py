from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from complaints.models import Complaint
from listeners.models import ListenerProfile


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


class CompetencyInterview(models.Model):
    """The interview that decides whether a listener keeps practising (seed 000 附).

    Opened by a decision's measure or by a supervisor; scheduling, panel and scoring are
    built on this record by the interviews issue.
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

    class Meta:
        verbose_name = _("胜任力考核面试")
        verbose_name_plural = _("胜任力考核面试")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.listener_id} {self.get_state_display()}"

    @transition(
        field=state, source=[InterviewState.REQUESTED, InterviewState.SCHEDULING], target=InterviewState.CANCELLED
    )
    def cancel(self) -> None:
        pass
