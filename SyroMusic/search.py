"""Search: one box for artists, albums, songs and playlists.

Ranking, best first: the whole name as typed (ignoring case and accents), then
names that start with it (in each type's own order: songs most popular first),
then names and secondary fields (composer, label, bio, description) that contain
every word typed (the last word may be unfinished), by full-text rank, where the
name weighs more than the rest. When those are few, the names matching the query
with its typos corrected come next ("beatels", "metalica"), and the search page
offers the corrected search ("Did you mean …?").

Every searchable model stores its name folded (`search_name`, a generated
column: `syro_fold(name)`, lower case without accents), so every write path
keeps it current, bulk loads included, and no query folds a million names.
PostgreSQL (migration 0004) adds a stored `search_vector` over the folded
fields, weighted A for names, with a GIN index, and a btree on the folded name
for exact and prefix matches (songs': with popularity and id, migration 0013, so the most popular titles
starting with the text come from the index alone). There, artists, albums and
songs are read prefix first (see ranked).

Typos: each word typed (the first TYPO_MAX_WORDS, of TYPO_MIN_LENGTH letters or
more) that no catalogue word starts with is replaced by the most alike catalogue
word (difflib, at least TYPO_CUTOFF). PostgreSQL finds the candidates among the
catalogue's words (syro_search_word, kept by triggers, migration 0013) by
trigrams, in one query per search that also tells which types cannot match at
all (cannot_match). SQLite, the embedded default, is less capable: `syro_fold()`
is a Python function (SyroMusic.text.fold), every word must appear in the name,
nothing is indexed (a scan: fine for a demo catalogue), secondary fields are not
searched, and its vocabulary holds the words of artist names, album titles and
song titles (the most popular songs first), at most VOCABULARY_WORDS of them,
read once per catalogue version (SyroMusic.caching).

Every search runs a fixed number of queries: per type at most two for the word
matches (prefix first, then every match) and two for the corrected query's, plus
the counts on a single type's page, plus one to read the catalogue's words
(PostgreSQL) or the vocabulary when the catalogue has changed (SQLite). Suggestions on
PostgreSQL read the names starting with the text of all their types in one query
(_prefix_suggestions).
"""

import bisect
import datetime
import difflib
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass

from django.core.cache import cache
from django.db import IntegrityError, connections, transaction
from django.db.models import BooleanField, Case, F, FloatField, Func, IntegerField, Q, TextField, Value, When
from django.db.models.expressions import Expression
from django.db.models.functions import Lower, Replace
from django.utils import timezone
from django.utils.functional import cached_property

from . import caching
from .models import Album, Artist, Fold, Playlist, SearchHistory, Song, page_url
from .text import fold, words

MIN_LENGTH = 2
# Every search (the box, suggestions, the API's q and its lists' ?search=) is bounded: each word is one more
# condition on every candidate row, and 1,900 of them kept a worker busy for 23 s at 20,000 songs.
MAX_LENGTH = 100
MAX_WORDS = 10
# The page (and API answer) for every type shows each type's best PER_TYPE; one type's list pages by PER_PAGE.
PER_TYPE = 5
PER_PAGE = 20
# A type's results stop here: nobody reads further, and counting further costs time at a million songs.
MAX_RESULTS = 1000
# Typo-tolerant matches are looked for only when word matches are fewer than this.
FUZZY_BELOW = 20
# SQLite's typo tolerance (see the module's docstring). The vocabulary is read from at most VOCABULARY_ROWS
# names of each type and holds at most VOCABULARY_WORDS words: above that, words first seen in later names
# (newer artists and albums, less popular songs) are not in it, so a typo of them is not corrected.
# 50,000 words take a few MB in the cache and in each process; correcting a word takes milliseconds.
VOCABULARY_ROWS = 100_000
VOCABULARY_WORDS = 50_000
# How alike (difflib's ratio) a catalogue word must be: "hart" and "heart" are 0.89 alike, "hart" and "part" 0.75.
TYPO_CUTOFF = 0.8
# Shorter words are too ambiguous to correct ("teh" is as near "the" as "ten").
TYPO_MIN_LENGTH = 4
# At most this many unknown words of a query are corrected (each costs a scan of the words of about its length):
# a query of twenty made-up words must not cost twenty scans.
TYPO_MAX_WORDS = 3
_UNSEEN = object()  # a word not yet looked for (None is a word with no alike catalogue word)


