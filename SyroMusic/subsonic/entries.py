"""How songs, albums and artists look to a Subsonic client: Child, AlbumID3 and ArtistID3 (with OpenSubsonic's
extra fields), and the querysets that load what they show.

Shaping never queries: load rows with songs(), albums() or artists() (one query for any number of rows,
two for albums with their genres) and pass them in. `starred` comes from the rows' `starred_at`, the time
the listener liked the thing.
"""

from datetime import UTC

from django.db.models import Count, Exists, OuterRef, Subquery

from SyroMusic.models import Album, Artist, Like, Song

from . import ids


def _liked_at(user, field):
    return Subquery(Like.objects.filter(user=user, **{field: OuterRef("pk")}).values("liked_at")[:1])


def songs(user):
    """Songs with what child() shows joined (album, artists, genre, the file) and the listener's like."""
    return Song.objects.for_listing().annotate(starred_at=_liked_at(user, "song"))


def albums(user):
    """Albums with what album_id3() shows: artist, song count, duration, genres (a second query), the like."""
    return (
        Album.objects.for_listing().with_track_stats().with_genres().annotate(starred_at=_liked_at(user, "album"))
    )


def artists(user):
    """Artists with what artist_id3() shows: their album count, whether one has a cover, the like."""
    with_cover = Album.objects.filter(artist=OuterRef("pk")).exclude(cover_hash="")
    return Artist.objects.annotate(
        album_count=Count("albums"), has_cover=Exists(with_cover), starred_at=_liked_at(user, "artist")
    )


def when(moment):
    """A time as Subsonic writes it: ISO 8601 in UTC, to the millisecond."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _path_part(text):
    return str(text).replace("/", "_").replace("\\", "_")


def _named(artist):
    return {"id": ids.of_artist(artist.pk), "name": artist.name}


def child(song, *, starred=None, user=None):
    """A song as a Subsonic <child>/<song>/<entry>: `song` from songs(user) (or with the same joins)."""
    album, artist, audio = song.album, song.artist, song.audio
    suffix = audio.format if audio else None
    duration_ms = audio.duration_ms if audio else song.duration_ms
    track = f"{song.track_number:02d} - " if song.track_number else ""
    starred = starred or getattr(song, "starred_at", None)
    return {
        "id": ids.of_song(song.pk),
        "parent": ids.of_album(album.pk),
        "isDir": False,
        "title": song.title,
        "album": album.title,
        "artist": artist.name,
        "track": song.track_number,
        "discNumber": song.disc_number,
        "year": album.release_year,
        "genre": song.genre.name if song.genre_id else None,
        "coverArt": ids.of_album(album.pk) if album.cover_hash else None,
        "size": audio.size if audio else None,
        "contentType": audio.mime_type if audio else None,
        "suffix": suffix,
        "duration": round(duration_ms / 1000) if duration_ms is not None else None,
        "bitRate": round(audio.bitrate / 1000) if audio else None,
        "samplingRate": audio.sample_rate if audio else None,
        "channelCount": audio.channels if audio else None,
        # Where the song would sit in a folder tree (clients show it and key caches by it): never the
        # server's own path.
        "path": "/".join(map(_path_part, (album.artist.name, album.title, f"{track}{song.title}.{suffix or 'mp3'}"))),
        "albumId": ids.of_album(album.pk),
        "artistId": ids.of_artist(artist.pk),
        "type": "music",
        "mediaType": "song",
        "isVideo": False,
        "created": when(song.created_at),
        "starred": when(starred),
        "musicBrainzId": str(song.mbid) if song.mbid else None,
        "genres": [{"name": song.genre.name}] if song.genre_id else [],
        "artists": [_named(artist)],
        "displayArtist": artist.name,
        "albumArtists": [_named(album.artist)],
        "displayAlbumArtist": album.artist.name,
        "displayComposer": song.composer or None,
        "explicitStatus": "explicit" if song.explicit else "",
    }


def album_id3(album, *, songs=None):
    """An album as AlbumID3 (getAlbum adds its songs as `song`): `album` from albums(user)."""
    genres = [genre.name for genre in album.genres.all()]
    duration_ms = getattr(album, "total_duration_ms", None) or 0
    date = album.release_date
    entry = {
        "id": ids.of_album(album.pk),
        "parent": ids.of_artist(album.artist_id),
        "name": album.title,
        "title": album.title,
        "artist": album.artist.name,
        "artistId": ids.of_artist(album.artist_id),
        "coverArt": ids.of_album(album.pk) if album.cover_hash else None,
        "songCount": getattr(album, "song_count", 0),
        "duration": round(duration_ms / 1000),
        "created": when(album.created_at),
        "year": album.release_year,
        "genre": genres[0] if genres else None,
        "starred": when(getattr(album, "starred_at", None)),
        "isDir": True,
        "musicBrainzId": str(album.mbid) if album.mbid else None,
        "genres": [{"name": name} for name in genres],
        "artists": [_named(album.artist)],
        "displayArtist": album.artist.name,
        "releaseTypes": [album.get_album_type_display()],
        "isCompilation": album.is_compilation,
        "recordLabels": [{"name": album.label}] if album.label else [],
        "releaseDate": {"year": date.year, "month": date.month, "day": date.day} if date else None,
    }
    if songs is not None:
        entry["song"] = [child(song) for song in songs]
    return entry


def album_child(album):
    """An album as a folder <child> (getMusicDirectory of an artist): `album` from albums(user)."""
    genres = [genre.name for genre in album.genres.all()]
    return {
        "id": ids.of_album(album.pk),
        "parent": ids.of_artist(album.artist_id),
        "isDir": True,
        "title": album.title,
        "album": album.title,
        "artist": album.artist.name,
        "year": album.release_year,
        "genre": genres[0] if genres else None,
        "coverArt": ids.of_album(album.pk) if album.cover_hash else None,
        "created": when(album.created_at),
        "starred": when(getattr(album, "starred_at", None)),
        "albumId": ids.of_album(album.pk),
        "artistId": ids.of_artist(album.artist_id),
        "mediaType": "album",
    }


def artist_id3(artist, *, albums=None):
    """An artist as ArtistID3 (getArtist adds their albums as `album`): `artist` from artists(user)."""
    entry = {
        "id": ids.of_artist(artist.pk),
        "name": artist.name,
        "coverArt": ids.of_artist(artist.pk) if getattr(artist, "has_cover", False) else None,
        "albumCount": getattr(artist, "album_count", 0),
        "starred": when(getattr(artist, "starred_at", None)),
        "artistImageUrl": artist.image_url or None,
        "sortName": artist.sort_name,
        "musicBrainzId": str(artist.mbid) if artist.mbid else None,
    }
    if albums is not None:
        entry["album"] = [album_id3(album) for album in albums]
    return entry
