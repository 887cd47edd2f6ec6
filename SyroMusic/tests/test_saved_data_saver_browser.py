"""A song saved for offline plays from its saved file when the player asks for a smaller copy (the data saver's
/audio/<id>/<hash>/<kbps>.<ext>): the service worker (sw-saved.js) finds the whole file by its id and hash, in
real headless Chromium with the real worker."""

from pathlib import Path

from .test_saved_browser import album, dana, fetch_range, go_offline, page, save, songs  # noqa: F401 - fixtures


def test_offline_a_data_saver_copy_of_a_saved_song_is_its_saved_file(page, songs, album):  # noqa: F811
    save(page, album.title)
    go_offline(page)
    audio = songs[1].audio
    data = Path(audio.path).read_bytes()
    copy = f"/audio/{audio.pk}/{audio.content_hash[:16]}/96.opus"
    answer = fetch_range(page, copy, "bytes=100-199")
    assert answer == {
        "status": 206, "range": f"bytes 100-199/{len(data)}", "length": "100", "accept": "bytes", "saved": "1",
        "body": list(data[100:164]), "size": 100,
    }
    # A copy whose hash names no saved file (another version of the song) is not there offline.
    other = songs[0].audio
    assert page.evaluate(
        "url => fetch(url).then(r => r.status, () => 'failed')", f"/audio/{other.pk}/{'0' * 16}/96.opus"
    ) == "failed"
