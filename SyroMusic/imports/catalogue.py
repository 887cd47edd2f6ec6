"""The catalogue CSV format: import (artists, albums, genres and songs) and export."""

import datetime
from collections import defaultdict
from itertools import islice

from django.db import transaction
from django.db.models import Q

from SyroMusic import caching
from SyroMusic.models import Album, Artist, Genre, Song, make_slug, make_sort_name

from .rows import (
    CATALOGUE_COLUMNS,
    CATALOGUE_EXTRA_COLUMNS,
    CATALOGUE_REQUIRED,
    CHUNK_ROWS,
    ImportFailed,
    ImportReport,
    check_rows,
    parse_catalogue_row,
    parsed_rows,
)


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
    """Matches or creates the rows of one import, a chunk at a time, remembering what it has seen.

    A row with MusicBrainz ids is matched by them first; one the catalogue does not know yet falls back to
    the name rules and gives its id to the artist, album or song it matched when that has none. An artist
    or album with another id is someone else, so a new one is made (two bands called Nirvana); a song at
    the row's album, disc and track keeps its own id (the slot is taken). With `repeats` (a library
    scan) a row matching a song that an earlier row matched is another file of that song (its FLAC and
    its MP3), not a repeated line.
    """

    def __init__(self, report, *, repeats=False):
        self.report = report
        self.repeats = repeats
        self.artists = {}  # name -> id
        self.artists_by_mbid = {}  # MusicBrainz id -> id
        self.albums = {}  # (artist id, title) or ("mbid", MusicBrainz id) -> id
        self.genres = {genre.name.lower(): genre.id for genre in Genre.objects.all()}
        self.genre_slugs = set(Genre.objects.values_list("slug", flat=True))
        self.songs_seen = {}  # song id -> line that matched or created it

    @property
    def counts(self):
        # Read through the report: a library scan gives each chunk a report of its own, kept if the chunk is.
        return self.report.counts

    def import_chunk(self, rows):
        """Import rows; returns {line: song} for the rows imported (the others went to the report)."""
        self.resolve_artists(rows)
        self.resolve_genres(rows)
        rows = [row for row in rows if None not in (self.artist_id(row), self.album_artist_id(row))]
        self.resolve_albums(rows)
        rows = [row for row in rows if self.album_key(row) in self.albums]
        return self.import_songs(rows)

    def artist_id(self, row):
        return self.artists_by_mbid.get(row.artist_mbid) if row.artist_mbid else self.artists.get(row.artist)

    def album_artist_id(self, row):
        if row.album_artist_mbid:
            return self.artists_by_mbid.get(row.album_artist_mbid)
        return self.artists.get(row.album_artist)

    def album_key(self, row):
        return ("mbid", row.album_mbid) if row.album_mbid else self.album_name_key(row)

    def album_name_key(self, row):
        return (self.album_artist_id(row), row.album)

    def resolve_artists(self, rows):
        by_name, by_mbid = defaultdict(list), {}  # name -> lines; mbid -> (name, lines)
        for row in rows:
            for name, mbid in ((row.artist, row.artist_mbid), (row.album_artist, row.album_artist_mbid)):
                if mbid and mbid not in self.artists_by_mbid:
                    by_mbid.setdefault(mbid, (name, []))[1].append(row.line)
                elif not mbid and name not in self.artists:
                    by_name[name].append(row.line)
        if not by_name and not by_mbid:
            return
        if by_mbid:
            for artist_id, mbid in Artist.objects.filter(mbid__in=by_mbid).values_list("id", "mbid"):
                self.artists_by_mbid[mbid] = artist_id
                del by_mbid[mbid]
                self.counts["artists matched"] += 1
        found = defaultdict(list)  # name -> [[id, mbid], ...]
        names = by_name.keys() | {name for name, _ in by_mbid.values()}
        for artist_id, name, mbid in Artist.objects.filter(name__in=names).values_list("id", "name", "mbid"):
            found[name].append([artist_id, mbid])
        new, given = [], []
        for mbid, (name, name_lines) in by_mbid.items():
            free = [match for match in found[name] if match[1] is None]
            if len(free) > 1:
                for line in name_lines:
                    self.report.error(line, f"artist {name!r} matches {len(free)} artists; rename one first")
            elif free:
                free[0][1] = mbid  # claimed: another id of this name makes an artist of its own
                given.append(Artist(id=free[0][0], mbid=mbid))
                self.artists_by_mbid[mbid] = free[0][0]
                self.counts["artists matched"] += 1
            else:
                new.append(Artist(name=name, sort_name=make_sort_name(name), slug=make_slug(name), mbid=mbid))
        creating = {artist.name for artist in new}
        for name, name_lines in by_name.items():
            if len(found[name]) > 1:
                for line in name_lines:
                    self.report.error(line, f"artist {name!r} matches {len(found[name])} artists; rename one first")
            elif found[name]:
                self.artists[name] = found[name][0][0]
                self.counts["artists matched"] += 1
            elif name not in creating:
                new.append(Artist(name=name, sort_name=make_sort_name(name), slug=make_slug(name)))
        for artist in Artist.objects.bulk_create(new):
            if artist.mbid:
                self.artists_by_mbid[artist.mbid] = artist.id
            if artist.name in by_name and not found[artist.name]:
                self.artists.setdefault(artist.name, artist.id)
        Artist.objects.bulk_update(given, ["mbid"])
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
        matched = {}  # album id -> rows, for their release year
        mbids = [key[1] for key in wanted if key[0] == "mbid"]
        if mbids:
            for album_id, mbid in Album.objects.filter(mbid__in=mbids).values_list("id", "mbid"):
                self.albums["mbid", mbid] = album_id
                matched[album_id] = wanted.pop(("mbid", mbid))
                self.counts["albums matched"] += 1
        named = {self.album_name_key(key_rows[0]) for key_rows in wanted.values()}
        found = defaultdict(list)  # (artist id, title) -> [[id, mbid], ...]
        condition = Q(artist_id__in={artist_id for artist_id, _ in named}, title__in={title for _, title in named})
        if named:
            for album_id, artist_id, title, mbid in Album.objects.filter(condition).values_list(
                "id", "artist_id", "title", "mbid"
            ):
                if (artist_id, title) in named:
                    found[artist_id, title].append([album_id, mbid])
        new, given = [], []
        for key, key_rows in wanted.items():
            if key[0] != "mbid":
                continue
            free = [match for match in found[self.album_name_key(key_rows[0])] if match[1] is None]
            if len(free) > 1:
                self.album_errors(key_rows, len(free))
            elif free:
                free[0][1] = key[1]
                given.append(Album(id=free[0][0], mbid=key[1]))
                self.albums[key] = free[0][0]
                matched[free[0][0]] = key_rows
                self.counts["albums matched"] += 1
            else:
                new.append(self.new_album(self.album_name_key(key_rows[0]), key_rows, mbid=key[1]))
        creating = {(album.artist_id, album.title) for album in new}
        for key, key_rows in wanted.items():
            if key[0] == "mbid":
                continue
            if len(found[key]) > 1:
                self.album_errors(key_rows, len(found[key]))
            elif found[key]:
                self.albums[key] = found[key][0][0]
                matched[found[key][0][0]] = key_rows
                self.counts["albums matched"] += 1
            elif key not in creating:
                new.append(self.new_album(key, key_rows))
        for album in Album.objects.bulk_create(new):
            if album.mbid:
                self.albums["mbid", album.mbid] = album.id
            key = (album.artist_id, album.title)
            if key in wanted and not found[key]:
                self.albums.setdefault(key, album.id)
        Album.objects.bulk_update(given, ["mbid"])
        self.counts["albums created"] += len(new)
        self.update_release_years(matched)

    def album_errors(self, rows, count):
        for row in rows:
            self.report.error(row.line, f"album {row.album!r} by {row.album_artist!r} matches {count} albums")

    @staticmethod
    def new_album(key, rows, mbid=None):
        year = next((row.release_year for row in rows if row.release_year), None)
        is_compilation = any(row.artist != row.album_artist for row in rows)
        return Album(
            artist_id=key[0],
            title=key[1],
            slug=make_slug(key[1], 300),
            release_date=datetime.date(year, 1, 1) if year else None,
            album_type=Album.Type.COMPILATION if is_compilation else Album.Type.ALBUM,
            mbid=mbid,
        )

    def update_release_years(self, matched):
        """A matched album takes the file's year when it differs (1 January of it: the file has no day)."""
        changed = []
        for album in Album.objects.filter(id__in=matched).only("id", "release_date"):
            year = next((row.release_year for row in matched[album.id] if row.release_year), None)
            if year and album.release_year != year:
                album.release_date = datetime.date(year, 1, 1)
                changed.append(album)
        Album.objects.bulk_update(changed, ["release_date"])
        self.counts["albums updated"] += len(changed)

    def import_songs(self, rows):
        album_ids = {self.albums[self.album_key(row)] for row in rows}
        songs = list(Song.objects.filter(album_id__in=album_ids))
        mbids = {row.mbid for row in rows if row.mbid} - {song.mbid for song in songs}
        if mbids:  # recordings the catalogue holds on other albums
            songs += Song.objects.filter(mbid__in=mbids)
        by_track, by_title, by_mbid, last_track = {}, defaultdict(list), {}, defaultdict(int)
        for song in songs:
            by_track[song.album_id, song.disc_number, song.track_number] = song
            by_title[song.album_id, song.title].append(song)
            if song.mbid:
                by_mbid[song.mbid] = song
            last_track[song.album_id, song.disc_number] = max(last_track[song.album_id, song.disc_number], song.track_number)

        new, changed, matched, imported, genre_links = [], {}, set(), {}, set()
        for row in rows:
            album_id = self.albums[self.album_key(row)]
            genre_id = self.genres.get(row.genre.lower()) if row.genre else None
            if genre_id:
                genre_links.add((album_id, genre_id))
            song = by_mbid.get(row.mbid) if row.mbid else None
            if song is not None:
                pass
            elif row.track_number is not None:
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
            seen_on = song is not None and (getattr(song, "seen_on_line", None) or self.songs_seen.get(song.id))
            if seen_on and not self.repeats:
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
            elif self.apply_row(song, row, genre_id) and song.pk is not None:
                changed[song.pk] = song  # a song this chunk creates is written with its latest values instead
            if song.mbid:
                by_mbid[song.mbid] = song
            if not seen_on:
                song.seen_on_line = row.line
                if song.pk is not None:
                    matched.add(song.pk)
            imported[row.line] = song

        Song.objects.bulk_create(new)
        for song in imported.values():
            if song.id not in self.songs_seen:
                self.songs_seen[song.id] = song.seen_on_line
        Song.objects.bulk_update(
            changed.values(), ["title", "artist", "duration_ms", "explicit", "composer", "genre", "mbid"]
        )
        Album.genres.through.objects.bulk_create(
            [Album.genres.through(album_id=album_id, genre_id=genre_id) for album_id, genre_id in genre_links],
            ignore_conflicts=True,
        )
        self.counts["songs created"] += len(new)
        self.counts["songs updated"] += len(matched & changed.keys())
        self.counts["songs unchanged"] += len(matched - changed.keys())
        return imported

    def apply_row(self, song, row, genre_id):
        """Copy the row's given values onto the song; empty cells keep what is stored. True if anything changed."""
        values = {"title": row.title, "artist_id": self.artist_id(row)}
        if row.duration_ms is not None:
            values["duration_ms"] = row.duration_ms
        if row.explicit is not None:
            values["explicit"] = row.explicit
        if row.composer:
            values["composer"] = row.composer
        if genre_id:
            values["genre_id"] = genre_id
        if row.mbid and song.mbid is None:
            values["mbid"] = row.mbid
        changed = False
        for name, value in values.items():
            if getattr(song, name) != value:
                setattr(song, name, value)
                changed = True
        return changed


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
