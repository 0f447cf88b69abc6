from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.authentication import TokenAuthentication
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from .services import IMPORT_BATCH_SIZE, sessions_import

MAX_ROWS_PER_REQUEST = 10 * IMPORT_BATCH_SIZE


class CanImportSessions(permissions.BasePermission):
    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.has_perm("listeners.import_listeningsession"))


class SessionRowSerializer(serializers.Serializer):
    """Documents one row; rows are validated one by one by the import service."""

    order_no = serializers.CharField()
    user_email = serializers.EmailField()
    listener_code = serializers.CharField()
    channel = serializers.ChoiceField(choices=["voice", "text"])
    started_at = serializers.DateTimeField()
    duration_minutes = serializers.IntegerField()
    amount = serializers.DecimalField(max_digits=10, decimal_places=2)
    rating = serializers.IntegerField(required=False, allow_null=True)


class ImportResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    failed = serializers.IntegerField()
    errors = serializers.ListField(child=serializers.DictField())  # type: ignore[assignment]


class SessionImportApi(APIView):
    """Bulk, idempotent push of listening sessions by the main platform's integration account."""

    authentication_classes = [TokenAuthentication]
    permission_classes = [permissions.IsAuthenticated, CanImportSessions]

    @extend_schema(
        request=SessionRowSerializer(many=True),
        responses={200: ImportResultSerializer, 400: OpenApiResponse(description="not a list of rows")},
    )
    def post(self, request: Request) -> Response:
        rows = request.data
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            return Response({"detail": _("请求体应为订单对象的 JSON 数组。")}, status=status.HTTP_400_BAD_REQUEST)
        if len(rows) > MAX_ROWS_PER_REQUEST:
            return Response(
                {"detail": _("一次最多导入 %(n)s 条订单，请分批提交。") % {"n": MAX_ROWS_PER_REQUEST}},
                status=status.HTTP_400_BAD_REQUEST,
            )
        result = sessions_import(rows=rows)
        return Response(result.as_dict(), status=status.HTTP_200_OK)
