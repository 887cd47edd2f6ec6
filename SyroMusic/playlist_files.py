"""Playlists as files: M3U8, XSPF and JSPF out; M3U/M3U8 and XSPF in, matched against the catalogue.

A song's location is its page on this site (there are no audio files); on
import, entries are matched by artist, title and (when given) album, ignoring
case and accents, since players write names as they please.
"""

import json
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from xml.sax.saxutils import escape

from django.core.exceptions import ValidationError

from .models import Artist, Playlist, Song, make_slug
from .text import fold

XSPF_NAMESPACE = "http://xspf.org/ns/0/"
CONTENT_TYPES = {
    "m3u8": "audio/x-mpegurl; charset=utf-8",
    "xspf": "application/xspf+xml; charset=utf-8",
    "jspf": "application/json; charset=utf-8",
}


def _tracks(entries, absolute_url):
    for entry in entries:
        song = entry.song
        yield {
            "location": absolute_url(song.get_absolute_url()),
            "title": song.title,
            "creator": song.artist.name,
            "album": song.album.title,
            "duration": song.duration_ms,
            "trackNum": entry.position,
        }


def to_m3u8(playlist, entries, absolute_url):
    lines = ["#EXTM3U", f"#PLAYLIST:{playlist.name}"]
    for track in _tracks(entries, absolute_url):
        seconds = round(track["duration"] / 1000) if track["duration"] is not None else -1
        lines += [f"#EXTINF:{seconds},{track['creator']} - {track['title']}", f"#EXTALB:{track['album']}", track["location"]]
    return "\n".join(lines) + "\n"


def to_xspf(playlist, entries, absolute_url):
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<playlist version="1" xmlns="{XSPF_NAMESPACE}">',
        f"  <title>{escape(playlist.name)}</title>",
        f"  <creator>{escape(playlist.owner.get_username())}</creator>",
        "  <trackList>",
    ]
    for track in _tracks(entries, absolute_url):
        parts.append("    <track>")
        for key in ("location", "title", "creator", "album", "duration", "trackNum"):
            if track[key] is not None:
                parts.append(f"      <{key}>{escape(str(track[key]))}</{key}>")
        parts.append("    </track>")
    parts += ["  </trackList>", "</playlist>"]
    return "\n".join(parts) + "\n"


def to_jspf(playlist, entries, absolute_url):
    tracks = []
    for track in _tracks(entries, absolute_url):
        item = {key: value for key, value in track.items() if value is not None}
        item["location"] = [item["location"]]
        tracks.append(item)
    document = {"playlist": {"title": playlist.name, "creator": playlist.owner.get_username(), "track": tracks}}
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


EXPORTERS = {"m3u8": to_m3u8, "xspf": to_xspf, "jspf": to_jspf}


@dataclass
class Export:
    """A playlist written as a file: what to send, and the name to save it under."""

    body: str
    content_type: str
    filename: str


def export(playlist, kind, absolute_url):
    """The playlist as an M3U8, XSPF or JSPF file; absolute_url(path) makes each song's location."""
    body = EXPORTERS[kind](playlist, playlist.entries_in_order(), absolute_url)
    return Export(body, CONTENT_TYPES[kind], f"{make_slug(playlist.name, 100)}.{kind}")


@dataclass
class Item:
    number: int
    artist: str
    title: str
    album: str = ""


MAX_IMPORT_BYTES = 1_000_000


def read_import(*, upload, name, owner):
    """(name, items) of an uploaded playlist file that will become a new playlist of the owner's.

    The name defaults to the file's; ValidationError says what is wrong with the file or the name.
    """
    if upload.size > MAX_IMPORT_BYTES:
        raise ValidationError("The file is larger than 1 MB.")
    try:
        items = parse_playlist_file(upload.name, upload.read())
    except UnreadableFile as error:
        raise ValidationError(str(error)) from None
    if not items:
        raise ValidationError("The file lists no songs.")
    name = name or upload.name.rsplit(".", 1)[0][:200] or "Imported"
    if Playlist.objects.name_taken(owner, name):
        raise ValidationError(f"You already have a playlist called {name!r}: choose another name.")
    return name, items


class UnreadableFile(ValueError):
    pass


def parse_playlist_file(name, data):
    """The file's entries as Items, by its extension (.m3u, .m3u8, .xspf)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")  # plain .m3u files are often Latin-1
    if name.lower().endswith(".xspf"):
        return _parse_xspf(text)
    if name.lower().endswith((".m3u", ".m3u8")):
        return _parse_m3u(text)
    raise UnreadableFile("Choose an .m3u, .m3u8 or .xspf file.")


def _parse_m3u(text):
    items, pending = [], None
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("#EXTINF:"):
            _, _, label = line.partition(",")
            artist, separator, title = label.partition(" - ")
            pending = Item(len(items) + 1, artist.strip(), title.strip()) if separator else Item(len(items) + 1, "", label.strip())
        elif line.startswith("#EXTALB:") and pending:
            pending.album = line[len("#EXTALB:"):].strip()
        elif line and not line.startswith("#"):
            if pending is None:  # a bare path: "Artist - Title.mp3" is the best guess
                stem = line.rsplit("/", 1)[-1].rsplit(".", 1)[0]
                artist, separator, title = stem.partition(" - ")
                pending = Item(len(items) + 1, artist.strip() if separator else "", (title if separator else stem).strip())
            items.append(pending)
            pending = None
    return items


def _parse_xspf(text):
    try:
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError as error:
        raise UnreadableFile(f"This XSPF file is not well-formed XML ({error}).") from None
    namespace = {"x": XSPF_NAMESPACE}
    items = []
    for number, track in enumerate(root.iterfind(".//x:trackList/x:track", namespace), start=1):
        creator, title, album = (
            (track.findtext(f"x:{tag}", default="", namespaces=namespace) or "").strip()
            for tag in ("creator", "title", "album")
        )
        items.append(Item(number, creator, title, album))
    return items


def match_items(items):
    """[(item, song or None, note)]: each entry matched by artist, title and album, ignoring case and accents."""
    wanted_artists = {fold(item.artist) for item in items if item.artist}
    artist_ids = {}
    for artist_id, name in Artist.objects.values_list("id", "name").iterator(chunk_size=5000):
        folded = fold(name)
        if folded in wanted_artists:
            artist_ids.setdefault(folded, []).append(artist_id)
    candidates = {}
    all_ids = [pk for ids in artist_ids.values() for pk in ids]
    for song in Song.objects.filter(artist_id__in=all_ids).select_related("album", "artist").order_by("id"):
        candidates.setdefault((fold(song.artist.name), fold(song.title)), []).append(song)
    results = []
    for item in items:
        if not item.title:
            results.append((item, None, "no title in the file"))
            continue
        if fold(item.artist) not in artist_ids:
            results.append((item, None, f"no artist called {item.artist!r} in the catalogue" if item.artist else "no artist in the file"))
            continue
        songs = candidates.get((fold(item.artist), fold(item.title)), [])
        if item.album:
            songs = [song for song in songs if fold(song.album.title) == fold(item.album)] or songs
        if not songs:
            results.append((item, None, f"{item.artist} has no song called {item.title!r}"))
        elif len(songs) > 1:
            results.append((item, songs[0], f"{len(songs)} songs match; took the one on {songs[0].album.title!r}"))
        else:
            results.append((item, songs[0], "matched"))
    return results
