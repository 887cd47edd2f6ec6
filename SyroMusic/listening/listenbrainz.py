"""ListenBrainz's listen format: a listener's history written out (JSON, and CSV for spreadsheets), and a
ListenBrainz export read back in, matched to the catalogue like a playlist file.

ListenBrainz keeps scrobbles, that is counted listens: the JSON export holds only those, and an imported
listen is recorded as counted. Each imported listen gets an id made from what it says (or the id a
SyroMusic export wrote), so importing a file twice records nothing twice.
"""

import codecs
import csv
import hashlib
import io
import itertools
import json
import re
import uuid
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.utils import timezone

from SyroMusic.models import Listen, Song
from SyroMusic.playlist_files import MAX_ITEM_TEXT, Item, match_items
from SyroMusic.text import fold, one_line

from . import record

MEDIA_PLAYER = "SyroMusic"
CSV_COLUMNS = [
    "started_at", "title", "artist", "album", "duration_ms", "heard_ms", "counted", "client", "source", "song_id",
]
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection): such cells are
# written with a leading apostrophe, which spreadsheets show as text and do not run.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

MAX_UPLOAD_BYTES = 5_000_000
# An import runs in one web request and holds what it read in memory: a ZIP may unpack to no more than this.
MAX_UNPACKED_BYTES = 20_000_000
MAX_ARCHIVE_MEMBERS = 10_000
RECORD_BATCH = 1_000
REPORT_ROWS = 50
# The API's bounds on when a listen started (SyroMusic.api.history): the same for an imported one.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
FUTURE_SLACK = timedelta(minutes=5)
CLIENT_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
MATCH_CHUNK = 1_000


def song_duration(song):
    return song.audio.duration_ms if song.audio_id and song.audio.duration_ms else song.duration_ms


def iso_utc(moment):
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def lb_listen(listen):
    """A counted listen (with its song) as ListenBrainz writes one."""
    song = listen.song
    info = {"duration_ms": song_duration(song)}
    if song.mbid:
        info["recording_mbid"] = str(song.mbid)
    if song.album.mbid:
        info["release_mbid"] = str(song.album.mbid)
    if song.artist.mbid:
        info["artist_mbids"] = [str(song.artist.mbid)]
    info.update(
        {
            "media_player": MEDIA_PLAYER,
            "submission_client": listen.client,
            "syromusic_heard_ms": listen.heard_ms,
            "syromusic_counted": listen.counted,
            "syromusic_client_id": listen.client_id,
        }
    )
    return {
        "listened_at": int(listen.started_at.timestamp()),
        "track_metadata": {
            "artist_name": song.artist.name,
            "track_name": song.title,
            "release_name": song.album.title,
            "additional_info": info,
        },
    }


def json_export(listens):
    """The counted listens that still have their song, as a JSON array (ListenBrainz's listen format), in
    pieces to stream: `listens` is an iterator of Listen rows with their songs (Listen.for_history)."""
    yield "["
    first = True
    for listen in listens:
        if not listen.counted or listen.song is None:
            continue
        yield ("\n" if first else ",\n") + json.dumps(lb_listen(listen), ensure_ascii=False)
        first = False
    yield "\n]\n"


def neutralise(cell):
    """A text cell a spreadsheet shows as text, never runs as a formula."""
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


class _Line:
    """csv.writer writes into this; each row comes back as a string to stream."""

    def write(self, text):
        return text


def csv_export(listens):
    """Every listen (skips too), one CSV row each, in pieces to stream."""
    writer = csv.writer(_Line())
    yield writer.writerow(CSV_COLUMNS)
    for listen in listens:
        song = listen.song
        yield writer.writerow(
            [
                iso_utc(listen.started_at),
                neutralise(song.title) if song else "",
                neutralise(song.artist.name) if song else "",
                neutralise(song.album.title) if song else "",
                song_duration(song) if song and song_duration(song) is not None else "",
                listen.heard_ms,
                "true" if listen.counted else "false",
                neutralise(listen.client),
                listen.source,
                listen.song_id or "",
            ]
        )


