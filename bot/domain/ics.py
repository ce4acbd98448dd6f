"""Calendar invitations (RFC 5545) that any calendar app can add."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

PRODID = "-//mentorbot//mentorship companion//EN"


def meeting_invite(
    *,
    meeting_id: int,
    starts_at: datetime,
    minutes: int,
    summary: str,
    description: str,
    location: str | None,
    sequence: int,
    stamp: datetime,
    cancelled: bool = False,
    alarm_before: timedelta = timedelta(minutes=30),
) -> bytes:
    """One VEVENT with a stable UID, so a moved or cancelled meeting updates the same entry."""
    # Imported here, not at start-up: only a booked meeting needs it.
    from icalendar import Alarm, Calendar, Event

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if cancelled else "PUBLISH")
    event = Event()
    event.add("uid", f"meeting-{meeting_id}@mentorbot")
    event.add("dtstamp", stamp.astimezone(UTC))
    event.add("dtstart", starts_at.astimezone(UTC))
    event.add("dtend", (starts_at + timedelta(minutes=minutes)).astimezone(UTC))
    event.add("summary", summary)
    event.add("description", description)
    if location:
        event.add("location", location)
    event.add("sequence", sequence)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    if not cancelled:
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", summary)
        alarm.add("trigger", -alarm_before)
        event.add_component(alarm)
    calendar.add_component(event)
    return calendar.to_ical()
