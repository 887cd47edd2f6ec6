"""What may be cached, under which key, and for whom (hardening: found by trying to break it)."""

import os
import re
import subprocess
import sys
from http import HTTPStatus

import pytest
from django.conf import settings
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from .factories import logged_in, make_playlist, make_song, make_user, text

pytestmark = pytest.mark.django_db


def page(response):
    """The page without its CSRF token (each response masks the token afresh)."""
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", text(response))


def test_repeated_parameters_in_another_order_are_another_page(django_assert_num_queries):
    make_song("Alpha", duration_ms=300_000)
    make_song("Omega", duration_ms=100_000)
    client = Client()
    by_duration = page(client.get("/music/songs/?sort=title&sort=duration"))
    by_title = page(client.get("/music/songs/?sort=duration&sort=title"))
    assert by_duration.index("Omega") < by_duration.index("Alpha")
    assert by_title.index("Alpha") < by_title.index("Omega")
    with django_assert_num_queries(0):
        assert page(client.get("/music/songs/?sort=duration&sort=title")) == by_title


def test_parameters_in_another_order_are_the_same_page(django_assert_num_queries):
    make_song("Alpha")
    client = Client()
    first = page(client.get("/music/songs/?sort=title&page=1"))
    with django_assert_num_queries(0):
        assert page(client.get("/music/songs/?page=1&sort=title")) == first


def test_your_own_profile_page_is_private():
    alice = make_user("alice")
    response = logged_in(alice).get("/music/users/alice/")
    assert response.status_code == HTTPStatus.OK
    assert "private" in response["Cache-Control"]
    assert "Cookie" in response["Vary"]


@pytest.mark.parametrize("api", [False, True])
def test_a_private_playlists_file_is_private(api):
    alice = make_user("alice")
    playlist = make_playlist(owner=alice, songs=[make_song()])
    if api:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=alice).key}")
        response = client.get(f"/api/v1/playlists/{playlist.pk}/export/m3u8/")
    else:
        response = logged_in(alice).get(f"/music/playlists/{playlist.pk}/export.m3u8")
    assert response.status_code == HTTPStatus.OK
    assert "private" in response["Cache-Control"]


def test_anonymous_pages_are_not_marked_private_by_the_logged_in_rule():
    make_song()
    response = Client().get("/music/users/nobody/")
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert "private" not in response.get("Cache-Control", "")


@pytest.mark.skipif(not settings.CACHE_VERSIONS_DIR, reason="with Redis the versions are shared through Redis")
def test_a_write_by_another_process_reaches_this_ones_pages_with_the_default_cache(django_assert_num_queries):
    make_song("Alpha")
    client = Client()
    client.get("/music/songs/")
    with django_assert_num_queries(0):
        client.get("/music/songs/")
    # Another process (a command in another terminal) changes the catalogue: it bumps the shared version.
    code = "import django; django.setup(); from SyroMusic import caching; caching.bump(caching.CATALOGUE)"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "Syro.settings", "CACHE_VERSIONS_DIR": settings.CACHE_VERSIONS_DIR}
    subprocess.run([sys.executable, "-c", code], cwd=settings.BASE_DIR, env=env, check=True, timeout=120)
    with django_assert_num_queries(3):
        client.get("/music/songs/")
