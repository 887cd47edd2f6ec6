"""The catalogue: genres, artists, albums and songs. Reads are the same for every anonymous visitor and cached;
a logged-in listener's say which rows they like (`liked`), so they are not."""

import django_filters
from django.db.models.functions import Lower
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from SyroMusic import caching
from SyroMusic.models import Album, Artist, Genre, Song
from SyroMusic.web.page_cache import api_read

from . import serializers
from .filters import AlbumFilter, ArtistFilter, BoundedSearchFilter, SongFilter, StrictOrderingFilter
from .pagination import CatalogueListPagination, CataloguePageNumberPagination
from .permissions import StaffWritesOrReadOnly


class CatalogueViewSet(viewsets.ModelViewSet):
    permission_classes = [StaffWritesOrReadOnly]
    pagination_class = CatalogueListPagination
    filter_backends = [django_filters.rest_framework.DjangoFilterBackend, BoundedSearchFilter, StrictOrderingFilter]

    # Reads are the same for everyone: answered from the cache until the catalogue changes.
    # Listeners get the same answer, with their own `liked` put in (like_field names the Like column).
    like_field = None
    list = api_read(caching.CATALOGUE, listeners=True)(viewsets.ModelViewSet.list)
    retrieve = api_read(caching.CATALOGUE, listeners=True)(viewsets.ModelViewSet.retrieve)

    def nested_page(self, queryset, serializer_class):
        """A page of a nested list (an artist's albums, an album's songs)."""
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(serializer_class(page, many=True, context={"request": self.request}).data)


class GenreViewSet(CatalogueViewSet):
    """Genres, by name."""

    queryset = Genre.objects.order_by("name", "id")
    serializer_class = serializers.GenreSerializer
    search_fields = ["name"]
    ordering_fields = {"name": "name", "id": "id"}


class LikeableViewSet(CatalogueViewSet):
    def get_queryset(self):
        # Each row says whether the listener asking likes it: an EXISTS in the page's own query.
        return super().get_queryset().with_liked(self.request.user)


class ArtistViewSet(LikeableViewSet):
    """Artists, filed by sort name ("The Beatles" under B)."""

    queryset = Artist.objects.all()
    like_field = "artist"
    serializer_class = serializers.ArtistSerializer
    filterset_class = ArtistFilter
    search_fields = ["name", "sort_name"]
    ordering_fields = {
        "sort_name": Lower("sort_name"), "name": Lower("name"), "created_at": "created_at",
        "year_formed": "year_formed", "id": "id",
    }

    @extend_schema(responses=serializers.AlbumSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=CataloguePageNumberPagination)
    @api_read(caching.CATALOGUE, listeners=True, like="album")
    def albums(self, request, pk=None):
        """The artist's albums, newest first."""
        artist = get_object_or_404(Artist, pk=pk)
        albums = artist.albums.for_listing().with_genres().with_liked(request.user).newest_first()
        return self.nested_page(albums, serializers.AlbumSerializer)


class AlbumViewSet(LikeableViewSet):
    """Albums, with their artist's name and their genres."""

    queryset = Album.objects.for_listing().with_genres()
    like_field = "album"
    serializer_class = serializers.AlbumSerializer
    filterset_class = AlbumFilter
    search_fields = ["title", "artist__name"]
    ordering_fields = {
        "title": Lower("title"), "release_date": "release_date", "artist": Lower("artist__sort_name"),
        "created_at": "created_at", "id": "id",
    }

    @extend_schema(responses=serializers.SongSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=CataloguePageNumberPagination)
    @api_read(caching.CATALOGUE, listeners=True, like="song")
    def songs(self, request, pk=None):
        """The album's songs in tracklist order (disc, then track)."""
        album = get_object_or_404(Album, pk=pk)
        songs = album.songs.for_api().with_liked(request.user).in_tracklist_order()
        return self.nested_page(songs, serializers.SongSerializer)


class SongViewSet(LikeableViewSet):
    """Songs, with album, artist and genre names: no extra call per row."""

    queryset = Song.objects.for_api()
    like_field = "song"
    serializer_class = serializers.SongSerializer
    filterset_class = SongFilter
    search_fields = ["title", "artist__name", "album__title"]
    ordering_fields = {
        "title": Lower("title"), "duration_ms": "duration_ms", "popularity": "popularity",
        "artist": Lower("artist__sort_name"), "release_year": "album__release_date", "track_number": "track_number",
        "created_at": "created_at", "id": "id",
    }

    @extend_schema(responses=serializers.LyricsSerializer)
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    @api_read(caching.CATALOGUE, listeners=True)
    def lyrics(self, request, pk=None):
        """The song's lyrics: plain text, and the lines with their times when synced. A song without
        lyrics answers `{"lyrics": "", "synced": null}` (it exists; it has none), not 404."""
        song = get_object_or_404(Song.objects.only("lyrics", "synced_lyrics"), pk=pk)
        return Response(serializers.LyricsSerializer(song).data)

    @extend_schema(responses=serializers.WaveformSerializer)
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    @api_read(caching.CATALOGUE, listeners=True)
    def waveform(self, request, pk=None):
        """The waveform of the file the song plays, for a seek bar; 404 when the song is not playable."""
        song = get_object_or_404(Song.objects.select_related("audio").only("audio__peaks", "audio__duration_ms"), pk=pk)
        if not song.is_playable:
            raise NotFound("This song has no audio file, so no waveform.")
        return Response(serializers.WaveformSerializer(song.audio).data)
