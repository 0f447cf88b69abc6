"""Appeals."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from .decision import Decision
from .investigation import Party


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
