import hashlib
import html
import json
from urllib.parse import urlencode

from django import template
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.html import format_html_join
from django.utils.safestring import SafeString, mark_safe

from SyroMusic import text
from SyroMusic.models import MEMO_LIMIT, Album, AudioFormat, may_listen, page_url_maker
from SyroMusic.web.page_cache import csrf_input
from SyroMusic.web.transcoded import data_saver_on

register = template.Library()


def _escaped(value):
    """conditional_escape(value) as a str: HTML stays as it is, anything else is escaped (html.escape, as
    Django's escape() is)."""
    as_html = getattr(value, "__html__", None)
    return as_html() if as_html is not None else html.escape(str(value))


def _html(template, *args):
    """format_html(template, *args), the same markup for a fraction of the time: a song table's 50 rows
    make some 500 of these, and format_html's lazy-text checks on every argument took 2 ms of them."""
    return SafeString(template.format(*map(_escaped, args)))

# As django.utils.html.json_script: nothing in the data can close the <script> element.
JSON_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}


@register.simple_tag(takes_context=True)
def csrf_slot(context):
    """The CSRF token input; on a cached page each visitor gets their own (see caching.py)."""
    request = context.get("request")
    return csrf_input(request) if request is not None else ""


_LINKS = {}


@register.simple_tag
def link(name):
    """{% url name %} for a URL name without arguments, reversed once per process (and script prefix): the
    parts of a page rendered for every logged-in request (_account.html) name seven of them."""
    key = (name, get_script_prefix(), get_urlconf())
    found = _LINKS.get(key)
    if found is None:
        if len(_LINKS) >= MEMO_LIMIT:  # the script prefix comes with the request: bounded whatever it says
            _LINKS.clear()
        found = _LINKS[key] = reverse(name)
    return found


@register.filter
def duration(milliseconds):
    """245000 -> "4:05"; an hour or more -> "1:02:03"; unknown -> "–"."""
    return "–" if milliseconds is None else text.duration(milliseconds)


@register.filter
def long_duration(milliseconds):
    """Total running time: 4,380,000 -> "1 h 13 min", 2,580,000 -> "43 min"."""
    minutes = round((milliseconds or 0) / 60000)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


@register.filter
def audio_summary(audio):
    """An audio file's facts in a line: "FLAC (lossless), 1,411 kbps, 44.1 kHz, stereo, 3:25"."""
    notes = [audio.codec.upper()] if audio.format == AudioFormat.M4A else []  # AAC or ALAC
    if audio.is_lossless:
        notes.append("lossless")
    kind = "M4A" if audio.format == AudioFormat.M4A else audio.get_format_display()
    if notes:
        kind += f" ({', '.join(notes)})"
    channels = {1: "mono", 2: "stereo"}.get(audio.channels, f"{audio.channels} channels")
    return (
        f"{kind}, {round(audio.bitrate / 1000):,} kbps, {audio.sample_rate / 1000:g} kHz, {channels}, "
        f"{duration(audio.duration_ms)}"
    )


@register.filter
def lyric_time(milliseconds):
    """When a synced line is sung: 62500 -> "1:02.5"."""
    minutes, milliseconds = divmod(milliseconds, 60_000)
    return f"{minutes}:{milliseconds // 1000:02}.{milliseconds % 1000 // 100}"


@register.simple_tag
def playable_mark(song):
    """A note in a song row that the song has audio (no query: the row's own column says so)."""
    if not song.is_playable:
        return ""
    return mark_safe(
        '<span class="playable" title="Playable"><span aria-hidden="true">♪</span>'
        '<span class="visually-hidden"> (playable)</span></span>'
    )


@register.simple_tag
def play_button(song):
    """A song row's first cell: the button the player (player.js) plays the row's list from; a mark instead
    for a song without audio. No query: the row's own audio column says which."""
    if not song.is_playable:
        return mark_safe(
            '<span class="play-button unplayable" title="Not playable"><span aria-hidden="true">–</span>'
            '<span class="visually-hidden">Not playable</span></span>'
        )
    return _html(
        '<button type="button" class="play-button needs-js" data-play-song="{}" aria-label="Play {}">'
        '<span aria-hidden="true">▶</span></button>',
        song.pk, song.title,
    )


