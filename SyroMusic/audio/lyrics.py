"""Lyrics: LRC text (timed lines) and the `.lrc` file beside a song's audio.

A song keeps its lyrics twice: as plain text, and, when they are timed, as lines with the time (ms) each
one is sung. `parse_lrc` turns either kind of text into both.
"""

import itertools
import re
import stat
from pathlib import Path

from SyroMusic.text import CONTROL_CHARACTERS

# A sidecar larger than this is not lyrics (an LRC of a long song is a few KB).
SIDECAR_MAX_BYTES = 1_000_000

# One or more time tags at the start of a line: [mm:ss], [mm:ss.x], [mm:ss.xx], [mm:ss.xxx] (some
# writers put a colon before the fraction).
_TIMES = re.compile(r"^((?:\s*\[\d{1,4}:\d{1,2}(?:[.:]\d{1,3})?\])+)(.*)$")
_TIME = re.compile(r"\[(\d{1,4}):(\d{1,2})(?:[.:](\d{1,3}))?\]")
_METADATA = re.compile(r"^\s*\[(ar|ti|al|au|by|re|ve|length|offset|#|la|lang|tool):([^\]]*)\]\s*$", re.IGNORECASE)
# Enhanced LRC times each word (<mm:ss.xx>); the line's own time is enough here.
_WORD_TIME = re.compile(r"<\d{1,4}:\d{1,2}(?:[.:]\d{1,3})?>")
# Control characters except the line break (lyrics keep their lines) and the tab.
_CONTROL = re.compile(CONTROL_CHARACTERS.replace(r"\x00-\x1f", r"\x00-\x08\x0b-\x1f"))


def clean_lyrics(text):
    """Lyrics with "\\n" line ends, no control characters, no trailing spaces, no blank lines at either end."""
    text = text.replace("\ufeff", "").replace("\r\n", "\n")
    for separator in ("\r", "\u2028", "\u2029"):
        text = text.replace(separator, "\n")
    lines = [_CONTROL.sub("", line).rstrip() for line in text.split("\n")]
    return "\n".join(lines).strip("\n")


def parse_lrc(text):
    """(plain text, timed lines) from lyrics text. Timed lines are [(ms, line), ...] sorted by time, or None
    when the text has no time tags (then the plain text is the text itself, cleaned).

    A line may carry several times (a chorus sung twice); `[offset:+500]` means the lines are shown 500 ms
    earlier; `[ar:...]`-style tags and lines without a time are left out of an LRC's plain text.
    """
    text = clean_lyrics(text or "")
    offset = 0
    timed = []
    for line in text.split("\n"):
        if metadata := _METADATA.match(line):
            if metadata.group(1).lower() == "offset":
                offset = _integer(metadata.group(2), default=offset)
            continue
        if match := _TIMES.match(line):
            words = _WORD_TIME.sub("", match.group(2)).strip()
            timed.extend((_ms(*time), words) for time in _TIME.findall(match.group(1)))
    if not timed:
        return text, None
    synced = sorted(((max(0, ms - offset), words) for ms, words in timed), key=lambda entry: entry[0])
    plain = re.sub(r"\n{3,}", "\n\n", "\n".join(words for _, words in synced)).strip("\n")
    return plain, synced


def sidecar_lyrics(audio_path):
    """(plain, synced or None) from the `.lrc` file with the same stem beside the audio file (the extension in
    any case), or None when there is none, it is too large, or it holds no lyrics."""
    audio_path = Path(audio_path)
    for letters in itertools.product("lL", "rR", "cC"):
        candidate = audio_path.with_name(f"{audio_path.stem}.{''.join(letters)}")
        try:
            status = candidate.stat()
            if not stat.S_ISREG(status.st_mode) or status.st_size > SIDECAR_MAX_BYTES:
                continue
            data = candidate.read_bytes()[:SIDECAR_MAX_BYTES]
        except OSError:
            continue
        plain, synced = parse_lrc(_decode(data))
        if plain or synced:
            return plain, synced
    return None


def _decode(data):
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")  # older LRC editors wrote the system's 8-bit code page


def _ms(minutes, seconds, fraction):
    # ".5" is half a second, ".50" fifty hundredths, ".500" five hundred ms.
    return (int(minutes) * 60 + int(seconds)) * 1000 + int((fraction or "0").ljust(3, "0"))


def _integer(text, default):
    try:
        return int(text.strip())
    except ValueError:
        return default
