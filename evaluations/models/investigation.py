"""Investigation."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from complaints.models import Complaint
from listeners.models import ListenerProfile

from .tasks import task_evidence_path


class Party(models.TextChoices):
    COMPLAINANT = "complainant", _("投诉人")
    LISTENER = "listener", _("倾听师")


class ContactChannel(models.TextChoices):
    PHONE = "phone", _("电话")
    ONLINE = "online", _("线上会议")
    MESSAGE = "message", _("平台消息")
    IN_PERSON = "in_person", _("面谈")


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
