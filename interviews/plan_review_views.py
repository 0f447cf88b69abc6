"""A plan item's review pages: a reviewer or supervisor verifies it or sends it back.

InterviewPlanItemAdmin.get_urls routes to them; each calls one service.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.policy import is_supervisor as _is_supervisor
from accounts.roles import Role

from .services import plan_item_return, plan_item_verify
from .staff_forms import SendBackForm, VerifyForm
from .staff_views import AdminPages, posted


class PlanItemReviewPages(AdminPages):
    """Verify a plan item or send it back, from InterviewPlanItemAdmin's change page."""

    def urls(self) -> list[URLPattern]:
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
        form = form_class(posted(request))
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