def export_filename(kind, today):
    return f"syromusic-listens-{today:%Y-%m-%d}.{kind}"


class ImportRefused(ValueError):
    """The file as a whole cannot be read: nothing was recorded. The message says where."""


@dataclass
class Scrobble:
    """One listen read from a ListenBrainz file."""

    where: str
    listened_at: datetime
    artist: str
    title: str
    release: str
    recording_mbid: uuid.UUID | None
    duration_ms: int | None
    heard_ms: int | None
    client: str
    client_id: str


@dataclass
class ImportReport:
    read: int = 0
    recorded: int = 0
    already: int = 0
    not_found: int = 0
    unmatched: list = field(default_factory=list)  # the first REPORT_ROWS (artist, title, listened_at)
    bad: list = field(default_factory=list)  # the first REPORT_ROWS (where, reason)
    bad_count: int = 0

    def bad_line(self, where, reason):
        self.bad_count += 1
        if len(self.bad) < REPORT_ROWS:
            self.bad.append((where, reason))

    def missed(self, scrobble):
        self.not_found += 1
        if len(self.unmatched) < REPORT_ROWS:
            self.unmatched.append((scrobble.artist, scrobble.title, scrobble.listened_at))


def import_listens(*, user, name, data, now=None):
    """Read a ListenBrainz export (a JSON array, JSON Lines, or ListenBrainz's ZIP) and record the listens
    that match a song of the catalogue. ImportRefused (nothing recorded) for a file that cannot be read as a
    whole; a line that is not a listen is reported, and so is a listen that matches no song."""
    report = ImportReport()
    scrobbles = list(read_export(name, data, report, now=now or timezone.now()))
    if not scrobbles:
        if report.bad:
            where, reason = report.bad[0]
            raise ImportRefused(f"No listen could be read: {where}: {reason}")
        raise ImportRefused("The file holds no listens.")
    report.read = len(scrobbles)
    songs = match(scrobbles)
    events = []
    for scrobble in scrobbles:
        song = songs.get(id(scrobble))
        if song is None:
            report.missed(scrobble)
            continue
        heard = scrobble.heard_ms if scrobble.heard_ms is not None else scrobble.duration_ms
        if heard is None:
            heard = song.duration_ms or 0  # record() caps it at the audio's own length
        events.append(
            record.Event(
                client_id=scrobble.client_id, song_id=song.pk, started_at=scrobble.listened_at, heard_ms=heard,
                client=scrobble.client, counted=True,
            )
        )
    for start in range(0, len(events), RECORD_BATCH):
        result = record.record(user, events[start : start + RECORD_BATCH], source=Listen.Source.IMPORT)
        report.recorded += len(result.listens)
        report.already += len(result.duplicates)
        report.not_found += len(result.skipped)  # a song deleted since it was matched
    return report


def read_export(name, data, report, *, now, max_upload=None, max_unpacked=None):
    """The Scrobbles of an uploaded file, in file order; lines that are not listens go to the report."""
    max_upload = MAX_UPLOAD_BYTES if max_upload is None else max_upload
    if len(data) > max_upload:
        raise ImportRefused(f"{name} is larger than {max_upload / 1_000_000:g} MB.")
    if data[:4] == b"PK\x03\x04":
        for member, lines in _archive_members(name, data, MAX_UNPACKED_BYTES if max_unpacked is None else max_unpacked):
            yield from _read_document(f"{name}: {member}", lines, report, now)
    else:
        yield from _read_document(name, io.BytesIO(data), report, now)


