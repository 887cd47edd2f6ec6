"""Writes that span several models: catalogue and playlist imports.

Each import reads its whole file once to check every row (no database work),
then writes in one transaction, in chunks, so a bad row anywhere leaves the
database exactly as it was. A dry run does the same work and rolls back.
"""

import csv
import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from itertools import islice

from django.db import transaction
from django.db.models import Q

from . import caching
from .models import (
    Album, Artist, Collaborator, Genre, Playlist, PlaylistEntry, Share, Song, make_slug, make_sort_name,
)

CATALOGUE_COLUMNS = [
    "artist", "album", "title", "disc_number", "track_number", "duration_ms", "genre", "composer",
    "release_year", "explicit",
]
# Not in the original format: the album's artist when it differs from the song's (compilations).
CATALOGUE_EXTRA_COLUMNS = ["album_artist"]
CATALOGUE_REQUIRED = {"artist", "album", "title"}

PLAYLIST_COLUMNS = ["playlist", "position", "artist", "album", "title", "disc_number", "track_number"]
PLAYLIST_REQUIRED = {"playlist", "position", "artist", "album", "title"}

CHUNK_ROWS = 2000
MAX_REPORTED_ERRORS = 1000
SMALLINT_MAX = 32767
INT_MAX = 2_147_483_647
TRUE_WORDS = {"1", "true", "yes", "y", "t"}
FALSE_WORDS = {"0", "false", "no", "n", "f"}


class ImportFailed(Exception):
    """The file was not imported; `report.errors` says which lines were wrong and why."""

    def __init__(self, report):
        self.report = report
        super().__init__(f"{len(report.errors)} bad row(s)")


@dataclass
class ImportReport:
    rows: int = 0
    counts: dict = field(default_factory=lambda: defaultdict(int))
    errors: list = field(default_factory=list)
    error_count: int = 0
    dry_run: bool = False

    def error(self, line, message):
        self.error_count += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append((line, message))


class RowError(ValueError):
    pass


class NotUtf8(ValueError):
    def __init__(self, line):
        self.line = line
        super().__init__(f"line {line} is not valid UTF-8")


def utf8_lines(binary_file):
    """Decode a file line by line, so a bad byte is reported on its own line (a byte order mark is allowed)."""
    for number, raw in enumerate(binary_file, start=1):
        try:
            yield raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError:
            raise NotUtf8(number) from None


@dataclass
class CatalogueRow:
    line: int
    artist: str
    album_artist: str
    album: str
    title: str
    disc_number: int
    track_number: int | None
    duration_ms: int | None
    genre: str
    composer: str
    release_year: int | None
    explicit: bool | None


@dataclass
class PlaylistRow:
    line: int
    playlist: str
    position: int
    artist: str
    album: str
    title: str
    disc_number: int | None
    track_number: int | None


def read_csv(lines, *, columns, required, extra=(), report):
    """Yield (line number, {column: stripped value}) for each record; header and shape problems go to `report`.

    Line numbers are the file's own, counting the header as line 1, so a
    quoted field spanning lines does not shift the ones after it.
    """
    reader = csv.reader(lines)
    try:
        header = next(reader)
    except StopIteration:
        report.error(1, "the file is empty: expected a header row")
        return
    except NotUtf8:
        report.error(1, "not valid UTF-8 text (save the file as UTF-8)")
        return
    except csv.Error as error:
        report.error(1, f"cannot read the header: {error}")
        return
    header = [name.strip().lower() for name in header]
    unknown = [name for name in header if name not in columns and name not in extra]
    missing = sorted(required - set(header))
    duplicated = sorted({name for name in header if header.count(name) > 1})
    if unknown or missing or duplicated:
        problems = []
        if missing:
            problems.append("missing column(s) " + ", ".join(missing))
        if unknown:
            problems.append("unknown column(s) " + ", ".join(unknown))
        if duplicated:
            problems.append("repeated column(s) " + ", ".join(duplicated))
        report.error(1, "; ".join(problems) + f". Expected: {','.join(columns)}")
        return
    while True:
        start = reader.line_num + 1
        try:
            values = next(reader)
        except StopIteration:
            return
        except NotUtf8 as error:
            report.error(error.line, "not valid UTF-8 text (save the file as UTF-8)")
            return
        except csv.Error as error:
            report.error(start, f"malformed CSV: {error}")
            return
        line = start
        if not any(value.strip() for value in values):
            continue  # blank line
        if len(values) != len(header):
            report.error(line, f"expected {len(header)} fields, found {len(values)}")
            continue
        yield line, {name: value.strip() for name, value in zip(header, values)}