class SearchError(ValueError):
    """A query that cannot be searched. The message tells the listener why, and what to do."""


@dataclass(frozen=True)
class Query:
    text: str  # as typed, white space collapsed
    words: tuple

    @property
    def key(self):
        """What makes two searches the same one (for the history): the text folded, cut to fit its column
        (MAX_LENGTH characters can fold into far more: "ﷺ" into 18)."""
        return fold(self.text)[: SearchHistory._meta.get_field("key").max_length]


def check_size(text, word_count):
    """SearchError unless a search is within MAX_LENGTH characters and MAX_WORDS words (as its
    searcher counts them: the ranked search its words, the API's lists their terms)."""
    if len(text) > MAX_LENGTH:
        raise SearchError(f"A search can be at most {MAX_LENGTH} characters long; this one has {len(text):,}.")
    if word_count > MAX_WORDS:
        raise SearchError(f"A search can have at most {MAX_WORDS} words; this one has {word_count:,}.")


def parse(raw):
    """A Query from what was typed, or SearchError saying what is wrong with it."""
    text = " ".join((raw or "").replace("\x00", " ").split())
    if not text:
        raise SearchError("Type a name to search for.")
    found = words(text)
    check_size(text, len(found))
    if not found:
        raise SearchError("Search for letters or digits: this search has only punctuation or symbols.")
    if sum(map(len, found)) < MIN_LENGTH:
        raise SearchError(f"Type at least {MIN_LENGTH} letters or digits.")
    return Query(text, tuple(found))


@dataclass(frozen=True)
class Kind:
    name: str
    label: str
    singular: str
    model: type  # its search_name is the folded name
    tie_break: tuple  # the order among equally relevant results
    joined: bool = True  # has a for_listing() that joins what a result line shows
    # Large tables (a million songs, 100,000 albums, 20,000 artists) read the names starting with the text first:
    # a short text starts thousands of them (see ranked). Playlists rank every match at once, in one query.
    prefix_first: bool = False

    def candidates(self, user):
        """What may be found, without joins: ranking runs on these alone."""
        objects = self.model.objects
        return objects.visible_to(user) if self.model is Playlist else objects.all()

    def queryset(self, user):
        """Result rows with what their lines show joined."""
        candidates = self.candidates(user)
        rows = candidates.for_listing() if self.joined else candidates
        # A listener's results say which they like (the API's `liked`), in the same query.
        return rows if self.model is Playlist else rows.with_liked(user)


KINDS = {
    kind.name: kind
    for kind in (
        Kind("artist", "Artists", "artist", Artist, (Lower("sort_name"), "id"), joined=False, prefix_first=True),
        Kind("album", "Albums", "album", Album, (F("release_date").desc(nulls_last=True), "id"), prefix_first=True),
        Kind("song", "Songs", "song", Song, ("-popularity", "id"), prefix_first=True),
        Kind("playlist", "Playlists", "playlist", Playlist, ("-updated_at", "-id")),
    )
}
SUGGESTION_KINDS = {"artist": 3, "album": 3, "song": 4}


SEARCH_INDEX_SUFFIXES = ("_search_idx", "_name_fold_idx")


@contextmanager
def search_indexes_set_aside(models):
    """For bulk loads on PostgreSQL: drop the models' search indexes, then build them again at the end.

    Building a GIN index once over a million rows takes seconds; updating it row by row
    while loading them took longer than the load itself. Elsewhere: does nothing.
    """
    connection = connections["default"]
    if connection.vendor != "postgresql":
        yield
        return
    tables = [model._meta.db_table for model in models]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = ANY(%s)",
            [tables],
        )
        indexes = [(name, sql) for name, sql in cursor.fetchall() if name.endswith(SEARCH_INDEX_SUFFIXES)]
        # Index changes refuse tables with foreign-key checks still pending in the transaction: run them now.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for name, _ in indexes:
            cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    yield
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for _, sql in indexes:
            cursor.execute(sql)
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


