"""API representations: ids, API URLs and page URLs, and the related names a client needs per row."""

import copy
from collections.abc import Mapping

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_unicode_slug
from django.db import transaction
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.authtoken import serializers as authtoken
from rest_framework.validators import UniqueValidator

from SyroMusic.listening import record
from SyroMusic.models import (
    COVER_SIZES,
    Album,
    Artist,
    AudioFile,
    Collaborator,
    Genre,
    Playlist,
    PlaylistEntry,
    Profile,
    Song,
    refuse_control_characters,
    url_maker,
)
from SyroMusic.playlist_files import read_import


def _url_maker(request, key, address):
    """SyroMusic.models.url_maker for this request, made once per answer (the host is the request's)."""
    http_request = getattr(request, "_request", request)
    makers = http_request.__dict__.setdefault("_syro_url_makers", {})
    maker = makers.get(key)
    if maker is None:
        maker = makers[key] = url_maker(address)
    return maker


class OneReverseMixin:
    """DRF's hyperlinked fields with one reverse() per answer and address, not one per row: a page of 50
    songs linked its album, artist and itself 150 times (issue 19)."""

    def get_url(self, obj, view_name, request, format):
        pk = getattr(obj, self.lookup_field, None) if self.lookup_field == "pk" else None
        if request is None or type(pk) is not int:
            return super().get_url(obj, view_name, request, format)
        kwarg = self.lookup_url_kwarg
        maker = _url_maker(request, ("api", view_name, kwarg, format),
                           lambda id: self.reverse(view_name, kwargs={kwarg: id}, request=request, format=format))
        return maker(pk)


class IdentityUrlField(OneReverseMixin, serializers.HyperlinkedIdentityField):
    pass


class RelatedUrlField(OneReverseMixin, serializers.HyperlinkedRelatedField):
    pass


class PageUrlField(serializers.SerializerMethodField):
    """The absolute URL of the object's page on the site."""

    def __init__(self, **kwargs):
        super().__init__(method_name="get_web_url", **kwargs)


class KnownFieldsOnly:
    """A field the serializer does not know is a 400 that names it: `{"is_publik": true}` silently dropped
    would be a 201 that ignored what the client meant. Fields the API sends (read-only ones) may come back."""

    IGNORED = {"csrfmiddlewaretoken"}  # sent by the browsable API's forms

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            unknown = sorted(set(data) - set(self.fields) - self.IGNORED)
            if unknown:
                accepted = ", ".join(sorted(name for name, field in self.fields.items() if not field.read_only))
                message = f"Unknown field. This endpoint accepts: {accepted}."
                raise serializers.ValidationError({name: [message] for name in unknown})
        return super().to_internal_value(data)


class ConstraintCheckingSerializer:
    """Checks the model's database constraints before saving, so a bad value is a 400 that names the
    rule it breaks, not an IntegrityError (a 500)."""

    def validate(self, attrs):
        attrs = super().validate(attrs)
        candidate = copy.copy(self.instance) if self.instance else self.Meta.model()
        many_to_many = {field.name for field in self.Meta.model._meta.many_to_many}
        for name, value in attrs.items():
            if name not in many_to_many:
                setattr(candidate, name, value)
        try:
            candidate.validate_constraints()
        except DjangoValidationError as error:
            errors = error.message_dict
            if "__all__" in errors:
                errors["non_field_errors"] = errors.pop("__all__")
            raise serializers.ValidationError(errors) from None
        return attrs


class LikedField(serializers.BooleanField):
    """Whether the listener asking likes the row: the viewsets annotate it (with_liked) for a logged-in
    listener, in the same query as the rows; anonymous visitors like nothing."""

    def __init__(self, **kwargs):
        super().__init__(read_only=True, help_text="You like it (always false when you are not logged in).", **kwargs)

    def get_attribute(self, instance):
        return getattr(instance, "liked", False)


class CatalogueSerializer(KnownFieldsOnly, ConstraintCheckingSerializer, serializers.HyperlinkedModelSerializer):
    serializer_url_field = IdentityUrlField
    web_url = PageUrlField()

    @extend_schema_field(serializers.URLField())
    def get_web_url(self, obj):
        request, model = self.context["request"], type(obj)
        if type(obj.pk) is not int:
            return request.build_absolute_uri(obj.get_absolute_url())
        # Every catalogue page's address is its kind's URL name with the id: one reverse() per answer.
        maker = _url_maker(request, ("page", model), lambda id: request.build_absolute_uri(model(pk=id).get_absolute_url()))
        return maker(obj.pk)


