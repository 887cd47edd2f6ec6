"""The Subsonic face's plumbing (issue 17): /rest/ addresses, the envelope in XML and JSON, app-password
authentication in its three forms, the login limiter, every error code, and never a 500."""

import binascii
from datetime import timedelta
from http import HTTPStatus
from xml.etree import ElementTree

import pytest
from cryptography.fernet import Fernet
from django.http import HttpResponse
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from SyroMusic.models import AppPassword
from SyroMusic.subsonic import core, envelope, ids
from SyroMusic.subsonic.core import Params, SubsonicError

from .factories import make_user
from .subsonic_calls import NS, app_password, as_json, error_of, ok_json, ok_xml, rest, token, xml

pytestmark = pytest.mark.django_db

WAIT = "Too many failed attempts. Please wait 15 minutes and try again."


@pytest.fixture
def carol():
    return make_user("carol")


@pytest.fixture
def key(carol):
    return app_password(carol)


class TestAddresses:
    @pytest.mark.parametrize("address", ["/rest/ping", "/rest/ping.view", "/rest/ping/"])
    def test_every_spelling_of_a_method_reaches_it(self, carol, key, address):
        response = Client().get(address, token(carol, key))
        assert ok_xml(response).get("status") == "ok"

    def test_form_posts_reach_the_method_without_a_csrf_token(self, carol, key):
        client = Client(enforce_csrf_checks=True)
        response = rest("ping", token(carol, key), client=client, post=True, f="json")
        assert ok_json(response)["status"] == "ok"

    def test_an_unknown_method_is_error_0_not_implemented_with_http_200(self):
        response = rest("getVideos")
        assert response.status_code == HTTPStatus.OK
        assert error_of(response) == (0, "Method not implemented: getVideos")

    def test_any_other_address_under_rest_is_an_envelope_too(self):
        assert error_of(Client().get("/rest/")) == (0, "Method not implemented: ")
        assert error_of(Client().get("/rest/a/b.view")) == (0, "Method not implemented: a/b.view")

    def test_other_http_methods_are_error_0(self, carol, key):
        response = Client().put("/rest/ping.view")
        assert error_of(response) == (0, "Method PUT is not allowed: use GET or POST")

    def test_answers_are_never_stored_by_caches(self, carol, key):
        for response in (rest("ping", token(carol, key)), rest("ping"), rest("nope", f="json")):
            assert response["Cache-Control"] == "no-store"


class TestEnvelope:
    def test_ping_answers_the_ok_envelope_in_xml_with_the_subsonic_namespace(self, carol, key):
        response = rest("ping", token(carol, key))
        assert response.content == (
            b'<?xml version="1.0" encoding="UTF-8"?>\n<subsonic-response xmlns="http://subsonic.org/restapi" '
            b'status="ok" version="1.16.1" type="syromusic" serverVersion="1.0.0" openSubsonic="true" />'
        )

    def test_ping_answers_the_ok_envelope_in_json_with_f_json(self, carol, key):
        response = rest("ping", token(carol, key), f="json")
        assert response.json() == {"subsonic-response": {
            "status": "ok", "version": "1.16.1", "type": "syromusic", "serverVersion": "1.0.0", "openSubsonic": True,
        }}

    def test_payloads_map_to_attributes_children_lists_and_text(self):
        payload = {"lyrics": {
            "lang": "en", "synced": True, "offset": None,
            "line": [{"start": 0, "value": "One & two"}, {"start": 1500, "value": "Three <four>"}],
            "empty": [], "meta": {"by": "x"},
        }}
        body = envelope.ok(payload).content.decode().split("\n", 1)[1]
        assert body == (
            '<subsonic-response xmlns="http://subsonic.org/restapi" status="ok" version="1.16.1" type="syromusic" '
            'serverVersion="1.0.0" openSubsonic="true"><lyrics lang="en" synced="true">'
            '<line start="0">One &amp; two</line><line start="1500">Three &lt;four&gt;</line><meta by="x" />'
            "</lyrics></subsonic-response>"
        )
        assert as_json(envelope.ok(payload, as_json=True))["lyrics"] == {
            "lang": "en", "synced": True,
            "line": [{"start": 0, "value": "One & two"}, {"start": 1500, "value": "Three <four>"}],
            "empty": [], "meta": {"by": "x"},
        }

    def test_xml_leaves_out_characters_xml_cannot_carry(self):
        root = xml(envelope.ok({"song": {"title": "bell\x07 and\x1b escape"}}))
        assert root.find(f"{NS}song").get("title") == "bell and escape"

    def test_a_failure_carries_code_and_message(self):
        response = envelope.failure(SubsonicError(70, "Album not found: 9"))
        assert error_of(response) == (70, "Album not found: 9")
        assert as_json(envelope.failure(SubsonicError(70, "gone"), as_json=True)) == {
            "status": "failed", "version": "1.16.1", "type": "syromusic", "serverVersion": "1.0.0",
            "openSubsonic": True, "error": {"code": 70, "message": "gone"},
        }