class TableColumn(Expression):
    """A column the model does not declare (PostgreSQL's search_vector), qualified by the query's own
    base-table alias when compiled, so it stays right inside a subquery (where Django renames tables)."""

    def __init__(self, column, output_field=None):
        super().__init__(output_field=output_field or TextField())
        self.column = column

    def as_sql(self, compiler, connection):
        alias = next(iter(compiler.query.alias_map), None) or compiler.query.get_initial_alias()
        return f"{compiler.quote_name_unless_alias(alias)}.{connection.ops.quote_name(self.column)}", []


def _tsquery(query):
    """Every word, the last also as a prefix ("led z" finds "Led Zeppelin"), folded as names are.

    Each word is folded, then quoted as one operand, so nothing typed is tsquery syntax, not even what
    folding makes of it: unaccent turns ʻ ʼ ŉ into an apostrophe ("Hawaiʻi" into "hawai'i"). A word
    that folds into two lexemes then matches them as a phrase, as the name's own vector holds them.
    """
    parts = []
    for number, word in enumerate(query.words, start=1):
        quoted = Replace(Replace(Fold(Value(word)), Value("\\"), Value("\\\\")), Value("'"), Value("''"))
        last = number == len(query.words)
        parts += [Value("'" if number == 1 else " & '"), quoted, Value("':*" if last else "'")]
    return Func(
        *parts, template="to_tsquery('simple'::regconfig, %(expressions)s)", arg_joiner=" || ", output_field=TextField()
    )


def _operator(left, operator, right):
    """`left operator right` as a condition (operators with % are written %%)."""
    return Func(left, right, template="(%(expressions)s)", arg_joiner=f" {operator} ", output_field=BooleanField())


@dataclass
class Phase:
    """One way of matching (words, or typos): which candidates match, and in what order.

    Ranking runs over ids alone (a sort of narrow rows; at a million songs a common word matches
    18,000 of them), then only the page's rows are loaded with their joins, in the same query.
    """

    kind: Kind
    user: object
    condition: Q
    aliases: dict
    ordering: tuple

    def matching(self):
        return self.kind.candidates(self.user).filter(self.condition)

    def count(self, limit):
        return self.matching().order_by().values("pk")[:limit].count()

    def rows(self, start, stop, loaded=None):
        """The rows start:stop, as `loaded` (a queryset of the kind's model) or kind.queryset() loads them."""
        ids = self.matching().alias(**self.aliases).order_by(*self.ordering).values("pk")[start:stop]
        loaded = self.kind.queryset(self.user) if loaded is None else loaded
        return list(loaded.filter(pk__in=ids).alias(**self.aliases).order_by(*self.ordering))


def _is_postgresql():
    return connections["default"].vendor == "postgresql"


def _word_condition(query):
    typed = Fold(Value(query.text))
    if _is_postgresql():
        return Q(_operator(TableColumn("search_vector"), "@@", _tsquery(query))) | Q(search_name__startswith=typed)
    return Q(*(Q(search_name__contains=Fold(Value(word))) for word in query.words))


def word_matches(kind, query, user):
    """Phase one: exact name, then name prefix, then every word (ranked by full-text rank)."""
    typed = Fold(Value(query.text))
    closeness = Case(
        When(search_name=typed, then=Value(2)),
        When(search_name__startswith=typed, then=Value(1)),
        default=Value(0),
        output_field=IntegerField(),
    )
    if _is_postgresql():
        # Names that start with the text are in the order prefix_matches reads them: rank only ranks the rest.
        rank = Case(
            When(search_name__startswith=typed, then=Value(0.0)),
            default=Func(TableColumn("search_vector"), _tsquery(query), function="ts_rank"),
            output_field=FloatField(),
        )
    else:
        rank = Value(0.0, FloatField())
    return Phase(
        kind, user, _word_condition(query), {"closeness": closeness, "rank": rank},
        ("-closeness", "-rank", *kind.tie_break),
    )


def prefix_matches(kind, query, user):
    """Phase one's first part alone: the exact name, then names that start with the text, in phase one's order.

    At a million songs "mid" starts 9,384 titles and is a word of no other: ranking them all by full-text
    rank took 24 ms; these, by popularity from the songs' prefix index alone (migration 0013), 2.8 ms.
    """
    typed = Fold(Value(query.text))
    closeness = Case(
        When(search_name=typed, then=Value(2)), default=Value(1), output_field=IntegerField()
    )
    return Phase(
        kind, user, Q(search_name__startswith=typed), {"closeness": closeness}, ("-closeness", *kind.tie_break)
    )


