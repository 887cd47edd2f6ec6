"""The Subsonic face: /rest/ for the listener's phone and desktop apps (Subsonic API 1.16.1 + OpenSubsonic).

Importing the package registers every method module's @method functions, so the URL conf needs only
the package: browse (SA), media (stream, download, cover art) and listener (playlists, likes, scrobbles).
"""

import importlib
import importlib.util

for _module in ("browse", "media", "listener"):
    if importlib.util.find_spec(f"{__name__}.{_module}") is not None:
        importlib.import_module(f"{__name__}.{_module}")
