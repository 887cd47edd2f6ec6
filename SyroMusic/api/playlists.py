"""Playlists: CRUD, entries, collaborators, sharing and playlist files. A private playlist is 404 to strangers."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models.functions import Lower
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from SyroMusic import caching, playlist_files
from SyroMusic.models import Playlist, PlaylistEntry
from SyroMusic.services import find_listener, playlist_import_file, playlist_share
from SyroMusic.web.limits import DOWNLOADS, SHARES, LimitReached, take_download
from SyroMusic.web.page_cache import api_read
from SyroMusic.web.responses import attachment

from . import serializers
from .filters import BoundedSearchFilter, StrictOrderingFilter
from .pagination import CatalogueListPagination, CataloguePageNumberPagination
from .permissions import PlaylistAccess


def listener_named(username, playlist):
    """The same rule as the pages' forms: an existing listener, not the owner."""
    try:
        return playlist.check_not_owner(find_listener(username))
    except DjangoValidationError as error:
        raise ValidationError({"username": error.messages}) from None


@extend_schema_view(
    list=extend_schema(description="Public playlists, and your own private ones when you are logged in."),
)
class PlaylistViewSet(viewsets.ModelViewSet):
    """Playlists. A private playlist is 404 to everyone but its owner."""

    serializer_class = serializers.PlaylistSerializer
    permission_classes = [permissions.IsAuthenticatedOrReadOnly, PlaylistAccess]
    pagination_class = CatalogueListPagination
    filter_backends = [BoundedSearchFilter, StrictOrderingFilter]
    search_fields = ["name", "description"]
    ordering_fields = {"name": Lower("name"), "updated_at": "updated_at", "created_at": "created_at", "id": "id"}

    # What anonymous clients read (public playlists) is everyone's: answered from the cache until a change.
    # A listener's (their private playlists too) is kept for them alone until a change.
    list = api_read(*caching.AREAS, own=True)(viewsets.ModelViewSet.list)
    retrieve = api_read(*caching.AREAS, own=True)(viewsets.ModelViewSet.retrieve)

    def get_queryset(self):
        user = self.request.user
        return Playlist.objects.visible_to(user).with_access_for(user).for_listing().recently_updated()

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
            try:
                entry = playlist.add_song(data.validated_data["song"], by=request.user, position=data.validated_data.get("position"))
            except DjangoValidationError as error:
                raise ValidationError({"song": error.messages}) from None
            except ValueError as error:  # the position rule, the same as moving's
                raise ValidationError({"position": [str(error)]}) from None
            return Response(self._entry(playlist, entry), status=status.HTTP_201_CREATED)
        page = self.paginate_queryset(playlist.entries_in_order())
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
        return Response(self._entry(playlist, entry))

    def _entry(self, playlist, entry):
        entry = playlist.entries_in_order().get(pk=entry.pk)
        return serializers.PlaylistEntrySerializer(entry, context={"request": self.request}).data

    @extend_schema(
        parameters=[
            OpenApiParameter("kind", str, OpenApiParameter.PATH, enum=[*playlist_files.EXPORTERS], description="File format.")
        ],
        responses={
            (200, "audio/x-mpegurl"): OpenApiTypes.STR,
            (200, "application/xspf+xml"): OpenApiTypes.STR,
            (200, "application/json"): OpenApiTypes.OBJECT,
        },
        description="The playlist as an M3U8, XSPF or JSPF file (an attachment); each location is the song's page. "
                    "Anonymous clients may download 30 files an hour (pages and API together), then get 429.",
    )
    @action(detail=True, methods=["get"], url_path=r"export/(?P<kind>m3u8|xspf|jspf)", url_name="export")
    def export(self, request, pk=None, kind=None):
        playlist = self.get_object()
        wait = take_download(request)
        if wait:
            raise LimitReached(DOWNLOADS, wait)
        return attachment(playlist_files.export(playlist, kind, request.build_absolute_uri))

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
            collaborator, _ = playlist.set_collaborator(user, data.validated_data["level"])
            return Response(serializers.CollaboratorSerializer(collaborator).data, status=status.HTTP_201_CREATED)
        collaborators = playlist.collaborators.select_related("user").order_by("user__username")
        return Response(serializers.CollaboratorSerializer(collaborators, many=True).data)

    @extend_schema(responses={204: None}, description="Remove a collaborator.")
    @action(detail=True, methods=["delete"], url_path=r"collaborators/(?P<user_id>\d+)", url_name="collaborator")
    def collaborator(self, request, pk=None, user_id=None):
        playlist = self.get_object()
        if not playlist.remove_collaborator(user_id):
            raise NotFound("This listener is not a collaborator of the playlist.")
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=serializers.ShareSerializer, responses={201: None},
                   description="Share with a listener and a message; a private playlist lets them view it.")
    @action(detail=True, methods=["post"])
    def share(self, request, pk=None):
        playlist = self.get_object()
        data = serializers.ShareSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        recipient = listener_named(data.validated_data["username"], playlist)
        SHARES.enforce(request.user.pk)  # the pages' limit: one budget for both
        playlist_share(playlist=playlist, sender=request.user, recipient=recipient, message=data.validated_data["message"])
        return Response(status=status.HTTP_201_CREATED)

    @extend_schema(request={"multipart/form-data": serializers.PlaylistImportSerializer},
                   responses={201: serializers.PlaylistImportReportSerializer},
                   description="Create a private playlist from an M3U/M3U8/XSPF file (at most 10,000 entries); the report says "
                               "what matched, row by row for the first 500 entries (`entries_not_shown` counts the rest).")
    @action(detail=False, methods=["post"], url_path="import", url_name="import",
            parser_classes=[MultiPartParser], permission_classes=[permissions.IsAuthenticated])
    def import_file(self, request):
        data = serializers.PlaylistImportSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        report = playlist_import_file(owner=request.user, name=data.validated_data["name"], items=data.validated_data["items"])
        playlist = self.get_queryset().get(pk=report.playlist.pk)
        entries = [
            {"number": item.number, "artist": item.artist, "title": item.title, "album": item.album,
             "song": song.pk if song else None, "note": note}
            for item, song, note in report.reported
        ]
        body = {
            "playlist": serializers.PlaylistSerializer(playlist, context={"request": request}).data,
            "matched": report.found, "missed": report.missed, "entries": entries, "entries_not_shown": report.unreported,
        }
        return Response(body, status=status.HTTP_201_CREATED)


class MyPlaylistViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Your own playlists, public and private."""

    serializer_class = serializers.PlaylistSerializer
    permission_classes = [permissions.IsAuthenticated]
    pagination_class = CataloguePageNumberPagination

    def get_queryset(self):
        return Playlist.objects.filter(owner=self.request.user).for_listing().recently_updated()