class GenreSerializer(KnownFieldsOnly, ConstraintCheckingSerializer, serializers.HyperlinkedModelSerializer):
    serializer_url_field = IdentityUrlField
    # Unicode slugs: a plain string in the schema (a JSON Schema \w pattern would be ASCII-only).
    slug = serializers.CharField(max_length=100, validators=[validate_unicode_slug, UniqueValidator(Genre.objects.all())])

    class Meta:
        model = Genre
        fields = ["id", "url", "name", "slug"]
        extra_kwargs = {"url": {"view_name": "api:genre-detail"}}


class ArtistSerializer(CatalogueSerializer):
    slug = serializers.CharField(read_only=True, help_text="Made from the name.")
    albums_url = IdentityUrlField(view_name="api:artist-albums", read_only=True)
    liked = LikedField()

    class Meta:
        model = Artist
        fields = [
            "id", "url", "web_url", "albums_url", "name", "sort_name", "slug", "country", "year_formed", "bio",
            "image_url", "liked", "created_at",
        ]
        read_only_fields = ["created_at"]
        extra_kwargs = {
            "url": {"view_name": "api:artist-detail"},
            "sort_name": {"required": False},
        }


def _cover_sizes_serializer():
    """{"64": url, "300": url, "600": url}: one field per stored width, so the schema names each."""
    fields = {str(size): serializers.URLField(help_text=f"{size} px wide, WebP.") for size in COVER_SIZES}
    return type("AlbumCoverSerializer", (serializers.Serializer,), fields)


AlbumCoverSerializer = _cover_sizes_serializer()


class AlbumSerializer(CatalogueSerializer):
    artist = serializers.PrimaryKeyRelatedField(queryset=Artist.objects.all())
    artist_name = serializers.CharField(source="artist.name", read_only=True)
    artist_url = RelatedUrlField(source="artist", view_name="api:artist-detail", read_only=True)
    genres = serializers.SlugRelatedField(slug_field="slug", queryset=Genre.objects.all(), many=True, required=False)
    songs_url = IdentityUrlField(view_name="api:album-songs", read_only=True)
    liked = LikedField()
    slug = serializers.CharField(read_only=True, help_text="Made from the title.")
    cover = serializers.SerializerMethodField(
        help_text="The album's own cover in each stored width (absolute URLs); null without one (see cover_url)."
    )

    class Meta:
        model = Album
        fields = [
            "id", "url", "web_url", "songs_url", "title", "slug", "artist", "artist_name", "artist_url",
            "release_date", "album_type", "genres", "cover", "cover_url", "label", "liked", "created_at",
        ]
        read_only_fields = ["created_at"]
        extra_kwargs = {"url": {"view_name": "api:album-detail"}}

    @extend_schema_field(AlbumCoverSerializer(allow_null=True))
    def get_cover(self, album):
        if not album.cover_hash:
            return None
        request = self.context["request"]
        return {str(size): request.build_absolute_uri(album.cover_image_url(size)) for size in COVER_SIZES}


class AudioFactsSerializer(serializers.ModelSerializer):
    """The facts of the file a song plays, read from its bytes."""

    class Meta:
        model = AudioFile
        fields = ["format", "codec", "bitrate", "sample_rate", "channels", "duration_ms", "size"]
        read_only_fields = fields