def ranked(kind, query, user, limit, exclude=(), loaded=None, prefix=True):
    """Up to limit + 1 of phase one's matches, best first, without `exclude` (ids).

    Names that start with the text come first: on a kind read prefix first, when there are more than limit
    of them, they are the answer and the rest is never ranked. Otherwise phase one itself (one more query).
    `prefix` False: they are known to be no more than limit (suggestions read them for every type at once).
    """
    # PostgreSQL only: SQLite scans the table either way, and one query does that once.
    phases = [prefix_matches(kind, query, user)] if prefix and kind.prefix_first and _is_postgresql() else []
    phases.append(word_matches(kind, query, user))
    for phase in phases:
        if exclude:
            phase.condition &= ~Q(pk__in=exclude)
        rows = phase.rows(0, limit + 1, loaded)
        if len(rows) > limit:
            break
    return rows


class Vocabulary:
    """The catalogue's words (folded), each with how many names hold it, and the nearest to a typo."""

    def __init__(self, counts):
        self.counts = counts
        self.ordered = sorted(counts)
        # Candidates for a correction: words of about the same length that begin or end with the same letter
        # (a typo rarely hits both ends). Comparing with every word took 300 ms at 50,000 words.
        self.by_end = defaultdict(list)
        for word in self.ordered:
            self.by_end["<", word[0], len(word)].append(word)
            self.by_end[">", word[-1], len(word)].append(word)
        self._closest = {}

    def starts_a_word(self, word):
        """True if some catalogue word starts with word (SQLite finds names containing it)."""
        at = bisect.bisect_left(self.ordered, word)
        return at < len(self.ordered) and self.ordered[at].startswith(word)

    def closest(self, word):
        """The catalogue word most like word (the most common among equals), or None if none is alike enough."""
        best = self._closest.get(word, _UNSEEN)
        if best is _UNSEEN:
            if len(self._closest) >= 1000:  # remembered per process and catalogue version, within bounds
                self._closest.clear()
            # Typos add, drop or swap a letter or two: compare with words of about the same length only.
            spread = 1 if len(word) < 8 else 2
            candidates = (
                candidate
                for length in range(len(word) - spread, len(word) + spread + 1)
                for end in (("<", word[0]), (">", word[-1]))
                for candidate in self.by_end.get((*end, length), ())
            )
            best = _closest(word, candidates, self.counts)
            self._closest[word] = best
        # The local result, not a second read: another thread may clear the dict in between.
        return best


def _read_vocabulary():
    """{word: how many names hold it} from artist names, album titles and song titles (most popular first), in
    one query; at most VOCABULARY_WORDS words."""
    parts = [
        Artist.objects.order_by("id").values_list("search_name")[:VOCABULARY_ROWS],
        Album.objects.order_by("id").values_list("search_name")[:VOCABULARY_ROWS],
        Song.objects.order_by("-popularity", "-id").values_list("search_name")[:VOCABULARY_ROWS],
    ]
    sql, params = [], []
    for number, queryset in enumerate(parts):
        part_sql, part_params = queryset.query.sql_with_params()
        sql.append(f"SELECT * FROM ({part_sql}) AS part{number}")
        params += part_params
    counts = {}
    with connections["default"].cursor() as cursor:
        cursor.execute(" UNION ALL ".join(sql), params)
        for (name,) in cursor.fetchall():
            for word in set(words(name or "")):
                if word in counts:
                    counts[word] += 1
                elif len(counts) < VOCABULARY_WORDS:
                    counts[word] = 1
    return counts


_vocabularies = {}  # this process's Vocabulary of the current catalogue version: unpickled and indexed once


def vocabulary():
    """The catalogue's Vocabulary, read again when the catalogue changes (SQLite's typo tolerance)."""
    version = caching.versions((caching.CATALOGUE,))
    found = _vocabularies.get(version)
    if found is None:
        found = Vocabulary(caching.remember("search-vocabulary", (caching.CATALOGUE,), _read_vocabulary))
        _vocabularies.clear()
        _vocabularies[version] = found
    return found


