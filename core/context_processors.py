from functools import partial

from django.http import HttpRequest

from .notifications import unread_count


def notifications(request: HttpRequest) -> dict:
    """The bell's count, computed only if the page shows it (templates call callables)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"notifications_unread": partial(unread_count, user)}
