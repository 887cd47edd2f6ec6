"""Reading audio files: facts and peaks (probe), tags, lyrics and covers, from real files generated here."""

import hashlib
import io
import os
import random
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings
from mutagen import flac, id3, mp4, oggvorbis
from PIL import Image

from SyroMusic.audio import lyrics, probe, tags
from SyroMusic.audio.covers import BadImage, folder_cover, store_cover
from SyroMusic.audio.encode import write_audio
from SyroMusic.audio.lyrics import parse_lrc, sidecar_lyrics
from SyroMusic.audio.probe import BadAudio, file_hash
from SyroMusic.audio.synth import tone
from SyroMusic.audio.tags import read_tags
from SyroMusic.models import COVER_SIZES, cover_file_name

from .audio_files import (
    FORMATS,
    FULL_TAGS,
    PLAIN_LYRICS,
    RUNNING_AS_ROOT,
    SYNCED_LYRICS,
    make_audio,
    make_corrupt,
    make_cover,
    make_dangling_symlink,
    make_empty,
    make_truncated,
    make_unreadable,
    make_wrong_extension,
    write_lrc,
)

RATE = 22050
SECONDS = 1.5
# (format, codec to write) -> (codec read, sample rate, channels) for a 1.5 s mono file at 22.05 kHz.
EXPECTED_FACTS = {
    ("mp3", None): ("mp3", RATE, 1),
    ("flac", None): ("flac", RATE, 1),
    ("ogg", None): ("vorbis", RATE, 2),  # FFmpeg's Vorbis encoder writes stereo only
    ("opus", None): ("opus", 48_000, 1),  # Opus always decodes at 48 kHz
    ("m4a", None): ("aac", RATE, 1),
    ("m4a", "alac"): ("alac", RATE, 1),
    ("wav", None): ("pcm_s16le", RATE, 1),
}


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("audio-reading")


@pytest.fixture(scope="module")
def tagged(folder):
    """One file per format with every tag, a cover and plain lyrics."""
    return {
        format: make_audio(folder / "tagged", f"tagged-{format}", format=format, seconds=SECONDS, tags=FULL_TAGS,
                           cover=make_cover(), lyrics=PLAIN_LYRICS)
        for format in FORMATS
    }


@pytest.fixture(scope="module")
def loud_then_silent(folder):
    """One file per format: 1 s of a loud sine, then 1 s of silence."""
    samples = np.concatenate([tone(seconds=1.0, sample_rate=RATE), np.zeros((1, RATE), dtype=np.float32)], axis=1)
    return {
        format: write_audio(folder / f"loud-then-silent.{format}", samples=samples, sample_rate=RATE, format=format)
        for format in FORMATS
    }


# Facts

@pytest.mark.parametrize(("format", "codec"), list(EXPECTED_FACTS))
def test_probe_reads_the_facts_from_the_bytes(folder, format, codec):
    path = make_audio(folder / "facts", f"song-{format}-{codec}", format=format, codec=codec, seconds=SECONDS, sample_rate=RATE)

    facts = probe.probe(path)

    assert (facts.format, facts.codec, facts.sample_rate, facts.channels) == (format, *EXPECTED_FACTS[format, codec])
    assert facts.size == path.stat().st_size
    assert facts.content_hash == hashlib.sha256(path.read_bytes()).hexdigest()
    # Exact: the decoded sample count (1.5 s = 33075 samples). FFmpeg's own Vorbis encoder (the test
    # files' only one) ends its last page up to a block after the music; libvorbis files are exact.
    assert abs(facts.duration_ms - 1500) <= (100 if format == "ogg" else 1)


def test_bitrate_is_the_audio_streams_average(folder):
    wav = probe.probe(make_audio(folder / "bitrate", "plain", format="wav", seconds=SECONDS, sample_rate=RATE))
    mp3 = probe.probe(make_audio(folder / "bitrate", "cbr", format="mp3", seconds=SECONDS, bitrate=64_000))

    assert wav.bitrate == RATE * 16  # 16-bit mono PCM, header and tags not counted
    assert 60_000 <= mp3.bitrate <= 72_000  # 64 kbit/s frames, plus the Xing frame's share


