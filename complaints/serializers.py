"""Serializers of the complaints API, one per role that reads complaints.

No serializer outputs ``real_name``, ``id_number`` or ``phone`` (the create serializer takes them as
write-only input): identity leaves the API masked only; revealing it is a separate, logged action. Listeners have no serializer: they never use this API.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.validators import normalize_id_number, normalize_phone, validate_id_number, validate_mobile_phone
from listeners.models import ListeningSession

from .models import Attachment, Category, Complaint, ConsentText, Demand, TimelineEvent

# --- reading complaints -------------------------------------------------------------


class StaffMemberSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(source="get_short_name", read_only=True)


class ListenerSummarySerializer(serializers.Serializer):
    code = serializers.CharField(read_only=True)
    display_name = serializers.CharField(read_only=True)


class SessionSummarySerializer(serializers.Serializer):
    order_no = serializers.CharField(read_only=True)
    channel = serializers.CharField(read_only=True)
    started_at = serializers.DateTimeField(read_only=True)
    duration_minutes = serializers.IntegerField(read_only=True)


class ComplaintComplainantSerializer(serializers.ModelSerializer):
    """What the complainant sees of their own case: their identity masked, no internal triage signals."""

    state_display = serializers.CharField(source="get_state_display", read_only=True)
    category_display = serializers.CharField(source="get_category_display", read_only=True)
    order_no = serializers.CharField(source="session.order_no", read_only=True)
    listener_name = serializers.CharField(source="listener.display_name", read_only=True)
    masked_real_name = serializers.CharField(read_only=True)
    masked_id_number = serializers.CharField(read_only=True)
    masked_phone = serializers.CharField(read_only=True)
    merged_into: serializers.SlugRelatedField[Complaint] = serializers.SlugRelatedField(
        slug_field="reference", read_only=True
    )

    class Meta:
        model = Complaint
        fields = [
            "reference",
            "state",
            "state_display",
            "category",
            "category_display",
            "order_no",
            "listener_name",
            "content",
            "demands",
            "demands_other",
            "intake_channel",
            "masked_real_name",
            "masked_id_number",
            "masked_phone",
            "resolution",
            "rejection_reason",
            "merged_into",
            "submitted_at",
            "first_response_due",
            "first_response_at",
            "updated_at",
            "version",
        ]
        read_only_fields = fields


class ComplaintStaffSerializer(serializers.ModelSerializer):
    """What case staff see: the whole case with the complainant's identity masked."""

    state_display = serializers.CharField(source="get_state_display", read_only=True)
    category_display = serializers.CharField(source="get_category_display", read_only=True)
    priority_display = serializers.CharField(source="get_priority_display", read_only=True)
    complainant_id = serializers.IntegerField(read_only=True)
    session = SessionSummarySerializer(read_only=True)
    listener = ListenerSummarySerializer(read_only=True)
    masked_real_name = serializers.CharField(read_only=True)
    masked_id_number = serializers.CharField(read_only=True)
    masked_phone = serializers.CharField(read_only=True)
    assigned_consultant = StaffMemberSerializer(read_only=True, allow_null=True)
    assigned_reviewer = StaffMemberSerializer(read_only=True, allow_null=True)
    duplicate_of: serializers.SlugRelatedField[Complaint] = serializers.SlugRelatedField(
        slug_field="reference", read_only=True
    )
    merged_into: serializers.SlugRelatedField[Complaint] = serializers.SlugRelatedField(
        slug_field="reference", read_only=True
    )
    first_response_overdue = serializers.BooleanField(read_only=True)

    class Meta:
        model = Complaint
        fields = [
            "reference",
            "state",
            "state_display",
            "category",
            "category_display",
            "priority",
            "priority_display",
            "crisis",
            "crisis_terms",
            "complainant_id",
            "session",
            "listener",
            "content",
            "demands",
            "demands_other",
            "intake_channel",
            "masked_real_name",
            "masked_id_number",
            "masked_phone",
            "consent_method",
            "consent_at",
            "assigned_consultant",
            "assigned_reviewer",
            "duplicate_of",
            "merged_into",
            "resolution",
            "rejection_reason",
            "submitted_at",
            "first_response_due",
            "first_response_at",
            "first_response_overdue",
            "updated_at",
            "version",
        ]
        read_only_fields = fields


def complaint_serializer_for(user) -> type[serializers.ModelSerializer]:
    return ComplaintStaffSerializer if user.is_case_staff else ComplaintComplainantSerializer


# --- filing a complaint --------------------------------------------------------------


