from celery import shared_task
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils import translation


@shared_task(
    bind=True,
    autoretry_for=(OSError,),
    retry_backoff=30,
    retry_backoff_max=1800,
    retry_jitter=True,
    max_retries=8,
)
def send_templated_email(self, user_id: int, template: str, context: dict) -> None:
    """Render ``emails/<template>.subject.txt`` / ``.body.txt`` in the recipient's language and send.

    Takes ids and plain data only, so a retry renders the same mail again.
    """
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if user is None or not user.email:
        return
    with translation.override(user.language):
        subject = render_to_string(f"emails/{template}.subject.txt", context).strip()
        body = render_to_string(f"emails/{template}.body.txt", {**context, "recipient": user.get_short_name()})
    send_mail(subject, body, None, [user.email])
