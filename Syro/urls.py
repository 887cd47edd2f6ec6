import os

from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from SyroMusic.views import accounts, app_passwords, front, health

urlpatterns = [
    path("favicon.ico", health.favicon),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("front/upload-allowed/", front.upload_allowed, name="front-upload-allowed"),
    path("", include("SyroMusic.urls")),
    # Accounts: Django's views (password change and reset) plus ours, under Django's URL names.
    # Logging in is Django's view (ours then puts the data saver in the session): the login limiter is an
    # authentication backend (SyroMusic.web.limits).
    path("accounts/password_reset/", accounts.LimitedPasswordResetView.as_view(), name="password_reset"),
    path("accounts/signup/", accounts.signup, name="signup"),
    path("accounts/profile/", accounts.profile_edit, name="profile-edit"),
    path("accounts/profile/apps/", app_passwords.app_password_create, name="app-password-create"),
    path("accounts/profile/apps/<int:pk>/revoke/", app_passwords.app_password_revoke, name="app-password-revoke"),
    path("accounts/login/", accounts.SyroLoginView.as_view(), name="login"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("api/v1/", include("SyroMusic.api.urls")),
    # Subsonic clients (phone and desktop apps): /rest/<method>[.view], SyroMusic.subsonic.
    path("rest/", include("SyroMusic.subsonic.urls")),
    path("admin/", admin.site.urls),
]

handler404 = "SyroMusic.views.errors.page_not_found"
handler500 = "SyroMusic.views.errors.server_error"

if settings.DEBUG_TOOLBAR:
    urlpatterns.append(path("__debug__/", include("debug_toolbar.urls")))

# The benchmark's minimal view and "before" pages (bench/suite.py), mounted for it alone.
if os.environ.get("BENCH_BASELINE") == "1":
    urlpatterns.append(path("bench/", include("bench.before_views")))