class TestParams:
    def params(self, query):
        from django.http import QueryDict

        return Params(QueryDict(query))

    def test_repeated_parameters_keep_every_value_and_get_reads_the_first(self):
        params = self.params("id=1&id=2&id=&name=x")
        assert (params.list("id"), params.get("id"), params.get("name"), params.get("other", "d")) == (
            ["1", "2"], "1", "x", "d",
        )

    def test_require_is_error_10_naming_the_parameter(self):
        with pytest.raises(SubsonicError) as raised:
            self.params("id=").require("id")
        assert (raised.value.code, raised.value.message) == (10, "Required parameter is missing: id")

    @pytest.mark.parametrize(("query", "message"), [
        ("size=ten", "Parameter size must be a whole number, not 'ten'"),
        ("size=-1", "Parameter size must be at least 0"),
        ("size=501", "Parameter size must be at most 500"),
    ])
    def test_bad_numbers_are_error_0_naming_the_parameter(self, query, message):
        with pytest.raises(SubsonicError) as raised:
            self.params(query).int("size", minimum=0, maximum=500)
        assert (raised.value.code, raised.value.message) == (0, message)

    def test_numbers_and_booleans_read_as_subsonic_writes_them(self):
        params = self.params("size=12&a=true&b=false&c=1")
        assert (params.int("size"), params.int("none", 5), params.bool("a"), params.bool("b"), params.bool("c"),
                params.bool("none", True)) == (12, 5, True, False, True, True)
        with pytest.raises(SubsonicError):
            self.params("a=maybe").bool("a")

    def test_nul_characters_are_dropped(self):
        assert self.params("q=a%00b").get("q") == "ab"


class TestIds:
    def test_ids_round_trip_with_their_prefixes(self):
        assert (ids.song(ids.of_song(7)), ids.album(ids.of_album(8)), ids.artist(ids.of_artist(9)),
                ids.playlist(ids.of_playlist(10))) == (7, 8, 9, 10)
        assert [ids.kind(raw) for raw in ("al-3", "ar-4", "5")] == [("album", 3), ("artist", 4), ("song", 5)]

    @pytest.mark.parametrize(("reader", "raw"), [
        (ids.song, "al-3"), (ids.album, "3"), (ids.artist, "al-3"), (ids.song, "-1"), (ids.song, "1" * 19),
        (ids.album, "al-"), (ids.playlist, ""), (ids.song, "１２"),
    ])
    def test_a_malformed_id_is_error_70(self, reader, raw):
        with pytest.raises(SubsonicError) as raised:
            reader(raw)
        assert raised.value.code == 70


