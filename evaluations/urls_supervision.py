"""Supervisors' pages under /review/: approvals, appeals, archive downloads."""

from django.urls import path

from . import views_appeals, views_approvals, views_archive

app_name = "review_supervision"

urlpatterns = [
    path("approvals/", views_approvals.approval_queue, name="approvals"),
    path("approvals/<int:pk>/approve/", views_approvals.approval_approve, name="approve"),
    path("approvals/<int:pk>/send-back/", views_approvals.approval_send_back, name="send_back"),
    path("appeals/", views_appeals.appeal_list, name="appeals"),
    path("appeals/<int:pk>/assign/", views_appeals.appeal_assign_view, name="appeal_assign"),
    path("appeals/<int:pk>/resolve/", views_appeals.appeal_resolve_view, name="appeal_resolve"),
    path("<str:reference>/archive.html", views_archive.archive_download, name="archive"),
]
