"""The REST API under /api/v1/. Reads use the same QuerySet methods as the pages."""

from urllib.parse import urlencode

import django_filters
from django import forms
from django.db.models.functions import Lower
from django.shortcuts import get_object_or_404
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import filters, mixins, permissions, status, viewsets
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.decorators import action, api_view, permission_classes
from rest_framework.exceptions import NotAuthenticated, NotFound, ValidationError
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.reverse import reverse

from SyroMusic.forms import ListenerField, PlaylistImportForm, check_not_owner
from SyroMusic.models import Album, Artist, Collaborator, Follow, Genre, Playlist, PlaylistEntry, Profile, Song
from SyroMusic.playlist_files import CONTENT_TYPES, EXPORTERS, match_items
from SyroMusic import caching
from SyroMusic import search as searching
from SyroMusic.models import SearchHistory
from SyroMusic.services import playlist_create_from_matches, playlist_share

from . import serializers
from .pagination import CatalogueListPagination, CataloguePageNumberPagination, SearchPagination


class StaffWritesOrReadOnly(permissions.DjangoModelPermissions):
    """Anyone reads; writing needs a staff account with the model's add/change/delete permission."""

    def has_permission(self, request, view):
        if request.method in permissions.SAFE_METHODS:
            return True
        return bool(request.user and request.user.is_staff) and super().has_permission(request, view)


class StrictOrderingFilter(filters.OrderingFilter):
    """`?ordering=` as the pages sort: an unknown field is a 400 that names it, names and titles
    sort case-insensitively (the indexed way), and the id breaks ties in the same direction."""

    def get_ordering(self, request, queryset, view):
        raw = request.query_params.get(self.ordering_param)
        if raw:
            valid = {name for name, _ in self.get_valid_fields(queryset, view, {"request": request})}
            unknown = [term for term in raw.split(",") if term.strip().lstrip("-") not in valid]
            if unknown:
                raise ValidationError(
                    {self.ordering_param: [f"Unknown field(s) {', '.join(unknown)}. Use: {', '.join(sorted(valid))}."]}
                )
        ordering = super().get_ordering(request, queryset, view)
        # A unique last key, so pages neither repeat nor skip rows that tie.
        if ordering and not any(term.lstrip("-") in ("id", "pk") for term in ordering):
            ordering = [*ordering, "-id" if ordering[-1].startswith("-") else "id"]
        return ordering

    def filter_queryset(self, request, queryset, view):
        ordering = self.get_ordering(request, queryset, view)
        if not ordering:
            return queryset
        folded = getattr(view, "case_insensitive_ordering", ())
        terms = []
        for term in ordering:
            name = term.lstrip("-")
            if name in folded:
                term = Lower(name).desc() if term.startswith("-") else Lower(name).asc()
            terms.append(term)
        return queryset.order_by(*terms)


class YearFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField


class YearRangeFilter(django_filters.FilterSet):
    year_min = YearFilter(
        method="filter_year_min", min_value=1, max_value=9999, help_text="Released in this year or later."
    )
    year_max = YearFilter(
        method="filter_year_max", min_value=1, max_value=9999, help_text="Released in this year or earlier."
    )
    release_date_field = "release_date"

    def filter_year_min(self, queryset, name, value):
        return queryset.filter(**{f"{self.release_date_field}__year__gte": value})

    def filter_year_max(self, queryset, name, value):
        return queryset.filter(**{f"{self.release_date_field}__year__lte": value})


class AlbumFilter(YearRangeFilter):
    genre = django_filters.CharFilter(field_name="genres__slug", help_text="Genre slug.")
    type = django_filters.ChoiceFilter(field_name="album_type", choices=Album.Type.choices)

    class Meta:
        model = Album
        fields = ["artist", "genre", "type", "year_min", "year_max"]


class SongFilter(YearRangeFilter):
    genre = django_filters.CharFilter(field_name="genre__slug", help_text="Genre slug.")
    type = django_filters.ChoiceFilter(field_name="album__album_type", choices=Album.Type.choices)
    release_date_field = "album__release_date"

    class Meta:
        model = Song
        fields = ["artist", "album", "genre", "type", "explicit", "year_min", "year_max"]