def test_a_flac_without_a_sample_count_is_still_read_exactly(tmp_path):
    # Streaming encoders leave STREAMINFO's sample count at 0 ("unknown"): nothing to compare the decode with.
    path = make_audio(tmp_path, "streamed", format="flac", seconds=SECONDS, sample_rate=RATE)
    data = bytearray(path.read_bytes())
    data[18:26] = (int.from_bytes(data[18:26], "big") & ~(2**36 - 1)).to_bytes(8, "big")
    path.write_bytes(bytes(data))

    assert probe.probe(path).duration_ms == 1500


def test_an_opus_stream_named_ogg_is_read_as_opus(folder):
    path = make_audio(folder / "opus-as-ogg", "song-opus", format="opus")
    renamed = path.rename(path.with_suffix(".ogg"))

    assert probe.probe(renamed).format == "opus"


def test_file_hash_reads_in_chunks_and_equals_hashlib(tmp_path):
    path = tmp_path / "big.bin"
    data = random.Random(5).randbytes(probe.HASH_CHUNK * 2 + 12345)
    path.write_bytes(data)

    assert file_hash(path) == hashlib.sha256(data).hexdigest()


# Peaks

@pytest.mark.parametrize("format", FORMATS)
def test_peaks_are_high_while_loud_and_near_zero_in_silence(loud_then_silent, format):
    peaks = probe.probe(loud_then_silent[format]).peaks

    assert isinstance(peaks, bytes) and len(peaks) == 200  # 2 s in slices of 10 ms
    # A -6 dBFS sine is 128 of 255; lossy codecs ring a little around the cut.
    assert all(115 <= peak <= 150 for peak in peaks[5:95])
    assert all(peak <= 3 for peak in peaks[110:])


def test_a_short_file_has_a_slice_per_10_ms_and_a_long_one_at_most_peak_count(folder):
    short = write_audio(folder / "short.wav", samples=tone(seconds=0.25, sample_rate=8000), sample_rate=8000, format="wav")
    long = write_audio(folder / "long.wav", samples=tone(seconds=12, sample_rate=8000), sample_rate=8000, format="wav")

    assert len(probe.probe(short).peaks) == 25
    assert len(probe.probe(long).peaks) == probe.PEAK_COUNT == 1000


# Bad files: each refused with its reason, never another exception

def _fifo(directory):
    os.mkfifo(directory / "pipe.mp3")
    return directory / "pipe.mp3"


def _directory(directory):
    (directory / "album.mp3").mkdir()
    return directory / "album.mp3"


def _png_named_mp3(directory):
    path = directory / "picture.mp3"
    path.write_bytes(make_cover())
    return path


def _text_named_flac(directory):
    path = directory / "notes.flac"
    path.write_text("These are not the droids you are looking for.\n" * 20)
    return path


def _flac_claiming_days(directory):
    # STREAMINFO's 36-bit sample count patched to 2**35 samples: 18 days at 22.05 kHz.
    path = make_audio(directory, "days", format="flac")
    data = bytearray(path.read_bytes())
    fields = int.from_bytes(data[18:26], "big")
    data[18:26] = ((fields & ~(2**36 - 1)) | 2**35).to_bytes(8, "big")
    path.write_bytes(bytes(data))
    return path


def _wav_with_40_channels(directory):
    path = directory / "many.wav"
    channels, rate, frames = 40, 8000, 800
    data = bytes(channels * frames * 2)
    fmt = struct.pack("<HHIIHH", 1, channels, rate, rate * channels * 2, channels * 2, 16)
    path.write_bytes(b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVEfmt " + struct.pack("<I", 16) + fmt
                     + b"data" + struct.pack("<I", len(data)) + data)
    return path


def _corrupt_middle(directory):
    path = make_audio(directory, "damaged", format="flac", seconds=3)
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle:middle + 2048] = random.Random(7).randbytes(2048)
    path.write_bytes(bytes(data))
    return path