class TestAuthentication:
    def test_token_and_salt_authenticate(self, carol, key):
        ok_xml(rest("ping", token(carol, key, salt="s4lt")))

    def test_the_plain_app_password_authenticates(self, carol, key):
        ok_xml(rest("ping", {"u": "carol", "p": key}))

    def test_the_hex_encoded_app_password_authenticates(self, carol, key):
        ok_xml(rest("ping", {"u": "carol", "p": "enc:" + binascii.hexlify(key.encode()).decode()}))

    def test_an_api_key_authenticates_alone(self, carol, key):
        assert ok_json(rest("ping", {"apiKey": key}, f="json"))

    def test_any_of_the_listeners_app_passwords_authenticates(self, carol, key):
        other = app_password(carol, "Tablet")
        ok_xml(rest("ping", token(carol, other)))
        ok_xml(rest("ping", token(carol, key)))

    def test_the_login_password_is_never_accepted(self, carol, key):
        for credentials in (token(carol, "correct horse battery"), {"u": "carol", "p": "correct horse battery"},
                            {"apiKey": "correct horse battery"}):
            assert error_of(rest("ping", credentials))[0] in (40, 44)

    def test_another_listeners_app_password_is_wrong(self, carol, key):
        dave = make_user("dave")
        assert error_of(rest("ping", token(dave, key))) == (40, "Wrong username or password.")

    def test_a_revoked_app_password_is_wrong(self, carol, key):
        AppPassword.objects.filter(user=carol).delete()
        assert error_of(rest("ping", token(carol, key))) == (40, "Wrong username or password.")
        assert error_of(rest("ping", {"apiKey": key})) == (44, "Invalid API key.")

    def test_an_inactive_listener_is_refused_like_a_wrong_password(self, carol, key):
        carol.is_active = False
        carol.save()
        assert error_of(rest("ping", token(carol, key))) == (40, "Wrong username or password.")
        assert error_of(rest("ping", {"apiKey": key})) == (44, "Invalid API key.")

    def test_an_app_password_sealed_with_a_lost_key_no_longer_works(self, carol, key, settings):
        settings.APP_PASSWORD_KEY = Fernet.generate_key().decode()
        assert error_of(rest("ping", token(carol, key))) == (40, "Wrong username or password.")
        # The plain password and the API key are found by their digest, which no key changes.
        ok_xml(rest("ping", {"u": "carol", "p": key}))

    def test_an_unknown_user_is_wrong_credentials(self):
        assert error_of(rest("ping", {"u": "nobody", "p": "x"})) == (40, "Wrong username or password.")

    @pytest.mark.parametrize(("credentials", "error"), [
        ({}, (10, "Required parameter is missing: u")),
        ({"u": "carol"}, (10, "Required parameter is missing: p (or t and s)")),
        ({"u": "carol", "t": "abc"}, (10, "Required parameter is missing: s")),
        ({"u": "carol", "t": "abc", "s": "x", "p": "y"}, (43, "Send either p or t and s, not both.")),
        ({"u": "carol", "apiKey": "k"}, (43, "Send either apiKey or u with p or t and s, not both.")),
        ({"apiKey": "k", "p": "y"}, (43, "Send either apiKey or u with p or t and s, not both.")),
        ({"apiKey": "not-a-key"}, (44, "Invalid API key.")),
        ({"u": "carol", "p": "enc:zz"}, (40, "Wrong username or password.")),
    ])
    def test_missing_and_conflicting_credentials_have_their_codes(self, carol, key, credentials, error):
        assert error_of(rest("ping", credentials)) == error
        assert error_of(rest("ping", credentials, f="json")) == error

    @pytest.mark.parametrize(("version", "error"), [
        ("0.9", (20, "Incompatible Subsonic REST protocol version. Client must upgrade.")),
        ("2.0.0", (30, "Incompatible Subsonic REST protocol version. Server must upgrade.")),
    ])
    def test_a_client_of_another_major_version_is_told_who_must_upgrade(self, carol, key, version, error):
        assert error_of(rest("ping", token(carol, key), v=version)) == error

    def test_older_and_newer_minor_versions_are_fine(self, carol, key):
        for version in ("1.1.0", "1.16.1", "1.99", "unknown"):
            ok_xml(rest("ping", token(carol, key), v=version))

    def test_getting_the_extensions_needs_no_credentials(self):
        root = ok_xml(rest("getOpenSubsonicExtensions"))
        assert [(node.get("name"), [v.text for v in node]) for node in root] == [
            ("apiKeyAuthentication", ["1"]), ("formPost", ["1"]), ("songLyrics", ["1"]), ("transcodeOffset", ["1"]),
        ]

    def test_other_methods_need_credentials_even_with_a_site_session(self, carol, key):
        client = Client()
        client.force_login(carol)
        assert error_of(rest("ping", client=client)) == (10, "Required parameter is missing: u")


