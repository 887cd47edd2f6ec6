"""API representations: ids, API URLs and page URLs, and the related names a client needs per row."""

import copy

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_unicode_slug
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.validators import UniqueValidator

from SyroMusic.models import Album, Artist, Collaborator, Genre, Playlist, PlaylistEntry, Profile, Song
from SyroMusic.playlist_files import read_import


class PageUrlField(serializers.SerializerMethodField):
    """The absolute URL of the object's page on the site."""

    def __init__(self, **kwargs):
        super().__init__(method_name="get_web_url", **kwargs)


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


class CatalogueSerializer(ConstraintCheckingSerializer, serializers.HyperlinkedModelSerializer):
    web_url = PageUrlField()

    @extend_schema_field(serializers.URLField())
    def get_web_url(self, obj):
        return self.context["request"].build_absolute_uri(obj.get_absolute_url())


class GenreSerializer(ConstraintCheckingSerializer, serializers.HyperlinkedModelSerializer):
    # Unicode slugs: a plain string in the schema (a JSON Schema \w pattern would be ASCII-only).
    slug = serializers.CharField(max_length=100, validators=[validate_unicode_slug, UniqueValidator(Genre.objects.all())])

    class Meta:
        model = Genre
        fields = ["id", "url", "name", "slug"]
        extra_kwargs = {"url": {"view_name": "api:genre-detail"}}


class ArtistSerializer(CatalogueSerializer):
    slug = serializers.CharField(read_only=True, help_text="Made from the name.")
    albums_url = serializers.HyperlinkedIdentityField(view_name="api:artist-albums", read_only=True)

    class Meta:
        model = Artist
        fields = [
            "id", "url", "web_url", "albums_url", "name", "sort_name", "slug", "country", "year_formed", "bio",
            "image_url", "created_at",
        ]
        read_only_fields = ["created_at"]
        extra_kwargs = {
            "url": {"view_name": "api:artist-detail"},
            "sort_name": {"required": False},
        }


class AlbumSerializer(CatalogueSerializer):
    artist = serializers.PrimaryKeyRelatedField(queryset=Artist.objects.all())
    artist_name = serializers.CharField(source="artist.name", read_only=True)
    artist_url = serializers.HyperlinkedRelatedField(source="artist", view_name="api:artist-detail", read_only=True)
    genres = serializers.SlugRelatedField(slug_field="slug", queryset=Genre.objects.all(), many=True, required=False)
    songs_url = serializers.HyperlinkedIdentityField(view_name="api:album-songs", read_only=True)
    slug = serializers.CharField(read_only=True, help_text="Made from the title.")

    class Meta:
        model = Album
        fields = [
            "id", "url", "web_url", "songs_url", "title", "slug", "artist", "artist_name", "artist_url",
            "release_date", "album_type", "genres", "cover_url", "label", "created_at",
        ]
        read_only_fields = ["created_at"]
        extra_kwargs = {"url": {"view_name": "api:album-detail"}}


class SongSerializer(CatalogueSerializer):
    album = serializers.PrimaryKeyRelatedField(queryset=Album.objects.all())
    album_title = serializers.CharField(source="album.title", read_only=True)
    album_url = serializers.HyperlinkedRelatedField(source="album", view_name="api:album-detail", read_only=True)
    artist = serializers.PrimaryKeyRelatedField(queryset=Artist.objects.all())
    artist_name = serializers.CharField(source="artist.name", read_only=True)
    artist_url = serializers.HyperlinkedRelatedField(source="artist", view_name="api:artist-detail", read_only=True)
    genre = serializers.SlugRelatedField(slug_field="slug", queryset=Genre.objects.all(), allow_null=True, required=False)
    release_year = serializers.IntegerField(source="album.release_year", read_only=True, allow_null=True)

    class Meta:
        model = Song
        fields = [
            "id", "url", "web_url", "title", "album", "album_title", "album_url", "artist", "artist_name",
            "artist_url", "disc_number", "track_number", "duration_ms", "explicit", "composer", "genre",
            "release_year", "popularity", "created_at",
        ]
        read_only_fields = ["created_at"]
        extra_kwargs = {"url": {"view_name": "api:song-detail"}}


class PlaylistSerializer(CatalogueSerializer):
    owner = serializers.CharField(source="owner.get_username", read_only=True)
    entry_count = serializers.IntegerField(read_only=True)
    total_duration_ms = serializers.IntegerField(read_only=True)
    entries_url = serializers.HyperlinkedIdentityField(view_name="api:playlist-entries", read_only=True)

    class Meta:
        model = Playlist
        fields = [
            "id", "url", "web_url", "entries_url", "name", "description", "is_public", "owner", "entry_count",
            "total_duration_ms", "created_at", "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]
        extra_kwargs = {"url": {"view_name": "api:playlist-detail"}}

    def validate_name(self, name):
        owner = self.instance.owner if self.instance else self.context["request"].user
        if Playlist.objects.name_taken(owner, name, exclude=self.instance):
            raise serializers.ValidationError(Playlist.NAME_TAKEN)
        return name


class EntrySongSerializer(serializers.ModelSerializer):
    """A song inside a playlist entry: enough to show a row without another call."""

    url = serializers.HyperlinkedIdentityField(view_name="api:song-detail")
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


class AddEntrySerializer(serializers.Serializer):
    song = serializers.PrimaryKeyRelatedField(queryset=Song.objects.all(), help_text="Id of the song to add.")
    position = serializers.IntegerField(
        min_value=1, required=False, help_text="Where to insert it (1 = first); default: at the end."
    )


class MoveEntrySerializer(serializers.Serializer):
    position = serializers.IntegerField(min_value=1, help_text="The entry's new position (1 = first).")


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    is_staff = serializers.BooleanField()
    bio = serializers.CharField()
    is_public = serializers.BooleanField()
    playlists_url = serializers.URLField()


class MyProfileSerializer(serializers.ModelSerializer):
    class Meta:
        model = Profile
        fields = ["bio", "is_public"]


class CollaboratorSerializer(serializers.Serializer):
    user_id = serializers.IntegerField(source="user.pk", read_only=True)
    username = serializers.CharField(max_length=150)
    level = serializers.ChoiceField(choices=Collaborator.Level.choices)

    def to_representation(self, collaborator):
        return {"user_id": collaborator.user_id, "username": collaborator.user.get_username(), "level": collaborator.level}


class ShareSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150, help_text="Who to share the playlist with.")
    message = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class ProfileSerializer(serializers.Serializer):
    username = serializers.CharField()
    is_public = serializers.BooleanField()
    bio = serializers.CharField(allow_null=True, help_text="Null when the profile is private.")
    followers = serializers.IntegerField(allow_null=True)
    following = serializers.IntegerField(allow_null=True)
    you_follow = serializers.BooleanField(allow_null=True, help_text="Null when you are not logged in.")


class PlaylistImportSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="An .m3u, .m3u8 or .xspf file, up to 1 MB.")
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, help_text="Default: the file's name.")

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
    entries = ImportedEntrySerializer(many=True)


class SearchHistorySerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    query = serializers.CharField(read_only=True)
    type = serializers.CharField(source="kind", read_only=True, help_text='artist, album, song, playlist, or "" for all.')
    searched_at = serializers.DateTimeField(read_only=True)