class ComplaintCreateSerializer(serializers.Serializer):
    """Input of POST /complaints/. Identity is validated here for the field errors and again by the service."""

    order_no = serializers.CharField(max_length=40, label=_("订单号"))
    category = serializers.ChoiceField(choices=Category.choices, default=Category.OTHER, label=_("类别"))
    content = serializers.CharField(max_length=10000, label=_("投诉内容"))
    demands = serializers.ListField(
        child=serializers.ChoiceField(choices=Demand.choices), allow_empty=False, label=_("诉求")
    )
    demands_other = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    real_name = serializers.CharField(max_length=50, write_only=True, label=_("真实姓名"))
    id_number = serializers.CharField(max_length=22, write_only=True, label=_("身份证号"))
    phone = serializers.CharField(max_length=20, write_only=True, label=_("手机号"))
    consent = serializers.BooleanField(label=_("同意实名投诉知情同意书"))
    consent_version = serializers.CharField(max_length=32, label=_("同意书版本"))

    def validate_order_no(self, value: str) -> ListeningSession:
        session = (
            ListeningSession.objects.filter(order_no=value.strip(), complainant=self.context["request"].user)
            .select_related("listener")
            .first()
        )
        if session is None:
            raise serializers.ValidationError(_("没有找到属于您账户的这个订单号，请核对后再提交。"))
        return session

    def validate_id_number(self, value: str) -> str:
        value = normalize_id_number(value)
        validate_id_number(value)
        return value

    def validate_phone(self, value: str) -> str:
        value = normalize_phone(value)
        validate_mobile_phone(value)
        return value

    def validate_consent(self, value: bool) -> bool:
        if not value:
            raise serializers.ValidationError(
                _("实名投诉需要您同意知情同意书。不同意也没关系，但平台将无法受理实名投诉。")
            )
        return value

    def validate_consent_version(self, value: str) -> ConsentText:
        current = ConsentText.objects.filter(is_current=True).first()
        if current is None or value != current.version:
            raise serializers.ValidationError(_("知情同意书已更新，请重新阅读最新版本后再勾选同意。"))
        return current

    def validate(self, attrs: dict) -> dict:
        if Demand.OTHER in attrs["demands"] and not attrs.get("demands_other", "").strip():
            raise serializers.ValidationError({"demands_other": [_("您选择了“其他”诉求，请简单写一下。")]})
        # Named for what the service takes: the caller's session and the consent text they agreed to.
        attrs["session"] = attrs.pop("order_no")
        attrs["consent_text"] = attrs.pop("consent_version")
        attrs.pop("consent")
        return attrs


# --- moving a complaint ----------------------------------------------------------------


class TransitionSerializer(serializers.Serializer):
    """Body of POST /complaints/{reference}/transitions/{name}/; each move reads the fields it needs."""

    note = serializers.CharField(max_length=10000, required=False, allow_blank=True, default="")
    resolution = serializers.CharField(max_length=10000, required=False, allow_blank=True, default="")
    reason = serializers.CharField(max_length=10000, required=False, allow_blank=True, default="")
    reviewer = serializers.PrimaryKeyRelatedField(
        queryset=get_user_model().objects.filter(is_active=True), required=False, allow_null=True, default=None
    )
    version = serializers.IntegerField(
        min_value=1,
        required=False,
        allow_null=True,
        default=None,
        help_text=_("读取案件时的 version；案件已被他人修改时返回 409。"),
    )


# --- timeline and evidence ---------------------------------------------------------


# Plain strings, not enums: the same choice set as Complaint.state under other field names would
# make drf-spectacular warn (an ENUM_NAME_OVERRIDES entry in settings would allow the enum).
STATE_HELP = _("案件状态代码，取值同 Complaint.state；空字符串表示无。")


class TimelineEventComplainantSerializer(serializers.ModelSerializer):
    complaint = serializers.CharField(source="complaint.reference", read_only=True)
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    to_state = serializers.CharField(read_only=True, help_text=STATE_HELP)
    to_state_display = serializers.CharField(source="get_to_state_display", read_only=True)
    by_me = serializers.SerializerMethodField()

    class Meta:
        model = TimelineEvent
        fields = [
            "id",
            "complaint",
            "kind",
            "kind_display",
            "to_state",
            "to_state_display",
            "note",
            "by_me",
            "created_at",
        ]
        read_only_fields = fields

    def get_by_me(self, event: TimelineEvent) -> bool:
        return event.actor_id is not None and event.actor_id == event.complaint.complainant_id


class TimelineEventStaffSerializer(serializers.ModelSerializer):
    complaint = serializers.CharField(source="complaint.reference", read_only=True)
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    actor = StaffMemberSerializer(read_only=True, allow_null=True)
    from_state = serializers.CharField(read_only=True, help_text=STATE_HELP)
    to_state = serializers.CharField(read_only=True, help_text=STATE_HELP)
    to_state_display = serializers.CharField(source="get_to_state_display", read_only=True)

    class Meta:
        model = TimelineEvent
        fields = [
            "id",
            "complaint",
            "kind",
            "kind_display",
            "actor",
            "from_state",
            "to_state",
            "to_state_display",
            "transition",
            "note",
            "visible_to_complainant",
            "created_at",
        ]
        read_only_fields = fields


class AttachmentSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    complaint = serializers.CharField(source="complaint.reference", read_only=True)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = ["id", "complaint", "original_name", "content_type", "size", "created_at", "download_url"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.STR)
    def get_download_url(self, attachment: Attachment) -> str:
        # Served by the permission-checked HTML view, not by the API.
        try:
            return reverse("complaints:attachment", args=[attachment.public_id])
        except NoReverseMatch:
            return reverse("complaints:attachment", kwargs={"public_id": attachment.public_id})
