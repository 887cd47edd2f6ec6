"""/api/v1/me/stats/: your listening stats; /api/v1/users/<name>/stats/ when their profile shares them.

The figures of the stats page (SyroMusic.listening.stats), as JSON. Never cached: they change with each listen."""

from django.contrib.auth import get_user_model
from django.shortcuts import get_object_or_404
from django.utils.cache import patch_cache_control, patch_vary_headers
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions, serializers
from rest_framework.decorators import api_view, permission_classes
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.reverse import reverse

from SyroMusic.listening.stats import DEFAULT_RANGE, RANGES, WEEKDAYS, range_error, stats_for
from SyroMusic.models import Profile, url_maker


class NamedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.URLField(help_text="Its API address.")
    web_url = serializers.URLField(help_text="Its page.")


class RankedArtistSerializer(NamedSerializer):
    name = serializers.CharField()
    listens = serializers.IntegerField(help_text="Counted listens in the range.")
    minutes = serializers.IntegerField(help_text="Minutes heard in the range, every play counted or not (rounded down).")


class ArtistRefSerializer(NamedSerializer):
    name = serializers.CharField()


class AlbumRefSerializer(NamedSerializer):
    title = serializers.CharField()


class RankedAlbumSerializer(NamedSerializer):
    title = serializers.CharField()
    artist = ArtistRefSerializer()
    listens = serializers.IntegerField()
    minutes = serializers.IntegerField()


class RankedSongSerializer(RankedAlbumSerializer):
    album = AlbumRefSerializer()


class MonthSerializer(serializers.Serializer):
    month = serializers.CharField(help_text="YYYY-MM, in the listener's time zone.")
    minutes = serializers.IntegerField()
    listens = serializers.IntegerField()
    top_artist = ArtistRefSerializer(allow_null=True)
    top_song = RankedSongSerializer(allow_null=True)


class StatsSerializer(serializers.Serializer):
    username = serializers.CharField()
    range = serializers.ChoiceField(choices=list(RANGES))
    time_zone = serializers.CharField(help_text="Days, hours and months are the listener's, in this IANA zone.")
    start = serializers.DateField(allow_null=True, help_text="The range's first day; null for all time.")
    end = serializers.DateField(help_text="The listener's today.")
    listens = serializers.IntegerField(help_text="Counted listens (the scrobbling rule).")
    minutes = serializers.IntegerField(help_text="Minutes heard, every play counted or not (rounded down).")
    unique_songs = serializers.IntegerField(help_text="Songs with a counted listen in the range.")
    unique_albums = serializers.IntegerField()
    unique_artists = serializers.IntegerField(help_text="The songs' artists.")
    current_streak = serializers.IntegerField(
        help_text="Days in a row with a counted listen, ending today or yesterday (whatever the range)."
    )
    longest_streak = serializers.IntegerField(help_text="The longest such run, all time.")
    hours = serializers.ListField(child=serializers.IntegerField(), help_text="24 numbers: listens started in each hour (0-23).")
    weekdays = serializers.ListField(child=serializers.IntegerField(), help_text="7 numbers: listens each day of the week, Monday first.")
    most_active_hour = serializers.IntegerField(allow_null=True, help_text="0-23; null without listens.")
    most_active_weekday = serializers.ChoiceField(choices=WEEKDAYS, allow_null=True)
    top_songs = RankedSongSerializer(many=True, help_text="Up to 10: by listens, then minutes, then title.")
    top_albums = RankedAlbumSerializer(many=True)
    top_artists = RankedArtistSerializer(many=True)
    months = MonthSerializer(many=True, help_text="The last 12 calendar months, oldest first, whatever the range.")


def _links(request):
    """Each kind's API address and page as functions of an id, each reversed once for the whole answer (a
    heavy listener's answer links over 200 of them)."""
    return {
        kind: (
            url_maker(lambda id, kind=kind: reverse(f"api:{kind}-detail", args=[id], request=request)),
            url_maker(lambda id, kind=kind: request.build_absolute_uri(reverse(f"music:{kind}-detail", args=[id]))),
        )
        for kind in ("song", "album", "artist")
    }


