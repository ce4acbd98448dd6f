"""Monthly check-ins as plain rules: when each one falls due, what is asked, what is shared.

Both parties get one on every monthly anniversary of the mentorship's start,
reckoned from the start's date and time of day in each person's own zone, so a
check-in keeps its wall-clock time across daylight-saving changes. Feedback goes
both ways: the adept is asked for feedback to the mentor, the mentor for
feedback to the adept. Each person decides at the end what their partner sees;
whatever they keep private is never shown to anyone else.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.domain.contract import add_months

# The questions in the order they are asked; "share" is the closing choice.
STEPS = ("works_well", "could_improve", "rating", "note")
SHARE = "share"
TEXT_STEPS = frozenset({"works_well", "could_improve", "note"})
RATINGS = (1, 2, 3, 4, 5)
# One nudge is a reminder; more would turn an invitation to reflect into a chore.
REMINDER_AFTER = timedelta(days=3)
# Far above what Telegram lets a person type in one message; everything is kept.
MAX_CHARS = 10_000
# A note left out on purpose, told apart from a question not reached yet (None).
NO_NOTE = ""
# Months between check-ins by the contract's feedback cadence. "After every meeting" is
# the meetings' own evaluation; the check-in, the wider look back, then stays monthly.
MONTHS_BETWEEN = {"meeting": 1, "1m": 1, "2m": 2}
# Never less time than this from a start to its first anniversary, nor from one opened
# check-in's anniversary to the next period's: a month is at least 28 local days, and a
# move between any two zones or a daylight-saving change takes less than two days off
# (27 days at the least, found over every zone pair from UTC-12 to UTC+14 and Samoa's
# skipped day). The planner lets the database skip what this rules out, reading a
# check-in's `due_at` as its anniversary (as the planner writes it), then applies the
# exact rule (`period_due`) to the rest.
LEAST_GAP = timedelta(days=26)


class Sharing(StrEnum):
    ALL = "all"  # every answer, the rating and the note
    NOTE = "note"  # only the note to the partner
    NONE = "none"  # nothing: the check-in stays the author's alone


class CheckInRefused(ValueError):
    """An answer breaks a rule; `reason` is a translation key suffix."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def anniversary(started_at: datetime, period: int, zone: ZoneInfo) -> datetime:
    """When check-in `period` falls due, in UTC: the start's local time of day on the
    `period`-th monthly anniversary of its local date (the 31st becomes a month's last day)."""
    local = started_at.astimezone(zone)
    day = add_months(local.date(), period)
    # A wall-clock time skipped by a spring-forward change maps to the hour after it.
    return datetime.combine(day, local.time(), tzinfo=zone).astimezone(UTC)


def months_between(feedback_cadence: str | None) -> int:
    """How many months apart the check-ins come, as the contract's feedback cadence says."""
    return MONTHS_BETWEEN.get(feedback_cadence or "", 1)


def period_due(started_at: datetime, now: datetime, zone: ZoneInfo) -> int | None:
    """The latest period whose anniversary has come by `now` (1 = a month after the start),
    or None within the first month."""
    start, today = started_at.astimezone(zone), now.astimezone(zone)
    period = (today.year - start.year) * 12 + today.month - start.month
    # The month count can overshoot by one: the anniversary may be later this month.
    while period > 0 and anniversary(started_at, period, zone) > now:
        period -= 1
    return period if period > 0 else None


def at_cadence(period: int, every: int) -> int:
    """The latest period at or before `period` on a rhythm of `every` months (0: none yet)."""
    return period - period % every


def reminder_at(prompted_at: datetime) -> datetime:
    return prompted_at + REMINDER_AFTER


def clean_answer(text: str) -> str:
    cleaned = text.strip()
    if not cleaned:
        raise CheckInRefused("empty")
    if len(cleaned) > MAX_CHARS:
        raise CheckInRefused("too_long")
    return cleaned


def parse_rating(value: str) -> int:
    """A rating from a button's value or a typed digit; words are not guessed at."""
    cleaned = value.strip()
    if cleaned not in {str(r) for r in RATINGS}:
        raise CheckInRefused("rating")
    return int(cleaned)


def next_step(
    *, works_well: str | None, could_improve: str | None, rating: int | None, note: str | None
) -> str:
    """The first question still unanswered, or SHARE once all are (a skipped note counts)."""
    answers = {
        "works_well": works_well,
        "could_improve": could_improve,
        "rating": rating,
        "note": note,
    }
    return next((step for step in STEPS if answers[step] is None), SHARE)


def sharing_flags(choice: Sharing, *, has_note: bool) -> tuple[bool, bool]:
    """(answers shared, note shared) for a choice; a note that was left out shares nothing."""
    if choice == Sharing.ALL:
        return True, has_note
    if choice == Sharing.NOTE:
        if not has_note:
            raise CheckInRefused("no_note")
        return False, True
    return False, False


def choices(*, has_note: bool) -> tuple[Sharing, ...]:
    """What a person may choose to share: "only the note" needs a note."""
    if has_note:
        return (Sharing.ALL, Sharing.NOTE, Sharing.NONE)
    return (Sharing.ALL, Sharing.NONE)