# One song row of _song_table.html: written here, not as a template loop, because 50 rows through the
# template engine cost more than the page's queries (issue 19). Same markup as a template would give.
_SONG_ROW = (
    '\n    <tr data-song-id="{}"{}>'
    '\n      <td class="row-play">{}</td>'
    '\n      <td class="row-title">{}<a href="{}">{}</a>{}{}</td>'
    "\n      {}"
    '\n      <td><a href="{}">{}</a></td>'
    '\n      <td class="num">{}</td>'
    "\n      {}"
    '\n      <td class="row-more">{}</td>'
    "\n    </tr>\n  "
)
_EXPLICIT = mark_safe(' <abbr class="explicit" title="Explicit">E</abbr>')
_UNPLAYABLE_ROW = mark_safe(' class="unplayable"')


@register.simple_tag(takes_context=True)
def song_rows(context, songs, hide_artist=False, show_popularity=False):
    """The rows of a song table (_song_table.html): play button, cover, title, artist, album, time, popularity
    and the row menu, or one row saying there are none."""
    rows = []
    song_url, album_url, artist_url = (
        page_url_maker(f"music:{name}-detail") for name in ("song", "album", "artist")
    )
    for song in songs:
        artist = "" if hide_artist else _html('<td><a href="{}">{}</a></td>', artist_url(song.artist_id), song.artist.name)
        popularity = "" if not show_popularity else _html(
            '<td class="num"><meter class="popularity" min="0" max="100" value="{}" title="{} of 100" aria-hidden="true">'
            '</meter><span class="visually-hidden">{} of 100</span></td>', song.popularity, song.popularity, song.popularity,
        )
        rows.append(_html(
            _SONG_ROW, song.pk, "" if song.is_playable else _UNPLAYABLE_ROW, play_button(song), row_cover(song.album),
            song_url(song.pk), song.title, _EXPLICIT if song.explicit else "", playable_mark(song), artist,
            album_url(song.album_id), song.album.title, duration(song.duration_ms), popularity,
            queue_menu(context, song),
        ))
    if not rows:
        return mark_safe('\n    <tr><td colspan="7" class="empty">No songs.</td></tr>\n  ')
    return mark_safe("".join(rows))


@register.simple_tag(takes_context=True)
def queue_menu(context, song):
    """A song row's last cell, one menu: "Play next" and "Add to queue" (player.js; a song with audio), "Like"
    and "Add to playlist…". The same for every visitor, so cached pages stay shared, and no query: for a
    listener, row-actions.js swaps the last two for their heart and playlists when the menu opens; otherwise
    they lead to a small page for them (the log-in first, for a visitor)."""
    made = context.render_context.get("queue_menu")
    if made is None:  # the same for every row of the page: made once
        request = context.get("request")
        query = f"?{urlencode({'next': request.get_full_path()})}" if request is not None else ""
        made = context.render_context["queue_menu"] = (
            query, page_url_maker("music:song-add-to-playlist"), page_url_maker("music:song-row-actions")
        )
    query, add_url, actions_url = made
    queue = ""
    if song.is_playable:
        queue = _html(
            '<button type="button" class="needs-js" data-queue-next="{}">Play next</button>'
            '<button type="button" class="needs-js" data-queue-add="{}">Add to queue</button>',
            song.pk, song.pk,
        )
    page = add_url(song.pk) + query
    return _html(
        '<details class="row-menu" data-row-actions="{}"><summary aria-label="More for {}">'
        '<span aria-hidden="true">⋯</span></summary><div class="row-menu-items">{}<div class="row-actions">'
        '<a href="{}" aria-label="Like {}">Like</a><a href="{}" aria-label="Add {} to a playlist">Add to playlist…</a>'
        "</div></div></details>",
        actions_url(song.pk) + query, song.title, queue, page, song.title, page,
        song.title,
    )


