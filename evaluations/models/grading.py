"""Grading."""

import pghistory
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from complaints.models import Complaint


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