def _ref(links, kind, id, **fields):
    url, web_url = links[kind]
    return {"id": id, "url": url(id), "web_url": web_url(id), **fields}


def _artist(links, ranked):
    return _ref(links, "artist", ranked.artist_id, name=ranked.artist_name)


def _ranked(links, ranked):
    counts = {"listens": ranked.listens, "minutes": ranked.minutes}
    if ranked.kind == "artist":
        return _ref(links, "artist", ranked.id, name=ranked.name, **counts)
    if ranked.kind == "album":
        return _ref(links, "album", ranked.id, title=ranked.name, artist=_artist(links, ranked), **counts)
    return _ref(
        links, "song", ranked.id, title=ranked.name, artist=_artist(links, ranked),
        album=_ref(links, "album", ranked.album_id, title=ranked.album_title), **counts,
    )


def stats_body(request, person, range):
    stats = stats_for(person, range)
    links = _links(request)
    return {
        "username": person.get_username(),
        "range": stats.range,
        "time_zone": stats.time_zone,
        "start": stats.start.isoformat() if stats.start else None,
        "end": stats.today.isoformat(),
        "listens": stats.listens,
        "minutes": stats.minutes,
        "unique_songs": stats.unique_songs,
        "unique_albums": stats.unique_albums,
        "unique_artists": stats.unique_artists,
        "current_streak": stats.current_streak,
        "longest_streak": stats.longest_streak,
        "hours": stats.hours,
        "weekdays": stats.weekdays,
        "most_active_hour": stats.most_active_hour,
        "most_active_weekday": stats.most_active_weekday_name,
        "top_songs": [_ranked(links, song) for song in stats.top_songs],
        "top_albums": [_ranked(links, album) for album in stats.top_albums],
        "top_artists": [_ranked(links, artist) for artist in stats.top_artists],
        "months": [
            {
                "month": f"{month.first_day:%Y-%m}",
                "minutes": month.minutes,
                "listens": month.listens,
                "top_artist": _ref(links, "artist", month.top_artist.id, name=month.top_artist.name)
                if month.top_artist else None,
                "top_song": _ranked(links, month.top_song) if month.top_song else None,
            }
            for month in stats.months
        ],
    }


def _range(request):
    value = request.query_params.get("range", DEFAULT_RANGE)
    error = range_error(value)
    if error:
        raise ValidationError({"range": [error]})
    return value


def _private(response):
    # One listener's figures, changing with each listen: no shared cache keeps them, a browser asks again.
    patch_cache_control(response, private=True, no_cache=True)
    patch_vary_headers(response, ["Cookie", "Authorization"])
    return response


RANGE_PARAMETER = OpenApiParameter(
    "range", str, enum=list(RANGES), default=DEFAULT_RANGE,
    description="7d: today and the 6 days before, in the listener's time zone; 30d likewise; 12m: this calendar "
    "month and the 11 before; all: all time.",
)


@extend_schema(parameters=[RANGE_PARAMETER], responses=StatsSerializer)
@api_view(["GET"])
@permission_classes([permissions.IsAuthenticated])
def my_stats(request):
    """Your listening stats over a range: listens, minutes, streaks, when you listen, your top songs, albums and
    artists, and the last 12 months."""
    return _private(Response(stats_body(request, request.user, _range(request))))


@extend_schema(parameters=[RANGE_PARAMETER], responses=StatsSerializer)
@api_view(["GET"])
def user_stats(request, username):
    """Another listener's stats: 404 unless their profile is public and shares them (yours always)."""
    person = get_object_or_404(get_user_model().objects.select_related("profile"), username=username)
    if not Profile.of(person).stats_visible_to(request.user):
        raise NotFound("No such listener's stats.")
    return _private(Response(stats_body(request, person, _range(request))))
