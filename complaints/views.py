import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from accounts.roles import Role
from accounts.typing import AuthedHttpRequest
from core.downloads import private_download
from listeners.models import ListeningSession

from .forms import AddInfoForm, ComplaintForm, SurveyForm, WithdrawForm
from .models import WITHDRAWABLE_STATES, Attachment, Complaint, ComplaintState, ConsentText
from .selectors import attachments_for, can_view_attachment, timeline_for
from .services import (
    ComplaintConflict,
    complaint_add_info,
    complaint_submit,
    complaint_survey_answer,
    complaint_withdraw,
)

# What each state means, in plain words for the person who complained.
STATE_EXPLAINED = {
    ComplaintState.SUBMITTED: gettext_lazy("我们已收到您的投诉，咨询顾问会在 24 小时内给您第一次回复。"),
    ComplaintState.TRIAGE: gettext_lazy("咨询顾问正在了解情况。"),
    ComplaintState.RESOLVED: gettext_lazy("咨询顾问已处理完毕，处理结果见下方记录。"),
    ComplaintState.REJECTED: gettext_lazy("这件投诉暂不符合受理范围，原因见下方记录。"),
    ComplaintState.INVESTIGATION: gettext_lazy("平台专业组正在调查，可能会联系您了解更多情况。"),
    ComplaintState.EVALUATION: gettext_lazy("专业组正在评估，很快会有结论。"),
    ComplaintState.DECIDED: gettext_lazy("平台已作出处理决定。"),
    ComplaintState.FOLLOW_UP: gettext_lazy("处理决定正在落实中。"),
    ComplaintState.CLOSED: gettext_lazy("这件投诉已结案。"),
    ComplaintState.ARCHIVED: gettext_lazy("这件投诉已结案并归档。"),
    ComplaintState.WITHDRAWN: gettext_lazy("您已撤回这件投诉。"),
}
HOTLINE = "12356"


def _complainant_only(request: AuthedHttpRequest) -> None:
    if not request.user.has_role(Role.COMPLAINANT):
        raise PermissionDenied(_("只有投诉人账户可以使用这个页面。"))


def _own_complaint(request: AuthedHttpRequest, reference: str) -> Complaint:
    # Someone else's reference is a 404, not a 403: its existence is not theirs to learn.
    return get_object_or_404(
        Complaint.objects.select_related("session", "listener", "consent_text"),
        reference=reference,
        complainant=request.user,
    )


@never_cache
@login_required
def complaint_list(request: AuthedHttpRequest) -> HttpResponse:
    _complainant_only(request)
    complaints = (
        Complaint.objects.filter(complainant=request.user)
        .select_related("session", "listener")
        .order_by("-submitted_at")
    )
    return render(request, "complaints/list.html", {"complaints": complaints})


@sensitive_post_parameters("real_name", "id_number", "phone")
@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def complaint_new(request: AuthedHttpRequest) -> HttpResponse:
    _complainant_only(request)
    consent = ConsentText.objects.get(is_current=True)
    form = ComplaintForm(
        request.POST or None,
        request.FILES or None,
        user=request.user,
        consent_text=consent,
        initial={"submission_key": uuid.uuid4(), "session": request.GET.get("session")},
    )
    reselect: list[str] = []
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                complaint = complaint_submit(
                    complainant=request.user,
                    session=data["session"],
                    category=data["category"],
                    content=data["content"],
                    demands=data["demands"],
                    demands_other=data["demands_other"],
                    real_name=data["real_name"],
                    id_number=data["id_number"],
                    phone=data["phone"],
                    consent_text=consent,
                    consent_ip=request.META.get("REMOTE_ADDR"),
                    files=data["evidence"],
                    submission_key=data["submission_key"],
                )
            except ValidationError as exc:
                _errors_onto_form(form, exc)
            else:
                return redirect("complaints:submitted", reference=complaint.reference)
        # Browsers cannot refill a file input: name the files that must be chosen again.
        reselect = [f.name or "" for f in request.FILES.getlist("evidence")]
    return render(
        request,
        "complaints/new.html",
        {
            "form": form,
            "consent": consent,
            "reselect": reselect,
            "has_sessions": ListeningSession.objects.filter(complainant=request.user).exists(),
        },
    )


