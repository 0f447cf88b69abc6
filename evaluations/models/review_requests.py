"""The complainant's request for a review (复核申请) of how their complaint ended."""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from complaints.models import Complaint

from .decision import Decision


class ReviewRequestState(models.TextChoices):
    SUBMITTED = "submitted", _("等待安排复核人")
    REVIEWING = "reviewing", _("复核中")
    UPHELD = "upheld", _("维持原结论")
    CHANGED = "changed", _("变更原结论")


OPEN_REVIEW_STATES = [ReviewRequestState.SUBMITTED, ReviewRequestState.REVIEWING]


class ReviewRequest(models.Model):
    """One request per complaint, within 14 days of the outcome reaching the complainant; handled by
    someone who had no part in the outcome. ``decision`` is empty for a rejected or directly
    resolved complaint."""

    complaint = models.OneToOneField(Complaint, on_delete=models.PROTECT, related_name="review_request")
    decision = models.ForeignKey(Decision, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    complainant = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reasons = models.TextField(_("申请复核的理由"))
    crisis_terms = ArrayField(models.CharField(max_length=64), default=list, blank=True, verbose_name=_("命中词"))
    state = FSMField(
        _("状态"), max_length=16, choices=ReviewRequestState.choices, default=ReviewRequestState.SUBMITTED,
        protected=True,
    )  # fmt: skip
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("复核人"),
    )  # fmt: skip
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    assigned_at = models.DateTimeField(null=True, blank=True)
    outcome_note = models.TextField(_("复核结论说明"), blank=True)
    changes = models.TextField(_("变更内容"), blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("复核申请")
        verbose_name_plural = _("复核申请")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.complaint_id} {self.state}"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_REVIEW_STATES

    # --- transitions: declarative, no side effects (evaluations.services.review_requests moves them) ---
    @transition(field=state, source=ReviewRequestState.SUBMITTED, target=ReviewRequestState.REVIEWING)
    def assign(self) -> None:
        pass

    @transition(field=state, source=ReviewRequestState.REVIEWING, target=ReviewRequestState.UPHELD)
    def uphold(self) -> None:
        pass

    @transition(field=state, source=ReviewRequestState.REVIEWING, target=ReviewRequestState.CHANGED)
    def change(self) -> None:
        pass
