"""Evaluation."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from complaints.models import Complaint

from .grading import Grade


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
