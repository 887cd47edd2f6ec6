"""Subsonic ids are strings: a song is its pk ("123"), an album "al-<pk>", an artist "ar-<pk>", a playlist
its pk, a genre its name. Distinct prefixes let one parameter (star's id, getCoverArt's id) name any of them.

Reading one back gives the pk, or error 70 when the id cannot be ours: a client never learns more from a
malformed id than from a missing one.
"""

import re

from .core import NOT_FOUND, SubsonicError

ALBUM = "al-"
ARTIST = "ar-"
# Past 18 digits a number no longer fits PostgreSQL's bigint: such an id names nothing.
_PK = re.compile(r"[0-9]{1,18}")


def of_song(pk):
    return str(pk)


def of_album(pk):
    return f"{ALBUM}{pk}"


def of_artist(pk):
    return f"{ARTIST}{pk}"


def of_playlist(pk):
    return str(pk)


def _pk(raw, prefix, what):
    text = (raw or "").strip()
    if text.startswith(prefix) and _PK.fullmatch(text[len(prefix):]):
        return int(text[len(prefix):])
    raise SubsonicError(NOT_FOUND, f"{what} not found: {text[:40]!r}")


def song(raw) -> int:
    return _pk(raw, "", "Song")


def album(raw) -> int:
    return _pk(raw, ALBUM, "Album")


def artist(raw) -> int:
    return _pk(raw, ARTIST, "Artist")


def playlist(raw) -> int:
    return _pk(raw, "", "Playlist")


def kind(raw):
    """("song" | "album" | "artist", pk) for any song, album or artist id (star's `id`, getCoverArt's)."""
    text = (raw or "").strip()
    if text.startswith(ALBUM):
        return "album", album(text)
    if text.startswith(ARTIST):
        return "artist", artist(text)
    return "song", song(text)
