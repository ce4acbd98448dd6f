"""Meeting rules called directly: reading times, overlaps, what a meeting plans, invitations."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest

from bot.domain import ics
from bot.domain import meetings as rules
from bot.domain.when import WhenError, parse_when

STOCKHOLM = ZoneInfo("Europe/Stockholm")
# Tuesday 1 December 2026, 10:00 in Stockholm.
NOW = datetime(2026, 12, 1, 10, 0, tzinfo=STOCKHOLM)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # A weekday that names today is always a week ahead; "today" is today.
        ("tis 14:00", datetime(2026, 12, 8, 14, 0)),
        ("tisdag 9", datetime(2026, 12, 8, 9, 0)),
        ("3/12 15.30", datetime(2026, 12, 3, 15, 30)),
        ("2026-12-03 15:30", datetime(2026, 12, 3, 15, 30)),
        ("imorgon kl 9", datetime(2026, 12, 2, 9, 0)),
        ("i morgon kl. 09:30", datetime(2026, 12, 2, 9, 30)),
        ("next Tuesday 2pm", datetime(2026, 12, 8, 14, 0)),
        ("nästa tisdag 14", datetime(2026, 12, 8, 14, 0)),
        ("fredag 9.15", datetime(2026, 12, 4, 9, 15)),
        ("15 mars 10:00", datetime(2027, 3, 15, 10, 0)),
        ("march 15 at 10am", datetime(2027, 3, 15, 10, 0)),
        ("dec 3 2pm", datetime(2026, 12, 3, 14, 0)),
        ("today 16", datetime(2026, 12, 1, 16, 0)),
        ("14:00", datetime(2026, 12, 1, 14, 0)),
        ("9", datetime(2026, 12, 2, 9, 0)),  # a time alone that has passed: tomorrow
        ("  FREDAG   9.15 ", datetime(2026, 12, 4, 9, 15)),
    ],
)
def test_common_swedish_and_english_forms(text: str, expected: datetime) -> None:
    assert parse_when(text, now=NOW, zone=STOCKHOLM) == expected.replace(tzinfo=STOCKHOLM)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("blabla", "no_date"),
        ("igår 10", "in_past"),
        ("tis", "no_time"),
        ("31/2 10:00", "bad_date"),
        ("imorgon 25:00", "bad_time"),
        ("2020-01-01 10:00", "in_past"),
        ("1/12 09:00", "in_past"),
        ("<script>", "no_date"),
        ("x" * 500, "no_date"),
    ],
)
def test_what_is_not_a_usable_time_says_why(text: str, reason: str) -> None:
    with pytest.raises(WhenError) as problem:
        parse_when(text, now=NOW, zone=STOCKHOLM)
    assert problem.value.reason == reason


def test_times_follow_the_persons_zone() -> None:
    london = ZoneInfo("Europe/London")
    moment = parse_when("imorgon kl 9", now=NOW, zone=london)
    assert moment.astimezone(STOCKHOLM).hour == 10


def test_a_time_in_the_spring_forward_gap_moves_like_a_clock() -> None:
    before_dst = datetime(2027, 3, 27, 12, 0, tzinfo=STOCKHOLM)
    moment = parse_when("2027-03-28 02:30", now=before_dst, zone=STOCKHOLM)
    assert moment.astimezone(UTC) == datetime(2027, 3, 28, 1, 30, tzinfo=UTC)


def test_overlaps() -> None:
    nine = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
    existing = [rules.Slot(1, nine, 60)]
    assert rules.overlaps(rules.Slot(None, nine + timedelta(minutes=30), 60), existing)
    assert rules.overlaps(rules.Slot(None, nine - timedelta(minutes=30), 60), existing)
    assert not rules.overlaps(rules.Slot(None, nine + timedelta(minutes=60), 60), existing)
    assert not rules.overlaps(rules.Slot(1, nine, 90), existing), (
        "a meeting never clashes with itself"
    )


def test_a_confirmed_meeting_plans_reminders_agenda_preparation_and_evaluation() -> None:
    start = datetime(2026, 12, 10, 13, 0, tzinfo=UTC)
    planned = rules.planned_messages(
        meeting_id=7,
        starts_at=start,
        minutes=60,
        adept_id=1,
        mentor_id=2,
        reminder_offsets=[timedelta(hours=24), timedelta(hours=1)],
        now=NOW,
    )
    kinds = sorted((p.kind, p.recipient_id, p.due_at - start) for p in planned)
    assert kinds == sorted(
        [
            ("meeting_reminder", 1, -timedelta(hours=24)),
            ("meeting_reminder", 2, -timedelta(hours=24)),
            ("meeting_reminder", 1, -timedelta(hours=1)),
            ("meeting_reminder", 2, -timedelta(hours=1)),
            ("agenda_prompt", 1, -timedelta(hours=48)),
            ("mentor_prep", 2, -timedelta(hours=24)),
            ("meeting_evaluation", 1, timedelta(hours=1)),
            ("meeting_evaluation", 2, timedelta(hours=1)),
        ]
    )
    assert len({p.key for p in planned}) == len(planned)
    assert all(p.key.startswith("meeting:7:") for p in planned)
    assert all(p.expires_at == start for p in planned if p.kind != "meeting_evaluation")


def test_a_meeting_booked_at_short_notice_skips_what_is_already_past() -> None:
    start = NOW + timedelta(hours=3)
    planned = rules.planned_messages(
        meeting_id=1,
        starts_at=start,
        minutes=45,
        adept_id=1,
        mentor_id=2,
        reminder_offsets=[timedelta(hours=24), timedelta(hours=1)],
        now=NOW,
    )
    due_now = [p for p in planned if p.due_at == NOW]
    assert {p.kind for p in due_now} == {"meeting_reminder", "agenda_prompt", "mentor_prep"}
    assert all(p.due_at >= NOW for p in planned)


def test_hours_in_month_and_nudges() -> None:
    slots = [
        rules.Slot(1, datetime(2026, 12, 3, 9, tzinfo=UTC), 60),
        rules.Slot(2, datetime(2026, 12, 20, 9, tzinfo=UTC), 90),
        rules.Slot(3, datetime(2027, 1, 3, 9, tzinfo=UTC), 60),
    ]
    assert rules.hours_in_month(slots, month_of=date(2026, 12, 15), zone=STOCKHOLM) == 2.5
    start = datetime(2026, 12, 1, tzinfo=UTC)
    assert not rules.nudge_due(
        last_meeting_end=None, active_since=start, has_upcoming=False, cadence="3w",
        now=start + timedelta(days=27),
    )  # fmt: skip
    assert rules.nudge_due(
        last_meeting_end=None, active_since=start, has_upcoming=False, cadence="3w",
        now=start + timedelta(days=29),
    )  # fmt: skip
    assert not rules.nudge_due(
        last_meeting_end=None, active_since=start, has_upcoming=True, cadence="3w",
        now=start + timedelta(days=90),
    )  # fmt: skip


def test_invitations_are_valid_calendar_files() -> None:
    start = datetime(2026, 12, 10, 13, 0, tzinfo=UTC)
    raw = ics.meeting_invite(
        meeting_id=9, starts_at=start, minutes=90, summary="Mentormöte med Åsa <3",
        description="Bokat", location="Café & bibliotek", sequence=2, stamp=NOW,
    )  # fmt: skip
    calendar = icalendar.Calendar.from_ical(raw)
    event = calendar.walk("VEVENT")[0]
    assert str(event["uid"]) == "meeting-9@mentorbot"
    assert event.decoded("dtstart") == start
    assert event.decoded("dtend") == start + timedelta(minutes=90)
    assert str(event["summary"]) == "Mentormöte med Åsa <3"
    assert str(event["location"]) == "Café & bibliotek"
    assert int(event["sequence"]) == 2
    assert event.walk("VALARM")
    cancelled = icalendar.Calendar.from_ical(
        ics.meeting_invite(
            meeting_id=9,
            starts_at=start,
            minutes=90,
            summary="x",
            description="y",
            location=None,
            sequence=3,
            stamp=NOW,
            cancelled=True,
        )
    )
    assert str(cancelled["method"]) == "CANCEL"
    assert str(cancelled.walk("VEVENT")[0]["status"]) == "CANCELLED"
