"""Importing a ListenBrainz export (/music/history/import/): a JSON array, JSON Lines, or ListenBrainz's ZIP;
listens matched to the catalogue by MusicBrainz id, else by names; recorded once however often the file
comes; bad lines reported where they are; a file unreadable as a whole (or too big, or a ZIP bomb)
refused with nothing recorded."""

import io
import json
import re
import zipfile
from datetime import UTC, datetime
from http import HTTPStatus

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from SyroMusic.listening import listenbrainz, record
from SyroMusic.models import Listen, ListenDay

from .factories import logged_in, make_album, make_artist, make_song, text

pytestmark = pytest.mark.django_db

URL = "/music/history/import/"
MBID = "8f3471b5-7e6a-48da-86a9-c1c07a0f47ae"
AT = int(datetime(2025, 3, 14, 21, 4, 5, tzinfo=UTC).timestamp())


@pytest.fixture
def songs():
    boc = make_artist("Boards of Canada")
    album = make_album("Music Has the Right to Children", artist=boc)
    other = make_album("Geogaddi", artist=boc)
    return {
        "roygbiv": make_song("Roygbiv", album=album, duration_ms=151_000),
        "roygbiv_live": make_song("Roygbiv", album=other, duration_ms=160_000),
        "aquarius": make_song("Aquarius", album=album, duration_ms=350_000, mbid=MBID),
        "bjork": make_song("Jóga", album=make_album("Homogenic", artist=make_artist("Björk")), duration_ms=305_000),
    }


def lb(artist, title, at=AT, release=None, **info):
    metadata = {"artist_name": artist, "track_name": title, "additional_info": info}
    if release:
        metadata["release_name"] = release
    return {"listened_at": at, "track_metadata": metadata}


LISTENS = [
    lb("BOARDS OF CANADA", "roygbiv", AT, release="Music Has the Right to Children", duration_ms=150_000),
    lb("Someone Else", "A wrong name", AT - 60, recording_mbid=MBID, submission_client="Pano Scrobbler"),  # the id wins
    lb("bjork", "Joga", AT - 120),  # accents and case do not matter
    lb("Nobody", "Nothing Here", AT - 180),
]


def jsonl(items):
    return "".join(json.dumps(item) + "\n" for item in items).encode()


def archive(files):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as made:
        for name, data in files.items():
            made.writestr(name, data)
    return buffer.getvalue()


def upload(client, data, name="listens.json"):
    return client.post(URL, {"file": SimpleUploadedFile(name, data)})


def report(response):
    assert response.status_code == HTTPStatus.OK
    return " ".join(re.sub(r"<[^>]+>", " ", re.search(r'<p class="notice" role="status">(.*?)</p>', text(response), re.S).group(1)).split())


def recorded(user):
    return sorted(
        (listen.song.title, listen.song.album.title, listen.heard_ms, listen.counted, listen.client, listen.source)
        for listen in Listen.objects.filter(user=user).select_related("song__album")
    )


EXPECTED = [
    ("Aquarius", "Music Has the Right to Children", 350_000, True, "Pano Scrobbler", "import"),
    ("Jóga", "Homogenic", 305_000, True, "ListenBrainz", "import"),
    ("Roygbiv", "Music Has the Right to Children", 150_000, True, "ListenBrainz", "import"),
]


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("listens.json", json.dumps(LISTENS).encode()),
        ("listens.jsonl", jsonl(LISTENS)),
        ("listenbrainz_alice.zip", archive({
            "user.json": json.dumps({"user_id": 1, "username": "alice"}),
            "feedback.jsonl": "",
            "listens/2025/3.jsonl": jsonl(LISTENS[:2]),
            "listens/2025/2.jsonl": jsonl(LISTENS[2:]),
        })),
        ("listens.zip", archive({"listens.json": json.dumps(LISTENS, indent=1)})),
        ("listens.jsonl", b"\xef\xbb\xbf\r\n" + jsonl(LISTENS).replace(b"\n", b"\r\n")),
    ],
    ids=["json-array", "json-lines", "listenbrainz-zip", "zip-of-a-json-array", "json-lines-with-bom-and-crlf"],
)
def test_each_form_of_export_is_imported_with_a_report(alice, songs, name, data):
    response = upload(logged_in(alice), data, name)
    assert report(response) == "4 listens read: 3 recorded, 0 already in your history, 1 not found in the catalogue."
    assert '<li>Nobody — Nothing Here <time class="meta" datetime="2025-03-14T21:01:05+00:00">14 Mar 2025 21:01</time></li>' in text(response)
    assert recorded(alice) == EXPECTED
    assert ListenDay.objects.get(user=alice).listens == 3