def _text(record, name, max_length, required=False):
    value = record.get(name, "")
    if required and not value:
        raise RowError(f"{name} is required")
    if len(value) > max_length:
        raise RowError(f"{name} is longer than {max_length} characters")
    return value


def _whole_number(record, name, minimum, maximum):
    value = record.get(name, "")
    if value == "":
        return None
    try:
        number = int(value)
    except ValueError:
        raise RowError(f"{name} {value!r} is not a whole number") from None
    if not minimum <= number <= maximum:
        raise RowError(f"{name} {number} is out of range ({minimum} to {maximum})")
    return number


def _flag(record, name):
    value = record.get(name, "").lower()
    if value == "":
        return None
    if value in TRUE_WORDS:
        return True
    if value in FALSE_WORDS:
        return False
    raise RowError(f"{name} {record[name]!r} is not true/false, yes/no or 1/0")


def parse_catalogue_row(line, record):
    artist = _text(record, "artist", 200, required=True)
    return CatalogueRow(
        line=line,
        artist=artist,
        album_artist=_text(record, "album_artist", 200) or artist,
        album=_text(record, "album", 300, required=True),
        title=_text(record, "title", 300, required=True),
        disc_number=_whole_number(record, "disc_number", 1, SMALLINT_MAX) or 1,
        track_number=_whole_number(record, "track_number", 1, SMALLINT_MAX),
        duration_ms=_whole_number(record, "duration_ms", 0, INT_MAX),
        genre=_text(record, "genre", 100),
        composer=_text(record, "composer", 300),
        release_year=_whole_number(record, "release_year", 1000, 2999),
        explicit=_flag(record, "explicit"),
    )


def parse_playlist_row(line, record):
    position = _whole_number(record, "position", 1, INT_MAX)
    if position is None:
        raise RowError("position is required")
    return PlaylistRow(
        line=line,
        playlist=_text(record, "playlist", 200, required=True),
        position=position,
        artist=_text(record, "artist", 200, required=True),
        album=_text(record, "album", 300, required=True),
        title=_text(record, "title", 300, required=True),
        disc_number=_whole_number(record, "disc_number", 1, SMALLINT_MAX),
        track_number=_whole_number(record, "track_number", 1, SMALLINT_MAX),
    )


def check_rows(path, *, columns, required, extra=(), parse, report, progress=None):
    """First pass: parse every row, recording each bad one. Returns the number of good rows."""
    good = 0
    with open(path, "rb") as file:
        for line, record in read_csv(utf8_lines(file), columns=columns, required=required, extra=extra, report=report):
            report.rows += 1
            try:
                parse(line, record)
                good += 1
            except RowError as error:
                report.error(line, str(error))
            if progress:
                progress(1)
    return good


def parsed_rows(path, *, columns, required, extra=(), parse):
    """Second pass over a file that check_rows found clean."""
    report = ImportReport()
    with open(path, "rb") as file:
        for line, record in read_csv(utf8_lines(file), columns=columns, required=required, extra=extra, report=report):
            yield parse(line, record)


def catalogue_import(*, path, dry_run=False, progress=None):
    """Import songs (with their artists, albums and genres) from a catalogue CSV file.

    Artists are matched by name, albums by (album artist, title), songs by
    (album, disc, track) or, without a track number, by (album, title); matched
    songs take the file's non-empty values. All or nothing: raises ImportFailed
    with every bad line and stores nothing if any row is wrong.
    """
    report = ImportReport(dry_run=dry_run)
    options = {"columns": CATALOGUE_COLUMNS, "required": CATALOGUE_REQUIRED, "extra": CATALOGUE_EXTRA_COLUMNS}
    check_rows(path, parse=parse_catalogue_row, report=report, **options, progress=progress and progress.checking)
    if report.error_count:
        raise ImportFailed(report)
    with transaction.atomic():
        importer = CatalogueImporter(report)
        rows = parsed_rows(path, parse=parse_catalogue_row, **options)
        while chunk := list(islice(rows, CHUNK_ROWS)):
            importer.import_chunk(chunk)
            if progress:
                progress.writing(len(chunk))
        if report.error_count:
            transaction.set_rollback(True)
            raise ImportFailed(report)
        if dry_run:
            transaction.set_rollback(True)
        else:
            caching.bump(caching.CATALOGUE)  # bulk writes send no model signals
    return report


