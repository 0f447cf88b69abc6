"""The interview staff pages: request, open booking, panel, held, no-show, score, send result,
release slot, cancel, and the material and plan-evidence downloads.

Each page is a method of a small class built from the ModelAdmin it is served under (for the
object lookup, permissions and the admin site's context); CompetencyInterviewAdmin.get_urls
routes to them. A page validates one form and calls one service.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from accounts.policy import is_supervisor as _is_supervisor
from accounts.roles import Role
from core.audit import access_log_write
from core.downloads import private_download

from .models import (
    OPEN_STATES,
    Band,
    CompetencyInterview,
    InterviewMaterial,
    InterviewPlanItem,
    InterviewSlot,
    InterviewState,
    PlanItemKind,
    ScoringArea,
)
from .selectors import rubric_items
from .services import (
    PLAN_DESCRIPTIONS,
    REAPPLY_AFTER_MONTHS,
    band_for,
    case_report_lead,
    interview_cancel,
    interview_hold,
    interview_mark_no_show,
    interview_open_scheduling,
    interview_release_slot,
    interview_request,
    interview_score,
    interview_send_result,
    lead_hours,
    panel_set,
    rubric_problems,
)
from .staff_forms import (
    CancelForm,
    ConfirmForm,
    HoldForm,
    PanelForm,
    RequestForm,
    ScoreForm,
    SendResultForm,
)

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


def _leads(user: User, interview: CompetencyInterview) -> bool:
    """The main interviewer or a supervisor: who may hold, mark no-show, score and send the result."""
    return _is_supervisor(user) or interview.main_interviewer_id == user.pk


def _may_see_plan_evidence(user: User, interview: CompetencyInterview) -> bool:
    """Those who may verify plan items (supervisors, reviewers) and the interview's panel."""
    return (
        _is_supervisor(user)
        or user.has_role(Role.REVIEWER)
        or interview.main_interviewer_id == user.pk
        or interview.observers.filter(pk=user.pk).exists()
    )


def _on_panel_or_supervisor(user: User, interview: CompetencyInterview) -> bool:
    """Who may read the listener's materials: the interview's panel and supervisors."""
    return (
        _is_supervisor(user)
        or interview.main_interviewer_id == user.pk
        or interview.observers.filter(pk=user.pk).exists()
    )


def posted(request: HttpRequest) -> Any:
    """The POST data on a POST (even an empty one), None on a GET: a confirm form has no fields."""
    return request.POST if request.method == "POST" else None


# name, button text, states the service accepts, who may act.
STAFF_ACTIONS: list[tuple[str, StrOrPromise, list[str], Callable[[User, CompetencyInterview], bool]]] = [
    ("open_scheduling", gettext_lazy("开放预约"), [InterviewState.REQUESTED], lambda u, _i: _is_supervisor(u)),
    ("hold", gettext_lazy("记录为已面试"), [InterviewState.SCHEDULED], _leads),
    ("no_show", gettext_lazy("记为未出席"), [InterviewState.SCHEDULED], _leads),
    (
        "release_slot",
        gettext_lazy("释放时段"),
        [InterviewState.MATERIALS_DUE],
        lambda u, _i: _is_supervisor(u),
    ),
    ("score", gettext_lazy("评分"), [InterviewState.HELD], _leads),
    ("send_result", gettext_lazy("发送结果"), [InterviewState.SCORED], _leads),
    ("cancel", gettext_lazy("取消面试"), list(OPEN_STATES), lambda u, _i: _is_supervisor(u)),
]
ACTIONS_BY_NAME = {a[0]: a for a in STAFF_ACTIONS}


class AdminPages:
    """Pages served under a ModelAdmin's URLs, with its object lookup and the admin site's context."""

    def __init__(self, model_admin: admin.ModelAdmin) -> None:
        self.model_admin = model_admin
        self.admin_site = model_admin.admin_site
        self.opts = model_admin.opts

    def get_object(self, request: HttpRequest, object_id: str) -> Any:
        return self.model_admin.get_object(request, object_id)


