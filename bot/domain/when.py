"""Understanding when a meeting should be, as people type it in Swedish or English.

"tis 14:00", "3/12 15.30", "2026-12-03 15:30", "imorgon kl 9", "next Tuesday 2pm",
"fredag 9.15", "15 mars 10:00", "today 16". A small grammar of our own, because
its behaviour must be exact and predictable: a date part, then a time part.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WEEKDAYS = {
    **dict.fromkeys(("mån", "måndag", "man", "mon", "monday"), 0),
    **dict.fromkeys(("tis", "tisdag", "tue", "tues", "tuesday"), 1),
    **dict.fromkeys(("ons", "onsdag", "wed", "wednesday"), 2),
    **dict.fromkeys(("tor", "tors", "torsdag", "thu", "thur", "thurs", "thursday"), 3),
    **dict.fromkeys(("fre", "fredag", "fri", "friday"), 4),
    **dict.fromkeys(("lör", "lördag", "lor", "sat", "saturday"), 5),
    **dict.fromkeys(("sön", "söndag", "son", "sun", "sunday"), 6),
}
MONTHS = {
    **dict.fromkeys(("jan", "januari", "january"), 1),
    **dict.fromkeys(("feb", "februari", "february"), 2),
    **dict.fromkeys(("mar", "mars", "march"), 3),
    **dict.fromkeys(("apr", "april"), 4),
    **dict.fromkeys(("maj", "may"), 5),
    **dict.fromkeys(("jun", "juni", "june"), 6),
    **dict.fromkeys(("jul", "juli", "july"), 7),
    **dict.fromkeys(("aug", "augusti", "august"), 8),
    **dict.fromkeys(("sep", "sept", "september"), 9),
    **dict.fromkeys(("okt", "oct", "oktober", "october"), 10),
    **dict.fromkeys(("nov", "november"), 11),
    **dict.fromkeys(("dec", "december"), 12),
}
RELATIVE = {
    "idag": 0,
    "today": 0,
    "imorgon": 1,
    "tomorrow": 1,
    "iövermorgon": 2,
    "övermorgon": 2,
}

_TIME = re.compile(
    r"(?:kl\.?|klockan|at|@)?\s*(?P<h>\d{1,2})(?:[:.](?P<m>\d{2}))?\s*(?P<ampm>am|pm|a\.m\.|p\.m\.)?$"
)


class WhenError(ValueError):
    """Why a text is not a usable time; `reason` names a translation key suffix."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class _Parts:
    day: date
    clock: time


def _normalise(text: str) -> str:
    cleaned = text.strip().lower()
    cleaned = cleaned.replace("i morgon", "imorgon").replace("i dag", "idag")
    cleaned = cleaned.replace("i övermorgon", "iövermorgon").replace(
        "day after tomorrow", "övermorgon"
    )
    cleaned = re.sub(r"[,]", " ", cleaned)
    return re.sub(r"\s+", " ", cleaned)


def _parse_time(text: str) -> time:
    match = _TIME.fullmatch(text.strip())
    if not match:
        raise WhenError("no_time")
    hour, minute = int(match["h"]), int(match["m"] or 0)
    ampm = (match["ampm"] or "").replace(".", "")
    if ampm:
        if not 1 <= hour <= 12:
            raise WhenError("bad_time")
        hour = hour % 12 + (12 if ampm == "pm" else 0)
    if hour > 23 or minute > 59:
        raise WhenError("bad_time")
    return time(hour, minute)


def _year_for(month: int, day: int, today: date) -> int:
    """Dates without a year mean the next such date."""
    candidate = date(today.year, month, day)
    return today.year if candidate >= today else today.year + 1


def _parse_date(words: list[str], today: date) -> tuple[date, int, bool]:
    """The date at the start of `words`, how many words it used, and whether it is
    a bare weekday (which moves a week ahead when today's time has passed)."""
    first = words[0]
    if first in RELATIVE:
        return today + timedelta(days=RELATIVE[first]), 1, False
    skip_today = False
    used = 0
    if first in ("nästa", "next", "på", "on"):
        skip_today = first in ("nästa", "next")
        used = 1
        words = words[1:]
        if not words:
            raise WhenError("no_date")
        first = words[0]
    if first.rstrip(".") in WEEKDAYS:
        target = WEEKDAYS[first.rstrip(".")]
        ahead = (target - today.weekday()) % 7
        if ahead == 0 and skip_today:
            ahead = 7
        return today + timedelta(days=ahead), used + 1, not skip_today
    try:
        iso = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", first)
        if iso:
            return date(int(iso[1]), int(iso[2]), int(iso[3])), used + 1, False
        slash = re.fullmatch(r"(\d{1,2})/(\d{1,2})(?:/(\d{2,4}))?", first)
        if slash:
            day_, month = int(slash[1]), int(slash[2])
            year = int(slash[3]) if slash[3] else _year_for(month, day_, today)
            return date(year + 2000 if year < 100 else year, month, day_), used + 1, False
        # "15 mars", "15 march 2027", "march 15", "15:e mars"
        number = re.fullmatch(r"(\d{1,2})(?::e|:a|st|nd|rd|th)?", first)
        if number and len(words) > 1 and words[1].rstrip(".") in MONTHS:
            month, day_ = MONTHS[words[1].rstrip(".")], int(number[1])
            if len(words) > 2 and re.fullmatch(r"\d{4}", words[2]):
                return date(int(words[2]), month, day_), used + 3, False
            return date(_year_for(month, day_, today), month, day_), used + 2, False
        if first.rstrip(".") in MONTHS and len(words) > 1:
            second = re.fullmatch(r"(\d{1,2})(?:st|nd|rd|th)?", words[1])
            if second:
                month, day_ = MONTHS[first.rstrip(".")], int(second[1])
                return date(_year_for(month, day_, today), month, day_), used + 2, False
    except ValueError as exc:  # 31/2 and the like
        raise WhenError("bad_date") from exc
    raise WhenError("no_date")


def parse_when(text: str, *, now: datetime, zone: ZoneInfo) -> datetime:
    """The moment meant by `text`, in `zone`, judged from `now`.

    A time alone ("14:00") means today if still ahead, else tomorrow.
    Raises WhenError for text that is not a time, or not in the future.
    """
    cleaned = _normalise(text)
    if not cleaned:
        raise WhenError("empty")
    if len(cleaned) > 80:
        raise WhenError("no_date")
    local_now = now.astimezone(zone)
    today = local_now.date()
    words = cleaned.split(" ")
    weekly = False
    try:
        day, used, weekly = _parse_date(words, today)
        clock_text = " ".join(words[used:])
        if not clock_text:
            raise WhenError("no_time")
        clock = _parse_time(clock_text)
    except WhenError as first_error:
        # Perhaps only a time was given.
        try:
            clock = _parse_time(cleaned)
        except WhenError:
            raise first_error from None
        day = today if clock > local_now.time() else today + timedelta(days=1)
    moment = datetime.combine(day, clock, tzinfo=zone)
    # A wall-clock time that does not exist (DST gap) is moved forward like a clock would.
    moment = moment.astimezone(ZoneInfo("UTC")).astimezone(zone)
    if weekly and moment <= now:
        moment = datetime.combine(day + timedelta(days=7), clock, tzinfo=zone)
    if moment <= now:
        raise WhenError("in_past")
    return moment
