"""The music catalogue: genres, artists, albums, songs, and listeners' playlists.

Rules the data must keep are database constraints; reads that pages, the API
and the admin share are QuerySet methods named for what they load.
"""

import secrets
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, models, transaction
from django.db.models import Case, Count, Exists, F, IntegerField, OuterRef, Q, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce, Length, Lower
from django.db.models.lookups import LessThanOrEqual
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone
from django.utils.text import slugify

from . import caching, sealing
from .text import CONTROL_CHARACTERS, first_control_character

# Stands for the id in the one address built (url_maker).
_SENTINEL = "987654321"


def url_maker(address):
    """A function giving address(id) for any integer id, that calls `address` (e.g. a reverse() of a URL
    name whose only argument is the id) once, with a stand-in id, and then only puts each id in its place.

    A page or an answer that links dozens of songs, albums and artists spent as long reversing their
    addresses as the database spent finding them: reverse() walks the URL patterns every time,
    although only the id changes (issues 15 and 19)."""
    url = address(int(_SENTINEL))
    if url.count(_SENTINEL) != 1:
        return address  # the stand-in is ambiguous (the host or a query has it too): no shortcut
    before, _, after = url.partition(_SENTINEL)
    return lambda id: f"{before}{int(id)}{after}"


_PAGE_URLS = {}
# Entries of a process-wide memo keyed by the script prefix, which comes with the request: past this, it
# starts again rather than grow with whatever prefixes requests bring.
MEMO_LIMIT = 1_000


def page_url_maker(name):
    """A function giving page_url(name, id) for integer ids, for the current script prefix and URL conf: a loop
    over a page's rows looks those up once, not once a row."""
    key = (name, get_script_prefix(), get_urlconf())
    maker = _PAGE_URLS.get(key)
    if maker is None:
        if len(_PAGE_URLS) >= MEMO_LIMIT:
            _PAGE_URLS.clear()
        maker = _PAGE_URLS[key] = url_maker(lambda id: reverse(name, args=[id]))
    return maker


def page_url(name, pk):
    """reverse(name, args=[pk]) for a URL name whose only argument is an id, one reverse() per name."""
    if type(pk) is not int:
        return reverse(name, args=[pk])
    return page_url_maker(name)(pk)


class Fold(models.Func):
    """syro_fold(text): lower case, no accents, white space collapsed. PostgreSQL's is SQL (unaccent,
    migration 0004); SQLite's is SyroMusic.text.fold, registered on each connection (apps.py)."""

    function = "syro_fold"
    output_field = models.TextField()


def search_name(column):
    """The folded name, stored: search compares and indexes it instead of folding every row per query."""
    return models.GeneratedField(
        expression=Fold(column), output_field=models.TextField(), db_persist=True, editable=False
    )


LYRICS_MAX_CHARACTERS = 100_000

# Leading articles that sort names ignore, so "The Beatles" files under B.
SORT_ARTICLES = ("the ", "a ", "an ")


def make_sort_name(name):
    """ "The Beatles" -> "Beatles, The"; other names unchanged."""
    lowered = name.lower()
    for article in SORT_ARTICLES:
        if lowered.startswith(article) and len(name) > len(article):
            return f"{name[len(article):]}, {name[: len(article) - 1]}"
    return name


def make_slug(text, max_length=200):
    return slugify(text, allow_unicode=True)[:max_length] or "untitled"


ONE_LINE = "Names and titles cannot contain control characters such as line breaks or tabs."


def refuse_control_characters(value):
    """Names and titles are one line of printable text: a playlist file writes each on a line of its own."""
    character = first_control_character(value)
    if character is not None:
        raise ValidationError(f"{ONE_LINE[:-1]} (found U+{ord(character):04X}).", code="control_character")


def one_line(field, prefix):
    """The database's side of refuse_control_characters, for one field."""
    return models.CheckConstraint(
        condition=~Q(**{f"{field}__regex": CONTROL_CHARACTERS}), name=f"{prefix}_{field}_one_line",
        violation_error_message=ONE_LINE,
    )


def unique_when_set(field, prefix):
    return models.UniqueConstraint(
        fields=[field], condition=Q(**{f"{field}__isnull": False}), name=f"{prefix}_{field}_unique",
        violation_error_message=f"Another {prefix} has this {field}.",
    )


def at_most(field, max_length, prefix):
    """The database's side of a long text field's max_length (which Django checks only in forms)."""
    return models.CheckConstraint(
        condition=LessThanOrEqual(Length(field), max_length), name=f"{prefix}_{field}_max_length",
        violation_error_message=f"The {field} is longer than {max_length:,} characters.",
    )


class Genre(models.Model):
    name = models.CharField(max_length=100, unique=True, validators=[refuse_control_characters])
    slug = models.SlugField(max_length=100, unique=True, allow_unicode=True)

    class Meta:
        ordering = ["name"]
        constraints = [one_line("name", "genre")]

    def __str__(self):
        return self.name


class LikedMixin:
    """with_liked(user): each row says whether the user likes it (`liked`), in the same query, for a list
    page or an API page. Anonymous visitors get no annotation: they like nothing (see Like)."""

    LIKE_FIELD = None  # the Like column that points at this model

    def with_liked(self, user):
        if user is None or not user.is_authenticated:
            return self
        return self.annotate(liked=Exists(Like.objects.filter(user=user, **{self.LIKE_FIELD: OuterRef("pk")})))


class ArtistQuerySet(LikedMixin, models.QuerySet):
    LIKE_FIELD = "artist"


