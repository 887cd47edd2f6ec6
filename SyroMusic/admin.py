from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.widgets import AdminTextareaWidget
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from . import text
from .audio import lyrics
from .library import uploads
from .models import (
    Album,
    Artist,
    AudioFile,
    Collaborator,
    Follow,
    Genre,
    Like,
    Playlist,
    PlaylistEntry,
    PlayQueue,
    Profile,
    SearchHistory,
    Share,
    Song,
)

# A URL typed without a scheme means https (Django 6's default, chosen now).
URL_FIELDS_ASSUME_HTTPS = {models.URLField: {"assume_scheme": "https"}}


# Longer than any recording, well within what the integer column holds (a longer one would fail the save).
DURATION_MAX_MS = 100 * 3600 * 1000


class DurationField(forms.Field):
    """Milliseconds, entered and shown as m:ss or h:mm:ss (text.parse_duration), or as plain seconds.

    Shown with its thousandths when it has any ("3:53.192"), so that saving a form unchanged keeps the
    exact value a scan stored."""

    widget = forms.TextInput(attrs={"size": 10, "placeholder": "m:ss", "inputmode": "decimal"})

    def prepare_value(self, value):
        return text.duration(value, exact=True) if isinstance(value, int) else value

    def to_python(self, value):
        if value in self.empty_values or not str(value).strip():
            return None
        try:
            milliseconds = text.parse_duration(str(value))
        except ValueError as error:
            raise ValidationError(str(error), code="invalid") from None
        if milliseconds > DURATION_MAX_MS:
            raise ValidationError(
                f"A duration may be up to {text.duration(DURATION_MAX_MS)}: “{value.strip()}” is longer.",
                code="max_value",
            )
        return milliseconds


class DurationFields:
    """Admins whose millisecond columns are entered as m:ss (DurationField)."""

    duration_fields = ["duration_ms"]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name in self.duration_fields:
            return DurationField(
                label="Duration", required=not db_field.blank,
                help_text="m:ss (3:53), h:mm:ss, or seconds; thousandths after a point (3:53.192).",
            )
        return super().formfield_for_dbfield(db_field, request, **kwargs)


@admin.display(description="duration", ordering="duration_ms")
def duration(obj):
    """A duration_ms column as m:ss, for list_display (admin shows its empty value for none)."""
    return None if obj.duration_ms is None else text.duration(obj.duration_ms)


class SharedChoicesMixin:
    """Build the choices of small foreign-key selects once per request, not once per inline row.

    A ModelChoiceField runs its queryset every time it renders, so an inline of
    500 songs with a genre select would run 500 identical queries.
    """

    shared_choice_fields = ()

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name in self.shared_choice_fields and field is not None:
            cache = request.__dict__.setdefault("_syro_shared_choices", {})
            key = (db_field.model, db_field.name)
            if key not in cache:
                cache[key] = list(field.choices)
            field.choices = cache[key]
        return field


@admin.register(Genre)
class GenreAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "album_count", "song_count"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(
            album_count=Count("albums", distinct=True), song_count=Count("songs", distinct=True)
        )

    @admin.display(ordering="album_count")
    def album_count(self, genre):
        return genre.album_count

    @admin.display(ordering="song_count")
    def song_count(self, genre):
        return genre.song_count


class AlbumInline(admin.TabularInline):
    model = Album
    fields = ["title", "album_type", "release_date", "label"]
    show_change_link = True
    extra = 0
    ordering = ["release_date", "id"]


@admin.register(Artist)
class ArtistAdmin(admin.ModelAdmin):
    list_display = ["name", "sort_name", "country", "year_formed", "created_at"]
    list_filter = ["country"]
    search_fields = ["name", "sort_name"]
    readonly_fields = ["created_at"]
    inlines = [AlbumInline]
    formfield_overrides = URL_FIELDS_ASSUME_HTTPS
    list_per_page = 50


