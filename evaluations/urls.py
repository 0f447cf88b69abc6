"""/review/: the professional group's workspace.

Case pages match only a complaint reference (TS-2026-000123), so the supervision pages mounted at
the same prefix (/review/approvals/, /review/appeals/) are never taken for a case.
"""

from django.urls import path, re_path

from . import views, views_review_requests

app_name = "review"

CASE = r"^(?P<reference>[A-Z]{2}-\d{4}-\d{6,})/"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("tasks/", views.tasks, name="tasks"),
    path("tasks/<int:pk>/review/", views.task_review_view, name="task_review"),
    path("tasks/<int:pk>/evidence/", views.task_evidence, name="task_evidence"),
    path("contacts/<int:pk>/file/", views.contact_file, name="contact_file"),
    path("review-requests/", views_review_requests.review_request_list, name="review_requests"),
    path("review-requests/<int:pk>/", views_review_requests.review_request_page, name="review_request"),
    path(
        "review-requests/<int:pk>/assign/",
        views_review_requests.review_request_assign_view,
        name="review_request_assign",
    ),
    re_path(CASE + r"$", views.case_detail, name="case"),
    re_path(CASE + r"begin-evaluation/$", views.begin_evaluation, name="begin_evaluation"),
    re_path(CASE + r"statement-request/$", views.statement_request_view, name="statement_request"),
    re_path(CASE + r"contacts/$", views.contact_add, name="contact_add"),
    re_path(CASE + r"information-requests/$", views.information_request_add, name="information_request_add"),
    re_path(CASE + r"reviewers/$", views.reviewer_add, name="reviewer_add"),
    re_path(CASE + r"conflict/$", views.conflict_declare_view, name="conflict_declare"),
    re_path(CASE + r"evaluation/$", views.evaluation_page, name="evaluation"),
    re_path(CASE + r"final/$", views.final_page, name="final"),
    re_path(CASE + r"decision/$", views.decision_page, name="decision"),
    re_path(CASE + r"decision/submit/$", views.decision_submit_view, name="decision_submit"),
    re_path(CASE + r"decision/notify/$", views.decision_notify_view, name="decision_notify"),
    re_path(CASE + r"decision/listener-response/$", views.listener_response_view, name="listener_response"),
]
