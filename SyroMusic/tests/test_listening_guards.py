"""Guards around listening data: ids out of range, and a time zone only ever changed with its rollups."""

import datetime as dt

import pytest

from SyroMusic.api.serializers import MyProfileSerializer
from SyroMusic.listening import record
from SyroMusic.models import ListenDay, Profile

from .factories import logged_in, make_song

pytestmark = pytest.mark.django_db


def test_removing_a_listen_with_an_id_beyond_any_column_is_a_404_not_a_500(alice):
    client = logged_in(alice)
    response = client.post("/music/history/99999999999999999999999/remove/")
    assert response.status_code == 404
    assert client.post("/music/history/999999999999999999/remove/").status_code == 404


def test_a_profile_change_read_before_a_new_time_zone_does_not_write_the_old_zone_back(alice):
    song = make_song(duration_ms=200_000)
    record.record(alice, [record.Event("a", song.pk, dt.datetime(2025, 1, 1, 20, 0, tzinfo=dt.UTC), 150_000)])
    stale = Profile.objects.get(user=alice)  # read by a request before the zone changes
    record.change_time_zone(alice, "Asia/Tokyo")
    data = MyProfileSerializer(stale, data={"bio": "Hello"}, partial=True)
    assert data.is_valid(), data.errors
    data.save()
    profile = Profile.objects.get(user=alice)
    assert (profile.time_zone, profile.bio) == ("Asia/Tokyo", "Hello")
    assert list(ListenDay.objects.filter(user=alice).values_list("day", flat=True)) == [dt.date(2025, 1, 2)]


def test_the_admin_shows_a_profiles_time_zone_without_letting_staff_change_it_around_the_rollups(admin_client, alice):
    profile = Profile.objects.create(user=alice, time_zone="Europe/Paris")
    response = admin_client.get(f"/admin/SyroMusic/profile/{profile.pk}/change/")
    assert response.status_code == 200
    assert 'name="time_zone"' not in response.content.decode()
    assert "Europe/Paris" in response.content.decode()


def test_an_admin_save_of_a_profile_keeps_what_record_wrote_since_the_form_was_read(admin_client, alice):
    song = make_song(duration_ms=200_000)
    record.record(alice, [record.Event("a", song.pk, dt.datetime(2025, 1, 1, 20, 0, tzinfo=dt.UTC), 150_000)])
    profile = Profile.objects.get(user=alice)
    url = f"/admin/SyroMusic/profile/{profile.pk}/change/"
    assert admin_client.get(url).status_code == 200
    # While the form is open, a batch comes in and waits for its fold.
    waiting = record.record(
        alice, [record.Event("b", song.pk, dt.datetime(2025, 1, 2, 20, 0, tzinfo=dt.UTC), 150_000)], defer=True
    ).listens
    response = admin_client.post(url, {"user": alice.pk, "bio": "Edited", "is_public": "on"})
    assert response.status_code == 302
    profile = Profile.objects.get(user=alice)
    assert (profile.bio, profile.pending_listens, profile.listen_uniques) == (
        "Edited", [waiting[0].pk], {"0": [1, 1, 1]}
    )


def test_the_admin_never_deletes_a_profile(admin_client, alice):
    profile = Profile.objects.create(user=alice)
    assert admin_client.get(f"/admin/SyroMusic/profile/{profile.pk}/delete/").status_code == 403
    assert Profile.objects.filter(pk=profile.pk).exists()
