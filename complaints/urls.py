from django.urls import path

from . import export, views

app_name = "complaints"

urlpatterns = [
    path("", views.complaint_list, name="list"),
    path("new/", views.complaint_new, name="new"),
    path("attachments/<uuid:public_id>/", views.attachment_download, name="attachment"),
    path("export/", export.complainant_export, name="export"),
    path("<str:reference>/", views.complaint_detail, name="detail"),
    path("<str:reference>/submitted/", views.complaint_submitted, name="submitted"),
    path("<str:reference>/add-info/", views.complaint_add_info_view, name="add_info"),
    path("<str:reference>/withdraw/", views.complaint_withdraw_view, name="withdraw"),
    path("<str:reference>/survey/", views.complaint_survey, name="survey"),
]
