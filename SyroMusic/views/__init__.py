"""The listener's pages, by area. Each page runs a fixed number of queries, stated in its test.

List and detail pages are cached for anonymous visitors (see SyroMusic.caching), keyed by the
catalogue and playlist versions, so a write anywhere shows on the very next request.
"""