# PostgreSQL: how many of the catalogue's words most alike by trigrams (pg_trgm's similarity, at least its
# threshold, 0.3) are compared as SQLite compares its vocabulary's.
ALIKE_WORDS = 20
_CATALOGUE_WORDS = """
SELECT typed.word,
       tsvector_to_array(to_tsvector('simple'::regconfig, typed.word)) = ARRAY[typed.word],
       EXISTS (SELECT FROM syro_search_word AS known WHERE known.word >= typed.word AND known.word < typed.word || chr(1114111)),
       CASE WHEN raw.correctable THEN ARRAY(
           SELECT alike.word FROM syro_search_word AS alike WHERE alike.word %% typed.word
           ORDER BY similarity(alike.word, typed.word) DESC, alike.word LIMIT %s
       ) END,
       syro_fold(%s)
FROM unnest(%s::text[], %s::boolean[]) WITH ORDINALITY AS raw(word, correctable, number),
     LATERAL (SELECT syro_fold(raw.word) AS word) AS typed
ORDER BY raw.number
"""


@dataclass(frozen=True)
class CatalogueWord:
    folded: str  # as the database folds it (syro_fold)
    plain: bool  # one word of the catalogue's vocabulary could be it: it is its own only lexeme
    known: bool  # some word of the catalogue starts with it
    alike: tuple  # if it is correctable and unknown: the catalogue's words most alike by trigrams, most alike first


def catalogue_words(query):
    """PostgreSQL: (a CatalogueWord for each word typed, the whole text as the database folds it), in one
    query on the catalogue's words (syro_search_word, migration 0013); once per Query."""
    found = query.__dict__.get("_catalogue_words")
    if found is None:
        correctable = [len(word) >= TYPO_MIN_LENGTH and word.isalpha() for word in map(fold, query.words)]
        with connections["default"].cursor() as cursor:
            cursor.execute(_CATALOGUE_WORDS, [ALIKE_WORDS, query.text, list(query.words), correctable])
            rows = cursor.fetchall()
        found = ([CatalogueWord(word, plain, known, tuple(alike or ())) for word, plain, known, alike, _ in rows],
                 rows[0][4] if rows else "")
        object.__setattr__(query, "_catalogue_words", found)  # a frozen dataclass: kept beside its fields
    return found


def _closest(word, candidates, counts=None):
    """The candidate most like word by difflib's ratio (at least TYPO_CUTOFF; the most common among equals, if
    counts are known), or None."""
    matcher = difflib.SequenceMatcher(autojunk=False)
    matcher.set_seq2(word)
    best, best_score = None, (TYPO_CUTOFF, 0)
    for candidate in candidates:
        matcher.set_seq1(candidate)
        if matcher.real_quick_ratio() < best_score[0] or matcher.quick_ratio() < best_score[0]:
            continue
        score = (matcher.ratio(), counts[candidate] if counts else 0)
        # Among equals: the last seen with counts (SQLite's order), the first without (PostgreSQL's: most alike
        # by trigrams first).
        if score > best_score or (score == best_score and (counts or best is None)):
            best, best_score = candidate, score
    return best


def correction(query):
    """The query with each word the catalogue does not know replaced by the most alike catalogue word
    ("midnigth" → "midnight"), or None when there is nothing to correct. At most TYPO_MAX_WORDS words, of at
    least TYPO_MIN_LENGTH letters, are corrected. Once per Query.

    PostgreSQL looks among the catalogue's words (one query, see catalogue_words); SQLite in its vocabulary.
    """
    if "_correction" in query.__dict__:
        return query.__dict__["_correction"]
    better = _correct(query)
    object.__setattr__(query, "_correction", better)
    return better


