"""Writing audio files: samples encoded with PyAV, then tagged with mutagen in each format's own way.

The demo's songs and the test fixtures are made here. Tags follow what taggers write (MusicBrainz
Picard's names for the MusicBrainz ids), so the reader (tags.py) is tested against files like the
ones listeners have. A file appears under its name only once it is complete: it is written under
a temporary name in the same folder, then renamed.
"""

import base64
import fractions
import os
import pathlib
import tempfile

import av
import numpy as np
from mutagen import flac, id3, mp4, oggopus, oggvorbis, wave

# format -> (container, codec, default bit rate, encoder options): what each AudioFormat is written as.
# The options favour speed (LAME -q 7, FFmpeg AAC's fast coder: four times quicker than their defaults
# on this kind of music, and no audible loss on it): the demo encodes a few dozen songs on `make run`.
ENCODINGS = {
    "mp3": ("mp3", "libmp3lame", 128_000, {"compression_level": "7"}),
    "flac": ("flac", "flac", None, {}),
    "ogg": ("ogg", "vorbis", None, {"strict": "experimental"}),  # FFmpeg's own Vorbis encoder (quality-based)
    "opus": ("ogg", "libopus", 96_000, {}),
    "m4a": ("ipod", "aac", 128_000, {"aac_coder": "fast"}),
    "wav": ("wav", "pcm_s16le", None, {}),
}
# The lossless alternative a format may be written with instead (write_audio's `codec`).
OTHER_CODECS = {("m4a", "alac")}
OPUS_SAMPLE_RATE = 48_000  # Opus always decodes at 48 kHz; encoding at it avoids a second resampling
FRAME_SAMPLES = 8192  # samples per frame handed to the encoder (it re-frames to its own size)

TEXT_TAGS = ("title", "artist", "album_artist", "album", "year", "genre", "composer")
NUMBER_TAGS = ("disc_number", "track_number")
MUSICBRAINZ_TAGS = ("mb_track_id", "mb_album_id", "mb_artist_id", "mb_album_artist_id")
TAG_NAMES = TEXT_TAGS + NUMBER_TAGS + MUSICBRAINZ_TAGS

# How Picard names the MusicBrainz ids: the recording ("track") id, release, artist and release artist.
VORBIS_NAMES = {
    "title": "TITLE", "artist": "ARTIST", "album_artist": "ALBUMARTIST", "album": "ALBUM",
    "disc_number": "DISCNUMBER", "track_number": "TRACKNUMBER", "year": "DATE", "genre": "GENRE",
    "composer": "COMPOSER", "mb_track_id": "MUSICBRAINZ_TRACKID", "mb_album_id": "MUSICBRAINZ_ALBUMID",
    "mb_artist_id": "MUSICBRAINZ_ARTISTID", "mb_album_artist_id": "MUSICBRAINZ_ALBUMARTISTID",
}
ID3_TEXT_FRAMES = {
    "title": id3.TIT2, "artist": id3.TPE1, "album_artist": id3.TPE2, "album": id3.TALB, "disc_number": id3.TPOS,
    "track_number": id3.TRCK, "year": id3.TDRC, "genre": id3.TCON, "composer": id3.TCOM,
}
ID3_MUSICBRAINZ_TXXX = {
    "mb_album_id": "MusicBrainz Album Id",
    "mb_artist_id": "MusicBrainz Artist Id",
    "mb_album_artist_id": "MusicBrainz Album Artist Id",
}
MUSICBRAINZ_UFID_OWNER = "http://musicbrainz.org"  # the recording id, as Picard writes it
MP4_TEXT_ATOMS = {
    "title": "\xa9nam", "artist": "\xa9ART", "album_artist": "aART", "album": "\xa9alb", "year": "\xa9day",
    "genre": "\xa9gen", "composer": "\xa9wrt",
}
MP4_MUSICBRAINZ_ATOMS = {
    "mb_track_id": "----:com.apple.iTunes:MusicBrainz Track Id",
    "mb_album_id": "----:com.apple.iTunes:MusicBrainz Album Id",
    "mb_artist_id": "----:com.apple.iTunes:MusicBrainz Artist Id",
    "mb_album_artist_id": "----:com.apple.iTunes:MusicBrainz Album Artist Id",
}