def _archive_members(name, data, max_unpacked):
    """(member name, its lines as bytes) of the listens files in a ZIP: listens/… when there are any
    (ListenBrainz's own export), else every .json/.jsonl file. Each member is unpacked as its lines are read,
    and the bytes really unpacked are counted, whatever the archive says."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError) as error:
        raise ImportRefused(f"{name} is not a ZIP file that can be read ({error}).") from None
    with archive:
        members = [
            info for info in archive.infolist()
            if not info.is_dir() and info.filename.lower().endswith((".json", ".jsonl"))
        ]
        listens = [info for info in members if info.filename.startswith("listens/")]
        members = listens or members
        if not members:
            raise ImportRefused(f"{name} holds no .json or .jsonl file.")
        if len(members) > MAX_ARCHIVE_MEMBERS:
            raise ImportRefused(f"{name} holds {len(members):,} files; at most {MAX_ARCHIVE_MEMBERS:,} are read.")
        too_big = ImportRefused(
            f"{name} unpacks to more than {max_unpacked / 1_000_000:g} MB, the most one import reads."
        )
        if sum(info.file_size for info in members) > max_unpacked:
            raise too_big
        unpacked = [0]
        for info in sorted(members, key=_archive_order):
            yield info.filename, _member_lines(name, archive, info, unpacked, max_unpacked, too_big)


def _member_lines(name, archive, info, unpacked, max_unpacked, too_big):
    """The lines of one ZIP member, unpacked as they are read; `unpacked` counts the bytes of all members."""
    try:
        with archive.open(info) as member:
            # Never more than what is left of the limit at once, even of a line without end.
            while line := member.readline(max_unpacked - unpacked[0] + 1):
                unpacked[0] += len(line)
                if unpacked[0] > max_unpacked:  # a header that lied about the size
                    raise too_big
                yield line
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, OSError) as error:
        raise ImportRefused(f"{name}: {info.filename} cannot be unpacked ({error}).") from None


def _archive_order(info):
    """listens/2024/2.jsonl before listens/2024/10.jsonl: numbers in names compare as numbers."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", info.filename)]


def _decoded(where, lines):
    """The lines (bytes) as text, a byte order mark at the start left out."""
    offset = 0
    for number, line in enumerate(lines):
        start = 3 if number == 0 and line.startswith(codecs.BOM_UTF8) else 0
        try:
            yield line[start:].decode()
        except UnicodeDecodeError as error:
            raise ImportRefused(f"{where} is not UTF-8 text (byte {offset + start + error.start + 1}).") from None
        offset += len(line)


