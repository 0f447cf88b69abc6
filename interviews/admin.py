"""Interviews in the admin for supervisors and reviewers: a thin edge over interviews.services.

State, scores and materials are read-only here; slots are published, panels set, interviews moved
along (open scheduling, held, no-show, scored, result sent) and plan items verified through their
services, each from its own page. A page's button shows on the change page only to someone the
service would let act, and only in a state the service accepts; anyone else gets a 403.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from accounts.policy import is_supervisor as _is_supervisor
from accounts.roles import STAFF_ROLES, Role
from core.admin import PolicyAdmin
from core.audit import access_log_write
from core.downloads import private_download
from listeners.models import ListenerProfile, ListenerStatus

from .models import (
    INTERIM_STATUSES,
    OPEN_STATES,
    Band,
    CompetencyInterview,
    InterviewMaterial,
    InterviewPlanItem,
    InterviewScore,
    InterviewSlot,
    InterviewState,
    PlanItemKind,
    PlanItemState,
    ScoringArea,
    ScoringItem,
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
    plan_item_return,
    plan_item_verify,
    rubric_problems,
    slot_publish,
    slot_times_check,
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


def _posted(request: HttpRequest) -> Any:
    """The POST data on a POST (even an empty one), None on a GET: a confirm form has no fields."""
    return request.POST if request.method == "POST" else None


def _plain(number: Decimal) -> str:
    """10.00 as 10 and 7.50 as 7.5, for labels."""
    whole = number.to_integral_value()
    return str(whole) if number == whole else str(number.normalize())


def _plan_evidence_link(item: InterviewPlanItem) -> str:
    if not item.evidence_name:
        return "—"
    url = reverse("admin:interviews_competencyinterview_plan_evidence", args=[item.interview_id, item.pk])
    return format_html('<a href="{}">{}</a>', url, item.evidence_name)


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class SlotInline(ReadOnlyInline):
    model = InterviewSlot
    fields = ["starts_at", "ends_at", "published_by"]
    readonly_fields = ["starts_at", "ends_at", "published_by"]


class MaterialInline(ReadOnlyInline):
    model = InterviewMaterial
    fields = ["kind", "file_link", "content_type", "uploaded_at"]
    readonly_fields = ["kind", "file_link", "content_type", "uploaded_at"]

    @admin.display(description=gettext_lazy("文件"))
    def file_link(self, obj: InterviewMaterial) -> str:
        url = reverse("admin:interviews_competencyinterview_material", args=[obj.interview_id, obj.pk])
        return format_html('<a href="{}" data-testid="material-link">{}</a>', url, obj.file_name)


class ScoreInline(ReadOnlyInline):
    model = InterviewScore
    fields = ["item", "score", "comment"]
    readonly_fields = ["item", "score", "comment"]


class PlanItemInline(ReadOnlyInline):
    model = InterviewPlanItem
    fields = ["kind", "state", "due_at", "completion_note", "evidence_link", "verified_by", "verified_at"]
    readonly_fields = ["kind", "state", "due_at", "completion_note", "evidence_link", "verified_by", "verified_at"]

    @admin.display(description=gettext_lazy("完成证明"))
    def evidence_link(self, obj: InterviewPlanItem) -> str:
        return _plan_evidence_link(obj)


def _staff() -> QuerySet[User]:
    return User.objects.filter(is_active=True, groups__name__in=[r.value for r in STAFF_ROLES]).distinct()


class PanelForm(forms.Form):
    main_interviewer = forms.ModelChoiceField(
        label=gettext_lazy("主面试官"),
        queryset=User.objects.filter(
            is_active=True, groups__name__in=[Role.REVIEWER.value, Role.SUPERVISOR.value]
        ).distinct(),
    )
    observers = forms.ModelMultipleChoiceField(
        label=gettext_lazy("观察员"), queryset=User.objects.none(), widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["observers"].queryset = _staff()  # type: ignore[attr-defined]


class RequestForm(forms.Form):
    listener_code = forms.CharField(label=gettext_lazy("倾听师编号"), max_length=40)
    reason = forms.CharField(
        label=gettext_lazy("原因"),
        widget=forms.Textarea(attrs={"rows": 4, "cols": 80}),
        help_text=gettext_lazy("倾听师会在门户中看到这段原因。"),
    )

    def clean_listener_code(self) -> ListenerProfile:
        code = self.cleaned_data["listener_code"].strip()
        listener = ListenerProfile.objects.filter(code=code).first()
        if listener is None:
            raise forms.ValidationError(_("没有编号为 %(code)s 的倾听师。") % {"code": code})
        return listener


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("取消原因"),
        widget=forms.Textarea(attrs={"rows": 4, "cols": 80}),
        help_text=gettext_lazy("记录在面试中，并告知倾听师。"),
    )


class VerifyForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("核实意见"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
        help_text=gettext_lazy("可选，倾听师会看到。"),
    )


class SendBackForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("退回意见"),
        widget=forms.Textarea(attrs={"rows": 4, "cols": 80}),
        help_text=gettext_lazy("请写明需要倾听师补充或修改的内容，倾听师会看到。"),
    )


class ConfirmForm(forms.Form):
    """Nothing to fill in: the POST itself is the confirmation."""


def _local_datetime_field(label: StrOrPromise) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )


class HoldForm(forms.Form):
    started_at = _local_datetime_field(gettext_lazy("面试开始"))
    ended_at = _local_datetime_field(gettext_lazy("面试结束"))


class ScoreForm(forms.Form):
    """A score and a comment for every rubric item (``score_<code>``, ``comment_<code>``), and the
    written feedback. The ranges come from the rubric; interview_score checks them again."""

    feedback = forms.CharField(
        label=gettext_lazy("给倾听师的总体反馈"),
        widget=forms.Textarea(attrs={"rows": 6, "cols": 80}),
        help_text=gettext_lazy("倾听师会在结果通知和门户中看到这段反馈。"),
    )

    def __init__(self, *args: Any, items: list[ScoringItem], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.items = items
        for item in items:
            self.fields[f"score_{item.code}"] = forms.DecimalField(
                label=gettext_lazy("得分（0–%(max)s）") % {"max": _plain(item.max_score)},
                min_value=Decimal(0),
                max_value=item.max_score,
                max_digits=5,
                decimal_places=2,
                widget=forms.NumberInput(attrs={"step": "any"}),
            )
            self.fields[f"comment_{item.code}"] = forms.CharField(
                label=gettext_lazy("评语"), widget=forms.Textarea(attrs={"rows": 2, "cols": 80})
            )

    def areas(self) -> list[tuple[ScoringArea, list[tuple[ScoringItem, forms.BoundField, forms.BoundField]]]]:
        """Items grouped under their area, in rubric order, for the template."""
        grouped: dict[int, tuple[ScoringArea, list]] = {}
        for item in self.items:
            _area, rows = grouped.setdefault(item.area_id, (item.area, []))
            rows.append((item, self[f"score_{item.code}"], self[f"comment_{item.code}"]))
        return list(grouped.values())

    def scores(self) -> dict[str, tuple[Decimal, str]]:
        data = self.cleaned_data
        return {i.code: (data[f"score_{i.code}"], data[f"comment_{i.code}"]) for i in self.items}

    def field_for(self, key: str) -> str | None:
        """Where a service error keyed by item code, ``feedback`` or ``__all__`` belongs."""
        if key in self.fields:
            return key
        if f"score_{key}" in self.fields:
            return f"score_{key}"
        return None


class SendResultForm(forms.Form):
    show_total = forms.BooleanField(label=gettext_lazy("在结果中告诉倾听师总分"), required=False)
    interim_status = forms.ChoiceField(
        label=gettext_lazy("改进期间的状态"),
        choices=[],
        help_text=gettext_lazy("60–70 分：改进计划全部核实前倾听师的状态。只有督导可以选择隐藏以外的状态。"),
    )

    def __init__(self, *args: Any, conditional: bool, supervisor: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["show_total"].initial = settings.INTERVIEW_RESULT_SHOWS_TOTAL
        if not conditional:
            del self.fields["interim_status"]
            return
        statuses = INTERIM_STATUSES if supervisor else [ListenerStatus.HIDDEN]
        field = self.fields["interim_status"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(s.value, s.label) for s in statuses]
        field.initial = ListenerStatus.HIDDEN.value


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


@admin.register(CompetencyInterview)
class CompetencyInterviewAdmin(PolicyAdmin):
    list_display = ["listener", "state", "slot_time", "main_interviewer", "total_score", "band", "created_at"]
    list_filter = ["state", "band"]
    search_fields = ["listener__code", "listener__display_name", "meeting_number"]
    list_select_related = ["listener", "main_interviewer", "slot"]
    inlines = [SlotInline, MaterialInline, ScoreInline, PlanItemInline]
    readonly_fields = [
        "listener",
        "complaint",
        "reason",
        "requested_by",
        "state",
        "created_at",
        "meeting_number",
        "main_interviewer",
        "observer_names",
        "panel_link",
        "staff_actions",
        "held_started_at",
        "held_ended_at",
        "total_score",
        "feedback",
        "scored_by",
        "scored_at",
        "band",
        "interim_status",
        "result_sent_at",
        "total_shown",
        "eligible_to_reapply_at",
        "cancel_reason",
    ]
    exclude = ["observers"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # A decision's measure opens most interviews; a supervisor opens others through add_view.
        user = request.user
        return isinstance(user, User) and _is_supervisor(user)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[CompetencyInterview]:
        return super().get_queryset(request).prefetch_related("observers")

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None) -> Any:
        obj = super().get_object(request, object_id, from_field)
        if obj is not None:
            # The readonly displays below only get the object: they read who is looking from it.
            obj._viewer = request.user
        return obj

    @admin.display(description=gettext_lazy("面试时段"))
    def slot_time(self, obj: CompetencyInterview) -> str:
        slot = getattr(obj, "slot", None)
        return str(slot) if slot else "—"

    @admin.display(description=gettext_lazy("观察员"))
    def observer_names(self, obj: CompetencyInterview) -> str:
        return "、".join(str(u) for u in obj.observers.all()) or "—"

    @admin.display(description=gettext_lazy("面试小组"))
    def panel_link(self, obj: CompetencyInterview) -> str:
        viewer = getattr(obj, "_viewer", None)
        if obj.state not in OPEN_STATES or not (isinstance(viewer, User) and _is_supervisor(viewer)):
            return "—"
        url = reverse("admin:interviews_competencyinterview_panel", args=[obj.pk])
        return format_html('<a class="button" href="{}">{}</a>', url, _("设置面试小组"))

    @admin.display(description=gettext_lazy("操作"))
    def staff_actions(self, obj: CompetencyInterview) -> str:
        viewer = getattr(obj, "_viewer", None)
        if not isinstance(viewer, User):
            return "—"
        links = [
            (reverse(f"admin:interviews_competencyinterview_{name}", args=[obj.pk]), name, label)
            for name, label, states, allowed in STAFF_ACTIONS
            if obj.state in states and allowed(viewer, obj)
        ]
        if not links:
            return "—"
        return format_html_join(" ", '<a class="button" href="{}" data-action="{}">{}</a>', links)

    def get_urls(self) -> list:
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
            *super().get_urls(),
        ]

    # --- the staff pages -------------------------------------------------------------------------

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

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context: Any = None) -> HttpResponse:
        """ "为倾听师安排面试": a listener code and a reason, through interview_request."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        user = request.user
        assert isinstance(user, User)
        form = RequestForm(_posted(request))
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
        form = CancelForm(_posted(request))
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
        form = ConfirmForm(_posted(request))
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
        form = HoldForm(_posted(request), initial=initial)
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
        form = ScoreForm(_posted(request), items=list(rubric_items()))
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
        form = SendResultForm(_posted(request), conditional=band == Band.CONDITIONAL, supervisor=_is_supervisor(user))
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
        access_log_write(
            actor=user,
            obj=material,
            field="file",
            reason=_("面试材料"),
            action="download",
            request=request,
        )
        return private_download(
            material.file, filename=material.file_name or "material", content_type=material.content_type
        )

    def plan_evidence_view(self, request: HttpRequest, object_id: str, item_pk: int) -> FileResponse:
        """A plan item's proof file, for those who may verify it; logged, as it may be health data."""
        interview, user = self._permitted(request, object_id, _may_see_plan_evidence)
        item = InterviewPlanItem.objects.filter(interview=interview, pk=item_pk).first()
        if item is None or not item.evidence:
            raise Http404
        access_log_write(
            actor=user,
            obj=item,
            field="evidence",
            reason=_("核实改进计划项"),
            action="download",
            request=request,
        )
        return private_download(
            item.evidence, filename=item.evidence_name or "evidence", content_type=item.evidence_type
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


class SlotForm(forms.ModelForm):
    class Meta:
        model = InterviewSlot
        fields = ["starts_at", "ends_at"]

    def clean(self) -> dict[str, Any]:
        """slot_publish's rules, so a bad time is shown next to its field rather than refused."""
        data = super().clean() or self.cleaned_data
        starts_at, ends_at = data.get("starts_at"), data.get("ends_at")
        if self.instance.pk is None and starts_at and ends_at:
            try:
                slot_times_check(starts_at=starts_at, ends_at=ends_at)
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    self.add_error(field if field in self.fields else None, errors)
        return data


@admin.register(InterviewSlot)
class InterviewSlotAdmin(admin.ModelAdmin):
    form = SlotForm
    list_display = ["__str__", "published_by", "interview"]
    list_filter = [("interview", admin.EmptyFieldListFilter)]
    list_select_related = ["published_by", "interview__listener"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return ["starts_at", "ends_at", "published_by", "interview"] if obj else []

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None or obj.interview_id is None

    def save_model(self, request: HttpRequest, obj: InterviewSlot, form: forms.ModelForm, change: bool) -> None:
        if change:
            return
        user = request.user
        assert isinstance(user, User)
        # SlotForm.clean has checked the times; the service checks them again and who may publish.
        saved = slot_publish(starts_at=obj.starts_at, ends_at=obj.ends_at, actor=user)
        obj.pk = saved.pk


@admin.register(InterviewPlanItem)
class InterviewPlanItemAdmin(PolicyAdmin):
    list_display = ["interview", "kind", "state", "due_at", "verified_by"]
    list_filter = ["state", "kind"]
    # The evidence file is served only by the permission-checked view, never by its storage URL.
    readonly_fields = [
        *(f.name for f in InterviewPlanItem._meta.fields if f.name not in ("evidence", "evidence_type")),
        "evidence_link",
    ]
    exclude = ["evidence", "evidence_type"]
    actions = ["verify"]

    @admin.display(description=gettext_lazy("完成证明"))
    def evidence_link(self, obj: InterviewPlanItem) -> str:
        return _plan_evidence_link(obj)

    @admin.display(description=gettext_lazy("核实"))
    def review_links(self, obj: InterviewPlanItem) -> str:
        if obj.state != PlanItemState.SUBMITTED:
            return "—"
        links = [
            (reverse(f"admin:interviews_interviewplanitem_{name}", args=[obj.pk]), name, label)
            for name, label in (("verify", _("核实")), ("send_back", _("退回补充")))
        ]
        return format_html_join(" ", '<a class="button" href="{}" data-action="{}">{}</a>', links)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [*self.readonly_fields, "review_links"]

    def get_urls(self) -> list:
        return [
            path(
                "<path:object_id>/verify/",
                self.admin_site.admin_view(self.verify_view),
                name="interviews_interviewplanitem_verify",
            ),
            path(
                "<path:object_id>/send-back/",
                self.admin_site.admin_view(self.send_back_view),
                name="interviews_interviewplanitem_send_back",
            ),
            *super().get_urls(),
        ]

    def _review_page(
        self,
        request: HttpRequest,
        object_id: str,
        form_class: type[forms.Form],
        service: Callable[..., Any],
        **text: Any,
    ) -> HttpResponse:
        item = self.get_object(request, unquote(object_id))
        if item is None:
            raise Http404
        user = request.user
        assert isinstance(user, User)
        if not (_is_supervisor(user) or user.has_role(Role.REVIEWER)):
            raise PermissionDenied
        change_url = reverse("admin:interviews_interviewplanitem_change", args=[item.pk])
        form = form_class(_posted(request))
        if form.is_valid():
            try:
                service(item=item, actor=user, note=form.cleaned_data["note"])
            except ValidationError as exc:
                if hasattr(exc, "error_dict"):
                    for key, errors in exc.message_dict.items():
                        form.add_error(key if key in form.fields else None, errors)
                else:
                    form.add_error(None, exc.messages)
            else:
                messages.success(request, text["done"])
                return HttpResponseRedirect(change_url)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "item": item,
            "form": form,
            "change_url": change_url,
            "title": text["title"],
            "explanation": text["explanation"],
            "submit": text["submit"],
        }
        return TemplateResponse(request, "admin/interviews/interviewplanitem/review.html", context)

    def verify_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return self._review_page(
            request,
            object_id,
            VerifyForm,
            plan_item_verify,
            title=_("核实改进计划项"),
            explanation=_("核实后，倾听师会收到通知；60–70 分的结果在全部项目核实后自动恢复接单。"),
            submit=_("确认核实"),
            done=_("已核实，倾听师会收到通知。"),
        )

    def send_back_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return self._review_page(
            request,
            object_id,
            SendBackForm,
            plan_item_return,
            title=_("退回改进计划项"),
            explanation=_("退回后，这一项重新变为待完成，倾听师会收到通知并看到您的意见，补充后重新提交。"),
            submit=_("确认退回"),
            done=_("已退回，倾听师会收到通知。"),
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=gettext_lazy("核实所选改进计划项"))
    def verify(self, request: HttpRequest, queryset: QuerySet[InterviewPlanItem]) -> None:
        user = request.user
        assert isinstance(user, User)
        done = skipped = 0
        for item in queryset.filter(~Q(state=PlanItemState.VERIFIED)):
            try:
                plan_item_verify(item=item, actor=user)
            except ValidationError:
                skipped += 1
            else:
                done += 1
        messages.success(request, _("已核实 %(n)d 项。") % {"n": done})
        if skipped:
            messages.warning(request, _("%(n)d 项倾听师尚未提交，未核实。") % {"n": skipped})


class ScoringItemForm(forms.ModelForm):
    class Meta:
        model = ScoringItem
        fields = ["code", "name", "weight", "max_score", "position"]

    def clean_max_score(self) -> Decimal:
        value = self.cleaned_data["max_score"]
        if value is not None and value <= 0:
            raise forms.ValidationError(_("满分须大于 0。"))
        return value


class ScoringItemFormSet(forms.BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        kept = [f for f in self.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]
        weight = sum((f.cleaned_data.get("weight") or Decimal(0) for f in kept), Decimal(0))
        area = self.instance
        if area.weight > 0 and weight <= 0:
            raise forms.ValidationError(_("权重大于 0 的维度至少需要一个权重大于 0 的细项。"))


class ScoringItemInline(admin.TabularInline):
    model = ScoringItem
    form = ScoringItemForm
    formset = ScoringItemFormSet
    extra = 0
    fields = ["code", "name", "weight", "max_score", "position"]


class AreaWeightsFormSet(forms.BaseModelFormSet):
    """The changelist edits every area's weight at once, so the weights can be moved between
    areas; the new weights (with those of areas not on the page) must add up to 100."""

    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        on_page = {f.instance.pk: f.cleaned_data.get("weight") or Decimal(0) for f in self.forms if f.cleaned_data}
        others = ScoringArea.objects.exclude(pk__in=on_page).values_list("weight", flat=True)
        total = sum(on_page.values(), Decimal(0)) + sum(others, Decimal(0))
        if total != 100:
            raise forms.ValidationError(_("各评分维度的权重之和须为 100，现为 %(sum)s。") % {"sum": total.normalize()})


@admin.register(ScoringArea)
class ScoringAreaAdmin(admin.ModelAdmin):
    """Weights are edited on the list (all areas at once, adding up to 100); an area's page edits
    its name and items."""

    list_display = ["name", "weight", "position"]
    list_editable = ["weight"]
    inlines = [ScoringItemInline]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return ["weight"] if obj is not None else []

    def get_changelist_formset(self, request: HttpRequest, **kwargs: Any) -> Any:
        return super().get_changelist_formset(request, formset=AreaWeightsFormSet, **kwargs)
