"""Hearts on the song, album and artist pages, and the listener's liked songs."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from SyroMusic.models import Album, Artist, Song, may_listen
from SyroMusic.services import like_set

from .common import paginate, safe_next

LIKED_SONGS_PER_PAGE = 50
LIKEABLE = {"songs": Song, "albums": Album, "artists": Artist}


@login_required
@require_POST
def like(request, kind, pk):
    """The heart button: `liked=1` likes the thing, `liked=0` no longer does; then back to the page."""
    thing = get_object_or_404(LIKEABLE[kind], pk=pk)
    like_set(user=request.user, thing=thing, liked=request.POST.get("liked") == "1")
    return redirect(safe_next(request, thing.get_absolute_url()))


@login_required
def liked_songs(request):
    songs = Song.objects.for_rows().liked_by(request.user)
    # Counted each time: the cached counts follow the catalogue's version, not a listener's hearts.
    context = {
        **paginate(request, songs, LIKED_SONGS_PER_PAGE, count=songs.count()),
        "may_listen": may_listen(request.user),
    }
    return render(request, "syromusic/liked_songs.html", context)
