"""Logging in, signing up, profiles and follows."""

from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView, PasswordResetView
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from SyroMusic.models import Follow, Profile, Share
from SyroMusic.web.limits import RESET_MAILS, SIGNUPS, client_address, take_all
from SyroMusic.web.transcoded import remember_data_saver

from .forms import AppPasswordForm, ProfileForm, SignUpForm


class SyroLoginView(LoginView):
    """Django's login, then the listener's player settings into their session (the data saver)."""

    def form_valid(self, form):
        response = super().form_valid(form)
        remember_data_saver(self.request, Profile.objects.filter(user=form.get_user(), data_saver=True).exists())
        return response


class LimitedPasswordResetView(PasswordResetView):
    """Django's reset mail, limited per address mailed and per client (SyroMusic.web.limits.RESET_MAILS).

    Both count whether or not an account has the address, so a refusal tells nothing about accounts.
    """

    def form_valid(self, form):
        keys = {"email": form.cleaned_data["email"].casefold(), "address": client_address(self.request)}
        wait, limit = take_all(RESET_MAILS, keys)
        if wait:
            form.add_error(None, limit.message(wait))
            return self.render_to_response(self.get_context_data(form=form), status=429)
        return super().form_valid(form)


def signup(request):
    if request.user.is_authenticated:
        return redirect("music:home")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        wait = SIGNUPS.take(client_address(request))
        if wait:
            form.add_error(None, SIGNUPS.message(wait))
            return render(request, "registration/signup.html", {"form": form}, status=429)
        user = form.save()
        login(request, user)
        messages.success(request, f"Welcome, {user.get_username()}! Your account is ready.")
        return redirect("music:user-detail", username=user.get_username())
    return render(request, "registration/signup.html", {"form": form})


def user_detail(request, username):
    person = get_object_or_404(get_user_model().objects.select_related("profile"), username=username)
    profile = Profile.of(person)
    is_self = request.user.pk == person.pk
    context = {"person": person, "profile": profile, "is_self": is_self, "visible": profile.visible_to(request.user)}
    context["stats_visible"] = profile.stats_visible_to(request.user)
    if context["visible"]:
        context["followers"], context["following"] = Follow.objects.counts_for(person)
        context["playlists"] = person.playlists.visible_to(request.user).for_listing().recently_updated()[:50]
    if request.user.is_authenticated and not is_self:
        context["follows"] = Follow.objects.follows(request.user, person)
    if is_self:
        context["shared_with_me"] = Share.objects.received_by(person).select_related("playlist", "sender")[:50]
        context["collaborations"] = person.collaborations.select_related("playlist__owner").order_by("-added_at")[:50]
    return render(request, "syromusic/user_detail.html", context)


@login_required
@require_POST
def follow(request, username):
    person = get_object_or_404(get_user_model(), username=username)
    try:
        Follow.objects.follow(request.user, person)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"You follow {person.get_username()}.")
    return redirect("music:user-detail", username=username)


@login_required
@require_POST
def unfollow(request, username):
    person = get_object_or_404(get_user_model(), username=username)
    Follow.objects.unfollow(request.user, person)
    messages.success(request, f"You no longer follow {person.get_username()}.")
    return redirect("music:user-detail", username=username)


@login_required
def profile_edit(request):
    profile, _ = Profile.objects.get_or_create(user=request.user)
    form = ProfileForm(request.POST or None, instance=profile)
    if request.method == "POST" and form.is_valid():
        profile = form.save()
        remember_data_saver(request, profile.data_saver)
        messages.success(request, "Your profile is saved.")
        return redirect("music:user-detail", username=request.user.get_username())
    context = {
        "form": form,
        # The Apps section (SyroMusic.views.app_passwords), its times in the listener's zone.
        "app_passwords": request.user.app_passwords.defer("sealed", "digest"),
        "app_password_form": AppPasswordForm(user=request.user),
        "zone": profile.time_zone,
    }
    return render(request, "syromusic/profile_form.html", context)