@register.simple_tag(takes_context=True)
def may_listen_flag(context):
    """ "1" when the visitor may stream audio, else "0" (base.html tells player.js). An anonymous visitor's
    user comes without a query (no session cookie), and the page cache keys pages by this setting."""
    request = context.get("request")
    return "1" if may_listen(getattr(request, "user", None)) else "0"


@register.simple_tag(takes_context=True)
def data_saver_flag(context):
    """ "1" when the listener turned the data saver on (player.js then plays transcoded copies), else "0".
    From the session (SyroMusic.web.transcoded), so it costs no query."""
    return "1" if data_saver_on(context.get("request")) else "0"


def iso_duration(milliseconds):
    seconds = round((milliseconds or 0) / 1000)
    return f"PT{seconds // 60}M{seconds % 60}S"


def initials(name):
    words = [word for word in name.replace("&", " ").split() if word[:1].isalnum()]
    if not words:
        return "♪"
    if len(words) == 1:
        return words[0][:2].upper()
    return (words[0][0] + words[-1][0]).upper()


def hue(name):
    return int(hashlib.md5(name.encode()).hexdigest()[:4], 16) % 360


# A placeholder's pattern over its background, drawn in a second hue: with two hues and one of five
# patterns from the name, neighbours without covers differ at a glance, not only by their initials.
PLACEHOLDER_PATTERNS = (
    '<path d="M0 20L20 0H40L0 40ZM0 60L60 0H80L0 80ZM0 100L100 0V20L20 100ZM40 100L100 40V60L60 100Z"{}/>',
    '<circle cx="100" cy="0" r="70"{}/><circle cx="0" cy="100" r="38"{}/>',
    '<path d="M0 0H50V50H0ZM50 50H100V100H50Z"{}/>',
    '<path d="M0 100L35 45L60 75L80 50L100 80V100Z"{}/><circle cx="78" cy="24" r="12"{}/>',
    '<path d="M0 0H100V12H0ZM0 24H100V36H0ZM0 64H100V76H0ZM0 88H100V100H0Z"{}/>',
)


# For each size a page shows a cover at: the stored width in `src` (and the img's width and height, so
# the page does not jump as covers load), the widths a browser may pick from, and how wide it is drawn
# (site.css): a 2x screen then fetches the 600 px file for the album page, the 64 px one for a row.
COVER_RENDITIONS = {
    "large": (600, (300, 600), "(max-width: 40rem) 30vw, 14rem"),
    "medium": (300, (300, 600), "(max-width: 40rem) 45vw, 12rem"),
    "small": (64, (64, 300), "3rem"),
}


@register.simple_tag
def cover(album, size="medium"):
    """The album's cover: its own (stored in several widths), else the image it links to elsewhere, else a
    placeholder drawn from its title: initials on a colour of its own."""
    label = f"Cover of {album.title}"
    if album.cover_hash:
        width, widths, sizes = COVER_RENDITIONS[size]
        srcset = ", ".join(f"{album.cover_image_url(w)} {w}w" for w in widths)
        return _html(
            '<img class="cover cover-{}" src="{}" srcset="{}" sizes="{}" width="{}" height="{}" alt="{}" '
            'loading="lazy" decoding="async">',
            size, album.cover_image_url(width), srcset, sizes, width, width, label,
        )
    if album.cover_url:
        return _html(
            '<img class="cover cover-{}" src="{}" alt="{}" loading="lazy" decoding="async">', size, album.cover_url, label
        )
    return placeholder(album.title, label, size)


def cover_image(request, album):
    """An absolute URL of the album's cover for other sites (Open Graph, JSON-LD), or ""."""
    if album.cover_hash:
        return request.build_absolute_uri(album.cover_image_url(600))
    return album.cover_url


@register.simple_tag(takes_context=True)
def og_image(context, album):
    image = cover_image(context["request"], album)
    return _html('<meta property="og:image" content="{}">', image) if image else ""