class Artist(models.Model):
    name = models.CharField(max_length=200, validators=[refuse_control_characters])
    sort_name = models.CharField(
        max_length=200, blank=True, validators=[refuse_control_characters], help_text='Name as filed, e.g. "Beatles, The".'
    )
    slug = models.SlugField(max_length=200, allow_unicode=True, blank=True)
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166-1 alpha-2 code.")
    year_formed = models.SmallIntegerField(null=True, blank=True)
    mbid = models.UUIDField("MusicBrainz id", null=True, blank=True)
    bio = models.TextField(max_length=10_000, blank=True)
    image_url = models.URLField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    search_name = search_name("name")

    objects = ArtistQuerySet.as_manager()

    class Meta:
        ordering = [Lower("sort_name"), "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(name=""), name="artist_name_not_empty", violation_error_message="An artist needs a name."),
            models.CheckConstraint(
                condition=Q(year_formed__isnull=True) | Q(year_formed__range=(1000, 2999)),
                name="artist_year_formed_plausible", violation_error_message="The year formed must be between 1000 and 2999.",
            ),
            one_line("name", "artist"),
            one_line("sort_name", "artist"),
            unique_when_set("mbid", "artist"),
            at_most("bio", 10_000, "artist"),
        ]
        indexes = [
            models.Index(Lower("sort_name"), "id", name="artist_sort_name_idx", include=["sort_name"]),
            models.Index(fields=["created_at", "id"], name="artist_created_idx"),
            models.Index(fields=["name"], name="artist_name_idx"),
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        # Derived defaults only: a form or the admin may leave them blank.
        if not self.sort_name:
            self.sort_name = make_sort_name(self.name)
        if not self.slug:
            self.slug = make_slug(self.name)
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return page_url("music:artist-detail", self.pk)


class AlbumQuerySet(LikedMixin, models.QuerySet):
    LIKE_FIELD = "album"

    def for_listing(self):
        """Albums with their artist joined: enough for a row in any album list."""
        return self.select_related("artist")

    def with_genres(self):
        return self.prefetch_related("genres")

    def newest_first(self):
        return self.order_by("-release_date", "-id")

    def in_discography_order(self):
        """Albums first, then EPs, singles and compilations; newest first within each."""
        rank = Case(
            *(When(album_type=value, then=Value(order)) for order, value in enumerate(Album.DISCOGRAPHY_ORDER)),
            output_field=IntegerField(),
        )
        return self.alias(type_rank=rank).order_by("type_rank", "-release_date", "-id")

    def with_track_stats(self):
        return self.annotate(song_count=Count("songs"), total_duration_ms=Sum("songs__duration_ms"))


class AlbumType(models.TextChoices):
    ALBUM = "album", "Album"
    SINGLE = "single", "Single"
    EP = "ep", "EP"
    COMPILATION = "compilation", "Compilation"


class Album(models.Model):
    Type = AlbumType

    title = models.CharField(max_length=300, validators=[refuse_control_characters])
    slug = models.SlugField(max_length=300, allow_unicode=True, blank=True)
    artist = models.ForeignKey(Artist, on_delete=models.PROTECT, related_name="albums")
    release_date = models.DateField(null=True, blank=True)
    album_type = models.CharField("type", max_length=16, choices=Type.choices, default=Type.ALBUM)
    genres = models.ManyToManyField(Genre, related_name="albums", blank=True)
    cover_url = models.URLField(max_length=500, blank=True, help_text="An image elsewhere, shown when the album has no cover of its own.")
    # The album's own cover: content-addressed files under MEDIA_ROOT/covers/ (SyroMusic.audio.covers).
    cover_hash = models.CharField(max_length=64, blank=True, default="", db_default="", editable=False)
    label = models.CharField(max_length=200, blank=True, validators=[refuse_control_characters])
    mbid = models.UUIDField("MusicBrainz release id", null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    search_name = search_name("title")

    objects = AlbumQuerySet.as_manager()

    class Meta:
        ordering = [Lower("title"), "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(title=""), name="album_title_not_empty", violation_error_message="An album needs a title."),
            models.CheckConstraint(
                condition=Q(album_type__in=AlbumType.values), name="album_type_valid",
                violation_error_message="The type must be album, single, ep or compilation.",
            ),
            one_line("title", "album"),
            one_line("label", "album"),
            unique_when_set("mbid", "album"),
        ]
        indexes = [
            models.Index(Lower("title"), "id", name="album_title_idx", include=["title"]),
            models.Index(fields=["release_date", "id"], name="album_release_idx"),
            models.Index(fields=["album_type", "release_date", "id"], name="album_type_release_idx"),
            models.Index(fields=["artist", "release_date", "id"], name="album_artist_release_idx"),
            models.Index(fields=["artist", "title"], name="album_artist_title_idx"),
            models.Index(fields=["created_at", "id"], name="album_created_idx"),
        ]

    # How an artist's page groups their releases.
    DISCOGRAPHY_ORDER = [Type.ALBUM, Type.EP, Type.SINGLE, Type.COMPILATION]

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        if not self.slug:
            self.slug = make_slug(self.title, 300)
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return page_url("music:album-detail", self.pk)

    @property
    def release_year(self):
        return self.release_date.year if self.release_date else None

    @property
    def is_compilation(self):
        """Songs by several artists: tracklists name each song's artist."""
        return self.album_type == self.Type.COMPILATION

    def cover_image_url(self, size):
        """The URL of the album's own cover, `size` pixels wide (one of COVER_SIZES), or "" without one.
        Content-addressed: a new cover gets a new URL, so browsers may keep each for good."""
        if not self.cover_hash:
            return ""
        if size not in COVER_SIZES:
            raise ValueError(f"cover size {size} is not one of {COVER_SIZES}")
        return f"{settings.MEDIA_URL}{cover_file_name(self.cover_hash, size)}"


# The widths every cover is stored in (WebP): rows, cards, the album page.
COVER_SIZES = (64, 300, 600)


def cover_file_name(content_hash, size=None):
    """Where a cover's file lives under MEDIA_ROOT: the original (size None) or one width of it."""
    name = content_hash if size is None else f"{content_hash}-{size}.webp"
    return f"covers/{content_hash[:2]}/{name}"


class SongQuerySet(LikedMixin, models.QuerySet):
    LIKE_FIELD = "song"

    def for_listing(self):
        """Songs with album, album artist, song artist, genre and the file they play joined: one query
        for any song table (without lyrics and the file's waveform, which a row never shows)."""
        return self.for_page().defer("lyrics", "synced_lyrics")

    # What a row of a song table shows (templatetags song_rows): the song's own columns, its album's title
    # and cover, its artist's name.
    ROW_FIELDS = (
        "id", "title", "explicit", "duration_ms", "popularity", "audio_id", "album_id", "artist_id",
        "album__id", "album__title", "album__cover_hash", "album__cover_url", "artist__id", "artist__name",
    )

    def for_rows(self):
        """Songs for a song table (_song_table.html): two joins, where for_listing has five. At 1,000,000
        songs PostgreSQL took 2-6 ms to plan for_listing's six-table join, longer than running it, and
        building the unused rows cost as much again (issue 19: 7.1 -> 2.4 ms for a page of 50)."""
        return self.select_related("album", "artist").only(*self.ROW_FIELDS)

    def for_api(self):
        """Songs for the API's rows (api.serializers.SongSerializer): album, artist, genre and file joined, not
        the album's artist, which no API row reads. One table fewer halves PostgreSQL's planning at 1,000,000
        songs (1.96 -> 0.91 ms); with only the columns a row reads, a page of 50 costs 7.6 -> 3.8 ms with its
        rows built (issue 19)."""
        return self.select_related("album", "artist", "genre", "audio").only(*self.API_FIELDS)

    API_FIELDS = (
        "id", "title", "album_id", "artist_id", "disc_number", "track_number", "duration_ms", "explicit", "composer",
        "genre_id", "popularity", "audio_id", "created_at", "album__id", "album__title", "album__release_date",
        "artist__id", "artist__name", "genre__id", "genre__slug", "audio__id", "audio__format", "audio__codec",
        "audio__bitrate", "audio__sample_rate", "audio__channels", "audio__duration_ms", "audio__size",
        "audio__content_hash",
    )

    def for_page(self):
        """One song with everything its page shows: for_listing's joins and the lyrics."""
        return self.select_related("album__artist", "artist", "genre", "audio").defer("audio__peaks")

    def for_player_details(self):
        """What the player loads for the song it plays, beyond its row: the lyrics and the file's waveform
        peaks (add with_liked(user) for the heart)."""
        return self.select_related("audio").only("id", "lyrics", "synced_lyrics", "audio__peaks")

    def playable(self):
        return self.filter(audio__isnull=False)

    def in_tracklist_order(self):
        return self.order_by("disc_number", "track_number", "id")

    def most_popular(self):
        return self.order_by("-popularity", "-id")

    def liked_by(self, user):
        """The songs the user likes, the latest liked first, each with its `liked_at`."""
        return (
            self.filter(likes__user=user)
            .annotate(liked_at=F("likes__liked_at"), like_id=F("likes__id"))
            .order_by("-liked_at", "-like_id")
        )


class Song(models.Model):
    title = models.CharField(max_length=300, validators=[refuse_control_characters])
    album = models.ForeignKey(Album, on_delete=models.CASCADE, related_name="songs")
    # Usually the album's artist; differs on compilations.
    artist = models.ForeignKey(Artist, on_delete=models.PROTECT, related_name="songs")
    disc_number = models.SmallIntegerField(default=1)
    track_number = models.SmallIntegerField()
    duration_ms = models.IntegerField("duration (ms)", null=True, blank=True)
    explicit = models.BooleanField(default=False)
    composer = models.CharField(max_length=300, blank=True, validators=[refuse_control_characters])
    genre = models.ForeignKey(Genre, on_delete=models.SET_NULL, null=True, blank=True, related_name="songs")
    popularity = models.SmallIntegerField(default=0, help_text="0 to 100.")
    mbid = models.UUIDField("MusicBrainz recording id", null=True, blank=True)
    lyrics = models.TextField(max_length=LYRICS_MAX_CHARACTERS, blank=True, default="", db_default="", help_text="Plain text, a line per line sung.")
    # [[milliseconds, "line"], ...] in time order when the lyrics are synced (LRC, SYLT); null otherwise.
    synced_lyrics = models.JSONField(null=True, blank=True)
    # The file the song plays: the best available of its audio_files (services.song_pick_audio keeps
    # it), null when it has none, so a song table knows what is playable without another query.
    audio = models.ForeignKey(
        "AudioFile", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    search_name = search_name("title")

    objects = SongQuerySet.as_manager()

    class Meta:
        ordering = [Lower("title"), "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(title=""), name="song_title_not_empty", violation_error_message="A song needs a title."),
            models.CheckConstraint(condition=Q(disc_number__gte=1), name="song_disc_number_gte_1", violation_error_message="Disc numbers start at 1."),
            models.CheckConstraint(condition=Q(track_number__gte=1), name="song_track_number_gte_1", violation_error_message="Track numbers start at 1."),
            models.CheckConstraint(
                condition=Q(duration_ms__isnull=True) | Q(duration_ms__gte=0), name="song_duration_ms_gte_0", violation_error_message="A duration cannot be negative."
            ),
            models.CheckConstraint(condition=Q(popularity__range=(0, 100)), name="song_popularity_0_100", violation_error_message="Popularity runs from 0 to 100."),
            models.UniqueConstraint(
                fields=["album", "disc_number", "track_number"], name="song_unique_album_disc_track"
            ),
            one_line("title", "song"),
            one_line("composer", "song"),
            at_most("lyrics", LYRICS_MAX_CHARACTERS, "song"),
            unique_when_set("mbid", "song"),
        ]
        indexes = [
            # INCLUDE the column itself: PostgreSQL only scans an expression index without
            # visiting the table (deep pages skip rows this way) when the column is in it.
            models.Index(Lower("title"), "id", name="song_title_idx", include=["title"]),
            models.Index(fields=["duration_ms", "id"], name="song_duration_idx"),
            models.Index(fields=["popularity", "id"], name="song_popularity_idx"),
            models.Index(fields=["genre", "popularity", "id"], name="song_genre_popularity_idx"),
            models.Index(fields=["artist", "popularity", "id"], name="song_artist_popularity_idx"),
            # A playlist's running time (PlaylistQuerySet.for_listing) sums its songs' durations: with the
            # duration beside the id, those lookups skip the table (a page of 50 playlists: 4.5 -> 2.9 ms).
            models.Index(fields=["id"], name="song_id_duration_idx", include=["duration_ms"]),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return page_url("music:song-detail", self.pk)

    @property
    def is_playable(self):
        return self.audio_id is not None


class AudioFormat(models.TextChoices):
    MP3 = "mp3", "MP3"
    FLAC = "flac", "FLAC"
    OGG = "ogg", "Ogg Vorbis"
    OPUS = "opus", "Opus"
    M4A = "m4a", "M4A (AAC or ALAC)"
    WAV = "wav", "WAV"


# What each format is served as (RFC 3003, 5334, 7845, 4337; WAV's common name).
AUDIO_MIME_TYPES = {
    AudioFormat.MP3: "audio/mpeg",
    AudioFormat.FLAC: "audio/flac",
    AudioFormat.OGG: "audio/ogg",
    AudioFormat.OPUS: "audio/ogg",
    AudioFormat.M4A: "audio/mp4",
    AudioFormat.WAV: "audio/wav",
}
LOSSLESS_CODECS = {"flac", "alac", "wavpack", "ape"} | {f"pcm_{kind}" for kind in ("s16le", "s24le", "s32le", "u8", "f32le")}


class AudioFileQuerySet(models.QuerySet):
    def available(self):
        """Files whose bytes were where we left them at the last scan."""
        return self.filter(missing_since__isnull=True)

    def best_first(self):
        """The order a song picks the file it plays: available, lossless, higher bitrate, older."""
        lossless = Case(When(codec__in=LOSSLESS_CODECS, then=Value(0)), default=Value(1), output_field=IntegerField())
        return self.alias(lossy=lossless).order_by(F("missing_since").asc(nulls_first=True), "lossy", "-bitrate", "id")


class AudioFile(models.Model):
    """One file of a song's audio and its facts, read from the bytes themselves (SyroMusic.audio)."""

    class Source(models.TextChoices):
        LIBRARY = "library", "Music folder"  # served in place from a folder scan_library walked
        UPLOAD = "upload", "Uploaded"  # copied under MEDIA_ROOT/audio/ by the admin

    Format = AudioFormat

    song = models.ForeignKey(Song, on_delete=models.CASCADE, related_name="audio_files")
    path = models.CharField(max_length=1024, unique=True, help_text="Where the bytes are: an absolute path on the server.")
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.LIBRARY)
    format = models.CharField(max_length=8, choices=Format.choices)
    codec = models.CharField(max_length=32, help_text='As FFmpeg names it: "mp3", "flac", "vorbis", "opus", "aac", "alac", "pcm_s16le".')
    bitrate = models.IntegerField(help_text="Average bits per second.")
    sample_rate = models.IntegerField(help_text="Hz.")
    channels = models.SmallIntegerField()
    duration_ms = models.IntegerField("duration (ms)", help_text="Exact: counted from the decoded samples.")
    size = models.BigIntegerField(help_text="Bytes.")
    mtime_ns = models.BigIntegerField(help_text="The file's modification time when scanned (ns since the epoch).")
    content_hash = models.CharField(max_length=64, help_text="SHA-256 of the bytes, hex.")
    # Waveform peaks for the seek bar: one unsigned byte (0-255) per slice of the song.
    peaks = models.BinaryField(blank=True, default=b"", editable=False)
    added_at = models.DateTimeField(default=timezone.now, editable=False)
    scanned_at = models.DateTimeField(default=timezone.now, editable=False)
    missing_since = models.DateTimeField(null=True, blank=True, help_text="Set when a scan no longer finds the file; the row is kept.")

    objects = AudioFileQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(format__in=AudioFormat.values), name="audiofile_format_valid"),
            models.CheckConstraint(
                condition=Q(size__gte=0) & Q(duration_ms__gte=0) & Q(bitrate__gte=0) & Q(sample_rate__gt=0) & Q(channels__gte=1),
                name="audiofile_facts_plausible",
            ),
            models.CheckConstraint(condition=~Q(path=""), name="audiofile_path_not_empty"),
        ]
        indexes = [
            models.Index(fields=["content_hash"], name="audiofile_hash_idx"),
            models.Index(fields=["song", "missing_since"], name="audiofile_song_idx"),
        ]

    def __str__(self):
        return self.path

    def get_absolute_url(self):
        """The stream URL, content-addressed: new bytes get a new URL, so a browser may keep it for good."""
        return reverse("music:audio-file", args=[self.pk, self.content_hash[:16], self.format])

    @property
    def mime_type(self):
        return AUDIO_MIME_TYPES[self.format]

    @property
    def is_lossless(self):
        return self.codec in LOSSLESS_CODECS


def playlist_visible_to(user, via=""):
    """The condition that a playlist is visible to a user: the playlist rows themselves, or those that rows
    of another model reach through `via` (e.g. "playlist__")."""
    if user is None or not user.is_authenticated:
        return Q(**{f"{via}is_public": True})
    collaborates = Collaborator.objects.filter(playlist=OuterRef(f"{via}pk"), user=user)
    return Q(**{f"{via}is_public": True}) | Q(**{f"{via}owner": user}) | Exists(collaborates)


class PlaylistQuerySet(models.QuerySet):
    def public(self):
        return self.filter(is_public=True)

    def recently_updated(self):
        return self.order_by("-updated_at", "-id")

    def name_taken(self, owner, name, *, exclude=None):
        """Does the owner already have a playlist of this name (other than `exclude`)? Names are unique per owner."""
        clash = self.filter(owner=owner, name=name)
        if exclude is not None and exclude.pk is not None:
            clash = clash.exclude(pk=exclude.pk)
        return clash.exists()

    def editable_by(self, user):
        """The playlists a user may add songs to: their own and those they collaborate on with edit rights."""
        levels = [level for level in Collaborator.Level.values if ACCESS_RANK[level] >= ACCESS_RANK[Need.EDIT_ENTRIES]]
        editing = Collaborator.objects.filter(playlist=OuterRef("pk"), user=user, level__in=levels)
        return self.filter(Q(owner=user) | Exists(editing)).order_by(Lower("name"), "id")

    def visible_to(self, user):
        """Public playlists, the user's own and those they collaborate on. Everything else is answered with 404."""
        return self.filter(playlist_visible_to(user))

    def with_access_for(self, user):
        """Annotate the user's collaborator level, so access_for(user) needs no query of its own."""
        if user is None or not user.is_authenticated:
            return self
        level = Collaborator.objects.filter(playlist=OuterRef("pk"), user=user).values("level")[:1]
        return self.annotate(viewer_level=Subquery(level), viewer_id=Value(user.pk))

    def for_listing(self):
        """Playlists with owner, entry count and total duration.

        Subqueries, not a join with GROUP BY: they run only for the rows of the
        page, where a GROUP BY would first aggregate every playlist.
        """
        entries = PlaylistEntry.objects.filter(playlist=OuterRef("pk")).order_by().values("playlist")
        return self.select_related("owner").annotate(
            entry_count=Coalesce(Subquery(entries.annotate(n=Count("id")).values("n")), 0),
            total_duration_ms=Coalesce(Subquery(entries.annotate(d=Sum("song__duration_ms")).values("d")), 0),
        )


# Who may do what with a playlist, weakest first.
ACCESS_RANK = {None: -1, "public": 0, "view": 1, "edit": 2, "admin": 3, "owner": 4}


class Need:
    """The access each kind of playlist change needs (see Playlist.allows)."""

    SEE = "public"
    EDIT_ENTRIES = "edit"  # add, remove, reorder
    MANAGE = "admin"  # name, description, visibility, collaborators, sharing
    DELETE = "owner"



class Playlist(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="playlists")
    name = models.CharField(max_length=200, validators=[refuse_control_characters])
    description = models.TextField(max_length=2000, blank=True)
    is_public = models.BooleanField("public", default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    search_name = search_name("name")

    objects = PlaylistQuerySet.as_manager()

    class Meta:
        ordering = ["-updated_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(name=""), name="playlist_name_not_empty", violation_error_message="A playlist needs a name."),
            # Imports identify a playlist by its name within the owner.
            models.UniqueConstraint(fields=["owner", "name"], name="playlist_unique_owner_name"),
            one_line("name", "playlist"),
            at_most("description", 2000, "playlist"),
        ]
        indexes = [
            models.Index(fields=["is_public", "updated_at", "id"], name="playlist_public_updated_idx"),
        ]

    NAME_TAKEN = "You already have a playlist with this name."
    # The most entries a playlist holds, so that its pages, files and API answers stay a bounded size.
    # Not a constraint: entries move through positions above it while they shift (POSITION_SHIFT).
    MAX_ENTRIES = 10_000

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return page_url("music:playlist-detail", self.pk)

    def save_with_unique_name(self):
        """save(), for forms and serializers that checked the name first: a name another request took since
        that check is the check's own answer, ValidationError({"name": NAME_TAKEN}), not an IntegrityError."""
        try:
            with transaction.atomic():  # a savepoint: the transaction stays usable after the refusal
                self.save()
        except IntegrityError:
            if not Playlist.objects.name_taken(self.owner_id, self.name, exclude=self):
                raise
            raise ValidationError({"name": self.NAME_TAKEN}) from None

    def check_not_owner(self, user):
        """For naming another listener (a collaborator, a recipient): the owner already has every right."""
        if user.pk == self.owner_id:
            raise ValidationError("That is the playlist's owner, who has every right.")
        return user

    def set_collaborator(self, user, level):
        """Let a listener in at `level`, or change their level. Returns (collaborator, created)."""
        self.check_not_owner(user)
        collaborator, created = Collaborator.objects.update_or_create(playlist=self, user=user, defaults={"level": level})
        caching.bump(caching.PLAYLISTS)
        return collaborator, created

    def remove_collaborator(self, user_id):
        """Returns whether there was such a collaborator."""
        deleted, _ = self.collaborators.filter(user_id=user_id).delete()
        caching.bump(caching.PLAYLISTS)
        return bool(deleted)

    def access_for(self, user):
        """What a user may do here: "owner", "admin", "edit", "view" (collaborators), "public" or None."""
        if user is not None and user.is_authenticated:
            if user.pk == self.owner_id:
                return "owner"
            # The annotation answers for the user it was made for (the one asking), not for another
            # listener this user names: a recipient, a new collaborator.
            if self.__dict__.get("viewer_id") == user.pk:  # from with_access_for(user)
                level = self.viewer_level
            else:
                level = self.collaborators.filter(user=user).values_list("level", flat=True).first()
            if level:
                return level
        return "public" if self.is_public else None

    def allows(self, user, need):
        """May this user do what needs `need` ("view", "edit", "admin" or "owner")?"""
        return ACCESS_RANK[self.access_for(user)] >= ACCESS_RANK[need]

    @classmethod
    def check_room(cls, count, adding):
        """Refuse (ValidationError) adding `adding` entries to a playlist of `count` when they do not all fit."""
        if count + adding > cls.MAX_ENTRIES:
            more = "1 more does" if adding == 1 else f"{adding:,} more do"
            raise ValidationError(
                f"A playlist holds at most {cls.MAX_ENTRIES:,} songs: this one has {count:,}, so {more} not fit.",
                code="playlist_full",
            )

    def entries_in_order(self):
        """The entries with their songs, albums, artists and who added them: one query for any entry table."""
        return self.entries.select_related("song__album__artist", "song__artist", "added_by").order_by("position")

    # Changing entries keeps positions exactly 1..N. Each change locks the playlist row first, so
    # concurrent changes to one playlist take turns; positions move through a high range because
    # the unique (playlist, position) constraint is checked row by row during an UPDATE.
    POSITION_SHIFT = 1_000_000_000

    def _lock(self):
        return Playlist.objects.select_for_update().only("id").get(pk=self.pk)

    def _shift(self, first, last, by):
        """Move the entries at positions first..last by `by` places."""
        if first > last:
            return
        self.entries.filter(position__range=(first, last)).update(position=F("position") + self.POSITION_SHIFT)
        self.entries.filter(position__range=(first + self.POSITION_SHIFT, last + self.POSITION_SHIFT)).update(
            position=F("position") - self.POSITION_SHIFT + by
        )

    def _touch(self):
        # Bulk updates send no signals: mark the playlist pages stale here.
        Playlist.objects.filter(pk=self.pk).update(updated_at=timezone.now())
        caching.bump(caching.PLAYLISTS)

    @transaction.atomic
    def add_song(self, song, *, by, position=None):
        """Insert a song at `position` (1..N+1, default: the end); later entries move down one."""
        self._lock()
        count = self.entries.count()
        self.check_room(count, 1)
        if position is None:
            position = count + 1
        elif not 1 <= position <= count + 1:  # the same rule as move_entry's, one place further
            raise ValueError(f"position must be between 1 and {count + 1}")
        self._shift(position, count, +1)
        entry = PlaylistEntry.objects.create(playlist=self, song=song, position=position, added_by=by)
        self._touch()
        return entry

    @transaction.atomic
    def add_songs(self, songs, *, by):
        """Append songs, in the order given, after the last entry."""
        self._lock()
        songs = list(songs)
        start = self.entries.count() + 1
        self.check_room(start - 1, len(songs))
        entries = PlaylistEntry.objects.bulk_create(
            PlaylistEntry(playlist=self, song=song, position=position, added_by=by)
            for position, song in enumerate(songs, start=start)
        )
        self._touch()
        return entries

    @transaction.atomic
    def remove_entry(self, entry):
        self._lock()
        count = self.entries.count()
        position = PlaylistEntry.objects.filter(pk=entry.pk, playlist=self).values_list("position", flat=True).get()
        PlaylistEntry.objects.filter(pk=entry.pk).delete()
        self._shift(position + 1, count, -1)
        self._touch()

    @transaction.atomic
    def move_entry(self, entry, *, to):
        """Move an entry to position `to` (1..N); the entries between shift by one."""
        self._lock()
        count = self.entries.count()
        if not 1 <= to <= count:
            raise ValueError(f"position must be between 1 and {count}")
        current = PlaylistEntry.objects.filter(pk=entry.pk, playlist=self).values_list("position", flat=True).get()
        if to == current:
            return
        PlaylistEntry.objects.filter(pk=entry.pk).update(position=2 * self.POSITION_SHIFT)
        if to < current:
            self._shift(to, current - 1, +1)
        else:
            self._shift(current + 1, to, -1)
        PlaylistEntry.objects.filter(pk=entry.pk).update(position=to)
        self._touch()


class PlaylistEntry(models.Model):
    playlist = models.ForeignKey(Playlist, on_delete=models.CASCADE, related_name="entries")
    song = models.ForeignKey(Song, on_delete=models.CASCADE, related_name="playlist_entries")
    position = models.IntegerField(help_text="1 for the first entry.")
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["playlist", "position"]
        verbose_name_plural = "playlist entries"
        constraints = [
            models.CheckConstraint(condition=Q(position__gte=1), name="playlistentry_position_gte_1", violation_error_message="Positions start at 1."),
            models.UniqueConstraint(fields=["playlist", "position"], name="playlistentry_unique_position"),
        ]

    def __str__(self):
        return f"{self.position}. {self.song}"

    def clean(self):
        # The admin writes entries at positions it is given: positions 1..MAX_ENTRIES bound the count.
        if self.position is not None and self.position > Playlist.MAX_ENTRIES:
            raise ValidationError({"position": f"A playlist holds at most {Playlist.MAX_ENTRIES:,} songs."})


class Collaborator(models.Model):
    """Someone the owner lets into a playlist, at a level."""

    class Level(models.TextChoices):
        VIEW = "view", "View"
        EDIT = "edit", "Edit (add, remove, reorder)"
        ADMIN = "admin", "Admin (also manage collaborators)"

    playlist = models.ForeignKey(Playlist, on_delete=models.CASCADE, related_name="collaborators")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="collaborations")
    level = models.CharField(max_length=8, choices=Level.choices, default=Level.VIEW)
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["playlist", "user"]
        constraints = [
            models.UniqueConstraint(fields=["playlist", "user"], name="collaborator_once"),
            models.CheckConstraint(condition=Q(level__in=["view", "edit", "admin"]), name="collaborator_level_valid"),
        ]

    def __str__(self):
        return f"{self.user} ({self.level}) on {self.playlist}"


class ShareQuerySet(models.QuerySet):
    def received_by(self, user):
        """What was shared with the user, of the playlists they may still see: a share does not outlive access."""
        return self.filter(playlist_visible_to(user, via="playlist__"), recipient=user)


class Share(models.Model):
    """A playlist sent to a listener with a message; it shows on the recipient's own page. Sharing again
    replaces the message."""

    playlist = models.ForeignKey(Playlist, on_delete=models.CASCADE, related_name="shares")
    sender = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="shares_received")
    message = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ShareQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["playlist", "recipient"], name="share_once")]

    def __str__(self):
        return f"{self.playlist} shared with {self.recipient}"