def _read_document(where, lines, report, now):
    """The Scrobbles of one document, given as its lines (bytes): JSON Lines are read one line at a time, a
    JSON array (which can only be read whole) is joined first."""
    lines = _decoded(where, lines)
    head = []  # the blank lines at the start, then the first that is not
    for line in lines:
        head.append(line)
        if line.strip():
            break
    else:
        return
    first = head[-1].lstrip()[0]
    if first == "[":
        text = "".join(head) + "".join(lines)
        try:
            items = json.loads(text)
        except json.JSONDecodeError as error:
            raise ImportRefused(f"{where}, line {error.lineno}: not valid JSON ({error.msg}).") from None
        if not isinstance(items, list):
            raise ImportRefused(f"{where}: a JSON array of listens was expected.")
        del text
        for number, item in enumerate(items, start=1):
            yield from _scrobble(f"{where}, listen {number}", item, report, now)
    elif first == "{":
        for number, line in enumerate(itertools.chain(head, lines), start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except json.JSONDecodeError as error:
                report.bad_line(f"{where}, line {number}", f"not valid JSON ({error.msg})")
                continue
            yield from _scrobble(f"{where}, line {number}", item, report, now)
    else:
        raise ImportRefused(
            f"{where} is neither a JSON array of listens nor JSON Lines (nor a ZIP of them): "
            "export your listens from ListenBrainz and upload that file."
        )


def _text(value):
    return " ".join(one_line(value).split())[:MAX_ITEM_TEXT] if isinstance(value, str) else ""


def _whole(value):
    """A whole number of milliseconds from JSON, or None."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        return None
    return int(value) if 0 <= value < 2**31 else None


def _mbid(value):
    try:
        return uuid.UUID(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _listened_at(value):
    if isinstance(value, bool):
        return None
    try:
        if isinstance(value, int | float):
            return datetime.fromtimestamp(value, tz=UTC)
        if isinstance(value, str):
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
            return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    except (ValueError, OverflowError, OSError):
        return None
    return None


def _scrobble(where, item, report, now):
    """The Scrobble of one listen from a file (zero or one: a bad one goes to the report)."""
    if not isinstance(item, dict):
        report.bad_line(where, "not a listen (a JSON object was expected)")
        return
    metadata = item.get("track_metadata")
    if not isinstance(metadata, dict):
        report.bad_line(where, "no track_metadata")
        return
    listened_at = _listened_at(item.get("listened_at"))
    if listened_at is None:
        report.bad_line(where, "no listened_at time")
        return
    if not EARLIEST <= listened_at <= now + FUTURE_SLACK:
        report.bad_line(where, f"listened_at {iso_utc(listened_at)} is before 2000 or in the future")
        return
    artist, title = _text(metadata.get("artist_name")), _text(metadata.get("track_name"))
    if not artist or not title:
        report.bad_line(where, "no artist_name or track_name")
        return
    info = metadata.get("additional_info")
    info = info if isinstance(info, dict) else {}
    mapping = metadata.get("mbid_mapping")
    mapping = mapping if isinstance(mapping, dict) else {}
    mbid = _mbid(info.get("recording_mbid")) or _mbid(mapping.get("recording_mbid"))
    duration = _whole(info.get("duration_ms"))
    if duration is None and _whole(info.get("duration")) is not None:
        duration = _whole(info["duration"] * 1000)
    own_id = info.get("syromusic_client_id")
    if isinstance(own_id, str) and CLIENT_ID.fullmatch(own_id):
        client_id = own_id  # written by a SyroMusic export: the same listen as the one it came from
    else:
        seconds = int(listened_at.timestamp())
        key = f"{seconds}\n{mbid or ''}\n{fold(artist)}\n{fold(title)}"
        client_id = "lb:" + hashlib.sha1(key.encode()).hexdigest()
    client = _text(info.get("submission_client")) or _text(info.get("media_player")) or "ListenBrainz"
    yield Scrobble(
        where=where, listened_at=listened_at, artist=artist, title=title, release=_text(metadata.get("release_name")),
        recording_mbid=mbid, duration_ms=duration, heard_ms=_whole(info.get("syromusic_heard_ms")),
        client=client[:64], client_id=client_id,
    )


def match(scrobbles):
    """{id(scrobble): Song} for those found in the catalogue: by MusicBrainz recording id first, else by
    artist, title and album ignoring case and accents (the playlist files' rule, playlist_files.match_items)."""
    found = {}
    mbids = list({scrobble.recording_mbid for scrobble in scrobbles if scrobble.recording_mbid})
    by_mbid = {}
    for start in range(0, len(mbids), MATCH_CHUNK):
        for song in Song.objects.filter(mbid__in=mbids[start : start + MATCH_CHUNK]).only("id", "mbid", "duration_ms"):
            by_mbid[song.mbid] = song
    by_name = {}
    for scrobble in scrobbles:
        song = by_mbid.get(scrobble.recording_mbid)
        if song is not None:
            found[id(scrobble)] = song
        else:
            by_name.setdefault((scrobble.artist, scrobble.title, scrobble.release), []).append(scrobble)
    if by_name:
        items = [Item(number, artist, title, release) for number, (artist, title, release) in enumerate(by_name)]
        for item, song, _ in match_items(items):
            if song is not None:
                for scrobble in by_name[item.artist, item.title, item.album]:
                    found[id(scrobble)] = song
    return found
