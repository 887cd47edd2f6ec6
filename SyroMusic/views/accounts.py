"""Logging in, signing up, profiles and follows."""

from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from SyroMusic.models import Follow, Profile, Share
from SyroMusic.web.limits import login_blocked, record_login_failure

from .forms import ProfileForm, SignUpForm


class RateLimitedLoginView(LoginView):
    """Django's login, refusing further attempts for a while after repeated failures."""

    def post(self, request, *args, **kwargs):
        username, address = request.POST.get("username", ""), request.META.get("REMOTE_ADDR", "")
        wait = login_blocked(username, address)
        if wait:
            form = self.get_form()
            form.errors.clear()
            context = self.get_context_data(form=form, blocked_minutes=max(1, wait // 60))
            return self.render_to_response(context, status=429)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        record_login_failure(self.request.POST.get("username", ""), self.request.META.get("REMOTE_ADDR", ""))
        return super().form_invalid(form)


def signup(request):
    if request.user.is_authenticated:
        return redirect("music:home")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
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
    if context["visible"]:
        context["followers"], context["following"] = Follow.objects.counts_for(person)
        context["playlists"] = person.playlists.visible_to(request.user).for_listing().recently_updated()[:50]
    if request.user.is_authenticated and not is_self:
        context["follows"] = Follow.objects.follows(request.user, person)
    if is_self:
        context["shared_with_me"] = Share.objects.filter(recipient=person).select_related("playlist", "sender")[:50]
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
        form.save()
        messages.success(request, "Your profile is saved.")
        return redirect("music:user-detail", username=request.user.get_username())
    return render(request, "syromusic/profile_form.html", {"form": form})