@register.simple_tag
def row_cover(album):
    """A song row's thumbnail of its album's cover (the 64 px file; the 300 px one on a 2x screen). Decorative:
    the row's title names the song and its album column the album, so alt="" and an aria-hidden placeholder."""
    if album.cover_hash:
        width, widths, sizes = COVER_RENDITIONS["small"]
        srcset = ", ".join(f"{album.cover_image_url(w)} {w}w" for w in widths)
        return _html(
            '<img class="cover cover-row" src="{}" srcset="{}" sizes="{}" width="{}" height="{}" alt="" loading="lazy" '
            'decoding="async">',
            album.cover_image_url(width), srcset, sizes, width, width,
        )
    if album.cover_url:
        return _html(
            '<img class="cover cover-row" src="{}" width="64" height="64" alt="" loading="lazy" decoding="async">',
            album.cover_url,
        )
    return placeholder(album.title, "", "row")


# An artist without a picture of their own shows their newest covers: four in a square when they have as
# many, else the newest one (see SyroMusic.views.catalogue.artist_cover_albums for the one query).
COLLAGE_SIZE = 4


@register.simple_tag
def artist_picture(artist, size="medium"):
    """The artist's own image, else a collage of their album covers (artist.cover_albums, when the view
    prefetched it), else a placeholder drawn from their name."""
    label = f"Picture of {artist.name}"
    if artist.image_url:
        return _html(
            '<img class="cover round cover-{}" src="{}" alt="{}" loading="lazy" decoding="async">', size,
            artist.image_url, label,
        )
    albums = getattr(artist, "cover_albums", [])
    if len(albums) >= COLLAGE_SIZE:
        tiles = format_html_join("", "{}", ((_collage_tile(album),) for album in albums[:COLLAGE_SIZE]))
        return _html(
            '<span class="cover round cover-{} collage" role="img" aria-label="{}">{}</span>', size, label, tiles
        )
    if albums:
        album = albums[0]
        src = album.cover_image_url(300) if album.cover_hash else album.cover_url
        return _html(
            '<img class="cover round cover-{}" src="{}" width="300" height="300" alt="{}" loading="lazy" '
            'decoding="async">', size, src, label,
        )
    return placeholder(artist.name, label, size, extra_class="round")


def _collage_tile(album):
    src = album.cover_image_url(300) if album.cover_hash else album.cover_url
    return _html('<img src="{}" width="150" height="150" alt="" loading="lazy" decoding="async">', src)


def placeholder(name, label, size, extra_class=""):
    """An inline SVG drawn from the name: a background hue, a pattern in a second hue, the initials. With a
    label it is an image of that name; without one it is decorative (hidden from assistive technology)."""
    digest = hashlib.md5(name.encode()).digest()
    first = hue(name)
    second = (first + 90 + digest[2] % 150) % 360
    pattern = PLACEHOLDER_PATTERNS[digest[3] % len(PLACEHOLDER_PATTERNS)]
    paint = _html(' fill="hsl({} 60% 55%)" fill-opacity=".6"', second)
    shapes = _html(pattern, *([paint] * pattern.count("{}")))
    role = _html('role="img" aria-label="{}"', label) if label else mark_safe('aria-hidden="true"')
    return _html(
        '<svg class="cover cover-{} {}" viewBox="0 0 100 100" {}>'
        '<rect width="100" height="100" fill="hsl({} 45% 30%)"/>{}'
        '<text x="50" y="50" dy=".35em" text-anchor="middle" font-size="34" fill="#fff">{}</text></svg>',
        size, extra_class, role, first, shapes, initials(name),
    )


def _json_ld(data):
    text = json.dumps({"@context": "https://schema.org", **data}, ensure_ascii=False).translate(JSON_ESCAPES)
    return mark_safe(f'<script type="application/ld+json">{text}</script>')


def _url(request, obj):
    return request.build_absolute_uri(obj.get_absolute_url())


