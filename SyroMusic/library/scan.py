"""Scanning a music folder (`manage.py scan_library`): each audio file's facts, tags, lyrics and cover, matched
to the catalogue by the rules of the catalogue import, files served in place.

Incremental: a file whose path, size and modification time are those of the last scan is not opened. A
new path holding the bytes of a file the catalogue lost (moved, renamed) takes that file's row over; a
file that is gone is marked missing, never deleted. Reading is CPU work (decoding gives the exact
duration and the waveform, and shows that a file is whole), done by a pool of processes; this process
writes the database, a chunk of files per transaction. A bad file is refused with its path and reason
and the rest goes on: a chunk the database refuses is written again a file at a time, each in its own
savepoint, so only the bad file is left out.
"""

import hashlib
import logging
import multiprocessing
import os
import stat
import time
import uuid
from collections import Counter, defaultdict, deque
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

from django.db import DatabaseError, transaction
from django.db.models import Q
from django.utils import timezone

from SyroMusic import caching
from SyroMusic.audio import covers, lyrics, probe
from SyroMusic.audio import tags as tag_reader
from SyroMusic.imports.catalogue import CatalogueImporter
from SyroMusic.imports.rows import ImportReport, RowError, parse_catalogue_row
from SyroMusic.models import LYRICS_MAX_CHARACTERS, Album, AudioFile, Song
from SyroMusic.services import song_pick_audio
from SyroMusic.text import first_control_character

logger = logging.getLogger(__name__)

# Files written per transaction; the pool reads the next chunk while this one is written.
CHUNK_FILES = 200
# Files marked missing or back per UPDATE at the end of a scan.
FINISH_SLICE = 1000
# Files a worker takes at a time: small, so that one long file does not hold the others back.
WORKER_BATCH = 4
# What a file without these tags is filed under (as other players do); a file without a title is refused.
UNKNOWN_ARTIST = "Unknown Artist"
UNKNOWN_ALBUM = "Unknown Album"
# Files beside the audio that a scan uses (covers, lyrics) rather than counts as skipped.
COMPANION_EXTENSIONS = {".lrc", ".jpg", ".jpeg", ".png", ".webp", ".gif"}
# The order a report lists its counts in (ScanReport.counts holds only those that happened).
COUNT_ORDER = [
    "audio files", "files new", "files changed", "files moved", "files unchanged", "files back", "files missing",
    "files refused", "other files skipped", "artists created", "artists matched", "albums created",
    "albums matched", "albums updated", "genres created", "songs created", "songs updated", "songs unchanged",
    "covers", "lyrics",
]
AUDIO_FACTS = ["format", "codec", "bitrate", "sample_rate", "channels", "duration_ms", "content_hash", "peaks"]


@dataclass
class ScanReport:
    counts: Counter = field(default_factory=Counter)
    refused: list = field(default_factory=list)  # (path, reason), the path printable even when not UTF-8
    dry_run: bool = False
    warnings: list = field(default_factory=list)  # (path, message): scanned, without its cover or lyrics
    seconds: float = 0.0

    def refuse(self, path, reason):
        self.refused.append((printable(path), reason))

    def warn(self, path, message):
        self.warnings.append((printable(path), message))

    @property
    def changed(self):
        """Whether the scan wrote (or, dry, would write) anything."""
        keys = ("files new", "files changed", "files moved", "files back", "files missing", "covers", "lyrics")
        return any(self.counts[key] for key in keys)

    def summary(self):
        """The counts on one line, in COUNT_ORDER."""
        return ", ".join(f"{name} {count:,}" for name, count in self.ordered_counts())

    def ordered_counts(self):
        known = [(name, self.counts[name]) for name in COUNT_ORDER if self.counts[name]]
        return known + sorted((name, count) for name, count in self.counts.items() if name not in COUNT_ORDER and count)


