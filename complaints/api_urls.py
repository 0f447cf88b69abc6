"""Routes of the complaints API; config/urls.py includes them under /api/v1/ (namespace "api")."""

from django.urls import path

from .apis import (
    ComplaintAttachmentsApi,
    ComplaintDetailApi,
    ComplaintListCreateApi,
    ComplaintTimelineApi,
    ComplaintTransitionApi,
)

urlpatterns = [
    path("complaints/", ComplaintListCreateApi.as_view(), name="complaint-list"),
    path("complaints/<str:reference>/", ComplaintDetailApi.as_view(), name="complaint-detail"),
    path(
        "complaints/<str:reference>/transitions/<str:name>/",
        ComplaintTransitionApi.as_view(),
        name="complaint-transition",
    ),
    path("complaints/<str:reference>/timeline/", ComplaintTimelineApi.as_view(), name="complaint-timeline"),
    path("complaints/<str:reference>/attachments/", ComplaintAttachmentsApi.as_view(), name="complaint-attachments"),
]