def validate_time_zone(value):
    if value not in available_time_zones():
        raise ValidationError(f"“{value}” is not a time zone this server knows (e.g. Europe/Paris, America/New_York, UTC).", code="time_zone")


def available_time_zones():
    """The IANA time zone names (zoneinfo's, cached)."""
    global _TIME_ZONES
    if _TIME_ZONES is None:
        _TIME_ZONES = frozenset(zoneinfo.available_timezones())
    return _TIME_ZONES


_TIME_ZONES = None


def no_listen_uniques():
    """A new profile's unique counts: none heard yet, known (an empty dict would mean "count them again")."""
    return {"0": [0, 0, 0]}


class Profile(models.Model):
    """What a listener tells about themselves. A user without one has the defaults."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    bio = models.TextField(max_length=2000, blank=True)
    is_public = models.BooleanField(
        "public profile", default=True, help_text="A private profile shows others nothing but your name."
    )
    time_zone = models.CharField(
        max_length=64, default="UTC", validators=[validate_time_zone],
        help_text="Where you listen: your days, streaks and hours of the day are counted in this time zone.",
    )
    stats_public = models.BooleanField(
        "public listening stats", default=False,
        help_text="Others may see your listening stats on your profile. Your history itself stays private.",
    )
    data_saver = models.BooleanField(
        "data saver", default=False,
        help_text="The web player streams a smaller copy (Opus at 96 kbps, made by the server) instead of the file.",
    )
    listens_window = models.IntegerField(
        default=0, editable=False,
        help_text="The last month (YYYYMM) of the 12 the tallies' window rows (month -YYYYMM) add up; 0: none yet.",
    )
    pending_listens = models.JSONField(
        default=list, editable=False,
        help_text="Ids of listens recorded but not yet added to the rollups: record.fold adds them, before any read.",
    )
    listen_uniques = models.JSONField(
        default=no_listen_uniques, editable=False,
        help_text='Songs, albums and artists with a counted listen: {"0": [songs, albums, artists]} over all time, '
        '{"-YYYYMM": [...]} in the 12 months\' window. Kept by record with the tallies.',
    )

    class Meta:
        constraints = [at_most("bio", 2000, "profile")]

    def __str__(self):
        return f"Profile of {self.user}"

    def get_absolute_url(self):
        return reverse("music:user-detail", args=[self.user.get_username()])

    @classmethod
    def of(cls, user):
        """The user's profile, or an unsaved one with the defaults (select_related("profile") saves the query)."""
        try:
            return user.profile
        except cls.DoesNotExist:
            return cls(user=user)

    def visible_to(self, viewer):
        """A private profile shows others nothing but the name."""
        return self.is_public or (viewer is not None and viewer.pk == self.user_id)

    def stats_visible_to(self, viewer):
        """Listening stats: the listener's own, and others' only on a public profile that shares them."""
        if viewer is not None and viewer.pk == self.user_id:
            return True
        return self.is_public and self.stats_public

    @property
    def zone(self):
        return zoneinfo.ZoneInfo(self.time_zone)


