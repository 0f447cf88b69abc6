"""The triage admin's own pages: each transition, a note, a reveal of identity, an entry on a
complainant's behalf and the bulk assignment.

Each view takes the ComplaintAdmin it is served from (for the object lookup, permissions and
the admin site's context), validates one form and calls one service. ComplaintAdmin.get_urls
points at them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from accounts.models import User
from accounts.typing import AuthedHttpRequest
from core.service_errors import add_service_errors

from .admin_forms import (
    AddNoteForm,
    BulkAssignForm,
    EscalateForm,
    MergeForm,
    NoteForm,
    OnBehalfComplaintForm,
    RejectForm,
    ResolveForm,
    RevealForm,
    VersionedForm,
)
from .models import Complaint, ConsentMethod, ConsentText, ReplyTemplate
from .selectors import timeline_for
from .services import (
    REVEALABLE_FIELDS,
    ComplaintConflict,
    can_reveal_identity,
    complaint_add_note,
    complaint_archive,
    complaint_assign,
    complaint_close,
    complaint_escalate,
    complaint_merge,
    complaint_reject,
    complaint_resolve,
    complaint_start_triage,
    complaint_submit,
    identity_reveal,
)

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

IDENTITY_LABELS = {
    "real_name": gettext_lazy("真实姓名"),
    "id_number": gettext_lazy("身份证号"),
    "phone": gettext_lazy("手机号"),
}


def reply_template_fill(template: ReplyTemplate, complaint: Complaint) -> str:
    return template.render(complaint)


# --- transitions the admin offers ----------------------------------------------------


@dataclass(frozen=True)
class TransitionAction:
    name: str
    label: StrOrPromise
    form_class: type[VersionedForm]
    run: Callable[[Complaint, Any, dict, int], Complaint]
    done: StrOrPromise
    # Where a service names a field differently from the form.
    field_map: dict[str, str] | None = None


ADMIN_TRANSITIONS: dict[str, TransitionAction] = {
    action.name: action
    for action in (
        TransitionAction(
            "start_triage",
            gettext_lazy("开始初步处理"),
            NoteForm,
            lambda c, u, d, v: complaint_start_triage(complaint=c, actor=u, note=d["note"], expected_version=v),
            gettext_lazy("已开始初步处理 %(ref)s。"),
        ),
        TransitionAction(
            "resolve_directly",
            gettext_lazy("直接处理完毕"),
            ResolveForm,
            lambda c, u, d, v: complaint_resolve(complaint=c, actor=u, resolution=d["resolution"], expected_version=v),
            gettext_lazy("%(ref)s 已处理完毕，处理结果已发送给投诉人。"),
        ),
        TransitionAction(
            "reject",
            gettext_lazy("不予受理"),
            RejectForm,
            lambda c, u, d, v: complaint_reject(complaint=c, actor=u, reason=d["reason"], expected_version=v),
            gettext_lazy("%(ref)s 已不予受理，理由已发送给投诉人。"),
        ),
        TransitionAction(
            "escalate",
            gettext_lazy("转专业组调查"),
            EscalateForm,
            lambda c, u, d, v: complaint_escalate(
                complaint=c, actor=u, reviewer=d["reviewer"], note=d["note"], expected_version=v
            ),
            gettext_lazy("%(ref)s 已转交专业组。"),
        ),
        TransitionAction(
            "merge",
            gettext_lazy("作为重复投诉合并"),
            MergeForm,
            lambda c, u, d, v: complaint_merge(duplicate=c, into=d["into"], actor=u, expected_version=v),
            gettext_lazy("%(ref)s 已合并到保留案件。"),
            {"into": "target_reference"},
        ),
        TransitionAction(
            "close",
            gettext_lazy("结案"),
            NoteForm,
            lambda c, u, d, v: complaint_close(complaint=c, actor=u, note=d["note"], expected_version=v),
            gettext_lazy("%(ref)s 已结案。"),
        ),
        TransitionAction(
            "archive",
            gettext_lazy("归档"),
            NoteForm,
            lambda c, u, d, v: complaint_archive(complaint=c, actor=u, note=d["note"], expected_version=v),
            gettext_lazy("%(ref)s 已归档。"),
        ),
    )
}


def _fsm_meta(name: str):
    return getattr(getattr(Complaint, name, None), "_django_fsm", None)


def may_ever_make(user: User, complaint: Complaint, name: str) -> bool:
    """The user holds the transition's permission, whatever the case's state now."""
    meta = _fsm_meta(name)
    return meta is not None and any(t.has_perm(complaint, user) for t in meta.transitions.values())


def is_open_now(complaint: Complaint, name: str) -> bool:
    meta = _fsm_meta(name)
    return meta is not None and meta.has_transition(complaint.state)


def transitions_for(user: User, complaint: Complaint) -> list[TransitionAction]:
    """The admin's transitions this user may make on the case in its current state.

    Not ``get_available_user_state_transitions``: that one also checks the transitions'
    conditions (a resolution, a reason, a reviewer), which are what the transition's form
    asks for, so resolve, reject and escalate would never get a button.
    """
    state = complaint.state
    return [
        action
        for name, action in ADMIN_TRANSITIONS.items()
        if is_open_now(complaint, name) and _fsm_meta(name).has_transition_perm(complaint, state, user)
    ]


# --- the pages --------------------------------------------------------------------


def complaint_or_404(model_admin: admin.ModelAdmin, request: AuthedHttpRequest, object_id: str) -> Complaint:
    complaint = model_admin.get_object(request, unquote(object_id))
    if complaint is None:
        raise Http404(_("没有找到这个案件。"))
    if not model_admin.has_view_permission(request, complaint):
        raise PermissionDenied
    return complaint


def change_url(complaint: Complaint) -> str:
    return reverse("admin:complaints_complaint_change", args=[complaint.pk])


def render(
    model_admin: admin.ModelAdmin, request: AuthedHttpRequest, template: str, context: dict[str, Any]
) -> TemplateResponse:
    base = {**model_admin.admin_site.each_context(request), "opts": model_admin.opts}
    return TemplateResponse(request, f"admin/complaints/complaint/{template}", {**base, **context})


def transition_view(
    model_admin: admin.ModelAdmin, request: AuthedHttpRequest, object_id: str, name: str
) -> HttpResponse:
    action = ADMIN_TRANSITIONS.get(name)
    if action is None:
        raise Http404(_("没有这个操作。"))
    complaint = complaint_or_404(model_admin, request, object_id)
    if not may_ever_make(request.user, complaint, name):
        raise PermissionDenied
    if not is_open_now(complaint, name):
        messages.error(
            request,
            _("当前状态（%(state)s）下不能进行这个操作。") % {"state": complaint.get_state_display()},
        )
        return HttpResponseRedirect(change_url(complaint))

    form_kwargs: dict[str, Any] = {"complaint": complaint, "user": request.user}
    if request.method == "POST":
        form = action.form_class(request.POST, **form_kwargs)
        if form.is_valid():
            try:
                action.run(complaint, request.user, form.cleaned_data, form.cleaned_data["version"])
            except ComplaintConflict as exc:
                messages.error(request, str(exc))
                complaint = complaint_or_404(model_admin, request, object_id)
                if not is_open_now(complaint, name):
                    return HttpResponseRedirect(change_url(complaint))
                # Keep what was typed; the page now shows the case as it is.
                data = request.POST.copy()
                data["version"] = str(complaint.version)
                form = action.form_class(data, **{**form_kwargs, "complaint": complaint})
            except ValidationError as exc:
                add_service_errors(form, exc, action.field_map)
            else:
                messages.success(request, action.done % {"ref": complaint.reference})
                return HttpResponseRedirect(change_url(complaint))
    else:
        form = action.form_class(initial=_transition_initial(request, complaint, name), **form_kwargs)

    return render(
        model_admin,
        request,
        "transition.html",
        {
            "title": f"{action.label} · {complaint.reference}",
            "action": action,
            "complaint": complaint,
            "original": complaint,
            "form": form,
            "media": model_admin.media + form.media,
            "reply_templates": _reply_templates(complaint) if name == "resolve_directly" else [],
            "chosen_template": request.GET.get("template", ""),
            "recent_events": list(timeline_for(complaint, complainant_view=False))[-5:],
        },
    )


def _reply_templates(complaint: Complaint) -> list[ReplyTemplate]:
    """Those for the case's category first; the consultant may still pick any."""
    return sorted(ReplyTemplate.objects.filter(active=True), key=lambda t: t.category != complaint.category)


