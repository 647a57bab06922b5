from django.contrib.auth import views as auth_views
from django.urls import path

from . import views
from .manage import views as manage

app_name = "accounts"

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "sign-out-everywhere/",
        views.sign_out_everywhere,
        name="sign_out_everywhere",
    ),
    path("profile/", views.profile, name="profile"),
    path("language/", views.set_language, name="set_language"),
    path("administration/", views.admin_home, name="admin_home"),
    path("administration/users/", manage.user_list, name="manage_users"),
    path("administration/users/new/", manage.user_create_page, name="manage_user_new"),
    path(
        "administration/users/<int:user_id>/",
        manage.user_edit_page,
        name="manage_user_edit",
    ),
    path(
        "administration/users/<int:user_id>/deactivate/",
        manage.user_deactivate,
        name="manage_user_deactivate",
    ),
    path(
        "administration/users/<int:user_id>/reactivate/",
        manage.user_reactivate,
        name="manage_user_reactivate",
    ),
    path(
        "administration/users/<int:user_id>/unlock/",
        manage.user_unlock_page,
        name="manage_user_unlock",
    ),
    path(
        "administration/users/<int:user_id>/send-password-link/",
        manage.user_password_link,
        name="manage_user_password_link",
    ),
    path(
        "administration/organizations/",
        manage.organization_list,
        name="manage_organizations",
    ),
    path(
        "administration/organizations/new/",
        manage.organization_create_page,
        name="manage_organization_new",
    ),
    path(
        "administration/organizations/<int:organization_id>/",
        manage.organization_detail,
        name="manage_organization",
    ),
    path(
        "administration/organizations/<int:organization_id>/edit/",
        manage.organization_edit_page,
        name="manage_organization_edit",
    ),
    path(
        "password/change/",
        views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "password/change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("password/reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "password/reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password/reset/complete/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
]
