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