class FollowQuerySet(models.QuerySet):
    def counts_for(self, user):
        """(followers, following) of a user, in one query."""
        totals = self.aggregate(
            followers=Count("id", filter=Q(followed=user)), following=Count("id", filter=Q(follower=user))
        )
        return totals["followers"], totals["following"]

    def follow(self, follower, followed):
        if follower.pk == followed.pk:
            raise ValidationError(Follow.NOT_SELF)
        self.get_or_create(follower=follower, followed=followed)

    def unfollow(self, follower, followed):
        self.filter(follower=follower, followed=followed).delete()

    def follows(self, follower, followed):
        return self.filter(follower=follower, followed=followed).exists()


class Follow(models.Model):
    follower = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="following_links")
    followed = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="follower_links")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = FollowQuerySet.as_manager()

    NOT_SELF = "You cannot follow yourself."

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["follower", "followed"], name="follow_once"),
            models.CheckConstraint(
                condition=~Q(follower=F("followed")), name="follow_not_self",
                violation_error_message="You cannot follow yourself.",
            ),
        ]

    def __str__(self):
        return f"{self.follower} follows {self.followed}"


def catalogue_counts():
    """How many artists, albums, songs and public playlists there are, in one query."""
    tables = {
        "artists": Artist._meta.db_table,
        "albums": Album._meta.db_table,
        "songs": Song._meta.db_table,
    }
    quote = connection.ops.quote_name
    parts = [f"(SELECT COUNT(*) FROM {quote(table)})" for table in tables.values()]
    parts.append(f"(SELECT COUNT(*) FROM {quote(Playlist._meta.db_table)} WHERE {quote('is_public')})")
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts))
        row = cursor.fetchone()
    return dict(zip([*tables, "playlists"], row, strict=True))