class InterviewStaffPages(AdminPages):
    """The pages CompetencyInterviewAdmin links from an interview's change page."""

    def urls(self) -> list[URLPattern]:
        views: list[tuple[str, Callable[..., HttpResponse]]] = [
            ("panel", self.panel_view),
            ("open_scheduling", self.open_scheduling_view),
            ("hold", self.hold_view),
            ("no_show", self.no_show_view),
            ("release_slot", self.release_slot_view),
            ("score", self.score_view),
            ("send_result", self.send_result_view),
            ("cancel", self.cancel_view),
        ]
        return [
            *(
                path(
                    f"<path:object_id>/{name.replace('_', '-')}/",
                    self.admin_site.admin_view(view),
                    name=f"interviews_competencyinterview_{name}",
                )
                for name, view in views
            ),
            path(
                "<path:object_id>/material/<int:material_pk>/",
                self.admin_site.admin_view(self.material_view),
                name="interviews_competencyinterview_material",
            ),
            path(
                "<path:object_id>/plan/<int:item_pk>/evidence/",
                self.admin_site.admin_view(self.plan_evidence_view),
                name="interviews_competencyinterview_plan_evidence",
            ),
        ]

    def _change_url(self, interview: CompetencyInterview) -> str:
        return reverse("admin:interviews_competencyinterview_change", args=[interview.pk])

    def _permitted(
        self, request: HttpRequest, object_id: str, allowed: Callable[[User, CompetencyInterview], bool]
    ) -> tuple[CompetencyInterview, User]:
        """The interview and the user, once ``allowed(user, interview)`` (else 403; 404 if none)."""
        interview = self.get_object(request, unquote(object_id))
        if interview is None:
            raise Http404
        user = request.user
        assert isinstance(user, User)
        if not allowed(user, interview):
            raise PermissionDenied
        return interview, user

    def _acting(self, request: HttpRequest, object_id: str, action: str) -> tuple[CompetencyInterview, User]:
        """The interview and the user, once the user may take ``action`` on it."""
        return self._permitted(request, object_id, ACTIONS_BY_NAME[action][3])

    def _state_refused(self, request: HttpRequest, interview: CompetencyInterview, action: str) -> bool:
        if interview.state in ACTIONS_BY_NAME[action][2]:
            return False
        messages.error(
            request, _("面试当前状态为“%(state)s”，不能进行这项操作。") % {"state": interview.get_state_display()}
        )
        return True

    def _page(
        self, request: HttpRequest, interview: CompetencyInterview, template: str, **extra: Any
    ) -> TemplateResponse:
        context = {**self.admin_site.each_context(request), "opts": self.opts, "interview": interview, **extra}
        return TemplateResponse(request, f"admin/interviews/competencyinterview/{template}", context)

    def _call(self, form: forms.Form, service: Callable[..., CompetencyInterview], **kwargs: Any) -> Any:
        """Call the service; its ValidationError lands on the form (by field, else above it) and
        the result is None. ScoreForm places item-keyed errors itself."""
        try:
            return service(**kwargs)
        except ValidationError as exc:
            field_for = getattr(form, "field_for", lambda key: key if key in form.fields else None)
            if hasattr(exc, "error_dict"):
                for key, errors in exc.message_dict.items():
                    form.add_error(field_for(key), errors)
            else:
                form.add_error(None, exc.messages)
            return None

    def request_view(self, request: HttpRequest) -> HttpResponse:
        """ "为倾听师安排面试": a listener code and a reason, through interview_request."""
        if not self.model_admin.has_add_permission(request):
            raise PermissionDenied
        user = request.user
        assert isinstance(user, User)
        form = RequestForm(posted(request))
        if form.is_valid():
            listener = form.cleaned_data["listener_code"]
            already = CompetencyInterview.objects.filter(
                listener=listener, complaint=None, state__in=OPEN_STATES
            ).exists()
            interview = interview_request(listener=listener, reason=form.cleaned_data["reason"], actor=user)
            if already:
                messages.warning(request, _("该倾听师已有未结束的面试，已为您打开。"))
            else:
                messages.success(request, _("已为倾听师提出面试，请开放预约并设置面试小组。"))
            return HttpResponseRedirect(self._change_url(interview))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "form": form,
            "title": _("为倾听师安排面试"),
        }
        return TemplateResponse(request, "admin/interviews/competencyinterview/request.html", context)

    def cancel_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        interview, user = self._acting(request, object_id, "cancel")
        if self._state_refused(request, interview, "cancel"):
            return HttpResponseRedirect(self._change_url(interview))
        form = CancelForm(posted(request))
        if form.is_valid() and self._call(
            form, interview_cancel, interview=interview, actor=user, reason=form.cleaned_data["reason"]
        ):
            messages.success(request, _("面试已取消，倾听师会收到通知。"))
            return HttpResponseRedirect(self._change_url(interview))
        return self._page(
            request,
            interview,
            "action.html",
            form=form,
            title=_("取消面试"),
            explanation=_(
                "取消后，已预约的时段会释放，相关期限一并取消；倾听师（以及已收到会议号的面试小组）会收到通知。"
            ),
            submit=_("确认取消面试"),
        )

    def _confirm_view(
        self,
        request: HttpRequest,
        object_id: str,
        name: str,
        service: Callable[..., Any],
        *,
        done: str,
        title: str,
        explanation: str,
        submit: str,
    ) -> HttpResponse:
        """A move with nothing to fill in: the page explains it, the POST is the confirmation."""
        interview, user = self._acting(request, object_id, name)
        if self._state_refused(request, interview, name):
            return HttpResponseRedirect(self._change_url(interview))
        form = ConfirmForm(posted(request))
        if form.is_valid() and self._call(form, service, interview=interview, actor=user):
            messages.success(request, done)
            return HttpResponseRedirect(self._change_url(interview))
        return self._page(
            request, interview, "action.html", form=form, title=title, explanation=explanation, submit=submit
        )

    def open_scheduling_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return self._confirm_view(
            request,
            object_id,
            "open_scheduling",
            interview_open_scheduling,
            done=_("已开放预约，倾听师会收到预约面试时段的通知。"),
            title=_("开放预约"),
            explanation=_("开放后，倾听师会收到通知，可以在门户中选择一个已发布的面试时段。"),
            submit=_("确认开放预约"),
        )

    def release_slot_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return self._confirm_view(
            request,
            object_id,
            "release_slot",
            interview_release_slot,
            done=_("时段已释放，倾听师提交个案报告后可以重新预约。"),
            title=_("释放时段"),
            explanation=_(
                "个案报告没有在面试前 %(hours)d 小时内提交。释放后，这个时段可供他人预约，倾听师会收到通知，"
                "提交个案报告后重新预约。"
            )
            % {"hours": lead_hours(case_report_lead())},
            submit=_("确认释放时段"),
        )

    def hold_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        interview, user = self._acting(request, object_id, "hold")
        if self._state_refused(request, interview, "hold"):
            return HttpResponseRedirect(self._change_url(interview))
        slot = InterviewSlot.objects.filter(interview=interview).first()
        initial = (
            {"started_at": timezone.localtime(slot.starts_at), "ended_at": timezone.localtime(slot.ends_at)}
            if slot
            else {}
        )
        form = HoldForm(posted(request), initial=initial)
        if form.is_valid() and self._call(
            form,
            interview_hold,
            interview=interview,
            started_at=form.cleaned_data["started_at"],
            ended_at=form.cleaned_data["ended_at"],
            actor=user,
        ):
            messages.success(request, _("已记录面试，结果与反馈须在一周内发出。"))
            return HttpResponseRedirect(self._change_url(interview))
        return self._page(
            request,
            interview,
            "action.html",
            form=form,
            title=_("记录为已面试"),
            explanation=_("请填写面试的实际开始和结束时间，面试时长须在 40 至 60 分钟之间。"),
            submit=_("记录为已面试"),
        )

    def no_show_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return self._confirm_view(
            request,
            object_id,
            "no_show",
            interview_mark_no_show,
            done=_("已记为未出席。"),
            title=_("记为未出席"),
            explanation=_("倾听师没有按时参加面试。记为未出席后，这次面试结束，相关期限一并取消。"),
            submit=_("确认记为未出席"),
        )

    def score_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        interview, user = self._acting(request, object_id, "score")
        if self._state_refused(request, interview, "score"):
            return HttpResponseRedirect(self._change_url(interview))
        form = ScoreForm(posted(request), items=list(rubric_items()))
        scored = form.is_valid() and self._call(
            form,
            interview_score,
            interview=interview,
            scores=form.scores(),
            feedback=form.cleaned_data["feedback"],
            actor=user,
        )
        if scored and scored.total_score is not None:
            total = scored.total_score
            messages.success(
                request,
                _("评分已保存：总分 %(total)s，对应结果：%(band)s。") % {"total": total, "band": band_for(total).label},
            )
            return HttpResponseRedirect(self._change_url(interview))
        problems = rubric_problems(ScoringArea.objects.prefetch_related("items"))
        return self._page(request, interview, "score.html", form=form, title=_("面试评分"), rubric_problems=problems)

    def send_result_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        interview, user = self._acting(request, object_id, "send_result")
        if self._state_refused(request, interview, "send_result"):
            return HttpResponseRedirect(self._change_url(interview))
        total = interview.total_score
        assert total is not None
        band = band_for(total)
        form = SendResultForm(posted(request), conditional=band == Band.CONDITIONAL, supervisor=_is_supervisor(user))
        if form.is_valid():
            data = form.cleaned_data
            options = {"interim_status": data["interim_status"]} if "interim_status" in data else {}
            if self._call(
                form, interview_send_result, interview=interview, actor=user, show_total=data["show_total"], **options
            ):
                messages.success(request, _("结果已发送给倾听师。"))
                return HttpResponseRedirect(self._change_url(interview))
        plan = (
            [(PlanItemKind(kind).label, text) for kind, text in PLAN_DESCRIPTIONS.items()] if band != Band.FAIL else []
        )
        return self._page(
            request,
            interview,
            "send_result.html",
            form=form,
            title=_("发送面试结果"),
            total=total,
            band=band,
            plan=plan,
            reapply_months=REAPPLY_AFTER_MONTHS if band == Band.FAIL else None,
        )

    def material_view(self, request: HttpRequest, object_id: str, material_pk: int) -> FileResponse:
        """A case report, second case report or CV, for the panel and supervisors; every download
        is logged, as these describe clients and the listener."""
        interview, user = self._permitted(request, object_id, _on_panel_or_supervisor)
        material = InterviewMaterial.objects.filter(interview=interview, pk=material_pk).first()
        if material is None or not material.file:
            raise Http404
        return _logged_download(
            request,
            user,
            material,
            "file",
            reason=_("面试材料"),
            filename=material.file_name or "material",
            content_type=material.content_type,
        )

    def plan_evidence_view(self, request: HttpRequest, object_id: str, item_pk: int) -> FileResponse:
        """A plan item's proof file, for those who may verify it; logged, as it may be health data."""
        interview, user = self._permitted(request, object_id, _may_see_plan_evidence)
        item = InterviewPlanItem.objects.filter(interview=interview, pk=item_pk).first()
        if item is None or not item.evidence:
            raise Http404
        return _logged_download(
            request,
            user,
            item,
            "evidence",
            reason=_("核实改进计划项"),
            filename=item.evidence_name or "evidence",
            content_type=item.evidence_type,
        )

    def panel_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        interview, user = self._permitted(request, object_id, lambda u, _i: _is_supervisor(u))
        initial = {"main_interviewer": interview.main_interviewer, "observers": list(interview.observers.all())}
        form = PanelForm(request.POST or None, initial=initial)
        if request.method == "POST" and form.is_valid():
            try:
                panel_set(
                    interview=interview,
                    main_interviewer=form.cleaned_data["main_interviewer"],
                    observers=form.cleaned_data["observers"],
                    actor=user,
                )
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                messages.success(request, _("面试小组已保存。"))
                return HttpResponseRedirect(reverse("admin:interviews_competencyinterview_change", args=[interview.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "interview": interview,
            "form": form,
            "title": _("设置面试小组"),
        }
        return TemplateResponse(request, "admin/interviews/competencyinterview/panel.html", context)


def _logged_download(
    request: HttpRequest, user, obj, field: str, *, reason: str, filename: str, content_type: str
) -> FileResponse:
    """Serve one of the interview's private files, writing the access-log row first."""
    access_log_write(actor=user, obj=obj, field=field, reason=reason, action="download", request=request)
    return private_download(getattr(obj, field), filename=filename, content_type=content_type)
