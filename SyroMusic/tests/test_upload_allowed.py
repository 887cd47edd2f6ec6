"""/front/upload-allowed/: what nginx asks before it reads a large body for the admin's upload pages."""

import pytest

from .factories import logged_in, make_user

pytestmark = pytest.mark.django_db

SONG_PAGE, ALBUM_PAGE = "/admin/SyroMusic/song/1/change/", "/admin/SyroMusic/album/1/change/"


@pytest.fixture(autouse=True)
def limits(settings):
    settings.MAX_REQUEST_BYTES, settings.AUDIO_UPLOAD_MAX_BYTES, settings.COVER_UPLOAD_MAX_BYTES = 1000, 5000, 3000


def ask(client, path, method="POST", length=""):
    return client.get(
        "/front/upload-allowed/", HTTP_X_ORIGINAL_URI=path, HTTP_X_ORIGINAL_METHOD=method, HTTP_X_ORIGINAL_LENGTH=length
    ).status_code


@pytest.fixture
def staff():
    return logged_in(make_user("sam", is_staff=True, is_superuser=True))


@pytest.fixture
def listener():
    return logged_in(make_user("dana"))


@pytest.mark.parametrize(
    "who, path, method, length, status",
    [
        ("anonymous", SONG_PAGE, "GET", "", 204),  # no body
        ("anonymous", SONG_PAGE, "POST", "1000", 204),  # within the general limit: the app decides as usual
        ("anonymous", SONG_PAGE, "POST", "1001", 403),
        ("anonymous", SONG_PAGE, "POST", "", 403),  # a chunked body of unknown length
        ("listener", SONG_PAGE, "POST", "4000", 403),
        ("staff", SONG_PAGE, "POST", "6000", 204),  # the general limit plus the audio upload's
        ("staff", SONG_PAGE, "POST", "6001", 403),
        ("staff", ALBUM_PAGE, "POST", "4000", 204),
        ("staff", ALBUM_PAGE, "POST", "4001", 403),  # a cover's limit is smaller
        ("staff", SONG_PAGE + "?_changelist_filters=x", "POST", "6000", 204),
        ("staff", "/admin/login/", "POST", "1001", 403),  # no upload there
    ],
)
def test_only_staff_who_may_change_the_thing_may_send_an_upload_sized_body(
    client, staff, listener, who, path, method, length, status
):
    asking = {"anonymous": client, "staff": staff, "listener": listener}[who]
    assert ask(asking, path, method, length) == status
