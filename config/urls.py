from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts.admin_site import HearkenAdminSite
from accounts.urls import auth_urlpatterns
from core.views import healthz
from evaluations.views_public import complainant_questions
from evaluations.views_review_requests import complainant_review_request
from listeners.apis import SessionImportApi

# The admin only opens to staff who passed the second factor.
admin.site.__class__ = HearkenAdminSite
admin.site.site_header = _("Hearken 投诉处理后台")
admin.site.site_title = _("Hearken 后台")
admin.site.index_title = _("工作台")

api_v1 = [
    path("sessions/", SessionImportApi.as_view(), name="session-import"),
    path("", include("complaints.api_urls")),
]

urlpatterns = [
    path("", include("portal.urls")),
    path("complaints/<str:reference>/questions/", complainant_questions, name="complaint_questions"),
    path("complaints/<str:reference>/review-request/", complainant_review_request, name="complaint_review_request"),
    path("complaints/", include("complaints.urls")),
    path("review/", include("evaluations.urls")),
    path("review/", include("evaluations.urls_supervision")),
    path("notifications/", include("core.urls")),
    path("supervision/", include("supervision.urls")),
    path("supervision/", include("supervision.urls_dashboard")),
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    *auth_urlpatterns,
    path("accounts/", include("accounts.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include((api_v1, "api"), namespace="api")),  # type: ignore[arg-type]
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
]
