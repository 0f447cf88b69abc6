"""The complaints API (/api/v1/complaints/): the services and selectors the web pages use, as JSON.

Complainants file and follow their own complaints; case staff list, read and move them. Listeners
never use this API. Service errors map to HTTP in core.api_errors: PermissionDenied → 403,
ValidationError → 400, any conflict (stale version, wrong state) → 409.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any, cast

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.shortcuts import get_object_or_404
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, PolymorphicProxySerializer, extend_schema
from rest_framework import exceptions, permissions, status
from rest_framework.filters import OrderingFilter
from rest_framework.generics import GenericAPIView
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.roles import Role
from core.api_errors import drf_detail
from core.errors import Conflict

from .filters import ComplaintFilter
from .models import Complaint
from .selectors import attachments_for, can_view_attachment, complaint_list_for, timeline_for
from .serializers import (
    AttachmentSerializer,
    ComplaintComplainantSerializer,
    ComplaintCreateSerializer,
    ComplaintStaffSerializer,
    TimelineEventComplainantSerializer,
    TimelineEventStaffSerializer,
    TransitionSerializer,
    complaint_serializer_for,
)
from .services import (
    complaint_archive,
    complaint_close,
    complaint_escalate,
    complaint_reject,
    complaint_resolve,
    complaint_start_triage,
    complaint_submit,
    complaint_withdraw,
)

if TYPE_CHECKING:
    from accounts.models import User

IDENTITY_FIELDS = ("real_name", "id_number", "phone")


class AuthedRequest(Request):
    """A request past CanUseComplaintsApi: its user is a real account (for type checkers)."""

    user: User  # type: ignore[assignment]


# --- plumbing -----------------------------------------------------------------------


class CanUseComplaintsApi(permissions.BasePermission):
    """Complainants, and case staff who passed the second factor. Listeners never."""

    message = gettext_lazy("投诉接口只对投诉人和案件处理人员开放。")

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        if user.is_case_staff:
            # The middleware checks session users; a token carries no second factor, so it is refused.
            is_verified = getattr(user, "is_verified", None)
            return bool(is_verified and is_verified())
        return user.has_role(Role.COMPLAINANT)


class CanFileComplaint(permissions.BasePermission):
    message = gettext_lazy("只有投诉人账户可以提交投诉。")

    def has_permission(self, request: Request, view: APIView) -> bool:
        return request.method != "POST" or cast("User", request.user).has_role(Role.COMPLAINANT)


@method_decorator(never_cache, name="dispatch")
class ComplaintApi(APIView):
    """Base of the complaint endpoints: who may call them (service errors answer through core.api_errors)."""

    permission_classes = [permissions.IsAuthenticated, CanUseComplaintsApi]

    def get_complaint(self, reference: str) -> Complaint:
        # Someone else's reference is a 404, not a 403: its existence is not theirs to learn.
        return get_object_or_404(
            complaint_list_for(cast("User", self.request.user)).select_related("duplicate_of", "merged_into"),
            reference=reference,
        )


COMPLAINT_FOR_ROLE = PolymorphicProxySerializer(
    component_name="ComplaintForRole",
    serializers=[ComplaintComplainantSerializer, ComplaintStaffSerializer],
    resource_type_field_name=None,
    many=False,
)
COMPLAINTS_FOR_ROLE = PolymorphicProxySerializer(
    component_name="ComplaintForRole",
    serializers=[ComplaintComplainantSerializer, ComplaintStaffSerializer],
    resource_type_field_name=None,
    many=True,
)
REFERENCE = OpenApiParameter("reference", OpenApiTypes.STR, OpenApiParameter.PATH, description="TS-2026-000123")
ERRORS = {
    400: OpenApiResponse(description=gettext_lazy("输入有误；正文是字段到错误信息列表的映射")),
    403: OpenApiResponse(description=gettext_lazy("未登录、角色不符或没有权限")),
    404: OpenApiResponse(description=gettext_lazy("没有这个案件，或不是您的案件")),
    409: OpenApiResponse(description=gettext_lazy("当前状态不允许这个操作，或案件已被他人修改")),
}


# --- list and create ----------------------------------------------------------------------


class ComplaintPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class StableOrderingFilter(OrderingFilter):
    """The requested ordering, then newest first, so equal keys never shuffle across pages."""

    def get_ordering(self, request: Request, queryset, view) -> list[str]:
        ordering = list(super().get_ordering(request, queryset, view) or [])
        return [*ordering, "-submitted_at", "-id"]


STAFF_ORDERING = ["submitted_at", "updated_at", "first_response_due", "reference", "state", "priority"]
COMPLAINANT_ORDERING = ["submitted_at", "updated_at", "reference", "state"]


@method_decorator(sensitive_post_parameters(*IDENTITY_FIELDS), name="dispatch")
class ComplaintListCreateApi(ComplaintApi, GenericAPIView):
    """List the complaints the caller may see; complainants file new ones here."""

    permission_classes = [*ComplaintApi.permission_classes, CanFileComplaint]
    filter_backends = [DjangoFilterBackend, StableOrderingFilter]
    filterset_class = ComplaintFilter
    pagination_class = ComplaintPagination
    ordering: list[str] = []

    @property
    def ordering_fields(self) -> list[str]:
        user = getattr(getattr(self, "request", None), "user", None)
        return STAFF_ORDERING if user is not None and user.is_case_staff else COMPLAINANT_ORDERING

    def get_queryset(self):
        return complaint_list_for(cast("User", self.request.user)).select_related("duplicate_of", "merged_into")

    @extend_schema(
        responses={200: COMPLAINTS_FOR_ROLE, 403: ERRORS[403]},
        description=gettext_lazy("投诉人看到自己的投诉；案件处理人员看到全部投诉。身份信息只以打码形式出现。"),
    )
    def get(self, request: AuthedRequest) -> Response:
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        serializer = complaint_serializer_for(request.user)(page, many=True)
        return self.get_paginated_response(serializer.data)

    @extend_schema(
        request=ComplaintCreateSerializer,
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                OpenApiTypes.UUID,
                OpenApiParameter.HEADER,
                description=gettext_lazy("每件投诉一个 UUID；用同一个值重复提交会返回同一件投诉（200）。"),
            )
        ],
        responses={
            201: ComplaintComplainantSerializer,
            200: OpenApiResponse(ComplaintComplainantSerializer, description=gettext_lazy("重复提交，返回已有投诉")),
            400: ERRORS[400],
            403: ERRORS[403],
            409: OpenApiResponse(description=gettext_lazy("这个 Idempotency-Key 已用于其他账户的投诉")),
        },
    )
    @sensitive_variables("serializer", "data")
    def post(self, request: AuthedRequest) -> Response:
        key = self._idempotency_key(request)
        replay = key is not None and Complaint.objects.filter(submission_key=key, complainant=request.user).exists()
        serializer = ComplaintCreateSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            complaint = complaint_submit(
                complainant=request.user,
                intake_channel="api",
                consent_ip=request.META.get("REMOTE_ADDR"),
                submission_key=key,
                **data,
            )
        except DjangoValidationError as exc:
            raise exceptions.ValidationError(drf_detail(exc, rename={"session": "order_no"})) from exc
        except IntegrityError as exc:
            # The service gives back a key's complaint only to its own complainant.
            raise Conflict(_("这个 Idempotency-Key 已被使用，请为每件新投诉生成新的 UUID。")) from exc
        return Response(
            ComplaintComplainantSerializer(complaint).data,
            status=status.HTTP_200_OK if replay else status.HTTP_201_CREATED,
        )

    @staticmethod
    def _idempotency_key(request: Request) -> uuid.UUID | None:
        raw = request.headers.get("Idempotency-Key")
        if not raw:
            return None
        try:
            return uuid.UUID(raw)
        except ValueError as exc:
            raise exceptions.ValidationError({"detail": _("Idempotency-Key 请求头必须是一个 UUID。")}) from exc


# --- one complaint ------------------------------------------------------------------------


class ComplaintDetailApi(ComplaintApi):
    """One complaint, as the caller's role sees it."""

    @extend_schema(parameters=[REFERENCE], responses={200: COMPLAINT_FOR_ROLE, 403: ERRORS[403], 404: ERRORS[404]})
    def get(self, request: AuthedRequest, reference: str) -> Response:
        complaint = self.get_complaint(reference)
        return Response(complaint_serializer_for(request.user)(complaint).data)


