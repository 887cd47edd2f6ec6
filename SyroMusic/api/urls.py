from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from SyroMusic.web.middleware import allow_inline_styles

from . import accounts, catalogue, history, listening, playlists, search, stats

app_name = "api"

router = DefaultRouter()
router.register("genres", catalogue.GenreViewSet, basename="genre")
router.register("artists", catalogue.ArtistViewSet, basename="artist")
router.register("albums", catalogue.AlbumViewSet, basename="album")
router.register("songs", catalogue.SongViewSet, basename="song")
router.register("playlists", playlists.PlaylistViewSet, basename="playlist")
router.register("me/playlists", playlists.MyPlaylistViewSet, basename="me-playlists")
router.register("me/likes", listening.MyLikeViewSet, basename="me-likes")

urlpatterns = [
    path("me/", accounts.me, name="me"),
    path("me/queue/", listening.queue, name="me-queue"),
    path("me/listens/", history.listens, name="me-listens"),
    re_path(r"^me/listens/(?P<pk>[0-9]{1,18})/$", history.listen, name="me-listen"),
    path("me/stats/", stats.my_stats, name="me-stats"),
    path("users/<str:username>/stats/", stats.user_stats, name="user-stats"),
    re_path(r"^me/likes/(?P<kind>songs|albums|artists)/(?P<pk>[0-9]{1,18})/$", listening.like, name="me-like"),
    path("users/<str:username>/", accounts.user_profile, name="user"),
    path("search/", search.search, name="search"),
    path("search/history/", search.search_history, name="search-history"),
    path("search/history/<int:pk>/", search.search_history_entry, name="search-history-entry"),
    path("auth/token/", accounts.token, name="token"),
    # The schema and the docs are not throttled: a newcomer who spent the anonymous budget can still read them.
    path("schema/", SpectacularAPIView.as_view(throttle_classes=[]), name="schema"),
    # The split view serves its start-up script as a file: the pages' CSP allows no inline script.
    # Swagger UI also sets inline styles: that page alone may.
    path(
        "docs/",
        allow_inline_styles(SpectacularSwaggerSplitView.as_view(url_name="api:schema", throttle_classes=[])),
        name="docs",
    ),
    *router.urls,
]