class CatalogueImporter:
    """Matches or creates the rows of one import, a chunk at a time, remembering what it has seen."""

    def __init__(self, report):
        self.report = report
        self.counts = report.counts
        self.artists = {}  # name -> id
        self.albums = {}  # (artist id, title) -> id
        self.genres = {genre.name.lower(): genre.id for genre in Genre.objects.all()}
        self.genre_slugs = set(Genre.objects.values_list("slug", flat=True))
        self.songs_seen = {}  # song id -> line that matched or created it

    def import_chunk(self, rows):
        self.resolve_artists(rows)
        self.resolve_genres(rows)
        rows = [row for row in rows if row.artist in self.artists and row.album_artist in self.artists]
        self.resolve_albums(rows)
        rows = [row for row in rows if self.album_key(row) in self.albums]
        self.import_songs(rows)

    def album_key(self, row):
        return (self.artists[row.album_artist], row.album)

    def resolve_artists(self, rows):
        lines = defaultdict(list)
        for row in rows:
            for name in (row.artist, row.album_artist):
                if name not in self.artists:
                    lines[name].append(row.line)
        if not lines:
            return
        found = defaultdict(list)
        for artist_id, name in Artist.objects.filter(name__in=lines).values_list("id", "name"):
            found[name].append(artist_id)
        new = []
        for name, name_lines in lines.items():
            if len(found[name]) > 1:
                for line in name_lines:
                    self.report.error(line, f"artist {name!r} matches {len(found[name])} artists; rename one first")
            elif found[name]:
                self.artists[name] = found[name][0]
                self.counts["artists matched"] += 1
            else:
                new.append(Artist(name=name, sort_name=make_sort_name(name), slug=make_slug(name)))
        for artist in Artist.objects.bulk_create(new):
            self.artists[artist.name] = artist.id
        self.counts["artists created"] += len(new)

    def resolve_genres(self, rows):
        for row in rows:
            key = row.genre.lower()
            if row.genre and key not in self.genres:
                slug = base = make_slug(row.genre, 96)
                number = 2
                while slug in self.genre_slugs:
                    slug, number = f"{base}-{number}", number + 1
                self.genres[key] = Genre.objects.create(name=row.genre, slug=slug).id
                self.genre_slugs.add(slug)
                self.counts["genres created"] += 1

    def resolve_albums(self, rows):
        wanted = defaultdict(list)
        for row in rows:
            key = self.album_key(row)
            if key not in self.albums:
                wanted[key].append(row)
        if not wanted:
            return
        found = defaultdict(list)
        condition = Q(artist_id__in={artist_id for artist_id, _ in wanted}, title__in={title for _, title in wanted})
        for album_id, artist_id, album_title in Album.objects.filter(condition).values_list("id", "artist_id", "title"):
            if (artist_id, album_title) in wanted:
                found[artist_id, album_title].append(album_id)
        new = []
        for key, key_rows in wanted.items():
            if len(found[key]) > 1:
                for row in key_rows:
                    self.report.error(
                        row.line, f"album {row.album!r} by {row.album_artist!r} matches {len(found[key])} albums"
                    )
            elif found[key]:
                self.albums[key] = found[key][0]
                self.counts["albums matched"] += 1
            else:
                year = next((row.release_year for row in key_rows if row.release_year), None)
                is_compilation = any(row.artist != row.album_artist for row in key_rows)
                new.append(
                    Album(
                        artist_id=key[0],
                        title=key[1],
                        slug=make_slug(key[1], 300),
                        release_date=datetime.date(year, 1, 1) if year else None,
                        album_type=Album.Type.COMPILATION if is_compilation else Album.Type.ALBUM,
                    )
                )
        for album in Album.objects.bulk_create(new):
            self.albums[album.artist_id, album.title] = album.id
        self.counts["albums created"] += len(new)
        self.update_release_years(wanted, found)

    def update_release_years(self, wanted, found):
        """A matched album takes the file's year when it differs (1 January of it: the file has no day)."""
        changed = []
        matched = {found[key][0]: key_rows for key, key_rows in wanted.items() if len(found[key]) == 1}
        for album in Album.objects.filter(id__in=matched).only("id", "release_date"):
            year = next((row.release_year for row in matched[album.id] if row.release_year), None)
            if year and album.release_year != year:
                album.release_date = datetime.date(year, 1, 1)
                changed.append(album)
        Album.objects.bulk_update(changed, ["release_date"])
        self.counts["albums updated"] += len(changed)

    def import_songs(self, rows):
        album_ids = {self.albums[self.album_key(row)] for row in rows}
        by_track, by_title, last_track = {}, defaultdict(list), defaultdict(int)
        for song in Song.objects.filter(album_id__in=album_ids):
            by_track[song.album_id, song.disc_number, song.track_number] = song
            by_title[song.album_id, song.title].append(song)
            last_track[song.album_id, song.disc_number] = max(last_track[song.album_id, song.disc_number], song.track_number)

        new, changed, touched, genre_links = [], [], [], set()
        for row in rows:
            album_id = self.albums[self.album_key(row)]
            genre_id = self.genres.get(row.genre.lower()) if row.genre else None
            if genre_id:
                genre_links.add((album_id, genre_id))
            if row.track_number is not None:
                song = by_track.get((album_id, row.disc_number, row.track_number))
            else:
                same_title = by_title.get((album_id, row.title), [])
                if len(same_title) > 1:
                    self.report.error(
                        row.line,
                        f"{len(same_title)} songs called {row.title!r} on album {row.album!r}: give track_number",
                    )
                    continue
                song = same_title[0] if same_title else None
            if song is not None:
                seen_on = getattr(song, "seen_on_line", None) or self.songs_seen.get(song.id)
                if seen_on:
                    self.report.error(
                        row.line, f"same song as line {seen_on} (album {row.album!r}, "
                        f"disc {song.disc_number}, track {song.track_number})"
                    )
                    continue
            if song is None:
                track = row.track_number or last_track[album_id, row.disc_number] + 1
                song = Song(album_id=album_id, disc_number=row.disc_number, track_number=track)
                last_track[album_id, row.disc_number] = max(last_track[album_id, row.disc_number], track)
                by_track[album_id, row.disc_number, track] = song
                by_title[album_id, row.title].append(song)
                self.apply_row(song, row, genre_id)
                new.append(song)
            elif self.apply_row(song, row, genre_id):
                changed.append(song)
            else:
                self.counts["songs unchanged"] += 1
            song.seen_on_line = row.line
            touched.append(song)

        Song.objects.bulk_create(new)
        for song in touched:
            self.songs_seen[song.id] = song.seen_on_line
        Song.objects.bulk_update(changed, ["title", "artist", "duration_ms", "explicit", "composer", "genre"])
        Album.genres.through.objects.bulk_create(
            [Album.genres.through(album_id=album_id, genre_id=genre_id) for album_id, genre_id in genre_links],
            ignore_conflicts=True,
        )
        self.counts["songs created"] += len(new)
        self.counts["songs updated"] += len(changed)

    def apply_row(self, song, row, genre_id):
        """Copy the row's given values onto the song; empty cells keep what is stored. True if anything changed."""
        values = {"title": row.title, "artist_id": self.artists[row.artist]}
        if row.duration_ms is not None:
            values["duration_ms"] = row.duration_ms
        if row.explicit is not None:
            values["explicit"] = row.explicit
        if row.composer:
            values["composer"] = row.composer
        if genre_id:
            values["genre_id"] = genre_id
        changed = False
        for name, value in values.items():
            if getattr(song, name) != value:
                setattr(song, name, value)
                changed = True
        return changed