def _transition_initial(request: AuthedHttpRequest, complaint: Complaint, name: str) -> dict[str, Any]:
    version = request.GET.get("version", "")
    initial: dict[str, Any] = {"version": int(version) if version.isdigit() else complaint.version}
    if name == "resolve_directly":
        template_id = request.GET.get("template", "")
        template = (
            ReplyTemplate.objects.filter(pk=int(template_id), active=True).first() if template_id.isdigit() else None
        )
        initial["resolution"] = reply_template_fill(template, complaint) if template else complaint.resolution
    elif name == "escalate":
        initial["reviewer"] = complaint.assigned_reviewer_id
    elif name == "merge" and complaint.duplicate_of is not None:
        initial["target_reference"] = complaint.duplicate_of.reference
    return initial


def note_view(model_admin: admin.ModelAdmin, request: AuthedHttpRequest, object_id: str) -> HttpResponse:
    complaint = complaint_or_404(model_admin, request, object_id)
    if not request.user.is_case_staff:
        raise PermissionDenied
    form_kwargs: dict[str, Any] = {"complaint": complaint, "user": request.user}
    if request.method == "POST":
        form = AddNoteForm(request.POST, **form_kwargs)
        if form.is_valid():
            data = form.cleaned_data
            try:
                complaint_add_note(
                    complaint=complaint,
                    actor=request.user,
                    note=data["note"],
                    visible=data["visible"],
                    expected_version=data["version"],
                )
            except ComplaintConflict as exc:
                messages.error(request, str(exc))
                complaint = complaint_or_404(model_admin, request, object_id)
                fresh = request.POST.copy()
                fresh["version"] = str(complaint.version)
                form = AddNoteForm(fresh, **{**form_kwargs, "complaint": complaint})
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("处理记录已添加。"))
                return HttpResponseRedirect(change_url(complaint))
    else:
        form = AddNoteForm(initial={"version": complaint.version}, **form_kwargs)
    return render(
        model_admin,
        request,
        "note.html",
        {
            "title": _("添加处理记录 · %(ref)s") % {"ref": complaint.reference},
            "complaint": complaint,
            "original": complaint,
            "form": form,
        },
    )


