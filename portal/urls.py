from django.urls import path

from . import views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("portal/", views.listener_home, name="listener_home"),
    path("portal/complaints/", views.complaint_list, name="complaints"),
    path("portal/complaints/<int:pk>/", views.complaint_detail, name="complaint"),
    path("portal/tasks/", views.task_list, name="tasks"),
]

from . import interview_views  # noqa: E402

urlpatterns += [
    path("portal/interviews/", interview_views.interview_list, name="interviews"),
    path("portal/interviews/reapply/", interview_views.interview_reapply, name="interview_reapply"),
    path("portal/interviews/<int:pk>/", interview_views.interview_detail, name="interview"),
    path(
        "portal/interviews/<int:pk>/plan/<int:item_pk>/evidence/",
        interview_views.plan_item_evidence,
        name="interview_plan_evidence",
    ),
]

from . import ethics_views  # noqa: E402

urlpatterns += [path("portal/ethics/", ethics_views.ethics_decisions, name="ethics_decisions")]
