"""Query-string filters for the complaints API."""

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from .models import Category, Complaint, ComplaintState, Priority


class ComplaintFilter(django_filters.FilterSet):
    state = django_filters.MultipleChoiceFilter(choices=ComplaintState.choices, label=_("状态（可多选）"))
    category = django_filters.ChoiceFilter(choices=Category.choices, label=_("类别"))
    # Priority and the crisis flag are triage signals for staff; a complainant's filter on them
    # is ignored, so it cannot be used to learn how their case was flagged.
    priority = django_filters.TypedChoiceFilter(
        choices=Priority.choices, coerce=int, method="filter_for_staff", label=_("优先级（仅工作人员）")
    )
    crisis = django_filters.BooleanFilter(method="filter_for_staff", label=_("危机信号（仅工作人员）"))

    class Meta:
        model = Complaint
        fields = ["state", "category", "priority", "crisis"]

    def filter_for_staff(self, queryset: QuerySet[Complaint], name: str, value) -> QuerySet[Complaint]:
        user = getattr(self.request, "user", None)
        if user is None or not user.is_case_staff:
            return queryset
        return queryset.filter(**{name: value})
