"""The supervisors' quality dashboard under /supervision/."""

from django.urls import path

from . import dashboard

app_name = "supervision_dashboard"

urlpatterns = [
    path("dashboard/", dashboard.dashboard, name="dashboard"),
    path("dashboard/export.csv", dashboard.export_csv, name="export"),
]