def _correct(query):
    folded = [fold(word) for word in query.words]
    correctable = [len(word) >= TYPO_MIN_LENGTH and word.isalpha() for word in folded]
    if not any(correctable):  # nothing to read
        return None
    if _is_postgresql():
        found = catalogue_words(query)[0]

        def unknown(number, word):
            return not found[number].known

        def closest(number, word):
            return _closest(found[number].folded, dict.fromkeys(found[number].alike))
    else:
        known = vocabulary()

        def unknown(number, word):
            return not known.starts_a_word(word)

        def closest(number, word):
            return known.closest(word)
    corrected, tries = [], 0
    for number, (typed, word, check) in enumerate(zip(query.words, folded, correctable, strict=True)):
        if check and tries < TYPO_MAX_WORDS and unknown(number, word):
            tries += 1
            typed = closest(number, word) or typed
        corrected.append(typed)
    if [fold(word) for word in corrected] == folded:
        return None
    return Query(" ".join(corrected), tuple(corrected))


def cannot_match(kind, query):
    """True when phase one surely finds nothing of this kind, so that its queries are not run: on PostgreSQL,
    for artists, albums and songs (whose words syro_search_word holds), when the text is plain words (each its
    own only lexeme, one space apart: a name starting with the text holds them as words too) and one of them
    starts no word of the catalogue."""
    if not _is_postgresql() or kind.model is Playlist:
        return False
    found, text = catalogue_words(query)
    return (
        text == " ".join(word.folded for word in found)
        and all(word.plain for word in found)
        and not all(word.known for word in found)
    )


def typo_matches(kind, query, user):
    """Phase two: the names matching the corrected query (see correction), excluding phase one's matches;
    None if the query has no correction."""
    better = correction(query)
    if better is None:
        return None
    phase = word_matches(kind, better, user)
    phase.condition &= ~_word_condition(query)
    return phase


class Matches:
    """One type's results as a sequence for Django's Paginator: word matches, then typo matches.

    Counting runs at most two capped COUNTs; a page at most two queries. Rows are loaded as `loaded` (a
    queryset of the kind's model) or Kind.queryset() loads them.
    """

    def __init__(self, kind, query, user, loaded=None):
        self.kind = kind
        self.query = query
        self.user = user
        self.loaded = loaded
        self.first = word_matches(kind, query, user)
        self._counts = None

    @cached_property
    def second(self):
        # Only looked for when needed: on SQLite it reads the vocabulary.
        return typo_matches(self.kind, self.query, self.user)

    @property
    def looked_for_typos(self):
        return self.counts()[0] < FUZZY_BELOW

    def counts(self):
        if self._counts is None:
            first = self.first.count(MAX_RESULTS + 1)
            second = 0
            if first < FUZZY_BELOW and self.second is not None:
                second = self.second.count(MAX_RESULTS + 1 - first)
            self._counts = (first, second)
        return self._counts

    def count(self):
        return min(sum(self.counts()), MAX_RESULTS)

    @property
    def capped(self):
        """True when there are more results than MAX_RESULTS (only the best are shown)."""
        return sum(self.counts()) > MAX_RESULTS

    def __len__(self):
        return self.count()

    def __getitem__(self, index):
        if not isinstance(index, slice):
            raise TypeError("Matches only slice")
        first, second = self.counts()
        start, stop = index.start or 0, min(index.stop, self.count())
        rows = []
        if start < first:
            rows += self.first.rows(start, min(stop, first), self.loaded)
        if stop > first and second:
            rows += self.second.rows(max(start - first, 0), stop - first, self.loaded)
        return rows


@dataclass
class Group:
    """A type's best few results, for the page that shows every type."""

    kind: Kind
    rows: list
    more: bool


def best(query, user, limits=None, loaded=None, prefix_read=()):
    """{kind name: Group} with up to limits[kind] (default PER_TYPE) results each, loaded as loaded[kind] (a
    queryset) or Kind.queryset() loads them. `prefix_read`: kinds whose names starting with the text were
    read already and are no more than their limit (see ranked).

    Per type: the names that start with the text, then (if they are not enough) phase one, then (if its
    matches are few) the same two for the corrected query (see ranked and correction). On PostgreSQL a
    type whose phase one cannot match anything (cannot_match) skips it; one query reads the catalogue's
    words for both.
    """
    limits = limits or dict.fromkeys(KINDS, PER_TYPE)
    loaded = loaded or {}
    groups = {}
    for name, limit in limits.items():
        kind, rows_of = KINDS[name], loaded.get(name)
        rows = [] if cannot_match(kind, query) else ranked(
            kind, query, user, limit, loaded=rows_of, prefix=name not in prefix_read
        )
        if len(rows) < FUZZY_BELOW and len(rows) <= limit:
            better = correction(query)
            if better is not None:
                rows += ranked(kind, better, user, limit - len(rows), [row.pk for row in rows], rows_of)
        groups[name] = Group(kind, rows[:limit], len(rows) > limit)
    return groups


