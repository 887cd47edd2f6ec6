"""App passwords: what a listener types into a phone app (a Subsonic client) instead of their own password.

They are listed and made on the profile page. A new one is shown once, on the answer to the POST that made
it (never stored where a page could show it again, never cached), with the server's address and the
username the app asks for. Revoking one (a confirmation, then a POST) cuts that app off at once.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from SyroMusic.models import AppPassword

from .forms import AppPasswordForm


def back_to_the_list():
    return redirect(reverse("profile-edit") + "#apps")


@never_cache
@login_required
@require_POST
def app_password_create(request):
    form = AppPasswordForm(request.POST, user=request.user)
    if not form.is_valid():
        messages.error(request, " ".join(message for errors in form.errors.values() for message in errors))
        return back_to_the_list()
    row, password = AppPassword.create(request.user, form.cleaned_data["name"])
    # The address the app asks for is the site's own (it adds /rest/ itself).
    server_url = request.build_absolute_uri(reverse("music:home")).rstrip("/")
    context = {"app_password": row, "password": password, "server_url": server_url}
    return render(request, "syromusic/app_password_created.html", context)


@never_cache
@login_required
def app_password_revoke(request, pk):
    # Another listener's app password is a 404, like anything of theirs that is not ours to know about.
    row = get_object_or_404(request.user.app_passwords, pk=pk)
    if request.method == "POST":
        row.delete()
        messages.success(request, f"App password “{row.name}” revoked: the app that used it can no longer connect.")
        return back_to_the_list()
    return render(request, "syromusic/app_password_confirm_revoke.html", {"app_password": row})
