from django.contrib import admin
from django.db import models
from django.db.models import Count

from .models import (
    Album,
    Artist,
    Collaborator,
    Follow,
    Genre,
    Playlist,
    PlaylistEntry,
    Profile,
    SearchHistory,
    Share,
    Song,
)

# A URL typed without a scheme means https (Django 6's default, chosen now).
URL_FIELDS_ASSUME_HTTPS = {models.URLField: {"assume_scheme": "https"}}


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


class SongInline(SharedChoicesMixin, admin.TabularInline):
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


@admin.register(Album)
class AlbumAdmin(admin.ModelAdmin):
    list_display = ["title", "artist", "album_type", "release_date", "label"]
    list_filter = ["album_type", "genres"]
    list_select_related = ["artist"]
    search_fields = ["title", "artist__name", "label"]
    autocomplete_fields = ["artist"]
    filter_horizontal = ["genres"]
    date_hierarchy = "release_date"
    readonly_fields = ["created_at"]
    inlines = [SongInline]
    formfield_overrides = URL_FIELDS_ASSUME_HTTPS
    list_per_page = 50

    def save_formset(self, request, form, formset, change):
        # Songs added inline belong to the album's artist unless changed on their own page.
        if formset.model is Song:
            for song_form in formset.forms:
                if not song_form.instance.artist_id:
                    song_form.instance.artist = form.instance.artist
        super().save_formset(request, form, formset, change)


@admin.register(Song)
class SongAdmin(admin.ModelAdmin):
    list_display = ["title", "artist", "album", "disc_number", "track_number", "duration_ms", "explicit", "genre"]
    list_filter = ["explicit", "genre", "album__album_type"]
    list_select_related = ["artist", "album", "genre"]
    search_fields = ["title", "artist__name", "album__title", "composer"]
    autocomplete_fields = ["album", "artist", "genre"]
    readonly_fields = ["created_at"]
    list_per_page = 100


class PlaylistEntryInline(admin.TabularInline):
    """The existing entries, in position order; songs shown, not re-selected per row."""

    model = PlaylistEntry
    fields = ["position", "song_title", "song_artist", "added_by", "added_at"]
    readonly_fields = ["song_title", "song_artist", "added_by", "added_at"]
    ordering = ["position"]
    extra = 0
    verbose_name_plural = "entries"

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
    readonly_fields = ["created_at", "updated_at"]
    inlines = [PlaylistEntryInline, NewPlaylistEntryInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(entry_count=Count("entries"))

    @admin.display(ordering="entry_count", description="entries")
    def entry_count(self, playlist):
        return playlist.entry_count

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
