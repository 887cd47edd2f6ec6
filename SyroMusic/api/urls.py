from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from SyroMusic.security import allow_inline_styles

from . import views

app_name = "api"

router = DefaultRouter()
router.register("genres", views.GenreViewSet, basename="genre")
router.register("artists", views.ArtistViewSet, basename="artist")
router.register("albums", views.AlbumViewSet, basename="album")
router.register("songs", views.SongViewSet, basename="song")
router.register("playlists", views.PlaylistViewSet, basename="playlist")
router.register("me/playlists", views.MyPlaylistViewSet, basename="me-playlists")

urlpatterns = [
    path("me/", views.me, name="me"),
    path("users/<str:username>/", views.user_profile, name="user"),
    path("search/", views.search, name="search"),
    path("search/history/", views.search_history, name="search-history"),
    path("search/history/<int:pk>/", views.search_history_entry, name="search-history-entry"),
    path("auth/token/", views.token, name="token"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its start-up script as a file: the pages' CSP allows no inline script.
    # Swagger UI also sets inline styles: that page alone may.
    path("docs/", allow_inline_styles(SpectacularSwaggerSplitView.as_view(url_name="api:schema")), name="docs"),
    *router.urls,
]