def write_audio(
    path, *, samples, sample_rate, format, tags=None, cover=None, lyrics="", synced_lyrics=None, bitrate=None,
    codec=None,
):
    """Encode `samples` (float, shape (channels, n) or (n,), in -1..1) as `format` at `path`, then tag it.

    format: an AudioFormat value ("mp3", "flac", "ogg", "opus", "m4a", "wav"). codec: "alac" makes a
    lossless m4a. tags: any of TAG_NAMES (str or int values). cover: image bytes, embedded as the
    front cover. lyrics: plain text. synced_lyrics: [(ms, line), ...]: an ID3 SYLT frame in MP3 (beside
    USLT for `lyrics`); in the other formats an LRC text in the lyrics tag (which then replaces `lyrics`).
    Ogg Vorbis is written in stereo (FFmpeg's encoder has no mono) and Opus at 48 kHz.
    Returns the path; the file appears there complete or not at all.
    """
    path = pathlib.Path(path)
    if format not in ENCODINGS:
        raise ValueError(f"unknown audio format {format!r}: one of {', '.join(ENCODINGS)}")
    if codec is not None and codec != ENCODINGS[format][1] and (format, codec) not in OTHER_CODECS:
        raise ValueError(f"{format} files are not written with {codec!r}")
    unknown = set(tags or {}) - set(TAG_NAMES)
    if unknown:
        raise ValueError(f"unknown tags: {', '.join(sorted(unknown))}")
    samples = _planar(samples)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    os.close(handle)
    try:
        _encode(temporary, samples=samples, sample_rate=sample_rate, format=format, codec=codec, bitrate=bitrate)
        _tag(
            temporary, format=format, tags={name: value for name, value in (tags or {}).items() if value not in (None, "")},
            cover=cover, lyrics=lyrics or "", synced_lyrics=synced_lyrics or None,
        )
        os.chmod(temporary, 0o644)  # mkstemp makes 0600; a music folder's files are readable by the server
        os.replace(temporary, path)
    except BaseException:
        pathlib.Path(temporary).unlink(missing_ok=True)
        raise
    return path


def _planar(samples):
    samples = np.asarray(samples, dtype=np.float32)
    if samples.ndim == 1:
        samples = samples[np.newaxis, :]
    if samples.ndim != 2 or samples.shape[0] not in (1, 2) or samples.shape[1] == 0:
        raise ValueError("samples must have shape (channels, n) with 1 or 2 channels and n > 0")
    return np.clip(samples, -1.0, 1.0)


def _encode(path, *, samples, sample_rate, format, codec, bitrate):
    container_format, default_codec, default_bitrate, options = ENCODINGS[format]
    if codec and codec != default_codec:
        default_bitrate, options = None, {}
    codec = codec or default_codec
    if codec == "vorbis" and samples.shape[0] == 1:
        samples = np.repeat(samples, 2, axis=0)
    layout = "stereo" if samples.shape[0] == 2 else "mono"
    rate = OPUS_SAMPLE_RATE if codec == "libopus" else sample_rate
    with av.open(str(path), mode="w", format=container_format) as container:
        stream = container.add_stream(codec, rate=rate, layout=layout)
        stream.codec_context.options = dict(options)
        if codec in ("flac", "alac"):
            stream.codec_context.format = "s16" if codec == "flac" else "s16p"  # 16-bit, as CDs
        if bitrate or default_bitrate:
            stream.bit_rate = bitrate or default_bitrate
        for start in range(0, samples.shape[1], FRAME_SAMPLES):
            chunk = np.ascontiguousarray(samples[:, start : start + FRAME_SAMPLES])
            frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout=layout)
            frame.sample_rate = sample_rate
            frame.pts = start
            frame.time_base = fractions.Fraction(1, sample_rate)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))


def _tag(path, *, format, tags, cover, lyrics, synced_lyrics):
    if format == "mp3":
        _tag_id3(id3.ID3(), tags, cover, lyrics, synced_lyrics).save(path, v2_version=4)
    elif format == "wav":
        audio = wave.WAVE(path)
        audio.add_tags()
        _tag_id3(audio.tags, tags, cover, lyrics, synced_lyrics)
        audio.save(v2_version=4)
    elif format == "m4a":
        _tag_mp4(mp4.MP4(path), tags, cover, lyrics, synced_lyrics)
    else:
        audio = {"flac": flac.FLAC, "ogg": oggvorbis.OggVorbis, "opus": oggopus.OggOpus}[format](path)
        _tag_vorbis(audio, tags, cover, lyrics, synced_lyrics, flac_picture=format == "flac")


