"""Understanding when a meeting should be, as people type it in Swedish or English.

"tis 14:00", "3/12 15.30", "imorgon kl 9", "next Tuesday 2pm", "kl 14 på
fredag", "onsdag 9 december kl 10", "om en vecka kl 14", "ikväll 19",
"tomorrow at noon". A time stands before or after the day; the day is read by
`bot.domain.dates` with its rules (a weekday that names today is a week ahead,
"nästa fredag" is next calendar week's Friday), so a meeting and a goal
deadline understand a day alike.

The time: "14", "14:00", "14.00", "kl 14", "2pm", "noon" / "mitt på dagen"
(12:00), "midnight" / "midnatt" (the end of the day named, so 00:00 of the
next). "ikväll", "kväll", "eftermiddag", "tonight", "evening" make "7" mean
19:00. A time alone means today if still ahead, else tomorrow. A moment that
has passed is refused with the moment read (`Unreadable("in_past", moment=...)`),
so the person sees how it was understood.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.domain.dates import Token, Unreadable, normalise, read_day, tokens

# Kept for callers that name the error of this module.
WhenError = Unreadable

_CLOCKS = (
    ("at", "num", "ampm"),
    ("at", "hm", "ampm"),
    ("num", "ampm"),
    ("hm", "ampm"),
    ("at", "num"),
    ("at", "hm"),
    ("at", "clockword"),
    ("hm",),
    ("num",),
    ("clockword",),
)
_MIDNIGHT = 24 * 60


def _is_clock(found: Sequence[Token]) -> bool:
    kinds = tuple(token.kind for token in found)
    if kinds not in _CLOCKS:
        return False
    # A bare number is an hour only if it could be one; "kl 25" is a wrong time.
    return kinds[0] != "num" or found[0].value <= 24


def _minutes(found: Sequence[Token], part: str | None) -> int:
    """Minutes after the day's midnight for a clock; raises Unreadable("bad_time")."""
    numbers = [token for token in found if token.kind in ("num", "hm", "clockword")]
    clock = numbers[0]
    if clock.kind == "clockword":
        return int(clock.value)
    hour, minute = (clock.value, 0) if clock.kind == "num" else clock.value[:2]
    ampm = next((token.value for token in found if token.kind == "ampm"), None)
    if ampm:
        if not 1 <= hour <= 12:
            raise Unreadable("bad_time")
        hour = hour % 12 + (12 if ampm == "pm" else 0)
    elif part == "pm" and 1 <= hour <= 11:
        hour += 12
    if hour > 23 or minute > 59:
        raise Unreadable("bad_time")
    return hour * 60 + minute


def _splits(found: list[Token]) -> Iterator[tuple[list[Token], list[Token]]]:
    """(clock, day) for a time at the end, then for a time at the start."""
    for size in (3, 2, 1):
        if len(found) >= size and _is_clock(found[-size:]):
            yield found[-size:], found[:-size]
            break
    for size in (3, 2, 1):
        if len(found) > size and _is_clock(found[:size]):
            yield found[:size], found[size:]
            break


def parse_when(text: str, *, now: datetime, zone: ZoneInfo) -> datetime:
    """The moment meant by `text`, in `zone`, judged from `now`.

    Raises Unreadable with reason "empty", "no_date", "no_time", "bad_date",
    "bad_time", "weekday_mismatch" or "in_past".
    """
    cleaned = normalise(text)
    if not cleaned:
        raise Unreadable("empty")
    if len(cleaned) > 80:
        raise Unreadable("no_date")
    found = tokens(cleaned)
    local_now = now.astimezone(zone)
    today = local_now.date()
    try:  # a day alone ("imorgon", "fredag kl") lacks its time
        read_day([token for token in found if token.kind != "at"], today, periods=False)
    except Unreadable as problem:
        if problem.reason != "unclear":
            raise
    else:
        raise Unreadable("no_time")
    parts = [token.value for token in found if token.kind == "part"]
    part = parts[0] if len(parts) == 1 else None
    plain = [token for token in found if token.kind != "part"]
    kept: Unreadable | None = None
    for clock_tokens, day_tokens in _splits(plain):
        try:
            minutes = _minutes(clock_tokens, part)
        except Unreadable as bad_time:
            kept = kept or bad_time
            continue
        if not day_tokens:
            ahead = minutes > local_now.hour * 60 + local_now.minute
            day = today if ahead else today + timedelta(days=1)
        else:
            try:
                day = read_day(day_tokens, today, periods=False).day
            except Unreadable as problem:
                if problem.reason != "unclear":
                    kept = problem
                continue
        moment = datetime.combine(
            day + timedelta(days=minutes // _MIDNIGHT),
            time(minutes % _MIDNIGHT // 60, minutes % 60),
            tzinfo=zone,
        )
        # A wall-clock time that does not exist (DST gap) is moved forward like a clock would.
        moment = moment.astimezone(UTC).astimezone(zone)
        if moment <= now:
            raise Unreadable("in_past", moment=moment)
        return moment
    raise kept or Unreadable("no_date")