class SongInline(DurationFields, SharedChoicesMixin, admin.TabularInline):
    model = Song
    fields = ["disc_number", "track_number", "title", "artist_name", "duration_ms", "explicit", "genre"]
    # Editing a compilation track's artist happens on the song's own page: an
    # artist select per row would be 20,000 options, an autocomplete one query per row.
    readonly_fields = ["artist_name"]
    shared_choice_fields = ["genre"]
    show_change_link = True
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("artist").in_tracklist_order()

    @admin.display(description="artist")
    def artist_name(self, song):
        return song.artist.name if song.artist_id else "(the album's artist)"


class AlbumForm(forms.ModelForm):
    cover_upload = forms.FileField(
        label="Upload a cover", required=False, widget=forms.FileInput(attrs={"accept": "image/*"})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cover_upload"].help_text = (
            f"JPEG, PNG, WebP or GIF, up to {uploads.human_size(settings.COVER_UPLOAD_MAX_BYTES)}: stored in "
            "every size the site shows, and used instead of the cover URL."
        )

    def clean_cover_upload(self):
        """The stored cover's content hash, for save_model to set."""
        upload = self.cleaned_data.get("cover_upload")
        return uploads.cover_upload_store(upload) if upload else None


def without_upload_on_add(fields, obj, name):
    # An upload goes with an existing object: only its change page has the larger body limit for it
    # (SyroMusic.web.middleware.BodyLimitMiddleware).
    return fields if obj is not None else [field for field in fields if field != name]


@admin.register(Album)
class AlbumAdmin(admin.ModelAdmin):
    form = AlbumForm
    list_display = ["title", "artist", "album_type", "release_date", "label"]
    list_filter = ["album_type", "genres"]
    list_select_related = ["artist"]
    search_fields = ["title", "artist__name", "label"]
    autocomplete_fields = ["artist"]
    filter_horizontal = ["genres"]
    date_hierarchy = "release_date"
    readonly_fields = ["cover_preview", "created_at"]
    inlines = [SongInline]
    formfield_overrides = URL_FIELDS_ASSUME_HTTPS
    list_per_page = 50

    def get_fields(self, request, obj=None):
        return without_upload_on_add(super().get_fields(request, obj), obj, "cover_upload")

    @admin.display(description="cover")
    def cover_preview(self, album):
        if not album.cover_hash:
            return "None uploaded"
        return format_html(
            '<img src="{}" width="150" height="150" alt="The current cover">', album.cover_image_url(300)
        )

    def save_model(self, request, album, form, change):
        if form.cleaned_data.get("cover_upload"):
            album.cover_hash = form.cleaned_data["cover_upload"]
        super().save_model(request, album, form, change)

    def save_formset(self, request, form, formset, change):
        # Songs added inline belong to the album's artist unless changed on their own page.
        if formset.model is Song:
            for song_form in formset.forms:
                if not song_form.instance.artist_id:
                    song_form.instance.artist = form.instance.artist
        super().save_formset(request, form, formset, change)


def audio_player(audio_file):
    """An <audio> control to play a file in the admin, or why it cannot be played."""
    if audio_file.missing_since:
        return f"Missing since {timezone.localtime(audio_file.missing_since):%Y-%m-%d %H:%M}"
    return format_html(
        '<audio controls preload="none" src="{}" aria-label="Play {}"></audio>',
        audio_file.get_absolute_url(), audio_file.path,
    )


class AudioFileFacts:
    """The read-only columns an audio file shows in the admin, as a list and as an inline."""

    @admin.display(description="play")
    def player(self, audio_file):
        return audio_player(audio_file) if audio_file.pk else ""

    @admin.display(description="played", boolean=True)
    def is_played(self, audio_file):
        return audio_file.pk is not None and audio_file.song.audio_id == audio_file.pk

    @admin.display(description="bitrate", ordering="bitrate")
    def kbps(self, audio_file):
        return f"{round(audio_file.bitrate / 1000):,} kbps"

    duration = staticmethod(duration)

    @admin.display(description="size", ordering="size")
    def file_size(self, audio_file):
        return uploads.human_size(audio_file.size)


