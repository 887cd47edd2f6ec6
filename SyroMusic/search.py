"""Search: one box for artists, albums, songs and playlists.

Ranking, best first: the whole name as typed (ignoring case and accents), then
names that start with it, then names and secondary fields (composer, label,
bio, description) that contain every word typed (the last word may be
unfinished), by full-text rank, where the name weighs more than the rest.
When those are few, names that look like it come next: typos ("beatels",
"metalica"), on PostgreSQL only.

Every searchable model stores its name folded (`search_name`, a generated
column: `syro_fold(name)`, lower case without accents), so every write path
keeps it current, bulk loads included, and no query folds a million names.
PostgreSQL (migration 0004) adds a stored `search_vector` over the folded
fields, weighted A for names; GIN indexes on it and on the folded name's
trigrams (pg_trgm), and a btree on the folded name for exact and prefix matches.

SQLite, the embedded default, is less capable: `syro_fold()` is a Python
function (SyroMusic.text.fold), every word must appear in the name, nothing is
indexed (a scan: fine for a demo catalogue), secondary fields are not searched
and there is no typo tolerance.

Every search runs a fixed number of queries: at most two per type (word
matches, then typo matches only if the word matches are few), plus the counts
on a single type's page.
"""

from dataclasses import dataclass

from django.db import IntegrityError, connections, transaction
from django.utils import timezone
from django.db.models import BooleanField, Case, F, FloatField, IntegerField, Q, Value, When
from django.db.models.expressions import RawSQL
from django.db.models.functions import Lower

from .models import Album, Artist, Fold, Playlist, SearchHistory, Song
from .text import fold, words

MIN_LENGTH = 2
MAX_LENGTH = 100
# A type's results stop here: nobody reads further, and counting further costs time at a million songs.
MAX_RESULTS = 1000
# Typo-tolerant matches are looked for only when word matches are fewer than this.
FUZZY_BELOW = 20


class SearchError(ValueError):
    """A query that cannot be searched. The message tells the listener why, and what to do."""


@dataclass(frozen=True)
class Query:
    text: str  # as typed, white space collapsed
    words: tuple

    @property
    def key(self):
        """What makes two searches the same one (for the history): the text folded."""
        return fold(self.text)

    @property
    def tsquery(self):
        """Every word, the last also as a prefix ("led z" finds "Led Zeppelin"). Words are letters and
        digits only, and quoted, so nothing typed can be tsquery syntax."""
        return " & ".join(f"'{word}'" for word in self.words) + ":*"


def parse(raw):
    """A Query from what was typed, or SearchError saying what is wrong with it."""
    text = " ".join((raw or "").replace("\x00", " ").split())
    if not text:
        raise SearchError("Type a name to search for.")
    if len(text) > MAX_LENGTH:
        raise SearchError(f"A search can be at most {MAX_LENGTH} characters long; this one has {len(text)}.")
    found = words(text)
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
    column: str  # the name searched first (its folded form is the model's search_name)
    tie_break: tuple  # the order among equally relevant results

    def queryset(self, user):
        if self.name == "artist":
            return Artist.objects.all()
        if self.name == "album":
            return Album.objects.for_listing()
        if self.name == "song":
            return Song.objects.for_listing()
        return Playlist.objects.visible_to(user).for_listing()


KINDS = {
    kind.name: kind
    for kind in (
        Kind("artist", "Artists", "artist", "name", (Lower("sort_name"), "id")),
        Kind("album", "Albums", "album", "title", (F("release_date").desc(nulls_last=True), "id")),
        Kind("song", "Songs", "song", "title", ("-popularity", "id")),
        Kind("playlist", "Playlists", "playlist", "name", ("-updated_at", "-id")),
    )
}
SUGGESTION_KINDS = {"artist": 3, "album": 3, "song": 4}


def _is_postgresql(queryset):
    return connections[queryset.db].vendor == "postgresql"


def _column(queryset, column):
    table = queryset.model._meta.db_table
    return f'"{table}"."{column}"'


def word_matches(kind, query, user):
    """Phase one: exact name, then name prefix, then every word (ranked), as a queryset in that order."""
    queryset = kind.queryset(user)
    typed = Fold(Value(query.text))
    closeness = Case(
        When(search_name=typed, then=Value(2)),
        When(search_name__startswith=typed, then=Value(1)),
        default=Value(0),
        output_field=IntegerField(),
    )
    if _is_postgresql(queryset):
        vector = _column(queryset, "search_vector")
        matches = RawSQL(f"{vector} @@ to_tsquery('simple', syro_fold(%s))", [query.tsquery], BooleanField())
        rank = RawSQL(f"ts_rank({vector}, to_tsquery('simple', syro_fold(%s)))", [query.tsquery], FloatField())
        queryset = queryset.filter(Q(matches) | Q(search_name__startswith=typed))
    else:
        for word in query.words:
            queryset = queryset.filter(search_name__contains=Fold(Value(word)))
        rank = Value(0.0, FloatField())
    return queryset.alias(closeness=closeness, rank=rank).order_by("-closeness", "-rank", *kind.tie_break)