class TestLastUsed:
    def test_the_first_use_is_written_and_the_next_within_a_minute_costs_no_write(
        self, carol, django_assert_num_queries
    ):
        row, plain = AppPassword.create(carol, "Phone")
        with django_assert_num_queries(2):  # the app passwords, then last_used_at
            ok_xml(rest("ping", token(carol, plain)))
        row.refresh_from_db()
        first = row.last_used_at
        assert timezone.now() - first < timedelta(seconds=30)
        with django_assert_num_queries(1):
            ok_xml(rest("ping", token(carol, plain)))
        row.refresh_from_db()
        assert row.last_used_at == first

    def test_a_use_a_minute_later_is_written(self, carol):
        row, plain = AppPassword.create(carol, "Phone")
        long_ago = timezone.now() - timedelta(minutes=2)
        AppPassword.objects.filter(pk=row.pk).update(last_used_at=long_ago)
        ok_xml(rest("ping", {"apiKey": plain}))
        row.refresh_from_db()
        assert row.last_used_at > long_ago + timedelta(minutes=1)

    def test_only_the_app_password_used_is_marked(self, carol, key):
        row, _ = AppPassword.create(carol, "Unused")
        ok_xml(rest("ping", token(carol, key)))
        row.refresh_from_db()
        assert row.last_used_at is None

    def test_with_twenty_app_passwords_a_token_check_is_still_one_query(self, carol, django_assert_num_queries):
        keys = [app_password(carol, f"App {n}") for n in range(AppPassword.MAX_PER_USER)]
        with django_assert_num_queries(1):
            ok_xml(rest("ping", token(carol, keys[-1])))


class TestLoginLimiter:
    def test_five_wrong_passwords_block_even_the_right_one_with_the_wait(self, carol, key):
        for _ in range(5):
            assert error_of(rest("ping", {"u": "carol", "p": "guess"})) == (40, "Wrong username or password.")
        assert error_of(rest("ping", token(carol, key))) == (40, WAIT)

    def test_failures_on_the_login_page_count_here_too(self, carol, key):
        for _ in range(5):
            Client().post("/accounts/login/", {"username": "carol", "password": "guess"})
        assert error_of(rest("ping", {"u": "carol", "p": key})) == (40, WAIT)

    def test_failures_here_count_on_the_login_page(self, carol, key):
        for _ in range(5):
            rest("ping", token(carol, "guess"))
        response = Client().post("/accounts/login/", {"username": "carol", "password": "correct horse battery"})
        assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS

    def test_wrong_api_keys_are_counted_by_address(self, carol, key):
        for _ in range(20):
            assert error_of(rest("ping", {"apiKey": "guess"}))[0] == 44
        assert error_of(rest("ping", {"apiKey": key})) == (40, WAIT)
        other_address = Client(REMOTE_ADDR="10.0.0.9")
        ok_xml(rest("ping", {"apiKey": key}, client=other_address))

    def test_a_blocked_listener_costs_no_password_check(self, carol, key, django_assert_num_queries):
        for _ in range(5):
            rest("ping", {"u": "carol", "p": "guess"})
        with django_assert_num_queries(0):
            assert error_of(rest("ping", token(carol, key))) == (40, WAIT)


class TestRequestLog:
    def test_the_request_log_masks_passwords_tokens_and_keys(self, carol, key, caplog):
        rest("ping", {"u": "carol", "p": key})
        rest("ping", token(carol, key, salt="pepper"))
        rest("ping", {"apiKey": key})
        logged = [record.getMessage() for record in caplog.records if record.name == "syromusic.requests"]
        assert [line.split(" 200 ")[0] for line in logged] == [
            "GET /rest/ping.view?v=1.16.1&c=tests&u=carol&p=***",
            "GET /rest/ping.view?v=1.16.1&c=tests&u=carol&t=***&s=pepper",
            "GET /rest/ping.view?v=1.16.1&c=tests&apiKey=***",
        ]


