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


def fold(text):
    """Case- and accent-insensitive form of a text, with runs of white space made one space."""
    if text is None:
        return None
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_LETTERS))
    return " ".join("".join(char for char in decomposed if not unicodedata.combining(char)).split())


def words(text):
    """The words of a text (letters and digits, any script), lower-cased, accents kept: what a search looks for."""
    return _WORD.findall(unicodedata.normalize("NFC", text).casefold())