class SearchHistory(models.Model):
    """A listener's recent searches: one row per distinct (folded query, type), newest first, at most KEEP."""

    KEEP = 20

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="searches")
    query = models.CharField(max_length=100, help_text="As last typed.")
    key = models.CharField(max_length=200, editable=False, help_text="The query folded: what makes two searches the same.")
    kind = models.CharField("type", max_length=16, blank=True, help_text='artist, album, song, playlist, or "" for all.')
    searched_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-searched_at", "-id"]
        verbose_name_plural = "search history"
        constraints = [
            models.UniqueConstraint(fields=["user", "key", "kind"], name="search_history_once"),
            models.CheckConstraint(condition=~Q(query=""), name="search_history_query_not_empty"),
        ]
        indexes = [models.Index(fields=["user", "-searched_at", "-id"], name="search_history_recent_idx")]

    def __str__(self):
        return f"{self.user}: {self.query}" + (f" ({self.kind})" if self.kind else "")


class SearchWord(models.Model):
    """A word of the catalogue's names (artists, albums, songs), folded: what a typo is corrected to on PostgreSQL.

    Filled and kept current there by triggers (migration 0013), never by the app; empty on SQLite, whose
    vocabulary is read from the names themselves (SyroMusic.search). A model so that it is emptied with the
    rest of the database (flush) and seen in the schema; nothing else uses it through the ORM.
    """

    word = models.TextField()

    class Meta:
        db_table = "syro_search_word"

    def __str__(self):
        return self.word


