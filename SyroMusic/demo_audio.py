"""Audio for the demo catalogue: real files for the songs a newcomer sees first, so the demo plays.

The songs: the first tracks of the newest albums (the home page's albums) and the most popular songs
(its song list). Each gets a short piece of music made from its id (audio.synth), in one of the
formats Chromium plays, tagged with the catalogue's own names, disc and track (so a library scan
matches it as the catalogue import would), with a cover per album and synced lyrics on a few.

The files go to a folder of their own, outside git. A file already there is kept: only what is
missing is made. The folder remembers its songs (MANIFEST), so the demo keeps the same songs while
the catalogue stays the same, and a changed catalogue gets its own files (the old ones removed).
Scanning the folder is the caller's job (seed_catalogue --audio): the demo does not know the library.
"""

import json
import os
import pathlib
import random
import time
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef

from .audio.artwork import draw_album_cover
from .audio.encode import write_audio
from .audio.synth import phrase_times, piece
from .models import Album, AudioFile, Song

DEMO_ALBUMS = 12  # the home page's newest albums
TRACKS_PER_ALBUM = 2  # the first tracks of each: every album on the home page plays
POPULAR_SONGS = 10  # the home page's popular songs
# Album by album in turn, the formats Chromium plays (WAV too, but nobody keeps music in it).
FORMATS = ("mp3", "ogg", "opus", "m4a", "flac")
EXTENSIONS = {"mp3": ".mp3", "ogg": ".ogg", "opus": ".opus", "m4a": ".m4a", "flac": ".flac"}
SECONDS = (20.0, 26.0)  # each song's length is drawn between these (the budget: under 30 s on make run)
SAMPLE_RATE = 44_100
COVER_SIZE = 600  # the largest size pages show (models.COVER_SIZES)
FOLDER_COVER = "cover.jpg"
# The folder's own record of what the demo wrote there; its presence marks the folder as the demo's,
# so the demo only ever removes files from a folder it made.
MANIFEST = ".syromusic-demo.json"
NAME_BYTES = 120  # a file or folder name's UTF-8 length at most (file systems allow 255)

LYRIC_OPENINGS = [
    "Under the", "Across the", "Beyond the", "Along the", "Over the", "Into the", "Down by the", "Far from the",
]
LYRIC_PLACES = [
    "harbour lights", "silver river", "northern sky", "quiet city", "amber hills", "sleeping sea", "neon rain",
    "winter garden", "open road", "morning tide", "velvet night", "distant shore",
]
LYRIC_ENDINGS = [
    "we are home", "I hear you call", "the night is young", "you'll find me there", "the lanterns glow",
    "our hearts will stay", "the echoes fade", "we carry on", "the bells ring slow", "we dance again",
]


@dataclass(frozen=True)
class DemoFile:
    """One song's demo file: where it goes (relative to the folder) and what it holds."""

    song_id: int
    album_id: int
    path: str
    format: str
    seconds: float
    tags: dict = field(hash=False)
    cover: str  # "embedded" in the file, or "folder": a cover.jpg beside it
    lyrics: str  # "", "embedded" (synced, in the file's own tags) or "sidecar" (a .lrc file beside it)
    album_title: str
    album_artist: str


@dataclass
class DemoAudioReport:
    songs: int = 0
    written: int = 0
    kept: int = 0
    removed: int = 0
    bytes: int = 0
    seconds: float = 0.0
    song_ids: list = field(default_factory=list)


