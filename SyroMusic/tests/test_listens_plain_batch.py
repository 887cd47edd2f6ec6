"""The listens API's fast check of a batch (api.history.plain_batch) accepts only what its serializer accepts,
with the same values; anything unusual goes to the serializer, which words the errors."""

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from SyroMusic.api.history import ListenBatchSerializer, plain_batch

TIMES = st.one_of(
    st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)).map(
        lambda at: at.isoformat()
    ),
    st.sampled_from([
        "2026-11-26T10:00:00Z", "2026-11-26T10:00:00.123+05:30", "2026-11-26 10:00:00+00:00", "2026-11-26T10:00:00",
        "2026-11-26", "1999-12-31T23:59:59Z", "2000-01-01T00:00:00+00:00", "9999-12-31T23:59:59-01:00",
        "0001-01-01T00:00:00+01:00", "26-11-2026", "", "2026-13-01T00:00:00Z", "2026-11-26T10:00:00.1234567Z",
    ]),
    st.integers(), st.none(),
)
CLIENT_IDS = st.one_of(st.uuids().map(str), st.text(max_size=70), st.sampled_from(["a", " a", "a b", "x" * 64, "x" * 65]),
                       st.integers())
INTEGERS = st.one_of(st.integers(min_value=-5, max_value=2**64), st.booleans(), st.floats(allow_nan=False),
                     st.text(alphabet="0123456789 ", max_size=4), st.none())
CLIENTS = st.one_of(st.sampled_from(["", "SyroMusic web", " SyroMusic", "a\x00b", "é", "x" * 64, "x" * 65]), st.text(max_size=70))
ITEM = st.fixed_dictionaries(
    {"client_id": CLIENT_IDS, "song": INTEGERS, "started_at": TIMES, "heard_ms": INTEGERS},
    optional={"client": CLIENTS, "extra": st.just(1)},
)


def judged(data):
    batch = ListenBatchSerializer(data=data)
    return batch.validated_data["listens"] if batch.is_valid() else None


def same(fast, slow):
    assert len(fast) == len(slow)
    for a, b in zip(fast, slow, strict=True):
        assert {**a, "started_at": None} == {**b, "started_at": None}
        # A time in the future is each's own "now": the same within the test's run.
        assert abs(a["started_at"] - b["started_at"]) < timedelta(minutes=1)


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.lists(ITEM, min_size=0, max_size=4), st.just("listens"), st.none()), st.booleans())
def test_the_fast_check_accepts_only_what_the_serializer_accepts_with_the_same_values(listens, extra_key):
    data = {"listens": listens, **({"other": 1} if extra_key else {})}
    fast = plain_batch(data)
    if fast is not None:
        slow = judged(data)
        assert slow is not None, data
        same(fast, slow)


def test_a_players_batch_takes_the_fast_path_with_the_serializers_values():
    data = {"listens": [
        {"client_id": f"c-{i}", "song": i + 1, "started_at": f"2026-11-2{i}T10:00:00.{i}Z", "heard_ms": 1000 * i,
         "client": "SyroMusic web"}
        for i in range(3)
    ] + [{"client_id": "future", "song": 9, "started_at": "2999-01-01T00:00:00+02:00", "heard_ms": 5}]}
    fast = plain_batch(data)
    assert fast is not None
    same(fast, judged(data))
    assert fast[0] == {"client_id": "c-0", "song": 1, "started_at": datetime(2026, 11, 20, 10, tzinfo=UTC), "heard_ms": 0,
                       "client": "SyroMusic web"}
    assert fast[3]["client"] == ""


def test_anything_unusual_goes_to_the_serializer():
    good = {"client_id": "a", "song": 1, "started_at": "2026-11-26T10:00:00Z", "heard_ms": 1}
    for odd in ({"song": "1"}, {"song": True}, {"heard_ms": 1.0}, {"started_at": "2026-11-26T10:00:00"},
                {"client_id": " a"}, {"client": "é"}, {"extra": 1}, {"started_at": "1999-12-31T23:59:59Z"}):
        assert plain_batch({"listens": [{**good, **odd}]}) is None, odd
    assert plain_batch({"listens": []}) is None
    assert plain_batch({"listens": [good] * 101}) is None
    assert plain_batch({"listens": [good], "more": 1}) is None
    assert plain_batch([good]) is None