def printable(path):
    """A path as a report prints it: bytes that are not UTF-8 as \\x escapes, control characters escaped."""
    text = os.fsencode(path).decode("utf-8", "backslashreplace")
    return repr(text)[1:-1] if first_control_character(text) else text


class LibraryLooksGone(Exception):
    """The folder holds no audio file, yet the catalogue has available files there: an unmounted disk or an
    emptied folder would otherwise mark the whole library missing. Nothing was written."""


def library_scan(*, path, dry_run=False, progress=None, workers=None, allow_empty=False):
    """Scan the folder at `path` (see the module docstring) and return a ScanReport.

    dry_run: read and match everything, write nothing (the database is rolled back, no cover is stored).
    progress: an object with start(total) and advance(count), told about the audio files as they are done.
    workers: processes reading files (default: one per CPU; 1 reads in this process).
    allow_empty: mark every known file under `path` missing when it holds none (else LibraryLooksGone).
    """
    scan = LibraryScan(
        path, dry_run=dry_run, progress=progress, workers=workers or os.cpu_count() or 1, allow_empty=allow_empty
    )
    started = time.monotonic()
    if dry_run:
        with transaction.atomic():
            scan.run()
            transaction.set_rollback(True)
    else:
        scan.run()
        if scan.report.changed:
            caching.bump(caching.CATALOGUE)  # bulk writes send no model signals
    scan.report.seconds = time.monotonic() - started
    scan.report.refused.sort()
    logger.info(
        "scan_library %s%s: %s in %.1f s", scan.root, " (dry run)" if dry_run else "", scan.report.summary() or "nothing",
        scan.report.seconds,
    )
    return scan.report


@dataclass(frozen=True)
class Found:
    """An audio file the walk found, with its size and modification time then."""

    path: str
    size: int
    mtime_ns: int


@dataclass(frozen=True)
class Known:
    """A file the catalogue knows, as the last scan left it."""

    id: int
    path: str
    size: int
    mtime_ns: int
    content_hash: str
    song_id: int
    missing_since: object


@dataclass
class FileRead:
    """What a worker read from one file. Only content_hash is set when the bytes were those of a file the
    scan looks for (a move); only refusal when the file is refused."""

    path: str
    facts: object = None  # probe.AudioFacts
    tags: object = None  # tags.Tags
    lyrics: tuple = ("", None)
    content_hash: str = ""
    refusal: str = ""
    warnings: list = field(default_factory=list)


def read_file(task):
    """Read one file: its facts, tags and lyrics (embedded, else the .lrc beside it). Runs in a worker
    process: no database here. task: (path, the hashes of lost files of this size, which are looked for
    first: a moved file is not decoded again)."""
    path, lost_hashes = task
    try:
        if lost_hashes:
            content_hash = probe.file_hash(path)
            if content_hash in lost_hashes:
                return FileRead(path, content_hash=content_hash)
        facts = probe.probe(path)
        file_tags = tag_reader.read_tags(path)
    except probe.BadAudio as error:
        return FileRead(path, refusal=str(error))
    except OSError as error:
        return FileRead(path, refusal=f"unreadable: {error.strerror or error}")
    except Exception as error:  # a parser's failure on hostile bytes refuses the file, not the scan
        return FileRead(path, refusal=f"cannot read: {type(error).__name__}: {error}")
    read = FileRead(path, facts=facts, tags=file_tags)
    if file_tags.lyrics or file_tags.synced_lyrics:
        read.lyrics = (file_tags.lyrics, file_tags.synced_lyrics)
    else:
        try:
            read.lyrics = lyrics.sidecar_lyrics(path) or ("", None)
        except (OSError, ValueError) as error:
            read.warnings.append(f"lyrics file not read: {error}")
    return read