class TestNeverA500:
    def test_a_method_that_crashes_answers_error_0_and_logs_it(self, carol, key, monkeypatch, caplog):
        def broken(request, params):
            raise RuntimeError("bug")

        monkeypatch.setitem(core.METHODS, "broken", broken)
        response = rest("broken", token(carol, key), f="json")
        assert error_of(response) == (0, "The server failed to answer; it has been logged.")
        assert "Subsonic method broken failed" in caplog.text

    def test_a_raw_method_answers_as_it_likes_and_its_errors_get_the_envelope(self, carol, key, monkeypatch):
        def raw(request, params):
            if params.get("fail"):
                raise SubsonicError(70, "No such file")
            return HttpResponse(b"bytes", content_type="audio/mpeg")

        monkeypatch.setitem(core.METHODS, "rawThing", raw)
        monkeypatch.setattr(core, "RAW", core.RAW | {"rawThing"})
        monkeypatch.setattr("SyroMusic.subsonic.endpoint.RAW", core.RAW)
        response = rest("rawThing", token(carol, key))
        assert (response.content, response["Content-Type"]) == (b"bytes", "audio/mpeg")
        assert error_of(rest("rawThing", token(carol, key), fail="1")) == (70, "No such file")

    def test_method_sees_the_authenticated_listener(self, carol, key, monkeypatch):
        monkeypatch.setitem(core.METHODS, "whoAmI", lambda request, params: {"me": {"name": request.user.username}})
        assert ok_json(rest("whoAmI", {"apiKey": key}, f="json"))["me"] == {"name": "carol"}

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(
        name=st.sampled_from(sorted(core.METHODS)),
        params=st.dictionaries(
            st.sampled_from(["id", "type", "size", "offset", "count", "query", "genre", "fromYear", "toYear",
                             "username", "f", "artistCount", "songOffset", "ifModifiedSince", "albumId", "format",
                             "maxBitRate", "timeOffset", "submission", "time", "songId", "playlistId", "name"]),
            st.one_of(st.text(max_size=30), st.integers(-2**70, 2**70).map(str),
                      st.sampled_from(["al-1", "ar-1", "1", "random", "byYear", "byGenre", "json", "al-99999999"])),
            max_size=5,
        ),
    )
    def test_random_parameters_to_any_method_get_an_envelope_never_a_500(self, carol, key, name, params):
        response = rest(name, token(carol, key), **params)
        assert response.status_code == HTTPStatus.OK
        if not response["Content-Type"].startswith(("text/xml", "application/json")):
            return  # a raw method's media
        if response["Content-Type"].startswith("application/json"):
            status = as_json(response)["status"]
        else:
            status = xml(response).get("status")
        assert status in ("ok", "failed")
        if status == "failed":
            assert "failed to answer" not in error_of(response)[1]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(credentials=st.dictionaries(
    st.sampled_from(["u", "p", "t", "s", "apiKey", "v", "f"]),
    st.one_of(st.text(max_size=40), st.sampled_from(["carol", "enc:", "enc:zz", "enc:c3a9", "json", "2", "0.1"])),
    max_size=5,
))
def test_random_credentials_get_an_envelope_never_a_500(carol, key, credentials):
    # Random credentials never match carol's app password: every answer is a failure, with a code that says why.
    code, message = error_of(rest("ping", credentials))
    assert code in (10, 20, 30, 40, 43, 44) and "failed to answer" not in message


def test_xml_answers_parse_with_the_namespace_everywhere(carol, key):
    root = ElementTree.fromstring(rest("getMusicFolders", token(carol, key)).content)
    assert [child.tag for child in root.iter()] == [
        f"{NS}subsonic-response", f"{NS}musicFolders", f"{NS}musicFolder",
    ]
