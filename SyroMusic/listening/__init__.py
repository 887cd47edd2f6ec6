"""Listening: what listeners really heard (record), the figures drawn from it (stats), popularity, and
ListenBrainz's format. Domain code: no screen, no wire format."""