class SongSerializer(CatalogueSerializer):
    album = serializers.PrimaryKeyRelatedField(queryset=Album.objects.all())
    album_title = serializers.CharField(source="album.title", read_only=True)
    album_url = RelatedUrlField(source="album", view_name="api:album-detail", read_only=True)
    artist = serializers.PrimaryKeyRelatedField(queryset=Artist.objects.all())
    artist_name = serializers.CharField(source="artist.name", read_only=True)
    artist_url = RelatedUrlField(source="artist", view_name="api:artist-detail", read_only=True)
    genre = serializers.SlugRelatedField(slug_field="slug", queryset=Genre.objects.all(), allow_null=True, required=False)
    release_year = serializers.IntegerField(source="album.release_year", read_only=True, allow_null=True)
    playable = serializers.BooleanField(source="is_playable", read_only=True, help_text="The song has an audio file.")
    audio_url = serializers.SerializerMethodField(
        help_text="Where to stream the song (HTTP ranges; logged-in listeners, or anyone when the server allows "
        "anonymous streaming); null when it is not playable."
    )
    audio = AudioFactsSerializer(read_only=True, allow_null=True, help_text="The file it plays; null when none.")
    liked = LikedField()

    class Meta:
        model = Song
        fields = [
            "id", "url", "web_url", "title", "album", "album_title", "album_url", "artist", "artist_name",
            "artist_url", "disc_number", "track_number", "duration_ms", "explicit", "composer", "genre",
            "release_year", "popularity", "playable", "audio_url", "audio", "liked", "created_at",
        ]
        read_only_fields = ["created_at"]
        extra_kwargs = {"url": {"view_name": "api:song-detail"}}

    def to_representation(self, song):
        """What DRF's generic walk over the fields gives, written out: 50 rows a page, 23 fields a row, and the
        walk (attribute lookups, None checks, a field object per value) cost more than the page's query
        (issue 19). test_api_rows.py holds it to the generic one."""
        if type(self) is not SongSerializer or "request" not in self.context:
            return super().to_representation(song)
        fields, album, artist, audio = self.fields, song.album, song.artist, song.audio

        def whole(value):
            return None if value is None else int(value)

        return {
            "id": song.pk,
            "url": fields["url"].to_representation(song),
            "web_url": self.get_web_url(song),
            "title": song.title,
            "album": song.album_id,
            "album_title": album.title,
            "album_url": fields["album_url"].to_representation(album),
            "artist": song.artist_id,
            "artist_name": artist.name,
            "artist_url": fields["artist_url"].to_representation(artist),
            "disc_number": whole(song.disc_number),
            "track_number": whole(song.track_number),
            "duration_ms": whole(song.duration_ms),
            "explicit": bool(song.explicit),
            "composer": song.composer,
            "genre": song.genre.slug if song.genre_id is not None else None,
            "release_year": album.release_year,
            "popularity": whole(song.popularity),
            "playable": song.is_playable,
            "audio_url": self.get_audio_url(song),
            "audio": None if audio is None else fields["audio"].to_representation(audio),
            "liked": bool(getattr(song, "liked", False)),
            "created_at": fields["created_at"].to_representation(song.created_at),
        }

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_audio_url(self, song):
        if not song.is_playable:
            return None
        return self.context["request"].build_absolute_uri(song.audio.get_absolute_url())


class SyncedLineSerializer(serializers.Serializer):
    time_ms = serializers.IntegerField(min_value=0, help_text="When the line is sung, from the start of the song.")
    text = serializers.CharField(allow_blank=True)


class LyricsSerializer(serializers.Serializer):
    lyrics = serializers.CharField(allow_blank=True, help_text='Plain text, a line per line sung; "" when none.')
    synced = SyncedLineSerializer(
        many=True, allow_null=True, help_text="The lines with their times, in time order; null when not synced."
    )

    def to_representation(self, song):
        synced = song.synced_lyrics
        return {
            "lyrics": song.lyrics,
            "synced": None if synced is None else [{"time_ms": time_ms, "text": text} for time_ms, text in synced],
        }


class WaveformSerializer(serializers.Serializer):
    peaks = serializers.ListField(
        child=serializers.IntegerField(min_value=0, max_value=255),
        help_text="The loudest sample of each equal slice of the song, 0 (silence) to 255 (full scale).",
    )
    duration_ms = serializers.IntegerField(min_value=0, help_text="The length the peaks span.")

    def to_representation(self, audio):
        return {"peaks": list(bytes(audio.peaks)), "duration_ms": audio.duration_ms}


