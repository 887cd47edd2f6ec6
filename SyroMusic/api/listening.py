"""Your play queue and your likes (/me/queue/, /me/likes/): private, so only you read or change them."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import api_view, permission_classes
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.reverse import reverse

from SyroMusic.models import Album, Artist, Like, PlayQueue, Song
from SyroMusic.services import like_set, queue_load, queue_replace

from .pagination import CataloguePageNumberPagination
from .serializers import KnownFieldsOnly

# The largest id a column holds (bigint): a larger one would be the database's error, not a 400.
MAX_ID = 2**63 - 1
MAX_INT = 2**31 - 1


class QueueItemSerializer(serializers.Serializer):
    """One entry of the queue: what a player row shows, without another call."""

    id = serializers.IntegerField()
    url = serializers.URLField()
    title = serializers.CharField()
    artist_name = serializers.CharField()
    album_title = serializers.CharField()
    duration_ms = serializers.IntegerField(allow_null=True)
    cover_url = serializers.URLField(
        allow_null=True, help_text="The album's own cover, 64 px wide; else its cover elsewhere; null when none."
    )
    playable = serializers.BooleanField(help_text="The song has an audio file.")
    audio_url = serializers.URLField(allow_null=True, help_text="Where to stream it; null when not playable.")

    def to_representation(self, song):
        request = self.context["request"]
        album = song.album
        cover = request.build_absolute_uri(album.cover_image_url(64)) if album.cover_hash else album.cover_url or None
        return {
            "id": song.pk,
            "url": reverse("api:song-detail", args=[song.pk], request=request),
            "title": song.title,
            "artist_name": song.artist.name,
            "album_title": album.title,
            "duration_ms": song.duration_ms,
            "cover_url": cover,
            "playable": song.is_playable,
            "audio_url": request.build_absolute_uri(song.audio.get_absolute_url()) if song.is_playable else None,
        }


class QueueSerializer(KnownFieldsOnly, serializers.Serializer):
    songs = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID), max_length=PlayQueue.MAX_SONGS,
        help_text=f"Song ids in play order; a song may appear more than once. At most {PlayQueue.MAX_SONGS:,}.",
    )
    current = serializers.IntegerField(
        min_value=0, max_value=MAX_INT, allow_null=True, required=False, default=None,
        help_text="The entry that plays: an index into songs (0 = first), or null for none.",
    )
    position_ms = serializers.IntegerField(
        min_value=0, max_value=MAX_INT, required=False, default=0,
        help_text="How far into the current song; 0 when current is null.",
    )
    updated_at = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="When the queue was last written; null when never."
    )
    items = QueueItemSerializer(many=True, read_only=True, help_text="The songs, in queue order, for a player row.")


def queue_body(queue, request):
    return {
        "songs": queue.song_ids,
        "current": queue.current_index,
        "position_ms": queue.position_ms,
        "updated_at": serializers.DateTimeField().to_representation(queue.updated_at) if queue.updated_at else None,
        "items": QueueItemSerializer(queue.songs, many=True, context={"request": request}).data,
    }


@extend_schema(methods=["get"], responses=QueueSerializer, description="Your play queue; empty when you have none.")
@extend_schema(
    methods=["put"], request=QueueSerializer, responses=QueueSerializer,
    description="Replace your whole queue. The last write wins: no merge with what another device wrote since "
    "you read it (compare `updated_at`). Answers with the queue as stored.",
)
@api_view(["GET", "PUT"])
@permission_classes([permissions.IsAuthenticated])
def queue(request):
    """Your play queue, kept on the server so it follows you between devices. A song deleted from the
    catalogue drops out of it."""
    if request.method == "PUT":
        data = QueueSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        try:
            queue_replace(
                user=request.user, song_ids=values["songs"], current=values["current"], position_ms=values["position_ms"]
            )
        except DjangoValidationError as error:
            raise ValidationError(error.message_dict) from None
    return Response(queue_body(queue_load(user=request.user), request))


class LikeSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Like.Kind.choices)
    id = serializers.IntegerField(help_text="The song's, album's or artist's id.")
    name = serializers.CharField(help_text="The song's or album's title, or the artist's name.")
    artist_name = serializers.CharField(allow_null=True, help_text="Who made the song or album; null for an artist.")
    url = serializers.URLField()
    web_url = serializers.URLField()
    liked_at = serializers.DateTimeField()

    def to_representation(self, like):
        request = self.context["request"]
        kind, thing = like.kind, like.thing
        return {
            "kind": kind,
            "id": thing.pk,
            "name": thing.name if kind == Like.Kind.ARTIST else thing.title,
            "artist_name": None if kind == Like.Kind.ARTIST else thing.artist.name,
            "url": reverse(f"api:{kind}-detail", args=[thing.pk], request=request),
            "web_url": request.build_absolute_uri(thing.get_absolute_url()),
            "liked_at": serializers.DateTimeField().to_representation(like.liked_at),
        }


class CountedPaginator(Paginator):
    """Counts every time: a listener's likes change with each heart, not with the catalogue's version."""

    estimated = False


class LikePagination(CataloguePageNumberPagination):
    django_paginator_class = CountedPaginator


@extend_schema_view(
    list=extend_schema(
        parameters=[OpenApiParameter("kind", str, enum=Like.Kind.values, description="Only likes of this kind.")],
        description="What you like, the latest first.",
    )
)
class MyLikeViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = LikeSerializer
    permission_classes = [permissions.IsAuthenticated]
    pagination_class = LikePagination

    def get_queryset(self):
        likes = Like.objects.for_user(self.request.user).with_things().newest_first()
        kind = self.request.query_params.get("kind")
        if kind is None:
            return likes
        if kind not in Like.Kind.values:
            raise ValidationError({"kind": [f"Must be one of {', '.join(Like.Kind.values)}; got {kind!r}."]})
        return likes.of_kind(kind)


LIKEABLE = {"songs": Song, "albums": Album, "artists": Artist}


@extend_schema(
    methods=["put", "delete"], request=None, responses={204: None},
    description="PUT likes it, DELETE no longer does; both may be repeated (the first like keeps its time).",
)
@api_view(["PUT", "DELETE"])
@permission_classes([permissions.IsAuthenticated])
def like(request, kind, pk):
    """Like a song, album or artist, or stop liking it."""
    thing = get_object_or_404(LIKEABLE[kind].objects.only("id"), pk=pk)
    like_set(user=request.user, thing=thing, liked=request.method == "PUT")
    return Response(status=status.HTTP_204_NO_CONTENT)