def typo_matches(kind, query, user):
    """Phase two (PostgreSQL): names with a word that looks like what was typed, most alike first,
    excluding phase one's matches. None on SQLite."""
    queryset = kind.queryset(user)
    if not _is_postgresql(queryset):
        return None
    name = _column(queryset, "search_name")
    vector = _column(queryset, "search_vector")
    alike = RawSQL(f"{name} %%>> syro_fold(%s)", [query.text], BooleanField())
    in_phase_one = RawSQL(
        f"({vector} @@ to_tsquery('simple', syro_fold(%s)) OR {name} LIKE syro_fold(%s) || '%%')",
        [query.tsquery, query.text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")],
        BooleanField(),
    )
    similarity = RawSQL(f"strict_word_similarity(syro_fold(%s), {name})", [query.text], FloatField())
    return (
        queryset.filter(alike).exclude(in_phase_one).alias(similarity=similarity).order_by("-similarity", *kind.tie_break)
    )


def _count(queryset, limit):
    return queryset.select_related(None).order_by().values("pk")[:limit].count()


class Matches:
    """One type's results as a sequence for Django's Paginator: word matches, then typo matches.

    Counting runs at most two capped COUNTs; a page at most two LIMIT queries.
    """

    def __init__(self, kind, query, user):
        self.kind = kind
        self.first = word_matches(kind, query, user)
        self.second = typo_matches(kind, query, user)
        self._counts = None

    def counts(self):
        if self._counts is None:
            first = _count(self.first, MAX_RESULTS + 1)
            second = 0
            if first < FUZZY_BELOW and self.second is not None:
                second = _count(self.second, MAX_RESULTS + 1 - first)
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
            rows += list(self.first[start:min(stop, first)])
        if stop > first and second:
            rows += list(self.second[max(start - first, 0):stop - first])
        return rows


@dataclass
class Group:
    """A type's best few results, for the page that shows every type."""

    kind: Kind
    rows: list
    more: bool


def best(query, user, limits):
    """{kind name: Group} with up to limits[kind] results each: at most two queries per type."""
    groups = {}
    for name, limit in limits.items():
        kind = KINDS[name]
        rows = list(word_matches(kind, query, user)[: limit + 1])
        if len(rows) < FUZZY_BELOW and len(rows) <= limit:
            typos = typo_matches(kind, query, user)
            if typos is not None:
                rows += list(typos[: limit + 1 - len(rows)])
        groups[name] = Group(kind, rows[:limit], len(rows) > limit)
    return groups


def suggestions(query):
    """Up to ten catalogue names for the header box: artists, albums, songs (no playlists: they are per user)."""
    items = []
    for name, group in best(query, None, SUGGESTION_KINDS).items():
        for row in group.rows:
            if name == "artist":
                items.append({"type": "artist", "label": row.name, "detail": "Artist", "url": row.get_absolute_url()})
            elif name == "album":
                items.append({
                    "type": "album", "label": row.title, "detail": f"Album by {row.artist.name}",
                    "url": row.get_absolute_url(),
                })
            else:
                items.append({
                    "type": "song", "label": row.title, "detail": f"Song by {row.artist.name}",
                    "url": row.get_absolute_url(),
                })
    return items


def remember_search(user, query, kind_name=""):
    """Put a search at the top of the user's history: one row per distinct query and type, the newest KEEP kept."""
    now = timezone.now()
    same = SearchHistory.objects.filter(user=user, key=query.key, kind=kind_name)
    if not same.update(query=query.text, searched_at=now):
        try:
            with transaction.atomic():
                SearchHistory.objects.create(user=user, query=query.text, key=query.key, kind=kind_name, searched_at=now)
        except IntegrityError:  # the same search, saved by a concurrent request just now
            same.update(query=query.text, searched_at=now)
    newest = SearchHistory.objects.filter(user=user).order_by("-searched_at", "-id").values("pk")[: SearchHistory.KEEP]
    SearchHistory.objects.filter(user=user).exclude(pk__in=newest).delete()


def history(user):
    return list(SearchHistory.objects.filter(user=user).order_by("-searched_at", "-id")[: SearchHistory.KEEP])
