"""When a listen counts: the rule the scrobbling services share (Last.fm, ListenBrainz).

A play counts when the track is longer than 30 seconds and was heard for at least half its length or
for 4 minutes, whichever comes first. "Heard" is media time really played: a seek adds nothing, so
seeking to the end never counts, and a pause adds nothing."""

MIN_DURATION_MS = 30_000
ENOUGH_MS = 240_000


def counts(duration_ms, heard_ms):
    """Whether `heard_ms` of a song lasting `duration_ms` is a listen (False when the length is unknown)."""
    if duration_ms is None or duration_ms <= MIN_DURATION_MS:
        return False
    return heard_ms >= min(duration_ms / 2, ENOUGH_MS)
