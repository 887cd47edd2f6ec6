"""Addresses of many objects of one kind at the price of one reverse().

A page or an answer that links dozens of songs, albums and artists spent as long reversing their
addresses as the database spent finding them (issue 15): reverse() walks the URL patterns every time,
although only the id changes."""

# Stands for the id in the one address built.
_SENTINEL = "987654321"


def url_maker(address):
    """A function giving address(id) for any integer id, that calls `address` (e.g. a reverse() of a URL
    name whose only argument is the id) once, with a stand-in id, and then only puts each id in its place."""
    url = address(int(_SENTINEL))
    if url.count(_SENTINEL) != 1:
        return address  # the stand-in is ambiguous (the host or a query has it too): no shortcut
    before, _, after = url.partition(_SENTINEL)
    return lambda id: f"{before}{int(id)}{after}"
