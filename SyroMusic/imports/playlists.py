"""The playlist CSV format: an owner's playlists, matched song by song against the catalogue."""

from collections import defaultdict

from django.db import transaction

from SyroMusic import caching
from SyroMusic.models import Playlist, PlaylistEntry, Song

from .rows import (
    CHUNK_ROWS,
    PLAYLIST_COLUMNS,
    PLAYLIST_REQUIRED,
    ImportFailed,
    ImportReport,
    check_rows,
    parse_playlist_row,
    parsed_rows,
)


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
    for name, by_position in playlists.items():
        if len(by_position) > Playlist.MAX_ENTRIES:
            first_extra = sorted(by_position)[Playlist.MAX_ENTRIES]
            report.error(
                by_position[first_extra].line,
                f"playlist {name!r} has {len(by_position):,} entries; a playlist holds at most {Playlist.MAX_ENTRIES:,}",
            )
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
    # (title, album, artist) -> {song id: (disc, track)}: a song that rows in several chunks ask for is found
    # by each chunk's query, and is still one candidate.
    candidates = defaultdict(dict)
    for start in range(0, len(rows), CHUNK_ROWS):
        chunk = rows[start : start + CHUNK_ROWS]
        matches = Song.objects.filter(
            title__in={row.title for row in chunk}, album__title__in={row.album for row in chunk}
        ).values_list("id", "title", "album__title", "artist__name", "album__artist__name", "disc_number", "track_number")
        for song_id, title, album, artist, album_artist, disc, track in matches:
            candidates[title, album, artist][song_id] = (disc, track)
            if album_artist != artist:
                candidates[title, album, album_artist][song_id] = (disc, track)
    song_ids = []
    for row in rows:
        found = [
            song_id
            for song_id, (disc, track) in candidates[row.title, row.album, row.artist].items()
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
