"""A Subsonic app may post a whole playlist or queue as one form: /rest/ reads more fields than a web form may
carry, up to its own cap, and past that answers a Subsonic error, never Django's HTML 400."""

from urllib.parse import urlencode

import pytest

from SyroMusic.models import Playlist
from SyroMusic.subsonic.endpoint import MAX_FIELDS

from .factories import make_song, make_user
from .subsonic_calls import app_password, as_json, error_of, token

pytestmark = pytest.mark.django_db


def post_form(client, method, pairs):
    return client.generic("POST", f"/rest/{method}.view", urlencode(pairs), "application/x-www-form-urlencoded")


def test_a_playlist_of_more_songs_than_a_web_form_carries_is_created_from_one_post(client):
    alice = make_user("alice")
    credentials = token(alice, app_password(alice))
    song = make_song()
    pairs = [*credentials.items(), ("v", "1.16.1"), ("c", "tests"), ("f", "json"), ("name", "Long")]
    pairs += [("songId", str(song.pk))] * 1_500
    answer = as_json(post_form(client, "createPlaylist", pairs))
    assert answer["status"] == "ok"
    playlist = Playlist.objects.get(owner=alice, name="Long")
    assert playlist.entries.count() == 1_500


def test_past_the_cap_a_form_is_a_subsonic_error_that_says_why(client):
    alice = make_user("alice")
    pairs = [*token(alice, app_password(alice)).items(), ("f", "json")] + [("songId", "1")] * MAX_FIELDS
    code, message = error_of(client.generic("POST", "/rest/createPlaylist.view?f=json", urlencode(pairs),
                                            "application/x-www-form-urlencoded"))
    assert code == 0
    assert message.startswith("The form could not be read (")
    assert message.endswith(f"at most {MAX_FIELDS:,} fields and the server's size limit")


def test_a_queue_of_a_thousand_songs_is_saved_from_one_post(client):
    alice = make_user("alice")
    song = make_song()
    credentials = [*token(alice, app_password(alice)).items(), ("v", "1.16.1"), ("c", "tests"), ("f", "json")]
    pairs = credentials + [("id", str(song.pk))] * 1_000 + [("current", str(song.pk))]
    assert as_json(post_form(client, "savePlayQueue", pairs))["status"] == "ok"
    entries = as_json(client.get("/rest/getPlayQueue.view?" + urlencode(credentials)))["playQueue"]["entry"]
    assert [entry["id"] for entry in entries] == [str(song.pk)] * 1_000


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("multipart/form-data", "u=alice"),  # no boundary
        ("multipart/form-data; boundary=x", "--x\\r\\nbroken"),
    ],
)
def test_a_form_that_cannot_be_read_is_a_subsonic_error(client, content_type, body):
    make_user("alice")
    code, message = error_of(client.generic("POST", "/rest/ping.view?f=json", body, content_type))
    assert code in (0, 10, 40)
    assert message
