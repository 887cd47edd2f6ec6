"""Files staff upload in the admin: audio attached to a song, a cover set on an album.

Each is checked by its bytes, never by the type the browser claims, and has a size limit of its own
(AUDIO_UPLOAD_MAX_BYTES, COVER_UPLOAD_MAX_BYTES). Audio is copied under MEDIA_ROOT/audio/, named by its
content hash and the format its bytes are (never the name it came with); covers go where every cover
goes (SyroMusic.audio.covers).

A form checks first (`audio_upload_check`, `cover_upload_store`) so a refusal is a form error, and
attaches once the rest of the form is saved; `song_attach_upload` and `album_set_cover` do both at once.
"""

import os
import tempfile
import weakref
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from SyroMusic import caching, services
from SyroMusic.audio import covers, probe
from SyroMusic.audio.tags import Tags, read_tags
from SyroMusic.models import LYRICS_MAX_CHARACTERS, AudioFile

CHUNK_BYTES = 1024 * 1024


def human_size(size):
    """A size as people read it, in decimal units as disks and browsers count: "17.6 KB", "500 MB"."""
    for unit, scale in (("GB", 10**9), ("MB", 10**6), ("KB", 10**3)):
        if size >= scale:
            return f"{round(size / scale, 1):g} {unit}"
    return f"{size} bytes"


def _refuse_too_large(upload, limit, what):
    if upload.size > limit:
        raise ValidationError(
            f"The {what} is {human_size(upload.size)} ({upload.size:,} bytes); the limit is {human_size(limit)}.",
            code="too_large",
        )


def _remove(path):
    Path(path).unlink(missing_ok=True)


@dataclass
class CheckedAudio:
    """An upload whose bytes are audio, waiting beside its final place for song_attach_checked. Its
    temporary file goes away with this object if it is never attached (a form that failed elsewhere)."""

    temporary: Path
    facts: probe.AudioFacts
    tags: Tags
    _cleanup: weakref.finalize = field(init=False, repr=False)

    def __post_init__(self):
        self._cleanup = weakref.finalize(self, _remove, self.temporary)

    def discard(self):
        self._cleanup()

    def move_to(self, path):
        """Put the file in its place, readable as Django's own uploads are (mkstemp's 0600 would hide
        it from nginx's workers), and stop guarding it."""
        if settings.FILE_UPLOAD_PERMISSIONS is not None:
            os.chmod(self.temporary, settings.FILE_UPLOAD_PERMISSIONS)
        os.replace(self.temporary, path)
        self._cleanup.detach()

    @property
    def final_path(self):
        content_hash = self.facts.content_hash
        return audio_directory() / content_hash[:2] / f"{content_hash}.{self.facts.format}"


def audio_directory():
    return Path(settings.MEDIA_ROOT) / "audio"


def audio_upload_check(upload):
    """Copy an uploaded file beside the audio store and check that it is audio another song does not
    already have: a CheckedAudio, or ValidationError saying why not (and nothing left on disk)."""
    _refuse_too_large(upload, settings.AUDIO_UPLOAD_MAX_BYTES, "file")
    # The probe checks that the bytes are what the name says (a FLAC named .mp3 is refused); the name
    # the file is stored under comes from the bytes alone.
    extension = Path(upload.name or "").suffix.lower()
    if extension not in probe.FORMAT_BY_EXTENSION:
        raise ValidationError(
            f"“{upload.name}” is not named as an audio file the site plays: expected a name ending in "
            f"{', '.join(probe.FORMAT_BY_EXTENSION)}.",
            code="bad_audio",
        )
    directory = audio_directory()
    directory.mkdir(parents=True, exist_ok=True)
    # In the store's own directory, so that attaching is a rename: never a half-written file in place.
    handle, name = tempfile.mkstemp(dir=directory, prefix=".upload-", suffix=extension)
    try:
        with os.fdopen(handle, "wb") as temporary:
            for chunk in upload.chunks(CHUNK_BYTES):
                temporary.write(chunk)
        facts = probe.probe(name)
        try:
            tags = read_tags(name)
        except probe.BadAudio:
            tags = Tags()  # audio without readable tags still plays
    except probe.BadAudio as error:
        _remove(name)
        raise ValidationError(f"This is not an audio file the site can play: {error}.", code="bad_audio") from None
    except BaseException:
        _remove(name)
        raise
    checked = CheckedAudio(Path(name), facts, tags)
    holder = AudioFile.objects.filter(path=str(checked.final_path)).select_related("song").first()
    if holder is not None:
        checked.discard()
        raise ValidationError(f"This file is already attached to the song “{holder.song}”.", code="duplicate")
    return checked


