"""Audits."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from listeners.models import ListenerProfile, ListeningSession

from .ethics import EthicsCase


def _score_field(label):
    return models.PositiveSmallIntegerField(
        label, null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )


AUDIT_SCORE_FIELDS = ("score_boundaries", "score_empathy", "score_risk_assessment", "score_record_completeness")


class QualityAudit(models.Model):
    """One session drawn at random for a supervisor's quality review in a month (seed 002 §五,
    seed 003 录音抽检). Drawn by supervision.audits; scored on a 1–5 rubric; may open an ethics case."""

    listener = models.ForeignKey(
        ListenerProfile, on_delete=models.PROTECT, related_name="quality_audits", verbose_name=_("倾听师")
    )
    session = models.ForeignKey(
        ListeningSession, on_delete=models.PROTECT, related_name="quality_audits", verbose_name=_("倾诉订单")
    )
    # The first day of the month the session was drawn for.
    month = models.DateField(_("抽检月份"), db_index=True)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("抽检督导"),
    )
    score_boundaries = _score_field(_("专业边界"))
    score_empathy = _score_field(_("共情与倾听"))
    score_risk_assessment = _score_field(_("风险评估"))
    score_record_completeness = _score_field(_("记录完整性"))
    comment = models.TextField(_("抽检意见"), blank=True)
    completed_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    ethics_case = models.ForeignKey(
        EthicsCase,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="quality_audits",
        verbose_name=_("伦理案件"),
    )
    created_at = models.DateTimeField(_("抽取时间"), default=timezone.now)

    class Meta:
        verbose_name = _("录音抽检")
        verbose_name_plural = _("录音抽检")
        ordering = ["-month", "completed_at", "pk"]
        indexes = [models.Index(fields=["month", "listener"])]
        constraints = [
            models.UniqueConstraint(fields=["session", "month"], name="quality_audit_one_per_session_month"),
            *[
                models.CheckConstraint(
                    condition=models.Q(**{f"{f}__isnull": True}) | models.Q(**{f"{f}__gte": 1, f"{f}__lte": 5}),
                    name=f"quality_audit_{f}_1_5",
                )
                for f in AUDIT_SCORE_FIELDS
            ],
            models.CheckConstraint(
                condition=models.Q(completed_at__isnull=True)
                | models.Q(
                    reviewer__isnull=False,
                    score_boundaries__isnull=False,
                    score_empathy__isnull=False,
                    score_risk_assessment__isnull=False,
                    score_record_completeness__isnull=False,
                ),
                name="quality_audit_completed_has_scores",
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def reference(self) -> str:
        return f"CJ-{self.pk:06d}" if self.pk else "CJ-"

    @property
    def is_completed(self) -> bool:
        return self.completed_at is not None