class AudioFileInline(AudioFileFacts, admin.TabularInline):
    model = AudioFile
    fields = ["player", "is_played", "format", "codec", "kbps", "sample_rate", "channels", "duration", "file_size",
              "source", "path", "missing_since"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True
    verbose_name_plural = "audio files (the song plays the best available one)"

    def get_queryset(self, request):
        # The song too, for "played": an inline's rows know their song's id, not the song.
        return super().get_queryset(request).select_related("song").defer("peaks")

    def has_add_permission(self, request, obj=None):
        return False  # files come from a scan or from the upload field above


class LrcField(forms.CharField):
    """LRC text with "\n" line ends: a browser sends a textarea's as "\r\n", which would count as a change.
    Not stripped, so that the line numbers of its problems are those staff see."""

    def __init__(self, **kwargs):
        super().__init__(strip=False, **kwargs)

    def to_python(self, value):
        return super().to_python(value).replace("\r\n", "\n")


# The problems of an LRC shown at most; past that, how many more there are.
LRC_PROBLEMS_SHOWN = 20


class SongForm(forms.ModelForm):
    audio_upload = forms.FileField(
        label="Add an audio file", required=False, widget=forms.FileInput(attrs={"accept": "audio/*"})
    )
    lrc = LrcField(
        label="Synced lyrics (LRC)", required=False, widget=AdminTextareaWidget(attrs={"rows": 12, "spellcheck": "false"}),
        help_text="A line per line sung, each starting with its time: [01:02.30]Words. Times may come in any order "
        "(they are sorted on save); header tags like [ar:…] and [offset:+500] are allowed. Empty: no synced lyrics. "
        "Plain lyrics left empty are filled from these lines.",
    )
    lrc_upload = forms.FileField(
        label="Or upload an .lrc file", required=False, widget=forms.FileInput(attrs={"accept": ".lrc,text/plain"})
    )

    # The "Lyrics" fieldset of the song's page, in this order.
    LYRICS_FIELDS = ["lyrics", "lrc", "lrc_upload"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["audio_upload"].help_text = (
            f"MP3, FLAC, Ogg Vorbis, Opus, M4A or WAV, up to {uploads.human_size(settings.AUDIO_UPLOAD_MAX_BYTES)}, "
            "checked by its content. Its lyrics are used when the song has none."
        )
        self.fields["lrc_upload"].help_text = (
            f"Up to {uploads.human_size(lyrics.SIDECAR_MAX_BYTES)}, UTF-8 or Latin-1: replaces the text above."
        )
        self.initial.setdefault("lrc", lyrics.format_lrc(self.instance.synced_lyrics))

    def clean_audio_upload(self):
        """The checked file (uploads.CheckedAudio), for save_related to attach once the song is saved."""
        upload = self.cleaned_data.get("audio_upload")
        return uploads.audio_upload_check(upload) if upload else None

    def clean_lrc_upload(self):
        """The uploaded file's text, decoded as scan_library reads a .lrc beside an audio file."""
        upload = self.cleaned_data.get("lrc_upload")
        if not upload:
            return None
        if upload.size > lyrics.SIDECAR_MAX_BYTES:
            raise ValidationError(
                f"“{upload.name}” is {uploads.human_size(upload.size)} ({upload.size:,} bytes); an LRC file may be "
                f"up to {uploads.human_size(lyrics.SIDECAR_MAX_BYTES)}."
            )
        data = upload.read()
        if b"\0" in data and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise ValidationError(f"“{upload.name}” is not a text file.")
        return lyrics.decode_lrc(data)

    def clean(self):
        """The song's synced lyrics from the upload, else from the LRC text when it changed (so that lines
        stored by a scan stay as they are while staff edit something else); the plain lyrics from them when
        left empty."""
        cleaned_data = super().clean()
        if "lrc_upload" in self.errors or "lrc" in self.errors:
            return cleaned_data
        field = "lrc_upload" if cleaned_data["lrc_upload"] is not None else "lrc"
        text = cleaned_data[field]
        synced = self.instance.synced_lyrics
        if field == "lrc" and not text.strip():
            synced = None
        elif field == "lrc_upload" or "lrc" in self.changed_data:
            if problems := lyrics.check_lrc(text):
                self.add_error(field, lrc_problem_messages(problems))
                return cleaned_data
            synced = [[time_ms, line] for time_ms, line in lyrics.parse_lrc(text)[1]]
        self.instance.synced_lyrics = synced
        if synced and "lyrics" in cleaned_data and not cleaned_data["lyrics"].strip():
            cleaned_data["lyrics"] = lyrics.plain_lyrics(synced)
        return cleaned_data


def lrc_problem_messages(problems):
    """check_lrc's problems as form errors: "line 7: …" each, the first LRC_PROBLEMS_SHOWN of them."""
    messages = [f"line {number}: {message}" if number else message for number, message in problems[:LRC_PROBLEMS_SHOWN]]
    if len(problems) > LRC_PROBLEMS_SHOWN:
        messages.append(f"… and {len(problems) - LRC_PROBLEMS_SHOWN:,} more.")
    return messages


@admin.register(Song)
class SongAdmin(DurationFields, admin.ModelAdmin):
    form = SongForm
    # Fits 1280 px beside the admin's two sidebars: names as plain text that wraps (a foreign key column
    # would not), disc and track in one short column, the duration as m:ss; "explicit" is a filter only.
    list_display = ["title", "artist_name", "album_title", "track", duration, "genre_name"]
    list_filter = ["explicit", "genre", "album__album_type"]
    list_select_related = ["artist", "album", "genre"]
    search_fields = ["title", "artist__name", "album__title", "composer"]
    autocomplete_fields = ["album", "artist", "genre"]
    readonly_fields = ["created_at"]
    exclude = ["synced_lyrics"]  # edited as LRC text: SongForm.lrc
    inlines = [AudioFileInline]
    list_per_page = 100

    class Media:
        css = {"all": ["syromusic/admin.css"]}

    def get_fields(self, request, obj=None):
        return without_upload_on_add(super().get_fields(request, obj), obj, "audio_upload")

    @admin.display(description="artist", ordering="artist__name")
    def artist_name(self, song):
        return song.artist.name

    @admin.display(description="album", ordering="album__title")
    def album_title(self, song):
        return song.album.title

    @admin.display(description="#", ordering="track_number")
    def track(self, song):
        """The track number, after its disc's when there is more than one: "4", "2-4"."""
        return f"{song.disc_number}-{song.track_number}" if song.disc_number > 1 else str(song.track_number)

    @admin.display(description="genre", ordering="genre__name")
    def genre_name(self, song):
        return song.genre.name if song.genre_id else None

    def get_fieldsets(self, request, obj=None):
        fields = self.get_fields(request, obj)
        return [
            (None, {"fields": [name for name in fields if name not in SongForm.LYRICS_FIELDS]}),
            ("Lyrics", {"fields": SongForm.LYRICS_FIELDS}),
        ]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        checked = form.cleaned_data.get("audio_upload")
        if checked:
            uploads.song_attach_checked(song=form.instance, checked=checked)


class MissingFilter(admin.SimpleListFilter):
    title = "missing"
    parameter_name = "missing"

    def lookups(self, request, model_admin):
        return [("yes", "Missing"), ("no", "Available")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(missing_since__isnull=False)
        if self.value() == "no":
            return queryset.available()
        return queryset


@admin.register(AudioFile)
class AudioFileAdmin(AudioFileFacts, admin.ModelAdmin):
    """Every file of every song: where the bytes are, what they are, and which went missing."""

    list_display = ["song", "format", "kbps", "duration", "missing_since", "is_played", "source", "path"]
    list_filter = ["format", "source", MissingFilter]
    list_select_related = ["song"]
    search_fields = ["path", "song__title"]
    fields = ["song", "player", "is_played", "path", "source", "format", "codec", "kbps", "sample_rate", "channels", "duration",
              "file_size", "content_hash", "added_at", "scanned_at", "missing_since"]
    readonly_fields = fields
    list_per_page = 100

    def get_queryset(self, request):
        return super().get_queryset(request).defer("peaks")

    def has_add_permission(self, request):
        return False  # files come from scan_library or from the song page's upload field

    def delete_model(self, request, audio_file):
        uploads.audio_files_delete(queryset=AudioFile.objects.filter(pk=audio_file.pk))

    def delete_queryset(self, request, queryset):
        uploads.audio_files_delete(queryset=queryset)


# The entries a playlist's admin page shows inline: a playlist may hold thousands (a page of 3,000 rows was
# 190,000 px tall); the entry list, filtered to the playlist, pages through all of them.
ENTRIES_SHOWN = 20


class FirstEntriesFormSet(forms.BaseInlineFormSet):
    """The inline's forms for the first ENTRIES_SHOWN entries only; a POST edits those same entries."""

    def get_queryset(self):
        if not hasattr(self, "_queryset"):
            self._queryset = super().get_queryset()[:ENTRIES_SHOWN]
        return self._queryset


class PlaylistEntryInline(admin.TabularInline):
    """The first entries, in position order; songs shown, not re-selected per row."""

    model = PlaylistEntry
    formset = FirstEntriesFormSet
    fields = ["position", "song_title", "song_artist", "added_by", "added_at"]
    readonly_fields = ["song_title", "song_artist", "added_by", "added_at"]
    ordering = ["position"]
    extra = 0
    verbose_name_plural = f"entries (the first {ENTRIES_SHOWN}: all of them in the entry list linked above)"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("song__artist", "added_by")

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description="song")
    def song_title(self, entry):
        return entry.song.title

    @admin.display(description="artist")
    def song_artist(self, entry):
        return entry.song.artist.name


class NewPlaylistEntryInline(admin.TabularInline):
    """Rows for adding songs, found by autocomplete."""

    model = PlaylistEntry
    fields = ["position", "song"]
    autocomplete_fields = ["song"]
    extra = 1
    verbose_name_plural = "add entries"

    def get_queryset(self, request):
        return super().get_queryset(request).none()

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Playlist)
class PlaylistAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "is_public", "entry_count", "updated_at"]
    list_filter = ["is_public"]
    list_select_related = ["owner"]
    search_fields = ["name", "owner__username"]
    autocomplete_fields = ["owner"]
    readonly_fields = ["created_at", "updated_at", "entry_list"]
    inlines = [PlaylistEntryInline, NewPlaylistEntryInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(entry_count=Count("entries"))

    @admin.display(ordering="entry_count", description="entries")
    def entry_count(self, playlist):
        return playlist.entry_count

    @admin.display(description="entries")
    def entry_list(self, playlist):
        """How many entries, linked to the entry list filtered to this playlist (get_queryset counted them)."""
        if playlist.pk is None:
            return "None yet: add songs below."
        url = reverse("admin:SyroMusic_playlistentry_changelist") + f"?playlist__id__exact={playlist.pk}"
        count = playlist.entry_count
        return format_html('<a href="{}">{} {}</a>', url, f"{count:,}", "entry" if count == 1 else "entries")

    def save_formset(self, request, form, formset, change):
        if formset.model is PlaylistEntry:
            for entry_form in formset.forms:
                if not entry_form.instance.pk and not entry_form.instance.added_by_id:
                    entry_form.instance.added_by = request.user
        super().save_formset(request, form, formset, change)


@admin.register(PlaylistEntry)
class PlaylistEntryAdmin(admin.ModelAdmin):
    list_display = ["playlist", "position", "song", "added_by", "added_at"]
    list_filter = ["playlist__is_public", "added_at"]
    list_select_related = ["playlist", "song", "added_by"]
    search_fields = ["playlist__name", "song__title"]
    autocomplete_fields = ["playlist", "song", "added_by"]
    readonly_fields = ["added_at"]
    ordering = ["playlist", "position"]


@admin.register(Collaborator)
class CollaboratorAdmin(admin.ModelAdmin):
    list_display = ["playlist", "user", "level", "added_at"]
    list_filter = ["level"]
    list_select_related = ["playlist", "user"]
    search_fields = ["playlist__name", "user__username"]
    autocomplete_fields = ["playlist", "user"]
    readonly_fields = ["added_at"]


@admin.register(Share)
class ShareAdmin(admin.ModelAdmin):
    list_display = ["playlist", "sender", "recipient", "created_at"]
    list_select_related = ["playlist", "sender", "recipient"]
    search_fields = ["playlist__name", "sender__username", "recipient__username"]
    autocomplete_fields = ["playlist", "sender", "recipient"]
    readonly_fields = ["created_at"]
    list_filter = ["created_at"]


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "is_public"]
    list_filter = ["is_public"]
    list_select_related = ["user"]
    search_fields = ["user__username", "bio"]
    autocomplete_fields = ["user"]
    # A new time zone moves the listener's days and months (record.change_time_zone): the listener changes it
    # on their profile, never a plain save here.
    readonly_fields = ["time_zone"]

    def save_model(self, request, obj, form, change):
        # Only what the form changed: the row's other fields (pending listens, unique counts, the 12 months'
        # window) are SyroMusic.listening.record's, and may have moved since the form was read.
        obj.save(update_fields=form.changed_data if change else None)

    def has_delete_permission(self, request, obj=None):
        # A profile holds the listens still waiting for the rollups: it goes only with its user.
        return False


