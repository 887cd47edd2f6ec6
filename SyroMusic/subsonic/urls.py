"""/rest/<method> and /rest/<method>.view, the way Subsonic clients call them (included from Syro/urls.py)."""

from django.urls import re_path

from .endpoint import endpoint

app_name = "subsonic"

urlpatterns = [
    re_path(r"^(?P<name>[A-Za-z0-9]+)(?:\.view)?/?$", endpoint, name="method"),
    re_path(r"^(?P<name>.*)$", endpoint, name="other"),
]