def playlists_import(*, path, owner, make_public=False, dry_run=False, progress=None):
    """Load an owner's playlists from a playlist CSV file, replacing the entries of those that exist.

    A playlist is identified by its name within the owner. Entries are stored
    in the order of the file's positions, numbered 1..N. All or nothing.
    """
    report = ImportReport(dry_run=dry_run)
    options = {"columns": PLAYLIST_COLUMNS, "required": PLAYLIST_REQUIRED}
    check_rows(path, parse=parse_playlist_row, report=report, **options, progress=progress and progress.checking)
    if report.error_count:
        raise ImportFailed(report)

    playlists = defaultdict(dict)  # name -> {position: row}
    for row in parsed_rows(path, parse=parse_playlist_row, **options):
        if row.position in playlists[row.playlist]:
            other = playlists[row.playlist][row.position].line
            report.error(row.line, f"position {row.position} of playlist {row.playlist!r} is already used on line {other}")
        else:
            playlists[row.playlist][row.position] = row
    if report.error_count:
        raise ImportFailed(report)

    with transaction.atomic():
        for name, by_position in playlists.items():
            rows = [by_position[position] for position in sorted(by_position)]
            songs = find_songs(rows, report)
            if report.error_count:
                continue
            playlist, created = Playlist.objects.select_for_update().get_or_create(
                owner=owner, name=name, defaults={"is_public": make_public}
            )
            report.counts["playlists created" if created else "playlists replaced"] += 1
            report.counts["entries removed"] += playlist.entries.all().delete()[0]
            PlaylistEntry.objects.bulk_create(
                PlaylistEntry(playlist=playlist, song_id=song_id, position=position, added_by=owner)
                for position, song_id in enumerate(songs, start=1)
            )
            report.counts["entries added"] += len(songs)
            playlist.save(update_fields=["updated_at"])
            if progress:
                progress.writing(len(rows))
        if report.error_count:
            transaction.set_rollback(True)
            raise ImportFailed(report)
        if dry_run:
            transaction.set_rollback(True)
        else:
            caching.bump(caching.PLAYLISTS)
    return report