def demo_audio_plan(*, folder, albums=None, tracks=None, popular=None):
    """The demo files for the catalogue as it is: those the folder's manifest names while the catalogue
    still has those songs as they were, else a new choice: the first `tracks` songs of the `albums`
    newest albums and the `popular` most popular songs (defaults: DEMO_ALBUMS, TRACKS_PER_ALBUM,
    POPULAR_SONGS), leaving alone songs with a file from elsewhere (a listener's own music)."""
    albums = DEMO_ALBUMS if albums is None else albums
    tracks = TRACKS_PER_ALBUM if tracks is None else tracks
    popular = POPULAR_SONGS if popular is None else popular
    folder = pathlib.Path(folder)
    remembered = _read_manifest(folder)
    if remembered:
        plan = _plan_for(list(remembered))
        if {entry.song_id: entry.path for entry in plan} == remembered:
            return plan
    foreign = AudioFile.objects.filter(song=OuterRef("pk")).exclude(path__startswith=f"{folder.resolve()}{os.sep}")
    songs = Song.objects.exclude(Exists(foreign))
    album_ids = list(Album.objects.exclude(release_date=None).newest_first().values_list("id", flat=True)[:albums])
    first_tracks = {album_id: [] for album_id in album_ids}
    for song_id, album_id in songs.filter(album_id__in=album_ids).in_tracklist_order().values_list("id", "album_id"):
        if len(first_tracks[album_id]) < tracks:
            first_tracks[album_id].append(song_id)
    song_ids = [song_id for album_id in album_ids for song_id in first_tracks[album_id]]
    song_ids += [song_id for song_id in songs.most_popular().values_list("id", flat=True)[:popular] if song_id not in song_ids]
    return _plan_for(song_ids)


def _plan_for(song_ids):
    songs = {song.id: song for song in Song.objects.filter(id__in=song_ids).select_related("album__artist", "artist", "genre")}
    album_rank = {}
    for song_id in song_ids:
        if song_id in songs:
            album_rank.setdefault(songs[song_id].album_id, len(album_rank))
    plan = []
    first_on_album = set()
    for song_id in song_ids:
        song = songs.get(song_id)
        if song is None:
            continue
        album = song.album
        rank = album_rank[album.id]
        format = FORMATS[rank % len(FORMATS)]
        first = album.id not in first_on_album
        first_on_album.add(album.id)
        lyrics = ""
        if first and rank % 3 == 0:
            lyrics = "sidecar" if rank % 6 == 3 else "embedded"
        tags = {
            "title": song.title, "artist": song.artist.name, "album_artist": album.artist.name, "album": album.title,
            "disc_number": song.disc_number, "track_number": song.track_number,
            "year": album.release_date.year if album.release_date else None,
            "genre": song.genre.name if song.genre else None, "composer": song.composer,
            "mb_track_id": song.mbid, "mb_album_id": album.mbid, "mb_artist_id": song.artist.mbid,
            "mb_album_artist_id": album.artist.mbid,
        }
        plan.append(
            DemoFile(
                song_id=song.id, album_id=album.id, path=_song_path(song, format), format=format,
                seconds=round(random.Random(song.id * 7_919).uniform(*SECONDS), 1),
                tags={name: value for name, value in tags.items() if value not in (None, "")},
                cover="embedded" if rank % 2 == 0 else "folder", lyrics=lyrics, album_title=album.title,
                album_artist=album.artist.name,
            )
        )
    return plan


def _song_path(song, format):
    """<album artist>/<album>/<disc>-<track> <title>.<ext>, as music folders are laid out."""
    album = song.album
    name = f"{song.disc_number}-{song.track_number:02d} {_file_name(song.title)}"
    return f"{_file_name(album.artist.name)}/{_file_name(album.title)}/{name}{EXTENSIONS[format]}"


def _file_name(text):
    """`text` as one file name: no separators or control characters, no leading dot, a bounded length."""
    name = "".join(
        "-" if char in "/\\" else char for char in text if not unicodedata.category(char).startswith("C")
    )
    name = name.strip().lstrip(".") or "untitled"
    while len(name.encode("utf-8")) > NAME_BYTES:
        name = name[:-1]
    return name.rstrip()