def may_listen(user):
    """Who may stream audio: logged-in listeners, and anonymous visitors when STREAM_ANONYMOUS is on."""
    return settings.STREAM_ANONYMOUS or (user is not None and user.is_authenticated)


class LikeKind(models.TextChoices):
    SONG = "song", "Song"
    ALBUM = "album", "Album"
    ARTIST = "artist", "Artist"


class LikeQuerySet(models.QuerySet):
    def for_user(self, user):
        """The user's likes; nobody's for an anonymous visitor."""
        if user is None or not user.is_authenticated:
            return self.none()
        return self.filter(user=user)

    def of_kind(self, kind):
        return self.filter(**{f"{kind}__isnull": False})

    def with_things(self):
        """The liked song, album or artist with the names a row shows: one query for any list of likes."""
        return self.select_related("song__artist", "song__album", "album__artist", "artist")

    def newest_first(self):
        return self.order_by("-liked_at", "-id")


class Like(models.Model):
    """A listener likes one song, album or artist: exactly one of the three is set, at most once each.

    Likes are private: only their listener sees them (the API's /me/likes/, the pages' hearts)."""

    Kind = LikeKind

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="likes")
    song = models.ForeignKey(Song, on_delete=models.CASCADE, null=True, blank=True, related_name="likes")
    album = models.ForeignKey(Album, on_delete=models.CASCADE, null=True, blank=True, related_name="likes")
    artist = models.ForeignKey(Artist, on_delete=models.CASCADE, null=True, blank=True, related_name="likes")
    liked_at = models.DateTimeField(default=timezone.now)

    objects = LikeQuerySet.as_manager()

    class Meta:
        ordering = ["-liked_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(song__isnull=False, album__isnull=True, artist__isnull=True)
                    | Q(song__isnull=True, album__isnull=False, artist__isnull=True)
                    | Q(song__isnull=True, album__isnull=True, artist__isnull=False)
                ),
                name="like_one_thing", violation_error_message="A like is of exactly one song, album or artist.",
            ),
            *(
                models.UniqueConstraint(
                    fields=["user", kind], condition=Q(**{f"{kind}__isnull": False}), name=f"like_{kind}_once",
                    violation_error_message=f"You already like this {kind}.",
                )
                for kind in LikeKind.values
            ),
        ]
        indexes = [models.Index(fields=["user", "-liked_at", "-id"], name="like_user_recent_idx")]

    def __str__(self):
        return f"{self.user} likes {self.kind} {self.thing}"

    @property
    def kind(self):
        return next(kind for kind in LikeKind.values if getattr(self, f"{kind}_id") is not None)

    @property
    def thing(self):
        return getattr(self, self.kind)

    @staticmethod
    def kind_of(thing):
        """"song", "album" or "artist" for a Song, Album or Artist."""
        kinds = {Song: LikeKind.SONG, Album: LikeKind.ALBUM, Artist: LikeKind.ARTIST}
        return kinds[type(thing)].value


