"""/api/v1/me/listens/: record a batch of listens (the player), read your history in cursor pages, forget
one or all. Private: only the listener reads or changes them."""

import logging
import re
from datetime import UTC, datetime

from django.core.validators import RegexValidator
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, inline_serializer
from rest_framework import permissions, serializers, status
from rest_framework.decorators import api_view, permission_classes
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from SyroMusic.listening import history, record
from SyroMusic.models import Listen

from .listening import MAX_ID, MAX_INT, QueueItemSerializer
from .serializers import KnownFieldsOnly

MAX_BATCH = 100
PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
PAGE_SIZE_DIGITS = re.compile(r"[0-9]{1,4}")
WEB_PLAYER = "SyroMusic web"
logger = logging.getLogger(__name__)


class ListenInSerializer(KnownFieldsOnly, serializers.Serializer):
    """One play, as the player reports it."""

    client_id = serializers.CharField(
        max_length=64, validators=[RegexValidator(r"\A[A-Za-z0-9._:-]+\Z", "Use letters, digits and . _ : - only.")],
        help_text="Made by the client (a UUID): the same id again is the same listen, recorded once.",
    )
    song = serializers.IntegerField(min_value=1, max_value=MAX_ID, help_text="The song's id.")
    started_at = serializers.DateTimeField(
        help_text="When playing started; not before 2000. A time in the future (a client clock running fast) is "
        "recorded as the server's time of the request."
    )
    heard_ms = serializers.IntegerField(
        min_value=0, max_value=MAX_INT, help_text="Milliseconds of the song really played (seeks and pauses add nothing)."
    )
    client = serializers.CharField(
        max_length=64, required=False, allow_blank=True, default="",
        help_text='The player or app, e.g. "SyroMusic web".',
    )

    def validate_started_at(self, value):
        try:
            return record.started_at(value, timezone.now())
        except ValueError as error:
            raise serializers.ValidationError(str(error)) from None


class ListenBatchSerializer(KnownFieldsOnly, serializers.Serializer):
    """Plays to record, all or none: one invalid item refuses the batch."""

    listens = serializers.ListField(
        child=ListenInSerializer(), min_length=1, max_length=MAX_BATCH,
        help_text=f"1 to {MAX_BATCH} listens. An error names the item by its index (0 = first).",
    )


CLIENT_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
LISTEN_FIELDS = frozenset(ListenInSerializer().fields)


def plain_batch(data):
    """A batch's items as ListenBatchSerializer would give them, when every item is plainly valid (exact
    JSON types, an ISO 8601 time with an offset, printable ASCII); None for anything else, which the
    serializer then judges and words the errors of. It accepts only what the serializer accepts, with the same
    values (test_listens_plain_batch.py checks that): a player's batch skips the serializer's cost per field,
    about 4 ms for 50 listens, on a path that answers in a few."""
    if not isinstance(data, dict) or data.keys() != {"listens"}:
        return None
    listens = data["listens"]
    if not isinstance(listens, list) or not 1 <= len(listens) <= MAX_BATCH:
        return None
    now, items = timezone.now(), []
    for item in listens:
        if not isinstance(item, dict) or not item.keys() <= LISTEN_FIELDS:
            return None
        client_id, song, started, heard, client = (
            item.get("client_id"), item.get("song"), item.get("started_at"), item.get("heard_ms"), item.get("client", "")
        )
        if not (
            type(client_id) is str and CLIENT_ID.fullmatch(client_id)
            and type(song) is int and 1 <= song <= MAX_ID
            and type(heard) is int and 0 <= heard <= MAX_INT
            and type(client) is str and len(client) <= 64 and client.isascii() and client.isprintable()
            and client == client.strip() and type(started) is str
        ):
            return None
        try:
            at = datetime.fromisoformat(started)
            if at.tzinfo is None or at.utcoffset() is None or at < record.EARLIEST:
                return None
            at = at.astimezone(UTC)
        except (ValueError, OverflowError):
            return None
        items.append({"client_id": client_id, "song": song, "started_at": record.started_at(at, now), "heard_ms": heard,
                      "client": client})
    return items


class FoldAfterAnswer(Response):
    """The answer to a batch of listens, after which (its close(), called by the WSGI server once the answer
    is sent) the listener's pending listens join the rollups: the player is not kept waiting for them. Should
    that fail, nothing is lost: the next read of the rollups folds them first (record.fold)."""

    def __init__(self, listener, data):
        super().__init__(data)
        self.listener = listener

    def close(self):
        try:
            if self.listener is not None:
                record.fold(self.listener)
        except Exception:  # noqa: BLE001 - the answer is gone; the next read folds them
            logger.exception("listens of %s not folded after the answer (the next read will)", self.listener)
        finally:
            super().close()


class RecordedSerializer(serializers.Serializer):
    client_id = serializers.CharField()
    id = serializers.IntegerField()
    counted = serializers.BooleanField(help_text="It counts as a listen (long enough, heard enough).")


class SkippedSerializer(serializers.Serializer):
    client_id = serializers.CharField()
    reason = serializers.CharField()


class BatchResultSerializer(serializers.Serializer):
    recorded = RecordedSerializer(many=True, help_text="The new listens.")
    duplicates = serializers.ListField(
        child=serializers.CharField(), help_text="client_ids recorded before (or twice in the batch): not recorded again."
    )
    skipped = SkippedSerializer(
        many=True, help_text="Listens not recorded, with why: a song no longer in the catalogue."
    )


