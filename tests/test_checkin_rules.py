"""Check-in rules called directly: when each period falls due, answers and sharing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain import checkins as rules
from bot.domain.checkins import CheckInRefused, Sharing

STOCKHOLM = ZoneInfo("Europe/Stockholm")
NEW_YORK = ZoneInfo("America/New_York")


def at(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=STOCKHOLM)


def test_nothing_is_due_in_the_first_month() -> None:
    start = at(2026, 3, 10)
    assert rules.period_due(start, start, STOCKHOLM) is None
    assert rules.period_due(start, at(2026, 4, 10, 9, 59), STOCKHOLM) is None
    assert rules.period_due(start - timedelta(days=1), start, STOCKHOLM) is None


def test_each_monthly_anniversary_opens_the_next_period() -> None:
    start = at(2026, 3, 10)
    assert rules.period_due(start, at(2026, 4, 10), STOCKHOLM) == 1
    assert rules.period_due(start, at(2026, 5, 9, 23), STOCKHOLM) == 1
    assert rules.period_due(start, at(2026, 5, 10), STOCKHOLM) == 2
    assert rules.period_due(start, at(2027, 3, 10, 12), STOCKHOLM) == 12
    assert rules.anniversary(start, 2, STOCKHOLM) == at(2026, 5, 10)


def test_a_start_on_the_31st_falls_on_each_months_last_day_and_returns_to_the_31st() -> None:
    start = at(2028, 1, 31)  # 2028 is a leap year
    days = [rules.anniversary(start, n, STOCKHOLM).astimezone(STOCKHOLM).date() for n in (1, 2, 3)]
    assert [d.isoformat() for d in days] == ["2028-02-29", "2028-03-31", "2028-04-30"]
    assert rules.anniversary(at(2027, 1, 31), 1, STOCKHOLM) == at(2027, 2, 28)
    # Counted from the start each time, not from the short month before.
    assert rules.period_due(start, at(2028, 3, 30, 12), STOCKHOLM) == 1
    assert rules.period_due(start, at(2028, 3, 31), STOCKHOLM) == 2


def test_late_in_the_month_the_month_count_is_not_taken_for_the_period() -> None:
    start = at(2026, 1, 30)
    # 28 February is the last day of February but not yet the 30th: the rule
    # takes the month's last day, so period 1 is due on the 28th.
    assert rules.period_due(start, at(2026, 2, 28, 10), STOCKHOLM) == 1
    assert rules.period_due(start, at(2026, 3, 29, 23, 59), STOCKHOLM) == 1
    assert rules.period_due(start, at(2026, 3, 30), STOCKHOLM) == 2


def test_the_time_of_day_is_kept_across_daylight_saving_changes() -> None:
    start = at(2026, 3, 15, 9, 30)  # winter time, UTC+1
    summer = rules.anniversary(start, 1, STOCKHOLM)  # 15 April, summer time, UTC+2
    assert summer.astimezone(STOCKHOLM).hour == 9 and summer.astimezone(STOCKHOLM).minute == 30
    assert summer == datetime(2026, 4, 15, 7, 30, tzinfo=UTC)
    assert summer - start == timedelta(days=31, hours=-1)
    autumn = rules.anniversary(at(2026, 10, 1, 9, 30), 1, STOCKHOLM)
    assert autumn == datetime(2026, 11, 1, 8, 30, tzinfo=UTC)
    assert rules.period_due(start, summer - timedelta(minutes=1), STOCKHOLM) is None
    assert rules.period_due(start, summer, STOCKHOLM) == 1


def test_a_time_skipped_by_the_clock_change_falls_just_after_it() -> None:
    # 29 March 2026: Stockholm's clocks jump from 02:00 to 03:00.
    due = rules.anniversary(at(2026, 1, 29, 2, 30), 2, STOCKHOLM)
    assert due == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert due.astimezone(STOCKHOLM).hour == 3


def test_the_date_is_the_persons_own_local_date() -> None:
    # 23:30 UTC on 30 January is already the 31st in Stockholm, still the 30th in New York.
    start = datetime(2026, 1, 30, 23, 30, tzinfo=UTC)
    stockholm = rules.anniversary(start, 2, STOCKHOLM).astimezone(STOCKHOLM)
    new_york = rules.anniversary(start, 2, NEW_YORK).astimezone(NEW_YORK)
    assert (stockholm.date().isoformat(), stockholm.hour) == ("2026-03-31", 0)
    assert (new_york.date().isoformat(), new_york.hour) == ("2026-03-30", 18)
    moment = datetime(2026, 2, 28, 12, 0, tzinfo=UTC)
    assert rules.period_due(start, moment, STOCKHOLM) == 1
    assert rules.period_due(start, moment, NEW_YORK) is None


def test_one_reminder_three_days_after_the_prompt() -> None:
    prompted = at(2026, 4, 10)
    assert rules.reminder_at(prompted) == prompted + timedelta(days=3)


@pytest.mark.parametrize("typed", ["1", " 5 ", "3"])
def test_a_rating_is_a_digit_from_one_to_five(typed: str) -> None:
    assert rules.parse_rating(typed) == int(typed)


@pytest.mark.parametrize("typed", ["", "0", "6", "fyra", "4/5", "3.5", "<b>5</b>"])
def test_anything_else_is_not_a_rating(typed: str) -> None:
    with pytest.raises(CheckInRefused) as refused:
        rules.parse_rating(typed)
    assert refused.value.reason == "rating"


def test_answers_are_trimmed_kept_long_and_refused_when_empty_or_huge() -> None:
    assert rules.clean_answer("  <b>bra</b> & ärligt \n") == "<b>bra</b> & ärligt"
    assert rules.clean_answer("x" * 5000) == "x" * 5000
    for text, reason in (("   ", "empty"), ("x" * (rules.MAX_CHARS + 1), "too_long")):
        with pytest.raises(CheckInRefused) as refused:
            rules.clean_answer(text)
        assert refused.value.reason == reason


def test_the_questions_come_in_order_and_a_left_out_note_counts_as_answered() -> None:
    answers: dict[str, object] = {
        "works_well": None,
        "could_improve": None,
        "rating": None,
        "note": None,
    }
    assert rules.next_step(**answers) == "works_well"  # type: ignore[arg-type]
    answers["works_well"] = "a"
    assert rules.next_step(**answers) == "could_improve"  # type: ignore[arg-type]
    answers["could_improve"] = "b"
    assert rules.next_step(**answers) == "rating"  # type: ignore[arg-type]
    answers["rating"] = 4
    assert rules.next_step(**answers) == "note"  # type: ignore[arg-type]
    answers["note"] = rules.NO_NOTE
    assert rules.next_step(**answers) == rules.SHARE  # type: ignore[arg-type]


def test_sharing_choices_decide_exactly_what_reaches_the_partner() -> None:
    assert rules.sharing_flags(Sharing.ALL, has_note=True) == (True, True)
    assert rules.sharing_flags(Sharing.ALL, has_note=False) == (True, False)
    assert rules.sharing_flags(Sharing.NOTE, has_note=True) == (False, True)
    assert rules.sharing_flags(Sharing.NONE, has_note=True) == (False, False)
    with pytest.raises(CheckInRefused):
        rules.sharing_flags(Sharing.NOTE, has_note=False)
    assert rules.choices(has_note=False) == (Sharing.ALL, Sharing.NONE)
    assert Sharing.NOTE in rules.choices(has_note=True)