class PlayQueue(models.Model):
    """A listener's play queue, kept on the server so it follows them between devices.

    The whole queue is written at once (PUT): the last write wins. Song ids may repeat. A song deleted
    from the catalogue drops out when the queue is next read (PlayQueue.without_missing)."""

    # The most songs a queue holds, so that it stays one bounded row and one bounded answer.
    MAX_SONGS = 1_000

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="play_queue")
    song_ids = models.JSONField(default=list, blank=True, help_text="The songs' ids, in play order.")
    current_index = models.IntegerField(null=True, blank=True, help_text="Which entry plays (0 = first); null for none.")
    position_ms = models.IntegerField(default=0, help_text="How far into the current song.")
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(current_index__isnull=True) | Q(current_index__gte=0), name="playqueue_current_index_gte_0",
                violation_error_message="The current index cannot be negative.",
            ),
            models.CheckConstraint(
                condition=Q(position_ms__gte=0), name="playqueue_position_ms_gte_0",
                violation_error_message="The position cannot be negative.",
            ),
        ]

    def __str__(self):
        return f"Queue of {self.user}"

    @classmethod
    def of(cls, user):
        """The user's queue, or an unsaved empty one."""
        try:
            return cls.objects.get(user=user)
        except cls.DoesNotExist:
            return cls(user=user, updated_at=None)

    def without_missing(self, existing_ids):
        """Drop the ids not in `existing_ids` (songs since deleted). The current entry stays the same song
        when it is still there; when it went, the song after it plays (from its start), or the new last
        one. Returns whether anything was dropped."""
        kept = [song_id for song_id in self.song_ids if song_id in existing_ids]
        if len(kept) == len(self.song_ids):
            return False
        current = self.current_index
        if current is not None:
            before = sum(1 for song_id in self.song_ids[:current] if song_id in existing_ids)
            current_stays = current < len(self.song_ids) and self.song_ids[current] in existing_ids
            if not current_stays:
                self.position_ms = 0
            current = min(before, len(kept) - 1) if kept else None
        self.song_ids, self.current_index = kept, current
        if current is None:
            self.position_ms = 0
        return True


class ListenQuerySet(models.QuerySet):
    def for_user(self, user):
        """The user's listens; nobody's for an anonymous visitor (history is private)."""
        if user is None or not user.is_authenticated:
            return self.none()
        return self.filter(user=user)

    def newest_first(self):
        return self.order_by("-started_at", "-id")

    def for_history(self):
        """Listens with the song and what its row shows (album, artists, the file): one query for a page."""
        return self.select_related("song__album__artist", "song__artist", "song__genre", "song__audio").defer(
            "song__lyrics", "song__synced_lyrics", "song__audio__peaks"
        )


class ListenSource(models.TextChoices):
    PLAYER = "player", "Player"
    API = "api", "API"
    IMPORT = "import", "Import"


class Listen(models.Model):
    """One time a listener played a song: what was really heard, kept whether or not it counts (skips
    are data too). Recorded by SyroMusic.listening.record, which also keeps the rollups (ListenDay,
    ListenTally) exact: write listens through it, never directly.

    `counted` follows the scrobbling rule (SyroMusic.listening.counts): the song is longer than 30 s
    and was heard for at least half its length or 4 minutes, whichever comes first. History is private."""

    Source = ListenSource

    # No index of their own: listen_client_id_once and listen_user_recent_idx start with the user, and
    # listen_song_idx is the song's (each index costs every recorded listen an insertion).
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="listens", db_index=False)
    # Null once the song left the catalogue: the event stays (the listener's minutes and days do not change).
    song = models.ForeignKey(
        Song, on_delete=models.SET_NULL, null=True, blank=True, related_name="listens", db_index=False
    )
    # The album and artist the song was of when it was heard (as scrobbles keep names): the top albums and
    # artists count them, and a song later moved or deleted does not change what was heard.
    album = models.ForeignKey(Album, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    artist = models.ForeignKey(Artist, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    client_id = models.CharField(
        max_length=64, help_text="Made by the client: the same id twice is the same listen, recorded once."
    )
    started_at = models.DateTimeField(help_text="When playing started.")
    heard_ms = models.IntegerField("heard (ms)", help_text="Milliseconds really played (seeks and pauses add nothing).")
    counted = models.BooleanField(help_text="Counts as a listen (the scrobbling rule).")
    client = models.CharField(max_length=64, blank=True, help_text="The player or app that reported it.")
    source = models.CharField(max_length=8, choices=ListenSource.choices, default=ListenSource.PLAYER)
    recorded_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = ListenQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "client_id"], name="listen_client_id_once",
                violation_error_message="This listen is already recorded.",
            ),
            models.CheckConstraint(condition=Q(heard_ms__gte=0), name="listen_heard_ms_gte_0", violation_error_message="Time heard cannot be negative."),
            models.CheckConstraint(condition=~Q(client_id=""), name="listen_client_id_not_empty"),
        ]
        indexes = [
            # Recently played: a listener's newest first, and cursor pages. It carries what the stats of the
            # last 7 and 30 days add up, which PostgreSQL then reads from the index alone.
            models.Index(
                fields=["user", "-started_at", "-id"], name="listen_user_recent_idx",
                include=["counted", "heard_ms", "song", "album", "artist"],
            ),
            # Popularity: counted listens over a recent window, per song.
            models.Index(fields=["started_at", "song"], condition=Q(counted=True), name="listen_counted_recent_idx"),
            models.Index(fields=["song"], name="listen_song_idx"),
        ]

    def __str__(self):
        return f"{self.user} heard {self.song or 'a removed song'} at {self.started_at:%Y-%m-%d %H:%M}"