BAD_FILES = {
    "empty": (lambda d: make_empty(d), "empty file (0 bytes)"),
    "random bytes": (lambda d: make_corrupt(d, "noise.mp3"), "not audio: the bytes are not MP3, FLAC, Ogg, MP4 or WAV"),
    "random bytes named .ogg": (lambda d: make_corrupt(d, "noise.ogg"), "not audio: the bytes are not MP3, FLAC, Ogg, MP4 or WAV"),
    "text named .flac": (_text_named_flac, "not audio: the bytes are not MP3, FLAC, Ogg, MP4 or WAV"),
    "an image named .mp3": (_png_named_mp3, "not audio: no audio stream"),
    "FLAC named .mp3": (lambda d: make_wrong_extension(d), "named .mp3 but the bytes are FLAC"),
    "MP3 named .flac": (lambda d: make_wrong_extension(d, "really-mp3.flac", format="mp3"), "named .flac but the bytes are MP3"),
    "WAV named .m4a": (lambda d: make_wrong_extension(d, "really-wav.m4a", format="wav"), "named .m4a but the bytes are WAV"),
    "unknown extension": (lambda d: make_wrong_extension(d, "song.aiff", format="wav"), "unknown extension '.aiff'"),
    "no extension": (lambda d: make_wrong_extension(d, "song", format="wav"), "unknown extension '(none)'"),
    "a FIFO named .mp3": (_fifo, "not a regular file (a FIFO)"),
    "a directory named .mp3": (_directory, "not a regular file (a directory)"),
    "a dangling symlink": (lambda d: make_dangling_symlink(d), "missing: no such file"),
    "a header claiming 18 days": (_flac_claiming_days, "absurd: the header claims a duration of"),
    "40 channels": (_wav_with_40_channels, "absurd: 40 channels"),
    "damaged in the middle": (_corrupt_middle, "truncated or corrupt: "),
    **{
        f"truncated {format}": (lambda d, format=format: make_truncated(d, f"cut.{format}", format=format), "truncated or corrupt: ")
        for format in FORMATS
    },
}


@pytest.mark.parametrize("kind", list(BAD_FILES))
def test_a_bad_file_is_refused_with_its_reason(tmp_path, kind):
    build, reason = BAD_FILES[kind]
    path = build(tmp_path)

    with pytest.raises(BadAudio) as refused:
        probe.probe(path)
    assert str(refused.value).startswith(reason)


def test_the_reason_for_a_cut_file_says_how_much_is_missing(tmp_path):
    path = make_truncated(tmp_path, "cut.mp3", format="mp3", seconds=2.0)

    with pytest.raises(BadAudio, match=r"^truncated or corrupt: 0\.\d\d s of audio where the header says 2\.00 s$"):
        probe.probe(path)


def test_an_unreadable_file_is_refused(tmp_path):
    # As root: a symlink loop, the one file root cannot open (audio_files.make_unreadable).
    with pytest.raises(BadAudio, match="^unreadable: "):
        probe.probe(make_unreadable(tmp_path))


@pytest.mark.skipif(RUNNING_AS_ROOT, reason="root reads any file whatever its permissions")
def test_a_file_without_read_permission_is_refused(tmp_path):
    path = make_audio(tmp_path, "locked")
    path.chmod(0)

    with pytest.raises(BadAudio, match="^unreadable: permission denied$"):
        probe.probe(path)


@pytest.mark.parametrize("format", FORMATS)
def test_a_cut_at_any_point_gives_facts_or_bad_audio_never_another_error(folder, tmp_path, format):
    data = make_audio(folder / "whole", f"whole-{format}", format=format, seconds=SECONDS).read_bytes()
    for fraction in (0.01, 0.1, 0.3, 0.5, 0.7, 0.9, 0.97):
        path = tmp_path / f"cut-{fraction}.{format}"
        path.write_bytes(data[: int(len(data) * fraction)])
        try:
            probe.probe(path)
        except BadAudio:
            pass


# Tags

