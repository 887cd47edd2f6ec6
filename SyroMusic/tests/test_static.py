import gzip
import hashlib
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
    modules = re.findall(r'<script type="module" src="(/static/syromusic/js/[a-z-]+\.[0-9a-f]{12}\.js)">', html)
    assert modules
    for url in (css, *modules):
        response = client.get(url)
        assert response.status_code == HTTPStatus.OK
        assert response["Cache-Control"] == "max-age=315360000, public, immutable"
    compressed = client.get(css, HTTP_ACCEPT_ENCODING="gzip")
    assert compressed["Content-Encoding"] == "gzip"
    body = gzip.decompress(b"".join(compressed.streaming_content))
    assert body.startswith(b"/* SyroMusic: hand-written styles.")
    assert (collected / "syromusic").is_dir()


def test_every_script_is_a_module_the_base_page_loads_and_none_imports_another(settings):
    # The manifest storage does not rewrite `import` (its opt-in regex also scans third-party
    # scripts), so a module importing another would ask for an unhashed name in production.
    static_dir = settings.BASE_DIR / "static"
    base = (settings.BASE_DIR / "templates" / "base.html").read_text()
    loaded = set(re.findall(r"""<script type="module" src="\{% static '(syromusic/js/[a-z-]+\.js)' %\}"></script>""", base))
    scripts = sorted((static_dir / "syromusic" / "js").rglob("*.js"))
    assert {path.relative_to(static_dir).as_posix() for path in scripts} == loaded
    # No inline script (CSP); the one classic script is the vendored htmx file, deferred.
    assert "<script>" not in base
    assert re.findall(r"<script (?!type=\"module\")[^>]*>", base) == [
        """<script src="{% static 'syromusic/vendor/htmx-2.0.11.min.js' %}" defer>"""
    ]
    for path in scripts:
        source = path.read_text()
        assert not re.search(r"""^\s*import\b|\bimport\s*\(|^\s*export\b[^;]*\bfrom\s*["']""", source, re.M), path.name
    # What lives in #page runs again on each new page (htmx:load); the player's modules run once.
    for name in ("filters", "playlist-reorder", "search-box", "disclosures"):
        source = (static_dir / "syromusic" / "js" / f"{name}.js").read_text()
        assert re.search(r"^export function init\(root = document\)", source, re.M), name


def test_htmx_is_the_pinned_release_with_its_licence(settings):
    vendor = settings.BASE_DIR / "static" / "syromusic" / "vendor"
    digest = hashlib.sha256((vendor / "htmx-2.0.11.min.js").read_bytes()).hexdigest()
    assert digest == "d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717"
    assert (vendor / "htmx-2.0.11.LICENSE.txt").read_text().startswith("Zero-Clause BSD")


def test_static_url_can_point_at_a_cdn(settings):
    from django.templatetags.static import static

    settings.STATIC_URL = "https://cdn.example.net/syro/"
    assert static("syromusic/site.css") == "https://cdn.example.net/syro/syromusic/site.css"


def contrast(first, second):
    """WCAG contrast ratio of two #rrggbb colours."""

    def luminance(colour):
        channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    lighter, darker = sorted((luminance(first), luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_text_colours_meet_wcag_aa_contrast_in_both_schemes(scheme):
    from django.conf import settings

    css = (settings.BASE_DIR / "static" / "syromusic" / "site.css").read_text()
    light_block = css[css.index(":root {") : css.index("}", css.index(":root {"))]
    dark_start = css.index("@media (prefers-color-scheme: dark)")
    dark_block = css[dark_start : css.index("}", dark_start)]
    colours = dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-f]{6})", light_block))
    if scheme == "dark":
        colours.update(re.findall(r"--([a-z-]+):\s*(#[0-9a-f]{6})", dark_block))
    pairs = [("text", "bg"), ("muted", "bg"), ("accent", "bg"), ("text", "surface"), ("muted", "surface"),
             ("accent", "surface"), ("accent-text", "accent")]
    for foreground, background in pairs:
        ratio = contrast(colours[foreground], colours[background])
        assert ratio >= 4.5, f"{scheme}: --{foreground} on --{background} is {ratio:.2f}:1"
