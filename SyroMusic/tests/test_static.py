import gzip
import re
from http import HTTPStatus

import pytest
from django.core.management import call_command
from django.test import Client


@pytest.fixture
def collected(settings, tmp_path):
    """Static files collected as in production: hashed names, compressed copies, served by WhiteNoise."""
    settings.STATIC_ROOT = tmp_path / "static"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    call_command("collectstatic", interactive=False, verbosity=0)
    return settings.STATIC_ROOT


@pytest.mark.django_db
def test_pages_link_hashed_static_files_served_with_far_future_caching(collected):
    client = Client()  # a new client builds its middleware, so WhiteNoise sees the collected files
    html = client.get("/").content.decode()
    css = re.search(r'href="(/static/syromusic/site\.[0-9a-f]{12}\.css)"', html).group(1)
    js = re.search(r'src="(/static/syromusic/site\.[0-9a-f]{12}\.js)"', html).group(1)
    for url in (css, js):
        response = client.get(url)
        assert response.status_code == HTTPStatus.OK
        assert response["Cache-Control"] == "max-age=315360000, public, immutable"
    compressed = client.get(css, HTTP_ACCEPT_ENCODING="gzip")
    assert compressed["Content-Encoding"] == "gzip"
    body = gzip.decompress(b"".join(compressed.streaming_content))
    assert body.startswith(b"/* SyroMusic: hand-written styles.")
    assert (collected / "syromusic").is_dir()


def test_static_url_can_point_at_a_cdn(settings):
    from django.templatetags.static import static

    settings.STATIC_URL = "https://cdn.example.net/syro/"
    assert static("syromusic/site.css") == "https://cdn.example.net/syro/syromusic/site.css"
