"""``{% complaint_outcome complaint as outcome %}``: the outcome card's context on the complainant's page.

The page belongs to the complaints app, which sits below evaluations and cannot import it; the
template asks this tag instead, which asks evaluations.selectors_outcome.
"""

from typing import Any

from django import template

from complaints.models import Complaint

from ..selectors_outcome import complaint_outcome as outcome_for

register = template.Library()


@register.simple_tag(takes_context=True)
def complaint_outcome(context: template.Context, complaint: Complaint) -> dict[str, Any] | None:
    request = context.get("request")
    if request is None:
        return None
    return outcome_for(complaint, request.user)