@pytest.mark.parametrize("format", FORMATS)
def test_every_tag_is_read_in_each_format(tagged, format):
    read = read_tags(tagged[format])

    assert read == tags.Tags(
        title="Ночь над Øresund — 東京の雨", artist="Søren Dvořák & the Zoës", album_artist="Søren Dvořák",
        album="Café Noir: Ça plane", disc_number=2, track_number=7, year=2019, genre="Bossa Nova",
        composer="Björn Ångström", mb_track_id=FULL_TAGS["mb_track_id"], mb_album_id=FULL_TAGS["mb_album_id"],
        mb_artist_id=FULL_TAGS["mb_artist_id"], mb_album_artist_id=FULL_TAGS["mb_album_artist_id"],
        lyrics=PLAIN_LYRICS, synced_lyrics=None, picture=make_cover(),
    )


@pytest.mark.parametrize("format", FORMATS)
def test_an_untagged_file_gives_empty_tags(folder, format):
    assert read_tags(make_audio(folder / "untagged", f"bare-{format}", format=format)) == tags.Tags()


@pytest.mark.parametrize("format", FORMATS)
def test_synced_lyrics_are_read_in_each_format(folder, format):
    # MP3: SYLT beside USLT; the others: an LRC text in LYRICS / ©lyr (ID3 in WAV holds an LRC too).
    path = make_audio(folder / "synced", f"synced-{format}", format=format, lyrics=PLAIN_LYRICS, synced_lyrics=SYNCED_LYRICS)

    read = read_tags(path)

    assert (read.lyrics, read.synced_lyrics) == (PLAIN_LYRICS, SYNCED_LYRICS)


def _mp3(tmp_path, name="song"):
    return make_audio(tmp_path, name, format="mp3")


def test_id3v23_year_numeric_genre_and_number_pairs(tmp_path):
    path = _mp3(tmp_path)
    frames = id3.ID3()
    frames.add(id3.TYER(encoding=id3.Encoding.LATIN1, text=["1987"]))
    frames.add(id3.TCON(encoding=id3.Encoding.LATIN1, text=["(17)"]))
    frames.add(id3.TRCK(encoding=id3.Encoding.LATIN1, text=["3/12"]))
    frames.add(id3.TPOS(encoding=id3.Encoding.LATIN1, text=["1/2"]))
    frames.save(path, v2_version=3)

    read = read_tags(path)

    assert (read.year, read.genre, read.track_number, read.disc_number) == (1987, "Rock", 3, 1)


def test_id3_odd_values_are_left_empty_and_names_cleaned(tmp_path):
    path = _mp3(tmp_path)
    frames = id3.ID3()
    frames.add(id3.TIT2(encoding=id3.Encoding.UTF8, text=["  Line\tone\r\ntwo\x07 "]))
    frames.add(id3.TPE1(encoding=id3.Encoding.UTF8, text=["Ana", "Bea", "Ana"]))  # ID3v2.4: several values
    frames.add(id3.TRCK(encoding=id3.Encoding.UTF8, text=["three"]))
    frames.add(id3.TPOS(encoding=id3.Encoding.UTF8, text=["0"]))
    frames.add(id3.TDRC(encoding=id3.Encoding.UTF8, text=["someday"]))
    frames.add(id3.TXXX(encoding=id3.Encoding.UTF8, desc="MusicBrainz Album Id", text=["not-a-uuid"]))
    frames.add(id3.UFID(owner="http://musicbrainz.org", data=b"\xff\xfe"))
    frames.save(path)

    read = read_tags(path)

    assert (read.title, read.artist) == ("Line one two", "Ana, Bea")
    assert (read.track_number, read.disc_number, read.year, read.mb_album_id, read.mb_track_id) == (None,) * 5


def test_id3_front_cover_is_preferred_to_earlier_pictures(tmp_path):
    path = _mp3(tmp_path)
    back, front = make_cover((10, 10, 10)), make_cover((250, 250, 250))
    frames = id3.ID3()
    frames.add(id3.APIC(encoding=id3.Encoding.UTF8, mime="image/png", type=id3.PictureType.COVER_BACK, desc="back", data=back))
    frames.add(id3.APIC(encoding=id3.Encoding.UTF8, mime="image/png", type=id3.PictureType.COVER_FRONT, desc="front", data=front))
    frames.save(path)

    assert read_tags(path).picture == front


