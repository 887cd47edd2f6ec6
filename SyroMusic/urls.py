from django.conf import settings
from django.urls import path, re_path

from .views import accounts, catalogue, history, likes, media, offline, player, playlists, row_actions, search, stats

app_name = "music"

urlpatterns = [
    path("", catalogue.home, name="home"),
    path("music/artists/", catalogue.artist_list, name="artist-list"),
    path("music/artists/<int:pk>/", catalogue.artist_detail, name="artist-detail"),
    path("music/albums/", catalogue.album_list, name="album-list"),
    path("music/albums/<int:pk>/", catalogue.album_detail, name="album-detail"),
    path("music/songs/", catalogue.song_list, name="song-list"),
    path("music/songs/<int:pk>/", catalogue.song_detail, name="song-detail"),
    path("music/songs/<int:pk>/add-to-playlist/", row_actions.song_add_to_playlist, name="song-add-to-playlist"),
    path("music/songs/<int:pk>/row-actions/", row_actions.song_row_actions, name="song-row-actions"),
    path("music/playlists/", playlists.playlist_list, name="playlist-list"),
    path("music/playlists/<int:pk>/", playlists.playlist_detail, name="playlist-detail"),
    path("music/playlists/new/", playlists.playlist_create, name="playlist-create"),
    path("music/playlists/import/", playlists.playlist_import, name="playlist-import"),
    re_path(r"^music/playlists/(?P<pk>[0-9]+)/export\.(?P<kind>m3u8|xspf|jspf)$", playlists.playlist_export, name="playlist-export"),
    path("music/playlists/<int:pk>/edit/", playlists.playlist_edit, name="playlist-edit"),
    path("music/playlists/<int:pk>/delete/", playlists.playlist_delete, name="playlist-delete"),
    path("music/playlists/<int:pk>/add/", playlists.playlist_add, name="playlist-add"),
    path("music/playlists/add/", playlists.playlist_add, name="playlist-add-chosen"),
    path("music/playlists/<int:pk>/collaborators/", playlists.playlist_collaborators, name="playlist-collaborators"),
    path("music/playlists/<int:pk>/share/", playlists.playlist_share_view, name="playlist-share"),
    path("music/playlists/<int:pk>/entries/<int:entry_id>/remove/", playlists.entry_remove, name="entry-remove"),
    path("music/playlists/<int:pk>/entries/<int:entry_id>/move/", playlists.entry_move, name="entry-move"),
    path("music/liked/", likes.liked_songs, name="liked-songs"),
    path("music/saved/", offline.saved, name="saved"),
    # The service worker's script at the root, so that its scope is the whole site.
    path("sw.js", offline.service_worker, name="service-worker"),
    path("offline/", offline.offline, name="offline"),
    re_path(r"^music/likes/(?P<kind>songs|albums|artists)/(?P<pk>[0-9]{1,18})/$", likes.like, name="like"),
    path("music/history/", history.history, name="history"),
    re_path(r"^music/history/(?P<pk>[0-9]{1,18})/remove/$", history.history_remove, name="history-remove"),
    path("music/history/clear/", history.history_clear, name="history-clear"),
    re_path(r"^music/history/export\.(?P<kind>json|csv)$", history.history_export, name="history-export"),
    path("music/history/import/", history.history_import, name="history-import"),
    path("music/stats/", stats.my_stats, name="stats"),
    path("music/users/<str:username>/stats/", stats.user_stats, name="user-stats"),
    path("player/tracks/", player.player_tracks, name="player-tracks"),
    re_path(r"^player/tracks/(?P<pk>[0-9]{1,18})/$", player.player_track, name="player-track"),
    path("music/search/", search.search_page, name="search"),
    path("music/search/suggest/", search.search_suggest, name="search-suggest"),
    path("music/search/history/clear/", search.search_history_clear, name="search-history-clear"),
    path("music/search/history/<int:entry_id>/remove/", search.search_history_remove, name="search-history-remove"),
    path("music/users/<str:username>/", accounts.user_detail, name="user-detail"),
    path("music/users/<str:username>/follow/", accounts.follow, name="user-follow"),
    path("music/users/<str:username>/unfollow/", accounts.unfollow, name="user-unfollow"),
    path("audio/<int:pk>/<str:hash>.<str:ext>", media.audio_file, name="audio-file"),
    path("audio/<int:pk>/<str:hash>/<int:kbps>.<str:ext>", media.audio_transcoded, name="audio-transcoded"),
    # Covers under MEDIA_URL, when the app serves them (nginx does under `make serve`).
    path(f"{settings.MEDIA_URL.lstrip('/')}covers/<str:shard>/<str:name>", media.cover, name="cover"),
]
