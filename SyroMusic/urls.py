from django.urls import path

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
]
