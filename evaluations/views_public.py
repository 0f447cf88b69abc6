"""The complainant's side of the investigation: questions the professional group asked them."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from accounts.typing import AuthedHttpRequest
from complaints.models import Complaint
from complaints.services import ComplaintConflict
from core.params import int_param

from .forms_public import AnswerForm
from .models import InformationRequest, Party
from .services import information_request_answer


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def complainant_questions(request: AuthedHttpRequest, reference: str) -> HttpResponse:
    # Someone else's reference is a 404: its existence is not theirs to learn.
    complaint = get_object_or_404(Complaint, reference=reference, complainant=request.user)
    questions = list(
        InformationRequest.objects.filter(complaint=complaint, party=Party.COMPLAINANT).order_by("asked_at", "id")
    )
    forms = {q.pk: AnswerForm(prefix=f"q{q.pk}") for q in questions if q.answered_at is None}
    if request.method == "POST":
        pk = int_param(request.POST.get("question")) or 0
        question = next((q for q in questions if q.pk == pk), None)
        if question is not None and question.answered_at is None:
            form = AnswerForm(request.POST, prefix=f"q{pk}")
            forms[pk] = form
            if form.is_valid():
                try:
                    information_request_answer(request=question, actor=request.user, answer=form.cleaned_data["answer"])
                except ValidationError as exc:
                    form.add_error("answer", exc.messages)
                except ComplaintConflict as exc:
                    messages.info(request, str(exc))
                    return redirect("complaint_questions", reference=reference)
                else:
                    messages.success(request, _("谢谢，您的回复已发送给专业组。"))
                    return redirect("complaint_questions", reference=reference)
    return render(
        request,
        "complaints/questions.html",
        {"complaint": complaint, "items": [(q, forms.get(q.pk)) for q in questions]},
    )
