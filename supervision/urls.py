"""Pages under /supervision/ (the dashboard has its own module, urls_dashboard)."""

from django.urls import path

from . import views

app_name = "supervision"

urlpatterns = [
    path("confidentiality/", views.confidentiality_list, name="confidentiality_list"),
    path("confidentiality/new/", views.confidentiality_new, name="confidentiality_new"),
    path("confidentiality/<int:pk>/", views.confidentiality_detail, name="confidentiality_detail"),
    path(
        "confidentiality/<int:pk>/acknowledge/", views.confidentiality_acknowledge, name="confidentiality_acknowledge"
    ),
    path("confidentiality/<int:pk>/outcome/", views.confidentiality_outcome, name="confidentiality_outcome"),
    path("report/", views.report_new, name="report_new"),
    path("report/anonymous/", views.report_anonymous, name="report_anonymous"),
    path("reports/", views.report_list, name="report_list"),
    path("reports/<int:pk>/", views.report_detail, name="report_detail"),
    path("reports/<int:pk>/open-case/", views.report_open_case, name="report_open_case"),
    path("reports/<int:pk>/reveal/", views.report_reveal, name="report_reveal"),
    path("ethics/", views.ethics_list, name="ethics_list"),
    path("ethics/new/", views.ethics_new, name="ethics_new"),
    path("ethics/<int:pk>/", views.ethics_detail, name="ethics_detail"),
    path("ethics/<int:pk>/reveal/", views.ethics_reveal, name="ethics_reveal"),
    path("ethics/<int:pk>/<str:action>/", views.ethics_action, name="ethics_action"),
]

from . import audit_views  # noqa: E402

urlpatterns += [
    path("audits/", audit_views.audit_list, name="audit_list"),
    path("audits/<int:pk>/", audit_views.audit_detail, name="audit_detail"),
    path("audits/<int:pk>/open-case/", audit_views.audit_open_case, name="audit_open_case"),
]