@transaction.atomic
def song_attach_checked(*, song, checked):
    """Move a checked upload into the store and attach it to the song: its lyrics too when the song has
    none, and the song then plays the best of its files (services.song_pick_audio)."""
    facts, path = checked.facts, checked.final_path
    path.parent.mkdir(parents=True, exist_ok=True)
    already_there = path.exists()  # the same bytes, stored before (by a save that then failed)
    checked.move_to(path)
    try:
        audio = AudioFile.objects.create(
            song=song, path=str(path), source=AudioFile.Source.UPLOAD, format=facts.format, codec=facts.codec,
            bitrate=facts.bitrate, sample_rate=facts.sample_rate, channels=facts.channels,
            duration_ms=facts.duration_ms, size=facts.size, mtime_ns=path.stat().st_mtime_ns,
            content_hash=facts.content_hash, peaks=facts.peaks,
        )
        tags = checked.tags
        if not song.lyrics and not song.synced_lyrics and (tags.lyrics or tags.synced_lyrics):
            song.lyrics = tags.lyrics[:LYRICS_MAX_CHARACTERS]
            song.synced_lyrics = [[time_ms, line] for time_ms, line in tags.synced_lyrics] if tags.synced_lyrics else None
            song.save(update_fields=["lyrics", "synced_lyrics"])
        services.song_pick_audio(song_ids=[song.pk])
    except BaseException:
        # No bytes left without their row (unless they were there before: another row may be using them).
        if not already_there:
            _remove(path)
        raise
    return audio


def song_attach_upload(*, song, upload):
    """Attach an uploaded audio file to a song; ValidationError with a clear message when refused."""
    return song_attach_checked(song=song, checked=audio_upload_check(upload))


def cover_upload_store(upload):
    """Store an uploaded cover in every size (SyroMusic.audio.covers) and return its content hash;
    ValidationError when it is too large or not an image. The files are named by their content, so
    storing one that is then not used harms nothing."""
    _refuse_too_large(upload, settings.COVER_UPLOAD_MAX_BYTES, "image")
    data = b"".join(upload.chunks(CHUNK_BYTES))
    try:
        return covers.store_cover(data)
    except covers.BadImage as error:
        raise ValidationError(f"This is not an image the site can use: {error}.", code="bad_image") from None


def album_set_cover(*, album, upload):
    """Make an uploaded image the album's cover; returns its content hash. ValidationError when refused."""
    album.cover_hash = cover_upload_store(upload)
    album.save(update_fields=["cover_hash"])
    return album.cover_hash


@transaction.atomic
def audio_files_delete(*, queryset):
    """Forget audio files: their songs then play the best file they have left. Uploaded bytes are ours
    and go too (once the deletion is committed); a music folder's files are never touched."""
    files = list(queryset.values_list("song_id", "source", "path"))
    queryset.delete()  # a song playing one of them now plays nothing (SET_NULL) until it picks again
    services.song_pick_audio(song_ids={song_id for song_id, _, _ in files})
    caching.bump(caching.CATALOGUE)  # SET_NULL is a bulk update: no signal marks the pages stale

    def remove_uploaded():
        for _, source, path in files:
            if source == AudioFile.Source.UPLOAD:
                _remove(path)

    transaction.on_commit(remove_uploaded)