def test_id3_without_a_front_cover_gives_the_first_picture(tmp_path):
    path = _mp3(tmp_path)
    back = make_cover((10, 10, 10))
    frames = id3.ID3()
    frames.add(id3.APIC(encoding=id3.Encoding.UTF8, mime="image/png", type=id3.PictureType.COVER_BACK, desc="back", data=back))
    frames.save(path)

    assert read_tags(path).picture == back


def test_id3_sylt_alone_gives_plain_lyrics_too(tmp_path):
    path = _mp3(tmp_path)
    frames = id3.ID3()
    frames.add(id3.SYLT(encoding=id3.Encoding.UTF8, lang="eng", format=2, type=1, desc="",
                        text=[("Second", 2000), ("First", 500)]))
    frames.save(path)

    read = read_tags(path)

    assert (read.lyrics, read.synced_lyrics) == ("First\nSecond", [(500, "First"), (2000, "Second")])


def test_id3_uslt_keeps_its_line_breaks(tmp_path):
    path = _mp3(tmp_path)
    frames = id3.ID3()
    frames.add(id3.USLT(encoding=id3.Encoding.UTF8, lang="eng", desc="", text="Verse one\r\n\r\nVerse\x07 two\n"))
    frames.save(path)

    assert read_tags(path).lyrics == "Verse one\n\nVerse two"


def test_vorbis_comment_spellings_dates_and_several_values(tmp_path):
    path = make_audio(tmp_path, "song", format="ogg")
    audio = oggvorbis.OggVorbis(path)
    audio["ALBUM ARTIST"] = ["The Band"]
    audio["ARTIST"] = ["Ana", "Bea"]
    audio["DATE"] = ["2019-05-01"]
    audio["TRACKNUMBER"] = ["3/12"]
    audio["DISCNUMBER"] = ["x"]
    audio["MUSICBRAINZ_TRACKID"] = ["0F4F9E1C3C8E4A1B9D432B8A0C6F1E21"]  # Picard writes lower case with dashes
    audio["UNSYNCEDLYRICS"] = ["[ar:Ana]\n[00:01.00]Hello\n[00:02.50]World"]
    audio.save()

    read = read_tags(path)

    assert (read.album_artist, read.artist, read.year, read.track_number, read.disc_number) == ("The Band", "Ana, Bea", 2019, 3, None)
    assert read.mb_track_id == "0f4f9e1c-3c8e-4a1b-9d43-2b8a0c6f1e21"
    assert (read.lyrics, read.synced_lyrics) == ("Hello\nWorld", [(1000, "Hello"), (2500, "World")])


def test_ogg_cover_comes_from_metadata_block_picture(tagged):
    # write_audio embeds Ogg covers as base64 METADATA_BLOCK_PICTURE comments.
    assert "METADATA_BLOCK_PICTURE" in oggvorbis.OggVorbis(tagged["ogg"])
    assert read_tags(tagged["ogg"]).picture == make_cover()


def test_flac_front_picture_is_preferred(tmp_path):
    path = make_audio(tmp_path, "song", format="flac")
    audio = flac.FLAC(path)
    for kind, color in ((id3.PictureType.ARTIST, (1, 2, 3)), (id3.PictureType.COVER_FRONT, (200, 100, 0))):
        picture = flac.Picture()
        picture.type, picture.mime, picture.data = kind, "image/png", make_cover(color)
        audio.add_picture(picture)
    audio.save()

    assert read_tags(path).picture == make_cover((200, 100, 0))


def test_mp4_dates_and_plain_lyrics(tmp_path):
    path = make_audio(tmp_path, "song", format="m4a")
    audio = mp4.MP4(path)
    audio["\xa9day"] = ["2021-03-04T05:06:07Z"]
    audio["trkn"] = [(4, 10)]
    audio["\xa9lyr"] = ["Line one\nLine two"]
    audio.save()

    read = read_tags(path)

    assert (read.year, read.track_number, read.lyrics, read.synced_lyrics) == (2021, 4, "Line one\nLine two", None)


def test_tags_of_a_fifo_are_refused_without_waiting_for_a_writer(tmp_path):
    with pytest.raises(BadAudio, match=r"^not a regular file \(a FIFO\)$"):
        read_tags(_fifo(tmp_path))