def reveal_view(model_admin: admin.ModelAdmin, request: AuthedHttpRequest, object_id: str, field: str) -> HttpResponse:
    """Ask why, log it, and show the clear value on this response only (never in a URL or the session)."""
    if field not in REVEALABLE_FIELDS:
        raise Http404(_("不能查看这个字段。"))
    complaint = complaint_or_404(model_admin, request, object_id)
    if not can_reveal_identity(request.user, complaint):
        raise PermissionDenied
    revealed = None
    if request.method == "POST":
        form = RevealForm(request.POST)
        if form.is_valid():
            try:
                revealed = identity_reveal(
                    complaint=complaint,
                    actor=request.user,
                    field=field,
                    reason=form.cleaned_data["reason"],
                    request=request,
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
    else:
        form = RevealForm()
    response = render(
        model_admin,
        request,
        "reveal.html",
        {
            "title": _("查看%(label)s · %(ref)s") % {"label": IDENTITY_LABELS[field], "ref": complaint.reference},
            "complaint": complaint,
            "original": complaint,
            "field_label": IDENTITY_LABELS[field],
            "masked": getattr(complaint, f"masked_{field}"),
            "revealed": revealed,
            "form": form,
        },
    )
    response["Cache-Control"] = "no-store, private"
    return response


def on_behalf_add_view(model_admin: admin.ModelAdmin, request: AuthedHttpRequest) -> HttpResponse:
    """A complaint entered by staff for a complainant who called, wrote or came in."""
    if not model_admin.has_add_permission(request):
        raise PermissionDenied
    consent = ConsentText.objects.filter(is_current=True).first()
    if consent is None:
        messages.error(request, _("还没有发布当前版本的知情同意书，暂时不能登记投诉。"))
        return HttpResponseRedirect(reverse("admin:complaints_complaint_changelist"))
    form_kwargs: dict[str, Any] = {"admin_site": model_admin.admin_site, "consent": consent}
    if request.method == "POST":
        form = OnBehalfComplaintForm(request.POST, **form_kwargs)
        if form.is_valid():
            data = form.cleaned_data
            try:
                complaint = complaint_submit(
                    complainant=data["complainant"],
                    session=data["session"],
                    content=data["content"],
                    demands=data["demands"],
                    demands_other=data["demands_other"],
                    real_name=data["real_name"],
                    id_number=data["id_number"],
                    phone=data["phone"],
                    category=data["category"],
                    consent_text=consent,
                    consent_method=ConsentMethod.VERBAL,
                    consent_recorded_by=request.user,
                    intake_channel=data["intake_channel"],
                    submission_key=data["submission_key"],
                )
            except ValidationError as exc:
                add_service_errors(form, exc, {"consent": "consent_given", "files": "content"})
            else:
                model_admin.log_addition(request, complaint, [{"added": {}}])
                done = _("已代投诉人登记投诉 %(ref)s；投诉人可以在自己的账户里看到它。")
                messages.success(request, done % {"ref": complaint.reference})
                return HttpResponseRedirect(change_url(complaint))
    else:
        form = OnBehalfComplaintForm(**form_kwargs)
    return render(
        model_admin,
        request,
        "add_on_behalf.html",
        {
            "title": _("代投诉人登记投诉"),
            "form": form,
            "consent": consent,
            "media": model_admin.media + form.media,
            "add": True,
        },
    )


def bulk_assign(
    model_admin: admin.ModelAdmin, request: AuthedHttpRequest, queryset: QuerySet[Complaint]
) -> HttpResponse | None:
    """The changelist's "assign to a consultant" action: ask whom, then assign each case in turn."""
    form = BulkAssignForm(request.POST if "apply" in request.POST else None)
    if form.is_bound and form.is_valid():
        consultant: User = form.cleaned_data["consultant"]
        done, skipped = 0, []
        for complaint in queryset:
            try:
                complaint_assign(complaint=complaint, actor=request.user, consultant=consultant)
            except (ComplaintConflict, ValidationError):
                skipped.append(complaint.reference)
            else:
                done += 1
        model_admin.message_user(
            request,
            ngettext("已将 %(n)d 件投诉分派给 %(name)s。", "已将 %(n)d 件投诉分派给 %(name)s。", done)
            % {"n": done, "name": consultant.get_short_name()},
            messages.SUCCESS,
        )
        if skipped:
            model_admin.message_user(
                request,
                _("以下案件刚被其他人修改过，未分派：%(refs)s") % {"refs": "、".join(skipped)},
                messages.WARNING,
            )
        return None
    return render(
        model_admin,
        request,
        "bulk_assign.html",
        {
            "title": _("分派给咨询顾问"),
            "form": form,
            "queryset": queryset,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        },
    )