def test_unmatched_times_are_in_the_listeners_zone(alice, songs):
    record.change_time_zone(alice, "Europe/Paris")
    response = upload(logged_in(alice), jsonl(LISTENS))
    assert '<li>Nobody — Nothing Here <time class="meta" datetime="2025-03-14T22:01:05+01:00">14 Mar 2025 22:01</time></li>' in text(response)


def test_importing_again_records_nothing_twice(alice, songs):
    client = logged_in(alice)
    upload(client, jsonl(LISTENS))
    again = upload(client, json.dumps(LISTENS).encode())
    assert report(again) == "4 listens read: 0 recorded, 3 already in your history, 1 not found in the catalogue."
    assert Listen.objects.count() == 3
    assert ListenDay.objects.get(user=alice).listens == 3


def test_a_listen_names_its_album_to_pick_between_songs_of_the_same_name(alice, songs):
    upload(logged_in(alice), jsonl([lb("Boards of Canada", "Roygbiv", release="Geogaddi")]))
    assert Listen.objects.get().song == songs["roygbiv_live"]


def test_its_own_export_comes_back_as_the_same_listens(alice, bob, songs):
    record.record(alice, [record.Event("player-1", songs["roygbiv"].pk, datetime.fromtimestamp(AT, UTC), 120_000, client="SyroMusic web")])
    exported = b"".join(logged_in(alice).get("/music/history/export.json").streaming_content)
    assert report(upload(logged_in(alice), exported)) == "1 listen read: 0 recorded, 1 already in your history, 0 not found in the catalogue."
    assert report(upload(logged_in(bob), exported)) == "1 listen read: 1 recorded, 0 already in your history, 0 not found in the catalogue."
    copy = Listen.objects.get(user=bob)
    assert (copy.client_id, copy.song, copy.heard_ms, copy.counted, copy.client) == (
        "player-1", songs["roygbiv"], 120_000, True, "SyroMusic web"
    )


def test_bad_lines_are_reported_where_they_are_and_the_rest_imported(alice, songs):
    lines = [
        json.dumps(LISTENS[0]),
        "{not json",
        json.dumps({"listened_at": AT}),
        json.dumps(lb("", "No artist")),
        json.dumps(lb("Björk", "Jóga", at="yesterday")),
        json.dumps(lb("Björk", "Jóga", at=10)),
        "",
        json.dumps([1, 2]),
    ]
    response = upload(logged_in(alice), ("\n".join(lines) + "\n").encode(), "listens.jsonl")
    assert report(response) == (
        "1 listen read: 1 recorded, 0 already in your history, 0 not found in the catalogue; 6 lines could not be read."
    )
    assert re.findall(r'<ul class="import-bad">(.*?)</ul>', text(response), re.S)[0].split("\n")[1:-1] == [
        "  <li>listens.jsonl, line 2: not valid JSON (Expecting property name enclosed in double quotes)</li>",
        "  <li>listens.jsonl, line 3: no track_metadata</li>",
        "  <li>listens.jsonl, line 4: no artist_name or track_name</li>",
        "  <li>listens.jsonl, line 5: no listened_at time</li>",
        "  <li>listens.jsonl, line 6: listened_at 1970-01-01T00:00:10.000Z is before 2000 or in the future</li>",
        "  <li>listens.jsonl, line 8: not a listen (a JSON object was expected)</li>",
    ]
    assert recorded(alice) == [EXPECTED[2]]


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("listens.json", b'[{"listened_at": 1,\n "track_metadata": }]', "listens.json, line 2: not valid JSON (Expecting value)."),
        ("listens.json", b"artist,title\nA,B\n", "listens.json is neither a JSON array of listens nor JSON Lines (nor a ZIP of them)"),
        ("listens.json", b"\xff\xfe[]", "listens.json is not UTF-8 text (byte 1)."),
        ("listens.jsonl", b'{"a": 1}\n{"b": "\xff"}\n', "listens.jsonl is not UTF-8 text (byte 17)."),
        ("listens.json", b"[]", "The file holds no listens."),
        ("listens.jsonl", b"{oops\n", "No listen could be read: listens.jsonl, line 1: not valid JSON"),
        ("export.zip", b"PK\x03\x04 broken", "export.zip is not a ZIP file that can be read"),
        ("export.zip", archive({"notes.txt": "hello"}), "export.zip holds no .json or .jsonl file."),
        ("export.zip", archive({"listens/2025/1.jsonl": b"[1,"}), "export.zip: listens/2025/1.jsonl, line 1: not valid JSON"),
    ],
)
def test_a_file_unreadable_as_a_whole_is_refused_and_nothing_recorded(alice, songs, name, data, message):
    response = upload(logged_in(alice), data, name)
    assert response.status_code == HTTPStatus.OK
    error = re.search(r'<p class="error" role="alert">(.*?)</p>', text(response), re.S).group(1)
    assert message.replace("'", "&#x27;") in error
    assert error.endswith("Nothing was imported.")
    assert not Listen.objects.exists()


