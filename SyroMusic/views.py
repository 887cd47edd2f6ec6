from django.shortcuts import get_object_or_404, render

from .models import Album, Artist, Playlist, Song


def home(request):
    counts = {
        "artists": Artist.objects.count(),
        "albums": Album.objects.count(),
        "songs": Song.objects.count(),
    }
    return render(request, "syromusic/home.html", {"counts": counts})


def artist_detail(request, pk):
    artist = get_object_or_404(Artist, pk=pk)
    albums = artist.albums.order_by("release_date", "id")
    return render(request, "syromusic/artist_detail.html", {"artist": artist, "albums": albums})


def album_detail(request, pk):
    album = get_object_or_404(Album.objects.for_listing(), pk=pk)
    songs = album.songs.for_listing().in_tracklist_order()
    return render(request, "syromusic/album_detail.html", {"album": album, "songs": songs})


def song_detail(request, pk):
    song = get_object_or_404(Song.objects.for_listing(), pk=pk)
    return render(request, "syromusic/song_detail.html", {"song": song})


def playlist_detail(request, pk):
    # Private playlists answer 404 to everyone but their owner: their existence is not ours to reveal.
    playlist = get_object_or_404(Playlist.objects.visible_to(request.user).select_related("owner"), pk=pk)
    return render(
        request, "syromusic/playlist_detail.html", {"playlist": playlist, "entries": playlist.entries_in_order()}
    )
