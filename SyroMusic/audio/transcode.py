"""Transcoding: a song's file decoded and encoded again, smaller, as MP3 or Opus, with PyAV.

The Subsonic API's `stream` (maxBitRate, format, timeOffset) and the web player's data saver use it.
The bytes come out as they are made (a packet or two at a time), so an answer can start while the rest
is still being encoded. The output is written to a sink that cannot seek: the muxers then write nothing
they would go back to fix at the end (MP3's Xing frame), so the first bytes sent are the file's final
first bytes, and the same source and settings always give the same bytes.
"""

import fractions
from dataclasses import dataclass

import av

# What a copy is made as: container, encoder, file extension, MIME type.
FORMATS = {
    "mp3": ("mp3", "libmp3lame", "mp3", "audio/mpeg"),
    "opus": ("ogg", "libopus", "opus", "audio/ogg"),
}
# The bit rates copies are made at (kbps): a request between two gets the lower one, so a handful of
# copies of a song serve every client (a cache of every number a client could send would hold few songs).
BITRATES = (32, 48, 64, 96, 128, 160, 192, 256, 320)
MAX_BITRATE = {"mp3": 320, "opus": 256}
# LAME's sample rates; a source at another rate is resampled to 44.1 kHz. Opus always runs at 48 kHz.
MP3_SAMPLE_RATES = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000)
OPUS_SAMPLE_RATE = 48_000
# LAME at -q 7, as encode.py writes the demo: four times quicker than its default, and at a fixed bit rate
# what the listener hears is the bit rate. Opus in constrained VBR: libopus's free VBR overshot the target
# by a third on our test music, and a data saver or a client's maxBitRate means a ceiling.
ENCODER_OPTIONS = {"mp3": {"compression_level": "7"}, "opus": {"vbr": "constrained"}}


class TranscodeError(Exception):
    """A file that cannot be decoded (its path and FFmpeg's reason in the message)."""


@dataclass(frozen=True)
class Target:
    """What to make: format ("mp3" or "opus"), bit rate in kbps (one of BITRATES), start in whole seconds."""

    format: str
    kbps: int
    offset: int = 0

    @property
    def extension(self):
        return FORMATS[self.format][2]

    @property
    def content_type(self):
        return FORMATS[self.format][3]


def target(format, max_kbps, offset=0):
    """The Target for a format and the most a client accepts (kbps; 0 or None: 192), capped at the format's
    top rate and snapped down to one of BITRATES (32 at least)."""
    if format not in FORMATS:
        raise ValueError(f"cannot transcode to {format!r}: one of {', '.join(FORMATS)}")
    ceiling = min(max_kbps or 192, MAX_BITRATE[format])
    kbps = max((rate for rate in BITRATES if rate <= ceiling), default=BITRATES[0])
    return Target(format, kbps, max(int(offset or 0), 0))


class _Sink:
    """Where the muxer writes: a list drained after each packet. Write-only on purpose (see above)."""

    def __init__(self):
        self.chunks = []

    def write(self, data):
        self.chunks.append(bytes(data))
        return len(data)

    def drain(self):
        data, self.chunks = b"".join(self.chunks), []
        return data


def transcode(path, target):
    """Yield the bytes of `path` (any file PyAV decodes) as `target`: its first audio stream from
    target.offset seconds on, mono or stereo (more channels are mixed down to stereo).
    Raises TranscodeError for a file that cannot be read; closing the generator stops the encode."""
    container_format, codec, _, _ = FORMATS[target.format]
    try:
        source = av.open(str(path))
    except (av.FFmpegError, OSError) as error:
        raise TranscodeError(f"{path}: {error}") from error
    sink, output = _Sink(), None
    try:
        if not source.streams.audio:
            raise TranscodeError(f"{path}: no audio stream")
        incoming = source.streams.audio[0]
        channels = 1 if incoming.codec_context.channels == 1 else 2
        layout = "mono" if channels == 1 else "stereo"
        if target.format == "opus":
            rate = OPUS_SAMPLE_RATE
        else:
            rate = incoming.codec_context.sample_rate if incoming.codec_context.sample_rate in MP3_SAMPLE_RATES else 44_100
        # Bit-exact: no random Ogg serial number, so the same source and settings give the same bytes.
        output = av.open(sink, mode="w", format=container_format, options={"fflags": "+bitexact"})
        stream = output.add_stream(codec, rate=rate, layout=layout)
        stream.codec_context.options = dict(ENCODER_OPTIONS[target.format])
        stream.bit_rate = target.kbps * 1000
        resampler = av.AudioResampler(format=stream.codec_context.format.name, layout=layout, rate=rate)
        if target.offset:
            # Seek to a packet at or before the offset; the samples before it are dropped below, exactly.
            source.seek(int(target.offset / incoming.time_base), stream=incoming, backward=True, any_frame=False)
        written = 0
        for frame in _decoded(source, incoming, path):
            frame = _from(frame, target.offset) if target.offset else frame
            if frame is None:
                continue
            frame.pts = None  # the output's own clock, below
            for out in resampler.resample(frame):
                written = _encode(output, stream, out, written, rate)
            data = sink.drain()
            if data:
                yield data
        for out in resampler.resample(None):
            written = _encode(output, stream, out, written, rate)
        output.mux(stream.encode(None))
        output.close()
        output = None
        yield sink.drain()
    except av.FFmpegError as error:
        raise TranscodeError(f"{path}: {error}") from error
    finally:
        if output is not None:  # stopped part way: what the muxer would still write goes nowhere
            try:
                output.close()
            except av.FFmpegError:
                pass
        source.close()


def _decoded(source, incoming, path):
    try:
        for packet in source.demux(incoming):
            yield from packet.decode()
    except av.FFmpegError as error:
        raise TranscodeError(f"{path}: {error}") from error


def _encode(output, stream, frame, written, rate):
    """Encode a frame at the output's position `written` (samples); returns the position after it."""
    frame.pts = written
    frame.time_base = fractions.Fraction(1, rate)
    output.mux(stream.encode(frame))
    return written + frame.samples


def _from(frame, offset):
    """The part of a decoded frame at or after `offset` seconds: the frame itself, a copy without its
    first samples, or None when it ends before the offset."""
    if frame.pts is None or frame.time_base is None:
        return frame
    drop = round((offset - frame.pts * frame.time_base) * frame.sample_rate)
    if drop <= 0:
        return frame
    if drop >= frame.samples:
        return None
    array = frame.to_ndarray()
    # Planar formats hold a row per channel; packed ones one row of interleaved samples.
    step = 1 if frame.format.is_planar else len(frame.layout.channels)
    trimmed = av.AudioFrame.from_ndarray(
        array[:, drop * step:].copy(), format=frame.format.name, layout=frame.layout.name
    )
    trimmed.sample_rate = frame.sample_rate
    return trimmed