def test_a_zip_bomb_is_refused_by_what_it_unpacks_to(alice, songs, monkeypatch):
    monkeypatch.setattr(listenbrainz, "MAX_UNPACKED_BYTES", 1_000_000)
    bomb = archive({"listens/2025/1.jsonl": jsonl(LISTENS[:1]), "listens/2025/2.jsonl": b" " * 2_000_000})
    assert len(bomb) < 10_000
    response = upload(logged_in(alice), bomb, "export.zip")
    assert "export.zip unpacks to more than 1 MB, the most one import reads. Nothing was imported." in text(response)
    assert not Listen.objects.exists()


def test_a_zip_unpacking_to_more_than_20_mb_is_refused_before_any_is_read(alice, songs):
    bomb = archive({"listens/2025/1.jsonl": jsonl(LISTENS[:1]), "listens/2025/2.jsonl": b" " * 20_000_000})
    assert listenbrainz.MAX_UNPACKED_BYTES == 20_000_000
    response = upload(logged_in(alice), bomb, "export.zip")
    assert "export.zip unpacks to more than 20 MB, the most one import reads. Nothing was imported." in text(response)
    assert not Listen.objects.exists()


def test_a_zip_whose_header_understates_a_size_is_refused(alice, songs, monkeypatch):
    monkeypatch.setattr(listenbrainz, "MAX_UNPACKED_BYTES", 1_000_000)
    bomb = bytearray(archive({"listens/2025/1.jsonl": b" " * 2_000_000}))
    # Say 10 bytes in the central directory's uncompressed size (its header is the last "PK\x01\x02").
    central = bomb.rindex(b"PK\x01\x02")
    bomb[central + 24 : central + 28] = (10).to_bytes(4, "little")
    response = upload(logged_in(alice), bytes(bomb), "export.zip")
    # zipfile unpacks no more than the header says, then finds the checksum wrong.
    assert (
        '<p class="error" role="alert">export.zip: listens/2025/1.jsonl cannot be unpacked '
        "(Bad CRC-32 for file &#x27;listens/2025/1.jsonl&#x27;). Nothing was imported.</p>"
    ) in text(response)
    assert not Listen.objects.exists()


def test_an_oversized_file_is_refused(alice, songs, monkeypatch):
    monkeypatch.setattr(listenbrainz, "MAX_UPLOAD_BYTES", 1_000)
    response = upload(logged_in(alice), json.dumps(LISTENS * 10).encode())
    assert '<p class="error" role="alert">listens.json is larger than 0.001 MB.</p>' in text(response)
    assert not Listen.objects.exists()


def test_a_large_file_is_recorded_in_batches(alice, songs, monkeypatch):
    monkeypatch.setattr(listenbrainz, "RECORD_BATCH", 100)
    many = [lb("Boards of Canada", "Roygbiv", AT - number) for number in range(250)]
    calls = []
    real = record.record
    monkeypatch.setattr(record, "record", lambda user, events, **options: calls.append(len(events)) or real(user, events, **options))
    assert report(upload(logged_in(alice), jsonl(many))) == "250 listens read: 250 recorded, 0 already in your history, 0 not found in the catalogue."
    assert calls == [100, 100, 50]
    assert Listen.objects.count() == 250


def test_the_import_page_explains_itself(alice):
    page = text(logged_in(alice).get(URL))
    assert "<h1>Import listens from ListenBrainz</h1>" in page
    assert 'enctype="multipart/form-data"' in page
    assert "Importing the same file again adds nothing twice." in page
    assert "up to 5 MB, and a ZIP up to 20 MB unpacked." in page