@dataclass
class Pending:
    """A file read and checked, to be written: new or changed (row set), or moved (move set)."""

    found: Found
    read: FileRead
    line: int
    known: Known | None = None  # the row of this path (a changed file)
    row: object = None  # the CatalogueRow its tags make
    move: Known | None = None  # the row of the file whose bytes these are, lost from another path
    lyrics: tuple = ("", None)
    warnings: list = field(default_factory=list)


@dataclass
class Outcome:
    """What writing a chunk did, kept only once its transaction (or savepoint) holds."""

    counts: Counter = field(default_factory=Counter)
    refused: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    moved: set = field(default_factory=set)  # ids of the rows that moved
    refused_known: set = field(default_factory=set)  # ids of known files now refused


class LibraryScan:
    def __init__(self, path, *, dry_run, progress, workers, allow_empty=False):
        self.root = os.path.realpath(path)
        self.allow_empty = allow_empty
        self.unread = []  # folders that could not be read (with a trailing separator): their files are not gone
        self.prefix = os.path.join(self.root, "")
        self.dry_run = dry_run
        self.progress = progress
        self.workers = workers
        self.report = ScanReport(dry_run=dry_run)
        self.counts = self.report.counts
        self.importer = None  # made at the first write: a scan with nothing to write makes no query for it
        self.max_path = AudioFile._meta.get_field("path").max_length
        self.lost = {}  # id -> Known: files no longer at their path, which a new path may hold
        self.lost_by_hash = defaultdict(list)
        self.refused_known = set()
        self.folder_covers = {}  # directory -> its cover file's bytes, or None
        self.stored_covers = {}  # sha256 of image bytes -> cover hash, or the BadImage message

    def run(self):
        found = list(self.walk())
        known, missing_elsewhere = self.known_files()
        available = sum(1 for row in known.values() if row.missing_since is None)
        if not found and available and not self.allow_empty:
            raise LibraryLooksGone(
                f"{self.root}: no audio file found, but the catalogue has {available:,} available there. "
                "Is the disk mounted? Nothing was changed; scan with --allow-empty to mark them all missing."
            )
        found_paths = {item.path for item in found}
        unchanged, back, tasks = [], [], []
        for item in found:
            row = known.get(item.path)
            if row is not None and (row.size, row.mtime_ns) == (item.size, item.mtime_ns):
                unchanged.append(row)
                if row.missing_since is not None:
                    back.append(row)
            else:
                tasks.append(item)
        self.lost = {
            row.id: row for row in known.values() if row.path not in found_paths or row.missing_since is not None
        }
        self.lost.update(missing_elsewhere)
        for row in back:
            del self.lost[row.id]
        lost_by_size = defaultdict(set)
        for row in self.lost.values():
            lost_by_size[row.size].add(row.content_hash)
            self.lost_by_hash[row.content_hash].append(row)
        self.counts["audio files"] = len(found)
        self.counts["files unchanged"] = len(unchanged) - len(back)
        if self.progress:
            self.progress.start(len(found))
            self.progress.advance(len(unchanged))

        done = 0
        for reads in self.read_all(
            [(item.path, frozenset(lost_by_size[item.size]) if item.path not in known else None) for item in tasks]
        ):
            items = list(zip(tasks[done:done + len(reads)], reads, strict=True))
            done += len(reads)
            self.write_chunk(self.check(items, known))
            if self.progress:
                self.progress.advance(len(items))
        self.finish(back, found_paths, known)

    def walk(self):
        """The audio files under the root, in name order. Hidden files and folders are left out; a folder
        linked twice is walked once; what cannot be an audio file we serve is refused here, unopened."""
        visited, stack = set(), []

        def enter(directory):
            try:
                info = os.stat(directory)
                if (info.st_dev, info.st_ino) in visited:
                    return  # a link back up the tree, or a second way to the same folder
                visited.add((info.st_dev, info.st_ino))
                with os.scandir(directory) as entries:
                    stack.append(iter(sorted(entries, key=lambda entry: entry.name)))
            except OSError as error:
                self.unread.append(os.path.join(directory, ""))
                self.report.refuse(directory, f"folder not read: {error.strerror or error}")

        enter(self.root)
        while stack:
            entry = next(stack[-1], None)
            if entry is None:
                stack.pop()
                continue
            if entry.name.startswith("."):
                continue
            try:
                is_dir = entry.is_dir()
            except OSError:
                is_dir = False
            extension = os.path.splitext(entry.name)[1].lower()
            if not is_dir and extension not in probe.FORMAT_BY_EXTENSION:
                if extension not in COMPANION_EXTENSIONS:
                    self.counts["other files skipped"] += 1
                continue
            if not is_utf8(entry.path):
                self.report.refuse(entry.path, f"the {'folder ' if is_dir else ''}name is not valid UTF-8")
            elif is_dir:
                enter(entry.path)
            elif len(entry.path) > self.max_path:
                self.report.refuse(entry.path, f"the path is longer than {self.max_path:,} characters")
            else:
                try:
                    info = entry.stat()
                except OSError as error:
                    self.report.refuse(entry.path, f"unreadable: {stat_failure(entry, error)}")
                    continue
                if not stat.S_ISREG(info.st_mode):
                    self.report.refuse(entry.path, "not a regular file (a FIFO, socket or device)")
                    continue
                yield Found(entry.path, info.st_size, info.st_mtime_ns)

    def known_files(self):
        """The catalogue's files under the root by path, and those missing elsewhere by id (a new path may
        hold one): one query."""
        known, missing_elsewhere = {}, {}
        rows = AudioFile.objects.filter(Q(path__startswith=self.prefix) | Q(missing_since__isnull=False)).values_list(
            "id", "path", "size", "mtime_ns", "content_hash", "song_id", "missing_since"
        ).order_by()
        for row in rows:
            row = Known(*row)
            # startswith is LIKE, which SQLite compares without case.
            if row.path.startswith(self.prefix):
                known[row.path] = row
            else:
                missing_elsewhere[row.id] = row
        return known, missing_elsewhere

    def read_all(self, tasks):
        """Read the files in chunks of CHUNK_FILES, in order; the pool reads one chunk ahead of the writing."""
        chunks = [tasks[start:start + CHUNK_FILES] for start in range(0, len(tasks), CHUNK_FILES)]
        workers = min(self.workers, len(tasks))
        if workers <= 1 or "fork" not in multiprocessing.get_all_start_methods():
            for chunk in chunks:
                yield [read_file(task) for task in chunk]
            return
        # fork: a worker needs this process's imports (Django set up) and nothing else of it.
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork"))
        try:
            ahead = deque()
            for chunk in chunks:
                ahead.append(pool.map(read_file, chunk, chunksize=WORKER_BATCH))
                if len(ahead) > 1:
                    yield list(ahead.popleft())
            while ahead:
                yield list(ahead.popleft())
        finally:
            pool.shutdown(cancel_futures=True)

    def check(self, items, known):
        """Refuse what was not read or whose tags make no catalogue row; the rest, ready to write."""
        pending, taken = [], set()
        for line, (found, read) in enumerate(items):
            if read.content_hash and not read.facts:
                # Its hash is a lost file's: a move, unless another new path took that file or it came back.
                move = self.lost_file(read.content_hash, taken)
                if move:
                    taken.add(move.id)
                    pending.append(Pending(found, read, line, move=move))
                    continue
                read = read_file((found.path, None))
            if read.refusal:
                self.report.refuse(found.path, read.refusal)
                if found.path in known:
                    self.refused_known.add(known[found.path].id)
                continue
            item = Pending(found, read, line, known=known.get(found.path), warnings=list(read.warnings))
            try:
                item.row = catalogue_row(line, read.tags, read.facts, item.warnings)
            except RowError as error:
                self.report.refuse(found.path, str(error))
                if item.known:
                    self.refused_known.add(item.known.id)
                continue
            item.lyrics = checked_lyrics(*read.lyrics, warnings=item.warnings)
            pending.append(item)
        self.find_moves_elsewhere(pending)
        return pending

    def lost_file(self, content_hash, taken):
        """A lost file with these bytes whose path is still empty, not taken by another new path."""
        for row in self.lost_by_hash[content_hash]:
            if row.id in self.lost and row.id not in taken and not os.path.lexists(row.path):
                return row
        return None

    def find_moves_elsewhere(self, pending):
        """New files whose bytes are those of a catalogue file whose path is now empty, wherever it was
        (outside the root too, where this scan does not look): one query for the chunk."""
        new = {item.read.facts.content_hash: item for item in pending if item.row and not item.known}
        if not new:
            return
        rows = AudioFile.objects.filter(content_hash__in=new).values_list(
            "id", "path", "size", "mtime_ns", "content_hash", "song_id", "missing_since"
        )
        taken = {item.move.id for item in pending if item.move}
        for row in [Known(*values) for values in rows]:
            item = new.get(row.content_hash)
            if item and not item.move and row.id not in taken and not os.path.lexists(row.path):
                item.move, item.row = row, None
                taken.add(row.id)

    def write_chunk(self, items):
        """Write a chunk in one transaction (a savepoint in a dry run); if the database refuses it, write it
        again a file at a time, so that only the file it refuses is left out."""
        if not items:
            return
        try:
            with transaction.atomic():
                outcome = self.write(items)
        except DatabaseError as error:
            self.importer = None  # it remembers ids of what the rollback undid: a new one starts clean
            if len(items) == 1:
                self.report.refuse(items[0].found.path, f"refused by the database: {str(error).splitlines()[0]}")
                if items[0].known:
                    self.refused_known.add(items[0].known.id)
                return
            for item in items:
                self.write_chunk([item])
            return
        self.counts.update(outcome.counts)
        self.report.refused.extend(outcome.refused)
        self.report.warnings.extend(outcome.warnings)
        self.refused_known |= outcome.refused_known
        for row_id in outcome.moved:
            self.lost.pop(row_id, None)

    def write(self, items):
        outcome = Outcome()
        if self.importer is None:
            self.importer = CatalogueImporter(ImportReport(), repeats=True)
        self.importer.report = ImportReport()
        rows = [item.row for item in items if item.row]
        songs = self.importer.import_chunk(rows) if rows else {}
        by_line = {item.line: item for item in items}
        for line, message in self.importer.report.errors:
            outcome.refused.append((printable(by_line[line].found.path), message))
            if by_line[line].known:
                outcome.refused_known.add(by_line[line].known.id)
        outcome.counts.update({name: count for name, count in self.importer.report.counts.items() if count})
        accepted = [item for item in items if item.move or item.line in songs]
        now = timezone.now()
        new, changed, moved, touched = [], [], [], set()
        for item in accepted:
            outcome.warnings += [(printable(item.found.path), message) for message in item.warnings]
            found = item.found
            if item.move:
                moved.append(AudioFile(
                    id=item.move.id, path=found.path, size=found.size, mtime_ns=found.mtime_ns, missing_since=None,
                    scanned_at=now, source=AudioFile.Source.LIBRARY,
                ))
                touched.add(item.move.song_id)
                outcome.moved.add(item.move.id)
                continue
            song = songs[item.line]
            facts = {name: getattr(item.read.facts, name) for name in AUDIO_FACTS}
            audio_file = AudioFile(
                song_id=song.id, path=found.path, size=found.size, mtime_ns=found.mtime_ns, scanned_at=now,
                source=AudioFile.Source.LIBRARY, **facts,
            )
            touched.add(song.id)
            if item.known:
                audio_file.id, audio_file.missing_since = item.known.id, None
                changed.append(audio_file)
                touched.add(item.known.song_id)
            else:
                new.append(audio_file)
        AudioFile.objects.bulk_create(new)
        AudioFile.objects.bulk_update(
            changed, ["song", "size", "mtime_ns", "scanned_at", "source", "missing_since", *AUDIO_FACTS]
        )
        AudioFile.objects.bulk_update(moved, ["path", "size", "mtime_ns", "missing_since", "scanned_at", "source"])
        outcome.counts.update({"files new": len(new), "files changed": len(changed), "files moved": len(moved)})
        outcome.counts["lyrics"] += self.write_lyrics(accepted, songs)
        outcome.counts["covers"] += self.write_covers(accepted, outcome)
        song_pick_audio(song_ids=touched)
        return outcome

    def write_lyrics(self, items, songs):
        """Each song takes its file's lyrics; a file without lyrics leaves the song's alone."""
        changed = {}
        for item in items:
            plain, synced = item.lyrics
            if item.move or not plain:
                continue
            song = songs[item.line]
            if song.lyrics != plain or (synced and song.synced_lyrics != synced):
                song.lyrics = plain
                if synced:
                    song.synced_lyrics = synced
                changed[song.id] = song
        Song.objects.bulk_update(changed.values(), ["lyrics", "synced_lyrics"])
        return len(changed)

    def write_covers(self, items, outcome):
        """An album without a cover takes the first picture of its files (in name order) embedded in one,
        else the cover file of their folder. One with a cover keeps it (it may have been uploaded)."""
        by_album = defaultdict(list)
        for item in items:
            if item.row:
                by_album[self.importer.albums[self.importer.album_key(item.row)]].append(item)
        if not by_album:
            return 0
        given = []
        for album_id in Album.objects.filter(id__in=by_album, cover_hash="").values_list("id", flat=True):
            if cover_hash := self.album_cover(by_album[album_id], outcome):
                given.append(Album(id=album_id, cover_hash=cover_hash))
        Album.objects.bulk_update(given, ["cover_hash"])
        return len(given)

    def album_cover(self, items, outcome):
        for item in items:
            if cover_hash := self.store_cover(item.read.tags.picture, item.found.path, outcome):
                return cover_hash
        for directory in dict.fromkeys(os.path.dirname(item.found.path) for item in items):
            if cover_hash := self.store_cover(self.folder_cover(directory, outcome), directory, outcome):
                return cover_hash
        return ""

    def folder_cover(self, directory, outcome):
        """The bytes of a folder's cover file (read once per folder), or None."""
        if directory not in self.folder_covers:
            data = None
            try:
                cover_path = covers.folder_cover(directory)
                if cover_path is not None:
                    data = cover_path.read_bytes()
            except OSError as error:
                outcome.warnings.append((printable(directory), f"cover file not read: {error.strerror or error}"))
            self.folder_covers[directory] = data
        return self.folder_covers[directory]

    def store_cover(self, data, source, outcome):
        """The cover hash of image bytes, stored under MEDIA_ROOT (not in a dry run); "" when they are not a
        usable image (a warning: the file is scanned without it)."""
        if not data:
            return ""
        key = hashlib.sha256(data).hexdigest()
        if key not in self.stored_covers:
            try:
                self.stored_covers[key] = key if self.dry_run else covers.store_cover(data)
            except covers.BadImage as error:
                self.stored_covers[key] = covers.BadImage(str(error))
        result = self.stored_covers[key]
        if isinstance(result, covers.BadImage):
            outcome.warnings.append((printable(source), f"cover not used: {result}"))
            return ""
        return result

    def finish(self, back, found_paths, known):
        """Files back at their path are available again; files gone (or refused now) are marked missing."""
        unread = tuple(self.unread)
        gone = [
            row for row in known.values()
            if row.missing_since is None and row.id in self.lost and row.path not in found_paths
            and not row.path.startswith(unread)  # a folder we could not read may still hold it
        ]
        refused = [row for row in known.values() if row.missing_since is None and row.id in self.refused_known]
        self.counts["files back"] = len(back)
        self.counts["files missing"] = len(gone)
        self.counts["files refused"] = len(self.report.refused)
        if not (back or gone or refused):
            return
        with transaction.atomic():
            now = timezone.now()
            # In slices: a whole library gone must not outgrow the database's limit on query parameters.
            for ids, missing_since in (([row.id for row in back], None), ([row.id for row in gone + refused], now)):
                for start in range(0, len(ids), FINISH_SLICE):
                    AudioFile.objects.filter(id__in=ids[start:start + FINISH_SLICE]).update(missing_since=missing_since)
            song_ids = sorted({row.song_id for row in back + gone + refused})
            for start in range(0, len(song_ids), FINISH_SLICE):
                song_pick_audio(song_ids=song_ids[start:start + FINISH_SLICE])