def demo_audio_write(*, folder, plan, workers=None, progress=None):
    """Make the plan's files that the folder lacks (with their covers and lyrics) and remove the demo's
    files the plan no longer names. Encodes in `workers` threads (default: one per CPU; encoders release
    the GIL). progress: a tqdm-like bar (update). Returns a DemoAudioReport."""
    started = time.monotonic()
    folder = pathlib.Path(folder)
    ours = (folder / MANIFEST).exists() or not folder.exists() or not any(folder.iterdir())
    folder.mkdir(parents=True, exist_ok=True)
    report = DemoAudioReport(songs=len(plan), song_ids=[entry.song_id for entry in plan])
    wanted = set()
    covers = {}
    missing = []
    for entry in plan:
        path = folder / entry.path
        wanted.add(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        if entry.cover == "folder":
            wanted.add(path.parent / FOLDER_COVER)
            if not (path.parent / FOLDER_COVER).exists():
                _write_whole(path.parent / FOLDER_COVER, _cover(covers, entry))
        if entry.lyrics == "sidecar":
            wanted.add(path.with_suffix(".lrc"))
            if not path.with_suffix(".lrc").exists():
                _write_whole(path.with_suffix(".lrc"), _lrc(demo_lyrics(entry)).encode("utf-8"))
        if path.exists():
            report.kept += 1
            if progress:
                progress.update(1)
        else:
            if entry.cover == "embedded":
                _cover(covers, entry)
            missing.append(entry)

    def write(entry):
        lines = demo_lyrics(entry) if entry.lyrics == "embedded" else None
        write_audio(
            folder / entry.path, samples=piece(entry.song_id, seconds=entry.seconds, sample_rate=SAMPLE_RATE),
            sample_rate=SAMPLE_RATE, format=entry.format, tags=entry.tags,
            cover=covers[entry.album_id] if entry.cover == "embedded" else None,
            lyrics="\n".join(line for _, line in lines) if lines else "", synced_lyrics=lines,
        )
        if progress:
            progress.update(1)

    with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 1) as pool:
        # list() so that an error in any file is raised here.
        list(pool.map(write, missing))
    report.written = len(missing)
    if ours:
        report.removed = _remove_others(folder, keep=wanted)
    _write_manifest(folder, plan)
    report.bytes = sum((folder / entry.path).stat().st_size for entry in plan)
    report.seconds = time.monotonic() - started
    return report


def _cover(covers, entry):
    """The album's cover, drawn once per run."""
    if entry.album_id not in covers:
        covers[entry.album_id] = album_cover(entry.album_id, entry.album_title, entry.album_artist)
    return covers[entry.album_id]


def _write_whole(path, data):
    """Write under a temporary name, then rename: the file appears complete or not at all."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.part")
    temporary.write_bytes(data)
    os.replace(temporary, path)


def _remove_others(folder, *, keep):
    """Remove the files the demo made earlier that the plan no longer names, then empty folders."""
    removed = 0
    made = set(EXTENSIONS.values()) | {".lrc", ".jpg"}
    for directory, _, files in os.walk(folder, topdown=False):
        directory = pathlib.Path(directory)
        for name in files:
            path = directory / name
            if path.suffix.lower() in made and path not in keep:
                path.unlink()
                removed += path.suffix.lower() in EXTENSIONS.values()
        if directory != folder and not any(directory.iterdir()):
            directory.rmdir()
    return removed


def _read_manifest(folder):
    try:
        songs = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))["songs"]
        return {int(song_id): path for song_id, path in songs}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def _write_manifest(folder, plan):
    manifest = {
        "about": "Demo audio made by `manage.py seed_catalogue --audio`: the songs these files belong to.",
        "songs": [[entry.song_id, entry.path] for entry in plan],
    }
    data = json.dumps(manifest, ensure_ascii=False, indent=0).encode("utf-8")
    path = folder / MANIFEST
    if not path.exists() or path.read_bytes() != data:
        _write_whole(path, data)


def demo_lyrics(entry):
    """Synced lines for a demo song: two lines per melodic phrase, [(ms, line), ...]."""
    rng = random.Random(entry.song_id * 104_729)
    lines = []
    for start, length in phrase_times(entry.song_id, seconds=entry.seconds):
        for half in (0, 1):
            at = start + half * length / 2
            if at < entry.seconds - 2:
                text = f"{rng.choice(LYRIC_OPENINGS)} {rng.choice(LYRIC_PLACES)}" if half == 0 else rng.choice(LYRIC_ENDINGS)
                lines.append((int(at * 100) * 10, text))
    return lines or [(0, entry.tags["title"])]


def _lrc(lines):
    body = []
    for ms, text in lines:
        minutes, rest = divmod(ms, 60_000)
        body.append(f"[{minutes:02d}:{rest // 1000:02d}.{rest % 1000 // 10:02d}]{text}")
    return "\n".join(body) + "\n"


def album_cover(album_id, title, artist):
    """The album's demo cover as a 600-pixel JPEG (the one the seed stores, in a larger size: see audio.artwork)."""
    return draw_album_cover(album_id, title, artist, size=COVER_SIZE)