# Suggestions on PostgreSQL: the names of each type that start with the text, in the order prefix_matches reads
# them (the exact name first, then the type's tie_break), with what a suggestion's line shows, up to limit + 1
# of each, for every type in one query. Kept in step with KINDS by test_search_words.py, which compares its
# answers with best()'s.
_LIKE_TYPED = r"""{table}.search_name::text LIKE REPLACE(REPLACE(REPLACE(syro_fold(%(text)s), E'\\', E'\\\\'),
    E'%%', E'\\%%'), E'_', E'\\_') || '%%'"""
_PREFIX_SUGGESTIONS = {
    "artist": ("LOWER(sort_name) AS key", "exact DESC, key, id", "name", "NULL::bigint"),
    "album": ("release_date AS key", "exact DESC, key DESC NULLS LAST, id", "title", "artist_id"),
    "song": ("popularity AS key", "exact DESC, key DESC, id", "title", "artist_id"),
}


def _prefix_suggestions(query, limits):
    """PostgreSQL: {kind name: [(id, label, artist name)]}, the names of each kind in `limits` starting with the
    text, up to limits[kind] + 1 of them, best first (as ranked's first phase reads them), in one query. Each
    type's are ranked on its name's index alone (songs': popularity and id are in it), then their rows read."""
    quote = connections["default"].ops.quote_name
    parts = []
    for number, name in enumerate(limits):
        table = quote(KINDS[name].model._meta.db_table)
        key, order, label, artist = _PREFIX_SUGGESTIONS[name]
        parts.append(
            f"SELECT {number} AS kind, found.place, named.id, named.{label} AS label, {artist} AS artist_id"
            f" FROM (SELECT row_number() OVER (ORDER BY {order}) AS place, ranked.id FROM (SELECT id,"
            f" ({table}.search_name = syro_fold(%(text)s)) AS exact, {key} FROM {table}"
            f" WHERE {_LIKE_TYPED.format(table=table)} ORDER BY {order} LIMIT {int(limits[name]) + 1}) AS ranked)"
            f" AS found JOIN {table} AS named ON named.id = found.id"
        )
    artists = quote(Artist._meta.db_table)
    sql = (
        f"SELECT part.kind, part.id, part.label, {artists}.name FROM ({' UNION ALL '.join(parts)}) AS part"
        f" LEFT JOIN {artists} ON {artists}.id = part.artist_id ORDER BY part.kind, part.place"
    )
    found = {name: [] for name in limits}
    names = list(limits)
    with connections["default"].cursor() as cursor:
        cursor.execute(sql, {"text": query.text})
        for kind, pk, label, artist in cursor.fetchall():
            found[names[kind]].append((pk, label, artist))
    return found


def suggestions(query):
    """Up to ten catalogue names for the header box: artists, albums, songs (no playlists: they are per user).

    On PostgreSQL the names starting with the text are read for every type in one query (a short text starts
    thousands of songs: they are then the answer); the types they do not fill go on as best() goes. Each loaded
    with what its line shows only (its name, its artist's): a song's listing joins four more tables, which took
    longer to plan (2.6 ms at a million songs) than to run."""
    lines = {}
    prefix_read = ()
    if _is_postgresql():
        kinds = {name: limit for name, limit in SUGGESTION_KINDS.items() if not cannot_match(KINDS[name], query)}
        if kinds:
            for name, rows in _prefix_suggestions(query, kinds).items():
                if len(rows) > kinds[name]:
                    lines[name] = rows[: kinds[name]]
            prefix_read = kinds.keys() - lines.keys()
    loaded = {
        "artist": Artist.objects.only("id", "name"),
        "album": Album.objects.select_related("artist").only("id", "title", "artist__id", "artist__name"),
        "song": Song.objects.select_related("artist").only("id", "title", "artist__id", "artist__name"),
    }
    rest = {name: limit for name, limit in SUGGESTION_KINDS.items() if name not in lines}
    if rest:
        for name, group in best(query, None, rest, loaded, prefix_read).items():
            lines[name] = [(row.pk, str(row), None if name == "artist" else row.artist.name) for row in group.rows]
    return [
        {
            "type": name,
            "label": label,
            "detail": "Artist" if name == "artist" else f"{KINDS[name].singular.capitalize()} by {artist}",
            "url": page_url(f"music:{name}-detail", pk),
        }
        for name in SUGGESTION_KINDS
        for pk, label, artist in lines[name]
    ]


