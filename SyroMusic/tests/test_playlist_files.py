import json
import re
import xml.etree.ElementTree as ElementTree
from html import unescape as html_unescape
from http import HTTPStatus

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from rest_framework.test import APIClient

from SyroMusic.models import Playlist
from SyroMusic.playlist_files import fold

from .factories import logged_in, make_album, make_artist, make_playlist, make_song, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue():
    beyonce = make_artist("Beyoncé")
    joao = make_artist("João Gilberto")
    return {
        "halo": make_song("Halo", album=make_album("I Am... Sasha Fierce", artist=beyonce), duration_ms=261_000),
        "chega": make_song("Chega de Saudade", album=make_album("Chega de Saudade", artist=joao), duration_ms=120_000),
        "chega_live": make_song("Chega de Saudade", album=make_album("Live in Tokyo", artist=joao)),
    }


@pytest.fixture
def playlist(catalogue):
    return make_playlist(owner=make_user("alice"), name="Bossa & Pop", is_public=True, songs=[catalogue["chega"], catalogue["halo"]])


def test_m3u8_export(client, playlist, catalogue):
    response = client.get(f"/music/playlists/{playlist.pk}/export.m3u8")
    assert response["Content-Type"] == "audio/x-mpegurl; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="bossa-pop.m3u8"'
    assert response.content.decode().splitlines() == [
        "#EXTM3U", "#PLAYLIST:Bossa & Pop",
        "#EXTINF:120,João Gilberto - Chega de Saudade", "#EXTALB:Chega de Saudade",
        f"http://testserver/music/songs/{catalogue['chega'].pk}/",
        "#EXTINF:261,Beyoncé - Halo", "#EXTALB:I Am... Sasha Fierce", f"http://testserver/music/songs/{catalogue['halo'].pk}/",
    ]


def test_xspf_export_is_valid_xml_with_every_track(client, playlist):
    root = ElementTree.fromstring(client.get(f"/music/playlists/{playlist.pk}/export.xspf").content)
    ns = {"x": "http://xspf.org/ns/0/"}
    assert root.findtext("x:title", namespaces=ns) == "Bossa & Pop"
    tracks = [(t.findtext("x:creator", namespaces=ns), t.findtext("x:title", namespaces=ns), t.findtext("x:trackNum", namespaces=ns))
              for t in root.iterfind(".//x:track", ns)]
    assert tracks == [("João Gilberto", "Chega de Saudade", "1"), ("Beyoncé", "Halo", "2")]


def test_jspf_export_through_the_api(playlist):
    response = APIClient().get(f"/api/v1/playlists/{playlist.pk}/export/jspf/")
    document = json.loads(response.content)
    assert document["playlist"]["title"] == "Bossa & Pop" and document["playlist"]["creator"] == "alice"
    assert [(t["creator"], t["title"], t["duration"]) for t in document["playlist"]["track"]] == [
        ("João Gilberto", "Chega de Saudade", 120_000), ("Beyoncé", "Halo", 261_000)
    ]


def test_a_private_playlists_files_are_404_to_others(playlist):
    playlist.is_public = False
    playlist.save()
    assert Client().get(f"/music/playlists/{playlist.pk}/export.xspf").status_code == HTTPStatus.NOT_FOUND
    assert APIClient().get(f"/api/v1/playlists/{playlist.pk}/export/m3u8/").status_code == HTTPStatus.NOT_FOUND


def test_names_fold_without_case_or_accents():
    assert fold("Beyoncé") == fold("BEYONCE") == "beyonce"
    assert fold("  João   Gilberto ") == "joao gilberto"


def upload(name, text, encoding="utf-8"):
    return SimpleUploadedFile(name, text.encode(encoding))


def importing(user, file, name=""):
    return logged_in(user).post("/music/playlists/import/", {"file": file, "name": name})


def report_rows(response):
    html = response.content.decode()
    rows = re.findall(r'<tr class="(matched|missed)">(.*?)</tr>', html, re.S)
    return [(kind, html_unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", cells)).strip())) for kind, cells in rows]


def test_importing_an_m3u8_matches_ignoring_case_and_accents_and_reports_the_rest(catalogue):
    dana = make_user("dana")
    text = (
        "#EXTM3U\n#EXTINF:261,BEYONCE - halo\nhalo.mp3\n"
        "#EXTINF:120,Joao Gilberto - Chega de Saudade\n#EXTALB:Live in Tokyo\nchega.mp3\n"
        "#EXTINF:200,Nobody - Nothing\nnothing.mp3\n"
        "#EXTINF:200,Beyoncé - Crazy in Love\ncrazy.mp3\n"
    )
    response = importing(dana, upload("Road Trip.m3u8", text))
    playlist = Playlist.objects.get(owner=dana)
    assert playlist.name == "Road Trip" and not playlist.is_public
    assert list(playlist.entries.order_by("position").values_list("song_id", flat=True)) == [
        catalogue["halo"].pk, catalogue["chega_live"].pk,
    ]
    assert "2 of 4 entries matched; 2 not found." in response.content.decode()
    assert [(kind, row.split(" ", 1)[0]) for kind, row in report_rows(response)] == [
        ("matched", "1"), ("matched", "2"), ("missed", "3"), ("missed", "4"),
    ]
    rows = report_rows(response)
    assert rows[2][1].endswith("no artist called 'Nobody' in the catalogue")
    assert rows[3][1].endswith("Beyoncé has no song called 'Crazy in Love'")


def test_importing_xspf_and_an_ambiguous_title_takes_the_first_and_says_so(catalogue):
    dana = make_user("dana")
    text = (
        '<?xml version="1.0" encoding="UTF-8"?><playlist version="1" xmlns="http://xspf.org/ns/0/"><trackList>'
        "<track><creator>João Gilberto</creator><title>Chega de Saudade</title></track>"
        "</trackList></playlist>"
    )
    response = importing(dana, upload("bossa.xspf", text), name="Bossa")
    assert Playlist.objects.get(owner=dana).name == "Bossa"
    assert report_rows(response)[0][1].endswith("2 songs match; took the one on 'Chega de Saudade'")


@pytest.mark.parametrize(
    ("name", "content", "error"),
    [
        ("list.txt", "whatever", "Choose an .m3u, .m3u8 or .xspf file."),
        ("broken.xspf", "<playlist><trackList>", "This XSPF file is not well-formed XML"),
        ("empty.m3u", "#EXTM3U\n", "The file lists no songs."),
    ],
)
def test_a_bad_file_is_explained_and_creates_nothing(catalogue, name, content, error):
    response = importing(make_user("dana"), upload(name, content))
    assert error in response.content.decode()
    assert not Playlist.objects.exists()


def test_a_latin1_m3u_is_read(catalogue):
    dana = make_user("dana")
    importing(dana, upload("old.m3u", "#EXTINF:1,Beyoncé - Halo\nhalo.mp3\n", encoding="latin-1"))
    assert Playlist.objects.get(owner=dana).entries.count() == 1
