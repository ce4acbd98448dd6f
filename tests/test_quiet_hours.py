"""Quiet hours as wall-clock windows in a person's zone, including DST change days."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain.quiet_hours import in_quiet_hours, next_allowed

STOCKHOLM = ZoneInfo("Europe/Stockholm")
NIGHT = (time(21, 0), time(8, 0))
LUNCH = (time(12, 0), time(13, 0))


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def local(*parts: int, zone: ZoneInfo = STOCKHOLM, fold: int = 0) -> datetime:
    return datetime(*parts, tzinfo=zone, fold=fold).astimezone(UTC)


@pytest.mark.parametrize(
    ("moment", "quiet"),
    [
        (local(2024, 6, 1, 20, 59), False),
        (local(2024, 6, 1, 21, 0), True),
        (local(2024, 6, 1, 23, 30), True),
        (local(2024, 6, 2, 0, 0), True),
        (local(2024, 6, 2, 7, 59), True),
        (local(2024, 6, 2, 8, 0), False),
        (local(2024, 6, 2, 12, 0), False),
    ],
)
def test_a_window_over_midnight_covers_the_late_evening_and_the_early_morning(
    moment: datetime, quiet: bool
) -> None:
    assert in_quiet_hours(moment, STOCKHOLM, *NIGHT) is quiet


@pytest.mark.parametrize(
    ("moment", "quiet"),
    [
        (local(2024, 6, 1, 11, 59), False),
        (local(2024, 6, 1, 12, 0), True),
        (local(2024, 6, 1, 12, 59), True),
        (local(2024, 6, 1, 13, 0), False),
        (local(2024, 6, 1, 23, 0), False),
    ],
)
def test_a_window_within_one_day_covers_only_that_stretch(moment: datetime, quiet: bool) -> None:
    assert in_quiet_hours(moment, STOCKHOLM, *LUNCH) is quiet


def test_equal_start_and_end_means_no_quiet_hours() -> None:
    for hour in range(24):
        moment = local(2024, 6, 1, hour, 0)
        assert not in_quiet_hours(moment, STOCKHOLM, time(8), time(8))
        assert next_allowed(moment, STOCKHOLM, time(8), time(8)) == moment


def test_the_window_is_read_in_the_persons_zone_not_in_utc() -> None:
    moment = utc(2024, 6, 1, 20, 30)  # 22:30 in Stockholm, 16:30 in New York
    assert in_quiet_hours(moment, STOCKHOLM, *NIGHT)
    assert not in_quiet_hours(moment, ZoneInfo("America/New_York"), *NIGHT)


def test_outside_the_window_a_message_may_go_at_once() -> None:
    moment = local(2024, 6, 1, 10, 15)
    assert next_allowed(moment, STOCKHOLM, *NIGHT) == moment


def test_late_evening_waits_for_tomorrow_morning() -> None:
    assert next_allowed(local(2024, 6, 1, 23, 0), STOCKHOLM, *NIGHT) == local(2024, 6, 2, 8, 0)


def test_early_morning_waits_for_the_same_morning() -> None:
    assert next_allowed(local(2024, 6, 2, 3, 0), STOCKHOLM, *NIGHT) == local(2024, 6, 2, 8, 0)


def test_a_same_day_window_ends_the_same_day() -> None:
    assert next_allowed(local(2024, 6, 1, 12, 30), STOCKHOLM, *LUNCH) == local(2024, 6, 1, 13, 0)


def test_the_result_is_in_utc() -> None:
    allowed = next_allowed(local(2024, 6, 1, 23, 0), STOCKHOLM, *NIGHT)
    assert allowed.utcoffset() is not None and allowed.utcoffset() == UTC.utcoffset(None)
    assert allowed == utc(2024, 6, 2, 6, 0)


def test_spring_forward_night_ends_at_eight_summer_time_an_hour_sooner() -> None:
    # 2024-03-31 02:00 CET became 03:00 CEST in Stockholm.
    evening = local(2024, 3, 30, 23, 0)
    assert evening == utc(2024, 3, 30, 22, 0)
    allowed = next_allowed(evening, STOCKHOLM, *NIGHT)
    assert allowed == utc(2024, 3, 31, 6, 0)  # 08:00 CEST
    assert allowed.astimezone(STOCKHOLM).hour == 8
    assert (allowed - evening).total_seconds() == 8 * 3600  # 9 wall-clock hours, 8 real


def test_fall_back_night_ends_at_eight_winter_time_an_hour_later() -> None:
    # 2024-10-27 03:00 CEST became 02:00 CET in Stockholm.
    evening = local(2024, 10, 26, 23, 0)
    assert evening == utc(2024, 10, 26, 21, 0)
    allowed = next_allowed(evening, STOCKHOLM, *NIGHT)
    assert allowed == utc(2024, 10, 27, 7, 0)  # 08:00 CET
    assert (allowed - evening).total_seconds() == 10 * 3600


def test_in_the_skipped_hour_the_night_is_still_quiet() -> None:
    # 01:30 UTC is 03:30 CEST: the wall clock skipped 02:00-03:00.
    moment = utc(2024, 3, 31, 1, 30)
    assert in_quiet_hours(moment, STOCKHOLM, *NIGHT)
    assert next_allowed(moment, STOCKHOLM, *NIGHT) == utc(2024, 3, 31, 6, 0)


def test_a_window_ending_inside_the_skipped_hour_ends_when_the_clock_jumps() -> None:
    # 02:30 never happened on 2024-03-31; the first later wall time is 03:00 CEST.
    allowed = next_allowed(local(2024, 3, 31, 1, 0), STOCKHOLM, time(0, 0), time(2, 30))
    assert allowed == utc(2024, 3, 31, 1, 0)
    assert allowed.astimezone(STOCKHOLM).strftime("%H:%M %Z") == "03:00 CEST"


def test_the_repeated_hour_in_autumn_is_quiet_both_times() -> None:
    window = (time(1, 0), time(2, 30))
    first_pass = local(2024, 10, 27, 2, 15, fold=0)  # 00:15 UTC, CEST
    second_pass = local(2024, 10, 27, 2, 15, fold=1)  # 01:15 UTC, CET
    assert first_pass == utc(2024, 10, 27, 0, 15) and second_pass == utc(2024, 10, 27, 1, 15)
    between = utc(2024, 10, 27, 0, 45)  # 02:45 CEST: after the first 02:30
    assert in_quiet_hours(first_pass, STOCKHOLM, *window)
    assert not in_quiet_hours(between, STOCKHOLM, *window)
    assert in_quiet_hours(second_pass, STOCKHOLM, *window)
    assert next_allowed(first_pass, STOCKHOLM, *window) == utc(2024, 10, 27, 0, 30)
    assert next_allowed(second_pass, STOCKHOLM, *window) == utc(2024, 10, 27, 1, 30)


def test_the_night_always_ends_at_eight_local_time_all_year_round() -> None:
    moment = utc(2024, 1, 1, 0, 0)
    while moment.year == 2024:
        allowed = next_allowed(moment, STOCKHOLM, *NIGHT)
        assert allowed >= moment
        assert not in_quiet_hours(allowed, STOCKHOLM, *NIGHT)
        if allowed != moment:
            assert allowed.astimezone(STOCKHOLM).time() == time(8, 0)
            assert allowed - moment <= timedelta(hours=12)  # 11 wall-clock hours + DST
        moment += timedelta(minutes=50)