def test_tags_of_a_file_no_reader_knows_are_refused(tmp_path):
    with pytest.raises(BadAudio, match="^not audio"):
        read_tags(make_corrupt(tmp_path, "noise.mp3"))


# Lyrics

LRC_TABLE = {
    "centiseconds": ("[00:01.50]One\n[00:03.25]Two", "One\nTwo", [(1500, "One"), (3250, "Two")]),
    "milliseconds and none": ("[00:01.505]One\n[01:02]Two", "One\nTwo", [(1505, "One"), (62000, "Two")]),
    "several times on a line": ("[00:05.00][00:01.00]Chorus\n[00:03.00]Verse", "Chorus\nVerse\nChorus",
                                [(1000, "Chorus"), (3000, "Verse"), (5000, "Chorus")]),
    "positive offset: earlier": ("[offset:+500]\n[00:01.00]One\n[00:00.20]Zero", "Zero\nOne", [(0, "Zero"), (500, "One")]),
    "negative offset: later": ("[offset:-250]\n[00:01.00]One", "One", [(1250, "One")]),
    "CRLF and a BOM": ("\ufeff[ti:Song]\r\n[00:01.00]One\r\n\r\n[00:02.00]Two\r\n", "One\nTwo", [(1000, "One"), (2000, "Two")]),
    "header tags and junk lines left out": ("[ar:Ana]\n[ti:Song]\n[by:me]\njunk\n[00:01.00]One", "One", [(1000, "One")]),
    "word times removed": ("[00:01.00]<00:01.00>Hel<00:01.20>lo", "Hello", [(1000, "Hello")]),
    "a blank timed line": ("[00:01.00]One\n[00:02.00]\n[00:03.00]Two", "One\n\nTwo", [(1000, "One"), (2000, ""), (3000, "Two")]),
    "no times: plain text": ("Just words\n\nand more [Chorus]\r\n", "Just words\n\nand more [Chorus]", None),
}


@pytest.mark.parametrize("case", list(LRC_TABLE))
def test_parse_lrc(case):
    text, plain, synced = LRC_TABLE[case]

    assert parse_lrc(text) == (plain, synced)


def test_a_sidecar_lrc_beside_the_file_gives_its_lyrics(tmp_path):
    song = tmp_path / "01 Song.flac"
    song.write_bytes(b"")
    write_lrc(song, [(1000, "Héllo"), (2000, "wörld")], offset_ms=200)

    assert sidecar_lyrics(song) == ("Héllo\nwörld", [(800, "Héllo"), (1800, "wörld")])


def test_a_sidecar_lrc_in_upper_case_latin_1_is_read(tmp_path):
    song = tmp_path / "song.mp3"
    (tmp_path / "song.LRC").write_bytes("[00:01.00]Café".encode("latin-1"))

    assert sidecar_lyrics(song) == ("Café", [(1000, "Café")])