class PlaylistSerializer(CatalogueSerializer):
    owner = serializers.CharField(source="owner.get_username", read_only=True)
    entry_count = serializers.IntegerField(read_only=True)
    total_duration_ms = serializers.IntegerField(read_only=True)
    entries_url = IdentityUrlField(view_name="api:playlist-entries", read_only=True)

    class Meta:
        model = Playlist
        fields = [
            "id", "url", "web_url", "entries_url", "name", "description", "is_public", "owner", "entry_count",
            "total_duration_ms", "created_at", "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]
        extra_kwargs = {"url": {"view_name": "api:playlist-detail"}}

    def to_representation(self, playlist):
        """DRF's generic walk written out, as for SongSerializer: it cost a page of 50 playlists more than their
        query (issue 19). test_api_rows.py holds it to the generic one."""
        if type(self) is not PlaylistSerializer or "request" not in self.context:
            return super().to_representation(playlist)
        fields = self.fields
        return {
            "id": playlist.pk,
            "url": fields["url"].to_representation(playlist),
            "web_url": self.get_web_url(playlist),
            "entries_url": fields["entries_url"].to_representation(playlist),
            "name": playlist.name,
            "description": playlist.description,
            "is_public": bool(playlist.is_public),
            "owner": playlist.owner.get_username(),
            "entry_count": int(playlist.entry_count),
            "total_duration_ms": int(playlist.total_duration_ms),
            "created_at": fields["created_at"].to_representation(playlist.created_at),
            "updated_at": fields["updated_at"].to_representation(playlist.updated_at),
        }

    def validate_name(self, name):
        owner = self.instance.owner if self.instance else self.context["request"].user
        if Playlist.objects.name_taken(owner, name, exclude=self.instance):
            raise serializers.ValidationError(Playlist.NAME_TAKEN)
        return name

    def create(self, validated_data):
        playlist = self.update(Playlist(), validated_data)
        playlist.entry_count = playlist.total_duration_ms = 0  # what for_listing() counts for a new one
        return playlist

    def update(self, playlist, validated_data):
        for name, value in validated_data.items():
            setattr(playlist, name, value)
        try:
            playlist.save_with_unique_name()  # the name may have been taken since validate_name
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.message_dict) from None
        return playlist


class EntrySongSerializer(serializers.ModelSerializer):
    """A song inside a playlist entry: enough to show a row without another call."""

    url = IdentityUrlField(view_name="api:song-detail")
    album_title = serializers.CharField(source="album.title")
    artist_name = serializers.CharField(source="artist.name")

    class Meta:
        model = Song
        fields = ["id", "url", "title", "artist", "artist_name", "album", "album_title", "duration_ms"]


class PlaylistEntrySerializer(serializers.ModelSerializer):
    song = EntrySongSerializer(read_only=True)
    added_by = serializers.CharField(source="added_by.get_username", read_only=True, allow_null=True)

    class Meta:
        model = PlaylistEntry
        fields = ["id", "position", "song", "added_by", "added_at"]


class AddEntrySerializer(KnownFieldsOnly, serializers.Serializer):
    song = serializers.PrimaryKeyRelatedField(queryset=Song.objects.all(), help_text="Id of the song to add.")
    position = serializers.IntegerField(
        min_value=1, required=False, help_text="Where to insert it (1 = first); default: at the end."
    )


class MoveEntrySerializer(KnownFieldsOnly, serializers.Serializer):
    position = serializers.IntegerField(min_value=1, help_text="The entry's new position (1 = first).")


class AuthTokenSerializer(KnownFieldsOnly, authtoken.AuthTokenSerializer):
    """Your username and password, for your API token."""


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    is_staff = serializers.BooleanField()
    bio = serializers.CharField()
    is_public = serializers.BooleanField()
    time_zone = serializers.CharField(help_text="Your days, streaks and hours of the day are counted in this IANA zone.")
    stats_public = serializers.BooleanField(help_text="Others may see your listening stats (on a public profile).")
    playlists_url = serializers.URLField()


class MyProfileSerializer(KnownFieldsOnly, serializers.ModelSerializer):
    class Meta:
        model = Profile
        fields = ["bio", "is_public", "time_zone", "stats_public"]

    @transaction.atomic
    def update(self, profile, validated_data):
        """A new time zone goes through record.change_time_zone: the listener's days and months move with it."""
        zone = validated_data.pop("time_zone", None)
        if profile.pk is None:
            profile, _ = Profile.objects.get_or_create(user=profile.user)
        for name, value in validated_data.items():
            setattr(profile, name, value)
        # Only the fields sent: a whole-row save would write back a time zone read before another request
        # changed it, and leave the rollups in the other zone.
        if validated_data:
            profile.save(update_fields=list(validated_data))
        if zone is not None:
            # Compared under the listener's lock: a rebuild only when the zone really changes.
            profile = record.change_time_zone(profile.user, zone)
        return profile