def find_songs(rows, report):
    """The catalogue song for each row, matched by artist (the song's or the album's), album and title."""
    candidates = defaultdict(list)
    for start in range(0, len(rows), CHUNK_ROWS):
        chunk = rows[start : start + CHUNK_ROWS]
        matches = Song.objects.filter(
            title__in={row.title for row in chunk}, album__title__in={row.album for row in chunk}
        ).values_list("id", "title", "album__title", "artist__name", "album__artist__name", "disc_number", "track_number")
        for song_id, title, album, artist, album_artist, disc, track in matches:
            candidates[title, album, artist].append((song_id, disc, track))
            if album_artist != artist:
                candidates[title, album, album_artist].append((song_id, disc, track))
    song_ids = []
    for row in rows:
        found = [
            song_id
            for song_id, disc, track in candidates[row.title, row.album, row.artist]
            if row.disc_number in (None, disc) and row.track_number in (None, track)
        ]
        if not found:
            report.error(row.line, f"no song {row.title!r} by {row.artist!r} on album {row.album!r} in the catalogue")
        elif len(found) > 1:
            report.error(
                row.line,
                f"{len(found)} songs match {row.title!r} by {row.artist!r} on {row.album!r}: "
                "give disc_number and track_number",
            )
        else:
            song_ids.append(found[0])
    return song_ids


def catalogue_export_rows():
    """The catalogue as rows of the import format, album by album, in tracklist order."""
    songs = (
        Song.objects.for_listing()
        .order_by("album__artist__name", "album__title", "album_id", "disc_number", "track_number")
        .iterator(chunk_size=2000)
    )
    for song in songs:
        album = song.album
        yield {
            "artist": song.artist.name,
            "album": album.title,
            "title": song.title,
            "disc_number": song.disc_number,
            "track_number": song.track_number,
            "duration_ms": "" if song.duration_ms is None else song.duration_ms,
            "genre": song.genre.name if song.genre_id else "",
            "composer": song.composer,
            "release_year": album.release_year or "",
            "explicit": "true" if song.explicit else "false",
            "album_artist": album.artist.name if album.artist_id != song.artist_id else "",
        }


@transaction.atomic
def playlist_share(*, playlist, sender, recipient, message=""):
    """Send a playlist to a listener. A private playlist lets them in to view it, or it would be a 404."""
    share = Share.objects.create(playlist=playlist, sender=sender, recipient=recipient, message=message)
    if not playlist.is_public and not playlist.allows(recipient, "view"):
        Collaborator.objects.create(playlist=playlist, user=recipient, level=Collaborator.Level.VIEW)
    caching.bump(caching.PLAYLISTS)
    return share


@transaction.atomic
def playlist_create_from_matches(*, owner, name, matches, is_public=False):
    """A new playlist holding the matched songs of an imported file, in the file's order."""
    playlist = Playlist.objects.create(owner=owner, name=name, is_public=is_public)
    songs = [song for _, song, _ in matches if song is not None]
    PlaylistEntry.objects.bulk_create(
        PlaylistEntry(playlist=playlist, song=song, position=position, added_by=owner)
        for position, song in enumerate(songs, start=1)
    )
    caching.bump(caching.PLAYLISTS)
    return playlist