class CatalogueViewSet(viewsets.ModelViewSet):
    permission_classes = [StaffWritesOrReadOnly]
    pagination_class = CatalogueListPagination
    filter_backends = [django_filters.rest_framework.DjangoFilterBackend, filters.SearchFilter, StrictOrderingFilter]

    # Reads are the same for everyone: answered from the cache until the catalogue changes.
    list = caching.api_read(caching.CATALOGUE)(viewsets.ModelViewSet.list)
    retrieve = caching.api_read(caching.CATALOGUE)(viewsets.ModelViewSet.retrieve)

    def nested_page(self, queryset, serializer_class):
        """A page of a nested list (an artist's albums, an album's songs)."""
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(serializer_class(page, many=True, context={"request": self.request}).data)


class GenreViewSet(CatalogueViewSet):
    """Genres, by name."""

    queryset = Genre.objects.order_by("name", "id")
    serializer_class = serializers.GenreSerializer
    search_fields = ["name"]
    ordering_fields = ["name", "id"]


class ArtistViewSet(CatalogueViewSet):
    """Artists, filed by sort name ("The Beatles" under B)."""

    queryset = Artist.objects.all()
    serializer_class = serializers.ArtistSerializer
    filterset_fields = ["country"]
    search_fields = ["name", "sort_name"]
    ordering_fields = ["sort_name", "name", "created_at", "year_formed", "id"]
    case_insensitive_ordering = ["sort_name", "name"]

    @extend_schema(responses=serializers.AlbumSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=CataloguePageNumberPagination)
    @caching.api_read(caching.CATALOGUE)
    def albums(self, request, pk=None):
        """The artist's albums, newest first."""
        artist = get_object_or_404(Artist, pk=pk)
        albums = artist.albums.for_listing().prefetch_related("genres").order_by("-release_date", "-id")
        return self.nested_page(albums, serializers.AlbumSerializer)


class AlbumViewSet(CatalogueViewSet):
    """Albums, with their artist's name and their genres."""

    queryset = Album.objects.for_listing().prefetch_related("genres")
    serializer_class = serializers.AlbumSerializer
    filterset_class = AlbumFilter
    search_fields = ["title", "artist__name"]
    ordering_fields = ["title", "release_date", "artist__sort_name", "created_at", "id"]
    case_insensitive_ordering = ["title", "artist__sort_name"]

    @extend_schema(responses=serializers.SongSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=CataloguePageNumberPagination)
    @caching.api_read(caching.CATALOGUE)
    def songs(self, request, pk=None):
        """The album's songs in tracklist order (disc, then track)."""
        album = get_object_or_404(Album, pk=pk)
        return self.nested_page(album.songs.for_listing().in_tracklist_order(), serializers.SongSerializer)


class SongViewSet(CatalogueViewSet):
    """Songs, with album, artist and genre names: no extra call per row."""

    queryset = Song.objects.for_listing()
    serializer_class = serializers.SongSerializer
    filterset_class = SongFilter
    search_fields = ["title", "artist__name", "album__title"]
    ordering_fields = ["title", "duration_ms", "popularity", "artist__sort_name", "track_number", "created_at", "id"]
    case_insensitive_ordering = ["title", "artist__sort_name"]


class PlaylistAccess(permissions.BasePermission):
    """Reading a visible playlist is for anyone who sees it. Entries: collaborators with edit rights.
    The playlist's details: the owner and admin collaborators. Deleting it: the owner."""

    def has_object_permission(self, request, view, playlist):
        if request.method in permissions.SAFE_METHODS:
            return True
        if view.action in ("entries", "entry"):
            return playlist.allows(request.user, "edit")
        if view.action in ("collaborators", "collaborator", "share"):
            return playlist.allows(request.user, "admin")
        return playlist.allows(request.user, "owner" if view.action == "destroy" else "admin")


