"""The listener's pages. Each runs a fixed number of queries, stated in its test.

List pages and the home page are cached for anonymous visitors (see caching.py);
detail pages are too, keyed by the same versions, so a write anywhere shows on
the very next request.
"""

import hashlib
import logging

from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, OuterRef, Q, Sum
from django.db.models.functions import Lower
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, HttpResponseServerError, JsonResponse
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from . import caching, search
from .api.errors import problem_response
from .caching import cache_page_for_visitors
from .forms import (
    AddSongForm, AlbumListForm, ArtistListForm, CollaboratorForm, MoveEntryForm, PlaylistForm, PlaylistImportForm,
    ProfileForm, ShareForm, SignUpForm, SongListForm,
)
from .models import (
    Album, Artist, Collaborator, Follow, Genre, Playlist, PlaylistEntry, Profile, SearchHistory, Share, Song,
    catalogue_counts,
    make_slug,
)
from .playlist_files import CONTENT_TYPES, EXPORTERS, match_items
from .services import playlist_create_from_matches, playlist_share
from .security import login_blocked, record_login_failure
from .pagination import CataloguePaginator, page_of, page_window

ARTISTS_PER_PAGE = 25
ALBUMS_PER_PAGE = 25
SONGS_PER_PAGE = 50
PLAYLISTS_PER_PAGE = 20
DISCOGRAPHY_PER_PAGE = 50
ENTRIES_PER_PAGE = 100
SEARCH_PER_TYPE = 5
SEARCH_PER_PAGE = 20
BOTH = (caching.CATALOGUE, caching.PLAYLISTS)
PLAIN_500 = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Something went wrong · SyroMusic</title>'
    "</head><body><h1>Something went wrong</h1><p>The server could not show this page. Please try again in a "
    'moment.</p><p><a href="/">Go to the home page</a></p></body></html>'
)

logger = logging.getLogger(__name__)


def paginate(request, queryset, per_page, *, areas=(caching.CATALOGUE,), count=None):
    paginator = CataloguePaginator(queryset, per_page, areas=areas, count=count)
    page = page_of(request, paginator)
    return {"page_obj": page, "page_window": page_window(page)}


@cache_page_for_visitors(*BOTH)
def home(request):
    counts = caching.remember("catalogue-counts", BOTH, catalogue_counts)
    context = {
        "counts": counts,
        "newest_albums": Album.objects.for_listing().exclude(release_date=None).order_by("-release_date", "-id")[:12],
        "popular_songs": Song.objects.for_listing().order_by("-popularity", "-id")[:10],
        "playlists": Playlist.objects.public().for_listing().order_by("-updated_at", "-id")[:6],
    }
    return render(request, "syromusic/home.html", context)


def filtered_list(request, form, queryset, per_page, template):
    """A list page: the form's filters and sort applied, then the requested page."""
    context = {"form": form, **paginate(request, form.apply(queryset), per_page)}
    return render(request, template, context)


@cache_page_for_visitors(caching.CATALOGUE)
def artist_list(request):
    form = ArtistListForm(request.GET)
    return filtered_list(request, form, Artist.objects.all(), ARTISTS_PER_PAGE, "syromusic/artist_list.html")


@cache_page_for_visitors(caching.CATALOGUE)
def artist_detail(request, pk):
    artist = get_object_or_404(Artist, pk=pk)
    albums = artist.albums.in_discography_order()
    context = {
        "artist": artist,
        "top_songs": artist.songs.for_listing().order_by("-popularity", "-id")[:10],
        **paginate(request, albums, DISCOGRAPHY_PER_PAGE),
    }
    return render(request, "syromusic/artist_detail.html", context)


@cache_page_for_visitors(caching.CATALOGUE)
def album_list(request):
    form = AlbumListForm(request.GET, genres=list(Genre.objects.all()))
    return filtered_list(request, form, Album.objects.for_listing(), ALBUMS_PER_PAGE, "syromusic/album_list.html")


@cache_page_for_visitors(caching.CATALOGUE)
def album_detail(request, pk):
    album = get_object_or_404(Album.objects.for_listing().with_genres(), pk=pk)
    songs = list(album.songs.for_listing().in_tracklist_order())
    context = {
        "album": album,
        "songs": songs,
        "total_duration_ms": sum(song.duration_ms or 0 for song in songs),
        "other_albums": album.artist.albums.exclude(pk=album.pk).order_by("-release_date", "-id")[:12],
    }
    if request.user.is_authenticated:
        context["my_playlists"] = editable_playlists(request.user)
    return render(request, "syromusic/album_detail.html", context)