@admin.register(Follow)
class FollowAdmin(admin.ModelAdmin):
    list_display = ["follower", "followed", "created_at"]
    list_select_related = ["follower", "followed"]
    search_fields = ["follower__username", "followed__username"]
    autocomplete_fields = ["follower", "followed"]
    readonly_fields = ["created_at"]
    list_filter = ["created_at"]


@admin.register(SearchHistory)
class SearchHistoryAdmin(admin.ModelAdmin):
    list_display = ["user", "query", "kind", "searched_at"]
    list_filter = ["kind"]
    list_select_related = ["user"]
    search_fields = ["user__username", "query"]
    autocomplete_fields = ["user"]
    readonly_fields = ["key"]


@admin.register(Like)
class LikeAdmin(admin.ModelAdmin):
    list_display = ["user", "kind", "thing", "liked_at"]
    list_select_related = ["user", "song", "album", "artist"]
    search_fields = ["user__username", "song__title", "album__title", "artist__name"]
    autocomplete_fields = ["user", "song", "album", "artist"]
    date_hierarchy = "liked_at"


@admin.register(PlayQueue)
class PlayQueueAdmin(admin.ModelAdmin):
    """Queues are the listeners' own, written by their players: staff may look and delete, not edit
    (an edit here would skip the checks the API makes: known songs, an index in range)."""

    list_display = ["user", "length", "current_index", "position", "updated_at"]
    list_select_related = ["user"]
    search_fields = ["user__username"]
    readonly_fields = ["user", "song_ids", "current_index", "position", "updated_at"]

    @admin.display(description="songs")
    def length(self, queue):
        return len(queue.song_ids)

    @admin.display(description="position", ordering="position_ms")
    def position(self, queue):
        """How far into the current song, as m:ss."""
        return text.duration(queue.position_ms)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