# A search repeated within this time while it is still the newest in the history (the next page, a reload,
# a client polling) writes nothing: its place is already right, and searched_at is kept to within it.
# Without this every request of a listener wrote the same row, and concurrent ones queued on its lock.
REMEMBERED_WITHIN = datetime.timedelta(seconds=60)


def _remembered_key(user_id):
    return f"search-remembered:{user_id}"


def remember_search(user, query, kind_name=""):
    """Put a search at the top of the user's history: one row per distinct query and type, the newest KEEP kept.

    What it last put there, and when, is kept in the cache for REMEMBERED_WITHIN: the same search again
    within that time reads and writes nothing in the database (with sees_private_playlists kept too, a
    listener's repeated search API answer went from five queries to two: their user and their likes).
    Deleting any of their searches forgets it once the deletion commits (SyroMusic.signals), so a search
    repeated after clearing the history is written again; without the cache, the newest row is read."""
    now = timezone.now()
    searched = (query.key, kind_name, query.text)
    remembered = cache.get(_remembered_key(user.pk))
    if remembered is not None and tuple(remembered[:3]) == searched and abs(now - remembered[3]) < REMEMBERED_WITHIN:
        return
    newest = SearchHistory.objects.filter(user=user).values_list("key", "kind", "query", "searched_at").first()
    if newest is not None and newest[:3] == searched and abs(now - newest[3]) < REMEMBERED_WITHIN:
        _remembered(user, *newest)
        return
    _write_search(user, query, kind_name, now)
    _remembered(user, *searched, now)


def _remembered(user, key, kind_name, text, searched_at):
    """Once the transaction (if any) commits: what a rolled-back write put in the history is not there."""
    value = (key, kind_name, text, searched_at)
    transaction.on_commit(
        lambda: cache.set(_remembered_key(user.pk), value, timeout=REMEMBERED_WITHIN.total_seconds())
    )


class _Forget(caching.OnCommitOnce):
    def run(self, user_ids):
        cache.delete_many([_remembered_key(user_id) for user_id in user_ids])


def forget_remembered(user_id):
    """The history changed other than by remember_search (a search deleted): read it again next time. Once
    the deletion commits (once for all of a transaction's deletions): a repeat read before then still sees
    the row, and would remember it again."""
    _Forget.add(user_id)


def _write_search(user, query, kind_name, now):
    same = SearchHistory.objects.filter(user=user, key=query.key, kind=kind_name)
    if same.update(query=query.text, searched_at=now):
        return  # moved to the top: the history holds as many rows as before
    try:
        with transaction.atomic():
            SearchHistory.objects.create(user=user, query=query.text, key=query.key, kind=kind_name, searched_at=now)
    except IntegrityError:  # the same search, saved by a concurrent request just now
        same.update(query=query.text, searched_at=now)
        return
    kept = SearchHistory.objects.filter(user=user).order_by("-searched_at", "-id").values("pk")[: SearchHistory.KEEP]
    SearchHistory.objects.filter(user=user).exclude(pk__in=kept).delete()


def history(user):
    return list(SearchHistory.objects.filter(user=user).order_by("-searched_at", "-id")[: SearchHistory.KEEP])


def forget_history(user):
    """Clear a listener's search history; returns how many searches it held."""
    deleted, _ = SearchHistory.objects.filter(user=user).delete()
    return deleted


def forget_search(user, pk):
    """Remove one search from a listener's history; returns whether it was there."""
    deleted, _ = SearchHistory.objects.filter(pk=pk, user=user).delete()
    return bool(deleted)
