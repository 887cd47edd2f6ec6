from django.urls import path, re_path

from . import views

app_name = "music"

urlpatterns = [
    path("", views.home, name="home"),
    path("music/artists/", views.artist_list, name="artist-list"),
    path("music/artists/<int:pk>/", views.artist_detail, name="artist-detail"),
    path("music/albums/", views.album_list, name="album-list"),
    path("music/albums/<int:pk>/", views.album_detail, name="album-detail"),
    path("music/songs/", views.song_list, name="song-list"),
    path("music/songs/<int:pk>/", views.song_detail, name="song-detail"),
    path("music/playlists/", views.playlist_list, name="playlist-list"),
    path("music/playlists/<int:pk>/", views.playlist_detail, name="playlist-detail"),
    path("music/playlists/new/", views.playlist_create, name="playlist-create"),
    path("music/playlists/import/", views.playlist_import, name="playlist-import"),
    re_path(r"^music/playlists/(?P<pk>[0-9]+)/export\.(?P<kind>m3u8|xspf|jspf)$", views.playlist_export, name="playlist-export"),
    path("music/playlists/<int:pk>/edit/", views.playlist_edit, name="playlist-edit"),
    path("music/playlists/<int:pk>/delete/", views.playlist_delete, name="playlist-delete"),
    path("music/playlists/<int:pk>/add/", views.playlist_add, name="playlist-add"),
    path("music/playlists/add/", views.playlist_add, name="playlist-add-chosen"),
    path("music/playlists/<int:pk>/collaborators/", views.playlist_collaborators, name="playlist-collaborators"),
    path("music/playlists/<int:pk>/share/", views.playlist_share_view, name="playlist-share"),
    path("music/playlists/<int:pk>/entries/<int:entry_id>/remove/", views.entry_remove, name="entry-remove"),
    path("music/playlists/<int:pk>/entries/<int:entry_id>/move/", views.entry_move, name="entry-move"),
    path("music/search/", views.search_page, name="search"),
    path("music/search/suggest/", views.search_suggest, name="search-suggest"),
    path("music/search/history/clear/", views.search_history_clear, name="search-history-clear"),
    path("music/search/history/<int:entry_id>/remove/", views.search_history_remove, name="search-history-remove"),
    path("music/users/<str:username>/", views.user_detail, name="user-detail"),
    path("music/users/<str:username>/follow/", views.follow, name="user-follow"),
    path("music/users/<str:username>/unfollow/", views.unfollow, name="user-unfollow"),
]
