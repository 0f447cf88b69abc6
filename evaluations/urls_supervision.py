"""Supervisors' pages under /review/: approvals, appeals, archive downloads."""

from django.urls import path

from . import views_supervision as views

app_name = "review_supervision"

urlpatterns = [
    path("approvals/", views.approval_queue, name="approvals"),
    path("approvals/<int:pk>/approve/", views.approval_approve, name="approve"),
    path("approvals/<int:pk>/send-back/", views.approval_send_back, name="send_back"),
    path("appeals/", views.appeal_list, name="appeals"),
    path("appeals/<int:pk>/assign/", views.appeal_assign_view, name="appeal_assign"),
    path("appeals/<int:pk>/resolve/", views.appeal_resolve_view, name="appeal_resolve"),
    path("<str:reference>/archive.html", views.archive_download, name="archive"),
]