TRANSITION_NAMES = ["start_triage", "resolve_directly", "reject", "escalate", "withdraw", "close", "archive"]
# The field a transition's unmet condition is about: the service says what is missing, the API says where.
CONDITION_FIELD = {"resolve_directly": "resolution", "reject": "reason", "escalate": "reviewer"}


def _move(name: str, *, complaint: Complaint, actor, data: dict[str, Any]) -> Complaint:
    version = data["version"]
    match name:
        case "start_triage":
            return complaint_start_triage(complaint=complaint, actor=actor, note=data["note"], expected_version=version)
        case "resolve_directly":
            return complaint_resolve(
                complaint=complaint, actor=actor, resolution=data["resolution"], expected_version=version
            )
        case "reject":
            return complaint_reject(complaint=complaint, actor=actor, reason=data["reason"], expected_version=version)
        case "escalate":
            return complaint_escalate(
                complaint=complaint, actor=actor, reviewer=data["reviewer"], note=data["note"], expected_version=version
            )
        case "withdraw":
            return complaint_withdraw(complaint=complaint, actor=actor, reason=data["reason"], expected_version=version)
        case "close":
            return complaint_close(complaint=complaint, actor=actor, note=data["note"], expected_version=version)
        case "archive":
            return complaint_archive(complaint=complaint, actor=actor, note=data["note"], expected_version=version)
    raise exceptions.NotFound(_("没有这个操作。"))