class ListenDay(models.Model):
    """A listener's day, in their time zone (Profile.time_zone): counted listens, time heard (every
    event), and counted listens by hour of the day. Exact: kept by SyroMusic.listening.record and rebuilt
    from the listens when the time zone changes."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="listen_days")
    day = models.DateField()
    listens = models.IntegerField(default=0, help_text="Counted listens.")
    heard_ms = models.BigIntegerField(default=0, help_text="Every event's time heard, counted or not.")
    hours = models.JSONField(default=list, help_text="24 numbers: counted listens started in each hour of the day.")

    class Meta:
        ordering = ["user", "day"]
        constraints = [models.UniqueConstraint(fields=["user", "day"], name="listen_day_once")]

    def __str__(self):
        return f"{self.user} on {self.day}: {self.listens} listens"


class ListenMonth(models.Model):
    """A listener's month in their time zone (month = YYYYMM): the sums of its ListenDay rows (counted
    listens, time heard, counted listens by hour of the day and by day of the week) and its runs of days
    with a counted listen (from the 1st, up to the last day, the longest), from which streaks over any
    span of months follow without reading the days. Exact, like ListenDay: record() refreshes the months
    whose days it changed."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="listen_months")
    month = models.IntegerField(help_text="YYYYMM in the listener's time zone.")
    listens = models.IntegerField(default=0, help_text="Counted listens.")
    heard_ms = models.BigIntegerField(default=0, help_text="Every event's time heard, counted or not.")
    hours = models.JSONField(default=list, help_text="24 numbers: counted listens started in each hour of the day.")
    weekdays = models.JSONField(default=list, help_text="7 numbers, Monday first: counted listens on each day.")
    active_days = models.IntegerField(default=0, help_text="Days with a counted listen.")
    first_run = models.IntegerField(default=0, help_text="Days with a counted listen in a row from the 1st.")
    last_run = models.IntegerField(default=0, help_text="Days with a counted listen in a row up to the last day.")
    longest_run = models.IntegerField(default=0, help_text="The longest run of days with a counted listen.")

    class Meta:
        ordering = ["user", "month"]
        constraints = [models.UniqueConstraint(fields=["user", "month"], name="listen_month_once")]

    def __str__(self):
        return f"{self.user} in {self.month}: {self.listens} listens"


class ListenTally(models.Model):
    """One song's listens by one listener in one month of their time zone (month = YYYYMM, e.g. 202611),
    and over all time (month = 0): counted listens and every event's time heard. The stats' top lists
    and unique counts read these; exact, like ListenDay. Rows with month = -YYYYMM add up the 12 months
    ending with YYYYMM (the listener's Profile.listens_window): the last 12 months' top lists read them
    like all time's, instead of summing 12 months of rows on every view."""

    ALL_TIME = 0

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="listen_tallies")
    month = models.IntegerField(
        help_text="YYYYMM in the listener's time zone; 0 for all time; -YYYYMM for the 12 months up to YYYYMM."
    )
    song = models.ForeignKey(Song, on_delete=models.CASCADE, related_name="+")
    listens = models.IntegerField(default=0, help_text="Counted listens.")
    heard_ms = models.BigIntegerField(default=0, help_text="Every event's time heard, counted or not.")

    class Meta:
        verbose_name_plural = "listen tallies"
        constraints = [models.UniqueConstraint(fields=["user", "month", "song"], name="listen_tally_once")]
        indexes = [models.Index(fields=["user", "month", "-listens", "song"], name="listen_tally_top_idx", include=["heard_ms"])]

    def __str__(self):
        return f"{self.user}, {self.month or 'all time'}: song {self.song_id} × {self.listens}"


class ListenAlbumTally(models.Model):
    """ListenTally's twin for the albums listens were of (Listen.album): the top albums rank from here."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    month = models.IntegerField(
        help_text="YYYYMM in the listener's time zone; 0 for all time; -YYYYMM for the 12 months up to YYYYMM."
    )
    album = models.ForeignKey(Album, on_delete=models.CASCADE, related_name="+")
    listens = models.IntegerField(default=0, help_text="Counted listens.")
    heard_ms = models.BigIntegerField(default=0, help_text="Every event's time heard, counted or not.")

    class Meta:
        verbose_name_plural = "listen album tallies"
        constraints = [models.UniqueConstraint(fields=["user", "month", "album"], name="listen_album_tally_once")]
        indexes = [models.Index(fields=["user", "month", "-listens", "album"], name="listen_album_tally_top_idx", include=["heard_ms"])]

    def __str__(self):
        return f"{self.user}, {self.month or 'all time'}: album {self.album_id} × {self.listens}"


class ListenArtistTally(models.Model):
    """ListenTally's twin for the artists listens were of (Listen.artist): the top artists rank from here."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    month = models.IntegerField(
        help_text="YYYYMM in the listener's time zone; 0 for all time; -YYYYMM for the 12 months up to YYYYMM."
    )
    artist = models.ForeignKey(Artist, on_delete=models.CASCADE, related_name="+")
    listens = models.IntegerField(default=0, help_text="Counted listens.")
    heard_ms = models.BigIntegerField(default=0, help_text="Every event's time heard, counted or not.")

    class Meta:
        verbose_name_plural = "listen artist tallies"
        constraints = [models.UniqueConstraint(fields=["user", "month", "artist"], name="listen_artist_tally_once")]
        indexes = [models.Index(fields=["user", "month", "-listens", "artist"], name="listen_artist_tally_top_idx", include=["heard_ms"])]

    def __str__(self):
        return f"{self.user}, {self.month or 'all time'}: artist {self.artist_id} × {self.listens}"


class AppPassword(models.Model):
    """A password for one app (a phone's Subsonic client), made by the server, shown once, revoked by deleting it.

    Never the account's own password: an app that leaks one leaks only that app's access. Subsonic's token
    check needs the password itself (t = md5(password + salt)), so it is kept sealed (SyroMusic.sealing),
    never in plain text; its sha256 (`digest`) finds it when an app sends it as an API key."""

    # A listener's apps, at most: each try of a token checks them all.
    MAX_PER_USER = 20

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="app_passwords")
    name = models.CharField(max_length=100, validators=[refuse_control_characters],
                            help_text='Which app or device uses it, e.g. "Phone (Symfonium)".')
    sealed = models.TextField(help_text="The password, encrypted with the server's key.")
    digest = models.CharField(max_length=64, unique=True, help_text="sha256 of the password: finds it as an API key.")
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [one_line("name", "apppassword")]

    def __str__(self):
        return f"{self.name} ({self.user})"

    @classmethod
    def create(cls, user, name):
        """A new app password for `user`: returns (the saved row, the password, shown this once)."""
        plain = secrets.token_urlsafe(18)
        row = cls.objects.create(user=user, name=name, sealed=sealing.seal(plain), digest=sealing.digest(plain))
        return row, plain

    def password(self):
        """The password in plain text, for the token check (raises sealing.Unsealable if the key changed)."""
        return sealing.unseal(self.sealed)