def stat_failure(entry, error):
    if isinstance(error, FileNotFoundError) and entry.is_symlink():
        try:
            return f"a broken link (nothing at {printable(os.readlink(entry.path))})"
        except OSError:
            pass
    return error.strerror or str(error)


def is_utf8(path):
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:  # os.fsdecode made the bytes that are not UTF-8 surrogates
        return False
    return True


def catalogue_row(line, file_tags, facts, warnings):
    """The catalogue import's row for a file's tags, checked by the import's own rules (raises RowError
    with its messages). The duration is the file's, counted from the decoded samples."""
    title = clean(file_tags.title)
    if not title:
        raise RowError("no title tag")
    artist = clean(file_tags.artist) or clean(file_tags.album_artist) or UNKNOWN_ARTIST
    record = {
        "artist": artist,
        "album_artist": clean(file_tags.album_artist),
        "album": clean(file_tags.album) or UNKNOWN_ALBUM,
        "title": title,
        "disc_number": number(file_tags.disc_number),
        "track_number": number(file_tags.track_number),
        "duration_ms": str(facts.duration_ms),
        "genre": clean(file_tags.genre),
        "composer": clean(file_tags.composer),
        "release_year": number(file_tags.year),
    }
    try:
        row = parse_catalogue_row(line, record)
    except RowError as error:
        raise RowError(f"bad tag: {error}") from None
    row.mbid = musicbrainz_id(file_tags.mb_track_id, "track", warnings)
    row.album_mbid = musicbrainz_id(file_tags.mb_album_id, "album", warnings)
    row.artist_mbid = musicbrainz_id(file_tags.mb_artist_id, "artist", warnings)
    row.album_artist_mbid = musicbrainz_id(file_tags.mb_album_artist_id, "album artist", warnings)
    if row.album_artist_mbid is None and row.album_artist == row.artist:
        row.album_artist_mbid = row.artist_mbid
    return row


def clean(text):
    return (text or "").strip()


def number(value):
    return "" if value is None else str(value).strip()


def musicbrainz_id(value, kind, warnings):
    """A MusicBrainz id tag as a UUID; a value that is not one is left out with a warning."""
    value = clean(value)
    if not value:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        warnings.append(f"MusicBrainz {kind} id {value[:80]!r} is not a MusicBrainz id: left out")
        return None


def checked_lyrics(plain, synced, *, warnings):
    """Lyrics as the song stores them: plain text (from the timed lines when only those exist) and the
    timed lines as [[ms, "line"], ...]; lyrics too long to store are left out with a warning."""
    synced = [[int(ms), str(line).replace("\0", "")] for ms, line in synced] if synced else None
    plain = (plain or "").replace("\0", "").strip() or ("\n".join(line for _, line in synced) if synced else "")
    if len(plain) > LYRICS_MAX_CHARACTERS:
        warnings.append(f"lyrics longer than {LYRICS_MAX_CHARACTERS:,} characters: left out")
        return "", None
    return plain, synced