@cache_page_for_visitors(caching.CATALOGUE)
def song_list(request):
    form = SongListForm(request.GET, genres=list(Genre.objects.all()))
    return filtered_list(request, form, Song.objects.for_listing(), SONGS_PER_PAGE, "syromusic/song_list.html")


@cache_page_for_visitors(*BOTH)
def song_detail(request, pk):
    song = get_object_or_404(Song.objects.for_listing(), pk=pk)
    playlists = (
        Playlist.objects.visible_to(request.user)
        .filter(entries__song=song)
        .select_related("owner")
        .distinct()
        .order_by("-updated_at", "-id")[:20]
    )
    context = {"song": song, "playlists": playlists}
    if request.user.is_authenticated:
        context["my_playlists"] = editable_playlists(request.user)
    return render(request, "syromusic/song_detail.html", context)


def editable_playlists(user):
    """The playlists a user may add songs to: their own and those they edit, for "Add to" forms."""
    editing = Collaborator.objects.filter(playlist=OuterRef("pk"), user=user, level__in=["edit", "admin"])
    return Playlist.objects.filter(Q(owner=user) | Exists(editing)).order_by(Lower("name"), "id").only("id", "name")


@cache_page_for_visitors(*BOTH)
def playlist_list(request):
    playlists = Playlist.objects.public().for_listing().order_by("-updated_at", "-id")
    context = paginate(request, playlists, PLAYLISTS_PER_PAGE, areas=BOTH)
    return render(request, "syromusic/playlist_list.html", context)


@cache_page_for_visitors(*BOTH)
def playlist_detail(request, pk):
    # Private playlists answer 404 to everyone but their owner: their existence is not ours to reveal.
    collaborative = Exists(Collaborator.objects.filter(playlist=OuterRef("pk")))
    playlist = get_object_or_404(
        Playlist.objects.visible_to(request.user)
        .with_access_for(request.user)
        .select_related("owner")
        .annotate(is_collaborative=collaborative),
        pk=pk,
    )
    access = playlist.access_for(request.user)
    totals = PlaylistEntry.objects.filter(playlist=playlist).aggregate(
        count=Count("id"), duration_ms=Sum("song__duration_ms")
    )
    entries = playlist.entries_in_order()
    context = {
        "playlist": playlist,
        "is_owner": access == "owner",
        "can_edit": access in ("owner", "admin", "edit"),
        "can_manage": access in ("owner", "admin"),
        "entry_count": totals["count"],
        "total_duration_ms": totals["duration_ms"] or 0,
        **paginate(request, entries, ENTRIES_PER_PAGE, areas=BOTH, count=totals["count"]),
    }
    return render(request, "syromusic/playlist_detail.html", context)


@cache_page_for_visitors(*BOTH)
def search_page(request):
    """/music/search/?q=: every type's best results with a "more" link each, or one type's (&type=), paginated."""
    raw, kind_name = request.GET.get("q", ""), request.GET.get("type", "")
    context = {"q": raw, "kind_name": kind_name, "kinds": search.KINDS.values(), "groups": None, "page_obj": None}
    status = 200
    if kind_name and kind_name not in search.KINDS:
        context["error"] = f"There is no type “{kind_name}” to search. Choose artist, album, song or playlist."
        status = 400
    elif "q" in request.GET:
        try:
            query = search.parse(raw)
        except search.SearchError as error:
            context["error"] = str(error)
            status = 200 if not raw.strip() else 400
        else:
            context["query"] = query
            if kind_name:
                matches = search.Matches(search.KINDS[kind_name], query, request.user)
                page = page_of(request, Paginator(matches, SEARCH_PER_PAGE))
                context.update(kind=search.KINDS[kind_name], matches=matches, page_obj=page, page_window=page_window(page))
            else:
                context["groups"] = search.best(query, request.user, dict.fromkeys(search.KINDS, SEARCH_PER_TYPE))
            if request.user.is_authenticated:
                search.remember_search(request.user, query, kind_name)
    if request.user.is_authenticated:
        context["history"] = search.history(request.user)
        context["my_playlists"] = list(editable_playlists(request.user))
    return render(request, "syromusic/search.html", context, status=status)


