"""Audio file rows without their bytes, for tests of what pages and the API show of a song's audio
(they read the facts, never the file). Tests of the files themselves use audio_files.py."""

from SyroMusic import services
from SyroMusic.models import AudioFile

HASH_TAIL = "5e" * 30


def give_audio(*songs, format="flac", codec="flac", bitrate=1_411_200, duration_ms=205_000, peaks=b""):
    """A file row for each song (content hash: the song's id in hex, then 5e5e...), each song then
    playing its file (services.song_pick_audio). Returns the rows."""
    files = AudioFile.objects.bulk_create(
        AudioFile(
            song=song, path=f"/music/{song.pk}.{format}", format=format, codec=codec, bitrate=bitrate,
            sample_rate=44_100, channels=2, duration_ms=duration_ms, size=36_000_000, mtime_ns=0,
            content_hash=f"{song.pk:04x}{HASH_TAIL}", peaks=peaks,
        )
        for song in songs
    )
    services.song_pick_audio(song_ids=[song.pk for song in songs])
    return files