class CollaboratorSerializer(KnownFieldsOnly, serializers.Serializer):
    user_id = serializers.IntegerField(source="user.pk", read_only=True)
    username = serializers.CharField(max_length=150)
    level = serializers.ChoiceField(choices=Collaborator.Level.choices)

    def to_representation(self, collaborator):
        return {"user_id": collaborator.user_id, "username": collaborator.user.get_username(), "level": collaborator.level}


class ShareSerializer(KnownFieldsOnly, serializers.Serializer):
    username = serializers.CharField(max_length=150, help_text="Who to share the playlist with.")
    message = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class ProfileSerializer(serializers.Serializer):
    username = serializers.CharField()
    is_public = serializers.BooleanField()
    bio = serializers.CharField(allow_null=True, help_text="Null when the profile is private.")
    followers = serializers.IntegerField(allow_null=True)
    following = serializers.IntegerField(allow_null=True)
    you_follow = serializers.BooleanField(allow_null=True, help_text="Null when you are not logged in.")


class PlaylistImportSerializer(KnownFieldsOnly, serializers.Serializer):
    file = serializers.FileField(help_text="An .m3u, .m3u8 or .xspf file, up to 1 MB and 10,000 songs.")
    name = serializers.CharField(
        max_length=200, required=False, allow_blank=True, validators=[refuse_control_characters],
        help_text="Default: the playlist's title in the file, else the file's name.",
    )

    def validate(self, attrs):
        try:
            attrs["name"], attrs["items"] = read_import(
                upload=attrs["file"], name=attrs.get("name"), owner=self.context["request"].user
            )
        except DjangoValidationError as error:
            raise serializers.ValidationError({"file": error.messages}) from None
        return attrs


class ImportedEntrySerializer(serializers.Serializer):
    number = serializers.IntegerField()
    artist = serializers.CharField()
    title = serializers.CharField()
    album = serializers.CharField()
    song = serializers.IntegerField(allow_null=True)
    note = serializers.CharField()


class PlaylistImportReportSerializer(serializers.Serializer):
    playlist = PlaylistSerializer()
    matched = serializers.IntegerField()
    missed = serializers.IntegerField()
    entries = ImportedEntrySerializer(many=True, help_text="The first 500 entries of the file, in its order.")
    entries_not_shown = serializers.IntegerField(help_text="How many entries of the file `entries` leaves out.")


class SearchHistorySerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    query = serializers.CharField(read_only=True)
    type = serializers.CharField(source="kind", read_only=True, help_text='artist, album, song, playlist, or "" for all.')
    searched_at = serializers.DateTimeField(read_only=True)


class SearchPageSerializer(serializers.Serializer):
    """One type's results, a page at a time (`?type=`)."""

    count = serializers.IntegerField()
    count_is_estimate = serializers.BooleanField()
    page = serializers.IntegerField()
    pages = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    more_than_count = serializers.BooleanField(help_text="True when more matched than the best `count` shown.")


class ArtistSearchPageSerializer(SearchPageSerializer):
    results = ArtistSerializer(many=True)


class AlbumSearchPageSerializer(SearchPageSerializer):
    results = AlbumSerializer(many=True)


class SongSearchPageSerializer(SearchPageSerializer):
    results = SongSerializer(many=True)


class PlaylistSearchPageSerializer(SearchPageSerializer):
    results = PlaylistSerializer(many=True)


class SearchGroupSerializer(serializers.Serializer):
    more = serializers.URLField(allow_null=True, help_text="This type's results page by page; null when these are all.")


class ArtistSearchGroupSerializer(SearchGroupSerializer):
    results = ArtistSerializer(many=True)


class AlbumSearchGroupSerializer(SearchGroupSerializer):
    results = AlbumSerializer(many=True)


class SongSearchGroupSerializer(SearchGroupSerializer):
    results = SongSerializer(many=True)


class PlaylistSearchGroupSerializer(SearchGroupSerializer):
    results = PlaylistSerializer(many=True)


class SearchGroupsSerializer(serializers.Serializer):
    artists = ArtistSearchGroupSerializer()
    albums = AlbumSearchGroupSerializer()
    songs = SongSearchGroupSerializer()
    playlists = PlaylistSearchGroupSerializer()


class SearchOverviewSerializer(serializers.Serializer):
    """Without `?type=`: the best few of each type."""

    query = serializers.CharField(help_text="The query as searched: spaces collapsed.")
    results = SearchGroupsSerializer()
