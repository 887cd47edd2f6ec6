"""Text folding shared by search, playlist matching and the SQLite `syro_fold` function.

`fold` ignores case and accents the way PostgreSQL's unaccent does for the
letters that matter in names: "Beyoncé", "BEYONCE" and "beyonce" fold alike, and
so do "Røyksopp" and "royksopp" (ø, æ, ł... have no decomposition, so they are
mapped by hand).
"""

import re
import unicodedata

# Letters that Unicode does not decompose into a base letter and an accent, as unaccent maps them.
_LETTERS = str.maketrans({
    "ø": "o", "æ": "ae", "œ": "oe", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "ı": "i", "ħ": "h", "ŧ": "t",
})
_WORD = re.compile(r"[^\W_]+")

# What no name or title may hold: control characters (NUL, tab, line breaks, C1 controls), the Unicode
# line and paragraph separators, and the noncharacters U+FFFE/U+FFFF that XML refuses. A playlist file
# writes each name on one line (M3U8) or as XML text (XSPF). One pattern serves Python and the database
# constraints: PostgreSQL's regular expressions and SQLite's REGEXP (Python's re) read it alike.
CONTROL_CHARACTERS = r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ufffe\uffff]"
_CONTROL = re.compile(CONTROL_CHARACTERS)
_CONTROL_RUN = re.compile(CONTROL_CHARACTERS + "+")


def first_control_character(text):
    """The first character of text that no name may hold, or None."""
    match = _CONTROL.search(text or "")
    return match.group() if match else None


def one_line(text):
    """Text with each run of control characters made one space: what a file writer may put on a line."""
    return _CONTROL_RUN.sub(" ", text)


def fold(text):
    """Case- and accent-insensitive form of a text, with runs of white space made one space."""
    if text is None:
        return None
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_LETTERS))
    return " ".join("".join(char for char in decomposed if not unicodedata.combining(char)).split())


def words(text):
    """The words of a text (letters and digits, any script), lower-cased, accents kept: what a search looks for."""
    return _WORD.findall(unicodedata.normalize("NFC", text).casefold())


# Durations as people write them: seconds ("233"), m:ss ("3:53") or h:mm:ss ("1:02:03"), each with an optional
# fraction of a second ("3:53.192"). Seconds and minutes under a larger unit have two digits, so "3:5" is refused
# rather than guessed.
_DURATION = re.compile(
    r"(?:(?:(?P<hours>\d{1,6}):)?(?P<minutes>\d{1,6}):)?(?P<seconds>\d{1,9})(?:[.,](?P<fraction>\d{1,3}))?", re.ASCII
)
DURATION_FORMATS = "m:ss (3:53), h:mm:ss (1:02:03) or seconds (233), with thousandths if wanted (3:53.192)"


def duration(milliseconds, *, exact=False):
    """245000 -> "4:05"; an hour or more -> "1:02:03". Rounded to the second, unless exact: then the thousandths
    follow when there are any (233192 -> "3:53.192"), so that what parse_duration reads back is the same value."""
    if exact:
        seconds, thousandths = divmod(milliseconds, 1000)
    else:
        seconds, thousandths = round(milliseconds / 1000), 0
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    text = f"{hours}:{minutes:02}:{seconds:02}" if hours else f"{minutes}:{seconds:02}"
    return f"{text}.{thousandths:03}" if thousandths else text


def parse_duration(text):
    """Milliseconds from a duration as `duration` writes it, or as seconds; ValueError saying why if it is none."""
    text = text.strip()
    match = _DURATION.fullmatch(text)
    if not match:
        raise ValueError(f"“{text}” is not a duration: write {DURATION_FORMATS}.")
    hours, minutes, seconds = (int(match[name] or 0) for name in ("hours", "minutes", "seconds"))
    if match["minutes"] is not None and (len(match["seconds"]) != 2 or seconds > 59):
        raise ValueError(f"“{text}” is not a duration: the seconds after a colon are two digits, 00 to 59.")
    if match["hours"] is not None and (len(match["minutes"]) != 2 or minutes > 59):
        raise ValueError(f"“{text}” is not a duration: the minutes after the hours are two digits, 00 to 59.")
    thousandths = int((match["fraction"] or "").ljust(3, "0"))
    milliseconds = ((hours * 60 + minutes) * 60 + seconds) * 1000 + thousandths
    # Milliseconds typed out of habit ("233192") would be read as days of seconds.
    if match["minutes"] is None and seconds >= 24 * 3600:
        raise ValueError(
            f"“{text}” would be {duration(milliseconds)}: a number alone is seconds; write 3:53 for 3 minutes 53."
        )
    return milliseconds
