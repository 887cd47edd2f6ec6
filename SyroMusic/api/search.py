"""Ranked search over artists, albums, songs and playlists, and your search history."""

from urllib.parse import urlencode

from django.db.models import prefetch_related_objects
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions, status
from rest_framework.decorators import api_view, permission_classes
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.reverse import reverse

from SyroMusic import caching
from SyroMusic import search as searching
from SyroMusic.models import Collaborator, Playlist, Song
from SyroMusic.services import liked_among
from SyroMusic.web.page_cache import api_read

from . import serializers
from .pagination import SearchPagination
from .schema import any_of


def with_genres(kind_name, rows):
    """An album row lists its genres: one query for all the rows found, not one a row."""
    if kind_name == "album":
        prefetch_related_objects(rows, "genres")
    return rows


SEARCH_SERIALIZERS = {
    "artist": serializers.ArtistSerializer,
    "album": serializers.AlbumSerializer,
    "song": serializers.SongSerializer,
    "playlist": serializers.PlaylistSerializer,
}


CATALOGUE_KINDS = ("artist", "album", "song")


def listener_parts(request):
    """How a listener's search answer differs from the anonymous one kept for everybody (api_read): their
    private playlists among the playlists, their likes on the rows, the search put in their history.
    A page of playlists alone is theirs throughout: not shared (None)."""
    kind_name = request.query_params.get("type", "")
    if kind_name not in ("", *CATALOGUE_KINDS):
        return None

    def put_in(request, data):
        query = searching.parse(request.query_params.get("q", ""))  # it parsed when the kept answer was made
        context = {"request": request}
        if kind_name:
            rows = {kind_name: data["results"]}
        else:
            groups = data["results"]
            rows = {name: groups[f"{name}s"]["results"] for name in CATALOGUE_KINDS}
            if sees_private_playlists(request.user):
                playlists = searching.best(query, request.user, {"playlist": searching.PER_TYPE})["playlist"]
                groups["playlists"] = {
                    "results": serializers.PlaylistSerializer(playlists.rows, many=True, context=context).data,
                    "more": more_link(request, query, "playlist") if playlists.more else None,
                }
            # else the public playlists they may see are the kept group's, found and ranked alike
        liked = liked_among(request.user, {name: [row["id"] for row in found] for name, found in rows.items()})
        for name, found in rows.items():
            for row in found:
                row["liked"] = row["id"] in liked[name]
        searching.remember_search(request.user, query, kind_name)
        return data

    return put_in


def sees_private_playlists(user):
    """Whether the listener may see a playlist anonymous clients may not (their own private ones, those
    shared with them): two index lookups, against searching the playlists again (~15 ms, mostly
    building the ranking's expressions). Kept in the cache until the playlists change (every write to a
    playlist, its entries or its collaborators bumps their version): two cache reads instead of two queries."""
    return caching.remember(
        f"sees-private-playlists:{user.pk}", (caching.PLAYLISTS,),
        lambda: Playlist.objects.filter(owner=user, is_public=False).exists()
        or Collaborator.objects.filter(user=user, playlist__is_public=False).exists(),
    )


def more_link(request, query, name):
    return f"{reverse('api:search', request=request)}?{urlencode({'q': query.text, 'type': name})}"


@extend_schema(
    parameters=[
        OpenApiParameter("q", str, required=True, description=f"What to look for: {searching.MIN_LENGTH} to "
                         f"{searching.MAX_LENGTH} characters and at most {searching.MAX_WORDS} words, "
                         "case and accents ignored."),
        OpenApiParameter("type", str, enum=list(searching.KINDS), description="One type, paginated; without it, "
                         f"the best {searching.PER_TYPE} of each type with a link to the rest."),
        OpenApiParameter("page", {"type": "integer", "minimum": 1}, description=f"With type: the page ({searching.PER_PAGE} results each, "
                         f"the best {searching.MAX_RESULTS:,} in all)."),
        OpenApiParameter("page_size", {"type": "integer", "minimum": 1, "maximum": SearchPagination.max_page_size},
                         description="With type: results per page."),
    ],
    responses=any_of("SearchAnswer", [
        serializers.SearchOverviewSerializer, serializers.ArtistSearchPageSerializer, serializers.AlbumSearchPageSerializer,
        serializers.SongSearchPageSerializer, serializers.PlaylistSearchPageSerializer,
    ]),
)
@api_view(["GET"])
@permission_classes([permissions.AllowAny])
@api_read(*caching.AREAS, listeners=listener_parts)  # the anonymous answer is kept; a listener's parts put in
def search(request):
    """Search artists, albums, songs and playlists (public ones, and yours): exact names first, then names
    starting with the query, then matches of every word, then (when those are few) the matches of the query with
    its typos corrected."""
    raw, kind_name = request.query_params.get("q", ""), request.query_params.get("type", "")
    if kind_name and kind_name not in searching.KINDS:
        raise ValidationError({"type": [f"Unknown type {kind_name!r}: use one of {', '.join(searching.KINDS)}."]})
    try:
        query = searching.parse(raw)
    except searching.SearchError as error:
        raise ValidationError({"q": [str(error)]}) from None
    context = {"request": request}
    viewer = None if getattr(request, "syro_shared", False) else request.user  # see listener_parts
    # Songs as the API's song rows load them (Song.objects.for_api: the columns SongSerializer reads).
    loaded = {"song": Song.objects.for_api().with_liked(viewer)}
    if kind_name:
        pagination = SearchPagination()
        matches = searching.Matches(searching.KINDS[kind_name], query, viewer, loaded.get(kind_name))
        rows = with_genres(kind_name, pagination.paginate_queryset(matches, request))
        response = pagination.get_paginated_response(SEARCH_SERIALIZERS[kind_name](rows, many=True, context=context).data)
        response.data["more_than_count"] = matches.capped
    else:
        groups = searching.best(query, viewer, loaded=loaded)
        response = Response({
            "query": query.text,
            "results": {
                f"{name}s": {
                    "results": SEARCH_SERIALIZERS[name](with_genres(name, group.rows), many=True, context=context).data,
                    "more": more_link(request, query, name) if group.more else None,
                }
                for name, group in groups.items()
            },
        })
    if viewer is not None and viewer.is_authenticated:
        searching.remember_search(viewer, query, kind_name)
    return response


@extend_schema(methods=["get"], responses=serializers.SearchHistorySerializer(many=True))
@extend_schema(methods=["delete"], request=None, responses={204: None}, description="Clear your search history.",
               operation_id="search_history_clear")
@api_view(["GET", "DELETE"])
@permission_classes([permissions.IsAuthenticated])
def search_history(request):
    """Your last 20 distinct searches, newest first."""
    if request.method == "DELETE":
        searching.forget_history(request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
    return Response(serializers.SearchHistorySerializer(searching.history(request.user), many=True).data)


@extend_schema(request=None, responses={204: None}, operation_id="search_history_remove")
@api_view(["DELETE"])
@permission_classes([permissions.IsAuthenticated])
def search_history_entry(request, pk):
    """Remove one search from your history."""
    if not searching.forget_search(request.user, pk):
        raise NotFound("There is no such search in your history.")
    return Response(status=status.HTTP_204_NO_CONTENT)