def test_no_sidecar_or_a_huge_one_gives_none(tmp_path):
    song = tmp_path / "song.mp3"
    assert sidecar_lyrics(song) is None
    (tmp_path / "song.lrc").write_bytes(b"[00:01.00]x\n" * (lyrics.SIDECAR_MAX_BYTES // 12 + 1))
    assert sidecar_lyrics(song) is None


# Covers

def _stored(content_hash, size=None):
    return Path(settings.MEDIA_ROOT) / cover_file_name(content_hash, size)


@pytest.mark.parametrize("kind", ["PNG", "JPEG", "WEBP", "GIF"])
def test_a_cover_is_stored_as_given_and_as_webp_in_every_size(kind):
    data = make_cover(size=(800, 600), format=kind)

    content_hash = store_cover(data)

    assert content_hash == hashlib.sha256(data).hexdigest()
    assert _stored(content_hash).read_bytes() == data
    for width, expected in zip(COVER_SIZES, [(64, 48), (300, 225), (600, 450)], strict=True):
        with Image.open(_stored(content_hash, width)) as image:
            assert (image.format, image.size, image.mode) == ("WEBP", expected, "RGB")


def test_a_small_cover_is_never_enlarged_but_fills_every_size():
    content_hash = store_cover(make_cover(size=(100, 100)))

    sizes = {}
    for width in COVER_SIZES:
        with Image.open(_stored(content_hash, width)) as image:
            sizes[width] = image.size
    assert sizes == {64: (64, 64), 300: (100, 100), 600: (100, 100)}


def test_the_same_cover_twice_is_written_once():
    data = make_cover(size=(120, 120))
    content_hash = store_cover(data)
    written = {path: (path.stat().st_ino, path.stat().st_mtime_ns) for path in _stored(content_hash).parent.iterdir()}

    assert store_cover(data) == content_hash
    assert {path: (path.stat().st_ino, path.stat().st_mtime_ns) for path in _stored(content_hash).parent.iterdir()} == written
    assert len(written) == 1 + len(COVER_SIZES)


def test_exif_orientation_is_honoured():
    image = Image.new("RGB", (200, 100), "red")
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways: rotate 90° to show
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif)

    content_hash = store_cover(buffer.getvalue())

    with Image.open(_stored(content_hash, 64)) as stored:
        assert stored.size == (32, 64)


def test_transparent_parts_become_white():
    image = Image.new("RGBA", (100, 100), (0, 0, 0, 0))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")

    with Image.open(_stored(store_cover(buffer.getvalue()), 64)) as stored:
        assert all(channel >= 250 for channel in stored.getpixel((32, 32)))


def _png_claiming(width, height):
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))


def _bmp():
    buffer = io.BytesIO()
    Image.new("RGB", (10, 10)).save(buffer, "BMP")
    return buffer.getvalue()


BAD_IMAGES = {
    "text": (b"Not an image at all\n" * 10, "not an image (JPEG, PNG, WebP or GIF)"),
    "a BMP": (_bmp(), "not an image (JPEG, PNG, WebP or GIF)"),
    "a truncated PNG": (make_cover(size=(300, 300))[:400], "damaged image: "),
    "a tiny PNG claiming 100000x100000": (_png_claiming(100_000, 100_000), "too many pixels"),
    "a PNG over 50 megapixels": (_png_claiming(8000, 7000), "too many pixels: 8000x7000"),
    "nothing": (b"", "empty file (0 bytes)"),
}


@pytest.mark.parametrize("kind", list(BAD_IMAGES))
def test_a_bad_image_is_refused_and_nothing_is_written(settings, kind):
    data, reason = BAD_IMAGES[kind]

    with pytest.raises(BadImage) as refused:
        store_cover(data)
    assert str(refused.value).startswith(reason)
    assert not any(settings.MEDIA_ROOT.rglob("*"))


def test_a_cover_over_the_byte_limit_is_refused(settings):
    settings.COVER_UPLOAD_MAX_BYTES = 1000
    with pytest.raises(BadImage, match=r"^too large: \d+ bytes \(the limit is 1000\)$"):
        store_cover(make_cover(size=(300, 300)))


FOLDER_COVER_TABLE = {
    "cover before folder and front": (["front.png", "folder.jpg", "Cover.PNG"], "Cover.PNG"),
    "jpg before png": (["cover.png", "cover.jpg"], "cover.jpg"),
    "folder before front": (["FRONT.JPEG", "Folder.webp"], "Folder.webp"),
    "any case": (["FRONT.JPEG", "back.jpg"], "FRONT.JPEG"),
    "none": (["back.jpg", "cover.txt", "covers.jpg"], None),
}


@pytest.mark.parametrize("case", list(FOLDER_COVER_TABLE))
def test_folder_cover_picks_by_name_then_extension(tmp_path, case):
    names, expected = FOLDER_COVER_TABLE[case]
    for name in names:
        (tmp_path / name).write_bytes(b"x")

    assert folder_cover(tmp_path) == (tmp_path / expected if expected else None)


def test_folder_cover_ignores_directories_and_missing_folders(tmp_path):
    (tmp_path / "cover.jpg").mkdir()

    assert folder_cover(tmp_path) is None
    assert folder_cover(tmp_path / "gone") is None