class ListenSerializer(serializers.ModelSerializer):
    """One play of your history; `song` is null once the song left the catalogue."""

    song = serializers.SerializerMethodField()

    class Meta:
        model = Listen
        fields = ["id", "client_id", "started_at", "heard_ms", "counted", "client", "source", "song"]

    @extend_schema_field(QueueItemSerializer(allow_null=True))
    def get_song(self, listen):
        if listen.song is None:
            return None
        return QueueItemSerializer(listen.song, context=self.context).data


def _source(client):
    return Listen.Source.PLAYER if client.startswith(WEB_PLAYER) else Listen.Source.API


def _page_size(request):
    raw = request.query_params.get("page_size")
    if raw is None:
        return PAGE_SIZE
    # ASCII digits only: int() would also take "٣" or " 3 ".
    if not PAGE_SIZE_DIGITS.fullmatch(raw):
        raise ValidationError({"page_size": [f"{raw!r} is not a whole number."]})
    size = int(raw)
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise ValidationError({"page_size": [f"Must be between 1 and {MAX_PAGE_SIZE}; got {size}."]})
    return size


def _cursor(request):
    raw = request.query_params.get("cursor")
    if not raw:
        return None, None
    try:
        return history.decode(raw, with_direction=True)
    except history.InvalidCursor:
        raise ValidationError(
            {"cursor": ["Not a cursor of this list: follow the next and previous links, or leave cursor out to start."]}
        ) from None


def _link(request, position, direction):
    if position is None:
        return None
    url = request.build_absolute_uri()
    return replace_query_param(url, "cursor", history.encode(position, direction))


def _history_page(request):
    size = _page_size(request)
    direction, position = _cursor(request)
    page = history.page(
        Listen.objects.for_user(request.user).for_history(), size=size,
        older_than=position if direction == history.OLDER else None,
        newer_than=position if direction == history.NEWER else None,
    )
    return {
        "next": _link(request, page.older, history.OLDER),
        "previous": _link(request, page.newer, history.NEWER),
        "results": ListenSerializer(page.rows, many=True, context={"request": request}).data,
    }


@extend_schema(
    methods=["get"], operation_id="me_listens_list",
    parameters=[
        OpenApiParameter("cursor", str, description="Where to read from: follow `next` (older) and `previous` (newer)."),
        OpenApiParameter(
            "page_size", int, description=f"Listens a page, 1 to {MAX_PAGE_SIZE} (default {PAGE_SIZE})."
        ),
    ],
    responses=inline_serializer(
        "ListenCursorPage",
        {
            "next": serializers.URLField(allow_null=True, help_text="Older listens; null at the oldest."),
            "previous": serializers.URLField(allow_null=True, help_text="Newer listens; null at the newest."),
            "results": ListenSerializer(many=True),
        },
    ),
    description="Your listening history, the newest first (skips too: `counted` says which count), in cursor "
    "pages: each page costs the same however deep.",
)
@extend_schema(
    methods=["post"], request=ListenBatchSerializer, responses=BatchResultSerializer,
    description="Record a batch of listens. Idempotent: a client_id recorded before is listed in `duplicates` "
    "and not recorded again, so a retry is safe. A song no longer in the catalogue is `skipped`, not an error. "
    "A `started_at` in the future (the client's clock runs fast) is recorded as the server's time of the request. "
    "Any invalid item makes the whole batch a 400 (nothing recorded) that names the item by its index.",
)
@extend_schema(
    methods=["delete"], request=None, responses={204: None}, operation_id="me_listens_clear",
    description="Forget your whole history.",
)
@api_view(["GET", "POST", "DELETE"])
@permission_classes([permissions.IsAuthenticated])
def listens(request):
    """Your listening history: the player reports what it played here."""
    if request.method == "POST":
        items = plain_batch(request.data)
        if items is None:
            batch = ListenBatchSerializer(data=request.data)
            batch.is_valid(raise_exception=True)
            items = batch.validated_data["listens"]
        events = [
            record.Event(
                client_id=item["client_id"], song_id=item["song"], started_at=item["started_at"],
                heard_ms=item["heard_ms"], client=item["client"],
            )
            for item in items
        ]
        # One batch comes from one client: the web player's listens are the player's, anything else the API's.
        # The rollups take the new listens after the answer is sent (FoldAfterAnswer): the player does not wait.
        result = record.record(request.user, events, source=_source(items[0]["client"]), defer=True)
        return FoldAfterAnswer(
            request.user if result.listens else None,
            {
                "recorded": [
                    {"client_id": listen.client_id, "id": listen.pk, "counted": listen.counted}
                    for listen in result.listens
                ],
                "duplicates": result.duplicates,
                "skipped": [{"client_id": client_id, "reason": reason} for client_id, reason in result.skipped],
            },
        )
    if request.method == "DELETE":
        record.forget_all(request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
    return Response(_history_page(request))


@extend_schema(
    methods=["delete"], request=None, responses={204: None}, operation_id="me_listen_destroy",
    description="Forget one listen of yours; 404 when it is not yours or already gone.",
)
@api_view(["DELETE"])
@permission_classes([permissions.IsAuthenticated])
def listen(request, pk):
    """One listen of your history."""
    if not record.forget(request.user, [int(pk)]):
        raise NotFound("You have no listen with this id.")
    return Response(status=status.HTTP_204_NO_CONTENT)

