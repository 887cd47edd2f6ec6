"""Offline mode on the server: the service worker's script (/sw.js) and the offline page (/offline/).
What the worker does in a browser is test_offline_browser.py."""

import json
import re
import shutil
from http import HTTPStatus

import pytest
from django.core.management import call_command
from django.test import Client

from .factories import logged_in, make_user


def config(response):
    """The `self.syroConfig` the worker's script begins with."""
    head = re.match(r"self\.syroConfig = (\{.*?\n\});\n", response.content.decode(), re.S)
    return json.loads(head.group(1))


def worker_version():
    return config(Client().get("/sw.js"))["version"]


@pytest.fixture
def static_copy(settings, tmp_path):
    """The project's static files in a directory of the test's own, to change as a deploy would."""
    copy = tmp_path / "static"
    shutil.copytree(settings.BASE_DIR / "static", copy)
    settings.STATICFILES_DIRS = [copy]
    return copy


@pytest.mark.django_db
@pytest.mark.parametrize("who", [None, "alice"])
def test_the_worker_is_javascript_at_the_root_that_browsers_always_revalidate(who, django_assert_num_queries):
    client = logged_in(make_user(who) if who else None)
    with django_assert_num_queries(0):
        response = client.get("/sw.js")
    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"] == "text/javascript"
    assert response["Cache-Control"] == "no-cache"  # not `private`, not the page cache's max-age=0
    assert "Cookie" not in response.get("Vary", "")  # one script for everyone
    source = response.content.decode()
    assert source.index("self.syroConfig = ") == 0
    assert "const CONFIG = self.syroConfig;" in source
    assert "importScripts(CONFIG.saved);" in source


@pytest.mark.django_db
def test_the_worker_is_told_its_version_the_offline_page_and_the_files_every_page_loads(settings):
    told = config(Client().get("/sw.js"))
    assert re.fullmatch(r"[0-9a-f]{16}", told["version"])
    assert told["offline"] == "/offline/"
    assert told["static"] == "/static/"
    assert told["media"] == ["/audio/", "/media/covers/"]
    assert told["saved"] == "/static/syromusic/sw-saved.js"
    base = (settings.BASE_DIR / "templates" / "base.html").read_text()
    loaded = {f"/static/{name}" for name in re.findall(r"""\{% static '(syromusic/[^']+\.(?:css|js|svg))' %\}""", base)}
    assert loaded <= set(told["precache"])
    assert "/static/syromusic/icons/play.svg" in told["precache"]
    assert not {"/static/syromusic/sw.js", "/static/syromusic/sw-saved.js"} & set(told["precache"])
    # Asked again, the same: nothing changed.
    assert worker_version() == told["version"]


@pytest.mark.django_db
def test_with_collected_static_files_the_worker_keeps_their_hashed_names(settings, tmp_path):
    plain = worker_version()
    settings.STATIC_ROOT = tmp_path / "collected"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
    }
    # Only the project's own files (not the admin's): quick to collect, and all the worker is told of.
    settings.STATICFILES_FINDERS = ["django.contrib.staticfiles.finders.FileSystemFinder"]
    call_command("collectstatic", interactive=False, verbosity=0)
    told = config(Client().get("/sw.js"))
    assert re.fullmatch(r"/static/syromusic/sw-saved\.[0-9a-f]{12}\.js", told["saved"])
    for name in ("syromusic/site", "syromusic/offline", "syromusic/js/offline", "syromusic/vendor/htmx-2.0.11.min"):
        assert any(re.fullmatch(rf"/static/{re.escape(name)}\.[0-9a-f]{{12}}\.(css|js)", url) for url in told["precache"]), name
    assert told["version"] != plain


@pytest.mark.django_db
def test_a_deploy_that_changes_a_static_file_or_the_worker_gives_a_new_version(static_copy):
    before = worker_version()
    assert worker_version() == before
    css = static_copy / "syromusic" / "site.css"
    css.write_text(css.read_text() + "\n.deployed { color: inherit; }\n")
    after_css = worker_version()
    assert after_css != before
    worker = static_copy / "syromusic" / "sw.js"
    worker.write_text(worker.read_text() + "\n// deployed\n")
    assert worker_version() not in {before, after_css}


@pytest.mark.django_db
@pytest.mark.parametrize("who", [None, "alice"])
def test_the_offline_page_is_the_same_for_everyone_and_says_nothing_of_the_visitor(who, django_assert_num_queries):
    client = logged_in(make_user(who) if who else None)
    with django_assert_num_queries(0):
        response = client.get("/offline/")
    assert response.status_code == HTTPStatus.OK
    assert response["Cache-Control"] == "public, max-age=300"
    html = response.content.decode()
    assert "<h1>You are offline</h1>" in html
    assert "data-offline-page" in html
    # No listener (the worker must not take it for a logout), no login form, no token, no name.
    assert 'id="page-state"' not in html
    assert "csrfmiddlewaretoken" not in html
    assert "Log out" not in html and "Log in" not in html
    assert "alice" not in html
    assert html == Client().get("/offline/").content.decode()


@pytest.mark.django_db
def test_the_offline_page_leaves_the_visitors_messages_for_their_next_page(alice):
    client = logged_in(alice)
    client.post("/music/playlists/new/", {"name": "Road trip", "visibility": "private"})
    client.get("/offline/")
    assert "Road trip" in client.get("/").content.decode()


@pytest.mark.django_db
def test_pages_point_to_the_worker_and_carry_a_hidden_offline_indicator(alice):
    html = logged_in(alice).get("/").content.decode()
    assert '<meta name="syro-service-worker" content="/sw.js">' in html
    assert '<p class="offline-indicator" role="status" data-offline-indicator hidden></p>' in html
    assert '<div class="update-notice" data-update-notice hidden>' in html
    assert f'data-listener="{alice.pk}"' in html


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_the_worker_and_the_offline_page_only_answer_reads(client, method):
    assert getattr(client, method)("/sw.js").status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert getattr(client, method)("/offline/").status_code == HTTPStatus.METHOD_NOT_ALLOWED
