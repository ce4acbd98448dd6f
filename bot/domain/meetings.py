"""Rules about meetings: lengths, overlaps, what a confirmed meeting sets in motion,
when the adept should be nudged to book, and the mentor's time budget."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

DURATIONS = (30, 45, 60, 90, 120)
DEFAULT_MINUTES = 60
AGENDA_BEFORE = timedelta(hours=48)
PREPARATION_BEFORE = timedelta(hours=24)
EVALUATION_VALID = timedelta(days=7)
PLACE_MAX_CHARS = 300
CADENCE_DAYS = {"2w": 14, "3w": 21, "4w": 28, "1m": 30}
NUDGE_GRACE = timedelta(days=7)
MAX_NUDGES = 3


@dataclass(frozen=True, slots=True)
class Slot:
    """A meeting's time as the rules see it."""

    meeting_id: int | None
    starts_at: datetime
    minutes: int

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + timedelta(minutes=self.minutes)


def overlaps(new: Slot, existing: Iterable[Slot]) -> Slot | None:
    """The first existing meeting (other than `new` itself) that shares time with it."""
    for other in existing:
        if other.meeting_id is not None and other.meeting_id == new.meeting_id:
            continue
        if new.starts_at < other.ends_at and other.starts_at < new.ends_at:
            return other
    return None


@dataclass(frozen=True, slots=True)
class Planned:
    """One message a confirmed meeting will send, with its idempotency key."""

    kind: str
    recipient_id: int
    due_at: datetime
    expires_at: datetime
    key: str


def planned_messages(
    *,
    meeting_id: int,
    starts_at: datetime,
    minutes: int,
    adept_id: int,
    mentor_id: int,
    reminder_offsets: Sequence[timedelta],
    now: datetime,
) -> list[Planned]:
    """Reminders to both, the adept's agenda prompt, the mentor's preparation and the
    evaluation to both. The key names the start time, so moving a meeting plans a
    fresh set while the old set is cancelled."""
    stamp = starts_at.strftime("%Y%m%dT%H%M")
    base = f"meeting:{meeting_id}:{stamp}"
    ends_at = starts_at + timedelta(minutes=minutes)
    planned: list[Planned] = []
    for offset in reminder_offsets:
        hours = int(offset.total_seconds() // 3600)
        for person in (adept_id, mentor_id):
            planned.append(
                Planned(
                    "meeting_reminder",
                    person,
                    starts_at - offset,
                    starts_at,
                    f"{base}:remind{hours}h:{person}",
                )
            )
    planned.append(
        Planned("agenda_prompt", adept_id, starts_at - AGENDA_BEFORE, starts_at, f"{base}:agenda")
    )
    planned.append(
        Planned("mentor_prep", mentor_id, starts_at - PREPARATION_BEFORE, starts_at, f"{base}:prep")
    )
    for person in (adept_id, mentor_id):
        planned.append(
            Planned(
                "meeting_evaluation",
                person,
                ends_at,
                ends_at + EVALUATION_VALID,
                f"{base}:evaluate:{person}",
            )
        )
    # Something already due when the meeting is booked (a reminder for a meeting in
    # two hours) is sent now rather than never; past ones would only confuse.
    return [
        p if p.due_at > now else Planned(p.kind, p.recipient_id, now, p.expires_at, p.key)
        for p in planned
        if p.expires_at > now
    ]


def hours_in_month(slots: Iterable[Slot], *, month_of: date, zone: ZoneInfo) -> float:
    """Meeting hours that start in the calendar month of `month_of` (in `zone`)."""
    total = 0
    for slot in slots:
        local = slot.starts_at.astimezone(zone).date()
        if (local.year, local.month) == (month_of.year, month_of.month):
            total += slot.minutes
    return total / 60


def nudge_due(
    *,
    last_meeting_end: datetime | None,
    active_since: datetime,
    has_upcoming: bool,
    cadence: str | None,
    now: datetime,
) -> bool:
    """Whether the adept should be reminded to book: nothing booked, and the last
    meeting (or the start) lies further back than the agreed rhythm plus a week."""
    if has_upcoming:
        return False
    rhythm = timedelta(days=CADENCE_DAYS.get(cadence or "", 30))
    since = last_meeting_end or active_since
    return now - since > rhythm + NUDGE_GRACE