@register.simple_tag(takes_context=True)
def artist_json_ld(context, artist, albums, songs):
    request = context["request"]
    data = {"@type": "MusicGroup", "name": artist.name, "url": _url(request, artist)}
    if artist.year_formed:
        data["foundingDate"] = str(artist.year_formed)
    if artist.image_url:
        data["image"] = artist.image_url
    data["album"] = [{"@type": "MusicAlbum", "name": a.title, "url": _url(request, a)} for a in albums]
    data["track"] = [
        {"@type": "MusicRecording", "name": s.title, "url": _url(request, s), "duration": iso_duration(s.duration_ms)}
        for s in songs
    ]
    return _json_ld(data)


RELEASE_TYPES = {
    Album.Type.ALBUM: "https://schema.org/AlbumRelease",
    Album.Type.SINGLE: "https://schema.org/SingleRelease",
    Album.Type.EP: "https://schema.org/EPRelease",
    Album.Type.COMPILATION: "https://schema.org/CompilationAlbum",
}


@register.simple_tag(takes_context=True)
def album_json_ld(context, album, songs):
    request = context["request"]
    data = {
        "@type": "MusicAlbum",
        "name": album.title,
        "url": _url(request, album),
        "byArtist": {"@type": "MusicGroup", "name": album.artist.name, "url": _url(request, album.artist)},
        "numTracks": len(songs),
        "genre": [genre.name for genre in album.genres.all()],
        "track": {
            "@type": "ItemList",
            "numberOfItems": len(songs),
            "itemListElement": [
                {
                    "@type": "ListItem",
                    "position": position,
                    "item": {"@type": "MusicRecording", "name": s.title, "url": _url(request, s),
                             "duration": iso_duration(s.duration_ms)},
                }
                for position, s in enumerate(songs, start=1)
            ],
        },
    }
    if album.is_compilation:
        data["albumProductionType"] = RELEASE_TYPES[Album.Type.COMPILATION]
    else:
        data["albumReleaseType"] = RELEASE_TYPES[album.album_type]
    if album.release_date:
        data["datePublished"] = album.release_date.isoformat()
    image = cover_image(request, album)
    if image:
        data["image"] = image
    return _json_ld(data)


@register.simple_tag(takes_context=True)
def song_json_ld(context, song):
    request = context["request"]
    data = {
        "@type": "MusicRecording",
        "name": song.title,
        "url": _url(request, song),
        "duration": iso_duration(song.duration_ms),
        "byArtist": {"@type": "MusicGroup", "name": song.artist.name, "url": _url(request, song.artist)},
        "inAlbum": {"@type": "MusicAlbum", "name": song.album.title, "url": _url(request, song.album)},
    }
    if song.genre_id:
        data["genre"] = song.genre.name
    if song.composer:
        data["recordingOf"] = {"@type": "MusicComposition", "name": song.title,
                               "composer": {"@type": "Person", "name": song.composer}}
    return _json_ld(data)


@register.simple_tag(takes_context=True)
def playlist_json_ld(context, playlist, entry_count, entries):
    request = context["request"]
    return _json_ld({
        "@type": "MusicPlaylist",
        "name": playlist.name,
        "url": _url(request, playlist),
        "numTracks": entry_count,
        "author": {"@type": "Person", "name": playlist.owner.username},
        "track": [
            {"@type": "MusicRecording", "name": e.song.title, "url": _url(request, e.song),
             "byArtist": {"@type": "MusicGroup", "name": e.song.artist.name}}
            for e in entries
        ],
    })


@register.simple_tag(takes_context=True)
def absolute_url(context, obj):
    return _url(context["request"], obj)


@register.simple_tag(takes_context=True)
def nav_current(context, prefix):
    """aria-current on the main navigation link of the section being shown."""
    request = context.get("request")
    match = getattr(request, "resolver_match", None)
    if match and match.url_name and match.url_name.startswith(prefix):
        return mark_safe(' aria-current="page"')
    return ""