class ComplaintTransitionApi(ComplaintApi):
    """Move a complaint through its workflow; the service checks permission, state and version."""

    @extend_schema(
        parameters=[
            REFERENCE,
            OpenApiParameter("name", OpenApiTypes.STR, OpenApiParameter.PATH, enum=TRANSITION_NAMES),
        ],
        request=TransitionSerializer,
        responses={200: COMPLAINT_FOR_ROLE, **ERRORS},
        description=gettext_lazy(
            "resolve_directly 需要 resolution；reject 需要 reason；escalate 需要 reviewer（专业组成员的用户 id），"
            "除非已分派。附上读取时的 version，案件在此期间被修改则返回 409。"
        ),
    )
    def post(self, request: AuthedRequest, reference: str, name: str) -> Response:
        if name not in TRANSITION_NAMES:
            raise exceptions.NotFound(_("没有这个操作。"))
        complaint = self.get_complaint(reference)
        serializer = TransitionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            updated = _move(name, complaint=complaint, actor=request.user, data=serializer.validated_data)
        except DjangoValidationError as exc:
            rename = {"non_field_errors": CONDITION_FIELD[name]} if name in CONDITION_FIELD else {}
            detail = drf_detail(exc)
            raise exceptions.ValidationError({rename.get(k, k): v for k, v in detail.items()}) from exc
        # Re-read through the selector for the joins the serializer needs.
        return Response(complaint_serializer_for(request.user)(self.get_complaint(updated.reference)).data)


# --- timeline and evidence ----------------------------------------------------------------


class ComplaintTimelineApi(ComplaintApi):
    """The case history."""

    @extend_schema(
        parameters=[REFERENCE],
        responses={
            200: PolymorphicProxySerializer(
                component_name="TimelineEventForRole",
                serializers=[TimelineEventComplainantSerializer, TimelineEventStaffSerializer],
                resource_type_field_name=None,
                many=True,
            ),
            403: ERRORS[403],
            404: ERRORS[404],
        },
        description=gettext_lazy("投诉人只看到对其可见的记录；案件处理人员看到全部记录。"),
    )
    def get(self, request: AuthedRequest, reference: str) -> Response:
        complaint = self.get_complaint(reference)
        staff = request.user.is_case_staff
        events = timeline_for(complaint, complainant_view=not staff)
        serializer_class = TimelineEventStaffSerializer if staff else TimelineEventComplainantSerializer
        return Response(serializer_class(events, many=True).data)


class ComplaintAttachmentsApi(ComplaintApi):
    """Evidence files of the case, with links to the permission-checked download."""

    @extend_schema(
        parameters=[REFERENCE],
        responses={200: AttachmentSerializer(many=True), 403: ERRORS[403], 404: ERRORS[404]},
        description=gettext_lazy("只列出调用者有权下载的证据文件：投诉人本人、本案负责人员和督导。"),
    )
    def get(self, request: AuthedRequest, reference: str) -> Response:
        complaint = self.get_complaint(reference)
        visible = [a for a in attachments_for(complaint) if can_view_attachment(request.user, a)]
        return Response(AttachmentSerializer(visible, many=True).data)


__all__ = [
    "ComplaintAttachmentsApi",
    "ComplaintDetailApi",
    "ComplaintListCreateApi",
    "ComplaintTimelineApi",
    "ComplaintTransitionApi",
]
