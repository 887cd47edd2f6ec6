"""Playlists as files: M3U8, XSPF and JSPF out; M3U/M3U8 and XSPF in, matched against the catalogue.

A song's location is its page on this site (there are no audio files); on
import, entries are matched by artist, title and (when given) album, ignoring
case and accents, since players write names as they please. Every writer escapes
what it writes (names hold no control characters, and a writer would blank one
out anyway), so a file re-imports to the same songs.
"""

import hashlib
import json
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, replace
from xml.sax.saxutils import escape

from django.core.exceptions import ValidationError

from . import caching
from .models import Artist, Playlist, Song, make_slug, refuse_control_characters
from .text import fold, one_line

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
    # M3U has no escapes: a name is safe on its line once it cannot end the line.
    lines = ["#EXTM3U", f"#PLAYLIST:{one_line(playlist.name)}"]
    for track in _tracks(entries, absolute_url):
        seconds = round(track["duration"] / 1000) if track["duration"] is not None else -1
        label = one_line(f"{track['creator']} - {track['title']}")
        lines += [f"#EXTINF:{seconds},{label}", f"#EXTALB:{one_line(track['album'])}", one_line(track["location"])]
    return "\n".join(lines) + "\n"


def _xml_text(value):
    """Text as XML 1.0 character data: markup escaped, and characters XML cannot hold at all (controls) blanked."""
    return escape(one_line(str(value)))


def to_xspf(playlist, entries, absolute_url):
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<playlist version="1" xmlns="{XSPF_NAMESPACE}">',
        f"  <title>{_xml_text(playlist.name)}</title>",
        f"  <creator>{_xml_text(playlist.owner.get_username())}</creator>",
        "  <trackList>",
    ]
    for track in _tracks(entries, absolute_url):
        parts.append("    <track>")
        for key in ("location", "title", "creator", "album", "duration", "trackNum"):
            if track[key] is not None:
                parts.append(f"      <{key}>{_xml_text(track[key])}</{key}>")
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
    """The playlist as an M3U8, XSPF or JSPF file; absolute_url(path) makes each song's location.

    A long playlist takes a while to write, so each file is kept until a playlist or the catalogue
    changes: the same file for every download in between. The locations depend on the site's
    address, the creator on the owner's name: both are part of the key.
    """
    writer = hashlib.sha256(f"{absolute_url('/')}|{playlist.owner.get_username()}".encode()).hexdigest()[:32]
    body = caching.remember(
        f"playlist-file:{playlist.pk}:{kind}:{writer}", (caching.CATALOGUE, caching.PLAYLISTS),
        lambda: EXPORTERS[kind](playlist, playlist.entries_in_order(), absolute_url),
    )
    return Export(body, CONTENT_TYPES[kind], f"{make_slug(playlist.name, 100)}.{kind}")


@dataclass
class Item:
    number: int
    artist: str
    title: str
    album: str = ""
    # Other ways to split an M3U label "A - B - C" into artist and title: a name may hold " - " itself.
    other_readings: tuple = ()


MAX_IMPORT_BYTES = 1_000_000
# No name in the catalogue is longer (a title holds 300 characters): longer text in a file cannot match,
# and is cut so that a report echoes no more than this of it.
MAX_ITEM_TEXT = 300
MAX_OTHER_READINGS = 3


def _clip(text):
    return text.strip()[:MAX_ITEM_TEXT]


def read_import(*, upload, name, owner):
    """(name, items) of an uploaded playlist file that will become a new playlist of the owner's.

    The name defaults to the playlist's title in the file, else the file's name; ValidationError says
    what is wrong with the file or the name. A file may list at most Playlist.MAX_ENTRIES songs.
    """
    if upload.size > MAX_IMPORT_BYTES:
        raise ValidationError("The file is larger than 1 MB.")
    try:
        title, items = parse_playlist_file(upload.name, upload.read())
    except UnreadableFile as error:
        raise ValidationError(str(error)) from None
    if not items:
        raise ValidationError("The file lists no songs.")
    if len(items) > Playlist.MAX_ENTRIES:
        raise ValidationError(f"The file lists {len(items):,} songs; a playlist holds at most {Playlist.MAX_ENTRIES:,}.")
    if name:
        refuse_control_characters(name)  # a typed name is refused, as everywhere
    else:  # a name the file gives is mended
        name = " ".join(one_line(title or upload.name.rsplit(".", 1)[0]).split())[:200].strip() or "Imported"
    if Playlist.objects.name_taken(owner, name):
        raise ValidationError(f"You already have a playlist called {name!r}: choose another name.")
    return name, items


class UnreadableFile(ValueError):
    pass


def parse_playlist_file(name, data):
    """(the playlist's title or "", its entries as Items), by the file's extension (.m3u, .m3u8, .xspf)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")  # plain .m3u files are often Latin-1
    if name.lower().endswith(".xspf"):
        return _parse_xspf(text)
    if name.lower().endswith((".m3u", ".m3u8")):
        return _parse_m3u(text)
    raise UnreadableFile("Choose an .m3u, .m3u8 or .xspf file.")


def _label_item(number, label):
    """An Item from "Artist - Title": split at the first " - ", with the next few splits as other readings."""
    label = label.strip()[: 2 * MAX_ITEM_TEXT + 3]
    parts = label.split(" - ", MAX_OTHER_READINGS + 1)
    if len(parts) == 1:
        return Item(number, "", _clip(label))
    readings = [
        (_clip(" - ".join(parts[:split])), _clip(label[len(" - ".join(parts[:split])) + 3:]))
        for split in range(1, len(parts))
    ]
    (artist, title), *others = readings
    return Item(number, artist, title, other_readings=tuple(others))


def _parse_m3u(text):
    items, pending, title = [], None, ""
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("#EXTINF:"):
            _, _, label = line.partition(",")
            pending = _label_item(len(items) + 1, label)
        elif line.startswith("#EXTALB:") and pending:
            pending.album = _clip(line[len("#EXTALB:"):])
        elif line.startswith("#PLAYLIST:"):
            title = line[len("#PLAYLIST:"):].strip()
        elif line and not line.startswith("#"):
            if pending is None:  # a bare path: "Artist - Title.mp3" is the best guess
                pending = _label_item(len(items) + 1, line.rsplit("/", 1)[-1].rsplit(".", 1)[0])
            items.append(pending)
            pending = None
    return title, items


def _parse_xspf(text):
    try:
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError as error:
        raise UnreadableFile(f"This XSPF file is not well-formed XML ({error}).") from None
    namespace = {"x": XSPF_NAMESPACE}
    items = []
    for number, track in enumerate(root.iterfind(".//x:trackList/x:track", namespace), start=1):
        creator, title, album = (
            _clip(track.findtext(f"x:{tag}", default="", namespaces=namespace) or "")
            for tag in ("creator", "title", "album")
        )
        items.append(Item(number, creator, title, album))
    return (root.findtext("x:title", default="", namespaces=namespace) or "").strip(), items


def _readings(item):
    return [(item.artist, item.title), *item.other_readings]


def match_items(items):
    """[(item, song or None, note)]: each entry matched by artist, title and album, ignoring case and accents."""
    wanted_artists = {fold(artist) for item in items for artist, _ in _readings(item) if artist}
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
        for artist, title in item.other_readings:
            if (fold(item.artist), fold(item.title)) in candidates:
                break
            if (fold(artist), fold(title)) in candidates:  # the artist's name holds " - " itself
                item = replace(item, artist=artist, title=title)
                break
        item = replace(item, other_readings=())
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