def search_suggest(request):
    """Suggestions for the header search box as JSON: {"query", "suggestions": [{type, label, detail, url}], "message"}.

    The same for everyone (catalogue names only), so remembered until the catalogue changes.
    """
    raw = request.GET.get("q", "")
    try:
        query = search.parse(raw)
    except search.SearchError as error:
        response = JsonResponse({"query": raw, "suggestions": [], "message": str(error)})
    else:
        digest = hashlib.sha256(query.key.encode()).hexdigest()
        items = caching.remember(f"suggest:{digest}", (caching.CATALOGUE,), lambda: search.suggestions(query))
        response = JsonResponse({"query": raw, "suggestions": items, "message": "" if items else "No matches."})
    response["Cache-Control"] = "max-age=60"
    return response


@login_required
@require_POST
def search_history_remove(request, entry_id):
    get_object_or_404(SearchHistory, pk=entry_id, user=request.user).delete()
    return redirect(safe_next(request, reverse("music:search")))


@login_required
@require_POST
def search_history_clear(request):
    deleted, _ = SearchHistory.objects.filter(user=request.user).delete()
    messages.success(request, f"Cleared your search history ({deleted} search{'es' if deleted != 1 else ''}).")
    return redirect(safe_next(request, reverse("music:search")))


def page_not_found(request, exception):
    if request.path.startswith("/api/"):
        return problem_response(request, 404, "There is no API endpoint at this address.")
    return render(request, "404.html", status=404)


def server_error(request):
    if request.path.startswith("/api/"):
        return problem_response(request, 500, "The server failed to answer this request. It has been logged.")
    # No context processors: whatever failed may be what they would call. And if the
    # layout itself cannot render (say, static files were never collected), say so plainly.
    try:
        return render(None, "500.html", status=500)
    except Exception:
        logger.exception("the 500 page could not be rendered")
        return HttpResponseServerError(PLAIN_500, content_type="text/html; charset=utf-8")


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
    profile = getattr(person, "profile", None) or Profile(user=person)
    is_self = request.user.pk == person.pk
    context = {"person": person, "profile": profile, "is_self": is_self, "visible": profile.is_public or is_self}
    if context["visible"]:
        context["followers"], context["following"] = Follow.objects.counts_for(person)
        context["playlists"] = person.playlists.visible_to(request.user).for_listing().order_by("-updated_at", "-id")[:50]
    if request.user.is_authenticated and not is_self:
        context["follows"] = Follow.objects.filter(follower=request.user, followed=person).exists()
    if is_self:
        context["shared_with_me"] = Share.objects.filter(recipient=person).select_related("playlist", "sender")[:50]
        context["collaborations"] = person.collaborations.select_related("playlist__owner").order_by("-added_at")[:50]
    return render(request, "syromusic/user_detail.html", context)


@login_required
@require_POST
def follow(request, username):
    person = get_object_or_404(get_user_model(), username=username)
    if person.pk == request.user.pk:
        messages.error(request, "You cannot follow yourself.")
    else:
        Follow.objects.get_or_create(follower=request.user, followed=person)
        messages.success(request, f"You follow {person.get_username()}.")
    return redirect("music:user-detail", username=username)


@login_required
@require_POST
def unfollow(request, username):
    person = get_object_or_404(get_user_model(), username=username)
    Follow.objects.filter(follower=request.user, followed=person).delete()
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


def playlist_for(request, pk, need):
    """A playlist the user may do `need` with: 404 if they cannot even see it, 403 if they only see it."""
    playlist = get_object_or_404(
        Playlist.objects.visible_to(request.user).with_access_for(request.user).select_related("owner"), pk=pk
    )
    if not playlist.allows(request.user, need):
        raise PermissionDenied(f"This needs {need} rights on the playlist.")
    return playlist


@login_required
def playlist_create(request):
    form = PlaylistForm(request.POST or None, owner=request.user)
    if request.method == "POST" and form.is_valid():
        playlist = form.save(commit=False)
        playlist.owner = request.user
        playlist.save()
        messages.success(request, f"Playlist “{playlist.name}” created.")
        return redirect(playlist)
    return render(request, "syromusic/playlist_form.html", {"form": form})


@login_required
def playlist_edit(request, pk):
    playlist = playlist_for(request, pk, "admin")
    form = PlaylistForm(request.POST or None, instance=playlist, owner=playlist.owner)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Playlist saved.")
        return redirect(playlist)
    return render(request, "syromusic/playlist_form.html", {"form": form, "playlist": playlist})


@login_required
def playlist_delete(request, pk):
    playlist = playlist_for(request, pk, "owner")
    if request.method == "POST":
        name = playlist.name
        playlist.delete()
        messages.success(request, f"Playlist “{name}” deleted.")
        return redirect("music:user-detail", username=request.user.get_username())
    return render(request, "syromusic/playlist_confirm_delete.html", {"playlist": playlist})


