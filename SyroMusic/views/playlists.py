"""Playlist pages: lists, details, editing, collaborators, sharing, and playlist files."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Exists, OuterRef, Sum
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from SyroMusic import playlist_files
from SyroMusic import search as searching
from SyroMusic.models import Collaborator, Need, Playlist, PlaylistEntry, may_listen
from SyroMusic.services import playlist_import_file, playlist_share
from SyroMusic.web.limits import DOWNLOADS, SHARES, take_download
from SyroMusic.web.page_cache import cache_page_for_visitors
from SyroMusic.web.responses import attachment, too_many_requests

from .common import BOTH, paginate, safe_next
from .forms import AddSongForm, CollaboratorForm, MoveEntryForm, PlaylistForm, PlaylistImportForm, ShareForm

PLAYLISTS_PER_PAGE = 20
ENTRIES_PER_PAGE = 100
FILTER_FROM = 20  # entries from which a playlist page offers to filter its rows by text
FIND_RESULTS = 10


@cache_page_for_visitors(*BOTH)
def playlist_list(request):
    playlists = Playlist.objects.public().for_listing().recently_updated()
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
    totals = PlaylistEntry.objects.filter(playlist=playlist).aggregate(
        count=Count("id"), duration_ms=Sum("song__duration_ms")
    )
    context = {
        "playlist": playlist,
        "is_owner": playlist.allows(request.user, Need.DELETE),
        "can_edit": playlist.allows(request.user, Need.EDIT_ENTRIES),
        "can_manage": playlist.allows(request.user, Need.MANAGE),
        "entry_count": totals["count"],
        "total_duration_ms": totals["duration_ms"] or 0,
        "may_listen": may_listen(request.user),
        "filterable": totals["count"] >= FILTER_FROM,
        **paginate(request, playlist.entries_in_order(), ENTRIES_PER_PAGE, areas=BOTH, count=totals["count"]),
    }
    # "Find songs to add": offered while the playlist is empty, and kept while the listener adds.
    find = request.GET.get("find")
    if context["can_edit"] and (find is not None or not totals["count"]):
        context.update(find_songs(request.user, find))
    return render(request, "syromusic/playlist_detail.html", context)


def find_songs(user, find):
    """The search inside a playlist page: its text, its best songs (two queries at most) or what is wrong with it."""
    context = {"finding": True, "find": find or ""}
    if find:
        try:
            context["found"] = searching.best(searching.parse(find), user, {"song": FIND_RESULTS})["song"].rows
        except searching.SearchError as error:
            context["find_error"] = str(error)
    return context


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
        try:
            playlist.save_with_unique_name()
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"Playlist “{playlist.name}” created.")
            return redirect(playlist)
    return render(request, "syromusic/playlist_form.html", {"form": form})


@login_required
def playlist_edit(request, pk):
    playlist = playlist_for(request, pk, Need.MANAGE)
    form = PlaylistForm(request.POST or None, instance=playlist, owner=playlist.owner)
    if request.method == "POST" and form.is_valid():
        try:
            form.save(commit=False).save_with_unique_name()
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "Playlist saved.")
            return redirect(playlist)
    return render(request, "syromusic/playlist_form.html", {"form": form, "playlist": playlist})


@login_required
def playlist_delete(request, pk):
    playlist = playlist_for(request, pk, Need.DELETE)
    if request.method == "POST":
        name = playlist.name
        playlist.delete()
        messages.success(request, f"Playlist “{name}” deleted.")
        return redirect("music:user-detail", username=request.user.get_username())
    return render(request, "syromusic/playlist_confirm_delete.html", {"playlist": playlist})


@login_required
def playlist_collaborators(request, pk):
    playlist = playlist_for(request, pk, Need.MANAGE)
    form = CollaboratorForm(request.POST or None, playlist=playlist)
    if request.method == "POST":
        remove = request.POST.get("remove")
        if remove:
            if remove.isdigit():
                playlist.remove_collaborator(int(remove))
            messages.success(request, "Collaborator removed.")
            return redirect("music:playlist-collaborators", pk=playlist.pk)
        if form.is_valid():
            collaborator, created = playlist.set_collaborator(form.cleaned_data["username"], form.cleaned_data["level"])
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
    playlist = playlist_for(request, pk, Need.MANAGE)
    form = ShareForm(request.POST or None, playlist=playlist)
    if request.method == "POST" and form.is_valid():
        recipient = form.cleaned_data["username"]
        wait = SHARES.take(request.user.pk)
        if wait:
            form.add_error(None, SHARES.message(wait))
            return render(request, "syromusic/playlist_share.html", {"playlist": playlist, "form": form}, status=429)
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
    playlist = playlist_for(request, int(pk), Need.EDIT_ENTRIES)
    form = AddSongForm(request.POST)
    if form.is_valid():
        try:
            playlist.add_songs(form.cleaned_data["songs"], by=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, f"Added {form.cleaned_data['label']} to {playlist.name}.")
    else:
        messages.error(request, " ".join(message for messages_ in form.errors.values() for message in messages_))
    return redirect(safe_next(request, playlist.get_absolute_url()))


@login_required
@require_POST
def entry_remove(request, pk, entry_id):
    playlist = playlist_for(request, pk, Need.EDIT_ENTRIES)
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
    playlist = playlist_for(request, pk, Need.EDIT_ENTRIES)
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


def playlist_export(request, pk, kind):
    playlist = get_object_or_404(Playlist.objects.visible_to(request.user).select_related("owner"), pk=pk)
    wait = take_download(request)
    if wait:
        return too_many_requests(DOWNLOADS.message(wait), wait)
    return attachment(playlist_files.export(playlist, kind, request.build_absolute_uri))


@login_required
def playlist_import(request):
    form = PlaylistImportForm(request.POST or None, request.FILES or None, owner=request.user)
    if request.method == "POST" and form.is_valid():
        report = playlist_import_file(owner=request.user, name=form.cleaned_data["name"], items=form.cleaned_data["items"])
        context = {
            "playlist": report.playlist, "entry_count": len(report.matches), "matches": report.reported,
            "unreported": report.unreported, "found": report.found, "missed": report.missed,
        }
        return render(request, "syromusic/playlist_import_report.html", context)
    return render(request, "syromusic/playlist_import.html", {"form": form})