@extend_schema_view(
    list=extend_schema(description="Public playlists, and your own private ones when you are logged in."),
)
class PlaylistViewSet(viewsets.ModelViewSet):
    """Playlists. A private playlist is 404 to everyone but its owner."""

    serializer_class = serializers.PlaylistSerializer
    permission_classes = [permissions.IsAuthenticatedOrReadOnly, PlaylistAccess]
    pagination_class = CatalogueListPagination
    filter_backends = [filters.SearchFilter, StrictOrderingFilter]
    search_fields = ["name", "description"]
    ordering_fields = ["name", "updated_at", "created_at", "id"]
    case_insensitive_ordering = ["name"]

    def get_queryset(self):
        user = self.request.user
        return Playlist.objects.visible_to(user).with_access_for(user).for_listing().order_by("-updated_at", "-id")

    def perform_create(self, serializer):
        serializer.save(owner=self.request.user)

    @extend_schema(
        methods=["get"], responses=serializers.PlaylistEntrySerializer(many=True),
        description="The entries in position order.",
    )
    @extend_schema(
        methods=["post"], request=serializers.AddEntrySerializer, responses={201: serializers.PlaylistEntrySerializer},
        description="Add a song (the same song may appear more than once), at the end or at `position`.",
    )
    @action(detail=True, methods=["get", "post"], pagination_class=CataloguePageNumberPagination)
    def entries(self, request, pk=None):
        playlist = self.get_object()
        if request.method == "POST":
            data = serializers.AddEntrySerializer(data=request.data)
            data.is_valid(raise_exception=True)
            entry = playlist.add_song(data.validated_data["song"], by=request.user, position=data.validated_data.get("position"))
            entry = self._entries(playlist).get(pk=entry.pk)
            return Response(
                serializers.PlaylistEntrySerializer(entry, context={"request": request}).data,
                status=status.HTTP_201_CREATED,
            )
        page = self.paginate_queryset(self._entries(playlist))
        return self.get_paginated_response(serializers.PlaylistEntrySerializer(page, many=True, context={"request": request}).data)

    @extend_schema(
        methods=["patch"], request=serializers.MoveEntrySerializer, responses=serializers.PlaylistEntrySerializer,
        description="Move the entry to `position`; the entries between shift by one.",
    )
    @extend_schema(methods=["delete"], responses={204: None}, description="Remove the entry; later ones move up.")
    @action(detail=True, methods=["patch", "delete"], url_path=r"entries/(?P<entry_id>\d+)", url_name="entry")
    def entry(self, request, pk=None, entry_id=None):
        playlist = self.get_object()
        entry = get_object_or_404(PlaylistEntry, pk=entry_id, playlist=playlist)
        try:
            if request.method == "DELETE":
                playlist.remove_entry(entry)
                return Response(status=status.HTTP_204_NO_CONTENT)
            data = serializers.MoveEntrySerializer(data=request.data)
            data.is_valid(raise_exception=True)
            playlist.move_entry(entry, to=data.validated_data["position"])
        except PlaylistEntry.DoesNotExist:
            raise NotFound("This entry was removed meanwhile.") from None
        except ValueError as error:
            raise ValidationError({"position": [str(error)]}) from None
        return Response(serializers.PlaylistEntrySerializer(self._entries(playlist).get(pk=entry.pk), context={"request": request}).data)

    @extend_schema(
        parameters=[OpenApiParameter("kind", str, OpenApiParameter.PATH, enum=list(EXPORTERS), description="File format.")],
        responses={
            (200, "audio/x-mpegurl"): OpenApiTypes.STR,
            (200, "application/xspf+xml"): OpenApiTypes.STR,
            (200, "application/json"): OpenApiTypes.OBJECT,
        },
        description="The playlist as an M3U8, XSPF or JSPF file; each location is the song's page.",
    )
    @action(detail=True, methods=["get"], url_path=r"export/(?P<kind>m3u8|xspf|jspf)", url_name="export")
    def export(self, request, pk=None, kind=None):
        playlist = self.get_object()
        body = EXPORTERS[kind](playlist, playlist.entries_in_order(), request.build_absolute_uri)
        return HttpResponse(body, content_type=CONTENT_TYPES[kind])

    @extend_schema(methods=["get"], responses=serializers.CollaboratorSerializer(many=True))
    @extend_schema(methods=["post"], request=serializers.CollaboratorSerializer, responses={201: serializers.CollaboratorSerializer},
                   description="Add a collaborator, or change their level (admin collaborators and the owner).")
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def collaborators(self, request, pk=None):
        playlist = self.get_object()
        if request.method == "POST":
            data = serializers.CollaboratorSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            user = listener_named(data.validated_data["username"], playlist)
            collaborator, _ = Collaborator.objects.update_or_create(
                playlist=playlist, user=user, defaults={"level": data.validated_data["level"]}
            )
            return Response(serializers.CollaboratorSerializer(collaborator).data, status=status.HTTP_201_CREATED)
        collaborators = playlist.collaborators.select_related("user").order_by("user__username")
        return Response(serializers.CollaboratorSerializer(collaborators, many=True).data)

    @extend_schema(responses={204: None}, description="Remove a collaborator.")
    @action(detail=True, methods=["delete"], url_path=r"collaborators/(?P<user_id>\d+)", url_name="collaborator")
    def collaborator(self, request, pk=None, user_id=None):
        playlist = self.get_object()
        get_object_or_404(Collaborator, playlist=playlist, user_id=user_id).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=serializers.ShareSerializer, responses={201: None},
                   description="Share with a listener and a message; a private playlist lets them view it.")
    @action(detail=True, methods=["post"])
    def share(self, request, pk=None):
        playlist = self.get_object()
        data = serializers.ShareSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        recipient = listener_named(data.validated_data["username"], playlist)
        playlist_share(playlist=playlist, sender=request.user, recipient=recipient, message=data.validated_data["message"])
        return Response(status=status.HTTP_201_CREATED)

    @extend_schema(request={"multipart/form-data": serializers.PlaylistImportSerializer},
                   responses={201: serializers.PlaylistImportReportSerializer},
                   description="Create a private playlist from an M3U/M3U8/XSPF file; the report says what matched.")
    @action(detail=False, methods=["post"], url_path="import", url_name="import",
            parser_classes=[MultiPartParser], permission_classes=[permissions.IsAuthenticated])
    def import_file(self, request):
        form = PlaylistImportForm(request.data, request.FILES, owner=request.user)
        if not form.is_valid():
            raise ValidationError(form.errors)
        matches = match_items(form.cleaned_data["items"])
        playlist = playlist_create_from_matches(owner=request.user, name=form.cleaned_data["name"], matches=matches)
        playlist = self.get_queryset().get(pk=playlist.pk)
        entries = [
            {"number": item.number, "artist": item.artist, "title": item.title, "album": item.album,
             "song": song.pk if song else None, "note": note}
            for item, song, note in matches
        ]
        found = sum(1 for entry in entries if entry["song"])
        report = {
            "playlist": serializers.PlaylistSerializer(playlist, context={"request": request}).data,
            "matched": found, "missed": len(entries) - found, "entries": entries,
        }
        return Response(report, status=status.HTTP_201_CREATED)

    def _entries(self, playlist):
        return playlist.entries.select_related("song__album", "song__artist", "added_by").order_by("position")