@login_required
def playlist_collaborators(request, pk):
    playlist = playlist_for(request, pk, "admin")
    form = CollaboratorForm(request.POST or None, playlist=playlist)
    if request.method == "POST":
        remove = request.POST.get("remove")
        if remove:
            playlist.collaborators.filter(user_id=remove if remove.isdigit() else None).delete()
            messages.success(request, "Collaborator removed.")
            return redirect("music:playlist-collaborators", pk=playlist.pk)
        if form.is_valid():
            collaborator, created = Collaborator.objects.update_or_create(
                playlist=playlist, user=form.cleaned_data["username"], defaults={"level": form.cleaned_data["level"]}
            )
            verb = "added" if created else "changed"
            messages.success(request, f"{collaborator.user.get_username()} {verb}: {collaborator.get_level_display()}.")
            return redirect("music:playlist-collaborators", pk=playlist.pk)
    collaborators = playlist.collaborators.select_related("user").order_by("user__username")
    return render(
        request, "syromusic/playlist_collaborators.html",
        {"playlist": playlist, "form": form, "collaborators": collaborators},
    )


@login_required
def playlist_share_view(request, pk):
    playlist = playlist_for(request, pk, "admin")
    form = ShareForm(request.POST or None, playlist=playlist)
    if request.method == "POST" and form.is_valid():
        recipient = form.cleaned_data["username"]
        playlist_share(playlist=playlist, sender=request.user, recipient=recipient, message=form.cleaned_data["message"])
        messages.success(request, f"Shared with {recipient.get_username()}.")
        return redirect(playlist)
    return render(request, "syromusic/playlist_share.html", {"playlist": playlist, "form": form})


@login_required
@require_POST
def playlist_add(request, pk=None):
    """Add a song or a whole album to a playlist, named in the URL or chosen in the form."""
    pk = pk or request.POST.get("playlist", "")
    if not str(pk).isdigit():
        raise Http404("No playlist chosen.")
    playlist = playlist_for(request, int(pk), "edit")
    form = AddSongForm(request.POST)
    if form.is_valid():
        playlist.add_songs(form.cleaned_data["songs"], by=request.user)
        messages.success(request, f"Added {form.cleaned_data['label']} to {playlist.name}.")
    else:
        messages.error(request, " ".join(message for messages_ in form.errors.values() for message in messages_))
    return redirect(safe_next(request, playlist.get_absolute_url()))


@login_required
@require_POST
def entry_remove(request, pk, entry_id):
    playlist = playlist_for(request, pk, "edit")
    entry = get_object_or_404(PlaylistEntry, pk=entry_id, playlist=playlist)
    try:
        playlist.remove_entry(entry)
        messages.success(request, f"Removed entry {entry.position}.")
    except PlaylistEntry.DoesNotExist:
        messages.error(request, "That entry was already removed.")
    return redirect(playlist)


@login_required
@require_POST
def entry_move(request, pk, entry_id):
    playlist = playlist_for(request, pk, "edit")
    entry = get_object_or_404(PlaylistEntry, pk=entry_id, playlist=playlist)
    form = MoveEntryForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors["position"]))
    else:
        try:
            playlist.move_entry(entry, to=form.cleaned_data["position"])
        except ValueError as error:
            messages.error(request, f"Cannot move there: {error}.")
        except PlaylistEntry.DoesNotExist:
            messages.error(request, "That entry was removed meanwhile.")
    return redirect(f"{playlist.get_absolute_url()}#entry-{entry.pk}")


def safe_next(request, default):
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return default


def playlist_export(request, pk, kind):
    playlist = get_object_or_404(Playlist.objects.visible_to(request.user).select_related("owner"), pk=pk)
    entries = playlist.entries_in_order()
    body = EXPORTERS[kind](playlist, entries, request.build_absolute_uri)
    response = HttpResponse(body, content_type=CONTENT_TYPES[kind])
    filename = f"{make_slug(playlist.name, 100)}.{kind}"
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
    return response


@login_required
def playlist_import(request):
    form = PlaylistImportForm(request.POST or None, request.FILES or None, owner=request.user)
    if request.method == "POST" and form.is_valid():
        matches = match_items(form.cleaned_data["items"])
        playlist = playlist_create_from_matches(owner=request.user, name=form.cleaned_data["name"], matches=matches)
        found = sum(1 for _, song, _ in matches if song)
        return render(
            request, "syromusic/playlist_import_report.html",
            {"playlist": playlist, "matches": matches, "found": found, "missed": len(matches) - found},
        )
    return render(request, "syromusic/playlist_import.html", {"form": form})