def _errors_onto_form(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            field = {"files": "evidence"}.get(field, field)
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


@never_cache
@login_required
def complaint_submitted(request: AuthedHttpRequest, reference: str) -> HttpResponse:
    complaint = _own_complaint(request, reference)
    return render(request, "complaints/submitted.html", {"complaint": complaint, "hotline": HOTLINE})


@never_cache
@login_required
def complaint_detail(request: AuthedHttpRequest, reference: str) -> HttpResponse:
    return _detail_page(request, _own_complaint(request, reference))


def _detail_page(
    request: AuthedHttpRequest, complaint: Complaint, *, add_info_form: AddInfoForm | None = None, status: int = 200
) -> HttpResponse:
    return render(
        request,
        "complaints/detail.html",
        {
            "complaint": complaint,
            "explained": STATE_EXPLAINED.get(complaint.state, ""),
            "timeline": timeline_for(complaint, complainant_view=True),
            "attachments": attachments_for(complaint),
            "can_add_info": complaint.state in WITHDRAWABLE_STATES,
            "can_withdraw": complaint.state in WITHDRAWABLE_STATES,
            "can_survey": complaint.state in (ComplaintState.CLOSED, ComplaintState.ARCHIVED)
            and complaint.merged_into_id is None
            and complaint.satisfaction_at is None,
            "add_info_form": add_info_form or AddInfoForm(),
            "hotline": HOTLINE,
        },
        status=status,
    )


@never_cache
@login_required
@require_POST
def complaint_add_info_view(request: AuthedHttpRequest, reference: str) -> HttpResponse:
    """A refused addition (too many files, a file that is not evidence) shows the page again with
    the reason next to the field and the text as typed; nothing is stored from it."""
    complaint = _own_complaint(request, reference)
    form = AddInfoForm(request.POST, request.FILES)
    if not form.is_valid():
        return _detail_page(request, complaint, add_info_form=form, status=400)
    try:
        complaint_add_info(
            complaint=complaint,
            actor=request.user,
            text=form.cleaned_data["text"],
            files=form.cleaned_data["evidence"],
        )
    except ValidationError as exc:
        _errors_onto_form(form, exc)
        return _detail_page(request, complaint, add_info_form=form, status=400)
    except ComplaintConflict as exc:
        messages.error(request, str(exc))
        return redirect("complaints:detail", reference=reference)
    messages.success(request, _("补充信息已提交，处理人员会看到。"))
    return redirect("complaints:detail", reference=reference)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def complaint_withdraw_view(request: AuthedHttpRequest, reference: str) -> HttpResponse:
    complaint = _own_complaint(request, reference)
    form = WithdrawForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            complaint_withdraw(complaint=complaint, actor=request.user, reason=form.cleaned_data["reason"])
        except ComplaintConflict as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("投诉已撤回。如果以后需要，您可以重新提交。"))
        return redirect("complaints:detail", reference=reference)
    return render(request, "complaints/withdraw.html", {"complaint": complaint, "form": form})


@never_cache
@login_required
def attachment_download(request: AuthedHttpRequest, public_id: uuid.UUID) -> FileResponse:
    attachment = (
        Attachment.objects.select_related("complaint", "complaint__merged_into").filter(public_id=public_id).first()
    )
    if attachment is None or not can_view_attachment(request.user, attachment):
        raise Http404
    return private_download(attachment.file, filename=attachment.original_name, content_type=attachment.content_type)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def complaint_survey(request: AuthedHttpRequest, reference: str) -> HttpResponse:
    complaint = _own_complaint(request, reference)
    form = SurveyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            complaint_survey_answer(
                complaint=complaint,
                actor=request.user,
                score=form.cleaned_data["score"],
                comment=form.cleaned_data["comment"],
            )
        except ComplaintConflict as exc:
            messages.info(request, str(exc))
        else:
            messages.success(request, _("谢谢您的评价。"))
        return redirect("complaints:detail", reference=reference)
    return render(request, "complaints/survey.html", {"complaint": complaint, "form": form})
