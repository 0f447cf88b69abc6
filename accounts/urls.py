from django.contrib.auth import views as auth_views
from django.urls import path
from django.views.decorators.debug import sensitive_post_parameters

from . import views
from .forms import AccountPasswordResetForm, EmailAuthenticationForm

app_name = "accounts"

urlpatterns = [
    path("register/", views.register, name="register"),
    path("otp/verify/", views.otp_verify, name="otp_verify"),
    path("otp/setup/", views.otp_setup, name="otp_setup"),
]

# Django's own auth views at their usual names and paths, in the site's look.
auth_urlpatterns = [
    path(
        "accounts/login/",
        sensitive_post_parameters("password")(
            auth_views.LoginView.as_view(authentication_form=EmailAuthenticationForm, redirect_authenticated_user=True)
        ),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password_reset/",
        auth_views.PasswordResetView.as_view(form_class=AccountPasswordResetForm),
        name="password_reset",
    ),
    path("accounts/password_reset/done/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "accounts/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("accounts/reset/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("accounts/password_change/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password_change/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
]