@extend_schema(methods=["get"], responses=serializers.MeSerializer)
@extend_schema(methods=["patch"], request=serializers.MyProfileSerializer, responses=serializers.MeSerializer,
               description="Change your bio and whether your profile is public.")
@api_view(["GET", "PATCH"])
@permission_classes([permissions.IsAuthenticated])
def me(request):
    """Who you are logged in as, with your profile."""
    user = request.user
    profile = Profile.objects.filter(user=user).first() or Profile(user=user)
    if request.method == "PATCH":
        data = serializers.MyProfileSerializer(profile, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        profile = data.save()
    return Response(
        {
            "id": user.pk,
            "username": user.get_username(),
            "is_staff": user.is_staff,
            "bio": profile.bio,
            "is_public": profile.is_public,
            "playlists_url": reverse("api:me-playlists-list", request=request),
        }
    )


class MyPlaylistViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Your own playlists, public and private."""

    serializer_class = serializers.PlaylistSerializer
    permission_classes = [permissions.IsAuthenticated]
    pagination_class = CataloguePageNumberPagination

    def get_queryset(self):
        return Playlist.objects.filter(owner=self.request.user).for_listing().order_by("-updated_at", "-id")


@extend_schema(
    methods=["POST"], request=AuthTokenSerializer,
    responses={200: {"type": "object", "properties": {"token": {"type": "string"}}}},
)
@extend_schema(methods=["DELETE"], request=None, responses={204: None})
@api_view(["POST", "DELETE"])
@permission_classes([permissions.AllowAny])
def token(request):
    """POST username and password to get your API token; DELETE (authenticated) revokes it."""
    if request.method == "DELETE":
        if not request.user.is_authenticated:
            raise NotAuthenticated()
        Token.objects.filter(user=request.user).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)
    credentials = AuthTokenSerializer(data=request.data, context={"request": request})
    credentials.is_valid(raise_exception=True)
    issued, _ = Token.objects.get_or_create(user=credentials.validated_data["user"])
    return Response({"token": issued.key})


def listener_named(username, playlist):
    """The same rules as the pages' forms: an existing listener, not the owner."""
    try:
        return check_not_owner(ListenerField().clean(username), playlist)
    except DjangoValidationError as error:
        raise ValidationError({"username": error.messages}) from None


@extend_schema(methods=["get"], responses=serializers.ProfileSerializer)
@extend_schema(methods=["post", "delete"], request=None, responses=serializers.ProfileSerializer,
               description="POST follows the listener, DELETE unfollows.")
@api_view(["GET", "POST", "DELETE"])
@permission_classes([permissions.IsAuthenticatedOrReadOnly])
def user_profile(request, username):
    """A listener's profile; a private one shows nothing but the name."""
    person = get_object_or_404(get_user_model().objects.select_related("profile"), username=username)
    if request.method == "POST":
        if person.pk == request.user.pk:
            raise ValidationError({"username": ["You cannot follow yourself."]})
        Follow.objects.get_or_create(follower=request.user, followed=person)
    elif request.method == "DELETE":
        Follow.objects.filter(follower=request.user, followed=person).delete()
    profile = getattr(person, "profile", None) or Profile(user=person)
    visible = profile.is_public or person.pk == request.user.pk
    followers, following = Follow.objects.counts_for(person) if visible else (None, None)
    you_follow = (
        Follow.objects.filter(follower=request.user, followed=person).exists() if request.user.is_authenticated else None
    )
    return Response({
        "username": person.get_username(), "is_public": profile.is_public, "bio": profile.bio if visible else None,
        "followers": followers, "following": following, "you_follow": you_follow,
    })


SEARCH_SERIALIZERS = {
    "artist": serializers.ArtistSerializer,
    "album": serializers.AlbumSerializer,
    "song": serializers.SongSerializer,
    "playlist": serializers.PlaylistSerializer,
}


@extend_schema(
    parameters=[
        OpenApiParameter("q", str, required=True, description="What to look for: 2 to 100 characters, case and accents ignored."),
        OpenApiParameter("type", str, enum=list(searching.KINDS), description="One type, paginated; without it, "
                         "the best 5 of each type with a link to the rest."),
        OpenApiParameter("page", int, description="With type: the page (20 results each, the best 1,000 in all)."),
        OpenApiParameter("page_size", int, description="With type: results per page, 1 to 100."),
    ],
    responses=OpenApiTypes.OBJECT,
)
@api_view(["GET"])
@permission_classes([permissions.AllowAny])
def search(request):
    """Search artists, albums, songs and playlists (public ones, and yours): exact names first, then names
    starting with the query, then matches of every word, then (on PostgreSQL) names with typos."""
    raw, kind_name = request.query_params.get("q", ""), request.query_params.get("type", "")
    if kind_name and kind_name not in searching.KINDS:
        raise ValidationError({"type": [f"Unknown type {kind_name!r}: use one of {', '.join(searching.KINDS)}."]})
    try:
        query = searching.parse(raw)
    except searching.SearchError as error:
        raise ValidationError({"q": [str(error)]}) from None
    context = {"request": request}
    if kind_name:
        pagination = SearchPagination()
        matches = searching.Matches(searching.KINDS[kind_name], query, request.user)
        rows = pagination.paginate_queryset(matches, request)
        response = pagination.get_paginated_response(SEARCH_SERIALIZERS[kind_name](rows, many=True, context=context).data)
        response.data["more_than_count"] = matches.capped
    else:
        groups = searching.best(query, request.user, dict.fromkeys(searching.KINDS, 5))
        more = lambda name: f"{reverse('api:search', request=request)}?{urlencode({'q': query.text, 'type': name})}"
        response = Response({
            "query": query.text,
            "results": {
                f"{name}s": {
                    "results": SEARCH_SERIALIZERS[name](group.rows, many=True, context=context).data,
                    "more": more(name) if group.more else None,
                }
                for name, group in groups.items()
            },
        })
    if request.user.is_authenticated:
        searching.remember_search(request.user, query, kind_name)
    return response


@extend_schema(methods=["get"], responses=serializers.SearchHistorySerializer(many=True))
@extend_schema(methods=["delete"], request=None, responses={204: None}, description="Clear your search history.",
               operation_id="search_history_clear")
@api_view(["GET", "DELETE"])
@permission_classes([permissions.IsAuthenticated])
def search_history(request):
    """Your last 20 distinct searches, newest first."""
    if request.method == "DELETE":
        SearchHistory.objects.filter(user=request.user).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)
    return Response(serializers.SearchHistorySerializer(searching.history(request.user), many=True).data)


@extend_schema(request=None, responses={204: None}, operation_id="search_history_remove")
@api_view(["DELETE"])
@permission_classes([permissions.IsAuthenticated])
def search_history_entry(request, pk):
    """Remove one search from your history."""
    deleted, _ = SearchHistory.objects.filter(pk=pk, user=request.user).delete()
    if not deleted:
        raise NotFound("There is no such search in your history.")
    return Response(status=status.HTTP_204_NO_CONTENT)
