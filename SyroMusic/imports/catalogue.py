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