def _tag_id3(frames, tags, cover, lyrics, synced_lyrics):
    for name, value in tags.items():
        if name in ID3_TEXT_FRAMES:
            frames.add(ID3_TEXT_FRAMES[name](encoding=id3.Encoding.UTF8, text=[str(value)]))
        elif name in ID3_MUSICBRAINZ_TXXX:
            frames.add(id3.TXXX(encoding=id3.Encoding.UTF8, desc=ID3_MUSICBRAINZ_TXXX[name], text=[str(value)]))
        elif name == "mb_track_id":
            frames.add(id3.UFID(owner=MUSICBRAINZ_UFID_OWNER, data=str(value).encode("ascii")))
    if cover:
        frames.add(
            id3.APIC(encoding=id3.Encoding.UTF8, mime=image_mime_type(cover), type=id3.PictureType.COVER_FRONT,
                     desc="Cover", data=cover)
        )
    if lyrics:
        frames.add(id3.USLT(encoding=id3.Encoding.UTF8, lang="eng", desc="", text=lyrics))
    if synced_lyrics:
        frames.add(
            id3.SYLT(encoding=id3.Encoding.UTF8, lang="eng", format=2, type=1, desc="",
                     text=[(line, int(ms)) for ms, line in synced_lyrics])  # format 2: milliseconds
        )
    return frames


def _tag_vorbis(audio, tags, cover, lyrics, synced_lyrics, *, flac_picture):
    if audio.tags is None:
        audio.add_tags()
    for name, value in tags.items():
        audio.tags[VORBIS_NAMES[name]] = [str(value)]
    text = lrc_text(synced_lyrics) if synced_lyrics else lyrics
    if text:
        audio.tags["LYRICS"] = [text]
    if cover:
        picture = _flac_picture(cover)
        if flac_picture:
            audio.add_picture(picture)
        else:
            audio.tags["METADATA_BLOCK_PICTURE"] = [base64.b64encode(picture.write()).decode("ascii")]
    audio.save()


def _flac_picture(cover):
    picture = flac.Picture()
    picture.type = id3.PictureType.COVER_FRONT
    picture.mime = image_mime_type(cover)
    picture.desc = "Cover"
    picture.data = cover
    return picture


def _tag_mp4(audio, tags, cover, lyrics, synced_lyrics):
    if audio.tags is None:
        audio.add_tags()
    for name, value in tags.items():
        if name in MP4_TEXT_ATOMS:
            audio.tags[MP4_TEXT_ATOMS[name]] = [str(value)]
        elif name in MP4_MUSICBRAINZ_ATOMS:
            audio.tags[MP4_MUSICBRAINZ_ATOMS[name]] = [mp4.MP4FreeForm(str(value).encode("utf-8"))]
    for name, atom in (("disc_number", "disk"), ("track_number", "trkn")):
        if name in tags:
            # (number, total): the total is unknown here; the atom holds 16-bit numbers.
            audio.tags[atom] = [(int(tags[name]), 0)]
    if cover:
        kind = mp4.MP4Cover.FORMAT_PNG if image_mime_type(cover) == "image/png" else mp4.MP4Cover.FORMAT_JPEG
        audio.tags["covr"] = [mp4.MP4Cover(cover, imageformat=kind)]
    text = lrc_text(synced_lyrics) if synced_lyrics else lyrics
    if text:
        audio.tags["\xa9lyr"] = [text]
    audio.save()


def lrc_text(synced_lyrics):
    """[(ms, line), ...] as LRC: "[mm:ss.cc]line" a line (milliseconds "[mm:ss.mmm]" when not whole centiseconds)."""
    centiseconds = all(int(ms) % 10 == 0 for ms, _ in synced_lyrics)
    lines = []
    for ms, line in synced_lyrics:
        minutes, rest = divmod(int(ms), 60_000)
        seconds, fraction = divmod(rest, 1000)
        stamp = f"{minutes:02d}:{seconds:02d}." + (f"{fraction // 10:02d}" if centiseconds else f"{fraction:03d}")
        lines.append(f"[{stamp}]{line}")
    return "\n".join(lines)


def image_mime_type(data):
    """The MIME type of image bytes, by their signature (covers are PNG or JPEG, sometimes GIF or WebP)."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"GIF8"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return "image/jpeg"
